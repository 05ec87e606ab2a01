"""``watch``'s deck (config ``fast_writes``, deck/fastdeck.py) is not byte-identical to a cold
``build``'s, but Anki must not tell them apart: each round's deck, imported into a real Anki
collection round after round, gives the same notes, GUIDs, fields, tags, modification times,
cards, decks and media as the cold build of the same notes from the same previous state, and
the same state for ``--previous``."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from anki.collection import Collection

from exporter.app.engine import Engine
from exporter.core.config import Config
from exporter.deck import fastzip, state

from .conftest import EPOCH, SAMPLE_ASSETS, collection_view, import_apkg, write_note

PICTURE = "Pasted image 20250217143901.png"
OTHER = "Pasted image 20250217144101.png"
THIRD = "Pasted image 20250217144254.png"
NOTES = {
    "a.md": "# A\nSee [[b#Alpha]].\n![[" + PICTURE + "]]\n\n## Cards\n"
            "Term::Definition\n- {{c1::Cloze}} and {{c2::another}}\n",
    "b.md": "# B\n## Alpha\nalpha text\n![[" + OTHER + "]]\n",
    "d.md": "# D\n- plain point\nWord = meaning of it\n",
    "sub/e.md": "# E\n## Q\nWhat is E?\n?\nA letter.\n\nFront:::Back\n",
    "sub/deeper/f.md": "---\ntags: [one/two]\n---\n# F\nsome text\n",
}

pytestmark = pytest.mark.usefixtures("own_key")


def _config(project: Path, out: str, fast: bool) -> Config:
    return Config(notes_dir=project / "notes", asset_dirs=[project / "assets"],
                  out_dir=project / out, deck_name="Deck", write_pdf=False, epoch=EPOCH,
                  fast_writes=fast)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    for name, text in NOTES.items():
        write_note(notes, name, text)
    (tmp_path / "assets").mkdir()
    for name in (PICTURE, OTHER, THIRD):
        shutil.copy(SAMPLE_ASSETS / name, tmp_path / "assets" / name)
    return tmp_path


@pytest.fixture
def two_collections(tmp_path: Path) -> Iterator[tuple[Collection, Collection]]:
    """One collection for watch's decks, one for the cold builds', both kept across rounds."""
    made = []
    for name in ("fast", "cold"):
        folder = tmp_path / f"anki-{name}"
        folder.mkdir()
        made.append(Collection(str(folder / "collection.anki2")))
    yield made[0], made[1]
    for col in made:
        col.close()


def _deck(out: Path) -> Path:
    return next(out.glob("*.apkg"))


def _state(out: Path) -> bytes:
    return next(out.glob(".*.notes-export.json")).read_bytes()


def _append(path: Path, text: str) -> Callable[[], None]:
    return lambda: path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_every_round_of_fast_decks_imports_as_the_cold_builds_do(
        vault: Path, two_collections: tuple[Collection, Collection]) -> None:
    fast_col, cold_col = two_collections
    session = Engine(_config(vault, "warm", fast=True))
    notes, assets = vault / "notes", vault / "assets"

    def rename() -> None:
        (notes / "sub" / "e.md").rename(notes / "sub" / "e2.md")

    rounds: list[tuple[str, Callable[[], None] | None]] = [
        ("first build", None),
        ("nothing changed", None),
        ("one note edited", _append(notes / "d.md", "\nA new paragraph.\n")),
        ("a card's answer edited", lambda: write_note(
            notes, "a.md", NOTES["a.md"].replace("Definition", "Another definition"))),
        ("a cloze added", _append(notes / "a.md", "- {{c3::third}} cloze\n")),
        ("a note added, with a new image", lambda: write_note(
            notes, "g.md", "# G\n## One\ntext of g\n![[" + THIRD + "]]\n")),
        ("a note deleted", lambda: (notes / "d.md").unlink()),
        ("an image's bytes changed", lambda: shutil.copy(SAMPLE_ASSETS / OTHER,
                                                         assets / PICTURE)),
        ("an image no longer shown", lambda: write_note(notes, "b.md", "# B\n## Alpha\nalpha\n")),
        ("a note renamed", rename),
        ("a note moved to another deck", lambda: write_note(
            notes, "g.md", "---\ndeck: Elsewhere::Sub\n---\n# G\n## One\ntext of g\n![["
            + THIRD + "]]\n")),
        ("the last deck replaced behind its back", lambda: _deck(vault / "warm").unlink()),
        ("tags changed", lambda: write_note(notes, "sub/deeper/f.md",
                                            "---\ntags: [three]\n---\n# F\nsome text\n")),
    ]
    reused = []
    for what, edit in rounds:
        cold = vault / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        if (vault / "warm").is_dir():  # the cold build follows the same previous state
            shutil.copytree(vault / "warm", cold,
                            ignore=shutil.ignore_patterns(".notes-export-cache", "*.apkg"))
        if edit:
            edit()
        session.build()
        Engine(_config(vault, "cold", fast=False), use_cache=False).build()
        warm_deck, cold_deck = _deck(vault / "warm"), _deck(cold)
        assert _state(vault / "warm") == _state(cold), what
        # what ``--previous`` reads of a deck (our table inside it) is the same too
        assert state.load_deck(warm_deck) == state.load_deck(cold_deck), what
        assert warm_deck.read_bytes() != cold_deck.read_bytes(), what  # the fast writer wrote it
        assert import_apkg(fast_col, warm_deck) == import_apkg(cold_col, cold_deck), what
        assert collection_view(fast_col) == collection_view(cold_col), what
        fresh = _fresh_view(vault, warm_deck), _fresh_view(vault, cold_deck)
        assert fresh[0] == fresh[1], what
        assert session._deck is not None
        reused.append(session._deck._zip.reused)
    assert collection_view(fast_col)["notes"]  # the comparison compared something
    assert max(reused) >= 2  # media were copied from the last deck, not read again
    assert reused[-2] == 0  # … but never from a deck this session did not write


def _fresh_view(vault: Path, deck: Path) -> dict[str, object]:
    """The deck imported into an empty collection (every note new)."""
    folder = vault / "anki-fresh"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        import_apkg(col, deck)
        return collection_view(col)
    finally:
        col.close()


def test_the_fast_deck_stores_its_collection_and_is_a_sound_zip(vault: Path) -> None:
    session = Engine(_config(vault, "warm", fast=True))
    session.build()
    _append(vault / "notes" / "d.md", "\nmore\n")()
    session.build()
    with zipfile.ZipFile(_deck(vault / "warm")) as archive:
        assert archive.testzip() is None
        assert archive.getinfo("collection.anki2").compress_type == zipfile.ZIP_STORED
        names = archive.namelist()
    assert names[-2:] == ["collection.anki2", "media"]


def test_build_never_writes_the_fast_deck(vault: Path) -> None:
    config = _config(vault, "a", fast=False)
    Engine(config, use_cache=False).build()
    Engine(replace(config, out_dir=vault / "b"), use_cache=False).build()
    assert _deck(vault / "a").read_bytes() == _deck(vault / "b").read_bytes()
    with zipfile.ZipFile(_deck(vault / "a")) as archive:
        assert archive.getinfo("collection.anki2").compress_type == zipfile.ZIP_DEFLATED


def test_a_deck_that_would_need_zip64_is_written_the_reproducible_way(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastzip, "_LIMIT", 1000)
    session = Engine(_config(vault, "warm", fast=True))
    session.build()
    Engine(_config(vault, "cold", fast=False), use_cache=False).build()
    assert _deck(vault / "warm").read_bytes() == _deck(vault / "cold").read_bytes()


def test_media_copied_through_memory_when_the_kernel_will_not(
        vault: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection) -> None:
    real = getattr(os, "copy_file_range", None)
    calls: list[int] = []

    def halting(source: int, target: int, count: int, offset: int) -> int:
        calls.append(count)
        if len(calls) > 1 or real is None:  # another file system, half way through
            raise OSError(18, "Invalid cross-device link")
        return real(source, target, min(count, 1000), offset)

    monkeypatch.setattr(fastzip.os, "copy_file_range", halting, raising=False)
    session = Engine(_config(vault, "warm", fast=True))
    session.build()
    shutil.copytree(vault / "warm", vault / "cold",  # the cold build follows the same state
                    ignore=shutil.ignore_patterns(".notes-export-cache", "*.apkg"))
    _append(vault / "notes" / "d.md", "\nmore\n")()
    session.build()
    assert session._deck is not None and session._deck._zip.reused >= 2 and calls
    with zipfile.ZipFile(_deck(vault / "warm")) as archive:
        assert archive.testzip() is None
    Engine(_config(vault, "cold", fast=False), use_cache=False).build()
    import_apkg(collection, _deck(vault / "warm"))
    assert collection_view(collection) == _fresh_view(vault, _deck(vault / "cold"))
