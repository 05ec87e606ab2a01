"""Render a vault's notes: those not already known, on every core when there are many; serial
and parallel runs render each note with the same function and apply the results in note order,
so the vault ends up the same either way."""

from __future__ import annotations

import multiprocessing
import os

from exporter.core import processes
from exporter.core.model import Progress
from exporter.render.render import NoteRendering, Renderer

PARALLEL_NOTES = 200  # below this, starting worker processes costs more than it saves
_WORKER: Renderer | None = None  # the renderer a forked worker inherits


def render_notes(renderer: Renderer, found: dict[int, NoteRendering],
                 progress: Progress | None, parallel: bool = True) -> dict[int, NoteRendering]:
    """Apply each note's rendering: ``found`` (by note number) or a fresh one, which is
    returned; ``parallel``: on every core when enough notes are left to render."""
    notes = renderer.vault.notes
    todo = [i for i in range(len(notes)) if i not in found]
    if parallel and len(todo) >= PARALLEL_NOTES and fork_workers() > 1:
        return render_in_workers(renderer, todo, found, progress)
    fresh: dict[int, NoteRendering] = {}
    for number, note in enumerate(notes):
        if progress and ((number + 1) % 50 == 0 or number + 1 == len(notes)):
            progress("notes", number + 1, len(notes))
        if number in found:
            renderer.apply(note, found[number])
        else:
            fresh[number] = render_one(renderer, number)
    return fresh


def render_one(renderer: Renderer, number: int) -> NoteRendering:
    """The one per-note step, here or in a worker."""
    return renderer.render_note(renderer.vault.notes[number])


def fork_workers() -> int:
    """How many processes to render in: all cores, where processes can be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return os.cpu_count() or 1


def render_chunk(indexes: list[int]) -> list[NoteRendering]:
    """A worker's share: the notes ``indexes`` of the renderer it inherited."""
    assert _WORKER is not None
    return [render_one(_WORKER, i) for i in indexes]


def render_in_workers(renderer: Renderer, todo: list[int], found: dict[int, NoteRendering],
                      progress: Progress | None) -> dict[int, NoteRendering]:
    """Render the notes ``todo`` on every core; each note's result (or its ``found`` one) is
    applied here, in note order, so the vault ends up exactly as a serial run leaves it."""
    global _WORKER
    notes = renderer.vault.notes
    size = max(1, len(todo) // (fork_workers() * 4))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    _WORKER = renderer
    fresh: dict[int, NoteRendering] = {}
    applied = 0
    try:
        context = multiprocessing.get_context("fork")
        with processes.pool(fork_workers(), context) as pool:
            for chunk, renderings in zip(chunks, pool.map(render_chunk, chunks), strict=True):
                fresh.update(zip(chunk, renderings, strict=True))
                while applied < len(notes) and (applied in fresh or applied in found):
                    renderer.apply(notes[applied], fresh.get(applied) or found[applied])
                    applied += 1
                if progress:
                    progress("notes", applied, len(notes))
    finally:
        _WORKER = None
    return fresh
