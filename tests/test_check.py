"""`check` and the diagnostic formats CI reads; bad notes never stop the rest of the vault."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.core.config import SheetOptions
from exporter.core.model import Vault
from exporter.sheet import assemble

from .conftest import build, write_note

BROKEN = {
    "Good.md": "# Good\n- fine\n![[nope.png]]\n",
    "Links.md": "# Links\nsee [[#Nowhere]] and [[Good#Fine]] and [[Good]]\n",
    "Yaml.md": "---\ntags: [a, b\ntitle: x\n---\n# Y\nbody\n",
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    for name, text in BROKEN.items():
        write_note(tmp_path / "notes", name, text)
    (tmp_path / "notes" / "Latin1.md").write_bytes(b"# T\ncaf\xe9\n")
    return tmp_path / "notes"


def test_check_text_lists_every_problem_and_writes_nothing(vault: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(vault.parent)
    code, out, err = run("check", "notes")
    assert code == 1
    assert err.splitlines() == [
        "Good.md:3:1: warning: image 'nope.png' not found in the assets or notes folders "
        "[missing-image]",
        "Latin1.md:2:1: error: note is not UTF-8 (byte 0xe9); skipped [not-utf8]",
        "Links.md:2:5: warning: link to heading '#Nowhere' that does not exist in 'Links.md' "
        "[missing-heading]",
        "Links.md:2:22: warning: link to heading '#Fine' that does not exist in 'Good.md' "
        "[missing-heading]",
        "Yaml.md:3:1: error: front matter is not valid YAML: expected ',' or ']', but got ':'; "
        "ignored [bad-front-matter]",
        "Exit code 1: 2 errors in the notes (above)",
    ]
    assert out.splitlines()[-1] == "Warnings: 3, errors: 2"
    assert sorted(p.name for p in vault.parent.iterdir()) == ["notes"]


def test_check_exit_codes(tmp_path: Path) -> None:
    write_note(tmp_path, "ok.md", "# Fine\ntext\n")
    assert run("check", str(tmp_path))[0] == 0
    write_note(tmp_path, "warn.md", "# W\n![[gone.png]]\n")
    assert run("check", str(tmp_path))[0] == 0
    assert run("check", str(tmp_path), "--strict")[0] == 1
    assert run("check", str(tmp_path / "missing"))[0] == 2
    assert run("check", str(tmp_path), "--format", "xml")[0] == 2


def test_check_links_reports_notes_that_do_not_exist(tmp_path: Path) -> None:
    write_note(tmp_path, "a.md", "# A\n[[B]] and [[Nowhere|alias]]\n")
    write_note(tmp_path, "B.md", "# B\nx\n")
    assert run("check", str(tmp_path))[2] == ""
    _, _, err = run("check", str(tmp_path), "--check-links")
    assert err.splitlines() == [
        "a.md:2:11: warning: link to note 'Nowhere' that is not in the notes folder "
        "[missing-note]"]


def test_github_format_is_workflow_commands(vault: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(vault.parent)
    code, out, err = run("check", "notes", "--format", "github")
    assert code == 1 and err == "Exit code 1: 2 errors in the notes (above)\n"
    lines = out.splitlines()
    assert lines[0] == ("::warning file=notes/Good.md,line=3,col=1,title=notes-export "
                        "missing-image::image 'nope.png' not found in the assets or notes folders")
    assert lines[1] == ("::error file=notes/Latin1.md,line=2,col=1,title=notes-export "
                        "not-utf8::note is not UTF-8 (byte 0xe9); skipped")
    assert sum(1 for line in lines if line.startswith("::")) == 5


def test_json_format_is_one_document(vault: Path) -> None:
    code, out, _ = run("check", str(vault), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["summary"] == {"notes": 3, "sections": 3, "cards": 3, "images": 0,
                                   "warnings": 3, "errors": 2}
    assert document["diagnostics"][0] == {
        "path": "Good.md", "line": 3, "col": 1, "severity": "warning",
        "message": "image 'nope.png' not found in the assets or notes folders",
        "code": "missing-image"}
    assert document["outputs"] == []


def test_build_json_lists_outputs(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "a.md", "# A\ntext\n")
    code, out, _ = run("build", str(tmp_path / "notes"), "--out", str(tmp_path / "dist"),
                       "--format", "json", "--no-pdf")
    assert code == 0
    document = json.loads(out)
    assert [Path(o["path"]).name for o in document["outputs"]] == ["notes.apkg"]
    assert document["summary"]["added"] == 1


def test_check_does_not_load_the_pdf_renderer(tmp_path: Path) -> None:
    write_note(tmp_path, "a.md", "# A\ntext\n")
    code = ("import sys; from click.testing import CliRunner; from exporter.cli import main; "
            f"r = CliRunner().invoke(main, ['check', {str(tmp_path)!r}]); "
            "print(r.exit_code, 'weasyprint' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["0", "False"]


def test_hostile_notes_get_diagnostics_and_the_rest_is_exported(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "Good.md", "# Good\n- fine\n")
    write_note(notes, "Deep.md", "# Deep\n" + "\n".join("\t" * i + f"- item {i}"
                                                         for i in range(1000)))
    write_note(notes, "Quotes.md", "# Q\n" + ">" * 1000 + " deep\n")
    row = "|" + "|".join(f"c{i}" for i in range(500)) + "|"
    write_note(notes, "Wide.md", "# Wide\n" + row + "\n|" + "-|" * 500 + "\n" + row + "\n")
    write_note(notes, "Huge.md", "# Huge\n" + ("lorem ipsum dolor sit amet\n" * 800_000))
    write_note(notes, "Binary.md", "")
    (notes / "Binary.md").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "assets").mkdir()
    result = build(tmp_path, deck="Hostile", pdf=False)
    found = sorted((d.path, d.line, d.code) for d in result.diagnostics)
    assert found == [("Binary.md", 1, "binary-note"), ("Deep.md", 18, "too-deep"),
                     ("Huge.md", 1, "note-too-large"), ("Quotes.md", 2, "too-deep")]
    fronts = sorted(c.front for c in result.cards)
    assert fronts == ["Deep", "Good", "Q", "Wide"]
    wide = next(c for c in result.cards if c.front == "Wide")
    assert wide.back.count("<th>") == 500


def test_pdf_crash_is_reported_with_the_note_and_the_rest_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_note(tmp_path / "notes", "Fine.md", "# Fine\ntext\n")
    write_note(tmp_path / "notes", "Crash.md", "# Crash\nCRASH-ME\n")
    (tmp_path / "assets").mkdir()
    real = assemble.write_sheet

    def fragile(target: Path, vault: Vault, options: SheetOptions, *args: object,
                **kwargs: object) -> str:
        if any("CRASH-ME" in s.html for n in vault.notes for s in n.sections):
            raise ZeroDivisionError("layout bug")
        return real(target, vault, options, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assemble, "write_sheet", fragile)
    result = build(tmp_path, deck="C")
    assert [(d.path, d.code) for d in result.diagnostics] == [("Crash.md", "pdf-failed")]
    assert "ZeroDivisionError: layout bug" in result.diagnostics[0].message
    assert (tmp_path / "dist" / "c.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "dist" / "c.apkg").is_file()


def test_unclosed_cloze_is_reported(tmp_path: Path) -> None:
    write_note(tmp_path, "c.md", "# C\n- {{c1::closed}} fine\n- {{c2::open {{c3::inner}} text\n")
    _, _, err = run("check", str(tmp_path))
    assert err.splitlines() == [
        "c.md:3:3: warning: cloze '{{c…::' is never closed with '}}' [unclosed-cloze]"]
