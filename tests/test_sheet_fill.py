"""Full columns, read back from the PDF: the fill of every column but the last page's, on the
sample and on the real vaults; long unbreakable text inside its column; very wide screenshots;
At a glance; header and footer."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from exporter.cli import main
from exporter.core.config import SheetOptions
from exporter.core.model import Note, Section, Vault
from exporter.sheet import glance
from exporter.sheet.sheet_html import geometry

from .conftest import CORPUS, write_note
from .pdffill import (
    PX,
    Column,
    columns,
    counted,
    crossings,
    mean_fill,
    stranded_headings,
    worst_page,
)

OPTIONS = SheetOptions(title="", source="", date=dt.date(2026, 1, 1))
CORPORA = CORPUS.parent
FULL = 0.92


def build(notes: Path, out: Path, *args: str, codes: tuple[int, ...] = (0,)) -> Path:
    result = CliRunner().invoke(main, ["build", str(notes), "--out", str(out), "--no-anki",
                                       *args], env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert result.exit_code in codes, result.output
    return next(out.glob("*.pdf"))


def test_the_sample_fills_its_columns(sample: Path) -> None:
    pdf = build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"))
    fill, fills = mean_fill(pdf, OPTIONS)
    assert fill >= FULL, (fills, worst_page(pdf, OPTIONS))
    assert not crossings(pdf, OPTIONS)
    assert stranded_headings(pdf, OPTIONS) == []
    with pdfplumber.open(pdf) as document:
        assert len(document.pages) == 2  # the third page that held one picture is gone
        widths = [image["width"] for page in document.pages for image in page.images]
    column = geometry(OPTIONS).column_w * PX
    assert len(widths) == 11
    assert all(w <= column + 0.5 for w in widths)


@pytest.mark.parametrize("name", ["sr-demo-vault", "flashcards-plugin-vault", "kepano-vault"])
def test_real_vaults_fill_their_columns(name: str, tmp_path: Path) -> None:
    notes = CORPORA / name
    if not notes.is_dir():
        pytest.skip(f"the shared corpus {name} is not here")
    pdf = build(notes, tmp_path / "dist", codes=(0, 1))  # kepano's templates are errors
    fill, fills = mean_fill(pdf, OPTIONS)
    assert fill >= FULL, (fills, worst_page(pdf, OPTIONS))
    assert not crossings(pdf, OPTIONS)
    assert stranded_headings(pdf, OPTIONS) == []


def test_long_unbreakable_text_stays_in_its_column(tmp_path: Path) -> None:
    blob = base64.b64encode(bytes(range(256)) * 8).decode()[:2400]
    url = "https://example.com/" + "a1b2c3d4e5" * 298
    assert len(blob) == 2400 and len(url) == 3000
    write_note(tmp_path / "notes", "Long.md",
               f"# Blobs\nA paragraph before.\n\n```\n{blob}\n```\n\nInline: {blob}\n\n"
               f"- an item with `{blob[:800]}`\n\n# Links\nBare {url}\n\n[a link]({url})\n\n"
               f"| key | value |\n| --- | --- |\n| url | {url[:1500]} |\n")
    pdf = build(tmp_path / "notes", tmp_path / "dist")
    assert crossings(pdf, OPTIONS) == []
    g = geometry(OPTIONS)
    with pdfplumber.open(pdf) as document:  # column by column, in reading order
        text = "".join(page.crop(((g.column_x(i) - 2) * PX, 0, (g.column_x(i) + g.column_w + 2)
                                  * PX, page.height)).extract_text() or ""
                       for page in document.pages for i in range(g.columns))
    assert "↪" in text  # the code line is wrapped, and says so
    compact = "".join(text.replace("↪", "").replace("\u200b", "").split())
    assert blob[:600] in compact  # nothing clipped: wrapped


def test_a_very_wide_screenshot_gets_the_page_width(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    image = Image.new("RGB", (2400, 400), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, 2400, 200):
        draw.rectangle([x + 10, 50, x + 190, 350], outline="navy", width=4)
    image.save(notes / "wide.png")
    write_note(notes, "W.md", "# Before\n- text\n\n# Pipeline\n![[wide.png]]\n- the steps\n\n"
               "# After\n- more text\n")
    pdf = build(notes, tmp_path / "dist")
    with pdfplumber.open(pdf) as document:
        images = [i for page in document.pages for i in page.images]
    assert len(images) == 1
    assert images[0]["width"] > 2 * geometry(OPTIONS).column_w * PX


def test_at_a_glance_rows_are_summaries_within_a_tenth(sample: Path) -> None:
    pdf = build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"),
                "--html")
    html = (sample / "dist" / "notes.html").read_text(encoding="utf-8")
    table = html.split('<table class="glance">', 1)[1].split("</table>", 1)[0]
    assert "<td>Elastic Container Service</td>" in table  # ECS = Elastic Container Service
    assert "<td>launch Docker containers on AWS</td>" in table  # Fargate's first sentence
    assert "Easy Pricing" not in table  # a label over a list is no summary
    assert ":</td>" not in table
    with pdfplumber.open(pdf) as document:
        page = document.pages[0]
        words = page.extract_words()
        top = next(w["top"] for w in words if w["text"] == "glance")
        bottom = next(w["top"] for w in words if w["text"] == "Lightsail")
        sheet = sum(c.fill for c in columns(pdf, OPTIONS)) * geometry(OPTIONS).column_h * PX
    assert (bottom - top) <= sheet * 0.1


def test_no_glance(sample: Path) -> None:
    pdf = build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"),
                "--no-glance")
    with pdfplumber.open(pdf) as document:
        assert "At a glance" not in (document.pages[0].extract_text() or "")


def test_header_and_footer(sample: Path) -> None:
    pdf = build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"),
                "--header", "{title} | {date}", "--footer",
                "Jane Doe, exam 2 | page {page} of {pages}")
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, start=1):
            head = page.crop((0, 0, page.width, 20)).extract_text() or ""
            foot = page.crop((0, page.height - 28, page.width, page.height)).extract_text() or ""
            assert "Notes" in head and "2026-01-01" in head
            assert "Jane Doe, exam 2" in foot
            assert f"page {number} of {len(document.pages)}" in foot


def test_pages_look_right(sample: Path, tmp_path: Path) -> None:
    """Rendered by poppler (not our reader): the sheet has two pages with ink in every column."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pdf = build(sample / "notes", sample / "dist", "--assets", str(sample / "assets"),
                "--pages", "2")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == 2
    g = geometry(OPTIONS)
    with Image.open(pngs[0]) as page:
        gray = page.convert("L")
        scale = page.width / g.page_w
        for index in range(g.columns):
            x0 = int(g.column_x(index) * scale)
            strip = gray.crop((x0, int(g.top * scale), x0 + int(g.column_w * scale),
                               int((g.page_h - g.bottom) * scale)))
            inked = [y for y in range(strip.height)
                     if strip.crop((0, y, strip.width, y + 1)).getextrema()[0] < 200]
            assert inked and max(inked) > strip.height * 0.8, index


