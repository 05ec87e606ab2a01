"""Each vault's cards are its own: GUIDs namespaced by the vault, a vault tag in every note, and
``sync`` touching only notes with this vault's tag. Decks built before vault identities (0.1)
keep every note and its history, by the deck route and by the sync route."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from anki.collection import Collection

from exporter.app.pipeline import export
from exporter.app.sync import sync
from exporter.core.config import Config
from exporter.core.vaultid import TAG_PREFIX

from .conftest import EPOCH, answer_all, import_apkg, write_note

LEGACY = Path(__file__).parent / "fixtures" / "legacy-0.1"
LEGACY_CARDS = 9
# 0.1 read "ATP::…" into the question below it; today it is a card of its own (the plugin's
# reading), the only card added. Its notes name no plugin: their section cards stay.
SPLIT = 1


def _config(notes: Path, out: Path, deck: str = "Biology", **values: object) -> Config:
    config = Config(notes_dir=notes, asset_dirs=[], out_dir=out, deck_name=deck,
                    write_pdf=False, epoch=EPOCH)
    for name, value in values.items():
        setattr(config, name, value)
    return config


def _notes(path: Path) -> dict[str, tuple[int, str, tuple[str, ...], int]]:
    """GUID → note id, front, tags and the review count of its cards."""
    col = Collection(str(path))
    try:
        found = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            reps = sum(col.get_card(c).reps for c in col.card_ids_of_note(nid))
            found[note.guid] = (nid, note.fields[0], tuple(note.tags), reps)
        return found
    finally:
        col.close()


def _quiet(_: str) -> None:
    pass


# --- two vaults, one collection ---------------------------------------------------------------


def test_second_vault_with_the_same_deck_name_never_deletes_the_firsts_notes(
        tmp_path: Path, col_path: Path) -> None:
    course = tmp_path / "bio-course"
    write_note(course, "Cells.md", "# Cells\nThe unit of life.\n")
    write_note(course, "Genes.md", "# Genes\nUnits of heredity.\n")
    mine = tmp_path / "my-bio"
    write_note(mine, "Cells.md", "# Cells\nMy own words.\n")
    write_note(mine, "Plants.md", "# Plants\nPhotosynthesis.\n")
    sync(_config(course, tmp_path / "out1"), col_path, echo=_quiet)
    sync(_config(mine, tmp_path / "out2"), col_path, echo=_quiet)
    assert len(_notes(col_path)) == 4  # two "Cells.md › Cells", one for each vault

    (mine / "Plants.md").unlink()
    (mine / "Cells.md").unlink()
    write_note(mine, "Other.md", "# Other\nSomething else.\n")
    _, plan = sync(_config(mine, tmp_path / "out2"), col_path, echo=_quiet)
    assert sorted(name for _, name in plan.delete) == ["Cells", "Plants"]
    fronts = sorted(front for _, front, _, _ in _notes(col_path).values())
    assert fronts == ["Cells", "Genes", "Other"]  # the course's Cells and Genes are still there
    _, again = sync(_config(course, tmp_path / "out1"), col_path, echo=_quiet)
    assert again.empty


def test_same_note_path_in_two_vaults_makes_two_notes_each_left_to_its_vault(
        tmp_path: Path, col_path: Path) -> None:
    first, second = tmp_path / "work", tmp_path / "school"
    write_note(first, "Index.md", "# Overview\nWork notes.\n")
    write_note(second, "Index.md", "# Overview\nSchool notes.\n")
    sync(_config(first, tmp_path / "o1", deck="Work"), col_path, echo=_quiet)
    before = _notes(col_path)
    _, plan = sync(_config(second, tmp_path / "o2", deck="School"), col_path, echo=_quiet)
    assert plan.summary() == "1 added, 0 updated, 0 moved, 0 deleted"
    (second / "Index.md").unlink()
    write_note(second, "Later.md", "# Later\nMore.\n")
    _, plan = sync(_config(second, tmp_path / "o2", deck="School"), col_path, echo=_quiet)
    assert [name for _, name in plan.delete] == ["Overview"]
    after = _notes(col_path)
    assert {g: v for g, v in after.items() if g in before} == before  # untouched, same deck
    col = Collection(str(col_path))
    try:
        (nid,) = before.values().__iter__().__next__()[:1]
        decks = {col.decks.name(col.get_card(c).did) for c in col.card_ids_of_note(nid)}
        assert decks == {"Work"}
    finally:
        col.close()


def test_two_vaults_decks_imported_side_by_side_never_update_each_other(
        tmp_path: Path, collection: Collection) -> None:
    first, second = tmp_path / "work", tmp_path / "school"
    write_note(first, "Index.md", "# Overview\nWork notes.\n")
    write_note(second, "Index.md", "# Overview\nSchool notes.\n")
    export(_config(first, tmp_path / "o1", deck="Notes"))
    export(_config(second, tmp_path / "o2", deck="Notes"))
    assert import_apkg(collection, tmp_path / "o1" / "notes.apkg")["new"] == 1
    assert import_apkg(collection, tmp_path / "o2" / "notes.apkg")["new"] == 1
    backs = sorted(collection.get_note(n).fields[1] for n in collection.find_notes(""))
    assert [b.count("notes.") for b in backs] == [1, 1]
    assert any("Work" in b for b in backs) and any("School" in b for b in backs)


def test_a_state_file_never_makes_another_vaults_note_ours(tmp_path: Path,
                                                           col_path: Path) -> None:
    victim, attacker = tmp_path / "victim", tmp_path / "attacker"
    write_note(victim, "Secret.md", "# Secret\nKeep me.\n")
    write_note(attacker, "Mine.md", "# Mine\nHello.\n")
    sync(_config(victim, tmp_path / "v-out"), col_path, echo=_quiet)
    # the attacker's pull request adds a state file listing the victim's GUIDs
    crafted = tmp_path / "a-out" / ".biology.notes-export.json"
    crafted.parent.mkdir()
    shutil.copy(tmp_path / "v-out" / ".biology.notes-export.json", crafted)
    _, plan = sync(_config(attacker, tmp_path / "a-out"), col_path, echo=_quiet)
    assert plan.delete == []
    assert "Secret" in {front for _, front, _, _ in _notes(col_path).values()}


def test_every_note_carries_its_vaults_tag(tmp_path: Path, col_path: Path) -> None:
    notes = tmp_path / "Biology Vault"
    write_note(notes, "Cells.md", "# Cells\nATP::energy\n")
    sync(_config(notes, tmp_path / "out"), col_path, echo=_quiet)
    tags = [[t for t in v[2] if t.startswith(TAG_PREFIX)] for v in _notes(col_path).values()]
    assert len(tags) == 2
    assert all(len(t) == 1 and t[0].startswith(TAG_PREFIX + "biology-vault-") for t in tags)


# --- what makes two folders one vault ---------------------------------------------------------


def test_clones_of_one_vault_are_one_vault(tmp_path: Path) -> None:
    for clone in ("laptop", "ci"):
        write_note(tmp_path / clone / "notes", "Cells.md", "# Cells\nThe unit of life.\n")
        export(_config(tmp_path / clone / "notes", tmp_path / clone / "dist"))
    assert (tmp_path / "laptop" / "dist" / "biology.apkg").read_bytes() == \
        (tmp_path / "ci" / "dist" / "biology.apkg").read_bytes()


def test_vault_id_names_a_vault_whatever_its_folder(tmp_path: Path) -> None:
    made = {}
    for folder, vault_id in (("a", "course"), ("b", "course"), ("c", None)):
        write_note(tmp_path / folder, "Cells.md", "# Cells\nThe unit of life.\n")
        result = export(_config(tmp_path / folder, tmp_path / f"out-{folder}", vault_id=vault_id))
        made[folder] = {c.guid for c in result.cards}
    assert made["a"] == made["b"]
    assert made["a"].isdisjoint(made["c"])


def test_a_card_of_another_vault_in_the_state_lends_no_guid(tmp_path: Path) -> None:
    write_note(tmp_path / "other", "Cells.md", "# Cells\nThe unit of life.\n")
    write_note(tmp_path / "mine", "Moved.md", "# Cells\nThe unit of life.\n")
    export(_config(tmp_path / "other", tmp_path / "out"))
    theirs = {c.guid for c in export(_config(tmp_path / "other", tmp_path / "out")).cards}
    # the same content in the same output folder: without the vault tag check, the pairing of
    # moved notes (identity.py) would hand the other vault's GUID to this card
    mine = {c.guid for c in export(_config(tmp_path / "mine", tmp_path / "out")).cards}
    assert mine.isdisjoint(theirs)


# --- decks from before vault identities (0.1) -------------------------------------------------


def _reviewed_legacy_collection(col_path: Path) -> dict[str, tuple[int, str, tuple[str, ...],
                                                                   int]]:
    col = Collection(str(col_path))
    try:
        assert import_apkg(col, LEGACY / "biology.apkg")["new"] == LEGACY_CARDS
        answer_all(col)
    finally:
        col.close()
    return _notes(col_path)


def _legacy_vault(tmp_path: Path, state: bool) -> tuple[Path, Path]:
    notes = tmp_path / "vault"
    shutil.copytree(LEGACY / "vault", notes)
    out = tmp_path / "dist"
    out.mkdir()
    if state:
        shutil.copy(LEGACY / "state.json", out / ".biology.notes-export.json")
    return notes, out


def _assert_kept(before: dict[str, tuple[int, str, tuple[str, ...], int]],
                 after: dict[str, tuple[int, str, tuple[str, ...], int]],
                 added: int = SPLIT) -> None:
    assert len(after) == LEGACY_CARDS + added  # no duplicate
    assert {g: (v[0], v[3]) for g, v in after.items() if g in before} == \
        {g: (v[0], v[3]) for g, v in before.items()}  # same notes, review history kept
    unclaimed = [v for v in after.values() if not any(t.startswith(TAG_PREFIX) for t in v[2])]
    assert len(unclaimed) == added - SPLIT  # only a note no card claims goes without the tag


@pytest.mark.parametrize("route", ["state file", "--previous"])
def test_a_deck_built_before_vault_identities_keeps_every_note_on_import(
        tmp_path: Path, col_path: Path, route: str) -> None:
    before = _reviewed_legacy_collection(col_path)
    notes, out = _legacy_vault(tmp_path, state=route == "state file")
    previous = LEGACY / "biology.apkg" if route == "--previous" else None
    config = _config(notes, out, epoch=EPOCH + 86_400, previous=previous)
    result = export(config)
    assert result.report is not None and result.report.added == SPLIT
    col = Collection(str(col_path))
    try:
        log = import_apkg(col, out / "biology.apkg")
    finally:
        col.close()
    assert log == {"new": SPLIT, "updated": LEGACY_CARDS, "duplicate": 0, "conflicting": 0}
    _assert_kept(before, _notes(col_path))

    # later builds follow the kept GUIDs, with or without --previous
    (notes / "Cells.md").write_text((notes / "Cells.md").read_text().replace("energy", "fuel"))
    export(_config(notes, out, epoch=EPOCH + 2 * 86_400))
    col = Collection(str(col_path))
    try:
        assert import_apkg(col, out / "biology.apkg")["new"] == 0
    finally:
        col.close()
    _assert_kept(before, _notes(col_path))


def test_a_collection_synced_before_vault_identities_keeps_every_note(
        tmp_path: Path, col_path: Path) -> None:
    before = _reviewed_legacy_collection(col_path)
    notes, out = _legacy_vault(tmp_path, state=False)  # a fresh clone: no state file
    lines: list[str] = []
    _, plan = sync(_config(notes, out), col_path, echo=lines.append)
    # Without a state file the question 0.1 merged with "ATP::…" is not recognised: a new
    # note, and the old one is left as it is (no card claims it).
    assert plan.summary() == \
        f"{SPLIT + 1} added, {LEGACY_CARDS - 1} updated, 0 moved, 0 deleted"
    _assert_kept(before, _notes(col_path), added=SPLIT + 1)
    _, again = sync(_config(notes, out), col_path, echo=_quiet)
    assert again.empty

    (notes / "Biology" / "Genetics.md").unlink()  # now ours by tag: sync may delete them
    _, plan = sync(_config(notes, out), col_path, echo=_quiet)
    assert len(plan.delete) == 3 and "Gene" in {name for _, name in plan.delete}


def test_sync_leaves_a_note_from_before_vault_identities_that_no_card_claims(
        tmp_path: Path, col_path: Path) -> None:
    _reviewed_legacy_collection(col_path)
    notes, out = _legacy_vault(tmp_path, state=True)
    (notes / "Index.md").unlink()
    result, plan = sync(_config(notes, out), col_path, echo=_quiet)
    assert plan.delete == []
    assert len(_notes(col_path)) == LEGACY_CARDS + SPLIT
    notices = [d for d in result.vault.diagnostics if d.code == "sync-unowned"]
    assert len(notices) == 1 and notices[0].message.startswith("2 notes")
