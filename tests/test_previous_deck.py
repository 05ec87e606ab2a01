"""``--previous DECK.apkg`` read as untrusted input: Anki's newer format, hostile zips, hostile
SQLite, and paths that are not files. Each hostile read that could hang or eat the machine runs
in a child process with 1 GiB of address space and a deadline, so a regression fails instead."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection, ExportAnkiPackageOptions
from click.testing import CliRunner

from exporter.cli import main
from exporter.core.config import ExportError
from exporter.deck import deck_reader, state

from .conftest import EPOCH, import_apkg, write_note
from .test_identity import CELLS, _build, _edit

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deck this tool wrote: four cards from one note."""
    root = tmp_path_factory.mktemp("deck")
    write_note(root / "notes", "Biology/Cells.md", CELLS)
    (root / "assets").mkdir()
    _build(root)
    return root / "dist" / "bio.apkg"


_LOAD = """
import resource, sys
from pathlib import Path
from exporter.deck import deck_reader, state
from exporter.core.errors import ExportError
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
deck_reader.READ_SECONDS = float(sys.argv[2])
try:
    state.load_deck(Path(sys.argv[1]))
except ExportError as exc:
    print(exc)
    sys.exit(3)
print("read without an error")
"""


def _refusal(deck: Path, seconds: float = 60.0) -> str:
    """``load_deck`` in a child with 1 GiB of address space and a deadline; its ExportError."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", _LOAD, str(deck), str(seconds)], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 3, run.stdout + run.stderr[-2000:]
    return run.stdout.strip()


def _with_collection(apkg: Path, target: Path, sql: str) -> Path:
    """A copy of ``apkg`` whose collection ran ``sql``: what a crafted artifact could hold."""
    with zipfile.ZipFile(apkg) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    db = target.with_suffix(".anki2")
    db.write_bytes(entries["collection.anki2"])
    conn = sqlite3.connect(db)
    conn.executescript(sql)
    conn.commit()
    conn.close()
    entries["collection.anki2"] = db.read_bytes()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as sink:
        for name, data in entries.items():
            sink.writestr(name, data)
    return target


def _patch_member(apkg: Path, name: str, *, flag: int = 0, method: int | None = None) -> None:
    """Set a general-purpose flag bit or the compression method of one member, by hand, in its
    local header (flags at +6, method at +8) and its central directory entry (+8, +10)."""
    data = bytearray(apkg.read_bytes())
    with zipfile.ZipFile(apkg) as archive:
        local = archive.getinfo(name).header_offset
    central = data.find(b"PK\x01\x02")
    while data[central + 46:central + 46 + int.from_bytes(data[central + 28:central + 30],
                                                          "little")] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    for flags_at in (local + 6, central + 8):
        flags = int.from_bytes(data[flags_at:flags_at + 2], "little") | flag
        data[flags_at:flags_at + 2] = flags.to_bytes(2, "little")
        if method is not None:
            data[flags_at + 2:flags_at + 4] = method.to_bytes(2, "little")
    apkg.write_bytes(bytes(data))


def _anki_export(collection: Collection, apkg: Path, target: Path, legacy: bool) -> Path:
    """``apkg`` imported into Anki and exported again, in the newer format or the older one."""
    import_apkg(collection, apkg)
    options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False,
                                       with_media=True, legacy=legacy)
    collection.export_anki_package(out_path=str(target), options=options, limit=None)
    return target


# --- Anki's newer format ------------------------------------------------------------------------


def test_deck_anki_exported_in_its_newer_format_keeps_renamed_cards(
        tmp_path: Path, collection: Collection) -> None:
    pytest.importorskip("zstandard")
    cells = write_note(tmp_path / "notes", "Biology/Cells.md", CELLS)
    (tmp_path / "assets").mkdir()
    first = _build(tmp_path, out_dir=tmp_path / "run1")
    newer = _anki_export(collection, tmp_path / "run1" / "bio.apkg", tmp_path / "new.apkg", False)
    older = _anki_export(collection, tmp_path / "run1" / "bio.apkg", tmp_path / "old.apkg", True)
    with zipfile.ZipFile(newer) as archive:
        assert {"collection.anki21b", "collection.anki2"} <= set(archive.namelist())
    assert state.load_deck(newer) == state.load_deck(older)
    _edit(cells, "# Membranes", "# Cell membranes")
    from_newer = _build(tmp_path, EPOCH + 3600, out_dir=tmp_path / "run2", previous=newer)
    from_older = _build(tmp_path, EPOCH + 3600, out_dir=tmp_path / "run3", previous=older)
    guids = [c.guid for c in first.cards]
    assert [c.guid for c in from_newer.cards] == [c.guid for c in from_older.cards] == guids
    assert from_newer.report is not None and from_newer.report.renamed == 1


def test_newer_format_without_zstandard_is_refused_not_read_as_empty(
        tmp_path: Path, collection: Collection, deck: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    newer = _anki_export(collection, deck, tmp_path / "new.apkg", False)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import fails as if not installed
    with pytest.raises(ExportError, match=r"new\.apkg' is in Anki's newer format "
                       r"\(collection\.anki21b\), which needs the zstandard package: install "
                       r"it, or export it from Anki with \"Support older Anki versions\" ticked"):
        state.load_deck(newer)


def test_zstandard_bomb_in_the_newer_format_is_refused(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    bomb = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(bomb, "w") as archive:
        archive.writestr("collection.anki21b",
                         zstandard.ZstdCompressor().compress(bytes(64 << 20)))
        archive.writestr("collection.anki2", b"please update Anki")
    with pytest.raises(ExportError, match=re.escape("bomb.apkg' has a collection that expands "
                                                    "more than 200 times")):
        state.load_deck(bomb)


# --- the zip --------------------------------------------------------------------------------------


def test_encrypted_member_is_refused(tmp_path: Path, deck: Path) -> None:
    encrypted = Path(shutil.copy(deck, tmp_path / "encrypted.apkg"))
    _patch_member(encrypted, "collection.anki2", flag=0x1)
    with pytest.raises(ExportError, match=re.escape("encrypted.apkg' has its collection.anki2 "
                                                    "encrypted: pass an unencrypted deck")):
        state.load_deck(encrypted)


def test_ppmd_compressed_member_is_refused_not_an_internal_error(tmp_path: Path, deck: Path,
                                                                 cells: Path) -> None:
    ppmd = Path(shutil.copy(deck, tmp_path / "ppmd.apkg"))
    _patch_member(ppmd, "collection.anki2", method=98)
    message = ("ppmd.apkg' has its collection.anki2 compressed with method 98 (PPMd); Anki "
               "writes stored or deflate members")
    with pytest.raises(ExportError, match=re.escape(message)):
        state.load_deck(ppmd)
    run = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--no-pdf",
                                    "--out", str(tmp_path / "dist"), "--previous", str(ppmd)])
    assert run.exit_code == 1
    assert message in run.output and "internal error" not in run.output


@pytest.fixture
def cells(tmp_path: Path) -> Path:
    return write_note(tmp_path / "notes", "Biology/Cells.md", CELLS)


def test_zip_bomb_member_is_refused_before_reading(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("collection.anki2", "w") as member:
        for _ in range(64):
            member.write(bytes(1 << 20))  # 64 MiB of zeros deflate ~1000 to 1

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    with pytest.raises(ExportError, match=r"bomb.apkg' has its collection.anki2 expand \d+ "
                                          "times: a zip bomb, not a deck"):
        state.load_deck(bomb)


# --- the database ---------------------------------------------------------------------------------


def test_notes_as_a_view_of_huge_strings_is_refused(tmp_path: Path, deck: Path) -> None:
    hostile = _with_collection(deck, tmp_path / "view.apkg", """
        alter table notes rename to stored;
        create view notes as select id, guid, mid, mod, tags,
            flds || printf('%.*c', 300000000, 'x') as flds from stored;""")
    assert hostile.stat().st_size < 20_000
    assert _refusal(hostile) == (f"--previous '{hostile}' is not a readable Anki deck: its "
                                 "table 'notes' is a view")


def test_computed_column_of_huge_strings_is_refused(tmp_path: Path, deck: Path) -> None:
    hostile = _with_collection(deck, tmp_path / "huge.apkg", """
        alter table notes drop column flds;
        alter table notes add column flds text as (hex(zeroblob(150000000))) virtual;""")
    assert _refusal(hostile) == (f"--previous '{hostile}' holds a value longer than 32 MiB "
                                 "(a crafted collection?)")


def test_computed_column_yielding_more_text_than_the_file_is_refused(tmp_path: Path,
                                                                      deck: Path) -> None:
    hostile = _with_collection(deck, tmp_path / "more.apkg", """
        alter table notes drop column flds;
        alter table notes add column flds text as (hex(zeroblob(10000000))) virtual;""")
    assert _refusal(hostile) == (f"--previous '{hostile}' yields more text than its "
                                 "collection file holds")


def test_slow_per_row_query_is_stopped_by_the_time_budget(tmp_path: Path, deck: Path) -> None:
    hostile = _with_collection(deck, tmp_path / "slow.apkg", """
        create table many (id integer primary key, guid, mid, mod, tags);
        with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000)
            insert into many select i, 'g' || i, 1, 1, '' from n;
        alter table many add column flds as (  -- 50 ms a row
            printf('%d', length(replace(hex(zeroblob(2000000 + id)), '0', 'ab'))));
        drop table notes;
        alter table many rename to notes;""")
    assert _refusal(hostile, seconds=0.2) == (f"--previous '{hostile}' took longer than 0.2 s "
                                              "to read: stopped (a crafted collection?)")


# --- the path -------------------------------------------------------------------------------------


def test_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.apkg"
    link.symlink_to("/dev/zero")
    assert _refusal(link) == (f"--previous '{link}' is a symbolic link: pass the deck file "
                              "itself")
    assert _refusal(Path("/dev/zero")) == ("--previous '/dev/zero' is not a regular file (it is "
                                           "a device): pass the deck file")


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "deck.apkg"
    os.mkfifo(fifo)
    assert _refusal(fifo) == (f"--previous '{fifo}' is not a regular file (it is a FIFO): pass "
                              "the deck file")


def test_our_own_deck_reads_within_the_bounds(deck: Path) -> None:
    with zipfile.ZipFile(deck) as archive:
        info = archive.getinfo("collection.anki2")
    assert info.file_size < deck_reader.MAX_RATIO * info.compress_size
    entries = state.load_deck(deck)
    assert len(entries) == 4 and all(e.natural and e.note == "Biology/Cells.md"
                                     for e in entries.values())
