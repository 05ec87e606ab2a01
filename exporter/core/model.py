"""The plain data model every stage passes along; no I/O here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from exporter.core.scan import INDENTED, kinds
from exporter.core.text import EMPTY_LINE

Severity = Literal["warning", "error", "notice"]  # a notice never fails --strict
# Control characters and line separators: a file name holding one must not start a new line
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes, so it stays on one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the notes, located by file (relative to the notes folder) and line."""

    path: str
    line: int
    col: int
    severity: Severity
    message: str
    code: str

    def format(self) -> str:
        """Render as ``path:line:col: severity: message [code]``."""
        return (f"{printable(self.path)}:{self.line}:{self.col}: {self.severity}: "
                f"{printable(self.message)} [{self.code}]")


@dataclass(frozen=True)
class Asset:
    """An image file that a note embeds, with the unique name it has in the deck's media."""

    path: Path
    media_name: str


@dataclass
class CardItem:
    """A card written in the note's own syntax (``Term::Definition``, ``?``, cloze, …)."""

    kind: str  # "definition", "qa", "qa-reversed" or "cloze"
    key: str  # what identifies it within its section: the term, the question, the text
    front: str  # Markdown; for a cloze, the text with its {{c1::…}} deletions
    back: str
    line: int
    block_id: str | None = None
    front_html: str = ""
    back_html: str = ""
    whole_section: bool = False  # a heading tagged as a card: its back is the whole section
    last_line: int = 0  # the last line the card covers (0: its first line)


@dataclass
class Section:
    """A heading and the content that belongs to it alone (not its subheadings')."""

    heading: str
    level: int
    path: tuple[str, ...]
    line: int
    anchor: str
    body: list[str] = field(default_factory=list)
    body_line: int = 0
    html: str = ""
    block_id: str | None = None
    items: list[CardItem] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)  # ``#tags`` written on the heading line itself
    heading_html: str = ""  # the heading's inline Markdown rendered (code, links as text)
    front_html: str = ""  # the heading path rendered, joined with " › ": a card's front

    @property
    def has_content(self) -> bool:
        """True when the section holds text of its own: not only subheadings, block ids, lines
        of tags (hidden, as a card of only tags would be empty) or empty list items."""
        code_like = False
        for line in self.body:
            if line.strip() and not EMPTY_LINE.match(line):
                return True
            code_like = code_like or line.startswith(("    ", "\t"))
        # "    #include" in indented code looks like a tag, but code is content
        return code_like and any(kind == INDENTED and line.strip()
                                 for line, kind in zip(self.body, kinds(self.body), strict=True))


@dataclass
class Note:
    """One Markdown file of the vault, split into sections."""

    relpath: str
    title: str
    sections: list[Section] = field(default_factory=list)
    anchor: str = ""
    tags: set[str] = field(default_factory=set)
    aliases: list[str] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)
    meta_lines: dict[str, int] = field(default_factory=dict)  # each front matter key's line
    # ``[^label]: text`` definitions, wherever written: (file line, text) per line
    footnotes: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    # The flashcard plugins' tags here: card syntax, not Anki tags (lowercase; also nested)
    card_tags: tuple[str, ...] = ()
    deck_tags: tuple[str, ...] = ()  # of them, those whose nested part names a deck
    plugin_cards: bool = False  # written in a flashcard plugin's syntax: its cards, no others

    @property
    def identity(self) -> str:
        """What a card's identity starts with: ``anki-id`` from front matter, else the path."""
        pinned = self.meta.get("anki-id")
        return f"id:{pinned}" if isinstance(pinned, (str, int)) and str(pinned) else self.relpath


@dataclass(frozen=True)
class Card:
    """One Anki note: a section, a definition, a question or a cloze."""

    guid: str
    front: str
    back: str
    context: str
    source: str
    content_hash: str
    tags: tuple[str, ...] = ()
    model: str = "basic"  # "basic", "reversed" or "cloze"
    deck: str = ""
    # Where it came from, for pairing a re-keyed card with its previous self (identity.py):
    note: str = ""  # the note's path relative to the notes folder
    kind: str = ""  # "section", "qa", "qa-reversed", "cloze", "definition"
    line: int = 0
    legacy_guid: str = ""  # the GUID notes-export 0.1 gave it, without a vault (vaultid.py)


@dataclass
class Vault:
    """Everything parsed from a notes folder, ready for the writers."""

    root: Path
    notes: list[Note] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    left_out: int = 0  # notes --include/--exclude/--tag did not choose


# The Anki note types, by the model a Card names; their names are how a deck or a collection
# says which notes are ours.
# How an inline card shows in the notes' text (the sheet, the cards' context): its question,
# this mark, its answer; At a glance reads the question back by it.
ANSWER_MARK = " — "

MODEL_NAMES = {"basic": "notes-export section", "reversed": "notes-export both ways",
               "cloze": "notes-export cloze"}


def fields_hash(model: str, deck: str, front: str, back: str, context: str, source: str,
                tags: Iterable[str]) -> str:
    """A card's content hash: what it shows and where it goes (a deck's fields give it too)."""
    joined = "\x1f".join((model, deck, front, back, context, source, *tags))
    return hashlib.sha256(joined.encode()).hexdigest()


# What a long stage reports as it goes: a stage's name, items done, items in all.
Progress = Callable[[str, int, int], None]
