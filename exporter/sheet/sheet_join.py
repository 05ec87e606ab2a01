"""Join laid-out chunks into the sheet's PDF: each column page of a chunk's PDF becomes a form
placed on its printed page (from the frame: margins, rules, header and footer), with the links,
anchors and bookmarks that the layout recorded, as WeasyPrint would have written them.

Forms keep each chunk's fonts and images under their own names, so pages are placed without
reading their content; a link to another chunk's anchor works because the anchors of the whole
sheet are written as one set of named destinations.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

from exporter.sheet import bands, pagenums
from exporter.sheet.sheet_chunks import ColumnPage, Layout
from exporter.sheet.sheet_html import Geometry, PageSpec

PT = 0.75  # PDF points per CSS pixel


@dataclass(frozen=True)
class Slot:
    """A column page on a printed page: which chunk, which of its pages, where (CSS px)."""

    chunk: int
    page: int
    x: float
    y: float


def slots(layouts: list[Layout], g: Geometry) -> list[list[Slot]]:
    """The printed pages: columns side by side, a wide page on a printed page of its own, the
    bands atop the page they go with; each chunk starts a new column, and a chunk with bands
    a new printed page (its column pages were shortened for its own pages' bands)."""
    pages: list[tuple[int, int, ColumnPage]] = []
    specs: list[PageSpec] = []
    for chunk, layout in enumerate(layouts):
        start = len(pages)
        fresh = any(page.attach >= 0 for page in layout.pages)
        for number, page in enumerate(layout.pages):
            pages.append((chunk, number, page))
            specs.append(PageSpec(page.width, start + page.attach if page.attach >= 0 else -1,
                                  fresh and number == 0))
    printed = []
    for number, sheet in enumerate(g.printed(_global(specs))):
        y, columns_y = bands.tops(g, sum(pages[i][2].band + bands.GAP for i in sheet.bands),
                                  number)
        placed = []
        for i in sheet.bands:
            placed.append(Slot(pages[i][0], pages[i][1], g.left, y))
            y += pages[i][2].band + bands.GAP
        for place, i in enumerate(sheet.columns):
            page = pages[i][2]
            x = g.left if g.is_wide(page.width) else g.column_x(place)
            placed.append(Slot(pages[i][0], pages[i][1], x, columns_y(page.height)))
        printed.append(placed)
    return printed


def _global(specs: list[PageSpec]) -> list[PageSpec]:
    """Attachments by the index of a flow page among the flow pages, as Geometry.printed
    takes them (a chunk's bands follow its own flow pages, so indices are in the same order)."""
    flow = [i for i, spec in enumerate(specs) if spec.attach < 0]
    position = {index: n for n, index in enumerate(flow)}
    return [PageSpec(s.width, position.get(s.attach, len(flow) - 1) if s.attach >= 0 else -1,
                     s.fresh) for s in specs]


def kinds(printed: list[list[Slot]], layouts: list[Layout], g: Geometry) -> list[str]:
    """What the frame draws on each printed page: column rules (below the bands atop it), or
    none under a wide page."""
    found = []
    for number, group in enumerate(printed):
        pages = [layouts[slot.chunk].pages[slot.page] for slot in group]
        columns = [page for page in pages if page.attach < 0]
        room = sum(page.band + bands.GAP for page in pages if page.attach >= 0)
        found.append("wide" if g.is_wide(columns[0].width) else bands.kind(room, number))
    return found


def page_numbers(layouts: list[Layout], printed: list[list[Slot]]) -> list[pagenums.Number]:
    """At a glance's page numbers: each row's anchor on its printed page, whichever chunk
    holds it."""
    pages: dict[str, int] = {}
    for number, group in enumerate(printed):
        for slot in group:
            for name, _, _ in layouts[slot.chunk].pages[slot.page].anchors:
                pages.setdefault(name, number)
    placed = [(number, slot.x, slot.y, layouts[slot.chunk].pages[slot.page].cells)
              for number, group in enumerate(printed) for slot in group]
    return pagenums.numbers(placed, pages)


Over = tuple[bytes, list[int]]  # a PDF of pages drawn on top, and the printed page of each


def join(target: Path, frame: bytes, layouts: list[Layout], printed: list[list[Slot]],
         g: Geometry, identifier: bytes, over: Over | None = None) -> None:
    """Write the sheet: the frame's pages with the chunks' column pages placed on them, then
    ``over``'s pages on top (the page numbers), and ``identifier`` as the file's (WeasyPrint
    writes the same twice)."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(frame)))
    writer._ID = ArrayObject([ByteStringObject(identifier), ByteStringObject(identifier)])
    with ExitStack() as files:
        tops: dict[int, PdfObject] = {}
        if over is not None:
            reader = PdfReader(BytesIO(over[0]))
            tops = {number: reader.pages[index] for index, number in enumerate(over[1])}
        _join(target, writer, _Readers(layouts, files), layouts, printed, g, tops)


def _join(target: Path, writer: PdfWriter, readers: _Readers, layouts: list[Layout],
          printed: list[list[Slot]], g: Geometry, tops: dict[int, PdfObject]) -> None:
    page_h = float(writer.pages[0].mediabox.height) if printed else 0.0
    anchors: dict[str, tuple[int, float, float]] = {}
    for number, group in enumerate(printed):
        for slot in group:
            for name, x, y in layouts[slot.chunk].pages[slot.page].anchors:
                anchors.setdefault(name, (number, *_point(slot, x, y, page_h)))
    outline = _Outline(writer)
    for number, group in enumerate(printed):
        page = writer.pages[number]
        forms = DictionaryObject()
        drawn = []
        for place, slot in enumerate(group):
            column = layouts[slot.chunk].pages[slot.page]
            name = NameObject(f"/Column{place}")
            forms[name] = _form(writer, readers.page(slot.chunk, slot.page))
            bottom = page_h - (slot.y + column.height) * PT
            drawn.append(f"q 1 0 0 1 {slot.x * PT:.3f} {bottom:.3f} cm {name} Do Q")
            for level, label, x, y, is_open in column.bookmarks:
                outline.add(level, label, number, _point(slot, x, y, page_h), is_open)
            _links(writer, page, slot, column, anchors, page_h)
        if number in tops:
            forms[NameObject("/Over")] = _form(writer, tops[number])
            drawn.append("q 1 0 0 1 0 0 cm /Over Do Q")
        _draw(writer, page, forms, drawn)
    _destinations(writer, anchors)
    with target.open("wb") as handle:
        writer.write(handle)


class _Readers:
    """The chunks' PDFs, each read when its first page is placed. They stay open to the end:
    pypdf knows what it copied from a reader by the reader's ``id``, which a new reader could
    take over once the old one is gone."""

    def __init__(self, layouts: list[Layout], files: ExitStack) -> None:
        self.layouts = layouts
        self.files = files
        self.readers: dict[int, PdfReader] = {}

    def page(self, chunk: int, number: int) -> PdfObject:
        if chunk not in self.readers:  # read from the file as needed, not all into memory
            handle = self.files.enter_context(self.layouts[chunk].pdf.open("rb"))
            self.readers[chunk] = PdfReader(handle)
        return self.readers[chunk].pages[number]


def _point(slot: Slot, x: float, y: float, page_h: float) -> tuple[float, float]:
    """A point of a column page, in the printed page's PDF coordinates."""
    return (slot.x + x) * PT, page_h - (slot.y + y) * PT


def _form(writer: PdfWriter, source: PdfObject) -> IndirectObject:
    """A column page as a form XObject: its content under its own resources. The content is
    copied as it is stored (compressed), never decoded."""
    page = source.get_object()
    assert isinstance(page, DictionaryObject)
    contents = page.raw_get("/Contents")  # the reference, not the stream it names
    if isinstance(contents.get_object(), ArrayObject):  # not WeasyPrint's way: join them
        joined = DecodedStreamObject()
        joined.set_data(b"\n".join(cast(StreamObject, part.get_object()).get_data()
                                    for part in cast(ArrayObject, contents.get_object())))
        form = cast(StreamObject, joined.flate_encode())
        reference = writer._add_object(form)
    else:
        reference = cast(IndirectObject, contents.clone(writer))
        form = cast(StreamObject, reference.get_object())
    box = [FloatObject(float(v)) for v in cast(ArrayObject, page["/MediaBox"])]
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject(box),
        NameObject("/Resources"): page.raw_get("/Resources").clone(writer),
    })
    return reference


