"""The one seam to WeasyPrint: every import of it, and every use of its internals, is here.

The imposition moves laid-out boxes between pages, which WeasyPrint's public API does not
offer: it reads ``Page._page_box``, builds ``Page(box)``, recomputes background areas with
``layout_box_backgrounds`` and reads box attributes; a chunked sheet reads each page's
``links``, ``anchors`` and ``bookmarks`` and empties ``links``; ``write_pdf`` turns HarfBuzz's
font subsetter off (``weasyprint.pdf.fonts.harfbuzz_subset``) so fontTools subsets every font.
tests/test_weasy_contract.py exercises each of these on a tiny document, so an upgrade that
changes one fails a test named after it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import weasyprint
from weasyprint.document import Document, Page
from weasyprint.formatting_structure import boxes
from weasyprint.layout.background import layout_box_backgrounds
from weasyprint.logger import LOGGER
from weasyprint.pdf import fonts as fonts_module
from weasyprint.text.fonts import FontConfiguration as Fonts

# The major versions whose full test suite passes (pyproject.toml pins the same ones, from
# 63.1: 63.0 loads no SVG formula). 69 draws an emoji in a bold italic heading at the top of
# the page instead (70 fixed it); 62 and older fail with today's pydyf.
SUPPORTED = (63, 64, 65, 66, 67, 68, 70)

__all__ = ["SUPPORTED", "Box", "Document", "Fonts", "Page", "Resource"]


def major(version: str = weasyprint.__version__) -> int:
    """The major version of a WeasyPrint version string."""
    return int(version.split(".", 1)[0])


def supported(version: str = weasyprint.__version__) -> bool:
    """Whether this seam was tested with ``version`` (the installed one by default)."""
    return major(version) in SUPPORTED


@dataclass(frozen=True)
class Resource:
    """What a fetcher serves: the bytes of one URL and their media type."""

    url: str
    body: bytes
    mime: str

    def read(self) -> bytes:
        return self.body


Fetch = Callable[[str], Resource]


def url_fetcher(fetch: Fetch) -> Any:
    """WeasyPrint's fetcher around ``fetch``: a ``URLFetcher`` (68 on) or, before, a
    function returning a dict."""
    if hasattr(weasyprint, "URLFetcher"):
        return _fetcher_class()(fetch)

    def fetcher(url: str) -> dict[str, Any]:
        resource = fetch(url)
        return {"string": resource.body, "mime_type": resource.mime,
                "redirected_url": resource.url}

    return fetcher


def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcherResponse

    class Fetcher(weasyprint.URLFetcher):
        """Fetches through ``fetch`` alone: its ``open`` and ``__call__`` lead here too."""

        def __init__(self, fetch: Fetch) -> None:
            super().__init__(allowed_protocols={"https"})
            self._fetch = fetch

        def fetch(self, url: str, headers: object = None) -> Any:
            resource = self._fetch(url)
            return URLFetcherResponse(resource.url, resource.body,
                                      {"Content-Type": resource.mime})

    return Fetcher


def new_fonts() -> Fonts:
    """A font configuration, shared by the layouts of one sheet."""
    return Fonts()


def render(source: str, base_url: str, fetch: Fetch, fonts: Fonts) -> Document:
    """Lay ``source`` out; every URL it names is read through ``fetch`` alone."""
    return weasyprint.HTML(string=source, base_url=base_url,
                           url_fetcher=url_fetcher(fetch)).render(font_config=fonts)


def write_pdf(document: Document, target: Path | str | BinaryIO, identifier: bytes | None = None,
              pages: list[Page] | None = None) -> None:
    """Write ``document`` (with ``pages`` instead of its own, when given) as a PDF.

    Every font is subset by fontTools (``_fonttools_subsets``), which stamps the clock into
    each font unless ``SOURCE_DATE_EPOCH`` is set: the sheet stage sets it to the sheet's
    date; any other caller gets a fixed one.
    """
    if pages is not None:
        document = document.copy(pages)
    fixed = "SOURCE_DATE_EPOCH" not in os.environ
    if fixed:
        os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        with _fonttools_subsets():
            document.write_pdf(target, pdf_identifier=identifier)
    finally:
        if fixed:
            del os.environ["SOURCE_DATE_EPOCH"]


class _NotHarfBuzz(logging.Filter):
    """Hushes WeasyPrint's advice (70 on) to install HarfBuzz-Subset: it is left out on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "instead of HarfBuzz-Subset" not in record.getMessage()


