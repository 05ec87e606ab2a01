"""``watch`` keeps the vault in memory between rounds (engine.py): each round of an engine's
deck and state have the same bytes as a cold ``build`` of the same notes from the same previous
state, edits reach exactly what depends on them, and a failed round leaves the outputs as they
were. (``watch`` itself writes its deck the fast way: the same notes, test_watch_fast.py.)"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from anki.collection import Collection

from exporter.app import engine as engine_module
from exporter.app.engine import Engine
from exporter.app.pipeline import Result
from exporter.app.watch import watch
from exporter.core.config import Config
from exporter.core.errors import ExportError
from exporter.deck import anki, state
from exporter.read import media

from .conftest import EPOCH, SAMPLE_ASSETS, collection_view, import_apkg, write_note

PICTURE = "Pasted image 20250217143901.png"
OTHER = "Pasted image 20250217144101.png"
NOTES = {
    "a.md": "# A\nSee [[b#Alpha]] and [[d]].\n![[c]]\n![[" + PICTURE + "]]\n\n## Cards\n"
            "Term::Definition\n- {{c1::Cloze}} text\n",
    "b.md": "# B\n## Alpha\nalpha text\n",
    "c.md": "# C\ntranscluded text #inline-tag\n",
    "d.md": "# D\n- plain point\nWord = meaning of it\n![[" + PICTURE + "]]\n",
    "sub/e.md": "# E\n## Q\nWhat is E?\n?\nA letter.\n",
}


pytestmark = pytest.mark.usefixtures("own_key")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A small vault: links, an embed, a shared image, cards of several kinds."""
    return make_vault(tmp_path)


def make_vault(tmp_path: Path) -> Path:
    """:data:`NOTES` and two pictures in ``tmp_path``."""
    notes = tmp_path / "notes"
    for name, text in NOTES.items():
        write_note(notes, name, text)
    (tmp_path / "assets").mkdir()
    for name in (PICTURE, OTHER):
        shutil.copy(SAMPLE_ASSETS / name, tmp_path / "assets" / name)
    return tmp_path


def _config(project: Path, out: str, **options: object) -> Config:
    values: dict[str, object] = {"notes_dir": project / "notes",
                                 "asset_dirs": [project / "assets"], "out_dir": project / out,
                                 "deck_name": "Deck", "write_pdf": False, "epoch": EPOCH}
    values.update(options)
    return Config(**values)  # type: ignore[arg-type]


def cold_export(config: Config) -> Result:
    """A build that keeps nothing from earlier runs: the engine with nothing remembered and
    no note cache."""
    return Engine(config, use_cache=False).build()


def _outputs(out: Path) -> dict[str, bytes]:
    """The deck and state files of an output folder (not the note cache)."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _same_as_cold(project: Path, session: Engine, edit: Callable[[], None] | None = None,
                  **options: object) -> Result:
    """Copy the session's outputs for a cold build, edit, run both; their files must match."""
    cold = project / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    shutil.copytree(project / "warm", cold)
    shutil.rmtree(cold / ".notes-export-cache", ignore_errors=True)
    if edit:
        edit()
    result = session.build()
    expected = cold_export(_config(project, "cold", **options))
    assert _outputs(project / "warm") == _outputs(cold)
    assert result.diagnostics == expected.diagnostics
    assert [c.guid for c in result.cards] == [c.guid for c in expected.cards]
    return result


def _append(path: Path, text: str) -> Callable[[], None]:
    return lambda: path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_every_round_writes_the_bytes_a_cold_build_writes(vault: Path) -> None:
    session = Engine(_config(vault, "warm"))
    first = session.build()
    assert session.rendered_notes == len(NOTES)
    assert _outputs(vault / "warm") == _outputs(_fresh_cold(vault))
    assert len(first.cards) > 5
    notes = vault / "notes"
    rounds: list[tuple[Callable[[], None] | None, int]] = [
        (None, 0),  # nothing changed: nothing rendered
        (_append(notes / "d.md", "\nA new paragraph.\n"), 1),  # one note edited
        (_append(notes / "c.md", "\nmore transcluded text\n"), 2),  # a and c: a embeds c
        (lambda: write_note(notes, "f.md", "# F\nnew note\n"), -1),  # every key changes
        (lambda: (notes / "b.md").unlink(), -1),  # a's link to b breaks
        (lambda: shutil.copy(SAMPLE_ASSETS / OTHER, vault / "assets" / PICTURE), 2),
        (lambda: write_note(notes, "d.md", NOTES["d.md"]), 1),
    ]
    for edit, rendered in rounds:
        _same_as_cold(vault, session, edit)
        if rendered >= 0:
            assert session.rendered_notes == rendered
    assert session.timings.keys() >= {"read", "render", "cards", "follow", "deck"}


def _fresh_cold(project: Path) -> Path:
    out = project / "first-cold"
    cold_export(_config(project, "first-cold"))
    return out


