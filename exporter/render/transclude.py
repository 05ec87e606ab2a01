"""What a link or an embed names inside a note: a heading (or a heading path), a block ``^id``.

Obsidian's rules: ``Note#H1#H2`` is a heading path (each part an ancestor, in order);
``Note#^id`` is the block that ends with ``^id`` (a paragraph, a list item with its children,
a quote or callout, or the table/list above a ``^id`` line); a heading ``# H ^id`` is a block
too. Headings match whatever their punctuation and case, as Obsidian's link suggestions write
them without ``:``, ``#``, ``|`` or ``^``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from exporter.core.model import Note, Section
from exporter.core.scan import TEXT, kinds
from exporter.core.text import BLOCK_ID_LINE, split_block_id

# Embeds that fan out (each note embedding the next ten times) grow exponentially with depth:
# what one section may bring in is capped in lines and in embeds, not only in depth.
MAX_TRANSCLUDED_LINES = 5000
MAX_TRANSCLUSIONS = 200
_NON_WORD = re.compile(r"[\W_]+")
_LIST_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


@dataclass
class Target:
    """What an embed brings in: lines of Markdown, the section they belong to, a label."""

    note: Note
    section: Section
    lines: list[str]
    label: str


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", text).strip().lower()


def find_section(note: Note, heading: str, places: Places | None = None) -> Section | None:
    """The section a ``#Heading`` or ``#H1#H2`` reference names, or None."""
    parts = [_key(p) for p in heading.split("#") if p.strip()]
    if not parts:
        return None
    for section in (places or Places()).of(note).headings.get(parts[-1], []):
        ancestors = iter(_key(p) for p in section.path[:-1])
        if all(part in ancestors for part in parts[:-1]):  # in order, gaps allowed
            return section
    return None


def subtree(note: Note, section: Section) -> list[Section]:
    """A section and the subsections under it."""
    index = note.sections.index(section)
    depth = len(section.path)
    rest = note.sections[index + 1:]
    end = next((i for i, s in enumerate(rest) if len(s.path) <= depth), len(rest))
    return [section, *rest[:end]]


def heading_lines(note: Note, section: Section) -> list[str]:
    """The Markdown of a section and its subsections; subheadings as bold lines."""
    lines: list[str] = []
    for part in subtree(note, section):
        if part is not section and part.level:
            lines += ["", f"**{part.heading}**", ""]
        lines += part.body
    return lines


@dataclass
class _Place:
    """Where a block id is first: its section, and the line (-1: the heading itself)."""

    section: Section
    line: int
    alone: bool  # ``^id`` alone on its line, naming the block above


@dataclass
class _NotePlaces:
    """The headings (by key) and block ids of one note, found in one pass over its lines."""

    note: Note
    headings: dict[str, list[Section]]
    blocks: dict[str, _Place]


def _note_places(note: Note) -> _NotePlaces:
    headings: dict[str, list[Section]] = {}
    blocks: dict[str, _Place] = {}
    for section in note.sections:
        if section.level:
            headings.setdefault(_key(section.heading), []).append(section)
            if section.block_id is not None:
                blocks.setdefault(section.block_id, _Place(section, -1, False))
        body = section.body
        for index, kind in enumerate(kinds(body)):
            line = body[index]
            if kind != TEXT or "^" not in line:
                continue
            alone = BLOCK_ID_LINE.match(line)
            block = alone.group(1) if alone else split_block_id(line)[1]
            if block is not None:
                blocks.setdefault(block, _Place(section, index, bool(alone)))
    return _NotePlaces(note, headings, blocks)


class Places:
    """Headings and block ids of the notes, each note read once: a note of thousands of
    ``[[#^id]]`` or ``[[#Heading]]`` links would otherwise be read again for each link. Notes
    must not change while one is in use (one per rendering pass)."""

    def __init__(self) -> None:
        self._notes: dict[str, _NotePlaces] = {}

    def of(self, note: Note) -> _NotePlaces:
        """What ``note`` holds, read at the first question about it."""
        places = self._notes.get(note.relpath)
        if places is None or places.note is not note:
            places = self._notes[note.relpath] = _note_places(note)
        return places


