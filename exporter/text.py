"""Line-level facts about Obsidian Markdown that several stages need: code fences, block ids."""

from __future__ import annotations

import re

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
# A line holding nothing but an Obsidian block id, e.g. "^summary-1".
BLOCK_ID_LINE = re.compile(r"^\s*\^([A-Za-z0-9-]+)\s*$")
_BLOCK_ID = re.compile(r"\s+\^([A-Za-z0-9-]+)\s*$")
END_MARKER = "+++"  # ends a multi-line card whose answer holds blank lines


class Fences:
    """Follows fenced code through a note, line by line."""

    def __init__(self) -> None:
        self.open: str | None = None

    def feed(self, line: str) -> bool:
        """True when ``line`` belongs to fenced code, its opening and closing lines included."""
        match = FENCE.match(line)
        if self.open is None:
            if match:
                self.open = match.group(1)
            return match is not None
        marker = match.group(1) if match else ""
        if marker[:1] == self.open[0] and len(marker) >= len(self.open):
            self.open = None
        return True


def split_block_id(line: str) -> tuple[str, str | None]:
    """A line without its trailing ``^block-id``, and the id."""
    match = _BLOCK_ID.search(line)
    return (line[: match.start()], match.group(1)) if match else (line, None)


# Inline code spans (CommonMark: a run of n backticks closed by the next run of exactly n) and
# inline math ``$…$`` (Obsidian: no space inside the dollars, no digit right after the closing
# one, so "costs $5 and $6" is text). Inside both, every Obsidian construct is literal.
_BACKTICKS = re.compile(r"`+")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=[^\s$])((?:\\.|[^\\$\n])*?)(?<=[^\s\\])\$(?![\d$])")


def literal_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each inline code span and inline math span in one line, in order."""
    spans: list[tuple[int, int]] = []
    runs = list(_BACKTICKS.finditer(line)) if "`" in line else []
    i = 0
    while i < len(runs):
        opening = runs[i]
        closing = next((j for j in range(i + 1, len(runs))
                        if len(runs[j].group()) == len(opening.group())), None)
        if closing is None:
            i += 1
            continue
        spans.append((opening.start(), runs[closing].end()))
        i = closing + 1
    if "$" in line:
        for match in _INLINE_MATH.finditer(line):
            if not any(s <= match.start() < e for s, e in spans):
                spans.append(match.span())
    return sorted(spans)


def is_literal(spans: list[tuple[int, int]], position: int) -> bool:
    """True when ``position`` falls inside one of ``spans`` (from :func:`literal_spans`)."""
    return any(start <= position < end for start, end in spans)