def _draw(writer: PdfWriter, page: DictionaryObject, forms: DictionaryObject,
          drawn: list[str]) -> None:
    """Add the forms to the page's resources and draw them after the frame's own content
    (which is wrapped in q/Q: whatever state it leaves does not reach the forms)."""
    # WeasyPrint gives every page the same resources: each page gets its own copy here
    shared = cast(DictionaryObject, page["/Resources"].get_object())
    resources = DictionaryObject(shared)
    xobjects = DictionaryObject(cast(DictionaryObject, shared.get("/XObject", {})))
    xobjects.update(forms)
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(("\nQ\n" + "\n".join(drawn) + "\n").encode())
    old = page.raw_get("/Contents")
    content = old.get_object()
    olds = list(content) if isinstance(content, ArrayObject) else [old]
    page[NameObject("/Contents")] = ArrayObject([
        writer._add_object(before), *olds, writer._add_object(after.flate_encode())])


def _links(writer: PdfWriter, page: DictionaryObject, slot: Slot, column: ColumnPage,
           anchors: dict[str, tuple[int, float, float]], page_h: float) -> None:
    """The column page's links, on the printed page; a link to no anchor is dropped, as
    WeasyPrint drops it."""
    for kind, target, x1, y1, x2, y2 in column.links:
        if kind == "internal" and target not in anchors:
            continue
        left, top = _point(slot, x1, y1, page_h)
        right, bottom = _point(slot, x2, y2, page_h)
        annotation = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(round(v, 3)) for v in
                                              (left, bottom, right, top)]),
            NameObject("/BS"): DictionaryObject({NameObject("/W"): NumberObject(0)}),
        })
        if kind == "internal":
            annotation[NameObject("/Dest")] = TextStringObject(target)
        else:
            annotation[NameObject("/A")] = DictionaryObject({
                NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject("/URI"),
                NameObject("/URI"): TextStringObject(target)})
        if "/Annots" not in page:
            page[NameObject("/Annots")] = ArrayObject()
        cast(ArrayObject, page["/Annots"].get_object()).append(writer._add_object(annotation))


