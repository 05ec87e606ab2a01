"""Lay the sheet out with WeasyPrint: column-sized pages, checked, then placed side by side.

WeasyPrint keeps blocks whole and repeats table headers across *page* breaks, but not across
CSS *column* breaks (upstream issues #1963, #2032, #1603). So the content is laid out on pages
exactly one column in size, where those rules hold, and each group of column pages is then
placed onto one printed page. A table wider than its column spans the whole page: that is
checked on the laid-out boxes and the layout is redone when the first guess was wrong.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
import mimetypes
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from exporter.core.model import Asset
from exporter.sheet import bands, pagenums, weasy
from exporter.sheet.mathsvg import MathImages
from exporter.sheet.sheet_html import (
    MEDIA_BASE,
    Geometry,
    Plan,
)
from exporter.sheet.weasy import Document, Fonts, Page, Resource

if TYPE_CHECKING:
    pass

MAX_PASSES = 3
BAND_PASSES = 3  # more passes, when bands move the flow
log = logging.getLogger(__name__)


class VaultFetcher:
    """Serves the vault's resolved images and refuses every other URL: no network, no files."""

    def __init__(self, media: dict[str, Asset], math: MathImages | None = None) -> None:
        self.media = media
        self.math = math
        self.read: dict[str, bytes] = {}  # each image read once for all the layout passes

    def __call__(self, url: str) -> Resource:
        if not url.startswith(MEDIA_BASE):
            raise ValueError(f"refused to fetch {url!r}: only the notes' own images are read")
        name = unquote(urlsplit(url).path.lstrip("/"))
        formula = self.math.images.get(name) if self.math is not None else None
        if formula is not None:
            return Resource(url, formula.svg, "image/svg+xml")
        asset = self.media.get(name)
        if asset is None:
            raise ValueError(f"refused to fetch {url!r}: not an image of the notes")
        mime = mimetypes.guess_type(asset.media_name)[0] or "application/octet-stream"
        if name not in self.read:
            self.read[name] = asset.path.read_bytes()
        return Resource(url, self.read[name], mime)


@dataclass
class Measured:
    """Which numbered blocks hold a table wider than its column."""

    overflowing: set[int] = field(default_factory=set)

    def revise(self, plan: Plan) -> Plan:
        """The plan the layout shows to be right: a table wider than its column spans the page.

        (Every block may continue in the next column, so its height asks for nothing.)"""
        return replace(plan, wide=plan.wide | self.overflowing)


def _boxes(box: weasy.Box, block: int | None = None) -> Iterator[tuple[weasy.Box, int | None]]:
    number = box.attr("data-block") if box.tag == "section" else None
    if number is not None:
        block = int(number)
    yield box, block
    for child in box.children:
        yield from _boxes(child, block)


def measure(document: Document, column_w: float) -> Measured:
    """Find the blocks whose table overflows its column page."""
    measured = Measured()
    for page in document.pages:
        for box, block in _boxes(weasy.page_box(page)):
            if block is not None and box.tag == "table" and page.width < column_w * 1.5 \
                    and box.margin_width > column_w + 1:
                measured.overflowing.add(block)
    return measured


def render_columns(make_html: Callable[[Plan], str], plan: Plan, g: Geometry,
                   fetcher: VaultFetcher, fonts: Fonts,
                   passes: int = MAX_PASSES) -> tuple[Document, str, Plan]:
    """Lay the content out on column pages, correcting the plan until the layout agrees;
    return the layout, its HTML and the plan the layout asks for next.

    Placing bands may take up to ``BAND_PASSES`` more passes; a layout whose bands do not fit
    the room left for them is never returned (its bands then take pages of their own)."""
    budget = passes + BAND_PASSES
    for number in range(budget + 3):
        source = make_html(plan)
        document = weasy.render(source, MEDIA_BASE, fetcher, fonts)
        revised = bands.place(document, measure(document, g.column_w).revise(plan), g)
        failing = bands.failing(document, g)
        if failing is None and (revised == plan or
                                (number + 1 >= passes and revised.wide == plan.wide)):
            break  # (out of passes, a layout that holds together need not be final)
        if number + 1 >= budget and failing is not None:  # the bands that will not settle
            revised = bands.give_up(plan, failing if number + 1 < budget + 2 else set())
        plan = revised
    return document, source, revised


