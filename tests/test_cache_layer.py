"""One cache layer (cachestore.py) under all four caches: the rendered notes, the session, the
PDFs and their chunks. A planted, forged or moved entry of any of them is refused and the
build stays the cold build, byte for byte; new code renames every entry of every cache; a
cache prunes only its own folder; and every option declares which caches it makes stale."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from exporter.app import snapshot
from exporter.app.pipeline import export
from exporter.cache import cachestore, codedigest
from exporter.cache.cachestore import CHUNKS, NOTES, SESSION, SHEETS, Store
from exporter.core import config as config_module
from exporter.core.config import Config
from exporter.core.model import Vault
from exporter.core.note_types import NoteType
from exporter.read.vault import AssetIndex
from exporter.render import notecache
from exporter.render.render import Renderer
from exporter.sheet import sheet_chunks, sheet_stage, sheetcache

from .conftest import EPOCH, write_note

pytestmark = pytest.mark.usefixtures("own_key")
CACHES = (NOTES, SESSION, SHEETS, CHUNKS)
REAL, PLANTED = b"REALTEXT", b"PLANTED!"  # the same length: a pickle stays a pickle
TAKEN = re.compile(r"(\d+) of (\d+) chunks taken from the cache")


def _notes(folder: Path, word: str) -> Path:
    """Six notes (two chunks of three, with the ``chunked`` fixture), each showing ``word``."""
    for n in range(6):
        write_note(folder, f"n{n}.md", f"# Note {n}\n- point {word} {n}\n"
                                       f"Term {n}::Answer {word}\n\n## More\ntext {word}\n")
    return folder


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of three notes, laid out in this process (the bytes are the same)."""
    monkeypatch.setattr(sheet_chunks, "EVERY", 1)
    monkeypatch.setattr(sheet_chunks, "MIN_NOTES", 3)
    monkeypatch.setattr(sheet_chunks, "WHOLE_UP_TO", 0)
    monkeypatch.setattr(sheet_chunks.os, "cpu_count", lambda: 1)


def _build(notes: Path, out: Path) -> None:
    export(Config(notes_dir=notes, out_dir=out, asset_dirs=[], epoch=EPOCH, write_html=True))


def _entries(out: Path) -> dict[str, list[Path]]:
    """Each cache's entry files, sorted (a sheet's chunks in a folder of their own)."""
    root = cachestore.root_of(out)
    return {name: sorted(p for p in cachestore.folder_of(root, name).rglob("*") if p.is_file())
            for name in CACHES}


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _shown(out: Path) -> bytes:
    """Everything the outputs show: the deck's members, the PDF's text, the HTML, the state."""
    shown = [data for name, data in _outputs(out).items() if not name.endswith((".apkg", ".pdf"))]
    with zipfile.ZipFile(out / "notes.apkg") as deck:
        shown += [deck.read(member) for member in deck.namelist()]
    shown += [(page.extract_text() or "").encode() for page in PdfReader(out / "notes.pdf").pages]
    return b"\n".join(shown)


# --- (a) planted, forged and moved entries of every cache ------------------------------------

def _unsigned(ours: dict[str, list[Path]], twin: dict[str, list[Path]]) -> None:
    """Our entries' bodies, their text planted, written without a signature."""
    for path in (p for paths in ours.values() for p in paths):
        path.write_bytes(path.read_bytes().partition(b"\n")[2].replace(REAL, PLANTED))


def _forged(ours: dict[str, list[Path]], twin: dict[str, list[Path]]) -> None:
    """Our entries' bodies, their text planted, signed with a key that is not ours."""
    for path in (p for paths in ours.values() for p in paths):
        body = path.read_bytes().partition(b"\n")[2].replace(REAL, PLANTED)
        mac = hmac.new(b"guessed", path.name.encode() + b"\0" + body, hashlib.sha256)
        path.write_bytes(mac.hexdigest().encode() + b"\n" + body)


def _other_project(ours: dict[str, list[Path]], twin: dict[str, list[Path]]) -> None:
    """Entries signed with this user's key, of the same cache of a twin project whose notes
    show the planted text, copied under our entries' names (other keys)."""
    for name, paths in ours.items():
        for number, path in enumerate(paths):
            shutil.copyfile(twin[name][number % len(twin[name])], path)


