"""The note cache: a warm build is byte-identical to a cold one, edits invalidate exactly what
depends on them, and a stale, corrupt, forged or linked cache is never trusted."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from exporter.app.pipeline import check
from exporter.cache import cachefiles, cachestore, codedigest
from exporter.core.config import Config
from exporter.core.model import Note, Section
from exporter.render import batch, notecache

from .conftest import SAMPLE_ASSETS, build, write_note

PICTURE = "Pasted image 20250217143901.png"
OTHER_PICTURE = "Pasted image 20250217144101.png"
NOTES = {
    "a.md": "# A\nSee [[b#Alpha]] and [[d]].\n![[c]]\n![[" + PICTURE + "]]\n\n## Cards\n"
            "Term::Definition\n- {{c1::Cloze}} text\n",
    "b.md": "# B\n## Alpha\nalpha text\n",
    "c.md": "# C\ntranscluded text\n",
    "d.md": "# D\n- plain point\nWord = meaning of it\n",
}


pytestmark = pytest.mark.usefixtures("own_key")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in NOTES.items():
        write_note(tmp_path / "notes", name, text)
    (tmp_path / "assets").mkdir()
    shutil.copyfile(SAMPLE_ASSETS / PICTURE, tmp_path / "assets" / PICTURE)
    return tmp_path



def _outputs(out: Path) -> dict[str, bytes]:
    """The deck and the state file, by name."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _entries(project: Path) -> list[Path]:
    """The note cache's entries (the session snapshot is a cache of its own)."""
    return sorted(_folder(project, cachestore.NOTES).iterdir())


_note_entries = _entries


def _folder(project: Path, name: str) -> Path:
    return cachestore.folder_of(cachestore.root_of(project / "dist"), name)


def _forget_session(project: Path) -> None:
    """The session snapshot (test_warm_snapshot.py) would serve every note itself."""
    shutil.rmtree(_folder(project, cachestore.SESSION))


def _warm_and_cold(project: Path, rendered: list[str],
                   edit: Callable[[Path], object]) -> list[str]:
    """Build, edit, then build warm into dist and cold into a copy without the cache; the two
    must be byte-identical. Returns the notes the warm build rendered."""
    build(project, pdf=False)
    shutil.copytree(project / "dist", project / "cold")
    shutil.rmtree(project / "cold" / cachefiles.CACHE_DIR)
    edit(project)
    rendered.clear()
    build(project, pdf=False)
    warm_rendered = sorted(rendered)
    build(project, out="cold", pdf=False)
    assert _outputs(project / "dist") == _outputs(project / "cold")
    return warm_rendered


def test_a_warm_build_renders_nothing_and_writes_the_same_bytes(
        project: Path, rendered: list[str]) -> None:
    build(project, pdf=False)
    assert sorted(rendered) == sorted(NOTES)
    assert len(_note_entries(project)) == len(NOTES)
    cold = _outputs(project / "dist")
    rendered.clear()
    result = build(project, pdf=False)
    assert rendered == []
    assert _outputs(project / "dist") == cold
    assert not result.diagnostics


def test_a_warm_build_with_the_pdf_matches_and_keeps_both_caches(
        project: Path, rendered: list[str]) -> None:
    build(project)
    cold = _outputs(project / "dist")
    rendered.clear()
    build(project)
    assert rendered == []
    assert _outputs(project / "dist") == cold
    assert len(list(_folder(project, cachestore.SHEETS).iterdir())) == 1
    assert len(_note_entries(project)) == len(NOTES)


def test_one_edited_note_is_the_only_one_rendered_again(
        project: Path, rendered: list[str]) -> None:
    def edit(p: Path) -> None:
        write_note(p / "notes", "d.md", NOTES["d.md"] + "- one more point\n")

    assert _warm_and_cold(project, rendered, edit) == ["d.md"]
    assert len(_note_entries(project)) == len(NOTES)  # the old entry of d.md was pruned


def test_a_renamed_heading_renders_the_notes_linking_to_it(
        project: Path, rendered: list[str]) -> None:
    def edit(p: Path) -> None:
        write_note(p / "notes", "b.md", "# B\n## Beta\nalpha text\n")

    assert "a.md" in _warm_and_cold(project, rendered, edit)
    result = build(project, pdf=False)
    assert [d.code for d in result.diagnostics] == ["missing-heading"]


def test_an_edited_image_renders_the_notes_showing_it(
        project: Path, rendered: list[str]) -> None:
    def edit(p: Path) -> None:
        shutil.copyfile(SAMPLE_ASSETS / OTHER_PICTURE, p / "assets" / PICTURE)

    assert _warm_and_cold(project, rendered, edit) == ["a.md"]


def test_an_edited_embedded_note_renders_the_notes_embedding_it(
        project: Path, rendered: list[str]) -> None:
    def edit(p: Path) -> None:
        write_note(p / "notes", "c.md", "# C\nnew transcluded text\n")

    assert _warm_and_cold(project, rendered, edit) == ["a.md", "c.md"]