def test_an_edited_image_with_its_old_size_and_time_changes_the_deck(vault: Path) -> None:
    session = Engine(_config(vault, "warm"))
    session.build()
    picture = vault / "assets" / PICTURE
    before = picture.stat()

    def same_size_and_time() -> None:
        data = bytearray(picture.read_bytes())
        data[-20] ^= 0xFF  # inside the last chunk's data: same size, other bytes
        picture.write_bytes(bytes(data))
        os.utime(picture, ns=(before.st_atime_ns, before.st_mtime_ns))

    name = media.content_name(picture)
    _same_as_cold(vault, session, same_size_and_time)
    assert media.content_name(picture) != name
    assert session.rendered_notes == 2  # a and d show it


def test_settings_and_options_that_change_card_syntax_read_the_notes_again(vault: Path
                                                                             ) -> None:
    session = Engine(_config(vault, "warm"))
    session.build()
    plugin = vault / "notes" / ".obsidian" / "plugins" / "flashcards"

    def flashcards_plugin() -> None:
        plugin.mkdir(parents=True)
        (plugin / "data.json").write_text('{"inlineSeparator": ":::"}', encoding="utf-8")

    _same_as_cold(vault, session, flashcards_plugin)
    _same_as_cold(vault, session, lambda: shutil.rmtree(plugin))


def test_a_state_file_changed_behind_its_back_is_read_again(vault: Path) -> None:
    session = Engine(_config(vault, "warm"))
    session.build()
    state = next((vault / "warm").glob(".*.notes-export.json"))
    _same_as_cold(vault, session, state.unlink)  # both start without a previous state
    _same_as_cold(vault, session, _append(vault / "notes" / "b.md", "\nmore\n"))


def test_a_failed_round_replaces_nothing_and_the_next_round_is_whole(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = Engine(_config(vault, "warm"))
    session.build()
    before = _outputs(vault / "warm")
    (vault / "notes" / "d.md").write_text("# D\nchanged\n", encoding="utf-8")
    real = anki.write_package

    def broken(target: Path, *args: object, **kwargs: object) -> None:
        target.write_bytes(b"half a deck")
        raise OSError("disk full")

    monkeypatch.setattr(anki, "write_package", broken)
    with pytest.raises(ExportError, match="disk full"):
        session.build()
    assert _outputs(vault / "warm") == before
    monkeypatch.setattr(anki, "write_package", real)
    _same_as_cold(vault, session)


def test_tags_found_while_rendering_do_not_outlive_the_text_that_gave_them(vault: Path
                                                                           ) -> None:
    session = Engine(_config(vault, "warm"))
    first = session.build()
    assert any("inline-tag" in c.tags for c in first.cards)
    result = _same_as_cold(vault, session,
                           lambda: write_note(vault / "notes", "c.md", "# C\nno tag now\n"))
    assert not any("inline-tag" in c.tags for c in result.cards)


def test_a_note_left_out_by_tag_and_folders_match_a_cold_build(vault: Path) -> None:
    session = Engine(_config(vault, "warm", tags=("keep",), folder_tags=True))
    session.build()
    _same_as_cold(vault, session, lambda: write_note(vault / "notes", "b.md",
                                                     "---\ntags: [keep]\n---\n# B\n## Alpha\n"
                                                     "alpha\n"), tags=("keep",),
                  folder_tags=True)


def test_watch_renders_only_the_saved_note_and_writes_a_cold_build_s_notes(
        vault: Path, monkeypatch: pytest.MonkeyPatch, rendered: list[str]) -> None:
    read: list[str] = []
    for module in (engine_module,):
        monkeypatch.setattr(module, "read_note", lambda path, relpath, real=module.read_note:
                            read.append(relpath) or real(path, relpath))
    reports: list[tuple[Result | ExportError, set[str] | None]] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(_config(vault, "warm"),
                                                  lambda r, c: reports.append((r, c)), stop),
                              kwargs={"debounce_ms": 100})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not reports and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(rendered) == sorted(NOTES)
        shutil.copytree(vault / "warm", vault / "cold")
        shutil.rmtree(vault / "cold" / ".notes-export-cache")
        rendered.clear()
        read.clear()
        time.sleep(0.5)  # let the watcher start
        _append(vault / "notes" / "d.md", "\nA new paragraph.\n")()
        while len(reports) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(reports) == 2 and reports[1][1] == {"d.md"}
    assert rendered == ["d.md"] and read == ["d.md"]
    cold_export(_config(vault, "cold"))
    warm, cold = _outputs(vault / "warm"), _outputs(vault / "cold")
    # watch writes its deck the fast way (fastdeck.py): other bytes, the same notes
    assert warm.pop("deck.apkg") != cold.pop("deck.apkg")
    assert warm == cold  # the state file
    decks = [vault / out / "deck.apkg" for out in ("warm", "cold")]
    assert state.load_deck(decks[0]) == state.load_deck(decks[1])
    views = []
    for number, deck in enumerate(decks):
        (vault / f"anki{number}").mkdir()
        col = Collection(str(vault / f"anki{number}" / "collection.anki2"))
        try:
            import_apkg(col, deck)
            views.append(collection_view(col))
        finally:
            col.close()
    assert views[0] == views[1] and views[0]["notes"]
