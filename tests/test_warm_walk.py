"""The faster walks of a warm run give what the plain ones gave: resolved paths, one stat less,
and a walk kept while no folder changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from exporter.core.model import Diagnostic
from exporter.read import vault
from exporter.read.vault import walk_files

from .conftest import write_note


def test_resolved_walk_gives_each_file_s_real_path(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    write_note(root, "a/one.md", "# One\n")
    write_note(root, "a/b/pic.png", "not really")
    write_note(tmp_path / "elsewhere", "two.md", "# Two\n")
    os.symlink(root / "a" / "b", root / "linked-folder")
    os.symlink(root / "a" / "one.md", root / "linked-file.md")
    os.symlink(tmp_path / "elsewhere", root / "a" / "outside")  # leads out: never followed
    plain = list(walk_files(root, [root]))
    fast = list(walk_files(root, [root], resolved=True))
    assert fast == [path.resolve() for path in plain]
    assert root / "linked-file.md" in plain and root / "a" / "one.md" in fast
    assert not any("elsewhere" in str(path) for path in fast)


def _age(root: Path) -> None:
    """Every folder under ``root`` last changed a minute ago: old enough for its walk to be
    kept (a folder changed within the last two seconds may change again unseen)."""
    old = time.time() - 60
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(folder, (old, old))


def test_a_kept_walk_is_given_again_until_a_folder_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "vault"
    write_note(root, "a/one.md", "# One\n")
    write_note(root, "a/b/pic.png", "not really")
    write_note(root, "two.md", "# Two\n")
    _age(root)
    listed: list[str] = []
    real = os.scandir
    monkeypatch.setattr(vault.os, "scandir", lambda path: listed.append(str(path)) or real(path))
    first = list(walk_files(root, [root], resolved=True))
    assert len(listed) == 3
    assert list(walk_files(root, [root], resolved=True)) == first
    assert len(listed) == 3  # given again, no folder read
    edits = [lambda: write_note(root, "a/b/three.md", "# Three\n"),  # a file added
             lambda: (root / "two.md").unlink(),  # … removed
             lambda: (root / "a" / "one.md").rename(root / "a" / "uno.md"),  # … renamed
             lambda: (root / "a" / "c").mkdir(),  # a folder added
             lambda: write_note(root, "a/c/four.md", "# Four\n")]  # … and filled
    for edit in edits:
        _age(root)
        kept = list(walk_files(root, [root], resolved=True))  # kept: every folder is old
        reads = len(listed)
        assert list(walk_files(root, [root], resolved=True)) == kept and len(listed) == reads
        edit()
        again = list(walk_files(root, [root], resolved=True))
        assert len(listed) > reads  # read again: a folder changed
        monkeypatch.setattr(vault, "RACY_NS", 1 << 62)  # a walk that keeps nothing
        assert again == list(walk_files(root, [root], resolved=True))
        monkeypatch.setattr(vault, "RACY_NS", 2_000_000_000)


def test_a_walk_that_met_a_link_or_a_problem_is_never_kept(tmp_path: Path) -> None:
    root, other = tmp_path / "vault", tmp_path / "other"
    write_note(root, "a/one.md", "# One\n")
    write_note(other, "two.md", "# Two\n")
    os.symlink(other / "two.md", root / "linked.md")  # leads into another allowed folder
    _age(root)
    assert root / "linked.md" in list(walk_files(root, [root, other]))
    (other / "two.md").unlink()  # the link breaks; no folder of the walk changed
    problems: list[Diagnostic] = []
    assert list(walk_files(root, [root, other], problems)) == [root / "a" / "one.md"]
    assert [p.code for p in problems] == ["skipped-file"]
    again: list[Diagnostic] = []
    list(walk_files(root, [root, other], again))
    assert again == problems  # said again: a walk with a problem is not kept
