"""The command line as other Click tools have it: grouped --help, --config, -o, -v naming the
config file, a typo's suggestion, exit codes that say why, a quiet watch, sync by profile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from anki.collection import Collection
from click.testing import CliRunner

from exporter.cli import OTHER_SECTION, main, section_of
from exporter.deck import profiles

from .conftest import ROOT, write_note


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    write_note(tmp_path / "notes", "Cells.md", "# Cells\nThe unit of life.\n")
    return tmp_path / "notes"


def test_every_option_of_every_command_is_in_a_help_section() -> None:
    assert isinstance(main, click.Group)
    for name, command in main.commands.items():
        loose = [p.name for p in command.params
                 if isinstance(p, click.Option) and section_of(p.name) == OTHER_SECTION]
        assert loose == [], name
    code, out, _ = run("build", "--help")
    assert code == 0
    for title in ("Notes:", "Cards:", "Outputs:", "Cheat sheet:", "Reporting:"):
        assert f"\n{title}\n" in out
    assert "\nOptions:\n" not in out


def test_config_option_reads_the_named_file(notes: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "settings" / "exam.toml"
    write_note(elsewhere.parent, elsewhere.name, 'deck = "Exam Deck"\n')
    code, _, err = run("build", str(notes), "--config", str(elsewhere), "-o",
                       str(tmp_path / "out"), "--no-pdf")
    assert code == 0, err
    assert (tmp_path / "out" / "exam-deck.apkg").is_file()
    pyproject = tmp_path / "settings" / "pyproject.toml"
    write_note(pyproject.parent, pyproject.name, '[tool.notes-export]\ndeck = "From Pyproject"\n')
    code, _, err = run("check", str(notes), "-c", str(pyproject), "-o", str(tmp_path / "o2"))
    assert code == 0, err


def test_a_pyproject_without_our_table_is_named_as_such(notes: Path, tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n', encoding="utf-8")
    code, _, err = run("check", str(notes), "--config", str(pyproject))
    assert code == 2 and "no [tool.notes-export] table" in err


def test_verbose_names_the_config_file_used(notes: Path) -> None:
    (notes / "notes-export.toml").write_text('deck = "Bio"\n', encoding="utf-8")
    code, _, err = run("check", str(notes), "-v")
    assert code == 0
    assert f"config: {notes / 'notes-export.toml'}" in err
    (notes / "notes-export.toml").unlink()
    _, _, err = run("check", str(notes), "-v")
    assert "config: none (no notes-export.toml in or beside" in err


def test_a_config_key_typo_suggests_the_key(notes: Path) -> None:
    (notes / "notes-export.toml").write_text("colums = 2\n", encoding="utf-8")
    code, _, err = run("check", str(notes))
    assert code == 2
    assert "unknown key 'colums' (did you mean 'columns'?)" in err
    assert "known keys" not in err
    (notes / "notes-export.toml").write_text("zzzz = 2\n", encoding="utf-8")
    _, _, err = run("check", str(notes))
    assert "unknown key 'zzzz' (known keys: " in err


def test_a_non_zero_exit_says_why(notes: Path, tmp_path: Path) -> None:
    write_note(notes, "Pic.md", "# Pic\n![[missing.png]]\n")
    code, _, err = run("check", str(notes), "--strict")
    assert code == 1
    assert err.rstrip().endswith("Exit code 1: --strict, and 1 warning in the notes (above)")
    write_note(notes, "Bad.md", "---\ntitle: [unclosed\n---\n# Bad\nText.\n")
    code, _, err = run("check", str(notes))
    assert code == 1 and err.rstrip().endswith("Exit code 1: 1 error in the notes (above)")
    code, _, err = run("check", str(notes), "--format", "json")
    assert code == 1 and "Exit code 1: 1 error" in err


def test_sync_that_exits_1_says_why(notes: Path, tmp_path: Path) -> None:
    write_note(notes, "Bad.md", "---\ntitle: [unclosed\n---\n# Bad\nText.\n")
    collection = tmp_path / "collection.anki2"
    Collection(str(collection)).close()
    code, out, err = run("sync", str(notes), "--collection", str(collection), "-o",
                         str(tmp_path / "out"))
    assert code == 1
    assert "Synced" in out and "Exit code 1: 1 error in the notes (above)" in err


def test_sync_finds_a_profile_by_name(notes: Path, tmp_path: Path) -> None:
    base = tmp_path / "Anki2"
    (base / "User 1").mkdir(parents=True)
    (base / "addons21").mkdir()
    Collection(str(base / "User 1" / "collection.anki2")).close()
    code, out, err = run("sync", str(notes), "--profile", "user 1", "--base", str(base),
                         "--dry-run", "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert "would add: Cells.md › Cells" in out
    code, _, err = run("sync", str(notes), "--profile", "Work", "--base", str(base))
    assert code == 2 and f"no Anki profile 'Work' in {base}; its profiles: 'User 1'" in err
    code, _, err = run("sync", str(notes))
    assert code == 2 and "--collection FILE or --profile NAME" in err


@pytest.mark.parametrize(("platform", "expected"), [
    ("linux", ".local/share/Anki2"), ("darwin", "Library/Application Support/Anki2"),
    ("win32", "Anki2")])
def test_anki_data_folder_on_each_system(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         platform: str, expected: str) -> None:
    monkeypatch.delenv("ANKI_BASE", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("HOME", str(tmp_path))
    base = profiles.anki_base(platform)
    assert base.as_posix().endswith(expected)
    if platform == "win32":
        assert base == tmp_path / "Roaming" / "Anki2"


def test_watch_clears_its_progress_line_and_stops_quietly_at_ctrl_c(notes: Path,
                                                                    tmp_path: Path) -> None:
    """A real watch on a pseudo-terminal (so the progress line is drawn), Ctrl-C as SIGINT."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    for number in range(30):  # enough notes that the progress line is drawn
        write_note(notes, f"N{number}.md", f"# N{number}\nText {number}.\n")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "exporter", "watch", str(notes), "--no-pdf", "-o",
         str(tmp_path / "out")], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
        env=env, start_new_session=True)
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b"Ctrl-C stops" not in seen and time.monotonic() < deadline:
            seen += _read(leader)
        assert b"Ctrl-C stops" in seen, seen
        watcher.send_signal(signal.SIGINT)
        code = watcher.wait(timeout=60)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = _read(leader)
            if not chunk:
                break
            seen += chunk
    finally:
        if watcher.poll() is None:
            watcher.kill()
        os.close(leader)
    text = seen.decode(errors="replace")
    assert code == 0, text
    assert "Traceback" not in text and "WARNING" not in text and "Aborted" not in text
    built = next(line for line in text.replace("\r\n", "\n").split("\n") if "Built:" in line)
    # what a terminal shows of the line: the text after its last carriage return
    assert built.split("\r")[-1].startswith("Built:"), built  # the progress line was cleared


def _read(fd: int) -> bytes:
    import select

    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        return b""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


def test_the_cli_reports_the_version_pyproject_declares() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"notes-export, version {declared['project']['version']}"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert declared["project"]["license"] == {"text": "MIT"}
    assert f"## {declared['project']['version']}" in (ROOT / "CHANGELOG.md").read_text(
        encoding="utf-8")
