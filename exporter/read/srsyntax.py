"""What the Spaced Repetition plugin writes around its cards: HTML comments (nothing inside one
is a card), its scheduling comments ``<!--SR:…-->`` and the ``> [!sr|card-metadata]`` callout
that holds them (part of the card's lines, never of its text), and a deck tag opening a
question (``#flashcards/science Question::Answer``: the card's deck, not its text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from exporter.core import scan

OPEN, CLOSE = "<!--", "-->"
SR_COMMENT = "<!--SR:"
SR_CALLOUT = "> [!sr|card-metadata]"
_LEADING_TAG = re.compile(r"^\s*#([\w/-]+)\s*")


def without_comments(lines: list[str], kinds: list[str]) -> tuple[list[str], set[int]]:
    """The lines with every HTML comment blanked out (spaces, so offsets stay), and the lines
    that hold a scheduling comment. A comment may span lines; in code it is literal."""
    out: list[str] = []
    scheduled: set[int] = set()
    inside = False
    for index, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        if kind != scan.TEXT or (not inside and OPEN not in line):
            out.append(line)
            continue
        chars, at = list(line), 0
        while at < len(line):
            if not inside:
                start = line.find(OPEN, at)
                if start == -1:
                    break
                if line.startswith(SR_COMMENT, start):
                    scheduled.add(index)
                inside, at = True, start
            close = line.find(CLOSE, at + (len(OPEN) if line.startswith(OPEN, at) else 0))
            end = len(line) if close == -1 else close + len(CLOSE)
            chars[at:end] = " " * (end - at)
            inside, at = close == -1, end
        out.append("".join(chars))
    return out, scheduled


def metadata_lines(lines: list[str], index: int) -> int:
    """How many lines after an inline card at ``index`` hold its schedule: a ``<!--SR:…-->``
    line, or the ``> [!sr|card-metadata]`` callout up to the line holding one."""
    after = index + 1
    if after >= len(lines):
        return 0
    if lines[after].startswith(SR_COMMENT):
        return 1
    if not lines[after].startswith(SR_CALLOUT):
        return 0
    for end in range(after, len(lines)):
        if SR_COMMENT in lines[end]:
            return end - index
    return len(lines) - 1 - index


def without_deck_tag(text: str, deck_tags: Iterable[str]) -> str:
    """The question without a deck tag opening it (the plugin's "topic path")."""
    match = _LEADING_TAG.match(text)
    if match is None:
        return text
    tag = match.group(1).lower().strip("/")
    if any(tag == want or tag.startswith(want + "/") for want in deck_tags):
        return text[match.end():]
    return text