def test_at_a_glance_falls_back_to_a_row_per_note() -> None:
    def note(i: int) -> Note:
        sections = [Section(f"Part {j}", 1, (f"Part {j}",), 1, f"n{i}-{j}",
                            html=f"<ul><li>Part {j} of note {i} says something.</li></ul>")
                    for j in range(3)]
        return Note(f"n{i}.md", f"Note {i}", sections, anchor=f"n{i}")

    vault = Vault(root=Path("."), notes=[note(i) for i in range(6)])
    assert len(glance.rows(vault, 100)) == 6 * 4  # a title row and three sections per note
    assert [r.term for r in glance.rows(vault, 6)] == [f"Note {i}" for i in range(6)]
    assert glance.rows(vault, 6)[0].summary == "Part 0 of note 0 says something."
    short = glance.rows(vault, 4)
    assert [r.term for r in short[:3]] == ["Note 0", "Note 1", "Note 2"]
    assert short[3].summary == "… and 3 more notes"


def test_summaries_skip_lead_ins_labels_and_link_lists() -> None:
    lead = Section("Setup", 1, ("Setup",), 1, "s", html=(
        '<p>The steps are:</p><ul><li><a class="internal" href="#a">Install</a>, '
        '<a class="internal" href="#b">Configure</a></li><li>Benefits<ul><li>x</li></ul></li>'
        "<li>Run the installer first. Then reboot.</li></ul>"))
    assert glance.summary([lead], "Setup") == "Run the installer first."
    term = Section("API", 1, ("API",), 1, "a", html="<p>Intro text here.</p>"
                   "<p>API::Application Programming Interface</p>")
    assert glance.summary([term], "API") == "Application Programming Interface"


def test_the_fill_measure_counts_empty_columns_as_empty() -> None:
    def column(page: int, index: int, fill: float | None, wide: bool = False) -> Column:
        return Column(page, index, 0, 1, None if fill is None else fill, fill or 0.0, wide)

    sheet = [column(0, 0, 0.9), column(0, 1, None), column(0, 2, 0.95),  # an empty column
             column(1, 0, 1.0, wide=True), column(1, 1, 0.0, wide=True),
             column(1, 2, None, wide=True),  # a page of one wide block
             column(2, 0, 0.97), column(2, 1, 0.3), column(2, 2, None)]  # the sheet's end
    assert [(c.page, c.index) for c in counted(sheet)] == [(0, 0), (0, 1), (0, 2), (2, 0)]
    assert [c.fill for c in counted(sheet)] == [0.9, 0.0, 0.95, 0.97]


def test_a_heading_at_the_bottom_of_a_column_is_found(tmp_path: Path) -> None:
    """A page drawn by hand: column 1 ends with a heading, column 2 with a line of text."""
    from exporter.sheet import weasy
    from exporter.sheet.sheet_html import MEDIA_BASE

    g = geometry(OPTIONS)
    font = 'font-family: "DejaVu Sans Condensed"; font-size: 7.8pt'

    def at(x: float, y: float, text: str, style: str = "") -> str:
        return f'<div style="position:absolute;left:{x}px;top:{y}px;{style}">{text}</div>'

    parts = [at(g.column_x(i) - g.left, y, "body text line") for i in range(2)
             for y in range(0, 300, 12)]
    parts.append(at(0, 300, "Stranded heading", "font-weight:bold;font-size:1.15em"))
    rules = "".join(f'<div style="position:absolute;left:{g.column_x(i) - g.left - 5}px;top:0;'
                    f'height:{g.column_h}px;border-left:0.4pt solid #ccc"></div>'
                    for i in (1, 2))
    source = (f"<html><head><style>@page {{ size: {g.page_w}px {g.page_h}px; margin: {g.top}px "
              f"{g.right}px {g.bottom}px {g.left}px }} body {{ margin: 0; {font} }}</style>"
              f'</head><body><div style="position:relative">{rules}{"".join(parts)}</div>'
              "</body></html>")
    pdf = tmp_path / "hand.pdf"
    weasy.write_pdf(weasy.render(source, MEDIA_BASE, lambda url: None,  # type: ignore[arg-type,return-value]
                                 weasy.new_fonts()), pdf)
    assert stranded_headings(pdf, OPTIONS) == ["page 1, column 1: 'Strandedheading'"]
    assert worst_page(pdf, OPTIONS)[0] == 1
