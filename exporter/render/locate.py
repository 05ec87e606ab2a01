"""Where a problem found while rendering is written: its file line and column."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from exporter.core.scan import TEXT, kinds
from exporter.core.text import literal_spans


@dataclass
class Source:
    """Where the lines a section renders come from, to place each problem on its file line."""

    lines: list[tuple[int, str]]  # (line in the file, text) of the section's own lines
    foreign: list[str]  # lines transcluded from other notes: their problems are theirs


class Finder:
    """Finds where each problem's text is written, each mention claimed once.

    Problems of one kind arrive in document order (each pass walks the section top to bottom),
    so each kind resumes its search where its last mention was found and wraps around to the
    top only when needed: 2,000 problems on 2,000 lines cost a pass, not 2,000 passes.
    """

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        lines = _without_code(lines)
        self.numbers = [number for number, _ in lines]
        self.starts: list[int] = []
        position = 0
        for _, line in lines:
            self.starts.append(position)
            position += len(line) + 1
        self.text = "\n".join(line for _, line in lines)
        self.cursors: dict[str, int] = {}
        # per line, the claimed mentions as sorted starts and ends (they never overlap)
        self.claimed: dict[int, tuple[list[int], list[int]]] = {}

    def locate(self, text: str, kind: str = "") -> tuple[int, int] | None:
        """Line and column (1-based) of the next unclaimed mention of ``text``."""
        if not text or "\n" in text:
            return None
        cursor = self.cursors.get(kind, 0)
        for begin, end in ((cursor, len(self.text)), (0, min(len(self.text), cursor + len(text)))):
            at = self.text.find(text, begin, end)
            while at != -1:
                index = bisect.bisect_right(self.starts, at) - 1
                start = at - self.starts[index]
                if self._claim(index, start, start + len(text)):
                    self.cursors[kind] = at + len(text)
                    return self.numbers[index], start + 1
                at = self.text.find(text, at + 1, end)
        return None

    def _claim(self, index: int, start: int, end: int) -> bool:
        """Claim ``start:end`` of line ``index`` unless it overlaps a claimed mention; found
        by bisection, as one line may hold thousands of mentions (``[[#^x]]`` × 8,000)."""
        starts, ends = self.claimed.setdefault(index, ([], []))
        before = bisect.bisect_left(starts, end)  # the mentions starting before this one ends
        if before and ends[before - 1] > start:
            return False
        starts.insert(before, start)
        ends.insert(before, end)
        return True


def _without_code(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The lines with code blanked out (fences, indented code, inline code and math), columns
    kept: rendering never sees a construct written there, so no problem is placed on it (an
    example in a code block showing the very embed that is missing further down)."""
    texts = [text for _, text in lines]
    out = []
    for (number, text), kind in zip(lines, kinds(texts), strict=True):
        if kind != TEXT:
            text = " " * len(text)
        elif "`" in text or "$" in text:
            for start, end in literal_spans(text):
                text = text[:start] + " " * (end - start) + text[end:]
        out.append((number, text))
    return out
