"""At a glance as a student would write it: whole summaries (two lines, cut only at a clause
boundary when the sentence is long), no row repeating its group's name, and on every row the
printed page it points to, also on a sheet fitted to pages and on a chunked sheet."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from exporter.app.pipeline import Config, export
from exporter.cli import main
from exporter.core.config import SheetOptions
from exporter.core.model import Note, Section, Vault
from exporter.sheet import glance, sheet_chunks

from .conftest import CORPUS, write_note
from .test_sheet_chunks import _vault

LINE = 42.0  # characters on a summary's line (the cheat sheet's is about this)


def _section(heading: str, anchor: str, text: str) -> Section:
    return Section(heading, 1, (heading,), 1, anchor, html=f"<ul><li>{text}</li></ul>")


def _table_rows(found: list[glance.Row]) -> list[tuple[str, str]]:
    html = glance.table(found, LINE)
    cells = re.findall(r"<tr[^>]*><th[^>]*>(.*?)</th>(?:<td>(.*?)</td>)?<td class=\"pg\"",
                       html.split("<tbody>", 1)[1])
    return [(glance.strip_tags(term), glance.strip_tags(text)) for term, text in cells]


def test_a_summary_one_word_longer_than_a_line_wraps_whole() -> None:
    text = "virtual servers, storage, databases and networking"
    assert len(text) > LINE
    assert glance.clip(text, 2 * LINE) == text


def test_a_long_sentence_is_cut_at_a_clause_boundary() -> None:
    text = ("When performing a scan operation on a large table, the returned data is limited "
            "by the item limit in the request and by one megabyte per page of results")
    short = glance.clip(text, 2 * LINE)
    assert short == "When performing a scan operation on a large table …"
    question = "What does the acronym ACID mean in databases today — atomicity, consistency, " \
        "isolation and durability of every transaction"
    assert glance.clip(question, 2 * LINE) == \
        "What does the acronym ACID mean in databases today — atomicity, consistency …"
    formula = 'In <span class="arithmatex">\\(E = \\frac{k Q}{r^2}\\)</span>, what is k, ' \
        "and what is its value in the units that the course uses everywhere"
    assert '<span class="arithmatex">' in glance.clip(formula, 2 * LINE)  # never cut inside


def test_a_summary_that_fits_is_preferred_to_one_that_must_be_cut() -> None:
    section = Section("Questions", 1, ("Questions",), 1, "q", html=(
        "<p>" + "A question that runs on and on about many things, " * 3 + "— an answer</p>"
        "<p>What is the block size for RCU accounting — 4KB</p>"))
    assert glance.summary([section], "Questions", 2 * LINE) == \
        "What is the block size for RCU accounting — 4KB"
    assert glance.summary([section], "Questions").startswith("A question")  # no limit given


def test_no_row_repeats_its_group_name() -> None:
    one = Note("Security.md", "Security", [_section("Security", "s-s", "Keys are rotated daily.")],
               anchor="s")
    two = Note("Network.md", "Network", [
        _section("Network", "n-n", "Packets travel between hosts."),
        _section("Routing", "n-r", "Routes choose the next hop.")], anchor="n")
    three = Note("Storage.md", "Storage", [
        _section("Disks", "t-d", "Disks keep the bytes."),
        _section("Backups", "t-b", "Backups keep the old bytes.")], anchor="t")
    found = glance.rows(Vault(root=Path("."), notes=[one, two, three]), 100, LINE)
    assert [(r.anchor, r.term, r.summary, r.group) for r in found] == [
        ("s", "Security", "Keys are rotated daily.", False),  # one section: one row
        ("n", "Network", "Packets travel between hosts.", True),  # its summary on the title
        ("n-r", "Routing", "Routes choose the next hop.", False),
        ("t", "Storage", "", True),
        ("t-d", "Disks", "Disks keep the bytes.", False),
        ("t-b", "Backups", "Backups keep the old bytes.", False)]
    rows = _table_rows(found)
    assert ("Network", "Packets travel between hosts.") in rows and ("Storage", "") in rows


def test_a_two_line_row_counts_twice_in_the_budget() -> None:
    long = "a summary long enough to take a second line of the table, and more"
    rows = [glance.Row("a", "A", "short"), glance.Row("b", "B", long)]
    assert glance.cost(rows, LINE) == 3 and glance.cost(rows, 0) == 2


def test_formulas_in_a_summary_are_set_at_the_tables_size() -> None:
    section = Section("E", 1, ("E",), 1, "e", html=(
        '<p>The field is <span class="arithmatex">\\(\\huge E = k Q\\)</span> everywhere.</p>'))
    assert "huge" not in glance.summary([section], "E")


# --- page numbers, read back from the PDF -----------------------------------------------------

def _numbers(html: str) -> dict[str, int]:
    """Each row's anchor and the page number the HTML says it shows."""
    table = html.split('<table class="glance">', 1)[1].split("</table>", 1)[0]
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r'<td class="pg" data-to="([^"]+)">(\d*)</td>', table)
            if m.group(2)}


