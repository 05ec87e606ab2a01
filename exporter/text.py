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