def _rotated(ours: dict[str, list[Path]], twin: dict[str, list[Path]]) -> None:
    """Our own entries, each moved to the next one's name: another key, or another cache."""
    paths = [p for name in CACHES for p in ours[name]]
    data = [p.read_bytes() for p in paths]
    for number, path in enumerate(paths):
        path.write_bytes(data[(number + 1) % len(paths)])


@pytest.mark.usefixtures("chunked")
@pytest.mark.parametrize("tamper", [_unsigned, _forged, _other_project, _rotated],
                         ids=["unsigned", "forged", "other-project", "rotated"])
def test_no_cache_takes_a_planted_forged_or_moved_entry(
        tmp_path: Path, rendered: list[str], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        tamper: Callable[[dict[str, list[Path]], dict[str, list[Path]]], None]) -> None:
    notes = _notes(tmp_path / "notes", REAL.decode())
    twin = tmp_path / "twin" / "dist"
    _build(_notes(tmp_path / "twin" / "notes", PLANTED.decode()), twin)
    assert PLANTED in _shown(twin)
    dist, cold = tmp_path / "dist", tmp_path / "cold"
    _build(notes, dist)
    shutil.copytree(dist, cold)
    shutil.rmtree(cachestore.root_of(cold))
    ours = _entries(dist)
    assert all(ours.values()), ours  # every cache holds entries
    tamper(ours, _entries(twin))
    laid_out: list[str] = []
    real = sheet_stage.write_sheet
    monkeypatch.setattr(sheet_stage, "write_sheet",
                        lambda target, *a, **k: laid_out.append(target.name) or real(
                            target, *a, **k))
    rendered.clear()
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.sheet_chunks"):
        _build(notes, dist)
    assert sorted(rendered) == [f"n{n}.md" for n in range(6)]  # no note nor session entry
    assert TAKEN.search(caplog.text).groups() == ("0", "2")  # type: ignore[union-attr]
    assert len(laid_out) == 1  # the sheet's entry neither
    _build(notes, cold)
    assert _outputs(dist) == _outputs(cold)
    assert PLANTED not in _shown(dist) and REAL in _shown(dist)
    assert all(_entries(dist).values())  # replaced by good entries


def test_a_store_refuses_an_entry_of_another_key_or_another_cache(tmp_path: Path) -> None:
    root = tmp_path / "root"
    notes, sheets = _open(root, NOTES), _open(root, SHEETS)
    assert notes.put("a", b"body of a") and notes.put("b", b"body of b")
    assert notes.get("a") == b"body of a"
    shutil.copyfile(notes.path("a"), notes.path("b"))  # another key
    shutil.copyfile(notes.path("a"), sheets.path("a"))  # another cache, the same key
    assert notes.get("b") is None and sheets.get("a") is None
    notes.path("a").write_bytes(b"body of a")  # not signed
    assert notes.get("a") is None
    assert not notes.put("big", b"x" * (notes.limit + 1))
    notes.path("big").write_bytes(b"x" * (notes.limit + 100))  # bounded read
    assert notes.get("big") is None


# --- (b) new code renames every entry of every cache -----------------------------------------

BUILD = """
import sys
from pathlib import Path
from exporter.sheet import sheet_chunks
sheet_chunks.EVERY, sheet_chunks.MIN_NOTES, sheet_chunks.WHOLE_UP_TO = 1, 3, 0
from exporter.app.pipeline import Config, export
export(Config(notes_dir=Path(sys.argv[1]), out_dir=Path(sys.argv[2]), asset_dirs=[],
              epoch=int(sys.argv[3]), write_html=True))
"""


def test_a_change_to_any_subpackage_renames_every_entry_of_every_cache(tmp_path: Path) -> None:
    code = tmp_path / "code"
    shutil.copytree(codedigest.PACKAGE, code / "exporter",
                    ignore=shutil.ignore_patterns("__pycache__"))
    notes, dist = _notes(tmp_path / "notes", "text"), tmp_path / "dist"

    def build() -> dict[str, set[str]]:
        env = {**os.environ, "PYTHONPATH": str(code)}
        subprocess.run([sys.executable, "-c", BUILD, str(notes), str(dist), str(EPOCH)],
                       check=True, env=env, cwd=tmp_path)
        root = cachestore.root_of(dist)
        return {name: {p.relative_to(root).as_posix() for p in paths}
                for name, paths in _entries(dist).items()}

    names = [build()]
    outputs = _outputs(dist)
    assert all(names[0].values()), names[0]
    for module in ("deck/anki.py", "sheet/weasy.py", "cache/cachestore.py"):
        with (code / "exporter" / module).open("a", encoding="utf-8") as handle:
            handle.write("# another version\n")
        names.append(build())
        for cache in CACHES:
            before, after = names[-2][cache], names[-1][cache]
            assert after and not before & after, (module, cache)  # every one renamed …
            assert len(after) == len(before)  # … and the old ones pruned
        assert _outputs(dist) == outputs


