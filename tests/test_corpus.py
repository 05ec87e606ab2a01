"""Real notes written elsewhere (the spaced-repetition plugin's demo vault) build and import."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from anki.collection import Collection

from exporter.app.pipeline import Config, export

from .conftest import CORPUS, EPOCH, import_apkg

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
EMBED = re.compile(r"!\[\[([^\]|#]+\.(?:png|jpe?g|gif|svg))(?:\|[^\]]*)?\]\]", re.I)


def test_demo_vault_builds_resolves_every_existing_image_and_imports(
        tmp_path: Path, collection: Collection) -> None:
    # The plugin's own syntax: Q::A, multi-line "?" cards, ==highlights== as cloze deletions.
    # Section cards for every note: each image then lands in some card (the plugin's notes
    # alone give no section cards, and some images stand only in their sections).
    result = export(Config(notes_dir=CORPUS, asset_dirs=[], out_dir=tmp_path / "out",
                           deck_name="SR Demo", epoch=EPOCH, cloze_highlights=True,
                           section_cards="always"))
    models = {c.model for c in result.cards}
    assert models == {"basic", "cloze"}
    assert sum(c.model == "cloze" for c in result.cards) >= 2  # a cloze is its paragraph
    assert any(c.front.startswith("List 4 AWS security related services") and "<table>" in c.back
               for c in result.cards)  # a multi-line card whose answer is a table
    files = {p.name for p in CORPUS.rglob("*") if p.is_file()}
    embedded: dict[str, tuple[str, int]] = {}
    for note in sorted(CORPUS.rglob("*.md")):
        for number, line in enumerate(note.read_text(encoding="utf-8").splitlines(), 1):
            for name in EMBED.findall(line):
                embedded.setdefault(name, (note.relative_to(CORPUS).as_posix(), number))
    existing = {n for n in embedded if n in files}
    missing = {n: where for n, where in embedded.items() if n not in files}
    assert len(existing) >= 15
    assert {a.path.name for a in result.vault.assets.values()} == existing
    reported = {(d.path, d.line) for d in result.diagnostics if d.code == "missing-image"}
    assert reported == set(missing.values())
    assert result.errors == 0

    assert len(result.vault.notes) == len(list(CORPUS.rglob("*.md")))
    log = import_apkg(collection, tmp_path / "out" / "sr-demo.apkg")
    assert log["new"] == len(result.cards) == collection.note_count()
    assert len(list(Path(collection.media.dir()).iterdir())) == len(existing)
    assert list(collection.media.check().missing) == []
    tags = set(collection.tags.all())
    assert {"course::aws::developer-associate", "review"} <= tags
    # the plugin's deck tags are decks, not Anki tags: #flashcards/science/physics
    assert not {t for t in tags if t.startswith("flashcards")}
    decks = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"SR Demo::math", "SR Demo::science::physics"} <= decks
    assert (tmp_path / "out" / "sr-demo.pdf").stat().st_size > 100_000
