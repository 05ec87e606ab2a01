"""Which notes an export takes: ``--include``/``--exclude`` globs and ``--tag``."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from .model import Note
from .obsidian import TAG_RE

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE = re.compile(r"`[^`\n]*`")
_TAG = re.compile(r"(?:^|(?<=\s))" + TAG_RE)


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


def inline_tags(note: Note) -> set[str]:
    """``#tags`` written in the note's text, outside code, as Obsidian finds them."""
    found: set[str] = set()
    fenced = False
    for section in note.sections:
        for line in section.body:
            if _FENCE.match(line):
                fenced = not fenced
                continue
            if not fenced:
                found.update(m.group(1).strip("/") for m in _TAG.finditer(_CODE.sub("", line)))
        for line in [section.heading]:
            found.update(m.group(1).strip("/") for m in _TAG.finditer(_CODE.sub("", line)))
    return found


def has_tag(note: Note, wanted: list[str]) -> bool:
    """The note carries one of ``wanted`` (front matter or inline), or a tag nested under it;
    tags compare without case, as in Obsidian."""
    tags = {t.lower().lstrip("#") for t in note.tags | inline_tags(note)}
    for tag in (w.lower().lstrip("#").strip("/") for w in wanted):
        if any(t == tag or t.startswith(tag + "/") for t in tags):
            return True
    return False


def on_sheet(note: Note) -> bool:
    """Front matter ``sheet: false`` keeps a note out of the PDF (its cards stay)."""
    return note.meta.get("sheet") is not False
