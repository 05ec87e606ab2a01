"""The sheet cache: each finished PDF and the HTML it was laid out from, kept by what it is made
of, in cachestore.py's ``sheets/``; and the folder of each sheet's chunks (sheet_chunks.py) in
``chunks/``. The store signs every entry and refuses one that is planted, forged, cut short,
linked or copied from another key: such a sheet is laid out again and the entry replaced."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from exporter.cache import cachestore
from exporter.cache.cachestore import Store
from exporter.core.config import SheetOptions
from exporter.core.model import Diagnostic

if TYPE_CHECKING:
    from exporter.sheet.sheet_chunks import Chunk

log = logging.getLogger(__name__)


def cache_key(options: SheetOptions, chunks: list[Chunk], context: str = "") -> str:
    """What the PDF depends on: the options that declare "sheet" (``context``), the sheet's own
    options and the keys of its chunks (sheet_chunks.py: their HTML names each image by a hash
    of its bytes); the store names it by the code too."""
    keys = "\0".join(chunk.key for chunk in chunks)
    return hashlib.sha256(f"{context}\0{options!r}\0{keys}".encode()).hexdigest()


class SheetCache:
    """PDFs and their HTML from earlier builds, by :func:`cache_key`; each sheet's chunks in a
    folder of their own. A store that could not be opened keeps nothing."""

    def __init__(self, sheets: Store | None, chunks: Store | None) -> None:
        self.sheets = sheets
        self.chunk_folders = chunks

    def get(self, key: str, target: Path) -> str | None:
        """Write the cached PDF to ``target`` and return its HTML, or None when it is not
        cached or not to be trusted."""
        body = self.sheets.get(key) if self.sheets else None
        if body is None:
            return None
        try:
            head, data = cachestore.unpack(body)
            if not isinstance(source := head.get("source"), str):
                raise TypeError("no HTML")
        except (ValueError, TypeError, RecursionError) as exc:
            log.debug("sheet %s not taken from the PDF cache: %s", key, exc)
            return None
        target.write_bytes(data)
        return source

    def put(self, key: str, pdf_file: Path, source: str) -> None:
        """Keep a rendered PDF and its HTML."""
        if self.sheets:
            self.sheets.put(key, cachestore.pack({"source": source}, pdf_file.read_bytes()))

    def chunks(self, stem: str) -> Store | None:
        """The store of one sheet's laid-out chunks (a sheet laid out whole keeps its second
        layout's plan there: ahead.py), or None."""
        return self.chunk_folders.within(stem) if self.chunk_folders else None

    def prune(self, keep: set[str], stems: set[str]) -> None:
        """The caches keep what this build used: the PDFs of ``keep``, the chunks of the
        sheets ``stems``; never more than one build's sheets."""
        if self.sheets:
            self.sheets.prune(keep)
        if self.chunk_folders:
            self.chunk_folders.prune((), stems)


def open_cache(out_dir: Path, diagnostics: list[Diagnostic]) -> SheetCache:
    """The sheet cache of ``out_dir``; sheets the layout before this one kept in the cache
    root are removed."""
    root = cachestore.root_of(out_dir)
    sheets = cachestore.open_store(root, cachestore.SHEETS, diagnostics=diagnostics)
    if sheets is None:
        return SheetCache(None, None)
    cachestore.remove_old_layout(root)
    return SheetCache(sheets, cachestore.open_store(root, cachestore.CHUNKS))
