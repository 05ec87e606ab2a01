"""A warm ``check``/``build`` starts from the session the last run saved (snapshot.py): its
outputs are byte-identical to a cold build's, and a snapshot that is corrupt, forged, from
other code or other options, or reached through a link is never trusted."""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from pathlib import Path

import pytest

from exporter.app import pipeline, snapshot
from exporter.app.engine import Engine
from exporter.cache import cachestore, codedigest
from exporter.core.config import Config

from .test_warm_watch import _config, _outputs, cold_export, make_vault

pytestmark = pytest.mark.usefixtures("own_key")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """test_warm_watch's small vault."""
    return make_vault(tmp_path)


def _warm_equals_cold(project: Path, config: Config) -> None:
    """A build from the snapshot writes what a build that keeps nothing writes."""
    cold = project / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    shutil.copytree(config.out_dir, cold)
    shutil.rmtree(cold / ".notes-export-cache")
    warm = pipeline.export(config)
    expected = cold_export(_config(project, "cold"))
    assert _outputs(config.out_dir) == _outputs(cold)
    assert warm.diagnostics == expected.diagnostics


def _made(config: Config) -> int:
    """How many notes, renderings and cards a warm check made anew."""
    made: list[int] = []
    real = Engine.check

    def spy(self: Engine, progress: object = None) -> object:
        result = real(self, None)
        made.append(self.made)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Engine, "check", spy)
        pipeline.check(config)
    return made[0]


def test_a_warm_build_starts_from_the_snapshot_and_matches_a_cold_one(vault: Path) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    assert snapshot.path_of(config).is_file()
    assert _made(config) == 0  # nothing changed: nothing read, rendered or carded
    notes = vault / "notes"
    (notes / "d.md").write_text((notes / "d.md").read_text() + "\nmore\n", encoding="utf-8")
    _warm_equals_cold(vault, config)
    assert _made(config) == 0  # the build saved what it made
    (notes / "c.md").write_text("# C\nother text\n", encoding="utf-8")  # a embeds c
    _warm_equals_cold(vault, config)


def test_check_and_build_share_one_snapshot(vault: Path) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    checking = _config(vault, "warm", write_anki=False, pages=3, layout="cards")
    assert _made(checking) == 0


def test_options_that_reach_the_cards_make_the_snapshot_unusable(vault: Path) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    assert _made(_config(vault, "warm", folder_tags=True)) > 0
    assert _made(_config(vault, "warm", cloze_highlights=True)) > 0


def _tamper(config: Config, change: str) -> None:
    path = snapshot.path_of(config)
    data = path.read_bytes()
    _, _, body = data.partition(b"\n")
    if change == "corrupt":
        path.write_bytes(data[: len(data) // 2])
    elif change == "forged":  # a valid pickle, signed with a key that is not ours
        state = pickle.loads(body)
        state["reads"] = {}
        forged = pickle.dumps(state)
        path.write_bytes(b"0" * 64 + b"\n" + forged)
    elif change == "other-options":  # ours, moved to the name of other options' snapshot
        other = dataclasses.replace(config, cloze_highlights=True)
        path.rename(snapshot.path_of(other))
        assert snapshot.load(other) is None  # signed with its own name: refused there too
    elif change == "link":
        target = path.with_name("elsewhere")
        path.rename(target)
        os.symlink(target, path)
    elif change == "deleted":
        path.unlink()


@pytest.mark.parametrize("change", ["corrupt", "forged", "other-options", "link", "deleted"])
def test_a_snapshot_not_to_be_trusted_is_ignored_and_replaced(vault: Path, change: str) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    _tamper(config, change)
    assert _made(config) > 0  # read and rendered again, not taken from the file
    path = snapshot.path_of(config)
    assert path.is_file() and not path.is_symlink()
    assert _made(config) == 0  # replaced by a good one
    _warm_equals_cold(vault, config)


def test_a_forged_pickle_is_never_unpickled(vault: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    path = snapshot.path_of(config)
    path.write_bytes(b"0" * 64 + b"\n" + b"not a pickle")
    monkeypatch.setattr(pickle, "loads", lambda *a: pytest.fail("unpickled a forged file"))
    assert snapshot.load(config) is None


def test_other_code_makes_the_snapshot_stale(vault: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    monkeypatch.setattr(codedigest, "source_digest", lambda: "another version")
    assert snapshot.load(config) is None


def test_the_note_cache_keeps_the_snapshot_when_it_prunes(vault: Path) -> None:
    config = _config(vault, "warm")
    pipeline.export(config)
    (vault / "notes" / "b.md").unlink()  # every key changes: every old entry is pruned
    pipeline.export(config)
    assert snapshot.path_of(config).is_file()
    assert snapshot.path_of(config).parent.name == cachestore.SESSION  # a folder of its own


def test_a_session_that_cannot_be_saved_leaves_the_build_whole(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(vault, "warm")
    monkeypatch.setattr(Engine, "kept", lambda self: {"reads": lambda: None})  # unpicklable
    pipeline.export(config)
    assert not snapshot.path_of(config).exists()
    assert not list(snapshot.path_of(config).parent.glob(".*.tmp"))
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(vault / "xdg"))
    _warm_equals_cold(vault, config)
