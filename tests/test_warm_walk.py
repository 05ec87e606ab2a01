"""The faster walks of a warm run give what the plain ones gave: resolved paths, one stat less."""

from __future__ import annotations

import os
from pathlib import Path

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
