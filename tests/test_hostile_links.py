"""Unclosed wikilinks and their kin (issue 17): ``[[``, ``![[Note#^``, ``[[a|`` … repeated over
100 KB, on one line or over many, in tables, callouts and headings, are shown as written, and
the work of checking and rendering them grows linearly.

Work is counted, not timed: the Python calls made (cProfile's counts, the same on a loaded
machine as on an idle one) for 100 KB of an input and for 25 KB of it. Linear work gives a
ratio near 4; each ``[`` scanning to the end of its paragraph, as Python-Markdown's link
patterns did, gives 16.
"""

from __future__ import annotations

import cProfile
import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from exporter.app.pipeline import Config, Result, check
from exporter.core.config import SheetOptions
from exporter.render.brackets import BracketScan
from exporter.render.locate import Finder
from exporter.sheet.sheet_html import build_html

from .conftest import EPOCH, write_note

SIZE = 100_000
LINE = 100  # characters per line when an input is split over lines
# (name, repeated unit, where it is written)
KINDS = [
    ("unclosed_link", "[[", "text"),
    ("unclosed_embed", "![[", "text"),
    ("unclosed_block_embed", "![[Note#^", "text"),
    ("unclosed_heading_link", "[[Note#", "text"),
    ("unclosed_own_block_link", "[[#^", "text"),
    ("unclosed_alias", "[[a|", "text"),
    ("closers_without_openers", "]]", "text"),
    ("links_in_table_cells", "[[ ![[Note#^", "table"),
    ("links_in_a_callout", "[[a|![[Note#^", "callout"),
    ("links_in_a_heading", "[[", "heading"),
    ("missing_own_blocks", "[[#^x]] ", "text"),
    ("embeds_of_a_real_note", "![[Note]] ", "text"),
    ("real_block_links", "[[Note#^b1]] ", "text"),
]
MIX = "[[a|![[Note#^[[#^]] x]]![[[[Note#"


