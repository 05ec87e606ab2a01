"""Lay the sheet out with WeasyPrint: column-sized pages, checked, then placed side by side.

WeasyPrint keeps blocks whole and repeats table headers across *page* breaks, but not across
CSS *column* breaks (upstream issues #1963, #2032, #1603). So the content is laid out on pages
exactly one column in size, where those rules hold, and each group of column pages is then
placed onto one printed page. A table wider than its column spans the whole page: that is
checked on the laid-out boxes and the layout is redone when the first guess was wrong.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import mimetypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from . import bands, codedigest, pagenums, processes, weasy
from .mathsvg import MathImages
from .model import Asset, Vault
from .sheet_html import (
    MEDIA_BASE,
    Geometry,
    Plan,
    SheetOptions,
    estimate_wide,
    frame_html,
    geometry,
)
from .weasy import Document, Fonts, Page, Resource

if TYPE_CHECKING:
    from .sheet_chunks import Chunk, Tick

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


def write_sheet(target: Path, vault: Vault, options: SheetOptions, cache: Path | None = None,
                workers: int = 0, tick: Tick | None = None,
                prepared: list[Chunk] | None = None) -> str:
    """Write ``vault`` as a PDF sheet to ``target``; return the HTML that was laid out.

    A sheet of many notes is laid out in chunks (sheet_chunks.py, ``prepared`` when the caller
    has worked them out), kept in ``cache`` and laid out on ``workers`` processes (every core
    by default); fitting to pages lays it out whole.
    """
    from . import sheet_chunks
    from .flow import Flow  # the passes use this module's functions

    options = options.resolved()
    chunks = prepared or sheet_chunks.prepare(vault, options)
    if len(chunks) > 1:
        return _write_chunks(target, vault, chunks, options, cache, workers, tick)
    shown = chunks[0].shown
    fetcher = VaultFetcher(vault.assets)
    fonts = weasy.new_fonts()
    flow = Flow(vault, shown, fetcher, fonts)
    plan = Plan(wide=estimate_wide(shown, vault, options))
    laid = flow.fit(options, plan) if options.pages else flow.fill(options, plan)
    source = laid.source
    if laid.note:
        source = source.replace("</title>", "</title>\n" + f'<meta name="notes-export-fit" '
                                f'content="{html.escape(laid.note)}">', 1)
    return write(target, laid.document, source, lambda kinds: frame_html(options, kinds),
                 geometry(options), fetcher, fonts)


def _write_chunks(target: Path, vault: Vault, chunks: list[Chunk], options: SheetOptions,
                  cache: Path | None, workers: int,
                  tick: Tick | None) -> str:
    """Lay the chunks out (or take them from ``cache``), then join their column pages."""
    from . import sheet_chunks, sheet_join

    store = sheet_chunks.open_cache(cache)
    started = time.perf_counter()
    with processes.temporary_folder() as scratch:
        layouts = sheet_chunks.lay_out_all(vault, chunks, options, store, Path(scratch),
                                           workers, tick)
        laid = time.perf_counter()
        g = geometry(options)
        printed = sheet_join.slots(layouts, g)
        source = joined([layout.source for layout in layouts])
        kinds = sheet_join.kinds(printed, layouts, g)
        code = codedigest.source_digest()
        frame_key = hashlib.sha256(f"{code}\0{options!r}\0{kinds}".encode()).hexdigest()
        frame = store.frame(frame_key) if store else None
        if frame is None:
            frame = _frame(options, kinds, vault)
            if store:
                store.keep_frame(frame_key, frame)
        framed_at = time.perf_counter()
        found = sheet_join.page_numbers(layouts, printed)
        numbers = overlay(found, g, VaultFetcher(vault.assets), weasy.new_fonts())
        over = None
        if numbers is not None:
            data = io.BytesIO()
            weasy.write_pdf(numbers[0], data, b"0" * 32)
            over = (data.getvalue(), numbers[1])
        # A content-derived identifier keeps the bytes equal for equal input.
        identifier = hashlib.sha256(source.encode()).hexdigest()[:32].encode()
        sheet_join.join(target, frame, layouts, printed, g, identifier, over)
        source = pagenums.fill(source, found)
    log.debug("%d chunks laid out in %.2f s; frame of %d pages %.2f s; joined in %.2f s",
              len(chunks), laid - started, len(printed), framed_at - laid,
              time.perf_counter() - framed_at)
    if store is not None:
        store.prune({layout.key for layout in layouts} | {frame_key})
    return source


def _frame(options: SheetOptions, kinds: list[str], vault: Vault) -> bytes:
    """The printed pages without their columns, as a PDF: margins, rules, header, footer."""
    document = weasy.render(frame_html(options, kinds), MEDIA_BASE, VaultFetcher(vault.assets),
                            weasy.new_fonts())
    framed = io.BytesIO()
    weasy.write_pdf(document, framed, b"0" * 32)  # the sheet's own identifier replaces it
    return framed.getvalue()


def joined(sources: list[str]) -> str:
    """The HTML of every chunk as one document: the first chunk's head, then each body."""
    bodies = [s[s.index(">", s.index("<body")) + 1:s.rindex("</body>")] for s in sources]
    head = sources[0][:sources[0].index(">", sources[0].index("<body")) + 1]
    parts = [f"<!-- notes-export: chunk {n + 1} of {len(bodies)} starts a column -->\n{body}"
             for n, body in enumerate(bodies)]
    return head + "\n".join(parts) + "</body></html>"