# --- (c) a cache prunes its own folder only --------------------------------------------------

def _open(root: Path, name: str) -> Store:
    store = cachestore.open_store(root, name)
    assert store is not None
    return store


def test_each_cache_prunes_only_its_own_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    stores = {name: _open(root, name) for name in CACHES}
    sheet = stores[CHUNKS].within("notes")  # one sheet's chunks
    assert sheet is not None
    stores[sheet.name] = sheet
    for store in stores.values():
        assert store.put("kept", b"1") and store.put("stale", b"2")
    for path in [root / "planted.txt", *(s.folder / "planted.txt" for s in stores.values())]:
        path.write_text("not ours")

    def files() -> set[Path]:
        return {p for p in root.rglob("*") if p.is_file()}

    for name, store in stores.items():
        before = files()
        store.prune(["kept"], ["notes"] if name == CHUNKS else [])  # CHUNKS: the sheets' folders
        assert before - files() == {store.path("stale"), store.folder / "planted.txt"}, name
    assert files() == {*(s.path("kept") for s in stores.values()), root / "planted.txt"}
    sheetcache.SheetCache(stores[SHEETS], stores[CHUNKS]).prune(set(), set())  # the PDFs'
    assert files() == {stores[NOTES].path("kept"), stores[SESSION].path("kept"),
                       root / "planted.txt"}
    chunk_cache = sheet_chunks.ChunkCache(_open(root, f"{CHUNKS}/other"))
    chunk_cache.keep_frame("f", b"frame")
    chunk_cache.prune(set(), "g")
    assert files() == {stores[NOTES].path("kept"), stores[SESSION].path("kept"),
                       root / "planted.txt"}


@pytest.mark.usefixtures("chunked")
def test_an_older_layout_left_in_the_cache_folder_is_harmless(tmp_path: Path) -> None:
    notes, dist, cold = _notes(tmp_path / "notes", "text"), tmp_path / "dist", tmp_path / "cold"
    root = cachestore.root_of(dist)
    key = "a" * 64
    old = [root / f"{key}.pdf", root / f"{key}.json", root / NOTES / f"{key}.json",
           root / NOTES / "session.pickle", root / CHUNKS / "0123456789abcdef" / f"{key}.json"]
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"0" * 64 + b"\nold")
    (root / "README").write_text("not ours")
    _build(notes, dist)
    _build(notes, cold)
    assert _outputs(dist) == _outputs(cold)
    assert not any(path.exists() for path in old)
    assert (root / "README").read_text() == "not ours"  # the root keeps what is not ours


# --- (d) every option declares what it makes stale -------------------------------------------

def undeclared(cls: type) -> list[str]:
    """The fields of a dataclass that declare no valid ``invalidates``."""
    problems = []
    for item in dataclasses.fields(cls):
        declared = item.metadata.get("invalidates")
        kinds = (declared,) if isinstance(declared, str) else declared
        if not kinds or any(kind not in config_module.KINDS for kind in kinds):
            problems.append(item.name)
    return problems


@dataclasses.dataclass
class _Undeclared:
    declared: bool = dataclasses.field(default=False, metadata={"invalidates": "outputs"})
    forgotten: bool = False
    misspelt: bool = dataclasses.field(default=False, metadata={"invalidates": "note"})


def test_every_option_declares_what_it_makes_stale() -> None:
    assert undeclared(Config) == []
    assert undeclared(_Undeclared) == ["forgotten", "misspelt"]
    forgotten, misspelt = dataclasses.fields(_Undeclared)[1:]
    assert config_module.invalidates(forgotten) == {"notes", "cards", "sheet"}  # all, to be safe
    with pytest.raises(ValueError, match="misspelt"):
        config_module.invalidates(misspelt)


