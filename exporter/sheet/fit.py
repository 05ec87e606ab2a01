"""Fitting a sheet to N pages: which font size to lay out next, from the layouts so far.

Each layout costs a full WeasyPrint pass, so the search is not a bisection: the first layout
at the configured size tells how many columns of content there are; that content shrinks with a
power of the font size between 1 (short lines: only their height shrinks) and 2 (wrapped lines
also get more words each), so one estimate lands close, and a second, with the power measured
from the two layouts, settles it. Three layouts at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exporter.core.errors import FitError as FitError  # re-exported: the old import path

MAX_LAYOUTS = 3
TARGET = 0.97  # aim for this share of the pages' columns (the last one partly empty)
SAFE = 0.92  # … and for this share when the last try did not fit
IMAGE_FLOOR = 0.6  # images shrink with the font, never below this share of their size


@dataclass(frozen=True)
class Trial:
    """One layout: its font size, the printed pages it took, the columns it filled (the last
    one by its share, a page-wide block as a whole page's)."""

    font: float
    pages: int
    demand: float


def image_scale(font: float, ceiling: float) -> float:
    """Images shrink with the text, down to ``IMAGE_FLOOR`` of their size."""
    return max(IMAGE_FLOOR, min(1.0, font / ceiling))


def _round(font: float) -> float:
    return math.floor(font * 10 + 1e-6) / 10


def next_font(trials: list[Trial], pages: int, columns: int, ceiling: float,
              floor: float, layouts: int = 0) -> float | None:
    """The next size to try, or None when the search is over (a fit found, none possible, or
    ``MAX_LAYOUTS`` spent: ``layouts`` counts those a wide table made the first trial redo)."""
    fits = [t for t in trials if t.pages <= pages]
    misses = [t for t in trials if t.pages > pages]
    if max(len(trials), layouts) >= MAX_LAYOUTS or (fits and max(t.font for t in fits) >= ceiling):
        return None
    if misses and min(t.font for t in misses) <= floor:
        return None  # even the floor does not fit
    exponent = 1.5  # wrapped lines shrink with the square of the size, short ones linearly
    if len(trials) >= 2:
        a, b = trials[-2], trials[-1]
        if a.font != b.font and a.demand > 0 and b.demand > 0 and a.demand != b.demand:
            exponent = min(4.0, max(1.0, math.log(a.demand / b.demand) / math.log(a.font / b.font)))
    last = trials[-1]
    share = SAFE if len(trials) >= 2 and not fits else TARGET
    wanted = last.font * (pages * columns * share / max(last.demand, 1e-6)) ** (1 / exponent)
    low = max([floor, *(t.font for t in fits)])
    high = min([ceiling, *(t.font - 0.1 for t in misses)])
    font = _round(min(max(wanted, low), high))
    if fits and font <= max(t.font for t in fits) + 0.05:
        return None  # nothing larger is worth another layout
    return font


def failure(trials: list[Trial], pages: int, floor: float) -> FitError:
    """Why no layout fitted: the pages it needs at the smallest size tried."""
    smallest = min(trials, key=lambda t: t.font)
    at = "the smallest allowed (--min-font-size)" if smallest.font <= floor else \
        f"after {len(trials)} layout{'s' if len(trials) != 1 else ''}"
    return FitError(f"the sheet does not fit {pages} page{'s' if pages != 1 else ''}: it needs "
                    f"{smallest.pages} pages at {smallest.font:g} pt, {at}")
