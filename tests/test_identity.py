"""Cards keep their identity through rewording, renames and moves; state from a file or a deck."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from exporter.app.pipeline import Result, export
from exporter.cli import main
from exporter.core.config import Config, ExportError
from exporter.core.model import Card
from exporter.deck import deck_reader, state

from .conftest import EPOCH, SAMPLE_ASSETS, import_apkg, write_note

CELLS = """# Cells
Cells are the unit of life.
- Mitochondria::powerhouse of the cell
- The {{c1::nucleus}} holds the genome of every eukaryotic cell
# Membranes
A lipid bilayer with proteins in it.
"""


def _build(root: Path, epoch: int = EPOCH, **options: object) -> Result:
    config = Config(notes_dir=root / "notes", asset_dirs=[root / "assets"],
                    out_dir=root / "dist", deck_name="Bio", write_pdf=False, epoch=epoch)
    for name, value in options.items():
        setattr(config, name, value)
    return export(config)


def _guids(result: Result) -> dict[str, str]:
    """Card front (tags dropped) → GUID."""
    return {state.plain(c.front): c.guid for c in result.cards}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def cells(tmp_path: Path) -> Path:
    write_note(tmp_path / "notes", "Biology/Cells.md", CELLS)
    (tmp_path / "assets").mkdir()
    return tmp_path / "notes" / "Biology" / "Cells.md"


def test_reworded_question_renamed_heading_and_edited_cloze_keep_their_cards(
        tmp_path: Path, cells: Path) -> None:
    first = _guids(_build(tmp_path))
    _edit(cells, "Mitochondria::", "What is the mitochondrion?::")
    _edit(cells, "# Membranes", "# Cell membranes")
    _edit(cells, "holds the genome", "holds the DNA")
    second = _build(tmp_path, EPOCH + 60)
    now = _guids(second)
    assert now["What is the mitochondrion?"] == first["Mitochondria"]
    assert now["Cell membranes"] == first["Membranes"]
    cloze = next(c for c in second.cards if c.model == "cloze")
    assert "holds the DNA" in cloze.front
    assert cloze.guid == next(g for f, g in first.items() if "nucleus" in f)
    assert now["Cells"] == first["Cells"]  # its body changed: an ordinary update
    assert second.report is not None
    assert (second.report.renamed, second.report.moved, second.report.added,
            second.report.removed) == (3, 0, 0, 0)
    assert second.diagnostics == []


def test_renamed_card_keeps_its_guid_through_later_edits(tmp_path: Path, cells: Path) -> None:
    first = _guids(_build(tmp_path))
    _edit(cells, "# Membranes", "# Cell membranes")
    _build(tmp_path, EPOCH + 60)
    # Its new heading now leads to its old GUID, whatever happens to its body.
    _edit(cells, "A lipid bilayer with proteins in it.", "Completely rewritten: it is fluid.")
    third = _build(tmp_path, EPOCH + 120)
    assert _guids(third)["Cell membranes"] == first["Membranes"]
    assert third.report is not None and third.report.renamed == 0


def test_moved_and_renamed_note_keeps_its_cards(tmp_path: Path, cells: Path,
                                                collection: Collection) -> None:
    first = _build(tmp_path)
    import_apkg(collection, tmp_path / "dist" / "bio.apkg")
    ids = set(collection.find_notes(""))
    target = tmp_path / "notes" / "Archive" / "Cell biology.md"
    target.parent.mkdir()
    cells.rename(target)
    second = _build(tmp_path, EPOCH + 60)
    assert {c.guid for c in second.cards} == {c.guid for c in first.cards}
    assert {c.deck for c in second.cards} == {"Bio::Archive"}
    assert second.report is not None
    assert (second.report.moved, second.report.renamed, second.report.removed) == (4, 0, 0)
    log = import_apkg(collection, tmp_path / "dist" / "bio.apkg")
    assert (log["new"], log["updated"]) == (0, 4)
    assert set(collection.find_notes("")) == ids
    # Every card names the note by its new title (a question card adds its heading path).
    assert {collection.get_note(n)["Context"].split(" › ")[0] for n in ids} == {"Cell biology"}


NEAR = """# Organelles
- The {{c1::mitochondria}} is the powerhouse of the cell
- The {{c1::mitochondrion}} is the powerhouse of the cell
"""


def test_two_near_identical_cards_edited_together_are_not_merged(
        tmp_path: Path, collection: Collection) -> None:
    note = write_note(tmp_path / "notes", "Near.md", NEAR)
    (tmp_path / "assets").mkdir()
    first = _build(tmp_path)
    old = {c.guid for c in first.cards if c.model == "cloze"}
    import_apkg(collection, tmp_path / "dist" / "bio.apkg")
    _edit(note, "powerhouse of the cell", "power plant of a cell")
    second = _build(tmp_path, EPOCH + 60)
    new = {c.guid for c in second.cards if c.model == "cloze"}
    assert len(new) == 2 and not new & old  # two new cards: neither took an old one's place
    notices = [d for d in second.diagnostics if d.code == "ambiguous-identity"]
    assert [(d.path, d.line, d.severity) for d in notices] == [("Near.md", 2, "notice"),
                                                               ("Near.md", 3, "notice")]
    assert "may be the edited form of" in notices[0].message
    assert second.warnings == 0  # a notice does not fail --strict
    log = import_apkg(collection, tmp_path / "dist" / "bio.apkg")
    assert log["new"] == 2
    texts = [collection.get_note(n)["Text"] for n in collection.find_notes("note:*cloze")]
    assert len(texts) == 4 and len(set(texts)) == 4  # nothing overwritten by the wrong card


def test_one_of_two_near_identical_cards_edited_keeps_its_card(tmp_path: Path) -> None:
    note = write_note(tmp_path / "notes", "Near.md", NEAR)
    (tmp_path / "assets").mkdir()
    first = {c.front: c.guid for c in _build(tmp_path).cards}
    _edit(note, "mitochondrion}} is the powerhouse", "mitochondrion}} is the power plant")
    second = _build(tmp_path, EPOCH + 60)
    assert {c.guid for c in second.cards} == set(first.values())
    assert second.diagnostics == []


def test_same_answer_under_two_reworded_questions_is_ambiguous(tmp_path: Path) -> None:
    note = write_note(tmp_path / "notes", "Q.md", "# Q\n- Capital of France::Paris\n"
                      "- Where is the Louvre::Paris\n")
    (tmp_path / "assets").mkdir()
    first = {c.guid for c in _build(tmp_path).cards}
    _edit(note, "Capital of France", "France's capital city")
    _edit(note, "Where is the Louvre", "City of the Louvre")
    second = _build(tmp_path, EPOCH + 60)
    qa = [c for c in second.cards if c.kind == "qa"]
    assert len(qa) == 2 and not {c.guid for c in qa} & first
    assert len([d for d in second.diagnostics if d.code == "ambiguous-identity"]) == 2


BROKEN_STATES = {
    "a number": "5",
    "a list": "[]",
    "not JSON": "{",
    "null": "null",
    "cards as a list": '{"version": 2, "cards": []}',
    "a huge integer": '{"version": 2, "cards": {"abc": {"hash": "x", "mod": '
                      + "9" * 400 + "}}}",
    "a float time": '{"version": 2, "cards": {"abc": {"hash": "x", "mod": 1e400}}}',
    "a negative time": '{"version": 2, "cards": {"abc": {"hash": "x", "mod": -1}}}',
    "a wrong type": '{"version": 2, "cards": {"abc": {"hash": 5, "mod": 1}}}',
    "wrong tags": '{"version": 2, "cards": {"abc": {"hash": "x", "mod": 1, "tags": "a"}}}',
    "an old entry": '{"version": 1, "cards": {"abc": ["x"]}}',
    "an unknown version": '{"version": 99, "cards": {}}',
    "deep nesting": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("text", BROKEN_STATES.values(), ids=BROKEN_STATES.keys())
def test_broken_state_file_is_a_warning_naming_it_then_ignored(tmp_path: Path, cells: Path,
                                                               text: str) -> None:
    saved = tmp_path / "deck-state.json"
    saved.write_text(text, encoding="utf-8")
    result = _build(tmp_path, state_file=saved)
    assert [(d.path, d.code, d.severity) for d in result.diagnostics] == [
        (str(saved), "bad-state", "warning")]
    assert "state file ignored" in result.diagnostics[0].message
    assert len(result.cards) == 4
    assert state.load_file(saved, []) != {}  # rewritten, valid, for the next build


def test_state_file_that_is_not_utf8_is_ignored(tmp_path: Path, cells: Path) -> None:
    saved = tmp_path / "deck-state.json"
    saved.write_bytes(b"\xff\xfe\x00garbage")
    result = _build(tmp_path, state_file=saved)
    assert [d.code for d in result.diagnostics] == ["bad-state"]


def test_version_one_state_still_keeps_times(tmp_path: Path, cells: Path) -> None:
    first = _build(tmp_path)
    entries = state.load_file(tmp_path / "dist" / ".bio.notes-export.json", [])
    legacy = {"version": 1, "cards": {g: [e.hash, e.mod] for g, e in entries.items()}}
    (tmp_path / "dist" / ".bio.notes-export.json").write_text(json.dumps(legacy))
    second = _build(tmp_path, EPOCH + 999)
    assert second.report is not None and second.report.unchanged == len(first.cards)


def test_committed_state_file_and_config_key(tmp_path: Path, cells: Path) -> None:
    (tmp_path / "notes-export.toml").write_text('state = "deck-state.json"\n')
    runner = CliRunner()
    args = ["build", str(tmp_path / "notes"), "--no-pdf", "--out", str(tmp_path / "dist")]
    assert runner.invoke(main, args).exit_code == 0
    assert state.load_file(tmp_path / "deck-state.json", [])
    assert not (tmp_path / "dist" / ".notes.notes-export.json").exists()
    _edit(cells, "# Membranes", "# Cell membranes")
    run = runner.invoke(main, args)
    assert run.exit_code == 0, run.output
    assert "1 renamed, 0 moved (history kept)" in run.output


def test_previous_deck_serves_as_the_state(tmp_path: Path, cells: Path) -> None:
    first = _build(tmp_path, out_dir=tmp_path / "run1")
    _edit(cells, "# Membranes", "# Cell membranes")
    second = _build(tmp_path, EPOCH + 3600, out_dir=tmp_path / "run2",
                    previous=tmp_path / "run1" / "bio.apkg")
    assert {c.guid for c in second.cards} == {c.guid for c in first.cards}
    assert second.report is not None
    assert (second.report.renamed, second.report.changed, second.report.unchanged) == (1, 1, 3)


def _strip_our_table(apkg: Path, target: Path) -> None:
    """The same deck as another tool (or an older version) would have left it."""
    with zipfile.ZipFile(apkg) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    db = target.with_suffix(".anki2")
    db.write_bytes(entries["collection.anki2"])
    conn = sqlite3.connect(db)
    conn.execute(f"drop table {state.TABLE}")
    conn.commit()
    conn.close()
    entries["collection.anki2"] = db.read_bytes()
    with zipfile.ZipFile(target, "w") as sink:
        for name, data in entries.items():
            sink.writestr(name, data)


def test_previous_deck_without_our_table_pairs_by_content(tmp_path: Path, cells: Path) -> None:
    first = _build(tmp_path, out_dir=tmp_path / "run1")
    _strip_our_table(tmp_path / "run1" / "bio.apkg", tmp_path / "plain.apkg")
    _edit(cells, "# Membranes", "# Cell membranes")
    second = _build(tmp_path, EPOCH + 3600, out_dir=tmp_path / "run2",
                    previous=tmp_path / "plain.apkg")
    assert {c.guid for c in second.cards} == {c.guid for c in first.cards}
    assert second.report is not None
    assert (second.report.renamed, second.report.unchanged) == (1, 3)  # times recomputed


def test_broken_previous_deck_is_a_clear_error(tmp_path: Path, cells: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.apkg"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ExportError, match=r"bad\.apkg' is not a readable Anki deck"):
        _build(tmp_path, previous=bad)
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("collection.anki2", b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(ExportError, match="not a readable Anki deck"):
        _build(tmp_path, previous=bad)
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("media", "{}")
    with pytest.raises(ExportError, match=r"holds no collection\.anki2"):
        _build(tmp_path, previous=bad)
    _build(tmp_path)
    monkeypatch.setattr(deck_reader, "MAX_COLLECTION_BYTES", 1000)
    with pytest.raises(ExportError, match="larger than"):
        _build(tmp_path, previous=tmp_path / "dist" / "bio.apkg")
    run = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--no-pdf",
                                    "--previous", str(bad)])
    assert run.exit_code == 1
    assert "holds no collection.anki2" in run.output


def test_removed_cards_are_listed_and_tagged_once(tmp_path: Path, cells: Path,
                                                  collection: Collection) -> None:
    _build(tmp_path)
    import_apkg(collection, tmp_path / "dist" / "bio.apkg")
    _edit(cells, "# Membranes\nA lipid bilayer with proteins in it.\n", "")
    runner = CliRunner()
    args = ["build", str(tmp_path / "notes"), "--no-pdf", "--out", str(tmp_path / "dist"),
            "--deck", "Bio", "--tag-removed"]
    run = runner.invoke(main, args, env={"SOURCE_DATE_EPOCH": str(EPOCH + 60)})
    assert run.exit_code == 0, run.output
    assert "Removed cards (sent once more, tagged notes-export::removed):" in run.output
    assert "  - Biology/Cells.md › Membranes" in run.output
    import_apkg(collection, tmp_path / "dist" / "bio.apkg")
    orphans = collection.find_notes("tag:notes-export::removed")
    assert [collection.get_note(n)["Front"] for n in orphans] == ["Membranes"]
    assert collection.note_count() == 4
    again = runner.invoke(main, args, env={"SOURCE_DATE_EPOCH": str(EPOCH + 120)})
    assert "Removed cards" not in again.output  # sent once only
    with zipfile.ZipFile(tmp_path / "dist" / "bio.apkg") as archive:
        archive.extract("collection.anki2", tmp_path)
    conn = sqlite3.connect(tmp_path / "collection.anki2")
    assert conn.execute("select count(*) from notes").fetchone() == (3,)
    conn.close()


def test_media_are_named_by_content(tmp_path: Path, cells: Path) -> None:
    png = (SAMPLE_ASSETS / "Pasted image 20250217143901.png").read_bytes()
    (tmp_path / "assets" / "Cell.png").write_bytes(png)
    _edit(cells, "A lipid bilayer", "![[Cell.png]]\nA lipid bilayer")
    first = _build(tmp_path)
    again = _build(tmp_path, EPOCH + 60)
    assert list(first.vault.assets) == list(again.vault.assets)  # no churn
    assert again.report is not None and again.report.changed == 0
    (tmp_path / "assets" / "Cell.png").write_bytes(png + b"edited")
    edited = _build(tmp_path, EPOCH + 120)
    [old], [new] = list(first.vault.assets), list(edited.vault.assets)
    assert old != new and old.startswith("cell-") and new.startswith("cell-")
    assert edited.report is not None and edited.report.changed == 1
    assert f'src="{new}"' in _by_front(edited, "Membranes").back


def _by_front(result: Result, front: str) -> Card:
    return next(c for c in result.cards if c.front == front)


def test_removed_cards_tagged_once_when_the_previous_deck_is_the_state(tmp_path: Path,
                                                                       cells: Path) -> None:
    _build(tmp_path, out_dir=tmp_path / "run1")
    _edit(cells, "# Membranes\nA lipid bilayer with proteins in it.\n", "")
    second = _build(tmp_path, EPOCH + 60, out_dir=tmp_path / "run2", tag_removed=True,
                    previous=tmp_path / "run1" / "bio.apkg")
    assert second.report is not None
    assert (second.report.removed, second.report.tagged) == (1, 1)
    third = _build(tmp_path, EPOCH + 120, out_dir=tmp_path / "run3", tag_removed=True,
                   previous=tmp_path / "run2" / "bio.apkg")
    assert third.report is not None
    assert (third.report.removed, third.report.tagged, third.report.unchanged) == (0, 0, 3)


def test_cli_names_a_broken_state_file_and_goes_on(tmp_path: Path, cells: Path) -> None:
    (tmp_path / "dist").mkdir()
    broken = tmp_path / "dist" / ".bio.notes-export.json"
    broken.write_text('{"version": 2, "cards": {"x": {"hash": "h", "mod": "soon"}}}')
    run = CliRunner().invoke(main, ["build", str(tmp_path / "notes"), "--no-pdf", "--deck", "Bio",
                                    "--out", str(tmp_path / "dist")])
    assert run.exit_code == 0, run.output
    assert (f"{broken}:1:1: warning: state file ignored (card 'x': a modification time must be "
            "a whole number of seconds, not 'soon')") in run.output
    assert "Cards: 4 (4 added" in run.output


def test_previous_deck_with_wrong_tables_is_a_clear_error(tmp_path: Path, cells: Path) -> None:
    db = tmp_path / "collection.anki2"
    conn = sqlite3.connect(db)
    conn.execute("create table col (models text, decks text)")
    conn.execute("create table notes (id, guid, mid, mod, flds, tags)")
    conn.execute("create table cards (nid, did)")
    conn.execute("insert into col values ('[1, 2]', '{}')")
    conn.commit()
    conn.close()
    bad = tmp_path / "bad.apkg"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.write(db, "collection.anki2")
    with pytest.raises(ExportError, match="not a readable Anki deck: AttributeError"):
        _build(tmp_path, previous=bad)
