"""A large sheet laid out in bounded chunks: runs of notes, each laid out on its own column
pages and kept, so memory stays bounded and an edit lays out one chunk again.

Each chunk starts a new column, which may leave the column before it partly empty: a sheet of
fewer than about 36 pages (an exam's sheet) is laid out whole. Chunk boundaries depend only on
the notes' paths (a note whose path hashes to zero closes a chunk that holds enough notes) and
a cap on its estimated length, so rewording a note moves no boundary and the other chunks are
taken from the cache.
sheet_join.py places the chunks' column pages onto the printed pages.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from exporter.cache import cachestore
from exporter.cache.cachestore import Store
from exporter.core import processes
from exporter.core.config import SheetOptions
from exporter.core.errors import ChunkError
from exporter.core.model import Note, Vault
from exporter.sheet import pagenums
from exporter.sheet.sheet_html import (
    Content,
    Part,
    Plan,
    build_html,
    content,
    estimate_wide,
    measures,
    whole,
)

if TYPE_CHECKING:  # WeasyPrint loads slowly: a build whose sheet is cached never needs it
    from exporter.sheet import weasy

log = logging.getLogger(__name__)
EVERY = 24  # on average a chunk closes after this many notes …
MIN_NOTES = 8  # … once it holds this many
MAX_COLUMNS = 36  # and always before its estimated length passes this many columns
WHOLE_UP_TO = 108  # columns: a sheet estimated shorter is laid out whole, with no chunk gaps
Tick = Callable[[int, int], None]  # chunks done, of how many


@dataclass
class Chunk:
    """A run of the sheet's notes and what it needs to be laid out on its own."""

    shown: Content
    part: Part
    key: str = ""


def plan(vault: Vault, shown: Content, options: SheetOptions) -> list[Chunk]:
    """The sheet's chunks, in order; one chunk when the sheet is small."""
    sheet = whole(vault)
    lines, per_column, _ = measures(options.resolved())
    cap = MAX_COLUMNS * per_column
    sizes = [sum(lines(inner) for _, inner in blocks) for _, blocks in shown.notes]
    length = lines(shown.glance) if shown.glance else 0.0
    if length + sum(sizes) <= WHOLE_UP_TO * per_column:
        return [Chunk(shown, sheet)]
    runs: list[list[tuple[Note, list[tuple[str, str]]]]] = [[]]
    for (note, blocks), size in zip(shown.notes, sizes, strict=True):
        runs[-1].append((note, blocks))
        length += size
        if (len(runs[-1]) >= MIN_NOTES and _closes(note)) or length >= cap:
            runs.append([])
            length = 0.0
    if len(runs) > 1 and not runs[-1]:
        runs.pop()
    chunks = []
    folder: str | None = None
    for index, run in enumerate(runs):
        part = Part(index == 0, folder, sheet.anchors, sheet.folders, sheet.notes)
        chunks.append(Chunk(Content(shown.glance if index == 0 else "", run), part))
        if run:
            folder = run[-1][0].relpath.rpartition("/")[0]
    return chunks


def prepare(vault: Vault, options: SheetOptions) -> list[Chunk]:
    """The sheet's content in chunks, each with its key; one chunk when the sheet is small or
    fitted to pages (``--pages`` lays it out whole)."""
    options = options.resolved()
    shown = content(vault, options)
    chunks = [Chunk(shown, whole(vault))] if options.pages else plan(vault, shown, options)
    for chunk in chunks:
        chunk.key = key(vault, chunk, options)
    return chunks


def _closes(note: Note) -> bool:
    return int(hashlib.sha256(note.relpath.encode()).hexdigest()[:8], 16) % EVERY == 0


def key(vault: Vault, chunk: Chunk, options: SheetOptions) -> str:
    """What a chunk's layout depends on: the options and its HTML (which names each image by
    a hash of its bytes); the store names its entry by the code too."""
    digest = hashlib.sha256(f"{options!r}\0".encode())
    digest.update(build_html(vault, options, None, None, chunk.shown, chunk.part).encode())
    return digest.hexdigest()


@dataclass
class ColumnPage:
    """One laid-out column page of a chunk: its width and its marks (CSS px)."""

    width: float
    height: float
    links: list[weasy.Link]
    anchors: list[tuple[str, float, float]]
    bookmarks: list[weasy.Bookmark]
    attach: int = -1  # a band: the chunk's flow page it goes atop of (bands.py)
    band: float = 0.0  # a band: its content's height
    cells: list[pagenums.Cell] = field(default_factory=list)  # At a glance's page cells


@dataclass
class Layout:
    """A chunk laid out: its column pages, the PDF that holds them, the HTML laid out."""

    key: str
    pdf: Path
    pages: list[ColumnPage]
    source: str


def lay_out(vault: Vault, chunk: Chunk, options: SheetOptions, pdf: Path) -> Layout:
    """Lay ``chunk`` out (full columns) and write its column pages to ``pdf``."""
    from exporter.sheet import bands, weasy
    from exporter.sheet.columns import VaultFetcher
    from exporter.sheet.flow import Flow

    fetcher = VaultFetcher(vault.assets)
    flow = Flow(vault, chunk.shown, fetcher, weasy.new_fonts(), chunk.part)
    laid = flow.fill(options, Plan(wide=estimate_wide(chunk.shown, vault, options)))
    pages = []
    specs = bands.specs(laid.document)
    for page, spec in zip(laid.document.pages, specs, strict=True):
        marks = weasy.take_marks(page)
        pages.append(ColumnPage(page.width, page.height, marks.links, marks.anchors,
                                marks.bookmarks, attach=spec.attach,
                                band=bands.height(page) if spec.attach >= 0 else 0.0,
                                cells=pagenums.cells(page)))
    weasy.write_pdf(laid.document, pdf, chunk.key[:32].encode())
    return Layout(chunk.key, pdf, pages, laid.source)


