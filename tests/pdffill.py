"""Read a sheet back and measure how full its columns are, from pdfplumber's boxes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from exporter.sheet_html import SheetOptions, geometry

PX = 72 / 96  # PDF points per CSS pixel


@dataclass
class Column:
    """One column of one printed page: its x range and the lowest ink in it (points)."""

    page: int
    index: int
    left: float
    right: float
    bottom: float | None
    fill: float


def _objects(page: pdfplumber.page.Page) -> list[dict[str, float]]:
    """Glyphs, images and filled boxes (table backgrounds, heading bars), not the column rules."""
    found = list(page.chars) + list(page.images)
    found += [r for r in page.rects if r["height"] < page.height * 0.8]
    return found


def columns(path: Path, options: SheetOptions) -> list[Column]:
    """Every column of every printed page with its fill: ink height over column height."""
    g = geometry(options)
    top, height = g.top * PX, g.column_h * PX
    result = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            objects = [o for o in _objects(page) if o["bottom"] <= top + height + 1]
            for index in range(g.columns):
                left = g.column_x(index) * PX
                right = left + g.column_w * PX
                inside = [o["bottom"] for o in objects
                          if left - 1 <= (o["x0"] + o["x1"]) / 2 <= right + 1]
                bottom = max(inside, default=None)
                fill = 0.0 if bottom is None else (bottom - top) / height
                result.append(Column(number, index, left, right, bottom, fill))
    return result


def mean_fill(path: Path, options: SheetOptions) -> tuple[float, list[float]]:
    """Mean fill of every column but the last page's, and those fills; on a one-page sheet,
    of every column that another column with ink follows (so the measure is never empty)."""
    cols = columns(path, options)
    last = max((c.page for c in cols), default=0)
    fills = [c.fill for c in cols if c.page < last]
    if last == 0:
        inked = [c for c in cols if c.bottom is not None]
        fills = [c.fill for c in inked[:-1]]
    return (sum(fills) / len(fills) if fills else 1.0), fills


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
