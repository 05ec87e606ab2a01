"""Which notes an export takes: ``--include``/``--exclude`` globs and ``--tag``."""

from __future__ import annotations

from fnmatch import fnmatchcase

from exporter.core.model import Note
from exporter.read import plugins


def _matches(relpath: str, pattern: str) -> bool:
    """A glob against the note's path; a folder's name (or ``folder/``) takes all below it."""
    pattern = pattern.strip().lstrip("./") if pattern.startswith("./") else pattern.strip()
    folder = pattern.rstrip("/")
    return fnmatchcase(relpath, pattern) or fnmatchcase(relpath, folder + "/*")


def path_chosen(relpath: str, include: list[str], exclude: list[str]) -> bool:
    """Taken when it matches an include glob (or none are given) and no exclude glob."""
    if include and not any(_matches(relpath, p) for p in include):
        return False
    return not any(_matches(relpath, p) for p in exclude)


def has_tag(note: Note, wanted: list[str]) -> bool:
    """The note carries one of ``wanted`` (front matter or inline), or a tag nested under it;
    tags compare without case, as in Obsidian."""
    return plugins.carries(note, wanted)


def on_sheet(note: Note) -> bool:
    """Front matter ``sheet: false`` keeps a note out of the PDF (its cards stay)."""
    return note.meta.get("sheet") is not False
