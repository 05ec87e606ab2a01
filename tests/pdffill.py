"""Read a sheet back and measure how full its columns are, from pdfplumber's boxes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from exporter.core.config import SheetOptions
from exporter.sheet.sheet_html import geometry

PX = 72 / 96  # PDF points per CSS pixel


@dataclass
class Column:
    """One column of one printed page: its x range and the lowest ink in it (points); a
    column on a page that one wide block takes is ``wide`` (it is no column)."""

    page: int
    index: int
    left: float
    right: float
    bottom: float | None
    fill: float
    wide: bool = False


def _objects(page: pdfplumber.page.Page) -> list[dict[str, float]]:
    """Glyphs, images and filled boxes (table backgrounds, heading bars), not the column rules."""
    found = list(page.chars) + list(page.images)
    found += [r for r in page.rects if r["height"] < page.height * 0.8]
    return found


def columns(path: Path, options: SheetOptions) -> list[Column]:
    """Every column of every printed page with its fill: ink height over column height. A
    column with nothing but the "… (cont.)" line in its top band is empty."""
    g = geometry(options)
    top, height, band = g.top * PX, g.column_h * PX, g.cap * PX
    result = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            objects = [o for o in _objects(page) if o["bottom"] <= top + height + 1]
            ruled = any(r["height"] > page.height * 0.8 for r in page.rects)
            for index in range(g.columns):
                left = g.column_x(index) * PX
                right = left + g.column_w * PX
                inside = [o["bottom"] for o in objects
                          if left - 1 <= (o["x0"] + o["x1"]) / 2 <= right + 1]
                bottom = max(inside, default=None)
                if bottom is not None and bottom <= top + band + 0.5:
                    bottom = None  # only the continuation line
                fill = 0.0 if bottom is None else (bottom - top) / height
                result.append(Column(number, index, left, right, bottom, fill,
                                     wide=g.columns > 1 and bool(objects) and not ruled))
    return result


def counted(cols: list[Column]) -> list[Column]:
    """The columns a fill measure counts: every column before the sheet's last inked one (which
    ends the sheet), empty ones as empty; pages of one wide block are no columns."""
    real = [c for c in cols if not c.wide]
    inked = [n for n, c in enumerate(real) if c.bottom is not None]
    return real[:inked[-1]] if inked else []


def mean_fill(path: Path, options: SheetOptions) -> tuple[float, list[float]]:
    """Mean fill of the counted columns (``counted``), and their fills."""
    fills = [c.fill for c in counted(columns(path, options))]
    return (sum(fills) / len(fills) if fills else 1.0), fills


def worst_page(path: Path, options: SheetOptions) -> tuple[int, float]:
    """The printed page (from 1) whose counted columns are the least full, and their mean."""
    pages: dict[int, list[float]] = {}
    for column in counted(columns(path, options)):
        pages.setdefault(column.page, []).append(column.fill)
    if not pages:
        return 0, 1.0
    page = min(pages, key=lambda p: (sum(pages[p]) / len(pages[p]), p))
    return page + 1, sum(pages[page]) / len(pages[page])


HEADING_SIZE = 1.01  # a heading's glyphs are bold and larger than the body's (d1 to d3, titles)


def stranded_headings(path: Path, options: SheetOptions) -> list[str]:
    """Headings left alone at the bottom of a column: the column's last line is a heading's
    and nothing (no line, no image) follows it there; the sheet's last column apart."""
    g = geometry(options)
    body = (options.resolved().font_size or 8)
    found = []
    with pdfplumber.open(path) as pdf:
        for column in counted(columns(path, options)):
            page = pdf.pages[column.page]
            chars = [c for c in page.chars if c["text"].strip()
                     and column.left - 1 <= (c["x0"] + c["x1"]) / 2 <= column.right + 1
                     and c["bottom"] <= (g.top + g.column_h) * PX + 1]
            images = [i["bottom"] for i in page.images
                      if column.left - 1 <= (i["x0"] + i["x1"]) / 2 <= column.right + 1]
            if not chars:
                continue
            low = max(c["bottom"] for c in chars)
            line = [c for c in chars if c["bottom"] >= low - 1]
            heading = all("Bold" in c["fontname"] and c["size"] >= body * HEADING_SIZE
                          for c in line)
            if heading and not any(b > low + 1 for b in images):
                text = "".join(c["text"] for c in sorted(line, key=lambda c: c["x0"]))
                found.append(f"page {column.page + 1}, column {column.index + 1}: {text!r}")
    return found


def crossings(path: Path, options: SheetOptions) -> list[str]:
    """Glyphs that cross a gutter between columns or leave the page's content area."""
    g = geometry(options)
    edges = [(g.column_x(i) * PX, (g.column_x(i) + g.column_w) * PX) for i in range(g.columns)]
    bad = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            # a page of columns has its column rules; a wide page (one block) has none
            ruled = any(r["height"] > page.height * 0.8 for r in page.rects)
            for c in page.chars:
                if not c["text"].strip():
                    continue  # a space has no ink (WeasyPrint 67, 68 keep a line's last one)
                where = f"page {number + 1}: {c['text']!r} at x={c['x0']:.1f}"
                if c["x0"] < g.left * PX - 1 or c["x1"] > (g.page_w - g.right) * PX + 1 \
                        or c["top"] < 0 or c["bottom"] > page.height:
                    bad.append(f"{where} leaves the page")
                elif ruled and not any(a - 1 <= c["x0"] and c["x1"] <= b + 1 for a, b in edges):
                    bad.append(f"{where} crosses a gutter")
    return bad
