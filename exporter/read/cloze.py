"""Cloze deletions: ``{{c1::…}}`` as written, and the plugins' forms converted to it
(``==highlight==``, ``**bold**``, ``{{curly}}``, ``{curly}``), found outside code and math."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from exporter.core.text import literal_spans
from exporter.read.plugins import CardSyntax

CLOZE = re.compile(r"\{\{c(\d+)::")
MAX_CLOZE = 65535  # Anki refuses the whole deck over this number
_BRACE = re.compile(r"[{}]")
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$")
_MASK = "\x00"
# Cloze forms the plugins convert, found in text whose code and math are masked out.
_HIGHLIGHT = re.compile(r"==(?=[^\s=])(.+?)(?<=[^\s=])==")
_BOLD = re.compile(r"\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*")
_DOUBLE_CURLY = re.compile(r"(?<!\{)\{\{(?!c\d+::)([^{}\n]+?)\}\}(?!\})")
_CURLY = re.compile(r"(?<![{\\])\{(?!\{)([^{}\n]+?)\}(?!\})")
_SEQUENCE = re.compile(r"^(\d{1,6});;")  # "==2;;answer==" (Spaced Repetition)
_CURLY_SEQUENCE = re.compile(r"^(\d{1,6}):")  # "{2:answer}" (Flashcards)
# Obsidian's template placeholders ({{date}}, {{time:HH:mm}}, {{title}}) are never clozes.
_TEMPLATE_VARIABLE = re.compile(r"^\s*(?:date|time|title)(?::[^{}]*)?\s*$", re.I)


def convert(text: str, masked: str, syntax: CardSyntax) -> tuple[str | None, str]:
    """The text as cloze text (written ``{{c1::…}}`` or converted from the plugins' forms),
    and as shown on the sheet; None when it holds no cloze."""
    if CLOZE.search(mask(text, math=False)):
        return text, text
    found = sorted(_conversions(text, masked, syntax), key=lambda f: f.start)
    if not found:
        return None, text
    cloze, shown, last, counter = [], [], 0, 0
    for deletion in found:
        if deletion.start < last:
            continue  # overlaps an earlier deletion
        number = deletion.number
        if number is None:
            counter += 1
            number = counter
        hint_text = f"::{deletion.hint}" if deletion.hint else ""
        answer = deletion.answer
        cloze += [text[last:deletion.start], f"{{{{c{number}::{answer}{hint_text}}}}}"]
        shown += [text[last:deletion.start], f"**{answer}**" if deletion.bold else f"=={answer}=="]
        last = deletion.end
    cloze.append(text[last:])
    shown.append(text[last:])
    return "".join(cloze), "".join(shown)


@dataclass(frozen=True)
class _Deletion:
    start: int
    end: int
    answer: str
    number: int | None  # as written ("==2;;answer=="), else counted
    hint: str
    bold: bool = False


def _conversions(text: str, masked: str, syntax: CardSyntax) -> list[_Deletion]:
    """Each plugin-form deletion found in ``masked`` (code and math blanked out)."""
    found = []
    forms = ((syntax.highlight_cloze, _HIGHLIGHT), (syntax.bold_cloze, _BOLD),
             (syntax.double_curly_cloze, _DOUBLE_CURLY), (syntax.curly_cloze, _CURLY))
    for enabled, pattern in forms:
        if not enabled:
            continue
        for match in pattern.finditer(masked):
            if pattern in (_DOUBLE_CURLY, _CURLY) and \
                    _TEMPLATE_VARIABLE.match(match.group(1)):
                continue
            found.append(_standard(text, match, pattern))
    for written in syntax.custom_clozes:
        for match in custom_pattern(written).finditer(masked):
            answer = text[match.start("answer"):match.end("answer")]
            hint = text[match.start("hint"):match.end("hint")] if match.group("hint") else ""
            number = int(match.group("seq")) if match.group("seq") else None
            found.append(_Deletion(match.start(), match.end(), answer, number, hint))
    return found


def _standard(text: str, match: re.Match[str], pattern: re.Pattern[str]) -> _Deletion:
    """A deletion of the four built-in forms: ``==2;;answer;;hint==``, ``{2:answer}``, …"""
    answer = text[match.start(1):match.end(1)]
    curly = pattern is _CURLY
    sequence = (_CURLY_SEQUENCE if curly else _SEQUENCE).match(answer)
    number = None
    if sequence:
        number, answer = int(sequence.group(1)), answer[sequence.end():]
    answer, _, hint = answer.partition(";;")
    return _Deletion(match.start(), match.end(), answer, number, hint, pattern is _BOLD)


@functools.lru_cache(maxsize=64)
def custom_pattern(written: str) -> re.Pattern[str]:
    """A Spaced Repetition cloze pattern as a regex: ``answer`` is the answer, an optional
    ``[…123…]`` the card's number, an optional ``[…hint…]`` a hint; ``\\[`` is a bracket."""
    parts: list[str] = []
    for optional, piece in _pattern_pieces(written):
        body = re.escape(piece)
        for word, group in (("answer", r"(?P<answer>[^\n]+?)"), ("123", r"(?P<seq>\d{1,6})"),
                            ("hint", r"(?P<hint>[^\n]+?)")):
            body = body.replace(re.escape(word), group, 1) if word in piece else body
        parts.append(f"(?:{body})?" if optional else body)
    if "(?P<answer>" not in "".join(parts):
        return re.compile(r"(?!x)x(?P<answer>)(?P<hint>)(?P<seq>)")  # no answer: never a cloze
    pattern = "".join(parts)
    for group in ("hint", "seq"):
        if f"(?P<{group}>" not in pattern:
            pattern += f"(?P<{group}>)"
    return re.compile(pattern)


def pattern_start(written: str) -> str:
    """The text every deletion of a custom pattern holds (a quick filter for lines)."""
    literal = next((piece for optional, piece in _pattern_pieces(written) if not optional), "")
    return literal.split("answer")[0][:2]


def _pattern_pieces(written: str) -> list[tuple[bool, str]]:
    """The pattern as (optional, literal text) pieces: ``[…]`` is optional, ``\\x`` is x."""
    pieces: list[tuple[bool, str]] = []
    current, optional, i = "", False, 0
    while i < len(written):
        char = written[i]
        if char == "\\" and i + 1 < len(written):
            current, i = current + written[i + 1], i + 2
            continue
        if char in "[]" and (char == "[") != optional:
            if current:
                pieces.append((optional, current))
            current, optional = "", char == "["
        else:
            current += char
        i += 1
    if current:
        pieces.append((optional, current))
    return pieces


def mask(text: str, math: bool = True) -> str:
    """``text`` with its inline code (and math) blanked out, so no card syntax is found there.

    Written ``{{c1::…}}`` deletions work inside math (Anki's MathJax reads them): for them
    only code is masked.
    """
    if "`" not in text and "$" not in text:
        return text
    spans = literal_spans(text)
    if not math:
        spans = [(start, end) for start, end in spans if text[start] == "`"]
    elif "$$" in text:
        spans += [m.span() for m in _DISPLAY_MATH.finditer(text)]
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            start = last
        out += [text[last:start], _MASK * max(0, end - start)]
        last = max(last, end)
    out.append(text[last:])
    return "".join(out)


def cloze_spans(text: str) -> list[tuple[int, int, int, int]]:
    """(start, content start, content end, end) of each ``{{cN::…}}``, braces inside balanced.

    Each deletion closes at the first ``}}`` at its own brace depth, found by bisection in one
    table of closings per depth: linear-logarithmic, however many deletions stay unclosed.
    """
    if "{{c" not in text:
        return []
    positions, depths, closings = _braces(text)
    spans, i = [], 0
    for match in CLOZE.finditer(text):
        if match.start() < i:
            continue
        at = bisect.bisect_left(positions, match.end())
        candidates = closings.get(depths[at - 1] if at else 0, [])
        found = bisect.bisect_left(candidates, match.end())
        if found == len(candidates):
            continue  # never closed: left as written (check reports it)
        close = candidates[found]
        spans.append((match.start(), match.end(), close, close + 2))
        i = close + 2
    return spans


def _braces(text: str) -> tuple[list[int], list[int], dict[int, list[int]]]:
    """Every brace's position and the depth after it, and the ``}}`` positions by depth."""
    positions, depths, closings = [], [], {}  # type: ignore[var-annotated]
    depth = 0
    for match in _BRACE.finditer(text):
        j = match.start()
        if text[j] == "{":
            depth += 1
        else:
            if text.startswith("}}", j):
                closings.setdefault(depth, []).append(j)
            depth -= 1
        positions.append(j)
        depths.append(depth)
    return positions, depths, closings


def first_unclosed(text: str) -> int | None:
    """Offset of the first ``{{cN::`` that no ``}}`` closes, or None (linear time)."""
    spans = cloze_spans(text)
    ends = iter(spans)
    span = next(ends, None)
    for match in CLOZE.finditer(text):
        while span is not None and span[3] <= match.start():
            span = next(ends, None)
        if span is None or not span[0] <= match.start() < span[3]:
            return match.start()
    return None


def unwrap_clozes(text: str, wrap: str = "{}") -> str:
    """Show each deletion's answer (without a ``::hint``) in place of the cloze markup."""
    out, last = [], 0
    for start, inner, close, end in cloze_spans(text):
        answer = text[inner:close]
        hint = answer.rfind("::")
        out += [text[last:start], wrap.format(answer[:hint] if hint != -1 else answer)]
        last = end
    return "".join(out) + text[last:]
