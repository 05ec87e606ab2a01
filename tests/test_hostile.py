"""A notes folder from a pull request anyone can open: its config file, output links, names and
leftovers cannot reach outside, delete, forge or lose anything (issue 12, items 1-3, 7)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.app.pipeline import Config, export
from exporter.cache import cachefiles, cachestore
from exporter.cli import main
from exporter.core.config import ConfigError, ExportError, SheetOptions, load
from exporter.sheet import sheet_stage
from exporter.sheet.sheet_html import build_html, frame_html

from .conftest import EPOCH, SAMPLE_ASSETS, build, write_note

PICTURE = "Pasted image 20250217143901.png"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _project(tmp_path: Path, note: str = "# A\ntext\n![[" + PICTURE + "]]\n") -> Path:
    """A repository (it has .git) holding notes/ and assets/ with one real image."""
    (tmp_path / ".git").mkdir(parents=True)
    (tmp_path / ".git" / "config").write_text("[remote]\ntoken = SECRET\n")
    write_note(tmp_path / "notes", "a.md", note)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / PICTURE).write_bytes((SAMPLE_ASSETS / PICTURE).read_bytes())
    return tmp_path


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _outputs(folder: Path) -> dict[str, str]:
    """The digests of the outputs, without the caches (a failed build may refresh those)."""
    return {k: v for k, v in _digests(folder).items() if not k.startswith(cachefiles.CACHE_DIR)}


# --- 1. a config file names paths inside its project only ------------------------------------

@pytest.mark.parametrize(("line", "key"), [
    ('css = "../.git/config"', "css"),
    ('css = "../../outside.css"', "css"),
    ('out = "../../x"', "out"),
    ('out = "/tmp/elsewhere"', "out"),
    ('assets = ["assets", "../../pictures"]', "assets"),
])
def test_config_in_the_notes_folder_cannot_point_outside(tmp_path: Path, line: str,
                                                         key: str) -> None:
    project = _project(tmp_path / "repo")
    config_file = project / "notes" / "notes-export.toml"
    config_file.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(project / "notes", {})
    assert str(config_file) in str(caught.value) and f"'{key}'" in str(caught.value)
    code, out, err = run("build", str(project / "notes"))
    assert code == 2 and f"'{key}'" in err and "SECRET" not in out + err
    assert not (project / "dist").exists() and not (tmp_path / "x").exists()


def test_config_may_name_paths_in_its_repository_and_the_command_line_anywhere(
        tmp_path: Path) -> None:
    project = _project(tmp_path / "repo")
    (project / "notes" / "notes-export.toml").write_text(
        'out = "../build"\nassets = ["../assets"]\ncss = "../sheet.css"\n', encoding="utf-8")
    (project / "sheet.css").write_text("h1 { color: red }", encoding="utf-8")
    config = load(project / "notes", {})
    assert config.out_dir.resolve() == (project / "build").resolve()
    outside = tmp_path / "outside-out"
    config = load(project / "notes", {"out_dir": outside})
    assert config.out_dir == outside
    code, _, err = run("build", str(project / "notes"), "--out", str(outside), "--no-pdf")
    assert code == 0, err
    assert (outside / "notes.apkg").is_file()


def test_a_linked_folder_cannot_carry_a_config_path_outside(tmp_path: Path) -> None:
    project = _project(tmp_path / "repo")
    (tmp_path / "secret.css").write_text("secret", encoding="utf-8")
    os.symlink(tmp_path, project / "notes" / "up")
    (project / "notes" / "notes-export.toml").write_text('css = "up/secret.css"\n')
    with pytest.raises(ConfigError, match="'css'"):
        load(project / "notes", {})


# --- 2. the PDF cache never deletes through a link -------------------------------------------

def test_a_linked_cache_folder_is_not_used_and_deletes_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _digests(project / "assets")
    (project / "dist").mkdir()
    os.symlink(project / "assets", project / "dist" / cachefiles.CACHE_DIR)
    for _ in range(2):
        result = build(project, deck="Deck")
        assert _digests(project / "assets") == before
        assert (project / "dist" / "deck.pdf").stat().st_size > 0
    # the PDF cache and the note cache inside it (notecache.py) each refuse it
    assert [d.code for d in result.diagnostics] == ["bad-cache", "bad-cache"]
    assert "symbolic link" in result.diagnostics[0].message


def test_links_and_folders_inside_the_cache_are_removed_without_following_them(
        tmp_path: Path) -> None:
    project = _project(tmp_path)
    build(project, deck="Deck")
    root = project / "dist" / cachefiles.CACHE_DIR
    sheets = cachestore.folder_of(root, cachestore.SHEETS)
    entry = next(sheets.iterdir())
    before = _digests(project / "assets")
    first_pdf = (project / "dist" / "deck.pdf").read_bytes()
    # what a pull request could commit into a checked-in output folder
    entry.unlink()
    entry.mkdir()
    os.symlink(project / "assets", sheets / "stale.pdf")
    os.symlink(project / "assets" / PICTURE, sheets / "old.html")
    (sheets / "folder").mkdir()
    os.symlink(project / "assets", sheets / "folder" / "inner")
    shutil.rmtree(root / cachestore.CHUNKS)  # (a whole sheet keeps its plan there: ahead.py)
    os.symlink(project / "assets", root / cachestore.CHUNKS)  # a cache's folder, linked away
    result = build(project, deck="Deck")
    assert _digests(project / "assets") == before
    assert (project / "dist" / "deck.pdf").read_bytes() == first_pdf
    assert list(sheets.iterdir()) == [entry] and cachefiles.regular(entry)
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [cachestore.CHUNKS, cachestore.NOTES, cachestore.SESSION, cachestore.SHEETS])
    assert not any(p.is_symlink() for p in root.rglob("*"))
    # the entry that was a folder, the planted folder
    assert [d.code for d in result.diagnostics] == ["bad-cache", "bad-cache"]
    build(project, deck="Deck")  # and the cache works again
    assert (project / "dist" / "deck.pdf").read_bytes() == first_pdf


def test_outputs_that_are_links_are_replaced_not_written_through(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _digests(project / "assets")
    (project / "dist").mkdir()
    os.symlink(project / "assets" / PICTURE, project / "dist" / "deck.apkg")
    os.symlink(project / "assets" / PICTURE, project / "dist" / "deck.pdf")
    build(project, deck="Deck")
    assert _digests(project / "assets") == before
    assert not (project / "dist" / "deck.pdf").is_symlink()
    os.symlink(project / "assets", project / "dist" / "deck")  # the folder --pdf-per writes to
    config = Config(notes_dir=project / "notes", asset_dirs=[project / "assets"],
                    out_dir=project / "dist", deck_name="Deck", epoch=EPOCH, pdf_per="note")
    with pytest.raises(ExportError, match="symbolic link"):
        export(config)
    assert _digests(project / "assets") == before


# --- 3. one PDF per note: names keep their letters, never collide, a failure loses nothing ----

def test_pdf_per_note_names_keep_letters_and_are_distinct(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    for name in ("Ünïcödé.md", "日本語.md", "Привет мир.md", "A.md", "a.md", "sub/Note.md",
                 "sub-note.md"):
        write_note(notes, name, f"# {name}\ntext of {name}\n")
    config = Config(notes_dir=notes, asset_dirs=[], out_dir=tmp_path / "dist", deck_name="D",
                    epoch=EPOCH, pdf_per="note", write_anki=False)
    result = export(config)
    pdfs = sorted(p.name for p in (tmp_path / "dist" / "d").glob("*.pdf"))
    assert pdfs == sorted(["ünïcödé.pdf", "日本語.pdf", "привет-мир.pdf", "a.pdf", "a-2.pdf",
                           "sub-note.pdf", "sub-note-2.pdf"])
    assert len({p.casefold() for p in pdfs}) == 7 and len(result.outputs) == 7
    export(config)  # the second build works as well


def test_a_failing_pdf_stage_replaces_neither_deck_nor_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    build(project, deck="Deck")
    dist = project / "dist"
    before = _outputs(dist)
    write_note(project / "notes", "a.md", "# A\nedited\n")

    def fail(*args: object, **kwargs: object) -> list[str]:
        raise ExportError("writing the PDF failed: boom")

    monkeypatch.setattr(sheet_stage, "write_sheets", fail)
    with pytest.raises(ExportError):
        build(project, deck="Deck", epoch=EPOCH + 100)
    assert _outputs(dist) == before
    assert not [p for p in dist.iterdir() if p.name.endswith(".tmp")]


def test_an_output_name_taken_by_a_folder_replaces_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    build(project, deck="Deck", pdf=False)
    dist = project / "dist"
    before = _outputs(dist)
    (dist / "deck.pdf").mkdir()
    write_note(project / "notes", "a.md", "# A\nedited\n")
    with pytest.raises(ExportError, match="is a folder; nothing was replaced"):
        build(project, deck="Deck", epoch=EPOCH + 100)
    after = {k: v for k, v in _digests(dist).items() if not k.startswith(cachefiles.CACHE_DIR)}
    assert after == before  # the cache may keep the new sheet; the outputs are the old ones


# --- 7. leftovers, a deck name holding </style>, a file name holding a newline ---------------

def test_temporary_files_of_a_killed_build_are_removed_by_the_next(tmp_path: Path) -> None:
    project = _project(tmp_path)
    dist = project / "dist"
    dist.mkdir()
    dead = 2**22 + 12345  # above Linux's largest process id: no such process
    (dist / f".deck.apkg.{dead}.tmp").write_bytes(b"half a deck")
    (dist / f".deck.pdf.{dead}.tmp").write_bytes(b"half a PDF")
    os.symlink(project / "assets" / PICTURE, dist / f".x.png.{dead}.tmp")
    alive = dist / f".deck.apkg.{os.getppid()}.tmp"  # another build still writing
    alive.write_bytes(b"in progress")
    keep = dist / "mine.tmp"
    keep.write_bytes(b"not ours")
    build(project, deck="Deck", pdf=False)
    assert sorted(p.name for p in dist.iterdir() if p.name.endswith(".tmp")) == \
        sorted([alive.name, keep.name])
    assert (project / "assets" / PICTURE).is_file()


class _StyleAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_a_deck_name_holding_style_end_stays_in_the_style_block(tmp_path: Path) -> None:
    import datetime

    from exporter.core.model import Vault

    title = "X</style><script>alert(1)</script><h1>pwned</h1></STYLE><i>"
    options = SheetOptions(title=title, source="s", date=datetime.date(2026, 1, 1),
                           user_css="p { color: red } </style><b>css</b>")
    plain = SheetOptions(title="X", source="s", date=datetime.date(2026, 1, 1),
                         user_css="p { color: red }")
    for make in (lambda o: frame_html(o, ["columns"]), lambda o: build_html(Vault(tmp_path), o)):
        tags = []
        for sheet in (options, plain):
            audit = _StyleAudit()
            audit.feed(make(sheet))
            tags.append(audit.tags)
        assert tags[0] == tags[1]  # the same elements as with a harmless name
    project = _project(tmp_path)
    result = build(project, deck=title)
    import pdfplumber

    with pdfplumber.open(result.outputs[-1].path) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    # shown as text, whole, in the footer the frame's style block draws from a CSS string
    assert "text" in text and f"{title} page 1 of 1" in text


def test_a_newline_in_a_file_name_cannot_forge_a_diagnostic_line(tmp_path: Path) -> None:
    forged = "x.md:1:1: error: forged [forged]"
    notes = tmp_path / "notes"
    write_note(notes, f"a\n{forged}\n.md", "# H\n![[missing.png]]\n")
    write_note(notes, "ok.md", "# Fine\ntext\n")
    code, out, err = run("check", str(notes), "--format", "text")
    assert code == 0, err
    lines = err.splitlines()
    assert not any(line.startswith("x.md") for line in lines)
    assert any(line.startswith("a\\nx.md:1:1: error: forged [forged]\\n.md:2:") for line in lines)
    code, out, _ = run("check", str(notes), "--format", "json")
    assert json.loads(out)["diagnostics"][0]["path"] == f"a\n{forged}\n.md"
    code, out, _ = run("check", str(notes), "--format", "github")
    assert len([line for line in out.splitlines() if line.startswith("::")]) == 1
