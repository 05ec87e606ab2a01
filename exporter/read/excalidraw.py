"""Embeds with nothing printable of their own: an Excalidraw drawing is shown as the image the
plugin exported beside it, an Obsidian Base (a live view of the vault) as a link.

A drawing note (``excalidraw-plugin:`` in its front matter) keeps its drawing as compressed
JSON inside a comment; it is never exported as a note, only embedded as its exported image.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from exporter.core import scan
from exporter.core.model import Diagnostic, Note
from exporter.core.text import is_literal, literal_spans

DRAWING_KEY = "excalidraw-plugin"
DRAWING_SUFFIX = ".excalidraw"
BASE_CLASS = "base-embed"  # what an embedded Base is shown as: its name, and nothing to study
_EMBED = re.compile(r"!\[\[([^\[\]\n]+?)\]\]")
_EXPORTS = (".svg", ".png")  # what the plugin's auto-export writes, in its order of preference


def is_drawing(note: Note) -> bool:
    """True for an Excalidraw drawing note."""
    return DRAWING_KEY in note.meta


@dataclass
class Drawings:
    """The vault's drawing notes, by every name an embed may use for them."""

    notes_dir: Path
    by_name: dict[str, str] = field(default_factory=dict)  # lowercase name → path without .md
    short: dict[str, str] = field(default_factory=dict)  # the same without ".excalidraw"
    notes: set[str] = field(default_factory=set)  # names of the other notes, which win

    def add(self, relpath: str) -> None:
        """Remember a drawing note by its path and name, with and without ``.excalidraw``."""
        stem = relpath.removesuffix(".md")
        for key in (stem, stem.rsplit("/", 1)[-1]):
            self.by_name.setdefault(key.lower(), stem)
            if key.endswith(DRAWING_SUFFIX):
                self.short.setdefault(key.removesuffix(DRAWING_SUFFIX).lower(), stem)

    def add_note(self, relpath: str) -> None:
        """Remember a note that is not a drawing: ``![[Name]]`` means it, not a drawing."""
        stem = relpath.removesuffix(".md").lower()
        self.notes |= {stem, stem.rsplit("/", 1)[-1]}

    def find(self, target: str) -> str | None:
        """The drawing an embed names, as its path without ``.md``; None when it is not one."""
        name = target.strip().removesuffix(".md").lower()
        if name in self.by_name:
            return self.by_name[name]
        return None if name in self.notes else self.short.get(name)

    def image(self, stem: str) -> str | None:
        """The exported ``Name.excalidraw.svg`` (or ``.png``) beside the drawing, if any."""
        for suffix in _EXPORTS:
            if (self.notes_dir / f"{stem}{suffix}").is_file():
                return f"{stem}{suffix}"
        return None


def rewrite_embeds(note: Note, drawings: Drawings, diagnostics: list[Diagnostic]) -> None:
    """Replace drawing and Base embeds in the note's lines by what the sheet can show.

    Comments are gone already (the parser strips them); code and math stay as written.
    """
    for section in note.sections:
        for index, (line, kind) in enumerate(zip(section.body, scan.kinds(section.body),
                                                 strict=True)):
            if kind != scan.TEXT or "![[" not in line:
                continue
            spans = literal_spans(line)
            number = section.body_line + index

            def replace(match: re.Match[str], spans: list[tuple[int, int]] = spans,
                        number: int = number) -> str:
                if is_literal(spans, match.start()):
                    return match.group(0)  # in code: not an embed
                return _replacement(match, drawings, note.relpath, number, diagnostics)

            section.body[index] = _EMBED.sub(replace, line)


def _replacement(match: re.Match[str], drawings: Drawings, relpath: str, number: int,
                 diagnostics: list[Diagnostic]) -> str:
    inner = match.group(1)
    target, _, alias = inner.replace("\\|", "|").partition("|")
    name = target.split("#", 1)[0].strip()
    column = match.start() + 1

    def notice(message: str, code: str) -> None:
        diagnostics.append(Diagnostic(relpath, number, column, "notice", message, code))

    if name.lower().endswith(".base"):
        notice(f"'{name}' is an Obsidian Base, a live view of the vault that cannot be "
               "printed; shown as a link", "base-embed")
        view = target.split("#", 1)[1].strip() if "#" in target else ""
        label = alias.strip() or (f"{name} › {view}" if view else name)
        return f'<span class="wikilink {BASE_CLASS}">{html.escape(label)}</span>'
    stem = drawings.find(name)
    if stem is None:
        return match.group(0)
    image = drawings.image(stem)
    if image is not None:
        return f"![[{image}{'|' + alias if alias else ''}]]"
    notice(f"drawing '{name}' has no exported image ({stem}.svg or .png) beside it; turn on "
           "the Excalidraw plugin's auto-export; shown as a placeholder", "drawing-not-exported")
    return f'<span class="missing-image">Drawing not exported: {html.escape(name)}</span>'
