"""The Spaced Repetition plugin's own parser expectations (tests/conformance/sr_parser_cases.py),
each read by our reader with the plugin's options: the same cards, of the same kind, covering
the same lines, with the same question and answer (their text, as Markdown)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from exporter.core.model import CardItem, Diagnostic
from exporter.read.flashcards import read_note_cards
from exporter.read.parse import split_sections
from exporter.read.plugins import sr_syntax

from .conformance.sr_parser_cases import CASES, CLOZE, DEFAULT, ML, MLR, SL, SLR

KINDS = {SL: "qa", ML: "qa", SLR: "qa-reversed", MLR: "qa-reversed", CLOZE: "cloze"}
_SCHEDULE = re.compile(r"<!--SR:.*?-->")


def read(text: str, options: dict[str, Any]) -> list[CardItem]:
    note = split_sections(text, "N.md", "N")
    diagnostics: list[Diagnostic] = []
    read_note_cards(note, sr_syntax(options), diagnostics)
    return [item for section in note.sections for item in section.items]


def plain(text: str) -> str:
    """Text as the plugin compares it: lines without trailing blanks, no blank ends."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def sides(kind: str, text: str, options: dict[str, Any]) -> tuple[str, str]:
    """The question and answer the plugin makes of a card's text: split at its separator,
    without the schedule and without a deck tag opening the question."""
    lines = [_SCHEDULE.sub("", line) for line in text.split("\n")
             if not line.startswith("> [!sr|card-metadata]")]
    text = "\n".join(line for line in lines if line.strip() != ">")
    if kind in (SL, SLR):
        sep = options["singleLineCardSeparator" if kind == SL else
                      "singleLineReversedCardSeparator"]
        front, _, back = text.partition(sep)
    else:
        sep = options["multilineCardSeparator" if kind == ML else
                      "multilineReversedCardSeparator"]
        rows = text.split("\n")
        at = next(i for i, row in enumerate(rows) if row.strip() == sep)
        front, back = "\n".join(rows[:at]), "\n".join(rows[at + 1:])
    front = re.sub(r"^\s*#flashcards[\w/-]*\s*", "", front)
    return plain(front), plain(back)


@pytest.mark.parametrize("name,text,options,expected", CASES, ids=[c[0] for c in CASES])
def test_spaced_repetition_parser_expectation(name: str, text: str,
                                               options: dict[str, Any] | None,
                                               expected: list[tuple[Any, ...]]) -> None:
    options = options or DEFAULT
    items = read(text, options)
    got = [(item.kind, item.line - 1, (item.last_line or item.line) - 1) for item in items]
    assert got == [(KINDS[card[0]], card[2], card[3]) for card in expected]
    for item, card in zip(items, expected, strict=True):
        if card[0] == CLOZE:
            assert (plain(item.front), item.back) == (card[4], "")
        else:
            assert (plain(item.front), plain(item.back)) == sides(card[0], card[1], options)