def _note(unit: str, where: str, size: int, split: bool, closed: bool = False) -> str:
    """About ``size`` characters of ``unit`` repeated, on one line or over lines of ``LINE``."""
    per_line = max(1, LINE // len(unit)) if split else size // len(unit)
    line = unit * per_line + ("]]" if closed else "")
    lines = [line] * max(1, size // len(line))
    if where == "table":
        return "# T\n| a | b |\n|---|---|\n" + "".join(f"| {row} | x |\n" for row in lines)
    if where == "callout":
        return "# T\n> [!note] [[ title\n" + "".join(f"> {row}\n" for row in lines)
    if where == "heading":
        return "".join(f"# T {row}\ntext\n" for row in lines)
    # a line of its own text: a section of only links to notes makes no card (toc.py)
    return "# T\n" + "\n".join(lines) + "\nown text\n"


def _check_and_sheet(notes: Path) -> tuple[Result, str]:
    result = check(Config(notes_dir=notes, asset_dirs=[], out_dir=notes.parent / "dist",
                          deck_name="H", epoch=EPOCH))
    sheet = build_html(result.vault, SheetOptions(title="H", source="s",
                                                  date=dt.date(2026, 1, 1)))
    return result, sheet


def _calls(run: Callable[[], tuple[Result, str]]) -> tuple[int, tuple[Result, str]]:
    """How many Python calls ``run`` makes, and what it returns."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        out = run()
    finally:
        profile.disable()
    return sum(entry.callcount for entry in profile.getstats()), out


def _vault(folder: Path, text: str) -> Path:
    notes = folder / "notes"
    write_note(notes, "h.md", text)
    write_note(notes, "Note.md", "# Note\nnote text ^b1\n")
    return notes


def _work(tmp_path: Path, texts: dict[str, str]) -> dict[str, tuple[int, Result, str]]:
    """Calls made for each text beyond those a one-line note takes (set-up, the other note)."""
    _calls(partial(_check_and_sheet, _vault(tmp_path / "warm", "# T\nx\n")))  # compiles regexes
    base, _ = _calls(partial(_check_and_sheet, _vault(tmp_path / "base", "# T\nx\n")))
    found = {}
    for name, text in texts.items():
        calls, (result, sheet) = _calls(partial(_check_and_sheet, _vault(tmp_path / name, text)))
        found[name] = (calls - base, result, sheet)
    return found


def _assert_linear(small: int, large: int) -> None:
    assert large < 6 * small, f"{large:,} calls for 100 KB, {small:,} for 25 KB: not linear"
    assert large < 60 * SIZE, f"{large:,} calls for {SIZE:,} characters"


@pytest.mark.parametrize("split", [False, True], ids=["one_line", "over_lines"])
@pytest.mark.parametrize(("name", "unit", "where"), KINDS, ids=[k[0] for k in KINDS])
def test_100kb_of_link_syntax_is_shown_as_written_in_linear_work(
        tmp_path: Path, name: str, unit: str, where: str, split: bool) -> None:
    work = _work(tmp_path, {"small": _note(unit, where, SIZE // 4, split),
                            "large": _note(unit, where, SIZE, split)})
    _assert_linear(work["small"][0], work["large"][0])
    _, result, sheet = work["large"]
    text = _note(unit, where, SIZE, split)
    written = text if where == "heading" else text.split("\n", 1)[1]  # not the "# T" line
    shown = "".join(card.front + card.back for card in result.cards)
    literal = unit.replace("![[Note]] ", "").replace("[[Note#^b1]] ", "").replace(
        "[[#^x]] ", "")
    if literal:  # the unclosed kinds: every one shown, on the card and on the sheet
        assert shown.count(literal) == written.count(literal)
        assert sheet.replace("\u200b", "").count(literal) >= written.count(literal)
    else:  # the closed kinds: each one a link (or an embed's link), none left as text
        assert "[[" not in shown and shown.count("</a>") + shown.count("</span>") >= \
            written.count("]]")


@pytest.mark.parametrize("split", [False, True], ids=["one_line", "over_lines"])
@pytest.mark.parametrize("closed", [False, True], ids=["unclosed", "closed_at_the_end"])
def test_a_mix_of_open_and_closed_links_renders_in_linear_work(
        tmp_path: Path, split: bool, closed: bool) -> None:
    work = _work(tmp_path, {"small": _note(MIX, "text", SIZE // 4, split, closed),
                            "large": _note(MIX, "text", SIZE, split, closed)})
    _assert_linear(work["small"][0], work["large"][0])
    _, result, sheet = work["large"]
    shown = "".join(card.back for card in result.cards)
    assert shown.count("[[a|") == _note(MIX, "text", SIZE, split, closed).count("[[a|")
    assert "[[a|" in sheet and "\x02" not in shown


def test_a_bracket_is_scanned_once_however_many_openers_precede_it() -> None:
    scan = BracketScan()
    data = "[" * 10_000 + "x"
    assert all(not scan.close(data, index)[2] for index in range(1, len(data)))
    assert scan.steps == 9_999
    nested = "[" * 5_000 + "]" * 5_000
    scan = BracketScan()
    found = [scan.close(nested, index) for index in range(1, 5_001)]
    assert found[0] == (nested[1:-1], len(nested), True) and scan.steps == len(nested) - 1


def test_a_scan_survives_an_earlier_link_becoming_a_placeholder() -> None:
    scan = BracketScan()
    data = "[a](b) [" + "[x]" * 3 + "] ["
    assert scan.close(data, 1) == ("a", 3, True)
    assert scan.close(data, 8) == ("[x]" * 3, 18, True)
    replaced = "\x02klzzwxh:0\x03" + data[6:]
    start = len(replaced) - (len(data) - 8)
    assert scan.close(replaced, start) == ("[x]" * 3, start + 10, True)
    assert scan.close(replaced, len(replaced)) == ("", len(replaced), False)
    assert scan.close("[a]", 1) == ("a", 3, True)  # another paragraph: starts afresh


def test_thousands_of_problems_on_one_line_are_placed_by_bisection() -> None:
    finder = Finder([(7, "[[#^x]]" * 5_000)])
    places = [finder.locate("[[#^x]]", "missing-block") for _ in range(5_000)]
    assert places[0] == (7, 1) and places[-1] == (7, 7 * 4_999 + 1)
    assert finder.locate("[[#^x]]", "missing-block") is None