def _other(tmp_path: Path, name: str, value: object) -> object:
    """Another value of the option ``name``."""
    (tmp_path / "sheet.css").write_text("p { color: red }", encoding="utf-8")
    others: dict[str, object] = {
        "notes_dir": tmp_path / "other-notes", "asset_dirs": [tmp_path / "pictures"],
        "out_dir": tmp_path / "elsewhere", "deck_name": "Other deck", "epoch": 12345,
        "card_kinds": config_module.DEFAULT_CARD_KINDS[:1], "section_cards": "always",
        "vault_name": "other", "vault_id": "other-id", "layout": "handout", "paper": "letter",
        "orientation": "portrait", "columns": 2, "font_size": 9.0, "css": tmp_path / "sheet.css",
        "pdf_per": "folder", "state_file": tmp_path / "state.json",
        "previous": tmp_path / "previous.apkg", "pages": 2, "min_font_size": 5.0,
        "header": "a | b | c", "footer": "{page}", "include": ["a*"], "exclude": ["b*"],
        "tags": ["tag"], "note_types": {"basic": NoteType("basic", "Mine", ("F", "B"))}}
    if name in others:
        return others[name]
    assert isinstance(value, bool), f"no other value of {name} to try"
    return not value


def _keys(config: Config, renderer: Renderer, vault: Vault) -> dict[str, object]:
    """The key each cache keys ``config``'s options by: the note cache's vault digest, the
    session's, and each sheet's."""
    date = dt.date(2026, 1, 1)
    sheets = [sheetcache.cache_key(job.options, sheet_chunks.prepare(job.vault, job.options),
                                   job.context)
              for job in sheet_stage.plan_sheets(config, vault, date)]
    return {"notes": notecache.vault_digest(config, renderer), "cards": snapshot.stamp(config),
            "sheet": sheets}


def test_an_option_changes_exactly_the_keys_of_the_caches_it_declares(tmp_path: Path) -> None:
    base = Config(notes_dir=tmp_path / "notes", asset_dirs=[], out_dir=tmp_path / "dist")
    write_note(base.notes_dir, "a.md", "# A\n- text\n")
    vault = Vault(root=base.notes_dir)
    renderer = Renderer(vault, AssetIndex(base.notes_dir, []), base.notes_dir)
    before = _keys(base, renderer, vault)
    seen: set[str] = set()
    for item in dataclasses.fields(Config):
        changed = dataclasses.replace(
            base, **{item.name: _other(tmp_path, item.name, getattr(base, item.name))})
        after = _keys(changed, renderer, vault)
        stale = {kind for kind in before if before[kind] != after[kind]}
        assert stale == config_module.invalidates(item), item.name
        declared = item.metadata["invalidates"]
        seen |= {declared} if isinstance(declared, str) else set(declared)
    assert seen == set(config_module.KINDS)


def test_options_for_gives_the_options_that_key_each_kind(tmp_path: Path) -> None:
    config = Config(notes_dir=tmp_path, cloze_highlights=True, folder_tags=True)
    assert config.options_for("notes")["cloze_highlights"] is True
    assert "folder_tags" not in config.options_for("notes")
    assert "folder_tags" in config.options_for("cards")  # the session's key
    assert "cloze_highlights" in config.options_for("sheet")  # a note's HTML is on the sheet
    assert not {"out_dir", "epoch", "write_pdf"} & {
        name for kind in ("notes", "cards", "sheet") for name in config.options_for(kind)}
    with pytest.raises(ValueError):
        config.options_for("outputs")


@pytest.mark.parametrize("option", ["check_links", "cloze_highlights", "folder_tags"])
def test_a_build_after_an_option_changed_is_the_cold_build(tmp_path: Path, option: str) -> None:
    """The declarations are what the caches key on: an option that reaches a note's HTML or
    its cards, declared as less, would serve the entries of the old value."""
    write_note(tmp_path / "notes", "a.md", "# A\n- see [[nowhere]]\n- a ==highlighted== word\n"
                                           "Term::Answer\n")
    write_note(tmp_path / "notes", "sub/b.md", "# B\n- [[a]] and ==more==\n")

    def build(out: str, **changed: object) -> tuple[dict[str, bytes], list[str]]:
        result = export(Config(notes_dir=tmp_path / "notes", asset_dirs=[],
                               out_dir=tmp_path / out, epoch=EPOCH, write_pdf=False, **changed))
        return _outputs(tmp_path / out), [d.message for d in result.diagnostics]

    build("warm")
    shutil.copytree(tmp_path / "warm", tmp_path / "cold")  # the same previous state
    shutil.rmtree(cachestore.root_of(tmp_path / "cold"))
    assert build("warm", **{option: True}) == build("cold", **{option: True})
