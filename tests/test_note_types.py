"""Your own note types (config ``note_types``): in the deck, in sync, and the config's checks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from exporter.app.pipeline import export
from exporter.app.sync import sync
from exporter.cli import main
from exporter.core import config
from exporter.core.config import ConfigError
from exporter.deck import state

from .conftest import EPOCH, answer_all, import_apkg, write_note

BIO = ("# Cells\n- Mitochondria::powerhouse of the cell\n- The nucleus holds {{c1::DNA}}.\n"
       "# Membranes\nA lipid bilayer.\n")
HEAD = 'deck = "Study"\npdf = false\n'
BASIC = """
[note_types.basic]
name = "My Basic"
fields = { Front = "Question", Back = "Answer", Context = "Where", Source = "From" }
"""
CLOZE = """
[note_types.cloze]
name = "My Cloze"
fields = { Text = "Text", "Back Extra" = "Extra", Context = "Where", Source = "From" }
"""
OURS = {"basic": "notes-export section", "cloze": "notes-export cloze"}


def _vault(tmp_path: Path, mapping: str = BASIC + CLOZE) -> Path:
    notes = tmp_path / "notes"
    write_note(notes, "Biology/Cells.md", BIO)
    (notes / "notes-export.toml").write_text(HEAD + mapping, encoding="utf-8")
    return notes


def _config(notes: Path, out: str = "dist") -> config.Config:
    return config.load(notes, {"out_dir": notes.parent / out, "asset_dirs": [],
                               "epoch": EPOCH})


def _map(notes: Path, mapping: str) -> None:
    (notes / "notes-export.toml").write_text(HEAD + mapping, encoding="utf-8")


def _build(notes: Path, out: str = "dist") -> Path:
    export(_config(notes, out))
    return notes.parent / out / "study.apkg"


def _add_type(col: Collection, name: str, fields: list[str], cloze: bool = False) -> None:
    """A note type of the user's own, as Anki's Manage Note Types makes one."""
    notetype = col.models.new(name)
    for field in fields:
        col.models.add_field(notetype, col.models.new_field(field))
    template = col.models.new_template("Mine")
    shown = f"{{{{cloze:{fields[0]}}}}}" if cloze else f"{{{{{fields[0]}}}}}"
    template["qfmt"] = f'<div class="mine">{shown}</div>'
    template["afmt"] = f"{shown}<hr>{{{{{fields[1]}}}}}"
    col.models.add_template(notetype, template)
    if cloze:
        notetype["type"] = 1
    col.models.add_dict(notetype)


def _user_types(path: Path) -> None:
    col = Collection(str(path))
    try:
        _add_type(col, "My Basic", ["Question", "Answer", "Where", "From", "My own"])
        _add_type(col, "My Cloze", ["Text", "Extra", "Where", "From"], cloze=True)
    finally:
        col.close()


def _notes(path: Path) -> dict[str, tuple[Any, ...]]:
    """GUID → note id, type name, fields by name, card ids, review counts."""
    col = Collection(str(path))
    try:
        found = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            cards = sorted(col.card_ids_of_note(nid))
            found[note.guid] = (nid, note.note_type()["name"], dict(note.items()), tuple(cards),
                                tuple(col.get_card(c).reps for c in cards))
        return found
    finally:
        col.close()


def _no_sync_output(_: str) -> None:
    pass


def test_deck_in_your_note_types_imports_with_the_same_guids(tmp_path: Path,
                                                              collection: Collection) -> None:
    notes = _vault(tmp_path, "")
    plain = state.load_deck(_build(notes, "plain"))
    _map(notes, BASIC + CLOZE)
    log = import_apkg(collection, _build(notes))
    assert log["new"] == 4
    found = {}
    for nid in collection.find_notes(""):
        note = collection.get_note(nid)
        found[note.guid] = (note.note_type()["name"], dict(note.items()))
    assert set(found) == set(plain)  # the GUIDs the deck without the mapping has
    types = {name for name, _ in found.values()}
    assert types == {"My Basic", "My Cloze"}
    fields = {tuple(f) for _, f in found.values()}
    assert fields == {("Question", "Answer", "Where", "From"), ("Text", "Extra", "Where", "From")}
    by_front = {f.get("Question", f.get("Text")): f for _, f in found.values()}
    assert by_front["Mitochondria"]["Answer"] == "powerhouse of the cell"
    assert by_front["The nucleus holds {{c1::DNA}}."]["From"].startswith("Biology/Cells.md")
    model = collection.models.by_name("My Basic")
    assert model is not None and "{{Question}}" in model["tmpls"][0]["qfmt"]  # ours, renamed
    for guid, entry in plain.items():
        content = found[guid][1]
        assert list(content.values()) == [entry.front, entry.back, entry.context, entry.source]


def test_adding_the_mapping_keeps_notes_and_history(tmp_path: Path, col_path: Path) -> None:
    notes = _vault(tmp_path, "")
    col = Collection(str(col_path))
    import_apkg(col, _build(notes))
    answer_all(col)
    col.close()
    before = _notes(col_path)
    assert {t for _, t, *_ in before.values()} == set(OURS.values())
    _map(notes, BASIC + CLOZE)
    col = Collection(str(col_path))
    log = import_apkg(col, _build(notes))
    col.close()
    # an import never changes a note's type: nothing new, nothing doubled, history as it was
    assert log["new"] == 0 and _notes(col_path) == before
    # the import brought the deck's types (named as yours); sync moves the notes into them
    unchanged = hashlib.sha256(col_path.read_bytes()).hexdigest()
    _, dry = sync(_config(notes), col_path, dry_run=True, echo=_no_sync_output)
    assert dry.summary().endswith(", 4 converted")
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == unchanged  # a dry run: no byte
    lines: list[str] = []
    _, plan = sync(_config(notes), col_path, echo=lines.append)
    assert plan.summary() == "0 added, 0 updated, 0 moved, 0 deleted, 4 converted"
    assert "convert: Biology/Cells.md › Mitochondria → note type 'My Basic'" in lines
    after = _notes(col_path)
    assert set(after) == set(before)
    for guid, (nid, name, fields, cards, reps) in after.items():
        old_nid, old_name, old_fields, old_cards, old_reps = before[guid]
        assert (nid, cards, reps) == (old_nid, old_cards, old_reps)  # same notes and history
        assert name == {"notes-export section": "My Basic",
                        "notes-export cloze": "My Cloze"}[old_name]
        assert list(fields.values()) == list(old_fields.values())
    _, again = sync(_config(notes), col_path, echo=_no_sync_output)
    assert again.empty


def test_sync_fills_your_note_type_and_converts_back(tmp_path: Path, col_path: Path) -> None:
    notes = _vault(tmp_path, BASIC)
    _user_types(col_path)
    _, plan = sync(_config(notes), col_path, echo=_no_sync_output)
    assert plan.summary() == "4 added, 0 updated, 0 moved, 0 deleted"
    added = _notes(col_path)
    by_type = sorted((name, fields.get("Question", fields.get("Text")))
                     for _, name, fields, *_ in added.values())
    assert by_type == [("My Basic", "Cells"), ("My Basic", "Membranes"),
                       ("My Basic", "Mitochondria"), ("notes-export cloze",
                                                     "The nucleus holds {{c1::DNA}}.")]
    mito = next(f for _, _, f, *_ in added.values() if f.get("Question") == "Mitochondria")
    assert mito == {"Question": "Mitochondria", "Answer": "powerhouse of the cell",
                    "Where": "Cells", "From": "Biology/Cells.md › Cells", "My own": ""}
    col = Collection(str(col_path))
    answer_all(col)
    col.close()
    write_note(notes, "Biology/Cells.md", BIO.replace("powerhouse", "power plant"))
    _, plan = sync(_config(notes), col_path, echo=_no_sync_output)
    assert plan.summary() == "0 added, 2 updated, 0 moved, 0 deleted"  # the card, its section
    edited = _notes(col_path)
    mito = next(f for _, _, f, *_ in edited.values() if f.get("Question") == "Mitochondria")
    assert mito["Answer"] == "power plant of the cell"
    _map(notes, "")  # the mapping removed: back into our note type, the same notes
    lines: list[str] = []
    _, plan = sync(_config(notes), col_path, echo=lines.append)
    assert plan.summary() == "0 added, 0 updated, 0 moved, 0 deleted, 3 converted"
    assert "convert: Biology/Cells.md › Membranes → note type 'notes-export section'" in lines
    back = _notes(col_path)
    assert set(back) == set(edited)
    for guid, (nid, name, _, cards, reps) in back.items():
        assert (nid, cards, reps) == (edited[guid][0], edited[guid][3], edited[guid][4])
        assert name in OURS.values()
        assert reps == (1,)
    mito = next(f for _, _, f, *_ in back.values() if f.get("Front") == "Mitochondria")
    assert mito["Back"] == "power plant of the cell"
    _, again = sync(_config(notes), col_path, echo=_no_sync_output)
    assert again.empty


def test_a_note_type_missing_from_the_collection_stops_sync(tmp_path: Path,
                                                             col_path: Path) -> None:
    notes = _vault(tmp_path, BASIC)
    before = hashlib.sha256(col_path.read_bytes()).hexdigest()
    run = CliRunner().invoke(main, ["sync", str(notes), "--collection", str(col_path),
                                    "--out", str(tmp_path / "dist")])
    assert run.exit_code != 0
    assert "'note_types.basic.name': the collection has no note type named 'My Basic'" \
        in run.output
    assert hashlib.sha256(col_path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "dist").exists()  # no state file either


def test_a_standard_type_for_cloze_cards_stops_sync(tmp_path: Path, col_path: Path) -> None:
    notes = _vault(tmp_path, CLOZE.replace("My Cloze", "My Basic"))
    _user_types(col_path)
    with pytest.raises(config.ExportError, match=r"'note_types.cloze.name': .*is no cloze"):
        sync(_config(notes), col_path, echo=_no_sync_output)
    assert _notes(col_path) == {}


def _error(tmp_path: Path, mapping: str) -> str:
    notes = _vault(tmp_path, mapping)
    with pytest.raises(ConfigError) as caught:
        _config(notes)
    message = str(caught.value)
    assert str(notes / "notes-export.toml") in message
    return message


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    unmapped = BASIC.replace(', Source = "From"', "")
    assert "'note_types.basic.fields' does not map 'Source'" in _error(tmp_path, unmapped)
    typo = BASIC.replace("[note_types.basic]", "[note_types.basics]")
    assert "unknown key 'note_types.basics' (did you mean 'basic'?)" in _error(tmp_path, typo)
    (tmp_path / "outside.html").write_text("{{Question}}", encoding="utf-8")
    escaping = BASIC + 'front = "../outside.html"\nback = "back.html"\n'
    assert "'note_types.basic.front' = '../outside.html' leads outside the vault" \
        in _error(tmp_path, escaping)
    (tmp_path / "notes" / "linked.html").symlink_to(tmp_path / "outside.html")
    linked = BASIC + 'front = "linked.html"\nback = "linked.html"\n'
    assert "'note_types.basic.front' = 'linked.html' leads outside the vault" \
        in _error(tmp_path, linked)
    absolute = BASIC + f'css = "{tmp_path / "outside.html"}"\n'
    assert "'note_types.basic.css' = " in _error(tmp_path, absolute)
    (tmp_path / "notes" / "big.css").write_text("a" * (64 * 1024 + 1), encoding="utf-8")
    assert "'note_types.basic.css' = 'big.css' is larger than 64 KiB" \
        in _error(tmp_path, BASIC + 'css = "big.css"\n')
    (tmp_path / "notes" / "plain.html").write_text("{{Text}}", encoding="utf-8")
    no_cloze = CLOZE + 'front = "plain.html"\nback = "plain.html"\n'
    assert "'note_types.cloze.front' is no cloze template" in _error(tmp_path, no_cloze)


def test_deck_is_byte_identical_across_builds(tmp_path: Path) -> None:
    notes = _vault(tmp_path)
    (notes / "front.html").write_text('<div class="q">{{Question}}</div>', encoding="utf-8")
    (notes / "back.html").write_text("{{FrontSide}}<hr>{{Answer}}<p>{{Where}}</p>",
                                     encoding="utf-8")
    (notes / "mine.css").write_text(".q { color: teal; }", encoding="utf-8")
    _map(notes, BASIC + 'front = "front.html"\nback = "back.html"\ncss = "mine.css"\n' + CLOZE)
    first, second = _build(notes, "one"), _build(notes, "two")
    assert first.read_bytes() == second.read_bytes()
    col = Collection(str(tmp_path / "check.anki2"))
    try:
        import_apkg(col, first)
        model = col.models.by_name("My Basic")
        assert model is not None
        assert model["tmpls"][0]["qfmt"] == '<div class="q">{{Question}}</div>'
        assert model["css"] == ".q { color: teal; }"
    finally:
        col.close()


def test_previous_deck_in_your_note_types_is_the_state(tmp_path: Path) -> None:
    notes = _vault(tmp_path)
    deck = _build(notes)
    previous = state.load_deck(deck, {"My Basic": "basic", "My Cloze": "cloze"})
    assert len(previous) == 4
    assert {e.note_type for e in previous.values()} == {"My Basic", "My Cloze"}
    built = _config(notes, "again")
    built.previous = deck
    report = export(built).report
    assert report is not None and (report.added, report.unchanged) == (0, 4)
