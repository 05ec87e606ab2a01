"""The fidelity vault: one small note per Obsidian construct and card kind, checked three ways:
golden card HTML (reviewed by eye once), a real Anki import, and the PDF read back.

Regenerate the golden file after an intended change with NOTES_EXPORT_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pdfplumber
from anki.collection import Collection

from exporter.app.pipeline import check, export
from exporter.core.config import load

from .conftest import EPOCH, import_apkg

VAULT = Path(__file__).parent / "fidelity"
GOLDEN = VAULT / "expected" / "cards.json"


def _dump() -> list[dict[str, object]]:
    result = check(load(VAULT / "notes", {}))
    return [{"model": c.model, "deck": c.deck, "tags": list(c.tags), "source": c.source,
             "front": c.front, "back": c.back} for c in result.cards]


def test_cards_match_the_reviewed_golden_html() -> None:
    cards = _dump()
    if os.environ.get("NOTES_EXPORT_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(cards, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    assert cards == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_fidelity_vault_diagnostics() -> None:
    result = check(load(VAULT / "notes", {}))
    assert [d.format() for d in result.diagnostics] == [
        "Embeds.md:8:1: warning: image 'missing.png' not found in the assets or notes folders "
        "[missing-image]"]


def test_fidelity_deck_in_anki(tmp_path: Path, collection: Collection) -> None:
    config = load(VAULT / "notes", {"out_dir": tmp_path, "epoch": EPOCH, "write_pdf": False})
    result = export(config)
    log = import_apkg(collection, tmp_path / "fidelity.apkg")
    # Embeds.md's "Transclusion" only embeds another note's heading: no card of its own
    assert log["new"] == len(result.cards) == collection.note_count() == 24
    models = Counter(collection.get_note(n).note_type()["name"] for n in collection.find_notes(""))
    assert models == {"notes-export section": 19, "notes-export both ways": 2,
                      "notes-export cloze": 3}
    # both-ways notes make two cards; the cloze with c1 and c2 makes two
    assert collection.card_count() == 19 + 2 * 2 + 2 + 1 + 1
    decks = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"Fidelity", "Fidelity::Folder::Sub", "Fidelity::Pinned Deck", "Fidelity::aws"} <= decks
    # #flashcards/aws is the Spaced Repetition plugin's deck tag: a deck, not an Anki tag
    assert {"aws", "exam::saa", "nested::deep::tag", "Folder::Sub"} <= set(collection.tags.all())
    assert "flashcards::aws" not in collection.tags.all()
    assert list(collection.media.check().missing) == []
    cloze = collection.get_note(collection.find_notes('"note:notes-export cloze" Energy')[0])
    assert "{{c1::mc^{2} }}" in cloze["Text"]  # a space keeps MathJax's braces apart


def test_fidelity_sheet(tmp_path: Path) -> None:
    config = load(VAULT / "notes", {"out_dir": tmp_path, "epoch": EPOCH, "write_anki": False})
    export(config)
    with pdfplumber.open(tmp_path / "fidelity.pdf") as pdf:
        # column by column (sections continue across columns: lines side by side would mix),
        # a subscript within the line it belongs to
        third = pdf.pages[0].width / 3
        text = " ".join(" ".join((p.crop((i * third, 0, (i + 1) * third, p.height))
                                  .extract_text(y_tolerance=5) or "").split())
                        for p in pdf.pages for i in range(3))
    for expected in ("Remember", "Folded tip", "Hidden until opened.", "A nested warning.",
                     "highlighted", "after the comment", "open task", "The footnote's text.",
                     "def handler(event, context):", "Front Matter Title › Heading",
                     "H2O", "kept text", "a price of $5 and $10 stays text", "slides.pdf",
                     "Missing image: missing.png", "15 minutes"):
        assert expected in text, expected
    for hidden in ("%%", "an inline comment", "a block comment", "^pin-one", "^para-1",
                   "alert", "\\frac", "$E", "{{c1::", "#flashcards"):
        assert hidden not in text, hidden
