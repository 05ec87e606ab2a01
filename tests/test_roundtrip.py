"""Months of editing, in one test: export, review, edit, add, delete, rename, re-import."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection

from exporter.app.pipeline import Result, export
from exporter.core.config import load

from .conftest import EPOCH, answer_all, import_apkg, write_note

NOTES = {
    "Compute/EC2.md": "# EC2\n- virtual servers\n# Pricing\n- on-demand, spot, reserved\n",
    "Compute/Lambda.md": "# Lambda\n- functions as a service\n- Timeout::15 minutes\n",
    "Storage/S3.md": "# S3\n- object storage\n# Classes ^s3-classes\n- standard, IA, glacier\n",
    "Storage/EBS.md": "# EBS\n- block storage for EC2\n",
    "Databases/DynamoDB.md": "# DynamoDB\n- key-value store\n- RCU:::read capacity unit\n",
    "Databases/RDS.md": "# RDS\n- managed relational databases\n",
}


def _build(notes: Path, out: Path, epoch: int) -> Result:
    return export(load(notes, {"out_dir": out, "epoch": epoch, "write_pdf": False,
                               "deck_name": "AWS"}))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_round_trip_keeps_ids_and_history_without_duplicates(tmp_path: Path,
                                                              collection: Collection) -> None:
    notes, out = tmp_path / "notes", tmp_path / "dist"
    for name, text in NOTES.items():
        write_note(notes, name, text)
    before_texts = {p: p.read_bytes() for p in notes.rglob("*.md")}
    first = _build(notes, out, EPOCH)
    assert len(first.cards) == 10
    assert import_apkg(collection, out / "aws.apkg")["new"] == 10
    answer_all(collection)
    ids = {collection.get_note(n)["Front"]: n for n in collection.find_notes("")}
    reps = {c: collection.get_card(c).reps for c in collection.find_cards("")}
    assert set(reps.values()) == {1}
    assert {p: p.read_bytes() for p in notes.rglob("*.md")} == before_texts  # nothing written

    _edit(notes / "Compute/EC2.md", "virtual servers", "virtual servers in the cloud")
    _edit(notes / "Compute/Lambda.md", "15 minutes", "900 seconds")
    _edit(notes / "Databases/RDS.md", "relational databases", "relational databases (6 engines)")
    _edit(notes / "Storage/S3.md", "# Classes ^s3-classes", "# Storage classes ^s3-classes")
    write_note(notes, "Databases/Aurora.md", "# Aurora\n- MySQL and PostgreSQL compatible\n")
    (notes / "Storage/EBS.md").unlink()

    # the same SOURCE_DATE_EPOCH: the state kept in dist/ still makes edited cards newer
    second = _build(notes, out, EPOCH)
    assert second.report is not None
    # changed: EC2, RDS, the renamed section, the Timeout card and the Lambda section holding it
    assert (second.report.added, second.report.changed, second.report.removed) == (1, 5, 1)
    assert second.report.unchanged == 10 - 5 - 1

    log = import_apkg(collection, out / "aws.apkg")
    assert log == {"new": 1, "updated": 5, "duplicate": 4, "conflicting": 0}
    after = {collection.get_note(n)["Front"]: n for n in collection.find_notes("")}
    assert collection.note_count() == 10 + 1  # Anki keeps the deleted note's card; no duplicate
    assert after["EC2"] == ids["EC2"] and after["RDS"] == ids["RDS"]
    assert after["Timeout"] == ids["Timeout"]
    assert after["Storage classes"] == ids["Classes"]  # pinned by ^s3-classes, renamed
    assert "Classes" not in after
    assert "in the cloud" in collection.get_note(after["EC2"])["Back"]
    assert "900 seconds" in collection.get_note(after["Timeout"])["Back"]
    for card_id, count in reps.items():
        assert collection.get_card(card_id).reps == count  # review history kept
    decks = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"AWS", "AWS::Compute", "AWS::Storage", "AWS::Databases"} <= decks
    # the Timeout card and the Lambda section that holds its line
    assert len(collection.find_cards('"deck:AWS::Compute" Timeout')) == 2