def test_a_missing_image_is_looked_for_again_every_build(
        project: Path, rendered: list[str]) -> None:
    def edit(p: Path) -> None:
        write_note(p / "notes", "d.md", NOTES["d.md"] + "![[later.png]]\n")

    _warm_and_cold(project, rendered, edit)
    shutil.copyfile(SAMPLE_ASSETS / PICTURE, project / "assets" / "later.png")
    rendered.clear()
    result = build(project, pdf=False)
    assert "d.md" in rendered
    assert not result.diagnostics


@pytest.mark.parametrize("garbage", [
    b"", b"\x00\xff" * 100, b"not json at all", b"abc\n{}",
    b"0" * 64 + b"\n" + json.dumps({"images": [], "rendering": {}}).encode(),
])
def test_a_corrupt_entry_is_rendered_again_and_replaced(
        project: Path, rendered: list[str], garbage: bytes) -> None:
    build(project, pdf=False)
    cold = _outputs(project / "dist")
    for entry in _entries(project):
        entry.write_bytes(garbage)
    _forget_session(project)
    rendered.clear()
    build(project, pdf=False)
    assert sorted(rendered) == sorted(NOTES)
    assert _outputs(project / "dist") == cold
    rendered.clear()
    build(project, pdf=False)
    assert rendered == []  # replaced by good entries


def test_a_planted_entry_with_a_script_is_not_trusted(
        project: Path, rendered: list[str]) -> None:
    """A pull request can commit the cache folder, under the right names: without this user's
    key it cannot sign them, so they are rendered again."""
    build(project, pdf=False)
    cold = _outputs(project / "dist")
    for entry in _entries(project):
        _, _, body = entry.read_bytes().partition(b"\n")
        forged = body.replace(b"Definition", b"<script>alert(1)</script>")
        mac = hmac.new(b"guessed", forged, hashlib.sha256).hexdigest().encode()
        entry.write_bytes(mac + b"\n" + forged)
    _forget_session(project)
    rendered.clear()
    build(project, pdf=False)
    assert sorted(rendered) == sorted(NOTES)
    assert _outputs(project / "dist") == cold


