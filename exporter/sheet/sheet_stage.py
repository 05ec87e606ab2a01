"""The PDF stage: which sheets to print, which the sheet cache (sheetcache.py) already holds,
rendering the rest on every core, and finding the note that makes a sheet fail."""

from __future__ import annotations

import html
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from exporter.cache.cachestore import Store
from exporter.core import processes
from exporter.core.config import Config, SheetOptions
from exporter.core.errors import ChunkError, ExportError, FitError
from exporter.core.model import Diagnostic, Note, Progress, Vault
from exporter.core.text import slugify
from exporter.read import select
from exporter.sheet import sheetcache

if TYPE_CHECKING:
    from exporter.sheet.sheet_chunks import Chunk, Tick

log = logging.getLogger(__name__)


@dataclass
class SheetJob:
    """One PDF to write: its file stem (relative to the output folder), notes and options."""

    stem: str
    vault: Vault
    options: SheetOptions
    context: str = ""  # the options that declare "sheet", which its key names
    key: str = ""
    chunks: Store | None = None  # where the sheet's laid-out chunks are kept
    prepared: list[Chunk] | None = None  # its content in chunks, with their keys


def plan_sheets(config: Config, vault: Vault, date: object) -> list[SheetJob]:
    """One sheet for everything, or one per note, or one per top-level folder."""
    groups: dict[str, list[Note]] = {}
    for note in filter(select.on_sheet, vault.notes):
        if config.pdf_per == "note":
            key = note.relpath.removesuffix(".md")
        elif config.pdf_per == "folder":
            key = note.relpath.split("/", 1)[0] if "/" in note.relpath else ""
        else:
            key = ""
        groups.setdefault(key, []).append(note)
    if not groups:
        groups[""] = []
    jobs = []
    used: set[str] = set()
    context = config.options_key("sheet")
    for key, notes in groups.items():
        title = f"{config.title} › {key.replace('/', ' › ')}" if key else config.title
        stem = config.stem if config.pdf_per is None else \
            f"{config.stem}/{_file_name(key or config.stem, used)}"
        part = Vault(root=vault.root, notes=notes, assets=vault.assets)
        jobs.append(SheetJob(stem, part, config.sheet(title, date),  # type: ignore[arg-type]
                             context))
    return jobs


_NOT_WORD = re.compile(r"[\W_]+")
MAX_NAME = 80  # characters; file systems allow 255 bytes and a letter may take four


def _file_name(key: str, used: set[str]) -> str:
    """A file name for one sheet that keeps the letters of any script, unique among ``used``
    even on a file system that ignores case (``A.md`` and ``a.md`` get two PDFs)."""
    text = unicodedata.normalize("NFC", key).lower()
    name = _NOT_WORD.sub("-", text).strip("-")[:MAX_NAME].strip("-") or slugify(key)
    unique, number = name, 1
    while unique.casefold() in used:
        number += 1
        unique = f"{name}-{number}"
    used.add(unique.casefold())
    return unique


_FIT = re.compile(r'<meta name="notes-export-fit" content="([^"]*)">')


def fit_note(source: str) -> str:
    """What ``--pages`` chose for a sheet, as recorded in the HTML it was laid out from."""
    found = _FIT.search(source)
    return html.unescape(found.group(1)) if found else ""


def write_sheets(jobs: list[SheetJob], targets: list[Path], out_dir: Path,
                 diagnostics: list[Diagnostic], progress: Progress | None = None,
                 workers: int | None = None) -> list[str]:
    """Write each job's PDF to its target, reusing cached ones; return the HTML of each."""
    # no WeasyPrint: a build whose sheets are cached never loads it
    from exporter.sheet import sheet_chunks

    cache = sheetcache.open_cache(out_dir, diagnostics)
    sources: list[str | None] = [None] * len(jobs)
    todo = []
    for index, (job, target) in enumerate(zip(jobs, targets, strict=True)):
        job.prepared = sheet_chunks.prepare(job.vault, job.options)  # laid out from these
        job.key = sheetcache.cache_key(job.options, job.prepared, job.context)
        job.chunks = cache.chunks(job.stem)
        sources[index] = cache.get(job.key, target)
        if sources[index] is None:
            todo.append(index)
        else:
            log.debug("%s.pdf is unchanged: taken from the cache", job.stem)
    done = len(jobs) - len(todo)
    if progress:
        progress("PDFs", done, len(jobs))
    chunked = (lambda n, total: progress("sheet chunks laid out", n, total)) if progress else None
    for index, source in _render_all([(targets[i], jobs[i]) for i in todo], diagnostics,
                                     workers, lambda n: progress and progress(
                                         "PDFs", done + n, len(jobs)), chunked):
        real = todo[index]
        sources[real] = source
        cache.put(jobs[real].key, targets[real], source)
    cache.prune({job.key for job in jobs}, {job.stem for job in jobs})
    return [s or "" for s in sources]


