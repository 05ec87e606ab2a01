"""One scanner of what is literal in a note: fenced and indented code, ``$$`` math, comments.

Every pass that must run before Markdown (sectioning, comments, line fixes, block ids,
transclusion lines, card syntax) asks this scanner which lines are code, so that code is
literal for every Obsidian construct by the same rule. Inside a line, inline code spans and
``$…$`` math are found by :func:`exporter.text.literal_spans`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exporter.core.text import is_literal, literal_spans

# A fence may sit in a quote (a callout): "> ```", ">```", ">  ```".
_FENCE = re.compile(r"^((?:[ \t]*>)*)([ \t]*)(`{3,}|~{3,})(.*)$")
_QUOTE_PREFIX = re.compile(r"^((?:[ \t]*>)+)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_MATH_FENCE = "$$"

TEXT, FENCE, INDENTED, MATH = "text", "fence", "indented", "math"
# What a line wholly inside a comment becomes: blank to every stage (str.strip() removes it),
# yet dropped before Markdown, so a comment between two list items keeps the list tight.
HIDDEN = "\x1c"  # not \x1f, Anki's field separator


@dataclass
class _Fence:
    marker: str
    depth: int  # how many quote markers it sits in


def quote_depth(line: str) -> int:
    """How many ``>`` markers open the line."""
    match = _QUOTE_PREFIX.match(line)
    return match.group(1).count(">") if match else 0


class Scanner:
    """Classifies a note's lines one by one: text, fenced code, indented code or math block."""

    def __init__(self) -> None:
        self.fence: _Fence | None = None
        self.math = False
        self.indented = False
        self.in_list = False
        self.previous_blank = True

    def feed(self, line: str) -> str:
        """The kind of ``line``: TEXT, FENCE (its opening and closing lines too), INDENTED, MATH."""
        kind = self._kind(line)
        blank = not line.strip()
        if kind == TEXT and not blank:
            if _LIST_ITEM.match(line):
                self.in_list = True
            elif not line[:1].isspace() and self.previous_blank:
                self.in_list = False
        self.previous_blank = blank
        return kind

    def _kind(self, line: str) -> str:
        if self.fence is not None:
            match = _FENCE.match(line)
            if (match and match.group(1).count(">") == self.fence.depth
                    and not match.group(4).strip() and match.group(3)[0] == self.fence.marker[0]
                    and len(match.group(3)) >= len(self.fence.marker)):
                self.fence = None
            return FENCE
        if self.math:
            if line.rstrip().endswith(_MATH_FENCE):
                self.math = False
            return MATH
        stripped = line.strip()
        if self.indented or (self.previous_blank and not self.in_list):
            width = len(line) - len(line.lstrip(" \t"))
            code = stripped and len(line[:width].expandtabs(4)) >= 4
            self.indented = bool(code) or (self.indented and not stripped)
            if code:
                return INDENTED
        match = _FENCE.match(line)
        if match and len(match.group(2).expandtabs(4)) < 4 and not (
                match.group(3)[0] == "`" and "`" in match.group(4)):
            self.fence = _Fence(match.group(3), match.group(1).count(">"))
            return FENCE
        if stripped.startswith(_MATH_FENCE):
            rest = stripped[2:]
            self.math = not rest.rstrip().endswith(_MATH_FENCE)
            return MATH
        return TEXT


def kinds(lines: list[str]) -> list[str]:
    """The kind of every line (see :class:`Scanner`)."""
    scanner = Scanner()
    return [scanner.feed(line) for line in lines]


def strip_comments(lines: list[str]) -> tuple[list[str], int | None]:
    """The lines with ``%%comments%%`` removed (a wholly hidden line becomes HIDDEN), and the
    index of the line where a comment opens and is never closed (it hides the rest, as in
    Obsidian). ``%%`` in code or math is literal; a fence inside a comment is hidden."""
    if not any("%%" in line for line in lines):
        return list(lines), None
    out: list[str] = []
    scanner = Scanner()
    opened: int | None = None
    for index, line in enumerate(lines):
        if opened is not None:
            close = line.find("%%")
            if close == -1:
                out.append(HIDDEN)
                continue
            opened = None
            line = line[close + 2:]
            if not line.strip():
                out.append(HIDDEN)
                continue
        if scanner.feed(line) != TEXT or "%%" not in line:
            out.append(line)  # code and math are literal
            continue
        kept, still_open = _strip_line(line)
        if still_open:
            opened = index
        out.append(kept if kept.strip() or not line.strip() else HIDDEN)
    return out, opened


def _strip_line(line: str) -> tuple[str, bool]:
    """One line without its comments; True when a comment opens and does not close on it."""
    spans = literal_spans(line)
    parts: list[str] = []
    position = 0
    while True:
        start = _next_marker(line, position, spans)
        if start == -1:
            parts.append(line[position:])
            return "".join(parts).rstrip() if len(parts) > 1 else line, False
        parts.append(line[position:start])
        end = line.find("%%", start + 2)
        if end == -1:
            return "".join(parts).rstrip(), True
        position = end + 2


def _next_marker(line: str, position: int, spans: list[tuple[int, int]]) -> int:
    """Where the next ``%%`` outside code and math starts, or -1."""
    start = line.find("%%", position)
    while start != -1 and is_literal(spans, start):
        start = line.find("%%", start + 1)
    return start
