"""Wide blocks as bands: a screenshot or table too wide for a column spans the printed page at
its top, and the columns of that page flow on below it, so no column is left empty.

A band is laid out after the flow on a page of its own (``@page band``), and a zero-height
mark keeps its place in the flow. After each layout pass, ``place`` puts each band atop the
printed page its mark is on (or the next with room) and shortens that page's column pages by
the band's height (``@page :nth()`` rules, see sheet_html.py); the next pass lays the flow out
around it. A band taller than ``SHARE`` of a column, or one with no page to go on, is laid out
in the flow on a printed page of its own, as before bands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from exporter.sheet import weasy
from exporter.sheet.sheet_html import Geometry, PageSpec, Plan
from exporter.sheet.weasy import Box, Document, Page

GAP = 8.0  # px between a band and what follows it on the printed page
SHARE = 0.5  # the bands of a printed page take at most this share of its height …
LAST_SHARE = 0.85  # … of the sheet's last page, this share


def _root(page: Page) -> Box:
    return next(b for b in weasy.page_box(page).children if not b.is_margin)


def _ink_bottom(box: Box) -> float:
    """The lowest line or image inside ``box`` (a block split by a page break is stretched
    to the page's end, so its own height says nothing)."""
    if box.is_ink:
        return float(box.top + box.border_height)
    if box.is_cell:  # a cell's padding and border are ink too
        inner = max((_ink_bottom(c) for c in box.children), default=0.0)
        return float(inner + box.padding_bottom + box.border_bottom) if inner else 0.0
    return max((_ink_bottom(c) for c in box.children), default=0.0)


def bottom(page: Page) -> float:
    """How far down the page's content reaches."""
    return max(_ink_bottom(_root(page)), float(weasy.page_box(page).content_top))


def height(page: Page) -> float:
    """The height of a band page's content."""
    return bottom(page) - float(weasy.page_box(page).content_top)


def _outer(box: Box) -> Iterator[Box]:
    """The boxes above the sections, and the sections themselves (not what they hold)."""
    yield box
    if box.tag != "section":
        for child in box.children:
            if not child.is_margin:
                yield from _outer(child)


def _band(page: Page) -> tuple[int, int] | None:
    """(block, the flow page it goes with, -1 when not placed yet) of a band page."""
    for box in _outer(weasy.page_box(page)):
        attach = box.attr("data-band") if box.tag == "section" else None
        if attach is not None:
            return int(box.attr("data-block") or 0), int(attach)
    return None


def _marks(page: Page) -> Iterator[int]:
    for box in _outer(weasy.page_box(page)):
        mark = box.attr("data-mark")
        if mark is not None:
            yield int(mark)


def specs(document: Document) -> list[PageSpec]:
    """Each laid-out page for the imposition (sheet_html.Geometry.printed)."""
    found = []
    for page in document.pages:
        band = _band(page)
        found.append(PageSpec(page.width, max(band[1], 0) if band else -1))
    return found


def _survey(pages: list[Page]) -> tuple[list[int], dict[int, list[int]], dict[int, int]]:
    """The flow's pages, each band's pages, and the flow page each band's mark is on."""
    flow: list[int] = []
    where: dict[int, list[int]] = {}
    marks: dict[int, int] = {}
    for index, page in enumerate(pages):
        band = _band(page)
        if band is None:
            flow.append(index)
            for block in _marks(page):
                marks.setdefault(block, index)
        else:
            where.setdefault(band[0], []).append(index)
    return flow, where, marks


def place(document: Document, plan: Plan, g: Geometry) -> Plan:
    """The plan with each band placed by this layout: atop the printed page its mark is on, or
    the next with room; too tall a band, or one with nowhere to go, flows as a wide page."""
    pages = document.pages
    flow, where, marks = _survey(pages)
    limit, last_limit = SHARE * g.column_h, LAST_SHARE * g.column_h
    flowing = set(plan.flowing)
    heights = {}
    for block, found in where.items():
        tall = height(pages[found[0]])
        if len(found) > 1 or tall + GAP > limit:
            flowing.add(block)
        else:
            heights[block] = tall
    groups = [[flow[n] for n in group] for group in g.group([pages[i].width for i in flow])]
    group_of = {i: number for number, group in enumerate(groups) for i in group}
    # The flow grows as bands take room: printed pages past its end, of columns only. Its last
    # page takes more: what would follow the bands there is the end of the sheet.
    final, end = len(groups) - 1, len(flow)
    groups += [list(range(end + n * g.columns, end + (n + 1) * g.columns))
               for n in range(len(heights))]
    room = [0.0] * len(groups)
    placed = {}
    for block in sorted(heights):
        number = group_of.get(marks.get(block, -1), -1)
        before = group_of.get(plan.bands.get(block, -1), -2)
        if before == number - 1:  # this band, atop the page before, moved its mark on
            number = before
        while 0 <= number < len(groups) and (
                room[number] + heights[block] + GAP > (last_limit if number == final else limit)
                or _wide(pages, groups[number][0], g)):
            number += 1
        if not 0 <= number < len(groups):
            flowing.add(block)
            continue
        room[number] += heights[block] + GAP
        placed[block] = groups[number][0]
    short = {i: room[n] for n, group in enumerate(groups) if room[n] for i in group}
    return replace(plan, flowing=flowing, bands=placed, short=short)


def _wide(pages: list[Page], index: int, g: Geometry) -> bool:
    return index < len(pages) and g.is_wide(pages[index].width)


def give_up(plan: Plan, failing: set[int]) -> Plan:
    """The plan with the ``failing`` bands laid out in the flow, on printed pages of their
    own (every band when ``failing`` is empty)."""
    gone = failing or set(plan.wide)
    stay = {b: at for b, at in plan.bands.items() if b not in gone}
    return replace(plan, flowing=plan.flowing | gone, bands=stay,
                   short=plan.short if stay else {})


def failing(document: Document, g: Geometry) -> set[int] | None:
    """The bands this layout cannot impose (not placed yet, on more than one page, or atop
    column pages not shortened enough for them): None when there are none."""
    pages = document.pages
    bad: set[int] = set()
    seen: dict[int, int] = {}
    for index, page in enumerate(pages):
        band = _band(page)
        if band is not None:
            if band[1] < 0 or band[0] in seen:
                bad.add(band[0])
            seen[band[0]] = index
    found = specs(document)
    flow = sum(1 for spec in found if spec.attach < 0)
    for index, spec in enumerate(found):
        if spec.attach >= flow:  # placed past the flow's end: nowhere to go in this layout
            bad.add(next(b for b, i in seen.items() if i == index))
            found[index] = PageSpec(spec.width, -2)
    for printed in g.printed(found):
        room = sum(height(pages[i]) + GAP for i in printed.bands)
        if printed.bands and any(g.is_wide(pages[i].width) or
                                 room > g.column_h - pages[i].height + 0.5
                                 for i in printed.columns):
            bad |= {b for b, i in seen.items() if i in printed.bands}
    return bad or None


def tops(g: Geometry, room: float, number: int) -> tuple[float, Callable[[float], float]]:
    """Where the first band of printed page ``number`` starts, and where a column page of a
    given height starts: bands atop the page, but below the columns on the first page (the
    sheet's title opens it)."""
    if number == 0:
        return g.top + g.column_h - room + GAP, lambda height: g.top
    return g.top, lambda height: g.top + g.column_h - height


def kind(room: float, number: int) -> str:
    """The frame's kind of a printed page of columns with ``room`` taken by bands: its column
    rules stop above bands at the bottom (``columns:-ROOM``) or start below bands at the top."""
    if not room:
        return "columns"
    return f"columns:{-room if number == 0 else room:.3f}"
