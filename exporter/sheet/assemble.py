"""A sheet laid out whole or in chunks and joined: the top of the layout, over the passes
(flow.py), the column pages (columns.py), the chunks (sheet_chunks.py) and the join."""

from __future__ import annotations

import hashlib
import html
import io
import logging
import time
from pathlib import Path

from exporter.cache.cachestore import Store
from exporter.core import processes
from exporter.core.config import SheetOptions
from exporter.core.model import Vault
from exporter.sheet import ahead, pagenums, sheet_chunks, sheet_join, weasy
from exporter.sheet.columns import VaultFetcher, overlay, write
from exporter.sheet.flow import Flow, Laid
from exporter.sheet.sheet_chunks import Chunk, Tick
from exporter.sheet.sheet_html import MEDIA_BASE, Plan, estimate_wide, frame_html, geometry

log = logging.getLogger(__name__)


def write_sheet(target: Path, vault: Vault, options: SheetOptions, cache: Store | None = None,
                workers: int = 0, tick: Tick | None = None,
                prepared: list[Chunk] | None = None) -> str:
    """Write ``vault`` as a PDF sheet to ``target``; return the HTML that was laid out.

    A sheet of many notes is laid out in chunks (sheet_chunks.py, ``prepared`` when the caller
    has worked them out), kept in ``cache`` and laid out on ``workers`` processes (every core
    by default); fitting to pages lays it out whole.
    """
    options = options.resolved()
    chunks = prepared or sheet_chunks.prepare(vault, options)
    if len(chunks) > 1:
        return _write_chunks(target, vault, chunks, options, cache, workers, tick)
    shown = chunks[0].shown
    fetcher = VaultFetcher(vault.assets)
    fonts = weasy.new_fonts()
    flow = Flow(vault, shown, fetcher, fonts)
    plan = Plan(wide=estimate_wide(shown, vault, options))

    def written(path: Path, laid: Laid) -> str:
        source = laid.source
        if laid.note:
            source = source.replace("</title>", "</title>\n" + f'<meta name="notes-export-fit" '
                                    f'content="{html.escape(laid.note)}">', 1)
        return write(path, laid.document, source, lambda kinds: frame_html(options, kinds),
                     geometry(options), fetcher, fonts)

    if options.pages:
        return written(target, flow.fit(options, plan))
    return ahead.fill(flow, options, plan, target, cache, written, spare=workers != 1)


def _write_chunks(target: Path, vault: Vault, chunks: list[Chunk], options: SheetOptions,
                  cache: Store | None, workers: int,
                  tick: Tick | None) -> str:
    """Lay the chunks out (or take them from ``cache``), then join their column pages."""
    store = sheet_chunks.ChunkCache(cache) if cache else None
    started = time.perf_counter()
    with processes.temporary_folder() as scratch:
        layouts = sheet_chunks.lay_out_all(vault, chunks, options, store, Path(scratch),
                                           workers, tick)
        laid = time.perf_counter()
        g = geometry(options)
        printed = sheet_join.slots(layouts, g)
        source = joined([layout.source for layout in layouts])
        kinds = sheet_join.kinds(printed, layouts, g)
        frame_key = hashlib.sha256(f"{options!r}\0{kinds}".encode()).hexdigest()
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
        store.prune({layout.key for layout in layouts}, frame_key)
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
