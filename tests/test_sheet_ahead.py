"""The second layout laid out ahead (sheet/ahead.py): after an edit, a forked process lays a
whole sheet's second layout out from the plan its previous build kept while this one lays out
the first. Whatever that process does (hits, misses, fails, dies) the sheet's bytes are a cold
build's, and the kept plan is a signed cache entry like any other."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.app.pipeline import Config, export
from exporter.cache.cachestore import Store
from exporter.core import processes
from exporter.sheet import ahead, flow, sheetcache
from exporter.sheet.sheet_html import Plan

from .conftest import EPOCH, SAMPLE_NOTE

HIT = "second layout laid out ahead, from the kept plan"
pytestmark = pytest.mark.usefixtures("own_key")


@pytest.fixture(autouse=True)
def spare_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core to spare, whatever the machine running the tests has."""
    monkeypatch.setattr(processes.Ahead, "possible", staticmethod(lambda: True))


def _build(project: Path, out: str) -> dict[str, bytes]:
    """Build the sample's sheet (and its HTML) into ``project/out``; their bytes."""
    export(Config(notes_dir=project / "notes", asset_dirs=[project / "assets"],
                  out_dir=project / out, write_anki=False, write_html=True, epoch=EPOCH))
    return {p.name: p.read_bytes() for p in sorted((project / out).iterdir()) if p.is_file()}


def _store(project: Path, out: str = "dist") -> Store:
    store = sheetcache.open_cache(project / out, []).chunks("notes")
    assert store is not None
    return store


def _edit(project: Path) -> None:
    """A change that moves nothing: one digit for another (DejaVu's digits are all as wide)."""
    note = project / "notes" / SAMPLE_NOTE
    text = note.read_text(encoding="utf-8")
    assert "100,000s" in text
    note.write_text(text.replace("100,000s", "200,000s"), encoding="utf-8")


def _rebuilt(project: Path, caplog: pytest.LogCaptureFixture) -> dict[str, bytes]:
    """Build, edit, build again (logged); the second build's outputs."""
    first = _build(project, "dist")
    _edit(project)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.ahead"):
        again = _build(project, "dist")
    assert again["notes.pdf"] != first["notes.pdf"]
    assert multiprocessing.active_children() == []  # the process ahead never outlives a build
    return again


def test_an_edit_takes_the_second_layout_from_the_process_ahead(
        sample: Path, caplog: pytest.LogCaptureFixture) -> None:
    again = _rebuilt(sample, caplog)
    assert HIT in caplog.text and "the first is the better" not in caplog.text
    assert again == _build(sample, "cold")


def test_a_kept_plan_the_layout_does_not_ask_for_is_dropped(
        sample: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = ahead.kept
    wrong = Plan(shrink={0: 1.0})
    monkeypatch.setattr(ahead, "kept", lambda store: real(store) and wrong)
    again = _rebuilt(sample, caplog)
    assert HIT not in caplog.text
    assert again == _build(sample, "cold")
    assert real(_store(sample)) not in (None, wrong)  # the plan the layout asked for, kept


def _raises(*args: object) -> Iterator[object]:
    raise RuntimeError("laid out ahead, and failed")
    yield  # a generator, as ahead._second


def _dies_after_ranking(*args: object) -> Iterator[object]:
    yield ahead.Ranked(pages=0, fill=1.0)  # better than any layout: its PDF is waited for
    os._exit(3)


@pytest.mark.parametrize("second", [_raises, _dies_after_ranking], ids=["raises", "dies"])
def test_the_process_ahead_failing_costs_time_only(
        sample: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        second: object) -> None:
    monkeypatch.setattr(ahead, "_second", second)
    again = _rebuilt(sample, caplog)
    assert HIT not in caplog.text
    assert again == _build(sample, "cold")


def test_when_the_first_layout_is_the_better_it_is_written(
        sample: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (flow, ahead):
        monkeypatch.setattr(module, "better", lambda first, second: False)
    again = _rebuilt(sample, caplog)
    assert f"{HIT}; the first is the better" in caplog.text
    assert again == _build(sample, "cold")


def test_without_a_spare_core_nothing_is_forked(
        sample: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes.Ahead, "possible", staticmethod(lambda: False))
    started: list[object] = []
    monkeypatch.setattr(processes.Ahead, "__init__", lambda self, *a: started.append(a))
    again = _rebuilt(sample, caplog)
    assert started == [] and HIT not in caplog.text
    assert again == _build(sample, "cold")


def test_the_kept_plan_is_the_one_the_build_ended_with(sample: Path) -> None:
    _build(sample, "dist")
    plan = ahead.kept(_store(sample))
    assert plan is not None and plan.shrink  # the sample's images finish its columns
    assert ahead.kept(_store(sample)) == plan  # read back alike, floats exactly


def test_a_kept_plan_round_trips_and_nothing_else_reads_as_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache", "chunks/x", b"k" * 32)
    plan = Plan(wide={3, 1}, shrink={2: 157.8859999999999, 6: 0.1 + 0.2}, flowing={4},
                bands={5: 2}, short={7: 12.5}, image_scale=0.85)
    ahead.keep(store, plan)
    assert ahead.kept(store) == plan
    ahead.keep(store, None)
    assert ahead.kept(store) is None
    good = json.loads(json.dumps(ahead._plain(plan)))
    for bad in (b"{", b"[]", b'"plan"', json.dumps({**good, "wide": "1"}).encode(),
                json.dumps({**good, "bands": [[5, 2.5]]}).encode(),
                json.dumps({**good, "shrink": [[True, 1.0]]}).encode(),
                json.dumps({**good, "short": [[7]]}).encode(),
                json.dumps({**good, "image_scale": "1"}).encode(),
                json.dumps({k: v for k, v in good.items() if k != "flowing"}).encode(),
                b"[" * 100_000 + b"]" * 100_000):
        store.put(ahead.KEY, bad)
        assert ahead.kept(store) is None, bad[:80]


@pytest.mark.parametrize("signature", [b"", b"0" * 64, b"guessed"], ids=["none", "zeros", "forged"])
def test_a_planted_or_forged_kept_plan_is_refused(
        sample: Path, caplog: pytest.LogCaptureFixture, signature: bytes) -> None:
    _build(sample, "dist")
    store = _store(sample)
    path = store.path(ahead.KEY)
    planted = json.dumps(ahead._plain(Plan(shrink={1: 1.0}))).encode()
    mac = hmac.new(signature, path.name.encode() + b"\0" + planted, hashlib.sha256).hexdigest()
    path.write_bytes((mac.encode() + b"\n" if signature else b"") + planted)
    assert ahead.kept(store) is None
    shutil.rmtree(sample / "cold", ignore_errors=True)
    _edit(sample)
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.ahead"):
        again = _build(sample, "dist")
    assert HIT not in caplog.text
    assert again == _build(sample, "cold")
