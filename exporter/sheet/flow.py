"""The layout passes of one sheet: full columns (images shrink to finish a column) and fitting
to N pages (the font size and image scale chosen from the passes' measured fill)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from itertools import pairwise

from exporter.core.config import SheetOptions
from exporter.core.model import Vault
from exporter.sheet import fit, weasy
from exporter.sheet.bands import bottom
from exporter.sheet.columns import MAX_PASSES, VaultFetcher, assign, render_columns
from exporter.sheet.mathsvg import MathImages
from exporter.sheet.sheet_html import Content, Geometry, Part, Plan, build_html, geometry
from exporter.sheet.weasy import Box, Document, Fonts, Page

log = logging.getLogger(__name__)
SHRINK_FLOOR = 0.6  # an image shrinks to finish a column, to no less than this share
SLACK = 0.6  # em: the block margin a moved image brings along, and a little more


@dataclass
class Laid:
    """One layout of the sheet's content on column pages, and what it measured."""

    document: Document
    source: str
    plan: Plan  # the plan the layout asks for next (wide tables found)
    pages: int  # printed pages
    used: float  # columns filled, the last one by its share; a wide page counts whole
    fill: float  # mean fill of the columns of every printed page but the last
    note: str = ""


class Flow:
    """Lays one sheet's content out as often as the choice of sizes needs, counting passes."""

    def __init__(self, vault: Vault, shown: Content, fetcher: VaultFetcher,
                 fonts: Fonts, part: Part | None = None) -> None:
        self.vault = vault
        self.shown = shown
        self.part = part
        self.fetcher = fetcher
        self.fonts = fonts
        self.passes = 0

    def lay_out(self, options: SheetOptions, plan: Plan, passes: int = MAX_PASSES) -> Laid:
        """One layout at ``options``' font size (formulas typeset at that size)."""
        math = MathImages(size_px=(options.font_size or 8) * 96 / 72)
        self.fetcher.math = math
        g = geometry(options)

        last: list[Plan] = []

        def make(p: Plan) -> str:
            # A pass that only places bands (bands.py) is not one of the fit's layouts.
            if not last or not _places_bands(last[-1], p):
                self.passes += 1
            last.append(p)
            log.debug("layout pass %d at %g pt", self.passes, options.font_size)
            return build_html(self.vault, options, p, math, self.shown, self.part)

        document, source, revised = render_columns(make, plan, g, self.fetcher, self.fonts,
                                                   passes)
        return _measured(document, source, revised, g)

    def fill(self, options: SheetOptions, plan: Plan) -> Laid:
        """Lay out, then finish the columns that images leave short."""
        return self._finish(options, self.lay_out(options, plan))

    def _finish(self, options: SheetOptions, first: Laid) -> Laid:
        """Once more with the images that end a column early shrunk to finish it; keep the
        layout that takes fewer pages, then the one that fills its columns better."""
        return self.best_of(options, first, finishing(options, first))

    def best_of(self, options: SheetOptions, first: Laid, wanted: Plan | None) -> Laid:
        """``first``, or the layout at ``wanted`` (from :func:`finishing`) when it is better."""
        if wanted is None:
            return first
        second = self.finish(options, wanted)
        return second if better(first, second) else first

    def finish(self, options: SheetOptions, wanted: Plan) -> Laid:
        """The layout that finishes the columns, at ``wanted`` (from :func:`finishing`)."""
        return self.lay_out(options, wanted, passes=1)

    def fit(self, options: SheetOptions, plan: Plan) -> Laid:
        """The largest font size (and image scale) that fits ``options.pages`` pages."""
        pages, ceiling = options.pages or 1, options.font_size or 8
        floor = min(options.min_font_size, ceiling)
        trials: list[fit.Trial] = []
        best: Laid | None = None  # only the best layout is kept: each holds every page's boxes
        best_font = ceiling
        font: float | None = ceiling
        while font is not None:
            sized = replace(options, font_size=font)
            result = self.lay_out(sized, replace(plan, image_scale=fit.image_scale(
                font, ceiling)), passes=MAX_PASSES if not trials else 1)
            plan = replace(result.plan, image_scale=1.0)
            trials.append(fit.Trial(font, result.pages, result.used))
            log.debug("fit at %g pt: %d pages, %.2f columns", font, result.pages, result.used)
            if result.pages <= pages and (best is None or font > best_font):
                best, best_font = result, font
            font = fit.next_font(trials, pages, options.columns or 1, ceiling, floor,
                                 self.passes)
        if best is None:
            raise fit.failure(trials, pages, floor)
        if self.passes < fit.MAX_LAYOUTS:  # a layout to spare: finish columns with images
            best = self._finish(replace(options, font_size=best_font), best)
        best.note = f"fitted to {pages} page{'s' if pages != 1 else ''} at {best_font:g} pt"
        return best