def _render_all(work: list[tuple[Path, SheetJob]], diagnostics: list[Diagnostic],
                workers: int | None, tick: Callable[[int], object],
                chunked: Tick | None = None) -> list[tuple[int, str]]:
    """Render on every core when there are several sheets (one sheet's chunks use them
    otherwise, and ``chunked`` hears of each); the bytes are the same either way."""
    workers = workers or min(len(work), os.cpu_count() or 1)
    if workers <= 1 or len(work) <= 1:
        results = []
        for n, (target, job) in enumerate(work):
            results.append((n, write_sheet(target, job.vault, job.options, diagnostics,
                                           job.chunks, chunked, job.prepared)))
            tick(n + 1)
        return results
    with processes.pool(workers) as pool:
        futures = [pool.submit(_render_one, target, job.vault, job.options, job.chunks,
                               job.prepared) for target, job in work]
        results = []
        for n, future in enumerate(futures):
            error = future.exception()
            target, job = work[n]
            if error is None:
                results.append((n, future.result()))
            else:  # find the note that fails, here in this process, and print the rest
                results.append((n, write_sheet(target, job.vault, job.options, diagnostics,
                                               job.chunks)))
            tick(n + 1)
    return results


def _render_one(target: Path, vault: Vault, options: SheetOptions,
                chunks: Store | None, prepared: list[Chunk] | None) -> str:
    from exporter.sheet import assemble
    from exporter.sheet.columns import source_date

    with source_date(options.date):  # one sheet per core already: its chunks on this one
        return assemble.write_sheet(target, vault, options, chunks, workers=1,
                                        prepared=prepared)


def write_sheet(target: Path, vault: Vault, options: SheetOptions,
                diagnostics: list[Diagnostic], chunks: Store | None = None,
                chunked: Tick | None = None, prepared: list[Chunk] | None = None) -> str:
    """Write one PDF; when layout fails, find the notes that make it fail and leave them out."""
    from exporter.sheet.columns import source_date  # WeasyPrint: only when a PDF is wanted

    with source_date(options.date):
        return _write_sheet(target, vault, options, diagnostics, chunks, chunked, prepared)


def _write_sheet(target: Path, vault: Vault, options: SheetOptions,
                 diagnostics: list[Diagnostic], chunks: Store | None,
                 chunked: Tick | None, prepared: list[Chunk] | None) -> str:
    from exporter.sheet import assemble  # WeasyPrint loads slowly: only when a PDF is wanted

    try:
        return assemble.write_sheet(target, vault, options, chunks, tick=chunked,
                                        prepared=prepared)
    except FitError:
        raise  # the notes are fine; the pages asked for are too few
    except Exception as exc:
        log.debug("PDF layout failed", exc_info=True)
        failure = exc
    suspects = vault.notes
    if isinstance(failure, ChunkError):  # one chunk of a large sheet: the culprit is in it
        inside = set(failure.notes)
        suspects = [note for note in vault.notes if note.relpath in inside]
        failure = failure.cause
    culprits = []
    for note in suspects:
        alone = Vault(root=vault.root, notes=[note], assets=vault.assets)
        try:
            assemble.write_sheet(target, alone, options)
        except Exception as exc:
            culprits.append(note)
            diagnostics.append(Diagnostic(
                note.relpath, 1, 1, "error", "note could not be laid out in the PDF and was left "
                f"out of it: {type(exc).__name__}: {exc}", "pdf-failed"))
    if not culprits or len(culprits) == len(vault.notes):
        where = f" on '{vault.notes[0].relpath}'" if len(vault.notes) == 1 else ""
        raise ExportError(f"writing the PDF failed{where}: {type(failure).__name__}: {failure}")
    kept = Vault(root=vault.root, notes=[n for n in vault.notes if n not in culprits],
                 assets=vault.assets)
    try:  # the other chunks are taken from the cache
        return assemble.write_sheet(target, kept, options, chunks, tick=chunked)
    except Exception as exc:
        raise ExportError(f"writing the PDF failed: {type(exc).__name__}: {exc}") from exc