def test_another_version_of_the_exporter_renders_everything_again(
        project: Path, rendered: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    build(project, pdf=False)
    monkeypatch.setattr(codedigest, "source_digest", lambda: "999.0")
    rendered.clear()
    build(project, pdf=False)
    assert sorted(rendered) == sorted(NOTES)
    rendered.clear()
    build(project, pdf=False)
    assert rendered == []


def test_an_entry_of_the_wrong_shape_is_refused() -> None:
    note = Note("n.md", "N", sections=[Section("N", 0, ("N",), 1, "n")])
    good = {"sections": [["<p>x</p>", "N", "N", []]], "tags": [], "diagnostics": []}
    assert notecache.from_json(good, note, []).sections == [("<p>x</p>", "N", "N", [])]
    bad: list[object] = [
        [], {"sections": []}, {"sections": [["<p>x</p>", "N", "N", [["front", "back"]]]]},
        {"sections": [["<p>x</p>", []]], "tags": [], "diagnostics": []},
        {**good, "tags": [1]}, {**good, "diagnostics": [["n.md", 1, 1, "fatal", "m", "c"]]},
        {**good, "diagnostics": [["n.md", "1", 1, "warning", "m", "c"]]},
        {**good, "sections": [[None, "N", "N", []]]},
    ]
    for data in bad:
        with pytest.raises(notecache.BadEntryError):
            notecache.from_json(data, note, [])


def test_a_linked_cache_folder_is_refused_and_nothing_is_deleted_through_it(
        project: Path, rendered: list[str]) -> None:
    cache = project / "dist" / cachefiles.CACHE_DIR
    cache.mkdir(parents=True)
    decoy = project / "decoy"
    decoy.mkdir()
    (decoy / "keep.txt").write_text("mine")
    os.symlink(decoy, cache / cachestore.NOTES)
    result = build(project, pdf=False)
    assert (decoy / "keep.txt").read_text() == "mine"
    assert [d.code for d in result.diagnostics] == ["bad-cache"]
    assert "symbolic link" in result.diagnostics[0].message
    assert sorted(rendered) == sorted(NOTES)
    assert not (cache / cachestore.NOTES).is_symlink()  # the link went, never what it named
    assert len(_entries(project)) == len(NOTES)


def test_deleting_the_cache_is_safe(project: Path, rendered: list[str]) -> None:
    build(project, pdf=False)
    first = _outputs(project / "dist")
    shutil.rmtree(project / "dist" / cachefiles.CACHE_DIR)
    build(project, pdf=False)
    assert _outputs(project / "dist") == first


def test_check_uses_the_cache_of_an_existing_output_folder_only(
        project: Path, rendered: list[str]) -> None:
    config = Config(notes_dir=project / "notes", asset_dirs=[project / "assets"],
                    out_dir=project / "dist")
    check(config)
    assert not (project / "dist").exists()  # check makes no output folder
    build(project, pdf=False)
    rendered.clear()
    result = check(config)
    assert rendered == []
    assert len(result.cards) > 0 and not result.diagnostics


def test_an_image_rewritten_with_the_same_size_and_time_is_still_noticed(
        project: Path, rendered: list[str]) -> None:
    image = project / "assets" / PICTURE
    original = image.read_bytes()
    image.write_bytes(original + b"A")  # bytes after the end of a PNG are ignored by readers

    def edit(p: Path) -> None:
        stat = image.stat()
        image.write_bytes(original + b"B")
        os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    assert _warm_and_cold(project, rendered, edit) == ["a.md"]
    assert not build(project, pdf=False).diagnostics


def test_a_fifo_or_link_planted_under_an_entry_name_neither_blocks_nor_is_followed(
        project: Path, rendered: list[str]) -> None:
    build(project, pdf=False)
    cold = _outputs(project / "dist")
    first, second = _entries(project)[:2]
    _forget_session(project)  # else no entry is even read
    first.unlink()
    os.mkfifo(first)
    secret = project / "secret.txt"
    secret.write_text("mine")
    second.unlink()
    os.symlink(secret, second)
    rendered.clear()
    build(project, pdf=False)
    assert len(rendered) == 2
    assert _outputs(project / "dist") == cold
    assert secret.read_text() == "mine"
    assert not any(p.is_symlink() or not p.is_file() for p in _entries(project))


def test_an_entry_swapped_with_another_notes_is_rendered_again(
        project: Path, rendered: list[str]) -> None:
    """Each entry is signed with its own key: a real entry copied under the key of another note
    of the same shape would give that note this one's HTML."""
    for name in ("e", "f"):
        write_note(project / "notes", f"{name}.md", f"# {name}\n- only in {name}.md\n")
    build(project, pdf=False)
    cold = _outputs(project / "dist")
    _forget_session(project)
    first, second = (next(p for p in _note_entries(project) if f"only in {n}.md".encode()
                          in p.read_bytes()) for n in ("e", "f"))
    data = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(data)
    rendered.clear()
    build(project, pdf=False)
    assert sorted(rendered) == ["e.md", "f.md"]
    assert _outputs(project / "dist") == cold


@pytest.mark.usefixtures("fresh_digest")
def test_an_upgraded_rendering_library_renders_everything_again(
        project: Path, rendered: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    build(project, pdf=False)
    real = codedigest.metadata.version
    monkeypatch.setattr(codedigest.metadata, "version",
                        lambda name: "99.0" if name == "Pygments" else real(name))
    codedigest.source_digest.cache_clear()  # made once per process
    rendered.clear()
    build(project, pdf=False)
    assert sorted(rendered) == sorted(NOTES)


@pytest.mark.skipif(batch.fork_workers() < 2, reason="needs two cores and fork")
def test_cached_and_fresh_notes_mix_in_note_order_when_rendering_on_all_cores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over PARALLEL_NOTES notes to render go to worker processes; the cached ones are
    applied between them in note order, so the deck is the cold build's, byte for byte."""
    count = batch.PARALLEL_NOTES + 20
    for i in range(count):
        write_note(tmp_path / "notes", f"n{i:03d}.md",
                   f"# N{i}\n- point [[n{(i + 1) % count:03d}]]\nTerm{i}::Answer {i}\n"
                   + ("- see [[n001#nowhere]]\n" if i % 7 == 0 else ""))
    build(tmp_path, pdf=False)
    shutil.copytree(tmp_path / "dist", tmp_path / "cold")
    shutil.rmtree(tmp_path / "cold" / cachefiles.CACHE_DIR)
    for i in range(count):
        if i % 11:  # most notes change (200 to render), a few in between stay cached
            note = tmp_path / "notes" / f"n{i:03d}.md"
            note.write_text(note.read_text() + "- edited\n")
    calls: list[int] = []
    workers = batch.render_in_workers
    monkeypatch.setattr(batch, "render_in_workers",
                        lambda r, todo, *a: calls.append(len(todo)) or workers(r, todo, *a))
    first = build(tmp_path, pdf=False)
    assert calls == [count - 20]
    build(tmp_path, out="cold", pdf=False)
    assert _outputs(tmp_path / "dist") == _outputs(tmp_path / "cold")
    assert first.diagnostics == build(tmp_path, out="cold", pdf=False).diagnostics


def test_an_image_shown_by_two_notes_renders_both_again_when_edited(
        project: Path, rendered: list[str]) -> None:
    """The second note to show an image does not list it among the images it added first."""
    write_note(project / "notes", "e.md", "# E\n![[" + PICTURE + "]]\n")

    def edit(p: Path) -> None:
        shutil.copyfile(SAMPLE_ASSETS / OTHER_PICTURE, p / "assets" / PICTURE)

    assert _warm_and_cold(project, rendered, edit) == ["a.md", "e.md"]


def test_a_removed_block_id_renders_the_notes_linking_to_it(
        project: Path, rendered: list[str]) -> None:
    write_note(project / "notes", "d.md", NOTES["d.md"] + "- see [[c#^kept]]\n")
    write_note(project / "notes", "c.md", "# C\ntranscluded text\n\nsome line ^kept\n")

    def edit(p: Path) -> None:
        write_note(p / "notes", "c.md", "# C\ntranscluded text\n\nsome line\n")

    assert "d.md" in _warm_and_cold(project, rendered, edit)