def assign(document: Document, g: Geometry) -> list[Sheet]:
    """Group column pages onto printed pages; a wide page takes a printed page of its own,
    a band goes atop the printed page its flow page is on."""
    pages = document.pages
    return [Sheet([pages[i] for i in printed.columns], [pages[i] for i in printed.bands])
            for printed in g.printed(bands.specs(document))]


@dataclass
class Sheet:
    """A printed page's laid-out pages: its columns (or one wide page) and the bands atop."""

    columns: list[Page]
    bands: list[Page]
    heights: list[float] = field(init=False)  # the bands', measured before a box moves

    def __post_init__(self) -> None:
        self.heights = [bands.height(page) for page in self.bands]

    def room(self) -> float:
        """How far the bands reach (their gaps included): the columns take the rest."""
        return sum(tall + bands.GAP for tall in self.heights)

    def kind(self, g: Geometry, number: int) -> str:
        if g.is_wide(self.columns[0].width):
            return "wide"
        return bands.kind(self.room(), number)

    def places(self, g: Geometry, number: int) -> list[tuple[Page, float, float]]:
        """Where each of its pages goes on printed page ``number``: the bands one below the
        other, at the top (at the bottom of the first page, under the sheet's title), and the
        columns side by side in the rest."""
        y, columns_y = bands.tops(g, self.room(), number)
        found = []
        for band, tall in zip(self.bands, self.heights, strict=True):
            found.append((band, g.left, y))
            y += tall + bands.GAP
        for index, column in enumerate(self.columns):
            x = g.left if g.is_wide(column.width) else g.column_x(index)
            found.append((column, x, columns_y(column.height)))
        return found


def impose(frame: Document, sheets: list[Sheet], g: Geometry,
           over: dict[int, Page] | None = None) -> list[Page]:
    """Move each printed page's laid-out pages onto it (``Sheet.places``), then the boxes of
    its page in ``over`` (At a glance's page numbers) on top."""
    pages = []
    for number, (printed, sheet) in enumerate(zip(frame.pages, sheets, strict=True)):
        for page, x, y in sheet.places(g, number):
            weasy.place(printed, page, x, y)
        if over and number in over:
            weasy.place(printed, over[number], 0, 0)
        pages.append(weasy.new_page(printed))
    return pages


def page_numbers(sheets: list[Sheet], g: Geometry) -> list[pagenums.Number]:
    """At a glance's page numbers: each row's anchor on its printed page."""
    places = [(number, sheet.places(g, number)) for number, sheet in enumerate(sheets)]
    pages: dict[str, int] = {}
    for number, found in places:
        for page, _, _ in found:
            for name in weasy.anchor_names(page):
                pages.setdefault(name, number)
    placed = [(number, x, y, pagenums.cells(page)) for number, found in places
              for page, x, y in found]
    return pagenums.numbers(placed, pages)


def overlay(found: list[pagenums.Number], g: Geometry, fetcher: VaultFetcher,
            fonts: Fonts) -> tuple[Document, list[int]] | None:
    """The page numbers laid out on their own printed-page-sized pages, or None."""
    if not found:
        return None
    source, on = pagenums.overlay_html(found, g)
    return weasy.render(source, MEDIA_BASE, fetcher, fonts), on


def write(target: Path, columns: Document, source: str,
          frame_html: Callable[[list[str]], str], g: Geometry, fetcher: VaultFetcher,
          fonts: Fonts) -> str:
    """Impose the laid-out column pages and write the PDF; return the HTML of the content flow."""
    sheets = assign(columns, g)
    kinds = [sheet.kind(g, number) for number, sheet in enumerate(sheets)]
    frame = weasy.render(frame_html(kinds), MEDIA_BASE, fetcher, fonts)
    found = page_numbers(sheets, g)
    numbers = overlay(found, g, fetcher, fonts)
    over = dict(zip(numbers[1], numbers[0].pages, strict=True)) if numbers else None
    pages = impose(frame, sheets, g, over)
    # A content-derived identifier keeps the bytes equal for equal input.
    identifier = hashlib.sha256(source.encode()).hexdigest()[:32].encode()
    weasy.write_pdf(frame, target, identifier, pages)
    return pagenums.fill(source, found)


@contextmanager
def source_date(date: dt.date) -> Iterator[None]:
    """``SOURCE_DATE_EPOCH`` set to the sheet's date while it is written: fontTools (which
    subsets every font: ``weasy.write_pdf``) stamps it into each font instead of the wall
    clock. The previous value is put back afterwards."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(calendar.timegm(date.timetuple()))
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before
