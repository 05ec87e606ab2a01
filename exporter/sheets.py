"""The PDF stage: which sheets to print, which the cache already holds, rendering the rest on
every core, and finding the note that makes a sheet fail."""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import __version__, pdf, select
from .config import Config, ExportError
from .fit import FitError
from .model import Diagnostic, Note, Vault
from .parse import slugify

log = logging.getLogger(__name__)
CACHE_DIR = ".notes-export-cache"
Progress = Callable[[str, int, int], None]


@dataclass
class SheetJob:
    """One PDF to write: its file stem (relative to the output folder), notes and options."""

    stem: str
    vault: Vault
    options: pdf.SheetOptions
    key: str = ""


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
    for key, notes in groups.items():
        title = f"{config.title} › {key.replace('/', ' › ')}" if key else config.title
        stem = config.stem if config.pdf_per is None else \
            f"{config.stem}/{slugify(key) if key else config.stem}"
        part = Vault(root=vault.root, notes=notes, assets=vault.assets)
        jobs.append(SheetJob(stem, part, config.sheet(title, date)))  # type: ignore[arg-type]
    return jobs


_FIT = re.compile(r'<meta name="notes-export-fit" content="([^"]*)">')


def fit_note(source: str) -> str:
    """What ``--pages`` chose for a sheet, as recorded in the HTML it was laid out from."""
    found = _FIT.search(source)
    return html.unescape(found.group(1)) if found else ""


def cache_key(job: SheetJob) -> str:
    """What the PDF depends on: the exporter's version, options, HTML (with our CSS) and the
    bytes of every image it shows."""
    digest = hashlib.sha256(f"{__version__}\0{job.options!r}".encode())
    source = pdf.build_html(job.vault, job.options)
    digest.update(source.encode())
    for name, asset in sorted(job.vault.assets.items()):
        if f'src="{name}"' in source:
            digest.update(name.encode() + b"\0" + asset.path.read_bytes())
    return digest.hexdigest()


def write_sheets(jobs: list[SheetJob], targets: list[Path], out_dir: Path,
                 diagnostics: list[Diagnostic], progress: Progress | None = None,
                 workers: int | None = None) -> list[str]:
    """Write each job's PDF to its target, reusing cached ones; return the HTML of each."""
    cache = out_dir / CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    sources: list[str | None] = [None] * len(jobs)
    todo = []
    for index, (job, target) in enumerate(zip(jobs, targets, strict=True)):
        job.key = cache_key(job)
        cached = cache / f"{job.key}.pdf"
        if cached.is_file() and (cache / f"{job.key}.html").is_file():
            log.debug("%s.pdf is unchanged: taken from the cache", job.stem)
            shutil.copyfile(cached, target)
            sources[index] = (cache / f"{job.key}.html").read_text(encoding="utf-8")
        else:
            todo.append(index)
    done = len(jobs) - len(todo)
    if progress:
        progress("PDFs", done, len(jobs))
    for index, source in _render_all([(targets[i], jobs[i]) for i in todo], diagnostics,
                                     workers, lambda n: progress and progress(
                                         "PDFs", done + n, len(jobs))):
        real = todo[index]
        sources[real] = source
        shutil.copyfile(targets[real], cache / f"{jobs[real].key}.pdf")
        (cache / f"{jobs[real].key}.html").write_text(source, encoding="utf-8")
    _prune(cache, {job.key for job in jobs})
    return [s or "" for s in sources]


def _prune(cache: Path, keep: set[str]) -> None:
    """The cache keeps what this build used: it never grows past one build's sheets."""
    for path in cache.iterdir():
        if path.stem not in keep:
            path.unlink(missing_ok=True)


def _render_all(work: list[tuple[Path, SheetJob]], diagnostics: list[Diagnostic],
                workers: int | None, tick: Callable[[int], object]) -> list[tuple[int, str]]:
    """Render on every core when there are several sheets; the bytes are the same either way."""
    workers = workers or min(len(work), os.cpu_count() or 1)
    if workers <= 1 or len(work) <= 1:
        results = []
        for n, (target, job) in enumerate(work):
            results.append((n, write_sheet(target, job.vault, job.options, diagnostics)))
            tick(n + 1)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_render_one, target, job.vault, job.options)
                   for target, job in work]
        results = []
        for n, future in enumerate(futures):
            error = future.exception()
            target, job = work[n]
            if error is None:
                results.append((n, future.result()))
            else:  # find the note that fails, here in this process, and print the rest
                results.append((n, write_sheet(target, job.vault, job.options, diagnostics)))
            tick(n + 1)
    return results


def _render_one(target: Path, vault: Vault, options: pdf.SheetOptions) -> str:
    from . import layout

    return layout.write_sheet(target, vault, options)


def write_sheet(target: Path, vault: Vault, options: pdf.SheetOptions,
                diagnostics: list[Diagnostic]) -> str:
    """Write one PDF; when layout fails, find the notes that make it fail and leave them out."""
    from . import layout  # WeasyPrint loads slowly: only when a PDF is wanted

    try:
        return layout.write_sheet(target, vault, options)
    except FitError:
        raise  # the notes are fine; the pages asked for are too few
    except Exception as exc:
        log.debug("PDF layout failed", exc_info=True)
        failure = exc
    culprits = []
    for note in vault.notes:
        alone = Vault(root=vault.root, notes=[note], assets=vault.assets)
        try:
            layout.write_sheet(target, alone, options)
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
    try:
        return layout.write_sheet(target, kept, options)
    except Exception as exc:
        raise ExportError(f"writing the PDF failed: {type(exc).__name__}: {exc}") from exc
