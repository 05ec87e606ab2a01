"""A build killed with kill -9 leaves nothing behind for long: its worker processes die with it,
and the next build removes its temporary folders (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from exporter.core import processes

from .conftest import ROOT, build, write_note

# A real build whose workers hang inside the step named, so the kill lands during it; each pool
# is started by the build itself (fork: the workers inherit the patched step).
SCRIPT = """
import sys, time
from pathlib import Path
from exporter.render import batch
from exporter.sheet import assemble, sheet_chunks
from exporter.app.pipeline import Config, export

def hang(*args, **kwargs):
    time.sleep(300)

pool, root = sys.argv[1], Path(sys.argv[2])
pdf_per = None
if pool == "chunks":  # one sheet in chunks, laid out on every core
    sheet_chunks.EVERY, sheet_chunks.MIN_NOTES, sheet_chunks.WHOLE_UP_TO = 1, 3, 0
    sheet_chunks.lay_out = hang
elif pool == "sheets":  # a sheet per note, on every core
    pdf_per = "note"
    assemble.write_sheet = hang
else:  # notes rendered in forked processes
    batch.PARALLEL_NOTES = 2
    batch.render_chunk = hang
export(Config(notes_dir=root / "notes", out_dir=root / "dist", write_anki=False,
              pdf_per=pdf_per, epoch=1_767_225_600))
"""


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, each with its start time (a pid may be reused)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and int(stat[1]) == pid:
                found[int(entry.name)] = stat[19]
    return found


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, from the state on."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _alive(pid: int, started: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[19] == started and stat[0] not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                    reason="reads /proc; the pools need two cores")
@pytest.mark.parametrize("pool", ["chunks", "sheets", "notes"])
def test_a_kill_during_layout_leaves_no_worker_alive(tmp_path: Path, pool: str) -> None:
    for n in range(9):
        write_note(tmp_path / "notes" / f"f{n % 3}", f"note {n}.md",
                   f"# Note {n}\n" + "".join(f"- line {i} of note {n}\n" for i in range(20)))
    script = tmp_path / "build.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    child = subprocess.Popen([sys.executable, str(script), pool, str(tmp_path)], env=env)
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
            workers = _children(child.pid)
        assert len(workers) >= 2, f"no pool started (exit {child.poll()})"
        time.sleep(0.5)  # the workers have taken their work and hang in it
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + 10
        while any(_alive(*w) for w in workers.items()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid, started in workers.items() if _alive(pid, started)]
    finally:
        child.kill()
        child.wait()
        for pid, started in workers.items():
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)  # a failed test leaves nothing either


def test_a_worker_whose_parent_changed_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portable fallback, and the check that closes the race with the kernel's signal."""
    exits: list[int] = []

    def exit_(code: int) -> None:
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(processes.os, "_exit", exit_)
    monkeypatch.setattr(processes, "_ask_kernel", lambda: False)
    with pytest.raises(SystemExit):
        processes._watch(os.getppid() + 1, poll=0)  # re-parented: not the parent it had
    with pytest.raises(SystemExit):
        processes.die_with_parent(os.getppid() + 1)  # its parent died before it started
    assert exits == [1, 1]


# --- temporary folders ---------------------------------------------------------------------------

def _folder(temp: Path, pid: int, tag: str, age: float) -> Path:
    """A build's temporary folder, last changed ``age`` seconds ago."""
    folder = temp / f"{processes.PREFIX}{pid}-{tag}"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "collection.anki2").write_bytes(b"data")
    stamp = time.time() - age
    os.utime(folder, (stamp, stamp))
    return folder


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder, for this test alone."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_stale_temporary_folders_of_a_dead_build_are_removed_by_the_next_build(
        tmp_path: Path, temp: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "60"])
    try:
        stale = _folder(temp, dead.pid, "stale", age=120)
        young = _folder(temp, dead.pid, "young", age=0)  # just made: its owner may be unseen
        running = _folder(temp, live.pid, "running", age=3600)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "keep.txt").write_text("mine")
        linked = temp / f"{processes.PREFIX}{dead.pid}-link"
        linked.symlink_to(elsewhere, target_is_directory=True)
        other = temp / "someone-else-123-x"
        other.mkdir()
        write_note(tmp_path / "notes", "a.md", "# A\n- Term = meaning\n")
        build(tmp_path, pdf=False)
        assert not stale.exists()
        assert young.is_dir() and running.is_dir() and other.is_dir()
        assert linked.is_symlink() and (elsewhere / "keep.txt").read_text() == "mine"
        # the build's own folders (named after its pid) are gone when it is done
        assert sorted(p.name for p in temp.iterdir()) == sorted(
            p.name for p in (young, running, linked, other))
    finally:
        live.kill()
        live.wait()


def test_a_temporary_folder_is_named_after_its_process_and_kept_while_it_runs(
        temp: Path) -> None:
    with processes.temporary_folder() as folder:
        assert Path(folder).parent == temp
        assert Path(folder).name.startswith(f"notes-export-{os.getpid()}-")
        os.utime(folder, (0, 0))
        assert processes.remove_stale_folders() == []
        assert Path(folder).is_dir()