def _destinations(pdf: Path) -> dict[str, int]:
    reader = PdfReader(pdf)
    return {str(name): reader.get_destination_page_number(dest) + 1
            for name, dest in reader.named_destinations.items()}


def _printed_numbers(pdf: Path) -> list[int]:
    """The digits printed at the right edge of At a glance's table, in reading order."""
    found = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            words = page.extract_words()
            if not any(w["text"] == "p." for w in words):
                continue
            heads = [w for w in words if w["text"] == "p."]
            for head in heads:  # the page column of each column the table takes
                found += [int(w["text"]) for w in sorted(words, key=lambda w: w["top"])
                          if w["text"].isdigit() and abs(w["x1"] - head["x1"]) < 1.5
                          and w["top"] > head["top"]]
    return found


def _check_numbers(html: str, pdf: Path, rows: int) -> None:
    numbers = _numbers(html)
    assert len(numbers) == rows  # every row has its page
    destinations = _destinations(pdf)
    assert {a: destinations[a] for a in numbers} == numbers  # the printed page of its target
    assert _printed_numbers(pdf) == [int(n) for n in re.findall(
        r'<td class="pg" data-to="[^"]+">(\d+)</td>', html)]  # printed, in the PDF


def _build(notes: Path, out: Path, *args: str) -> tuple[str, Path]:
    result = CliRunner().invoke(main, ["build", str(notes), "--out", str(out), "--no-anki",
                                       "--html", *args],
                                env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert result.exit_code == 0, result.output
    pdf = next(out.glob("*.pdf"))
    return pdf.with_suffix(".html").read_text(encoding="utf-8"), pdf


def test_every_row_shows_the_printed_page_it_points_to(sample: Path) -> None:
    html, pdf = _build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"))
    _check_numbers(html, pdf, 8)
    assert set(_numbers(html).values()) == {1, 2}  # the sample's sections span both pages
    assert " …</td>" not in html  # every summary whole


def test_page_numbers_on_a_sheet_fitted_to_pages(sample: Path) -> None:
    html, pdf = _build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"),
                       "--pages", "2", "--font-size", "11")  # shrunk to fit: laid out again
    assert 'name="notes-export-fit"' in html
    _check_numbers(html, pdf, 8)
    assert set(_numbers(html).values()) == {1, 2}


def test_page_numbers_on_a_chunked_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_chunks, "EVERY", 1)  # chunks of three notes
    monkeypatch.setattr(sheet_chunks, "MIN_NOTES", 3)
    monkeypatch.setattr(sheet_chunks, "WHOLE_UP_TO", 0)
    root = _vault(tmp_path)
    said: list[tuple[str, int, int]] = []
    config = Config(notes_dir=root / "notes", asset_dirs=[root / "assets"], out_dir=root / "dist",
                    write_anki=False, write_html=True, epoch=1_767_225_600)
    export(config, lambda *line: said.append(line))
    assert ("sheet chunks laid out", 3, 3) in said  # three chunks
    pdf = root / "dist" / "notes.pdf"
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    _check_numbers(html, pdf, 9)  # one row per note: each note has one top-level section
    assert max(_numbers(html).values()) > 2  # rows point into later chunks' pages


def test_a_question_whose_answer_does_not_fit_is_shown_whole_without_it() -> None:
    section = Section("Questions", 1, ("Questions",), 1, "q", html=(
        "<p>In terms of the two foci of an ellipse, define an ellipse — It can be defined as "
        "the set of all points in a plane such that the sum of the distances is constant</p>"))
    assert glance.summary([section], "Questions", 2 * LINE) == \
        "In terms of the two foci of an ellipse, define an ellipse"


