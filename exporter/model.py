"""The plain data model every stage passes along; no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .text import BLOCK_ID_LINE

Severity = Literal["warning", "error"]


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
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message} [{self.code}]"


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

    @property
    def has_content(self) -> bool:
        """True when the section holds text of its own, not only subheadings or a block id."""
        return any(line.strip() and not BLOCK_ID_LINE.match(line) for line in self.body)


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


@dataclass
class Vault:
    """Everything parsed from a notes folder, ready for the writers."""

    root: Path
    notes: list[Note] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    left_out: int = 0  # notes --include/--exclude/--tag did not choose
