"""The card kinds, in one registry: what ``--cards`` names, what items each covers, and the
Anki note type its cards use.

A section becomes one card; the notes' own card syntax (flashcards.py) adds ``CardItem``s of
the item kinds below. A new kind is one module that reads its syntax into ``CardItem``s (its
``read``, run on every note after the syntaxes already known) and one line in :data:`KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from exporter.core.model import Diagnostic, Note

SECTION = "section"  # the item kind of a card made from a whole section

Reader = Callable[[Note, list[Diagnostic]], None]


@dataclass(frozen=True)
class CardKind:
    """One kind of card, as ``--cards`` and the front matter ``cards:`` name it."""

    name: str
    models: dict[str, str]  # each item kind it covers → the Anki note type (anki.card_models)
    default: bool = True  # made unless ``--cards`` or the config file says otherwise
    read: Reader | None = field(default=None, compare=False)  # None: flashcards.py reads it


KINDS: list[CardKind] = [
    CardKind("sections", {SECTION: "basic"}),
    CardKind("definitions", {"definition": "basic"}, default=False),
    CardKind("qa", {"qa": "basic", "qa-reversed": "reversed"}),
    CardKind("cloze", {"cloze": "cloze"}),
]


def names() -> tuple[str, ...]:
    """Every kind's name, in the registry's order."""
    return tuple(kind.name for kind in KINDS)


def defaults() -> tuple[str, ...]:
    """The kinds made when nothing chooses."""
    return tuple(kind.name for kind in KINDS if kind.default)


def kind_of(item_kind: str) -> str:
    """The name of the kind that covers an item kind (``qa-reversed`` → ``qa``)."""
    return _covering(item_kind).name


def model_of(item_kind: str) -> str:
    """The Anki note type an item kind's cards use."""
    return _covering(item_kind).models[item_kind]


def _covering(item_kind: str) -> CardKind:
    for kind in KINDS:
        if item_kind in kind.models:
            return kind
    raise KeyError(f"no card kind covers items of kind {item_kind!r}")


def read_extra(note: Note, diagnostics: list[Diagnostic]) -> None:
    """Run the readers of the kinds flashcards.py does not read."""
    for kind in KINDS:
        if kind.read is not None:
            kind.read(note, diagnostics)
