"""At a glance's page numbers: the printed page each row points to, printed over its empty cell.

The table is laid out before anyone knows on which printed page a section lands (the content is
laid out on column pages, placed on printed pages afterwards, and a large sheet in chunks), so
its page cells are left empty and reserve their width. Once the column pages are placed, each
row's target anchor is on a known printed page, and its cell at a known place: a small document
of the numbers alone, one page per printed page that holds rows, is laid out and drawn over the
printed pages (sheet_layout.py for a sheet laid out whole, sheet_join.py for chunks). The table
itself is never laid out again, so nothing moves and the cost is that of a few lines of digits.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exporter.sheet.sheet_html import Geometry

if TYPE_CHECKING:
    from exporter.sheet import weasy

LINE_HEIGHT = 1.28  # sheet.css: the html element's line-height, which the table inherits
COLOR = "#374151"  # 10:1 on white, 9:1 on the table's striped rows
Cell = tuple[str, float, float, float, float]  # anchor, x, y, width, font size (CSS px)


@dataclass(frozen=True)
class Number:
    """One page number on the sheet: on which printed page it goes, where, and what it says."""

    page: int  # printed page, from 0
    x: float
    y: float
    width: float
    font: float
    text: str
    anchor: str


def cells(page: weasy.Page) -> list[Cell]:
    """The empty page cells of At a glance rows on one laid-out column page."""
    from exporter.sheet import weasy

    return [(b.attr("data-to") or "", b.content_left, b.content_top, b.width, b.font_size)
            for b in _walk(weasy.page_box(page))
            if b.tag == "td" and b.attr("data-to") and "pg" in (b.attr("class") or "").split()]


def _walk(box: weasy.Box) -> Iterator[weasy.Box]:
    yield box
    for child in box.children:
        if not child.is_margin:
            yield from _walk(child)


Placed = tuple[int, float, float, list[Cell]]  # printed page, x and y of the column page, cells


def numbers(placed: Iterable[Placed], pages: dict[str, int]) -> list[Number]:
    """Each cell's number: the printed page (from 1) of its anchor, from ``pages`` (anchor →
    printed page from 0); a cell whose anchor is on no page stays empty."""
    found = []
    for printed, dx, dy, column in placed:
        for anchor, x, y, width, font in column:
            if anchor in pages:
                found.append(Number(printed, dx + x, dy + y, width, font,
                                    str(pages[anchor] + 1), anchor))
    return found


def overlay_html(found: list[Number], g: Geometry) -> tuple[str, list[int]]:
    """The numbers as a document of printed-page-sized pages, and which printed page each of
    its pages goes on."""
    on = sorted({n.page for n in found})
    pages = []
    for page in on:
        spans = "".join(
            f'<span style="left:{n.x:.3f}px;top:{n.y:.3f}px;width:{n.width:.3f}px;'
            f'font-size:{n.font:.3f}px">{html.escape(n.text)}</span>'
            for n in found if n.page == page)
        pages.append(f'<div class="p">{spans}</div>')
    css = (f"@page {{ size: {g.page_w:.3f}px {g.page_h:.3f}px; margin: 0; }}"
           "body { margin: 0; }"
           ".p { position: relative; height: 1px; break-after: page; }"
           ".p:last-child { break-after: auto; }"
           ".p span { position: absolute; text-align: right; white-space: nowrap;"
           f' line-height: {LINE_HEIGHT}; color: {COLOR};'
           ' font-family: "DejaVu Sans Condensed", "DejaVu Sans", sans-serif; }')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>{css}</style>'
            f"</head><body>{''.join(pages)}</body></html>"), on


_EMPTY = re.compile(r'<td class="pg" data-to="([^"]*)"></td>')


def fill(source: str, found: list[Number]) -> str:
    """The HTML that was laid out, with the numbers in their cells (for ``--html``)."""
    by_anchor = {n.anchor: n.text for n in found}
    return _EMPTY.sub(lambda m: f'<td class="pg" data-to="{m.group(1)}">'
                      f'{by_anchor.get(html.unescape(m.group(1)), "")}</td>', source)
