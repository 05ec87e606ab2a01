"""Cards written in a note's own syntax: ``Term = Definition``, ``Term::Definition``,
``Term:::Definition``, multi-line ``?``/``??`` questions and ``{{c1::cloze}}`` deletions.

The syntax is the obsidian-spaced-repetition plugin's, so vaults written for it work as they are.
"""

from __future__ import annotations

import re

from .model import CardItem
from .text import BLOCK_ID_LINE, END_MARKER, Fences, split_block_id

_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_INLINE_QA = re.compile(r"^(?P<front>.+?)\s*(?P<sep>:::|::)\s*(?P<back>.+)$")
_DEFINITION = re.compile(r"^(?P<front>[^=`$\\]{1,80}?)\s+=\s+(?P<back>[^=>].*)$")
CLOZE = re.compile(r"\{\{c(\d+)::")
_HIGHLIGHT = re.compile(r"==(?=\S)(.+?)(?<=\S)==")


def extract(body: list[str], first_line: int, highlights_as_cloze: bool) -> list[CardItem]:
    """The cards written in a section's own lines, in line order."""
    visible = _outside_fences(body)
    items: list[CardItem] = []
    consumed: set[int] = set()
    for index in visible:
        if body[index].strip() in ("?", "??") and index not in consumed:
            item, used = _multiline(body, index, visible, first_line)
            if item is not None:
                items.append(item)
                consumed |= used
    for index in visible:
        if index in consumed:
            continue
        line, block_id = split_block_id(body[index])
        item = _single(line, first_line + index, block_id, highlights_as_cloze)
        if item is not None:
            items.append(item)
    return sorted(items, key=lambda i: i.line)


def _outside_fences(body: list[str]) -> list[int]:
    """Indexes of the lines that are neither fenced code nor a ``$$`` math block."""
    out, fences, math = [], Fences(), False
    for index, line in enumerate(body):
        if fences.feed(line):
            continue
        if line.strip().startswith("$$"):
            math = not math if line.strip() == "$$" or not line.strip().endswith("$$") else math
            continue
        if not math:
            out.append(index)
    return out


def _single(line: str, number: int, block_id: str | None, highlights: bool) -> CardItem | None:
    text = _BULLET.sub("", line, count=1).strip()
    if not text or "`" in text or BLOCK_ID_LINE.match(text):
        return None
    if highlights and _HIGHLIGHT.search(text) and not CLOZE.search(text):
        counter = iter(range(1, 1000))
        text = _HIGHLIGHT.sub(lambda m: f"{{{{c{next(counter)}::{m.group(1)}}}}}", text)
    if CLOZE.search(text):
        return CardItem("cloze", text, text, "", number, block_id)
    qa = _INLINE_QA.match(text) if text.count("::") == 1 else None
    if qa and "://" not in qa.group("front")[-3:] + qa.group("back")[:2]:
        kind = "qa-reversed" if qa.group("sep") == ":::" else "qa"
        return CardItem(kind, qa.group("front"), qa.group("front"), qa.group("back"), number,
                        block_id)
    definition = _DEFINITION.match(text)
    if definition:
        return CardItem("definition", definition.group("front"), definition.group("front"),
                        definition.group("back"), number, block_id)
    return None


def _multiline(body: list[str], sep: int, visible: list[int], first_line: int
               ) -> tuple[CardItem | None, set[int]]:
    """Question lines, a line with only ``?`` (``??``: both ways), then the answer: up to a
    blank line, or up to a ``+++`` line when the answer holds blank lines (the plugin's rule)."""
    start = sep
    while start > 0 and body[start - 1].strip() and start - 1 in visible:
        start -= 1
    end = next((i for i in range(sep + 1, len(body)) if body[i].strip() == END_MARKER), None)
    if end is None:
        first = next((i for i in range(sep + 1, len(body)) if body[i].strip()), len(body))
        end = next((i for i in range(first, len(body)) if not body[i].strip()), len(body))
    question = [split_block_id(line)[0] for line in body[start:sep]]
    answer = [split_block_id(line)[0] for line in body[sep + 1:end]]
    if not "".join(question).strip() or not "".join(answer).strip():
        return None, set()
    block_id = next((b for line in body[start:end] if (b := split_block_id(line)[1])), None)
    kind = "qa-reversed" if body[sep].strip() == "??" else "qa"
    front = "\n".join(question)
    item = CardItem(kind, front.strip(), front, "\n".join(answer).strip("\n"),
                    first_line + start, block_id)
    return item, set(range(start, min(end + 1, len(body))))


def cloze_spans(text: str) -> list[tuple[int, int, int, int]]:
    """(start, content start, content end, end) of each ``{{cN::…}}``, braces inside balanced."""
    spans, i = [], 0
    for match in CLOZE.finditer(text):
        if match.start() < i:
            continue
        depth, j = 0, match.end()
        while j < len(text) and not (depth == 0 and text.startswith("}}", j)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        if j >= len(text):
            break  # never closed: left as written (check reports it)
        spans.append((match.start(), match.end(), j, j + 2))
        i = j + 2
    return spans


def unwrap_clozes(text: str, wrap: str = "{}") -> str:
    """Show each deletion's answer (without a ``::hint``) in place of the cloze markup."""
    out, last = [], 0
    for start, inner, close, end in cloze_spans(text):
        answer = text[inner:close]
        hint = answer.rfind("::")
        out += [text[last:start], wrap.format(answer[:hint] if hint != -1 else answer)]
        last = end
    return "".join(out) + text[last:]
