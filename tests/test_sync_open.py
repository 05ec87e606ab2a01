"""What sync opens: a dry run changes no byte; what is not a sound Anki collection is refused,
saying what it is; a lock is not damage; an old schema is upgraded only when asked; Anki's text
normalisation does not make every sync an update; a filtered deck or a broken note type of ours
is a warning or a clear error, never a traceback."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.config import Config as AnkiConfig
from click.testing import CliRunner

from exporter.app.sync import sync
from exporter.cli import main
from exporter.core.config import Config
from exporter.deck import collection
from exporter.deck.collection import CollectionError

from .conftest import EPOCH, write_note

NOTE = "# Cells\n- Mitochondria::powerhouse of the cell\n# Membranes\nA lipid bilayer.\n"
UPGRADE = ("the collection from schema 11 to 18 (Anki 2.1.50+ reads it; older Anki versions "
           "won't)")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    write_note(tmp_path / "notes", "Biology/Cells.md", NOTE)
    return tmp_path / "notes"


def _config(notes: Path) -> Config:
    return Config(notes_dir=notes, asset_dirs=[], out_dir=notes.parent / "dist",
                  deck_name="Study", write_pdf=False, epoch=EPOCH)


def _files(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder``, with a hash of each file's bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


def _quiet(_: str) -> None:
    pass


def _schema(path: Path) -> int:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        return int(db.execute("select ver from col").fetchone()[0])


def _downgrade(path: Path) -> None:
    """Leave the collection in schema 11, as Anki before 2.1.50 (or a downgrade) writes it."""
    Collection(str(path)).close(downgrade=True)
    assert _schema(path) == 11


@pytest.mark.parametrize("schema", [18, 11])
def test_dry_run_changes_no_byte(vault: Path, col_path: Path, schema: int) -> None:
    sync(_config(vault), col_path, echo=_quiet)
    write_note(vault, "Chemistry/Atoms.md", "# Atoms\nProtons.\n")
    if schema == 11:
        _downgrade(col_path)
    before = _files(col_path.parent)
    printed: list[str] = []
    _, plan = sync(_config(vault), col_path, dry_run=True, echo=printed.append)
    assert plan.summary() == "1 added, 0 updated, 0 moved, 0 deleted"
    assert _files(col_path.parent) == before  # no byte, no -wal, -shm or media db created
    upgrade = [f"would upgrade {UPGRADE}; a real sync needs --upgrade"] if schema == 11 else []
    assert printed == [*upgrade, "would add: Chemistry/Atoms.md › Atoms"]


def test_an_old_schema_is_upgraded_only_with_upgrade(vault: Path, col_path: Path) -> None:
    _downgrade(col_path)
    before = _files(col_path.parent)
    with pytest.raises(CollectionError, match=r"has schema 11 .* run sync again with --upgrade"):
        sync(_config(vault), col_path, echo=_quiet)
    assert _files(col_path.parent) == before
    printed: list[str] = []
    _, plan = sync(_config(vault), col_path, echo=printed.append, upgrade=True)
    assert printed[0] == f"upgrading {UPGRADE}"  # said before Anki opens it
    assert plan.summary() == "3 added, 0 updated, 0 moved, 0 deleted"
    assert _schema(col_path) == 18


def _other_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("create table moz_places (id integer primary key, url text)")


def _package(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("collection.anki2", b"SQLite format 3\x00")
        archive.writestr("media", "{}")


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")


NOT_COLLECTIONS = {
    "empty": (lambda p: p.write_bytes(b""), "is an empty file, not an Anki collection"),
    "text": (lambda p: p.write_text("just some text\n"), "is a text file, not a database"),
    "binary": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\xff\x00"), "is not a database"),
    "other-sqlite": (_other_sqlite, "is an SQLite database without Anki's tables (no col, "
                                    "notes, cards, revlog): not an Anki collection"),
    "apkg": (_package, "is an Anki package (.apkg), not a collection: import it in Anki, or "
                       "point --collection at collection.anki2 in your profile folder"),
    "zip": (_zip, "is a zip archive, not an Anki collection"),
    "directory": (lambda p: p.mkdir(), "is a directory, not an Anki collection"),
}


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "sync"])
@pytest.mark.parametrize("kind", sorted(NOT_COLLECTIONS))
def test_sync_refuses_what_is_not_a_collection(vault: Path, tmp_path: Path, kind: str,
                                               dry_run: bool) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    make, message = NOT_COLLECTIONS[kind]
    make(folder / "file")
    before = _files(folder)
    with pytest.raises(CollectionError) as caught:
        sync(_config(vault), folder / "file", dry_run=dry_run, echo=_quiet)
    assert str(caught.value).startswith(f"'{folder / 'file'}' {message}")
    assert _files(folder) == before  # no Anki table written into it


def test_sync_command_refuses_an_apkg_without_a_traceback(vault: Path, tmp_path: Path) -> None:
    _package(tmp_path / "deck.apkg")
    run = CliRunner().invoke(main, ["sync", str(vault), "--collection",
                                    str(tmp_path / "deck.apkg")])
    assert run.exit_code == 1
    assert "is an Anki package (.apkg), not a collection: import it in Anki" in run.output
    assert "Traceback" not in run.output


def _hold(path: Path, code: str) -> subprocess.Popen[str]:
    """Another process holding the collection, as the desktop app does; once it says so."""
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


HOLD_WRITE = ("import sqlite3, sys, time; w = sqlite3.connect(sys.argv[1], isolation_level=None); "
              "w.execute('pragma locking_mode = exclusive'); w.execute('begin exclusive'); "
              "w.execute('update col set mod = mod'); print('held', flush=True); time.sleep(60)")
HOLD_ANKI = ("import sys, time; from anki.collection import Collection; "
             "c = Collection(sys.argv[1]); print('held', flush=True); time.sleep(60)")


@pytest.mark.parametrize("code", [HOLD_WRITE, HOLD_ANKI], ids=["write-transaction", "anki"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "sync"])
def test_a_collection_held_by_another_process_is_a_lock(vault: Path, col_path: Path,
                                                        code: str, dry_run: bool) -> None:
    holder = _hold(col_path, code)
    try:
        before = _files(col_path.parent)
        with pytest.raises(CollectionError, match=r"is open in Anki .*\(database is locked\)"):
            sync(_config(vault), col_path, dry_run=dry_run, echo=_quiet)
        assert _files(col_path.parent) == before
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "sync"])
def test_a_damaged_collection_is_not_called_open_in_anki(vault: Path, col_path: Path,
                                                         dry_run: bool) -> None:
    sync(_config(vault), col_path, echo=_quiet)
    data = bytearray(col_path.read_bytes())
    page = 4096
    data[2 * page:6 * page] = bytes((i * 7 + 13) % 256 for i in range(4 * page))
    col_path.write_bytes(bytes(data))
    before = _files(col_path.parent)
    with pytest.raises(CollectionError) as caught:
        sync(_config(vault), col_path, dry_run=dry_run, echo=_quiet)
    assert "is damaged (" in str(caught.value)
    assert "Check Database" in str(caught.value)
    assert "open in Anki" not in str(caught.value)
    assert _files(col_path.parent) == before


NFD_NOTE = ("# Cafe\u0301 \x01 menu #Re\u0301sume\u0301\n"
            "Text e\u0301 with \x01, \x0b, \x1f, \x7f, \u200b and \ufeff.\n"
            "- Te\u0301rm\x0b::de\u0301f\x01inition\n")


@pytest.mark.parametrize("nfc", [True, False], ids=["nfc", "as-written"])
def test_nfd_text_and_control_characters_sync_once(vault: Path, col_path: Path,
                                                   nfc: bool) -> None:
    col = Collection(str(col_path))
    col.set_config_bool(AnkiConfig.Bool.NORMALIZE_NOTE_TEXT, nfc)
    col.close()
    write_note(vault, "Cafe\u0301.md", NFD_NOTE)
    _, first = sync(_config(vault), col_path, echo=_quiet)
    assert first.summary() == "5 added, 0 updated, 0 moved, 0 deleted"
    _, second = sync(_config(vault), col_path, echo=_quiet)
    assert second.empty, second.lines()


SAMPLES = ["e\u0301 A\u030a \u2126 \ufb01", "\x00\x01\x08\t\n\x0b\x0c\r\x0e\x1e\x1f\x7f\x85",
           "\u200b\ufeff\u2028\u3000 x", "plain <b>html</b>"]
TAGS = ["Cafe\u0301", "a\x01b", "::lead", "trail::", "x\u200by", 'q"r', "s\u3000t", " "]


@pytest.mark.parametrize("nfc", [True, False], ids=["nfc", "as-written"])
def test_what_we_compare_is_what_anki_stores(col_path: Path, nfc: bool) -> None:
    col = Collection(str(col_path))
    try:
        col.set_config_bool(AnkiConfig.Bool.NORMALIZE_NOTE_TEXT, nfc)
        for text in SAMPLES:
            note = col.new_note(col.models.by_name("Basic"))
            note["Front"], note["Back"] = text, text[::-1]
            note.tags = TAGS
            col.add_note(note, 1)
            fields, tags = col.db.first("select flds, tags from notes where id = ?", note.id)
            assert fields.split("\x1f") == [collection.field_as_stored(text, nfc),
                                           collection.field_as_stored(text[::-1], nfc)]
            assert sorted(tags.split()) == sorted(collection.tags_as_stored(TAGS))
        col.tags.bulk_add(col.find_notes(""), "Straße STRASSE ǅ Σ ς")
    finally:
        col.close()
    assert collection.inspect(col_path) == 18  # quick_check reads Anki's case-blind indexes


def test_a_deck_that_is_filtered_leaves_cards_where_they_are(vault: Path,
                                                             col_path: Path) -> None:
    sync(_config(vault), col_path, echo=_quiet)
    col = Collection(str(col_path))
    col.decks.new_filtered("Cram")
    col.close()
    write_note(vault, "Biology/Cells.md", "---\ntitle: Cells\ndeck: Cram\n---\n" + NOTE
               + "# Ribosomes\nMake proteins.\n")
    result, dry = sync(_config(vault), col_path, dry_run=True, echo=_quiet)
    assert dry.empty
    warning = ("Biology/Cells.md:3:1: warning: deck 'Cram' is a filtered deck in the "
               "collection, and Anki moves no card into one: this note's cards stay where they "
               "are, new ones are not added; name a regular deck [sync-filtered]")
    assert [d.format() for d in result.vault.diagnostics] == [warning]
    write_note(vault, "Biology/Cells.md", "---\ndeck: Cram::Today\n---\n" + NOTE)
    run = CliRunner().invoke(main, ["sync", str(vault), "--collection", str(col_path),
                                    "--deck", "Study", "--out", str(vault.parent / "dist")])
    assert run.exit_code == 0, run.output
    assert ("Biology/Cells.md:2:1: warning: deck 'Cram::Today' lies under the filtered deck "
            "'Cram' in the collection") in run.output
    col = Collection(str(col_path))
    try:
        assert {col.decks.name(c.did) for c in map(col.get_card, col.find_cards(""))} == {
            "Study::Biology"}
    finally:
        col.close()


@pytest.mark.parametrize("change", ["remove", "rename", "add"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "sync"])
def test_a_field_gone_from_our_note_type_stops_sync_before_any_change(
        vault: Path, col_path: Path, change: str, dry_run: bool) -> None:
    sync(_config(vault), col_path, echo=_quiet)
    col = Collection(str(col_path))
    model = col.models.by_name("notes-export section")
    if change == "remove":
        col.models.remove_field(model, model["flds"][2])
    elif change == "rename":
        col.models.rename_field(model, model["flds"][2], "Where")
    else:
        col.models.add_field(model, col.models.new_field("Mnemonic"))
    col.models.update_dict(model)
    col.close()
    write_note(vault, "Biology/Cells.md", NOTE.replace("powerhouse", "power plant")
               + "# Ribosomes\nMake proteins.\n")
    before = _files(col_path.parent)
    args = ["sync", str(vault), "--collection", str(col_path), "--deck", "Study",
            "--out", str(vault.parent / "dist"), *(["--dry-run"] if dry_run else [])]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 1
    assert "Traceback" not in run.output and "internal error" not in run.output
    expected = {"remove": "has lost its field 'Context'",
                "rename": "has lost its field 'Context'",
                "add": "has other fields than sync fills ('Mnemonic')"}[change]
    assert f"the note type 'notes-export section' in the collection {expected}" in run.output
    assert "rename the note type so that sync makes a fresh one; nothing was changed" in \
        run.output
    assert _files(col_path.parent) == before
