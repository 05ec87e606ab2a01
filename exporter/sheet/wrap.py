"""Long unbreakable text kept inside its column: code wrapped with a visible marker, other
long runs (base64, URLs) given break opportunities.

WeasyPrint's ``overflow-wrap: anywhere`` breaks such runs, except on the first line of a block
that continues after a page break (there the line runs on, across the gutter and off the page).
Explicit break points do not depend on it.
"""

from __future__ import annotations

import re

MONO_ADVANCE = 0.602  # DejaVu Sans Mono: every glyph is this many em wide
MARK = '<span class="wrap-mark">↪</span>'
ZWSP = "\u200b"
SHORT_CODE = 12  # lines: a code block this short is never split
_PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.S)
_TOKEN = re.compile(r"(<[^>]*>)|(&#?\w+;)|(\n)|([^<&\n])", re.S)
_TEXT = re.compile(r"(<pre\b.*?</pre>|<[^>]*>)|([^<]+)", re.S)
_RUN = re.compile(r"[^\s\u200b]{24,}")
_UNIT = re.compile(r"&#?\w+;|.", re.S)


def code_columns(column_px: float, font_px: float) -> int:
    """Characters of code that fit a column's width (code is set at 0.92 em; the block has
    0.36 em of padding on each side)."""
    inner = column_px - 2 * 0.36 * font_px - 2
    return max(12, int(inner / (MONO_ADVANCE * 0.92 * font_px)) - 1)


def _wrap_pre(body: str, width: int) -> str:
    """Break each code line longer than ``width`` and mark where it continues."""
    out: list[str] = []
    column = 0
    for tag, entity, newline, char in _TOKEN.findall(body):
        if tag:
            out.append(tag)
            continue
        if newline:
            out.append("\n")
            column = 0
            continue
        if column >= width:
            out.append("\n" + MARK)
            column = 2
        out.append(entity or char)
        column += 1
    return "".join(out)


def _break_run(match: re.Match[str]) -> str:
    units = _UNIT.findall(match.group(0))  # an entity is one unit: never split inside it
    return ZWSP.join("".join(units[i:i + 12]) for i in range(0, len(units), 12))


def _code(match: re.Match[str], width: int) -> str:
    """A wrapped code block; a long one may continue in the next column (a short one never)."""
    body = _wrap_pre(match.group(2), width)
    start = match.group(1)
    if body.strip("\n").count("\n") >= SHORT_CODE:
        start = start[:-1] + ' data-long="1">'
    return start + body + match.group(3)


def wrap(fragment: str, code_width: int) -> str:
    """The fragment with code wrapped at ``code_width`` and long runs of text breakable."""
    fragment = _PRE.sub(lambda m: _code(m, code_width), fragment)
    return _TEXT.sub(lambda m: m.group(1) or _RUN.sub(_break_run, m.group(2)), fragment)