def _destinations(writer: PdfWriter, anchors: dict[str, tuple[int, float, float]]) -> None:
    """Every anchor as a named destination, sorted as a name tree's leaf must be."""
    if not anchors:
        return
    names = ArrayObject()
    for name in sorted(anchors):
        number, x, y = anchors[name]
        names += [TextStringObject(name), ArrayObject([
            writer.pages[number].indirect_reference, NameObject("/XYZ"),
            FloatObject(round(x, 3)), FloatObject(round(y, 3)), NumberObject(0)])]
    tree = DictionaryObject({NameObject("/Names"): names})
    root = writer._root_object
    catalog = root.get("/Names")
    if catalog is None:
        catalog = DictionaryObject()
        root[NameObject("/Names")] = catalog
    cast(DictionaryObject, catalog.get_object())[NameObject("/Dests")] = \
        writer._add_object(tree)


class _Outline:
    """Bookmarks nested by level in document order, across every chunk."""

    def __init__(self, writer: PdfWriter) -> None:
        self.writer = writer
        self.open: list[tuple[int, IndirectObject]] = []

    def add(self, level: int, label: str, page: int, point: tuple[float, float],
            is_open: bool) -> None:
        while self.open and self.open[-1][0] >= level:
            self.open.pop()
        parent = self.open[-1][1] if self.open else None
        item = self.writer.add_outline_item(
            title=label, page_number=page, parent=parent, is_open=is_open,
            fit=Fit.xyz(left=round(point[0], 3), top=round(point[1], 3), zoom=0))
        self.open.append((level, item))

