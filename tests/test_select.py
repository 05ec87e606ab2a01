"""Choosing the notes: ``--include``/``--exclude`` globs and ``--tag`` select them for both the
deck (imported into real Anki) and the sheet (read back); ``sheet: false`` keeps a note off
the sheet only; ``check`` says how many were left out."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest
from anki.collection import Collection
from click.testing import CliRunner

from exporter.cli import main
from exporter.core.model import Note, Section
from exporter.read.select import has_tag, path_chosen

from .conftest import import_apkg, write_note


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    write_note(notes, "Compute/Lambda.md", "---\ntags: [aws/compute]\n---\n# Lambda\n"
               "- Lambda = serverless functions\n")
    write_note(notes, "Storage/S3.md", "# S3\n- S3 = object storage #aws/storage\n")
    write_note(notes, "Storage/Glacier.md", "# Glacier\n- Glacier = archive storage\n"
               "```\n#aws in code is not a tag\n```\n")
    write_note(notes, "Drafts/Scratch.md", "# Scratch\n- Scratch = a half-written idea #aws\n")
    write_note(notes, "Reading.md", "---\nsheet: false\ntags: [aws]\n---\n# Reading\n"
               "- Reading = papers to read\n")
    return notes


def _sheet_text(pdf: Path) -> str:
    with pdfplumber.open(pdf) as document:
        return " ".join(page.extract_text() or "" for page in document.pages)


def _deck_fronts(collection: Collection, apkg: Path) -> set[str]:
    import_apkg(collection, apkg)
    return {collection.get_note(n)["Front"] for n in collection.find_notes("")}


def test_tag_selects_notes_for_the_deck_and_the_sheet(vault: Path, tmp_path: Path,
                                                      collection: Collection) -> None:
    out = tmp_path / "dist"
    code, output = run("build", str(vault), "--out", str(out), "--tag", "aws",
                       "--exclude", "Drafts/*")
    assert code == 0, output
    assert "Left out 2 notes" in output  # Glacier (a tag in code is none) and Scratch
    fronts = " ".join(_deck_fronts(collection, out / "notes.apkg"))
    for chosen in ("Lambda", "S3", "Reading"):
        assert chosen in fronts
    for left in ("Glacier", "Scratch"):
        assert left not in fronts
    text = _sheet_text(out / "notes.pdf")
    assert "Lambda" in text and "object storage" in text
    for left in ("Glacier", "Scratch", "papers to read"):  # Reading: sheet: false
        assert left not in text


def test_include_globs_and_a_nested_tag(vault: Path, tmp_path: Path,
                                        collection: Collection) -> None:
    out = tmp_path / "dist"
    code, output = run("build", str(vault), "--out", str(out), "--include", "Storage",
                       "--tag", "aws/storage")
    assert code == 0, output
    assert "Left out 4 notes" in output
    fronts = " ".join(_deck_fronts(collection, out / "notes.apkg"))
    assert "S3" in fronts and "Lambda" not in fronts and "Glacier" not in fronts
    assert "Lambda" not in _sheet_text(out / "notes.pdf")


def test_check_says_how_many_were_left_out(vault: Path) -> None:
    code, output = run("check", str(vault), "--exclude", "Storage/*", "--exclude", "Reading.md")
    assert code == 0
    assert "Read 2 notes" in output
    assert "Left out 3 notes not chosen by --include, --exclude or --tag" in output


def test_config_keys_select_too(vault: Path) -> None:
    (vault / "notes-export.toml").write_text('include = ["Compute/**", "Storage/*"]\n'
                                             'exclude = ["**/Glacier.md"]\ntags = ["aws"]\n')
    code, output = run("check", str(vault))
    assert code == 0, output
    assert "Read 2 notes" in output and "Left out 3 notes" in output


def test_sheet_false_keeps_the_cards(vault: Path, tmp_path: Path,
                                     collection: Collection) -> None:
    out = tmp_path / "dist"
    code, _ = run("build", str(vault), "--out", str(out))
    assert code == 0
    assert "Reading" in " ".join(_deck_fronts(collection, out / "notes.apkg"))
    assert "papers to read" not in _sheet_text(out / "notes.pdf")


def test_rules() -> None:
    assert path_chosen("a/b/c.md", ["a"], [])
    assert path_chosen("a/b/c.md", ["a/*"], [])
    assert not path_chosen("x/c.md", ["a/*"], [])
    assert not path_chosen("a/b/c.md", [], ["a/b"])
    note = Note("n.md", "N", sections=[Section("N", 1, ("N",), 1, "n", body=["`#code` text"])],
                tags={"Exam/Final"})
    assert has_tag(note, ["exam"]) and has_tag(note, ["#exam/final"])
    assert not has_tag(note, ["exa"]) and not has_tag(note, ["code"])
