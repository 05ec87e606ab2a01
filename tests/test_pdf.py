"""The cheat sheet read back: text, tables, images, page geometry, bookmarks and links."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from exporter.app.pipeline import Result
from exporter.core.config import SheetOptions
from exporter.sheet.sheet_html import geometry

from .conftest import build

A4_LANDSCAPE = (841.89, 595.28)
HEADINGS = ["ECS", "Fargate", "ECR", "Amazon EKS", "AWS Lambda", "Benefits", "Example",
            "Serverless Thumbnail creation", "Serverless CRON Job", "Pricing",
            "Amazon API Gateway", "AWS Batch", "Example", "Batch vs Lambda", "Amazon Lightsail",
            "Summary", "Lambda Summary"]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    project = tmp_path_factory.mktemp("sheet")
    shutil.copytree(Path(__file__).parents[1] / "source_notes", project / "notes")
    shutil.copytree(Path(__file__).parents[1] / "assets", project / "assets")
    result = build(project, anki=False)
    return project / "dist" / "aws-other-compute.pdf", result


def _words(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return " ".join(" ".join((page.extract_text() or "").split()) for page in pdf.pages)


def test_pages_are_a4_landscape_with_title_and_page_numbers(sheet: tuple[Path, Result]) -> None:
    path, _ = sheet
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) >= 1
        for number, page in enumerate(pdf.pages, start=1):
            assert (round(page.width, 1), round(page.height, 1)) == (841.9, 595.3)
            assert f"page {number} of {len(pdf.pages)}" in (page.extract_text() or "")
        # above the title, only the "… (cont.)" lines of columns continuing a section
        first = (pdf.pages[0].extract_text() or "").splitlines()[:2]
        assert "AWS Other Compute" in " ".join(first)
    meta = PdfReader(path).metadata
    assert meta is not None and meta.title == "AWS Other Compute"


def test_every_heading_and_table_cell_is_in_the_text(sheet: tuple[Path, Result]) -> None:
    text = _words(sheet[0])
    for heading in HEADINGS:
        assert heading in text
    for cell in ["Time limit", "no time limit", "limited runtimes", "limited temporary disk",
                 "Instance Store for disk space", "managed service that relies on EC2",
                 "Serverless"]:
        assert cell in text
    assert "[[" not in text and "![[" not in text
    assert "ECS = Elastic Container Service" in text


def test_images_are_embedded_scaled_and_inside_their_column(sheet: tuple[Path, Result]) -> None:
    path, _ = sheet
    g = geometry(SheetOptions(title="", source="", date=dt.date(2026, 1, 1)))
    px = 72 / 96  # PDF points per CSS pixel
    edges = [(g.column_x(i) * px, (g.column_x(i) + g.column_w) * px) for i in range(3)]
    count = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for image in page.images:
                count += 1
                assert image["x0"] >= 0 and image["x1"] <= page.width
                assert image["top"] >= 0 and image["bottom"] <= page.height
                assert any(lo - 0.5 <= image["x0"] and image["x1"] <= hi + 0.5
                           for lo, hi in edges), image
                assert image["bottom"] - image["top"] <= g.column_h * 0.24 * px + 0.5
            for char in page.chars:
                assert char["x0"] >= 0 and char["x1"] <= page.width
                assert char["top"] >= 0 and char["bottom"] <= page.height
                # every character sits inside one column: none runs into the gap or a neighbour
                if char["top"] < page.height - g.bottom * px:
                    assert any(lo - 0.5 <= char["x0"] and char["x1"] <= hi + 0.5
                               for lo, hi in edges), (char["text"], char["x0"], char["top"])
    assert count == 11


def test_bookmarks_follow_the_headings(sheet: tuple[Path, Result]) -> None:
    reader = PdfReader(sheet[0])

    def titles(items: list[object]) -> list[str]:
        out: list[str] = []
        for item in items:
            out.extend(titles(item) if isinstance(item, list) else [item.title])  # type: ignore[attr-defined]
        return out

    outline = reader.outline
    assert [o.title for o in outline if not isinstance(o, list)] == [
        "At a glance", "AWS Other Compute Services"]
    assert titles(outline) == ["At a glance", "AWS Other Compute Services", *HEADINGS]
    top = outline[2]
    assert isinstance(top, list)
    assert [o.title for o in top if not isinstance(o, list)] == [
        "ECS", "Fargate", "ECR", "Amazon EKS", "AWS Lambda", "Amazon API Gateway", "AWS Batch",
        "Amazon Lightsail", "Summary"]


def test_section_links_are_clickable_inside_the_pdf(sheet: tuple[Path, Result]) -> None:
    reader = PdfReader(sheet[0])
    internal = external = 0
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            action = annot.get("/A")
            if action is not None and action.get("/S") == "/URI":
                external += 1
            elif annot.get("/Dest") is not None or (action and action.get("/S") == "/GoTo"):
                internal += 1
    # [[#ECS]] twice, [[#Fargate]] twice, 9 rows of "At a glance"; the Lambda pricing URL
    assert internal == 4 + 9
    assert external == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_pages_render_to_png(sheet: tuple[Path, Result], tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(sheet[0]), str(tmp_path / "p")],
                   check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == len(PdfReader(sheet[0]).pages)
    assert all(p.stat().st_size > 5_000 for p in pngs)
