"""The outputs of ``build``, written together: the writers in order, each file written beside
its target first and all moved into place at the end, so a failure at any stage leaves the
previous deck, PDF and state untouched."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from exporter.app.deck_writer import DeckWriter
from exporter.app.sheet_writer import SheetWriter
from exporter.app.writers import Build, Output, Writer
from exporter.core import processes
from exporter.core.config import GITIGNORE, Config
from exporter.core.errors import ExportError

# The outputs of ``build``, in the order they are written; a new output is one line here.
WRITERS: list[Writer] = [DeckWriter(), SheetWriter()]


def make_out_dir(config: Config) -> None:
    """The output folder; the default one inside the notes folder gets a ``.gitignore`` that
    keeps it out of the vault's repository (an existing one is the user's, and kept)."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    ignore = config.out_dir / ".gitignore"
    # never written through a link: a checkout may hold one under either name
    if config.out_ignored and not config.out_dir.is_symlink() and not ignore.is_symlink() \
            and not ignore.exists():
        try:
            ignore.write_text(GITIGNORE, encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"cannot write '{ignore}': {exc}") from exc


def write_outputs(config: Config, build: Build,
                  written_one: Callable[[str], object] | None = None) -> list[Output]:
    """Every enabled writer's outputs, all moved into place together; ``written_one`` hears
    each writer's name when it is done."""
    written: list[Path] = []
    with staged() as stage:
        for writer in WRITERS:
            if writer.enabled(config):
                written += writer.write(build, stage)
                if written_one:
                    written_one(writer.name)
    return [Output(path, path.stat().st_size) for path in written]


@contextmanager
def staged() -> Iterator[Callable[[Path], Path]]:
    """Hand out temporary paths for targets; move them all into place only if no error occurs."""
    staged: dict[Path, Path] = {}  # target → its temporary file

    def stage(target: Path) -> Path:
        if target in staged:  # two outputs under one name: the second would be lost
            raise ExportError(f"two outputs would both be written to '{target}'")
        if target.parent.is_symlink():  # an output folder from the checkout may lead anywhere
            raise ExportError(f"output folder '{target.parent}' is a symbolic link; refused")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.parent not in {t.parent for t in staged}:
            _remove_leftovers(target.parent)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)  # never write through a link left under that name
        staged[target] = tmp
        return tmp

    try:
        yield stage
        for target, tmp in staged.items():  # check all before replacing any
            if target.is_dir() and not target.is_symlink():
                raise ExportError(f"'{target}' is a folder; nothing was replaced")
            if not tmp.is_file():
                raise ExportError(f"'{target}' was not written; nothing was replaced")
        for target, tmp in staged.items():
            os.replace(tmp, target)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


_LEFTOVER = re.compile(r"^\..+\.(\d+)\.tmp$")


def _remove_leftovers(folder: Path) -> None:
    """Delete the temporary files of a build that was killed (its process is gone)."""
    for path in folder.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and not _running(int(match.group(1))) and \
                (path.is_symlink() or path.is_file()):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """True when a process with this id exists (another build may be writing beside us)."""
    if pid == os.getpid():
        return False  # our own leftovers from an earlier build in this process
    return processes.running(pid)
