"""A rendered note as plain JSON data and back, checked against its note: the one place that
knows :class:`render.NoteRendering`'s shape (the note cache stores it, notecache.py)."""

from __future__ import annotations

from pathlib import Path

from exporter.core.errors import BadEntryError
from exporter.core.model import Diagnostic, Note, Severity
from exporter.render.render import NoteRendering

SEVERITIES = ("warning", "error", "notice")


def to_json(rendering: NoteRendering) -> dict[str, object]:
    """A rendering as plain JSON data (images are stored by the cache, with fingerprints)."""
    return {
        "sections": [[html, heading, front, [[f, b] for f, b in items]]
                     for html, heading, front, items in rendering.sections],
        "tags": sorted(rendering.tags),
        "diagnostics": [[d.path, d.line, d.col, d.severity, d.message, d.code]
                        for d in rendering.diagnostics],
    }


def from_json(data: object, note: Note, images: list[Path]) -> NoteRendering:
    """The rendering ``to_json`` wrote, checked against ``note``; BadEntryError when not."""
    data = json_dict(data)
    sections = json_list(data.get("sections"))
    if len(sections) != len(note.sections):
        raise BadEntryError("section count")
    shaped: list[tuple[str, str, str, list[tuple[str, str]]]] = []
    for raw, section in zip(sections, note.sections, strict=True):
        fields = json_list(raw)
        if len(fields) != 4:
            raise BadEntryError("section")
        html, heading, front, items = fields
        pairs = [json_pair(item) for item in json_list(items)]
        if len(pairs) != len(section.items):
            raise BadEntryError("item count")
        shaped.append((json_str(html), json_str(heading), json_str(front),
                       [(json_str(f), json_str(b)) for f, b in pairs]))
    tags = {json_str(tag) for tag in json_list(data.get("tags"))}
    diagnostics = [_diagnostic(raw) for raw in json_list(data.get("diagnostics"))]
    return NoteRendering(sections=shaped, tags=tags, diagnostics=diagnostics, images=images)


def _diagnostic(raw: object) -> Diagnostic:
    items = json_list(raw)
    if len(items) != 6 or items[3] not in SEVERITIES:
        raise BadEntryError("diagnostic")
    path, line, col, _, message, code = items
    severity: Severity = "warning" if items[3] == "warning" else \
        "error" if items[3] == "error" else "notice"
    return Diagnostic(json_str(path), json_int(line), json_int(col), severity,
                      json_str(message), json_str(code))


def json_dict(value: object) -> dict[str, object]:
    """``value`` when it is an object; BadEntryError otherwise."""
    if not isinstance(value, dict):
        raise BadEntryError("not an object")
    return value


def json_list(value: object) -> list[object]:
    """``value`` when it is a list; BadEntryError otherwise."""
    if not isinstance(value, list):
        raise BadEntryError("not a list")
    return value


def json_pair(value: object) -> tuple[object, object]:
    """``value`` when it is a pair; BadEntryError otherwise."""
    items = json_list(value)
    if len(items) != 2:
        raise BadEntryError("not a pair")
    return items[0], items[1]


def json_str(value: object) -> str:
    """``value`` when it is a string; BadEntryError otherwise."""
    if not isinstance(value, str):
        raise BadEntryError("not a string")
    return value


def json_int(value: object) -> int:
    """``value`` when it is an integer; BadEntryError otherwise."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadEntryError("not an integer")
    return value
