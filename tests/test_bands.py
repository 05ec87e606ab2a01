"""A screenshot too wide for a column spans the page as a band at the top of a printed page
(the bottom of the first), and the columns flow on around it: no column is left empty, no text
runs under it, whole or in chunks or fitted to pages, and the bytes are the same every time."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageDraw

from exporter.app.pipeline import Config, export
from exporter.core.config import SheetOptions
from exporter.sheet import sheet_chunks

from . import pdffill
from .conftest import write_note

WORDS = ["the", "service", "stores", "items", "in", "tables", "partitioned", "by", "key",
         "replicates", "them", "across", "zones", "for", "durability", "while", "reads"]
OPTIONS = SheetOptions(title="", source="", date=dt.date(2026, 1, 1))


def _vault(root: Path, notes: int = 6) -> Path:
    """Notes of three sections of text, the second with a 1800x500 screenshot of its own in a
    paragraph between two others (as a diagram pasted into an AWS study note)."""
    rng = random.Random(1)
    (root / "assets").mkdir(parents=True, exist_ok=True)
    for n in range(notes):
        image = Image.new("RGB", (1800, 500), (230, 240, 255))
        draw = ImageDraw.Draw(image)
        for k in range(8):
            draw.rectangle([50 + k * 210, 100, 200 + k * 210, 400], outline=(20, 60, 120),
                           width=4)
        image.save(root / "assets" / f"Pasted image wide{n}.png")
        body = [f"# Topic {n}"]
        for section in range(3):
            body.append(f"## Part {section}")
            body += [" ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 70))) + "."
                     for _ in range(3)]
            if section == 1:
                body += [f"![[Pasted image wide{n}.png]]", f"Below diagram {n}: " +
                         " ".join(rng.choice(WORDS) for _ in range(40)) + "."]
        write_note(root / "notes", f"Topic {n}.md", "\n\n".join(body) + "\n")
    return root


def _build(root: Path, out: str = "dist", **options: object) -> Path:
    config = Config(notes_dir=root / "notes", asset_dirs=[root / "assets"],
                    out_dir=root / out, write_anki=False, epoch=1_767_225_600,
                    **options)  # type: ignore[arg-type]
    export(config)
    return root / out / "notes.pdf"


def _overlaps(pdf_path: Path) -> list[str]:
    """Characters drawn over a screenshot."""
    found = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages):
            for image in page.images:
                for char in page.chars:
                    x = (char["x0"] + char["x1"]) / 2
                    y = (char["top"] + char["bottom"]) / 2
                    if image["x0"] < x < image["x1"] and image["top"] < y < image["bottom"]:
                        found.append(f"page {number + 1}: {char['text']!r} over an image")
    return found


def _pages(pdf_path: Path) -> tuple[int, list[str]]:
    """Pages, and the screenshots' places (page, and whether it spans the page)."""
    with pdfplumber.open(pdf_path) as pdf:
        places = [f"{number}:{'wide' if image['x1'] - image['x0'] > page.width / 2 else 'narrow'}"
                  for number, page in enumerate(pdf.pages) for image in page.images]
        return len(pdf.pages), places


def _fills(pdf_path: Path) -> list[float]:
    """Each printed page's fill but the last's: its columns' and bands' ink over its height."""
    columns = pdffill.columns(pdf_path, OPTIONS)
    last = max(c.page for c in columns)
    return [sum(c.fill for c in columns if c.page == page) / OPTIONS.resolved().columns
            for page in range(last)] if OPTIONS.resolved().columns else []


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vault's sheet, built once for the tests that only read it."""
    return _build(_vault(tmp_path_factory.mktemp("bands")))


def test_wide_screenshots_fill_their_pages(built: Path) -> None:
    pdf = built
    pages, places = _pages(pdf)
    assert len(places) == 6 and all(place.endswith("wide") for place in places)
    # Before bands each screenshot took a printed page of its own, two thirds of it empty:
    # 13 pages for this vault, 33% mean fill; now 4.
    assert pages <= 5
    assert not _overlaps(pdf)
    fills = _fills(pdf)
    assert min(fills) >= 0.75, fills
    assert sum(fills) / len(fills) >= 0.9, fills


def test_a_band_stays_near_its_place_in_the_text(built: Path) -> None:
    """Each screenshot is on the page of the paragraph that follows it in the note, or on the
    page before (a band atop a page may come before the text that leads to it)."""
    pdf = built
    with pdfplumber.open(pdf) as document:
        texts = [page.extract_text() or "" for page in document.pages]
        images = [len(page.images) for page in document.pages]
    for n in range(6):
        page = next(i for i, text in enumerate(texts) if f"diagram {n}:" in text)
        assert images[page] or (page and images[page - 1]), (n, page, images)


def test_bands_in_a_chunked_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_chunks, "EVERY", 1)
    monkeypatch.setattr(sheet_chunks, "MIN_NOTES", 3)
    monkeypatch.setattr(sheet_chunks, "WHOLE_UP_TO", 0)
    """Each chunk is laid out on its own: one with bands opens a printed page (its columns were
    shortened for its own pages' bands), so only the page before it may be short."""
    pdf = _build(_vault(tmp_path))
    pages, places = _pages(pdf)
    assert len(places) == 6 and all(place.endswith("wide") for place in places)
    assert not _overlaps(pdf)
    fills = _fills(pdf)
    banded = [fill for page, fill in enumerate(fills) if f"{page}:wide" in places]
    assert banded and min(banded) >= 0.75, fills
    assert pages <= 4 + 2  # two chunks: at most one short page before each but the first
    again = _build(tmp_path, out="again")
    assert again.read_bytes() == pdf.read_bytes()


def test_bands_when_fitting_to_pages(tmp_path: Path) -> None:
    pdf = _build(_vault(tmp_path), pages=3)
    pages, places = _pages(pdf)
    assert pages == 3
    assert len(places) == 6
    assert not _overlaps(pdf)


def test_a_block_too_tall_for_a_band_keeps_a_page_of_its_own(tmp_path: Path) -> None:
    """A table wider than a column and taller than half the page is no band: it flows, on a
    printed page of its own, as before bands."""
    root = _vault(tmp_path, notes=1)
    header = "| " + " | ".join(f"Column{i}" for i in range(10)) + " |"
    rows = "\n".join("| " + " | ".join(f"r{r}c{i} with some words" for i in range(10)) + " |"
                     for r in range(40))
    write_note(root / "notes", "Wide table.md",
               f"# Limits\n\n{header}\n|{'---|' * 10}\n{rows}\n\nAfter the table.\n")
    pdf = _build(root)
    assert not _overlaps(pdf)
    with pdfplumber.open(pdf) as document:
        texts = [page.extract_text() or "" for page in document.pages]
    page = next(i for i, text in enumerate(texts) if "Column0" in text)
    assert "Topic 0" not in texts[page] and "After the table" not in texts[page]


def test_the_same_bytes_twice(built: Path) -> None:
    again = _build(built.parents[1], out="again")
    assert again.read_bytes() == built.read_bytes()
