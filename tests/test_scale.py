"""What keeps big vaults fast, checked for behaviour (times are the benchmark's business):
the PDF cache, sheets rendered in parallel, progress, quiet and verbose, watch."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.app.pipeline import Result, export
from exporter.app.watch import watch
from exporter.cache import cachestore
from exporter.cache.cachefiles import CACHE_DIR
from exporter.cli import main
from exporter.core.config import ExportError, load
from exporter.render import batch
from exporter.sheet import assemble

from .conftest import EPOCH, write_note


def _vault(root: Path) -> Path:
    for folder in ("Compute", "Storage", "Databases"):
        for i in range(2):
            write_note(root / "notes" / folder, f"{folder} {i}.md",
                       f"# {folder} {i}\n- point about {folder.lower()} {i}\n## Detail\n- more\n")
    return root / "notes"


def _build(notes: Path, out: Path, **options: object) -> Result:
    values = {"out_dir": out, "epoch": EPOCH, "write_anki": False, "pdf_per": "folder",
              **options}
    return export(load(notes, values))


def _pdfs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.pdf"))
            if CACHE_DIR not in p.parts}


def test_one_edit_renders_only_the_sheet_that_changed(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    notes = _vault(tmp_path)
    _build(notes, tmp_path / "dist")
    first = _pdfs(tmp_path / "dist")
    assert sorted(first) == ["notes/compute.pdf", "notes/databases.pdf", "notes/storage.pdf"]
    rendered: list[str] = []
    real = assemble.write_sheet

    def counting(target: Path, vault: object, options: object, *args: object,
                 **kwargs: object) -> str:
        rendered.append(options.title)  # type: ignore[attr-defined]
        return real(target, vault, options, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assemble, "write_sheet", counting)
    note = notes / "Storage" / "Storage 1.md"
    note.write_text(note.read_text(encoding="utf-8") + "- one more point\n", encoding="utf-8")
    export(load(notes, {"out_dir": tmp_path / "dist", "epoch": EPOCH, "write_anki": False,
                        "pdf_per": "folder"}))
    assert rendered == ["Notes › Storage"]
    second = _pdfs(tmp_path / "dist")
    assert second["notes/compute.pdf"] == first["notes/compute.pdf"]
    assert second["notes/storage.pdf"] != first["notes/storage.pdf"]
    # the cache holds this build's sheets only, and deleting it is safe
    sheets = cachestore.folder_of(cachestore.root_of(tmp_path / "dist"), cachestore.SHEETS)
    assert len(list(sheets.iterdir())) == 3


def test_parallel_and_serial_sheets_are_identical(tmp_path: Path) -> None:
    notes = _vault(tmp_path)
    export(load(notes, {"out_dir": tmp_path / "a", "epoch": EPOCH, "write_anki": False,
                        "pdf_per": "note"}))
    from exporter.sheet import sheet_stage

    original = sheet_stage._render_all

    def serial(work, diagnostics, workers, tick, chunked=None):  # type: ignore[no-untyped-def]
        return original(work, diagnostics, 1, tick, chunked)

    sheet_stage._render_all = serial  # type: ignore[assignment]
    try:
        export(load(notes, {"out_dir": tmp_path / "b", "epoch": EPOCH, "write_anki": False,
                            "pdf_per": "note"}))
    finally:
        sheet_stage._render_all = original  # type: ignore[assignment]
    assert _pdfs(tmp_path / "a") == _pdfs(tmp_path / "b")
    assert len(_pdfs(tmp_path / "a")) == 6


def test_quiet_prints_problems_only_and_no_progress_off_a_terminal(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "n.md", "# N\n![[gone.png]]\n")
    result = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--out",
                                       str(tmp_path / "o"), "--no-pdf", "-q"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "n.md:2:1: warning: image 'gone.png' not found in the assets or notes folders "
        "[missing-image]"]
    result = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--out",
                                       str(tmp_path / "o"), "--no-pdf"])
    assert "\r" not in result.stderr  # CliRunner's stderr is not a terminal: no progress line


def test_verbose_logs_why_a_step_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_note(tmp_path / "notes", "n.md", "# N\ntext\n")

    def boom(*args: object, **kwargs: object) -> str:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(assemble, "write_sheet", boom)
    result = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--out",
                                       str(tmp_path / "o"), "-v"])
    assert result.exit_code == 1
    assert "renderer exploded" in result.stderr
    assert "Traceback" in result.stderr  # -v shows where; without it, never
    result = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--out",
                                       str(tmp_path / "o")])
    assert "Traceback" not in result.stderr


def test_watch_rebuilds_after_a_save_and_reports_that_note(tmp_path: Path) -> None:
    notes = _vault(tmp_path)
    config = load(notes, {"out_dir": tmp_path / "dist", "epoch": EPOCH, "write_pdf": False})
    reports: list[tuple[Result | ExportError, set[str] | None]] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(config, lambda r, c: reports.append((r, c)),
                                                  stop), kwargs={"debounce_ms": 100})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not reports and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reports and reports[0][1] is None
        time.sleep(0.5)  # let the watcher start
        (notes / "Compute" / "Compute 0.md").write_text("# Compute 0\n![[gone.png]]\n",
                                                        encoding="utf-8")
        while len(reports) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert len(reports) >= 2
    result, changed = reports[1]
    assert changed == {"Compute/Compute 0.md"}
    assert isinstance(result, Result)
    assert [d.code for d in result.diagnostics] == ["missing-image"]


def test_notes_rendered_in_worker_processes_match_a_serial_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from exporter.app import pipeline

    png = (Path(__file__).parents[1] / "assets" / "Pasted image 20250217143901.png").read_bytes()
    for i in range(batch.PARALLEL_NOTES + 10):
        folder = tmp_path / "notes" / f"f{i % 3}"
        write_note(folder, f"Note {i}.md", f"# Note {i}\n- Term{i} :: def {i}\n![[img.png]]\n"
                   f"![[gone{i % 7}.png]]\n- see [[Note {i + 1}#Note {i + 1}]] [[#Nope]]\n")
        (folder / "img.png").write_bytes(png + bytes([i % 3]))
    config = load(tmp_path / "notes", {})
    parallel = pipeline.check(config)
    monkeypatch.setattr(batch, "PARALLEL_NOTES", 10**9)
    serial = pipeline.check(config)
    assert [(c.guid, c.front, c.back, c.content_hash) for c in parallel.cards] == \
        [(c.guid, c.front, c.back, c.content_hash) for c in serial.cards]
    assert parallel.diagnostics == serial.diagnostics
    assert {k: v.path for k, v in parallel.vault.assets.items()} == \
        {k: v.path for k, v in serial.vault.assets.items()}
    assert len(parallel.vault.assets) == 3  # three same-named images, three media names