@contextmanager
def _fonttools_subsets() -> Iterator[None]:
    """Fonts subset by fontTools, as on a machine without libharfbuzz-subset0, even where that
    optional library is installed: the two give different font bytes (and HarfBuzz's differ
    from one of its versions to the next), while fontTools is a pinned Python dependency. So
    a sheet's bytes do not depend on which system packages are installed. WeasyPrint reads
    the subsetter from ``weasyprint.pdf.fonts.harfbuzz_subset`` (None when it is missing)."""
    before = fonts_module.harfbuzz_subset
    hush = _NotHarfBuzz()
    fonts_module.harfbuzz_subset = None
    LOGGER.addFilter(hush)
    try:
        yield
    finally:
        fonts_module.harfbuzz_subset = before
        LOGGER.removeFilter(hush)


class Box:
    """A laid-out box, read through the few attributes the layout checks use."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    @property
    def tag(self) -> str | None:
        """The HTML tag of the element that made the box (None for anonymous boxes)."""
        return getattr(self.raw, "element_tag", None)

    def attr(self, name: str) -> str | None:
        """An attribute of the box's element."""
        element = getattr(self.raw, "element", None)
        return None if element is None else element.get(name)

    @property
    def children(self) -> list[Box]:
        return [Box(child) for child in getattr(self.raw, "children", ())]

    @property
    def is_margin(self) -> bool:
        """A page-margin box (``@top-center`` and the like), not content."""
        return isinstance(self.raw, boxes.MarginBox)

    @property
    def is_ink(self) -> bool:
        """A line of text or an image: what shows where content ends."""
        return isinstance(self.raw, (boxes.LineBox, boxes.ReplacedBox))

    @property
    def is_cell(self) -> bool:
        return isinstance(self.raw, boxes.TableCellBox)

    @property
    def top(self) -> float:
        """The top of the border box."""
        return float(self.raw.border_box_y())

    @property
    def content_top(self) -> float:
        return float(self.raw.content_box_y())

    @property
    def content_left(self) -> float:
        return float(self.raw.content_box_x())

    @property
    def width(self) -> float:
        """The content width."""
        return float(self.raw.width)

    @property
    def font_size(self) -> float:
        """The computed font size (CSS px)."""
        return float(self.raw.style["font_size"])

    @property
    def height(self) -> float:
        """The content height."""
        return float(self.raw.height)

    @property
    def border_height(self) -> float:
        return float(self.raw.border_height())

    @property
    def margin_height(self) -> float:
        return float(self.raw.margin_height())

    @property
    def margin_width(self) -> float:
        return float(self.raw.margin_width())

    @property
    def padding_bottom(self) -> float:
        return float(self.raw.padding_bottom)

    @property
    def border_bottom(self) -> float:
        return float(self.raw.border_bottom_width)

    @property
    def margin_bottom(self) -> float:
        return float(self.raw.margin_bottom)


Link = tuple[str, str, float, float, float, float]  # kind, target, x1, y1, x2, y2
Bookmark = tuple[int, str, float, float, bool]  # level, label, x, y, open


@dataclass(frozen=True)
class Marks:
    """A laid-out page's links, anchors and bookmarks, in CSS px from its top-left corner."""

    links: list[Link]
    anchors: list[tuple[str, float, float]]
    bookmarks: list[Bookmark]


def take_marks(page: Page) -> Marks:
    """``page``'s marks; its links leave it (who places the page elsewhere writes them, and
    a link to an anchor on another part's pages is no error)."""
    links = [(kind, target, *(float(v) for v in rect[:4]))
             for kind, target, rect, _ in page.links if kind in ("internal", "external")]
    page.links = []
    anchors = [(name, float(point[0]), float(point[1])) for name, point in page.anchors.items()]
    bookmarks = [(int(level), str(label), float(x), float(y), state != "closed")
                 for level, label, (x, y), state in page.bookmarks]
    return Marks(links, anchors, bookmarks)


def anchor_names(page: Page) -> list[str]:
    """The anchors (ids) laid out on ``page``."""
    return list(page.anchors)


def page_box(page: Page) -> Box:
    """The page's root box: its margin boxes and its content."""
    return Box(page._page_box)


def place(target: Page, source: Page, dx: float, dy: float) -> None:
    """Move ``source``'s boxes onto ``target``, shifted by ``dx``, ``dy``."""
    box = target._page_box
    for child in source._page_box.children:
        child.translate(dx, dy)
        # Background areas were computed for the source page: compute them again here.
        layout_box_backgrounds(box, child, _no_background_images)
        box.children = (*box.children, child)


def new_page(page: Page) -> Page:
    """``page`` rebuilt from its boxes: it gathers the links, anchors and bookmarks of the
    boxes now on it."""
    return Page(page._page_box)


def _no_background_images(*args: object, **kwargs: object) -> None:
    return None  # the sheet's CSS uses no background images
