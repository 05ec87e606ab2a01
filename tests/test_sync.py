"""``notes-export sync`` against a real Anki collection: add, update, move, delete, refuse."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from exporter.app.sync import sync
from exporter.cli import main
from exporter.core.config import Config, ExportError

from .conftest import EPOCH, answer_all, write_note

BIO = "# Cells\n- Mitochondria::powerhouse of the cell\n# Membranes\nA lipid bilayer.\n"
CHEM = "# Atoms\nProtons, neutrons, electrons.\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    write_note(tmp_path / "notes", "Biology/Cells.md", BIO)
    write_note(tmp_path / "notes", "Chemistry/Atoms.md", CHEM)
    return tmp_path / "notes"


def _config(notes: Path, **values: object) -> Config:
    config = Config(notes_dir=notes, asset_dirs=[], out_dir=notes.parent / "dist",
                    deck_name="Study", write_pdf=False, epoch=EPOCH)
    for name, value in values.items():
        setattr(config, name, value)
    return config


def _snapshot(path: Path) -> dict[str, tuple[object, ...]]:
    """Every note: its fields, tags, time and its cards' decks and review counts."""
    col = Collection(str(path))
    try:
        found = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            cards = [col.get_card(c) for c in sorted(col.card_ids_of_note(nid))]
            found[note.guid] = (nid, tuple(note.fields), tuple(note.tags), note.mod,
                                tuple(col.decks.name(c.did) for c in cards),
                                tuple(c.reps for c in cards))
        return found
    finally:
        col.close()


def _fronts(path: Path) -> dict[str, str]:
    """Front → deck, for the notes of this tool's section type."""
    return {fields[0]: decks[0] for _, fields, _, _, decks, _ in _snapshot(path).values()}


def test_sync_adds_then_changes_nothing(vault: Path, col_path: Path) -> None:
    lines: list[str] = []
    _, plan = sync(_config(vault), col_path, echo=lines.append)
    assert plan.summary() == "4 added, 0 updated, 0 moved, 0 deleted"
    assert sorted(lines) == ["add: Biology/Cells.md › Cells", "add: Biology/Cells.md › Membranes",
                             "add: Biology/Cells.md › Mitochondria",
                             "add: Chemistry/Atoms.md › Atoms"]
    assert _fronts(col_path) == {"Cells": "Study::Biology", "Mitochondria": "Study::Biology",
                                 "Membranes": "Study::Biology", "Atoms": "Study::Chemistry"}
    before = _snapshot(col_path)
    _, again = sync(_config(vault), col_path, echo=lines.append)
    assert again.empty
    assert _snapshot(col_path) == before  # idempotent: not even a time changed


def test_sync_updates_moves_and_deletes_only_its_own_notes(vault: Path, col_path: Path) -> None:
    sync(_config(vault), col_path, echo=lambda _: None)
    col = Collection(str(col_path))
    ours = col.models.by_name("notes-export section")
    by_hand = col.new_note(ours)  # the user's own note, made with this tool's note type
    by_hand["Front"], by_hand["Back"] = "My own card", "typed in Anki"
    col.add_note(by_hand, col.decks.id("Study::Biology"))
    basic = col.new_note(col.models.by_name("Basic"))
    basic["Front"], basic["Back"] = "Another", "note type"
    col.add_note(basic, col.decks.id("Study"))
    col.close()
    history = {g: s[0] for g, s in _snapshot(col_path).items()}
    membranes = next(g for g, s in _snapshot(col_path).items() if s[1][0] == "Membranes")

    cells = vault / "Biology" / "Cells.md"
    cells.write_text(BIO.replace("# Membranes\nA lipid bilayer.\n", "")
                     .replace("powerhouse", "power plant"), encoding="utf-8")
    (vault / "Chemistry").rename(vault / "Physics")
    printed: list[str] = []
    _, dry = sync(_config(vault), col_path, dry_run=True, echo=printed.append)
    assert printed == ["would update: Biology/Cells.md › Cells",
                       "would update: Biology/Cells.md › Mitochondria",
                       "would update: Physics/Atoms.md › Atoms",
                       "would move: Physics/Atoms.md › Atoms → Study::Physics",
                       "would delete: Membranes"]
    assert {g: s[0] for g, s in _snapshot(col_path).items()} == history  # nothing changed

    printed.clear()
    _, plan = sync(_config(vault), col_path, echo=printed.append)
    assert printed == [line.removeprefix("would ") for line in dry.lines()]
    assert plan.summary() == "0 added, 3 updated, 1 moved, 1 deleted"
    after = _snapshot(col_path)
    assert set(after) == set(history) - {membranes}
    assert _fronts(col_path) == {"Cells": "Study::Biology", "Mitochondria": "Study::Biology",
                                 "Atoms": "Study::Physics", "My own card": "Study::Biology",
                                 "Another": "Study"}
    assert all(after[g][0] == history[g] for g in after)  # same notes, history kept
    assert "power plant" in next(s[1][1] for s in after.values() if s[1][0] == "Mitochondria")