def finishing(options: SheetOptions, first: Laid) -> Plan | None:
    """The plan that finishes the columns ``first`` leaves short with images shrunk; None when
    no image would finish one."""
    shrink = shrinks(first.document, geometry(options), (options.font_size or 8) * 96 / 72)
    return replace(first.plan, shrink=shrink) if shrink else None


@dataclass
class Ranked:
    """A layout as the choice between two sees it (a layout laid out elsewhere: ahead.py)."""

    pages: int
    fill: float


def better(first: Laid | Ranked, second: Laid | Ranked) -> bool:
    """Whether ``second`` is the better layout: fewer pages, then columns better filled (on a
    tie, ``first``)."""
    return (second.pages, -second.fill) < (first.pages, -first.fill)


def _wide(page: Page, g: Geometry) -> bool:
    return g.is_wide(page.width)


def _places_bands(before: Plan, after: Plan) -> bool:
    """Whether ``after`` differs from ``before`` only in where its bands go."""
    return replace(after, flowing=before.flowing, bands=before.bands, short=before.short) \
        == before


def page_fill(page: Page) -> float:
    """The share of a column page's height its content takes."""
    box = weasy.page_box(page)
    return float((bottom(page) - box.content_top) / box.height)


def _measured(document: Document, source: str, plan: Plan, g: Geometry) -> Laid:
    groups = [sheet.columns for sheet in assign(document, g)]
    used = 0.0
    fills: list[float] = []
    for number, group in enumerate(groups):
        if _wide(group[0], g):
            used += g.columns
            continue
        if number < len(groups) - 1:
            used += g.columns
            fills += [page_fill(p) for p in group] + [0.0] * (g.columns - len(group))
        else:
            used += len(group) - 1 + page_fill(group[-1])
    fill = sum(fills) / len(fills) if fills else 1.0
    return Laid(document, source, plan, len(groups), used, fill)


def _first_image(box: Box) -> Box | None:
    """The first numbered image on a column page (formulas are not numbered)."""
    if box.tag == "img" and box.attr("data-img"):
        return box
    for child in box.children:
        if not child.is_margin and (found := _first_image(child)):
            return found
    return None


def shrinks(document: Document, g: Geometry, font_px: float) -> dict[int, float]:
    """Images that open a column while the column before ends early, with the height that
    lets them finish that column (when it is at least ``SHRINK_FLOOR`` of the image).

    Whatever precedes the image at the top of its column did not fit before it alone (else
    WeasyPrint had put it there): it is a heading kept with the image, or the image's own
    list item. So moving back costs that offset, plus the image at its new height."""
    found: dict[int, float] = {}
    pages = document.pages
    for before, after in pairwise(pages):
        if _wide(before, g) or _wide(after, g):
            continue
        image = _first_image(weasy.page_box(after))
        if not image:
            continue
        box = weasy.page_box(before)
        free = box.content_top + box.height - bottom(before)
        offset = image.top - weasy.page_box(after).content_top
        height = free - offset - image.margin_bottom - SLACK * font_px - 3
        if SHRINK_FLOOR * image.height <= height < image.height:
            found[int(image.attr("data-img") or 0)] = height
    return found
