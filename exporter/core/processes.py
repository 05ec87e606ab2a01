"""What a build's processes leave behind when one is killed: worker processes that outlive the
build (they die with it here) and temporary folders (the next build removes them).

Temporary folders are named ``notes-export-<pid>-*`` after the process that made them. A
build removes such a folder in the temporary folder when it is a real folder (not a link),
owned by this user, unchanged for a minute, and no process with its pid runs. The minute
guards against a folder whose owner we cannot see (another pid namespace sharing /tmp) or
which was only just made; a reused pid keeps a dead build's folder until that process ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
PREFIX = "notes-export-"
STALE_AFTER = 60.0  # seconds a dead process's folder is left alone
POLL = 0.5  # seconds between a worker's looks at its parent, where the kernel cannot tell it
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_FOLDER = re.compile(re.escape(PREFIX) + r"(\d+)-")


# --- worker processes -----------------------------------------------------------------------

def pool(workers: int, context: BaseContext | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers exit when the process that made it dies, even by kill -9
    (an executor's workers otherwise wait for work forever)."""
    context = context or multiprocessing.get_context()
    # a forkserver's workers are its children, not ours: their parent is read in the worker
    parent = None if context.get_start_method() == "forkserver" else os.getpid()
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=die_with_parent, initargs=(parent,))


def die_with_parent(parent: int | None) -> None:
    """Pool initializer: exit when ``parent`` (None: the current parent) dies. On Linux the
    kernel kills the worker at once; a thread watching the parent's pid is the fallback
    everywhere (within ``POLL`` seconds)."""
    expected = os.getppid() if parent is None else parent
    _ask_kernel()
    if os.getppid() != expected:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch, args=(expected,), name="notes-export-parent",
                     daemon=True).start()


def _ask_kernel() -> bool:
    """Have the kernel send SIGKILL to this process when its parent exits (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's prctl
        return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError) as exc:
        log.debug("PR_SET_PDEATHSIG unavailable: %s", exc)
        return False


def _watch(parent: int, poll: float = POLL) -> None:
    """Exit the process once its parent is no longer ``parent`` (it was re-parented)."""
    while os.getppid() == parent:
        time.sleep(poll)
    os._exit(1)


class Ahead:
    """``work(*args)``, a generator, run in a forked process while this one goes on; what it
    yields (picklable) read back one by one with :meth:`next`, or the process killed with
    :meth:`stop` once no more is wanted. It dies with this process, like a pool's workers."""

    def __init__(self, work: Callable[..., Iterator[Any]], *args: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        self._process = context.Process(target=_ahead, args=(os.getpid(), writer, work, args),
                                        name="notes-export-ahead", daemon=True)
        self._process.start()
        writer.close()

    @staticmethod
    def possible() -> bool:
        """Whether a spare core and forked processes are at hand."""
        return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()

    def next(self) -> Any | None:
        """What ``work`` yielded next; None (and the process stopped) when it raised, ended or
        died instead."""
        try:
            done, value = self._reader.recv()
        except (EOFError, OSError):
            done, value = False, None
        if not done:
            self.stop()
        return value if done else None

    def stop(self) -> None:
        """Kill the process (when still running) and wait for it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._reader.close()


def _ahead(parent: int, writer: Any, work: Callable[..., Iterator[Any]],
           args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    try:
        for value in work(*args):
            writer.send((True, value))
    except Exception:  # the caller does the work itself and meets the error there
        log.debug("work ahead failed", exc_info=True)
    with contextlib.suppress(OSError):  # the caller stopped listening
        writer.send((False, None))
    writer.close()


# --- temporary folders ----------------------------------------------------------------------

def temporary_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder named after this process, so a later build can tell it is stale."""
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")


def remove_stale_folders(folder: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the temporary folders of builds that were killed (the rule is in the module's
    docstring); return those removed."""
    folder = Path(tempfile.gettempdir()) if folder is None else folder
    now = time.time() if now is None else now
    removed = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    for name in names:
        match = _FOLDER.match(name)
        if match and _stale(folder / name, int(match.group(1)), now):
            shutil.rmtree(folder / name, ignore_errors=True)  # never follows a link inside
            removed.append(folder / name)
    if removed:
        log.debug("removed %d temporary folders of killed builds", len(removed))
    return removed


def _stale(path: Path, pid: int, now: float) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and now - info.st_mtime > STALE_AFTER and not running(pid))


def running(pid: int) -> bool:
    """True when a process with this id exists (ours or another user's)."""
    if pid <= 0:
        return True  # never a build's own id: kill(0) or kill(-1) would ask about groups
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # someone else's process
        return True
    return True