def test_sync_never_deletes_another_vaults_notes(tmp_path: Path, vault: Path,
                                                 col_path: Path) -> None:
    other = tmp_path / "other"
    write_note(other, "Physics.md", "# Light\nA wave and a particle.\n")
    sync(_config(other, deck_name="Other", out_dir=tmp_path / "other-dist"), col_path,
         echo=lambda _: None)
    sync(_config(vault), col_path, echo=lambda _: None)
    (vault / "Chemistry" / "Atoms.md").unlink()
    _, plan = sync(_config(vault), col_path, echo=lambda _: None)
    assert [name for _, name in plan.delete] == ["Atoms"]
    assert "Light" in _fronts(col_path)


def test_sync_refuses_while_anki_has_the_collection_open(vault: Path, col_path: Path) -> None:
    col = Collection(str(col_path))  # as the desktop app holds it: locked
    try:
        with pytest.raises(ExportError, match="is open in Anki"):
            sync(_config(vault), col_path, echo=lambda _: None)
        run = CliRunner().invoke(main, ["sync", str(vault), "--collection", str(col_path)])
        assert run.exit_code == 1
        assert "is open in Anki (or being synced): close Anki" in run.output
    finally:
        col.close()


def test_sync_needs_a_collection_file(vault: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no Anki collection at"):
        sync(_config(vault), tmp_path / "missing.anki2", echo=lambda _: None)
    assert not (tmp_path / "missing.anki2").exists()  # never created by mistake


def test_sync_without_anki_says_how_to_install_it(vault: Path, col_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    with pytest.raises(ExportError, match=r"pip install 'anki>=25.2,<27'"):
        sync(_config(vault), col_path, echo=lambda _: None)


def test_sync_command(vault: Path, col_path: Path) -> None:
    runner = CliRunner()
    args = ["sync", str(vault), "--collection", str(col_path), "--deck", "Study",
            "--out", str(vault.parent / "dist")]
    run = runner.invoke(main, [*args, "--dry-run"])
    assert run.exit_code == 0, run.output
    assert "would add: Chemistry/Atoms.md › Atoms" in run.output
    assert f"Would change {col_path}: 4 added, 0 updated, 0 moved, 0 deleted" in run.output
    assert _snapshot(col_path) == {}
    run = runner.invoke(main, args)
    assert f"Synced {col_path}: 4 added" in run.output
    run = runner.invoke(main, args)
    assert run.output.strip() == f"Synced {col_path}: 0 added, 0 updated, 0 moved, 0 deleted"


def test_sync_moves_both_cards_when_front_matter_names_another_deck(vault: Path,
                                                                    col_path: Path) -> None:
    write_note(vault, "Words.md", "# Words\n- chat:::cat\n")
    sync(_config(vault), col_path, echo=lambda _: None)
    col = Collection(str(col_path))
    answer_all(col)
    col.close()
    write_note(vault, "Words.md", "---\ndeck: Languages::French\n---\n# Words\n- chat:::cat\n")
    _, plan = sync(_config(vault), col_path, echo=lambda _: None)
    assert [(len(cids), card.deck) for cids, card in plan.move] == [
        (1, "Languages::French"), (2, "Languages::French")]  # the section, then both ways
    both_ways = [s for s in _snapshot(col_path).values() if s[1][0] == "chat"]
    assert [(s[4], s[5]) for s in both_ways] == [
        (("Languages::French", "Languages::French"), (1, 1))]  # moved, history kept