def test_a_summary_that_fits_three_lines_takes_them_rather_than_be_cut() -> None:
    text = ("On an electric field diagram, what is one way that the relative field strength "
            "at different parts is represented")
    assert 2 * LINE < len(text) <= 3 * LINE
    section = Section("Questions", 1, ("Questions",), 1, "q",
                      html=f"<p>{text} — By the length of the arrow</p>")
    assert glance.summary([section], "Questions", 2 * LINE) == text
    row = glance.Row("questions", "Questions", text)
    assert glance.clip(text, glance.room(row, LINE)) == text
    assert glance.cost([row], LINE) == 3


Line = tuple[float, tuple[object, ...]]


def _last_line(box: object, chain: tuple[object, ...] = ()) -> Line | None:
    """The lowest line or image of a laid-out box and the boxes that hold it."""
    best = None
    if box.is_ink:  # type: ignore[attr-defined]
        best = (box.top + box.border_height, (*chain, box))  # type: ignore[attr-defined]
    for child in box.children:  # type: ignore[attr-defined]
        if not child.is_margin:
            found = _last_line(child, (*chain, box))
            if found and (best is None or found[0] >= best[0] - 0.01):
                best = found
    return best


def _topics(root: Path) -> Path:
    """Forty notes of four sections: headings and At a glance groups over many columns."""
    for n in range(40):
        sections = "\n\n".join(f"## Part {k} of topic {n}\n\nA line about part {k}: " +
                               "words that fill the column " * (6 + (n * k) % 9)
                               for k in range(4))
        write_note(root / "notes", f"Topic {n}.md", f"# Topic {n}\n\n{sections}\n")
    return root / "notes"


@pytest.mark.parametrize("vault", ["topics", "sr-demo-vault", "kepano-vault",
                                   "flashcards-plugin-vault"])
def test_no_heading_or_group_row_ends_a_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               vault: str) -> None:
    """A column never ends with a note's title, a heading or an At a glance group row whose
    content goes on in the next column (they keep with their first line): on forty notes of
    ours and on the shared vaults."""
    from exporter.sheet import columns as sheet_layout
    from exporter.sheet import weasy

    notes = _topics(tmp_path) if vault == "topics" else CORPUS.parent / vault
    if not notes.is_dir():
        pytest.skip(f"the shared corpus {vault} is not here")
    seen: list[list[weasy.Page]] = []
    impose = sheet_layout.impose

    def spy(frame: weasy.Document, sheets: list[sheet_layout.Sheet], g: object,
            over: object = None) -> list[weasy.Page]:
        seen.extend(sheet.columns for sheet in sheets)
        return impose(frame, sheets, g, over)  # type: ignore[arg-type]

    monkeypatch.setattr(sheet_layout, "impose", spy)
    result = CliRunner().invoke(main, ["build", str(notes), "-o", str(tmp_path / "dist"),
                                       "--no-anki"])
    assert result.exit_code == 0, result.output
    columns = [page for printed in seen for page in printed][:-1]
    crossed = 0  # columns that At a glance goes on from
    for number, page in enumerate(columns):
        found = _last_line(weasy.page_box(page))
        assert found is not None
        holders = found[1]
        tags = {box.tag for box in holders}  # type: ignore[attr-defined]
        classes = {c for box in holders for c in (box.attr("class") or "").split()}  # type: ignore[attr-defined]
        assert not tags & {"h2", "h3", "h4"}, number
        assert not ("tr" in tags and "group" in classes), number
        crossed += "glance" in classes
    assert crossed >= 1 or vault != "topics"


def test_no_heading_ends_a_column_of_a_chunked_sheet(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The same in chunks: each chunk's column pages keep their headings with their text."""
    from . import pdffill

    monkeypatch.setattr(sheet_chunks, "EVERY", 1)
    monkeypatch.setattr(sheet_chunks, "MIN_NOTES", 8)
    monkeypatch.setattr(sheet_chunks, "WHOLE_UP_TO", 0)
    notes = _topics(tmp_path)
    result = CliRunner().invoke(main, ["build", str(notes), "-o", str(tmp_path / "dist"),
                                       "--no-anki", "-v"])
    assert result.exit_code == 0, result.output
    pdf = next((tmp_path / "dist").glob("*.pdf"))
    options = SheetOptions(title="", source="", date=dt.date(2026, 1, 1))
    assert len(PdfReader(pdf).pages) > 4
    assert pdffill.stranded_headings(pdf, options) == []
