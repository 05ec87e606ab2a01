"""What the command line says when a stage fails: our errors, known library errors, bugs."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import UnidentifiedImageError

from exporter.cli import main
from exporter.core import errors

from .conftest import write_note


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stderr


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    write_note(tmp_path / "notes", "A.md", "# A\n- one\n")
    return tmp_path / "notes"


def _fail_with(monkeypatch: pytest.MonkeyPatch, target: str, exc: BaseException) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(target, boom)


def test_an_export_error_is_its_message(notes: Path, tmp_path: Path) -> None:
    code, err = run("build", str(notes), "--out", str(tmp_path / "out"), "--no-pdf",
                    env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert code == 1
    assert "Error: SOURCE_DATE_EPOCH must be an integer, not 'yesterday'" in err
    assert "internal error" not in err and "Traceback" not in err


def test_a_config_error_is_a_usage_error(notes: Path) -> None:
    (notes / "notes-export.toml").write_text("columns = 'three'\n")
    code, err = run("check", str(notes))
    assert code == 2
    assert "notes-export.toml" in err and "internal error" not in err


@pytest.mark.parametrize(("exc", "says"), [
    (OSError(errno.ENOSPC, "No space left on device", "/x/out/deck.pdf"),
     "cannot access '/x/out/deck.pdf': No space left on device"),
    (sqlite3.DatabaseError("file is not a database"),
     "reading the previous deck's database failed: file is not a database"),
    (UnidentifiedImageError("cannot identify image file 'a.png'"),
     "an image could not be read (Pillow): cannot identify image file 'a.png'"),
])
def test_a_known_library_error_says_what_failed(notes: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                exc: Exception, says: str) -> None:
    _fail_with(monkeypatch, "exporter.deck.history.previous_state", exc)
    code, err = run("build", str(notes), "--out", str(tmp_path / "out"), "--no-pdf")
    assert code == 1
    assert f"Error: {says}" in err
    assert "internal error" not in err and "Traceback" not in err


def test_an_unknown_error_is_an_internal_error(notes: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, "exporter.cards.cards.note_cards", KeyError("qa-reversed"))
    code, err = run("check", str(notes))
    assert code == 1
    assert ("Error: internal error: KeyError: 'qa-reversed' (run with -v for the traceback)"
            in err)
    assert "Traceback" not in err


def test_verbose_prints_the_traceback_of_an_internal_error(
        notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, "exporter.cards.cards.note_cards", KeyError("qa-reversed"))
    code, err = run("check", str(notes), "-v")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "in boom" in err and "KeyError: 'qa-reversed'" in err
    assert "internal error: KeyError" in err


def test_weasyprint_errors_name_the_pdf_stage() -> None:
    fake = type("LayoutError", (Exception,), {"__module__": "weasyprint.layout"})
    said = errors.describe(fake("no room"))
    assert said == "laying out the PDF failed (weasyprint): LayoutError: no room"
    assert errors.describe(ValueError("x")) is None


def test_old_import_paths_still_work() -> None:
    from exporter.core.config import ConfigError, ExportError
    from exporter.read.parse import NoteError
    from exporter.read.vault import OutsideVaultError

    assert ConfigError is errors.ConfigError and ExportError is errors.ExportError
    assert NoteError is errors.NoteError and OutsideVaultError is errors.OutsideVaultError


def test_watch_reports_an_unknown_error_as_internal(notes: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, "exporter.app.watch.watch", RuntimeError("watcher died"))
    code, err = run("watch", str(notes), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "Error: internal error: RuntimeError: watcher died" in err
