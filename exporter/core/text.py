"""Line-level facts about Obsidian Markdown that several stages need: block ids, tags, inline
code and math spans (which lines are code is :mod:`exporter.scan`'s business)."""

from __future__ import annotations

import bisect
import re
import unicodedata

# A line holding nothing but an Obsidian block id, e.g. "^summary-1".
BLOCK_ID_LINE = re.compile(r"^\s*\^([A-Za-z0-9-]+)\s*$")
_BLOCK_ID = re.compile(r"[A-Za-z0-9-]+")
# A line that shows nothing of its own: a block id, only #tags, an empty list or task item.
# An Obsidian tag's name: letters, digits, _ - / and not only digits. Written so that a
# regular expression can match it one way only (a long run of letters costs linear time).
TAG_NAME = r"(?=[\w/-]*[^\W\d])[\w/-]+"
EMPTY_LINE = re.compile(r"^\s*(?:\^[A-Za-z0-9-]+|(?:#" + TAG_NAME + r"\s*)+"
                        r"|(?:[-*+]|\d{1,9}[.)])(?:\s+\[.\])?)\s*$")
END_MARKER = "+++"  # ends a multi-line card whose answer holds blank lines


def split_block_id(line: str) -> tuple[str, str | None]:
    """A line without its trailing ``^block-id``, and the id (never one inside code or math)."""
    # Found from the end with rfind, not a regular expression: a line of 60,000 spaces would
    # make "\s+\^id\s*$" try every start position (quadratic).
    stripped = line.rstrip()
    caret = stripped.rfind("^")
    # after a space, or right after an embed: "![[diagram.png]]^fig"
    after = caret >= 1 and (stripped[caret - 1].isspace() or stripped.endswith("]]", 0, caret))
    if not after or not _BLOCK_ID.fullmatch(stripped, caret + 1):
        return line, None
    if ("`" in stripped or "$" in stripped) and is_literal(literal_spans(stripped), caret):
        return line, None
    return stripped[:caret].rstrip(), stripped[caret + 1:]


# Inline code spans (CommonMark: a run of n backticks closed by the next run of exactly n) and
# inline math ``$…$`` (Obsidian: no space inside the dollars, no digit right after the closing
# one, so "costs $5 and $6" is text). Inside both, every Obsidian construct is literal.
_BACKTICKS = re.compile(r"`+")
# ``$$x$$`` inside a line is display math in Obsidian (its own block is the scanner's business).
DISPLAY_MATH = re.compile(r"(?<![\\$])\$\$(?=\S)((?:\\.|[^\\$\n])+?)(?<=\S)\$\$")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=[^\s$])((?:\\.|[^\\$\n])*?)(?<=[^\s\\])\$(?![\d$])")


def literal_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each inline code span and inline math span in one line, in order."""
    spans: list[tuple[int, int]] = []
    runs = list(_BACKTICKS.finditer(line)) if "`" in line else []
    # Each run closes at the next run of the same length: indexes per length, walked once.
    by_length: dict[int, list[int]] = {}
    for index, run in enumerate(runs):
        by_length.setdefault(len(run.group()), []).append(index)
    cursor = dict.fromkeys(by_length, 0)
    i = 0
    while i < len(runs):
        length = len(runs[i].group())
        same = by_length[length]
        while cursor[length] < len(same) and same[cursor[length]] <= i:
            cursor[length] += 1
        if cursor[length] == len(same):
            i += 1
            continue
        closing = same[cursor[length]]
        spans.append((runs[i].start(), runs[closing].end()))
        i = closing + 1
    if "$" in line:
        code = list(spans)
        for match in DISPLAY_MATH.finditer(line):
            if not is_literal(code, match.start()):
                spans.append(match.span())
        taken = sorted(spans)
        for match in _INLINE_MATH.finditer(line):
            if not is_literal(taken, match.start()):
                spans.append(match.span())
    return sorted(spans)


def is_literal(spans: list[tuple[int, int]], position: int) -> bool:
    """True when ``position`` falls inside one of ``spans`` (from :func:`literal_spans`)."""
    index = bisect.bisect_right(spans, (position, _END)) - 1
    return index >= 0 and spans[index][0] <= position < spans[index][1]


_END = 1 << 62

def slugify(text: str) -> str:
    """A lowercase ASCII slug for anchors and file names."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
