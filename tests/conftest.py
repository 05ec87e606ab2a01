"""Shared fixtures: small vaults on disk, the sample, and a real Anki collection."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer

from exporter.app.pipeline import Config, Result, export
from exporter.cache import codedigest
from exporter.core.model import Note
from exporter.render.render import NoteRendering, Renderer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_NOTES = ROOT / "source_notes"
SAMPLE_ASSETS = ROOT / "assets"
SAMPLE_NOTE = "AWS Other Compute Services.md"
CORPUS = ROOT.parent / "shared" / "corpus" / "sr-demo-vault"
EPOCH = 1_767_225_600  # 2026-01-01


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The notes rendered (not taken from a cache), in order; small vaults render serially."""
    seen: list[str] = []
    original = Renderer.render_note

    def spy(self: Renderer, note: Note) -> NoteRendering:
        seen.append(note.relpath)
        return original(self, note)

    monkeypatch.setattr(Renderer, "render_note", spy)
    yield seen


@pytest.fixture
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test signs cache entries with its own key, outside the real home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def fresh_digest(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The code digest (made once per process) is made again from what the test patches, and
    forgotten afterwards."""
    codedigest.source_digest.cache_clear()
    yield
    codedigest.source_digest.cache_clear()  # before the test's patches are undone


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A writable copy of the sample project: notes/ and assets/ side by side."""
    shutil.copytree(SAMPLE_NOTES, tmp_path / "notes")
    shutil.copytree(SAMPLE_ASSETS, tmp_path / "assets")
    return tmp_path


def build(project: Path, *, out: str = "dist", epoch: int | None = EPOCH, pdf: bool = True,
          anki: bool = True, deck: str | None = "AWS Other Compute") -> Result:
    """Export ``project/notes`` with ``project/assets`` into ``project/out``."""
    config = Config(notes_dir=project / "notes", asset_dirs=[project / "assets"],
                    out_dir=project / out, deck_name=deck, write_pdf=pdf, write_anki=anki,
                    epoch=epoch)
    return export(config)


def write_note(folder: Path, name: str, text: str) -> Path:
    """Write one note (creating folders) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    """An empty Anki collection, the same library the desktop app uses."""
    folder = tmp_path / "anki"
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    yield col
    col.close()


@pytest.fixture
def col_path(tmp_path: Path) -> Iterator[Path]:
    """A closed, empty collection on disk, as Anki leaves one when it quits."""
    path = tmp_path / "anki" / "collection.anki2"
    path.parent.mkdir()
    Collection(str(path)).close()
    yield path


ImportLog = dict[str, int]


def import_apkg(col: Collection, apkg: Path) -> ImportLog:
    """Import a package with Anki's default options (update if newer) and count the outcome."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(with_scheduling=True))
    log = col.import_anki_package(request).log
    return {"new": len(log.new), "updated": len(log.updated), "duplicate": len(log.duplicate),
            "conflicting": len(log.conflicting)}


def collection_view(col: Collection) -> dict[str, object]:
    """What a collection holds, without its ids: notes by GUID (note type, fields, tags, time,
    cards with their deck), the decks and the media files' bytes."""
    decks = {d.id: d.name for d in col.decks.all_names_and_ids()}
    notes = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        cards = sorted((c.ord, decks[c.did], c.type, c.queue, c.due)
                       for c in (col.get_card(i) for i in note.card_ids()))
        notes[note.guid] = (note.note_type()["name"], tuple(note.fields), tuple(note.tags),
                            note.mod, tuple(cards))
    media = Path(col.media.dir())
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(media.iterdir()) if p.is_file()}
    return {"notes": notes, "decks": sorted(decks.values()), "media": files,
            "missing": list(col.media.check().missing)}


def answer_all(col: Collection) -> None:
    """Review every card once with Good, giving each a review history."""
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(col.sched.build_answer(card=card, states=states,
                                                     rating=CardAnswer.GOOD))


Route = Callable[[str], tuple[int, dict[str, str], bytes]]


@contextmanager
def local_server(route: Route) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering each GET with ``route(path)``; yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = route(self.path)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
