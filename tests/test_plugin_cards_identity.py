"""A deck built before cards followed the flashcard plugins (tests/fixtures/sr-main), reviewed
in Anki and rebuilt today: the cards still made keep their notes and history; the section cards
of the note written in the Spaced Repetition plugin's syntax are reported as removed."""

from __future__ import annotations

import shutil
from pathlib import Path

from anki.collection import Collection

from exporter.app.pipeline import Config, export

from .conftest import EPOCH, answer_all, import_apkg

FIXTURE = Path(__file__).parent / "fixtures" / "sr-main"
BEFORE = 9  # 7 cards of Chemistry.md (2 of them its sections) and Physics.md's 2 sections


def _notes(col: Collection) -> dict[str, tuple[int, str, int]]:
    """GUID → note id, front and the review count of its cards."""
    found = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        reps = sum(col.get_card(c).reps for c in col.card_ids_of_note(nid))
        found[note.guid] = (nid, note.fields[0], reps)
    return found


def test_cards_still_made_keep_their_notes(tmp_path: Path, collection: Collection) -> None:
    assert import_apkg(collection, FIXTURE / "chemistry.apkg")["new"] == BEFORE
    answer_all(collection)
    before = _notes(collection)

    notes, out = tmp_path / "vault", tmp_path / "dist"
    shutil.copytree(FIXTURE / "vault", notes)
    out.mkdir()
    shutil.copy(FIXTURE / ".chemistry.notes-export.json", out)
    result = export(Config(notes_dir=notes, asset_dirs=[], out_dir=out, deck_name="Chemistry",
                           write_pdf=False, epoch=EPOCH + 86_400))
    report = result.report
    assert report is not None
    assert (report.added, report.removed, report.renamed) == (0, 2, 0)
    assert sorted(report.removed_cards) == ["Chemistry.md › Acids and bases",
                                            "Chemistry.md › Acids and bases › Buffers"]
    made = {card.guid for card in result.cards}
    assert len(made) == BEFORE - 2 and made <= set(before)

    log = import_apkg(collection, out / "chemistry.apkg")
    # Anki counts a note it already holds unchanged as a "duplicate": updated or kept, no new
    assert (log["new"], log["updated"] + log["duplicate"], log["conflicting"]) == \
        (0, BEFORE - 2, 0)
    after = _notes(collection)
    assert len(after) == BEFORE  # never duplicated; Anki keeps the removed ones until asked
    assert {g: (after[g][0], after[g][2]) for g in made} == \
        {g: (before[g][0], before[g][2]) for g in made}  # same note, its reviews kept
