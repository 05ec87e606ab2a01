"""Equal notes give equal bytes: in one output folder, in two, and from two copies."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EPOCH, SAMPLE_NOTE, build


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_two_copies_built_apart_are_byte_identical(sample: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "clone"
    shutil.copytree(sample, other)
    build(sample, epoch=EPOCH)
    build(other, epoch=EPOCH)
    first, second = _outputs(sample / "dist"), _outputs(other / "dist")
    assert set(first) == {".aws-other-compute.notes-export.json", "aws-other-compute.apkg",
                          "aws-other-compute.pdf"}
    assert first == second


def test_rebuild_without_changes_is_byte_identical_even_later(sample: Path) -> None:
    build(sample, epoch=EPOCH)
    first = _outputs(sample / "dist")
    build(sample, epoch=None)  # a later wall clock; the kept state pins unchanged cards
    assert _outputs(sample / "dist") == first


def test_an_edit_changes_the_deck(sample: Path) -> None:
    build(sample, epoch=EPOCH, pdf=False)
    first = (sample / "dist" / "aws-other-compute.apkg").read_bytes()
    note = sample / "notes" / SAMPLE_NOTE
    note.write_text(note.read_text(encoding="utf-8").replace("serverless", "server-less", 1),
                    encoding="utf-8")
    build(sample, epoch=EPOCH, pdf=False)
    assert (sample / "dist" / "aws-other-compute.apkg").read_bytes() != first


def test_two_fresh_clones_build_identical_bytes(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    digests = []
    for name in ("one", "two"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(root), str(clone)],
                       check=True)
        subprocess.run([sys.executable, "-m", "exporter", "build"], cwd=clone, env=env,
                       check=True, capture_output=True)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in (clone / "dist").iterdir() if p.is_file()})
    assert digests[0] == digests[1]
    # the deck name comes from [tool.notes-export] in the repository's pyproject.toml
    assert set(digests[0]) == {"aws-other-compute.apkg", "aws-other-compute.pdf",
                               ".aws-other-compute.notes-export.json"}