def find_block(note: Note, block_id: str,
               places: Places | None = None) -> tuple[Section, list[str]] | None:
    """The section holding block ``^block_id`` and the block's lines, or None."""
    place = (places or Places()).of(note).blocks.get(block_id)
    if place is None:
        return None
    if place.line < 0:
        return place.section, heading_lines(note, place.section)
    body = place.section.body
    return place.section, (_block_above if place.alone else _block_at)(body, place.line)


def _block_above(body: list[str], index: int) -> list[str]:
    """``^id`` alone on a line names the block right above it (a table, a list, a quote)."""
    end = index
    while end > 0 and not body[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and body[start - 1].strip():
        start -= 1
    return body[start:end]


def _block_at(body: list[str], index: int) -> list[str]:
    """``… ^id`` at the end of a line: its list item (with children), or its paragraph (a
    quote's, a callout's); the continuation lines of a list item name the item."""
    if _LIST_ITEM.match(body[index]):
        return _item(body, index)
    start = index
    while start > 0 and body[start - 1].strip() and not _LIST_ITEM.match(body[start - 1]):
        start -= 1
    if start > 0 and body[start - 1].strip():
        return _item(body, start - 1)
    return body[start:index + 1]


def _item(body: list[str], index: int) -> list[str]:
    """The list item starting on line ``index``, with its continuation lines and children."""
    item = _LIST_ITEM.match(body[index])
    indent = item.group(1) if item else ""
    width = len(indent.expandtabs(4))
    end = index + 1
    while end < len(body) and body[end].strip() and not (
            _LIST_ITEM.match(body[end]) and _indent(body[end]) <= width):
        end += 1
    return [line[len(indent):] if line.startswith(indent) else line for line in body[index:end]]


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def unfilled(target: Target) -> bool:
    """True when a block embed names a block with nothing to show (a ``^id`` with no block
    above it, an empty section)."""
    return not any(line.strip() and not BLOCK_ID_LINE.match(line) for line in target.lines)


def find(note: Note, heading: str, places: Places | None = None) -> Target | None:
    """What ``Note#heading`` names (``heading`` may be empty, a path or a ``^block``)."""
    if not heading:
        return Target(note, note.sections[0] if note.sections else Section(
            note.title, 0, (note.title,), 1, note.anchor), whole_note(note), note.title)
    if heading.startswith("^"):
        found = find_block(note, heading[1:].strip(), places)
        if found is None:
            return None
        return Target(note, found[0], found[1], f"{note.title} › {heading}")
    section = find_section(note, heading, places)
    if section is None:
        return None
    return Target(note, section, heading_lines(note, section), f"{note.title} › {section.heading}")


def whole_note(note: Note) -> list[str]:
    """The Markdown of every section of a note, headings as bold lines."""
    lines: list[str] = []
    for section in note.sections:
        if section.level:
            lines += ["", f"**{section.heading}**", ""]
        lines += section.body
    return lines


@dataclass
class Budget:
    """What the embeds of one section have brought in so far."""

    lines: int = 0
    count: int = 0
    top: str = ""  # the section's own embed line being expanded
    reported: bool = False

    def spend(self, lines: int) -> bool:
        """Take ``lines`` more if the section's allowance has room."""
        if self.count >= MAX_TRANSCLUSIONS or self.lines + lines > MAX_TRANSCLUDED_LINES:
            return False
        self.count += 1
        self.lines += lines
        return True


def escapes(relpath: str, target: str) -> str | None:
    """Why a link target leads out of the notes folder by its path alone, or None."""
    target = target.replace("\\", "/")
    if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
        return "is an absolute path"
    if ".." not in target:
        return None
    folder = relpath.rsplit("/", 1)[0] if "/" in relpath else ""
    for start in {folder, ""}:
        if posixpath.normpath(posixpath.join(start or ".", target)).split("/")[0] == "..":
            return "leads outside the notes folder"
    return None