def _lay_out_in_worker(vault: Vault, chunk: Chunk, options: SheetOptions, pdf: Path) -> Layout:
    from exporter.sheet.columns import source_date

    with source_date(options.date):
        return lay_out(vault, chunk, options, pdf)


class ChunkCache:
    """Laid-out chunks of earlier builds, by key, in one sheet's store (cachestore.py): the
    PDF of its column pages and a description of them; and the sheet's frame. The store
    refuses an entry planted, forged or copied from another key: that chunk is laid out
    again and replaced."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, pdf: Path) -> Layout | None:
        """The layout kept under ``key``, its PDF written to ``pdf``; None when absent or not
        to be trusted."""
        body = self.store.get(f"chunk {key}")
        if body is None:
            return None
        try:
            entry, data = cachestore.unpack(body)
            raw, source = entry["pages"], entry["source"]
            if not isinstance(raw, list) or not isinstance(source, str):
                raise TypeError("no pages or no HTML")
            pages = [ColumnPage(float(p["width"]), float(p["height"]), _links(p["links"]),
                                _anchors(p["anchors"]), _bookmarks(p["bookmarks"]),
                                attach=int(p["attach"]), band=float(p["band"]),
                                cells=_cells(p["cells"]))
                     for p in raw]
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            log.debug("chunk %s not taken from the cache: %s", key, exc)
            return None
        pdf.write_bytes(data)
        return Layout(key, pdf, pages, source)

    def put(self, layout: Layout) -> None:
        head = {"source": layout.source, "pages": [asdict(p) for p in layout.pages]}
        self.store.put(f"chunk {layout.key}", cachestore.pack(head, layout.pdf.read_bytes()))

    def frame(self, key: str) -> bytes | None:
        """The frame's PDF kept under ``key`` (its pages and options)."""
        return self.store.get(f"frame {key}")

    def keep_frame(self, key: str, data: bytes) -> None:
        self.store.put(f"frame {key}", data)

    def prune(self, keep: set[str], frame: str) -> None:
        """Keep only the chunks (of ``keep``) and the frame this build used."""
        self.store.prune([*(f"chunk {key}" for key in keep), f"frame {frame}"])


def _links(raw: list[list[object]]) -> list[weasy.Link]:
    return [(_text(r[0]), _text(r[1]), *(_number(v) for v in r[2:6])) for r in raw]  # type: ignore[misc]


def _anchors(raw: list[list[object]]) -> list[tuple[str, float, float]]:
    return [(_text(r[0]), _number(r[1]), _number(r[2])) for r in raw]


def _bookmarks(raw: list[list[object]]) -> list[weasy.Bookmark]:
    return [(int(_number(r[0])), _text(r[1]), _number(r[2]), _number(r[3]), bool(r[4]))
            for r in raw]


def _cells(raw: list[list[object]]) -> list[pagenums.Cell]:
    return [(_text(r[0]), *(_number(v) for v in r[1:5])) for r in raw]  # type: ignore[misc]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _number(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("not a number")
    return float(value)


def lay_out_all(vault: Vault, chunks: list[Chunk], options: SheetOptions,
                cache: ChunkCache | None, scratch: Path, workers: int = 0,
                tick: Tick | None = None) -> list[Layout]:
    """Every chunk's layout: from the cache, or laid out (on every core when several);
    ``tick`` hears how many are done of how many."""
    layouts: list[Layout | None] = []
    for chunk in chunks:
        chunk.key = chunk.key or key(vault, chunk, options)
        layouts.append(cache.get(chunk.key, scratch / f"{chunk.key}.pdf") if cache else None)
    todo = [i for i, layout in enumerate(layouts) if layout is None]
    log.debug("%d of %d chunks taken from the cache", len(chunks) - len(todo), len(chunks))
    workers = workers or min(len(todo), os.cpu_count() or 1)
    tick = tick or (lambda done, total: None)
    tick(len(chunks) - len(todo), len(chunks))
    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            try:
                layouts[i] = lay_out(vault, chunks[i], options, scratch / f"{chunks[i].key}.pdf")
            except Exception as exc:
                raise _failed(chunks[i], exc) from exc
            _keep(cache, layouts[i])
            tick(sum(layout is not None for layout in layouts), len(chunks))
    else:
        with processes.pool(workers) as pool:
            futures = {i: pool.submit(_lay_out_in_worker, _slim(vault, chunks[i]), chunks[i],
                                      options, scratch / f"{chunks[i].key}.pdf") for i in todo}
            for i, future in futures.items():
                try:
                    layouts[i] = future.result()
                except Exception as exc:
                    pool.shutdown(cancel_futures=True)  # the sheet has failed: stop at once
                    raise _failed(chunks[i], exc) from exc
                _keep(cache, layouts[i])
                tick(sum(layout is not None for layout in layouts), len(chunks))
    return [layout for layout in layouts if layout is not None]


def _failed(chunk: Chunk, exc: Exception) -> ChunkError:
    """The error that names the notes of the chunk that failed (the culprit is among them)."""
    return ChunkError([note.relpath for note, _ in chunk.shown.notes], exc)


def _keep(cache: ChunkCache | None, layout: Layout | None) -> None:
    if cache is not None and layout is not None:
        cache.put(layout)


def _slim(vault: Vault, chunk: Chunk) -> Vault:
    """The vault a worker needs for one chunk: its notes and the images (not every note)."""
    return Vault(root=vault.root, notes=[note for note, _ in chunk.shown.notes],
                 assets=vault.assets)
