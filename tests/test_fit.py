"""``--pages N``: the largest font that fits N pages, read back from the PDF; a sheet that cannot
fit leaves the earlier outputs alone and says how many pages it needs."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.sheet import fit

from .conftest import write_note


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": "1767225600"})
    return result.exit_code, result.output


def body_size(pdf_path: Path) -> float:
    """The font size most of the sheet's glyphs are set in."""
    with pdfplumber.open(pdf_path) as pdf:
        sizes = Counter(round(c["size"], 1) for page in pdf.pages for c in page.chars)
    return float(sizes.most_common(1)[0][0])


def pages(pdf_path: Path) -> int:
    with pdfplumber.open(pdf_path) as pdf:
        return len(pdf.pages)


def _dense(folder: Path) -> Path:
    """A note that takes four pages at the cheat sheet's 7.8 pt and three at a smaller size."""
    parts = [f"# Topic {i}\n" + "\n".join(
        f"- fact {j} about topic {i}: a longer line of ordinary revision text that wraps onto a "
        "second line in a column of the sheet, and then some" for j in range(12))
        for i in range(18)]
    write_note(folder, "Many.md", "\n\n".join(parts) + "\n")
    return folder


def test_the_sample_fits_two_pages(sample: Path) -> None:
    out = sample / "dist"
    code, output = run("build", str(sample / "notes"), "--assets", str(sample / "assets"),
                       "--out", str(out), "--no-anki", "--pages", "2")
    assert code == 0, output
    assert "fitted to 2 pages at 7.8 pt" in output  # it fits at the cheat sheet's own size
    pdf = out / "notes.pdf"
    assert pages(pdf) == 2
    assert body_size(pdf) == 7.8


def test_a_longer_sheet_gets_the_largest_font_that_fits(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    notes = _dense(tmp_path / "notes")
    caplog.set_level(logging.DEBUG, logger="exporter.sheet.flow")
    code, _ = run("build", str(notes), "--out", str(tmp_path / "free"), "--no-anki")
    assert code == 0
    assert pages(tmp_path / "free" / "notes.pdf") == 4
    caplog.clear()
    code, output = run("build", str(notes), "--out", str(tmp_path / "fit"), "--no-anki",
                       "--pages", "3")
    assert code == 0, output
    pdf = tmp_path / "fit" / "notes.pdf"
    assert pages(pdf) == 3
    chosen = body_size(pdf)
    assert 6 <= chosen < 7.8
    assert f"fitted to 3 pages at {chosen:g} pt" in output
    layouts = [r for r in caplog.records if r.getMessage().startswith("layout pass")]
    assert 2 <= len(layouts) <= fit.MAX_LAYOUTS


def test_pages_in_the_config_file(tmp_path: Path) -> None:
    notes = _dense(tmp_path / "notes")
    (notes / "notes-export.toml").write_text("pages = 3\nmin_font_size = 6.5\n")
    code, output = run("build", str(notes), "--out", str(tmp_path / "dist"), "--no-anki")
    assert code == 0, output
    assert pages(tmp_path / "dist" / "notes.pdf") == 3
    assert 6.5 <= body_size(tmp_path / "dist" / "notes.pdf") < 7.8


def test_a_sheet_that_cannot_fit_writes_nothing_and_says_what_it_needs(tmp_path: Path) -> None:
    notes = _dense(tmp_path / "notes")
    out = tmp_path / "dist"
    code, _ = run("build", str(notes), "--out", str(out))
    assert code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {"notes.pdf", "notes.apkg"} <= set(before)
    write_note(notes, "More.md", "# More\n- one more fact that changes the deck\n")
    code, output = run("build", str(notes), "--out", str(out), "--pages", "1")
    assert code == 1
    assert "does not fit 1 page: it needs 3 pages at 6 pt" in output
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # neither the PDF nor the deck nor the state file changed
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_min_font_size_is_the_floor(tmp_path: Path) -> None:
    notes = _dense(tmp_path / "notes")
    code, output = run("build", str(notes), "--out", str(tmp_path / "dist"), "--no-anki",
                       "--pages", "3", "--min-font-size", "7.5")
    assert code == 1
    assert "it needs 4 pages at 7.5 pt, the smallest allowed" in output


def test_the_search_goes_straight_to_the_floor_when_the_estimate_is_below_it() -> None:
    first = fit.Trial(7.8, 4, 10.0)
    assert fit.next_font([first], 1, 3, 7.8, 6.0) == 6.0
    # fitted at 7.8 already: no other layout
    assert fit.next_font([fit.Trial(7.8, 2, 5.0)], 2, 3, 7.8, 6.0) is None
    # the floor did not fit: the search is over, and says so
    trials = [first, fit.Trial(6.0, 2, 6.5)]
    assert fit.next_font(trials, 1, 3, 7.8, 6.0) is None
    assert "needs 2 pages at 6 pt" in str(fit.failure(trials, 1, 6.0))


def test_the_search_never_takes_more_than_three_layouts() -> None:
    trials = [fit.Trial(7.8, 4, 9.6)]
    while (font := fit.next_font(trials, 3, 3, 7.8, 6.0)) is not None:
        demand = 9.6 * font / 7.8  # content shrinking linearly: the worst case for the guess
        trials.append(fit.Trial(font, 3 if demand <= 9 else 4, demand))
    assert len(trials) <= fit.MAX_LAYOUTS
    fits = [t.font for t in trials if t.pages <= 3]
    assert fits and 6.0 <= max(fits) < 7.8


def test_a_wide_table_counts_against_the_three_layouts(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    notes = _dense(tmp_path / "notes")
    header = "| " + " | ".join(f"Column{i}" for i in range(10)) + " |"
    row = "| " + " | ".join(f"cell{i} with some words" for i in range(10)) + " |"
    write_note(notes, "Wide.md", f"# Wide\n{header}\n|{'---|' * 10}\n{row}\n")
    caplog.set_level(logging.DEBUG, logger="exporter.sheet.flow")
    code, output = run("build", str(notes), "--out", str(tmp_path / "dist"), "--no-anki",
                       "--pages", "4")
    assert code == 0, output
    assert "fitted to 4 pages" in output
    assert pages(tmp_path / "dist" / "notes.pdf") == 4
    layouts = [r for r in caplog.records if r.getMessage().startswith("layout pass")]
    assert len(layouts) <= fit.MAX_LAYOUTS
