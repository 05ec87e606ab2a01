"""What a build's processes leave behind when one is killed: worker processes that outlive the
build (they die with it here) and temporary folders (the next build removes them).

Temporary folders are named ``notes-export-<pid>-*`` after the process that made them. A
build removes such a folder in the temporary folder when it is a real folder (not a link),
owned by this user, unchanged for a minute, and no process with its pid runs. The minute
guards against a folder whose owner we cannot see (another pid namespace sharing /tmp) or
which was only just made; a reused pid keeps a dead build's folder until that process ends.
"""

from __future__ import annotations

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
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path

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
