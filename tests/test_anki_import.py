"""The sample deck imported into a real Anki collection, then re-exported and re-imported."""

from __future__ import annotations

import re
from pathlib import Path

from anki.collection import Collection

from .conftest import EPOCH, SAMPLE_NOTE, answer_all, build, import_apkg

SAMPLE_FRONTS = [
    "ECS",
    "Fargate",
    "ECR",
    "Amazon EKS",
    "AWS Lambda",
    "AWS Lambda › Benefits",
    "AWS Lambda › Example › Serverless Thumbnail creation",
    "AWS Lambda › Example › Serverless CRON Job",
    "AWS Lambda › Pricing",
    "Amazon API Gateway",
    "AWS Batch",
    "AWS Batch › Example",
    "AWS Batch › Batch vs Lambda",
    "Amazon Lightsail",
    "Summary",
    "Summary › Lambda Summary",
]


def _notes_by_front(col: Collection) -> dict[str, object]:
    notes = [col.get_note(nid) for nid in col.find_notes("")]
    return {n["Front"].replace("&amp;", "&"): n for n in notes}


def test_sample_deck_imports_with_every_front_and_image(sample: Path,
                                                        collection: Collection) -> None:
    result = build(sample, pdf=False)
    apkg = sample / "dist" / "aws-other-compute.apkg"
    assert import_apkg(collection, apkg) == {"new": 16, "updated": 0, "duplicate": 0,
                                             "conflicting": 0}
    assert collection.note_count() == 16
    assert collection.card_count() == 16
    assert "AWS Other Compute" in [d.name for d in collection.decks.all_names_and_ids()]
    deck_id = collection.decks.id_for_name("AWS Other Compute")
    assert all(collection.get_card(c).did == deck_id for c in collection.find_cards(""))

    notes = [collection.get_note(nid) for nid in collection.find_notes("")]
    assert sorted(n["Front"] for n in notes) == sorted(SAMPLE_FRONTS)
    assert {n["Context"] for n in notes} == {"AWS Other Compute Services"}
    assert {n["Source"] for n in notes} == {f"{SAMPLE_NOTE} › {f}" for f in SAMPLE_FRONTS}

    media_dir = Path(collection.media.dir())
    referenced = set()
    for note in notes:
        referenced |= set(re.findall(r'<img[^>]* src="([^"]+)"', note["Back"]))
    assert len(referenced) == 11
    assert all((media_dir / name).is_file() for name in referenced)
    assert len(result.vault.assets) == 11
    # Cards name their image by media name; the check Anki's own "Check Media" makes:
    assert list(collection.media.check().missing) == []


def test_sample_table_and_links_reach_the_card(sample: Path, collection: Collection) -> None:
    build(sample, pdf=False)
    import_apkg(collection, sample / "dist" / "aws-other-compute.apkg")
    notes = _notes_by_front(collection)
    table = notes["AWS Batch › Batch vs Lambda"]["Back"]  # type: ignore[index]
    assert "<table>" in table
    assert table.count("<tr>") == 5
    assert ('<span class="wikilink">EBS</span> / <span class="wikilink">Instance Store</span>'
            in table)
    assert '<span class="internal">ECS</span>' in notes["AWS Batch"]["Back"]  # type: ignore[index]
    lightsail = notes["Amazon Lightsail"]["Back"]  # type: ignore[index]
    assert '<span class="wikilink">RDS</span>' in lightsail
    assert '<span class="wikilink">ELB</span>' in lightsail
    assert "[[" not in "".join(n["Back"] for n in notes.values())  # type: ignore[index]


def test_edited_section_updates_in_place_and_keeps_history(sample: Path,
                                                           collection: Collection) -> None:
    build(sample, pdf=False, epoch=EPOCH)
    apkg = sample / "dist" / "aws-other-compute.apkg"
    import_apkg(collection, apkg)
    answer_all(collection)
    before = {front: n.id for front, n in _notes_by_front(collection).items()}  # type: ignore[attr-defined]
    reviewed = {cid: collection.get_card(cid).reps for cid in collection.find_cards("")}
    assert set(reviewed.values()) == {1}

    note = sample / "notes" / SAMPLE_NOTE
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("- Elastic Container Registry",
                                 "- Elastic Container Registry (edited)"), encoding="utf-8")
    # Same SOURCE_DATE_EPOCH as before: the state kept in dist/ still moves the edited note on.
    result = build(sample, pdf=False, epoch=EPOCH)
    assert result.report is not None
    assert (result.report.changed, result.report.unchanged, result.report.added) == (1, 15, 0)

    log = import_apkg(collection, apkg)
    assert log["updated"] == 1
    assert log["new"] == 0
    assert collection.note_count() == 16
    after = _notes_by_front(collection)
    assert {front: n.id for front, n in after.items()} == before  # type: ignore[attr-defined]
    assert "Elastic Container Registry (edited)" in after["ECR"]["Back"]  # type: ignore[index]
    assert {cid: collection.get_card(cid).reps for cid in collection.find_cards("")} == reviewed


def test_fresh_checkout_with_later_epoch_updates_edited_note(sample: Path,
                                                             collection: Collection) -> None:
    """CI builds from a clean clone have no state: a later SOURCE_DATE_EPOCH still updates."""
    build(sample, pdf=False, out="first", epoch=EPOCH)
    import_apkg(collection, sample / "first" / "aws-other-compute.apkg")
    note = sample / "notes" / SAMPLE_NOTE
    note.write_text(note.read_text(encoding="utf-8").replace("serverless\n", "serverless!\n", 1),
                    encoding="utf-8")
    build(sample, pdf=False, out="second", epoch=EPOCH + 3600)
    log = import_apkg(collection, sample / "second" / "aws-other-compute.apkg")
    assert log["new"] == 0
    assert collection.note_count() == 16
    assert "serverless!" in _notes_by_front(collection)["Fargate"]["Back"]  # type: ignore[index]


def test_unchanged_rebuild_keeps_modification_times(sample: Path,
                                                    collection: Collection) -> None:
    build(sample, pdf=False, epoch=EPOCH)
    apkg = sample / "dist" / "aws-other-compute.apkg"
    first = apkg.read_bytes()
    import_apkg(collection, apkg)
    result = build(sample, pdf=False, epoch=EPOCH + 999)
    assert result.report is not None and result.report.unchanged == 16
    assert apkg.read_bytes() == first
    log = import_apkg(collection, apkg)
    assert log["updated"] == 0 and log["new"] == 0
    assert collection.note_count() == 16
