"""Where a problem found while rendering is written: its file line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Source:
    """Where the lines a section renders come from, to place each problem on its file line."""

    lines: list[tuple[int, str]]  # (line in the file, text) of the section's own lines
    foreign: list[str]  # lines transcluded from other notes: their problems are theirs


class Finder:
    """Finds where each problem's text is written, each mention claimed once (linear overall:
    the mentions of one text are found once, then handed out in order)."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.mentions: dict[str, list[tuple[int, int, int]]] = {}
        self.claimed: dict[int, list[tuple[int, int]]] = {}

    def locate(self, text: str) -> tuple[int, int] | None:
        """Line and column (1-based) of the first unclaimed mention of ``text``."""
        if not text:
            return None
        if text not in self.mentions:
            found = []
            for number, line in self.lines:
                start = line.find(text)
                while start != -1:
                    found.append((number, start, start + len(text)))
                    start = line.find(text, start + 1)
            found.reverse()
            self.mentions[text] = found
        mentions = self.mentions[text]
        while mentions:
            number, start, end = mentions.pop()
            taken = self.claimed.setdefault(number, [])
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                return number, start + 1
        return None
