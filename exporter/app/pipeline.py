"""The library's entry points: ``check`` and ``export`` run the engine's stages (engine.py) on a
notes folder; ``load_vault`` gives the notes read and rendered, for tools and tests."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from exporter.app import engine, outputs
from exporter.app.engine import Engine
from exporter.app.writers import Result
from exporter.core import processes
from exporter.core.config import Config
from exporter.core.model import Progress, Vault
from exporter.render.remote import RemoteImages

log = logging.getLogger(__name__)


def check(config: Config, progress: Progress | None = None) -> Result:
    """Parse and render everything and make the cards, but write nothing and lay out no PDF;
    the note cache and snapshot of an earlier build are used (and kept up to date) when the
    output folder exists, but no output folder is made for them."""
    processes.remove_stale_folders()  # those of a build that was killed
    with processes.temporary_folder() as work:
        run = _engine(config, Path(work), keep=config.out_dir.is_dir())
        result = run.check(progress)
        engine.remember(run)
        return result


def export(config: Config, progress: Progress | None = None) -> Result:
    """Run every stage: read notes, render, make cards, write the deck, write the PDF."""
    processes.remove_stale_folders()  # those of a build that was killed
    started = time.perf_counter()
    with processes.temporary_folder() as work:
        keep = config.write_anki or config.write_pdf or config.out_dir.is_dir()
        outputs.make_out_dir(config)  # before the note cache goes into it
        run = _engine(config, Path(work), keep)
        result = run.check(progress)
        engine.remember(run)  # before the writers: a failing writer keeps the notes
        log.debug("read and rendered %d notes, %d cards in %.2f s", len(result.vault.notes),
                  len(result.cards), time.perf_counter() - started)
        return run.write(result, progress)


def load_vault(config: Config, progress: Progress | None = None) -> Vault:
    """Every note read, its card syntax read and its sections rendered; no cache is used."""
    return Engine(config, use_cache=False).load(progress)


def _engine(config: Config, work: Path, keep: bool) -> Engine:
    """The engine for one run: from the last run's snapshot and note cache when ``keep``;
    with ``--allow-remote``, one that fetches into ``work`` and keeps nothing."""
    if config.allow_remote:
        return Engine(config, remote=RemoteImages(work / "remote", config.allow_private_remote),
                      use_cache=False)
    if not keep:
        return Engine(config, use_cache=False)
    return engine.remembered(config)
