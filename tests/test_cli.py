"""The command line, driven through Click's CliRunner: exit codes, messages, outputs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from exporter import __version__
from exporter.cli import main
from exporter.sheet import assemble

from .conftest import SAMPLE_NOTE, write_note


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _build(project: Path, *extra: str) -> tuple[int, str, str]:
    return run("build", str(project / "notes"), "--assets", str(project / "assets"),
               "--out", str(project / "dist"), "--deck", "Sample", *extra)


def test_version_and_help_with_examples() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"notes-export, version {__version__}"
    code, out, _ = run("build", "--help")
    assert code == 0
    assert "Examples:" in out and "notes-export build --no-pdf --strict" in out
    for option in ("--assets", "--out", "--deck", "--strict", "--no-pdf", "--no-anki"):
        assert option in out


def test_build_sample_writes_both_outputs_and_a_summary(sample: Path) -> None:
    code, out, err = _build(sample)
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"Read 1 note (17 sections) from {sample / 'notes'}"
    assert lines[1] == ("Cards: 16 (16 added, 0 changed, 0 unchanged, 0 removed since the "
                        "last build)")
    assert lines[2:5] == ["Sections without a card: 1 only a heading", "Images embedded: 11",
                          "Warnings: 0, errors: 0"]
    assert re.fullmatch(rf"Wrote {re.escape(str(sample))}/dist/sample\.apkg \(\d+\.\d KiB\)",
                        lines[5])
    assert re.fullmatch(rf"Wrote {re.escape(str(sample))}/dist/sample\.pdf \(\d+\.\d KiB\)",
                        lines[6])
    assert (sample / "dist" / "sample.apkg").stat().st_size > 100_000
    assert (sample / "dist" / "sample.pdf").read_bytes().startswith(b"%PDF-")


def test_default_paths_are_source_notes_assets_dist(sample: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (sample / "notes").rename(sample / "source_notes")
    monkeypatch.chdir(sample)
    code, out, err = run("build", "--no-pdf")
    assert code == 0, err
    assert "Images embedded: 11" in out
    assert (sample / "dist" / "source-notes.apkg").is_file()
    assert not (sample / "dist" / "source-notes.pdf").exists()


def test_missing_image_warns_with_location_and_strict_fails(sample: Path) -> None:
    note = sample / "notes" / SAMPLE_NOTE
    note.write_text(note.read_text(encoding="utf-8").replace(
        "![[Pasted image 20250217144254.png]]", "![[Pasted image 19990101000000.png]]"),
        encoding="utf-8")
    code, out, err = _build(sample, "--no-pdf")
    assert code == 0
    assert err.splitlines() == [
        f"{SAMPLE_NOTE}:20:1: warning: image 'Pasted image 19990101000000.png' not found in "
        "the assets or notes folders [missing-image]"]
    assert "Warnings: 1, errors: 0" in out
    code, _, _ = _build(sample, "--no-pdf", "--strict")
    assert code == 1


def test_no_anki_writes_only_the_pdf(sample: Path) -> None:
    code, out, _ = _build(sample, "--no-anki")
    assert code == 0
    assert [p.name for p in (sample / "dist").iterdir() if p.is_file()] == ["sample.pdf"]
    assert "since the last build" not in out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = run("build", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err
    code, _, err = run("build", str(tmp_path), "--assets", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err
    code, _, _ = run("build", "--no-such-option")
    assert code == 2


def test_bad_note_is_reported_and_the_rest_is_exported(sample: Path) -> None:
    (sample / "notes" / "Broken.md").write_bytes(b"# Title\ncaf\xe9 latin-1 text\n")
    write_note(sample / "notes", "Binary.md", "")
    (sample / "notes" / "Binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, out, err = _build(sample, "--no-pdf")
    assert code == 1
    assert err.splitlines() == [
        "Binary.md:1:1: error: note holds binary data (NUL bytes); skipped [binary-note]",
        "Broken.md:2:1: error: note is not UTF-8 (byte 0xe9); skipped [not-utf8]",
        "Exit code 1: 2 errors in the notes (above)",
    ]
    assert "Cards: 16" in out
    assert "Traceback" not in out + err


def test_failed_build_leaves_previous_outputs_untouched(sample: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert _build(sample)[0] == 0
    dist = sample / "dist"
    before = {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()}
    note = sample / "notes" / SAMPLE_NOTE
    note.write_text(note.read_text(encoding="utf-8") + "\n# New\n- new section\n",
                    encoding="utf-8")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("layout engine crashed")

    monkeypatch.setattr(assemble, "write_sheet", explode)
    code, _, err = _build(sample)
    assert code == 1
    assert ("Error: writing the PDF failed on 'AWS Other Compute Services.md': RuntimeError: "
            "layout engine crashed") in err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()} == before


def test_markdown_image_and_asset_folder_copy(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(Path(__file__).parents[1] / "assets", assets)
    write_note(tmp_path / "notes", "n.md",
               "# A\n![diagram](<Pasted image 20250217143901.png>)\n"
               "![enc](Pasted%20image%2020250217144101.png)\n")
    code, out, err = run("build", str(tmp_path / "notes"), "--assets", str(assets), "--out",
                         str(tmp_path / "dist"), "--no-pdf")
    assert code == 0 and err == ""
    assert "Images embedded: 2" in out


def test_python_dash_m_runs_the_same_command(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "exporter", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"notes-export, version {__version__}"
    done = subprocess.run([sys.executable, "-m", "exporter", "build", "--help"],
                          capture_output=True, text=True, check=False)
    assert "Usage: notes-export build" in done.stdout


def test_missing_image_placeholder_shows_in_the_pdf(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "n.md", "# Diagram\n- see below\n![[gone.png]]\n")
    code, _, err = run("build", str(tmp_path / "notes"), "--out", str(tmp_path / "dist"))
    assert code == 0
    assert "n.md:3:1: warning: image 'gone.png' not found" in err
    with pdfplumber.open(tmp_path / "dist" / "notes.pdf") as sheet:
        text = " ".join(p.extract_text() or "" for p in sheet.pages)
    assert "Missing image: gone.png" in text


def test_every_command_is_documented_with_examples() -> None:
    assert sorted(main.commands) == ["build", "check", "sync", "watch"]
    for name in main.commands:
        code, out, _ = run(name, "--help")
        assert code == 0
        assert "Examples:" in out, name
        assert f"notes-export {name}" in out, name
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"notes-export {name}" in readme, name
