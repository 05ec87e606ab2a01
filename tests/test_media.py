"""Media as Anki plays them (issue 18, part 5): sound files, web videos and frames, icons in a
line of text, block ids after embeds, block embeds of every kind, no problem placed in code."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from anki.collection import Collection
from PIL import Image

from exporter.app.pipeline import Config, Result, export
from exporter.app.sync import sync
from exporter.core.config import SheetOptions
from exporter.core.model import Card
from exporter.read import media
from exporter.read.media import content_name
from exporter.sheet.sheet_html import build_html

from .conftest import EPOCH, import_apkg, write_note

SOUND = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4


def _export(root: Path, notes: dict[str, str], anki: bool = False) -> Result:
    for name, text in notes.items():
        write_note(root / "notes", name, text)
    assets = root / "assets"
    assets.mkdir(exist_ok=True)
    Image.new("RGB", (32, 32), (30, 90, 200)).save(assets / "icon.png")
    (assets / "lecture.mp3").write_bytes(SOUND)
    return export(Config(notes_dir=root / "notes", asset_dirs=[assets], out_dir=root / "dist",
                         deck_name="Media", write_pdf=False, write_anki=anki, epoch=EPOCH))


def _back(result: Result, source: str) -> str:
    card: Card = next(c for c in result.cards if c.source == source)
    return card.back


def _found(result: Result) -> list[tuple[str, int, str, str]]:
    return [(d.path, d.line, d.severity, d.code) for d in result.diagnostics]


# --- sound and video files --------------------------------------------------------------------


def test_mp3_embed_is_a_sound_anki_plays_with_the_file_in_its_media(
        tmp_path: Path, collection: Collection) -> None:
    result = _export(tmp_path, {"Talk.md": "# Talk\nListen:\n![[lecture.mp3]]\n"}, anki=True)
    name = content_name(tmp_path / "assets" / "lecture.mp3")
    assert name.startswith("lecture-") and name.endswith(".mp3")
    assert result.diagnostics == []
    import_apkg(collection, tmp_path / "dist" / "media.apkg")
    assert collection.media.have(name)
    with open(os.path.join(collection.media.dir(), name), "rb") as stored:
        assert stored.read() == SOUND
    note = collection.get_note(collection.find_notes("")[0])
    assert f"[sound:{name}]" in note["Back"]
    assert collection.media.files_in_str(note.mid, note["Back"]) == [name]


def test_sync_puts_the_sound_file_into_the_collections_media(tmp_path: Path,
                                                            col_path: Path) -> None:
    write_note(tmp_path / "notes", "Talk.md", "# Talk\n![[lecture.mp3]]\n")
    (tmp_path / "notes" / "lecture.mp3").write_bytes(SOUND)
    sync(Config(notes_dir=tmp_path / "notes", asset_dirs=[], out_dir=tmp_path / "dist",
                deck_name="Media", write_pdf=False, epoch=EPOCH), col_path, echo=lambda _: None)
    name = content_name(tmp_path / "notes" / "lecture.mp3")
    col = Collection(str(col_path))
    try:
        assert col.media.have(name)
        note = col.get_note(col.find_notes("")[0])
        assert f"[sound:{name}]" in note["Back"]
    finally:
        col.close()


def test_missing_audio_is_a_warning_with_file_and_line(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Talk.md": "# Talk\ntext\nAnd ![[gone.ogg]] too.\n"})
    [problem] = result.diagnostics
    assert problem.format() == ("Talk.md:3:5: warning: audio 'gone.ogg' not found in the "
                                "assets or notes folders [missing-audio]")
    assert '<span class="missing-image">Missing audio: gone.ogg</span>' in \
        _back(result, "Talk.md › Talk")


def test_audio_follows_the_rules_of_images_outside_and_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "elsewhere.mp3"
    outside.write_bytes(SOUND)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "leak.mp3").symlink_to(outside)
    monkeypatch.setattr(media, "MAX_SOUND_BYTES", 100)
    result = _export(tmp_path, {"Talk.md": "# Talk\n![[leak.mp3]]\n![[../elsewhere.mp3]]\n"
                                           "![[lecture.mp3]]\n"})
    assert [(d.line, d.severity, d.code) for d in result.diagnostics] == [
        (2, "error", "outside-vault"), (3, "error", "outside-vault"), (4, "warning", "bad-audio")]
    assert "[sound:" not in _back(result, "Talk.md › Talk")
    assert result.vault.assets == {}


def test_sheet_names_the_sound_file_and_plays_nothing(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Talk.md": "# Talk\nListen:\n![[lecture.mp3]]\n"})
    sheet = build_html(result.vault, SheetOptions(title="M", source="s", date=dt.date(2026, 1, 1)))
    assert '<span class="audio-file">lecture.mp3</span>' in sheet
    assert "[sound:" not in sheet.split("<body", 1)[1]


# --- web videos and frames --------------------------------------------------------------------


def test_web_video_and_iframe_become_links_with_a_notice(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Web.md": (
        "# Web\n![](https://www.youtube.com/watch?v=abc)\n\n![Talk](https://youtu.be/xyz)\n\n"
        '<iframe src="https://player.vimeo.com/video/1" title="A talk"></iframe>\n\n'
        'Inline <iframe src="https://example.com/page"></iframe> frame.\n')})
    back = _back(result, "Web.md › Web")
    assert '<a class="web-embed" href="https://www.youtube.com/watch?v=abc">' in back
    assert '<a class="web-embed" href="https://youtu.be/xyz">Talk</a>' in back
    assert '<a class="web-embed" href="https://player.vimeo.com/video/1">A talk</a>' in back
    assert ('Inline <a class="web-embed" href="https://example.com/page">'
            "https://example.com/page</a> frame.") in back
    assert _found(result) == [("Web.md", line, "notice", "web-embed") for line in (2, 4, 6, 8)]


# --- images in a line of text -----------------------------------------------------------------


def test_image_in_a_line_of_text_stays_inline_in_every_container(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Icons.md": (
        "# Icons\n- ![[icon.png]] **Sort** — sort files\n- **![[icon.png]] Bold** icon\n"
        "- ![[icon.png]]\n\n| a | b |\n|---|---|\n| ![[icon.png]] x | ![[icon.png]] |\n\n"
        "> [!note] ![[icon.png]] Title\n> body\n\n> [!tip]- ![[icon.png]] Folded\n> body\n\n"
        "## ![[icon.png]] Heading\ntext\n")})
    back = _back(result, "Icons.md › Icons")
    inline = '<img alt="icon.png" class="image-inline" src="icon-'
    block = '<img alt="icon.png" src="icon-'
    assert back.count(inline) == 5
    assert f"<li>{inline}" in back and f"<li><strong>{inline}" in back
    assert f"<td>{inline}" in back and f'<div class="callout-title">{inline}' in back
    assert f'<summary class="callout-title">{inline}' in back
    assert f"<li>{block}" in back and f"<td>{block}" in back  # alone in its block
    heading = next(c for c in result.cards if c.source == "Icons.md › Icons › ![[icon.png]] "
                   "Heading")
    assert inline in heading.front


def test_block_id_right_after_an_embed_is_hidden(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Pic.md": "# Pic\n![[icon.png]]^fig\n", "Use.md": (
        "# Use\n![[Pic#^fig]]\n")})
    assert "^fig" not in _back(result, "Pic.md › Pic")
    assert '<img alt="icon.png" src="icon-' in _back(result, "Pic.md › Pic")
    assert '<p class="transclusion-source">Pic › ^fig</p>' in _back(result, "Use.md › Use")
    assert result.diagnostics == []


# --- block embeds -----------------------------------------------------------------------------


def test_callout_and_list_continuation_block_embeds_are_filled(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Src.md": (
        "# Src\n> [!note] Ending\n> body one ^end\n\n> [!tip] After\n> body two\n\n^after\n\n"
        "> [!warning] Quoted\n> body three\n> ^quoted\n\n- item one\n  continued ^cont\n"
        "- item two\n"), "Use.md": (
        "# Use\nThe blocks of Src, embedded.\n\n![[Src#^end]]\n\n![[Src#^after]]\n\n"
        "![[Src#^quoted]]\n\n![[Src#^cont]]\n")})
    back = _back(result, "Use.md › Use")
    for kind, title, body in (("note", "Ending", "body one"), ("tip", "After", "body two"),
                              ("warning", "Quoted", "body three")):
        assert (f'<div class="callout callout-{kind}">\n<div class="callout-title">{title}</div>'
                f"\n<p>{body}</p>\n</div>") in back
    assert "<li>item one<br>\n    continued</li>" in back and "item two" not in back
    assert "^" not in back.replace("› ^", "")
    assert "<br>\n</p>" not in _back(result, "Src.md › Src")
    assert result.diagnostics == []


def test_block_embed_that_cannot_be_filled_is_a_warning(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Src.md": "^lonely\n\n# Src\ntext\n", "Use.md": (
        "# Use\nsome text\n![[Src#^lonely]]\n")})
    assert [d.format() for d in result.diagnostics] == [
        "Use.md:3:1: warning: 'Src › ^lonely' names no block that can be shown; shown as a "
        "link [empty-block]"]
    assert "Src › ^lonely" in _back(result, "Use.md › Use")


# --- code ------------------------------------------------------------------------------------


def test_no_diagnostic_is_placed_on_a_code_example(tmp_path: Path) -> None:
    result = _export(tmp_path, {"Code.md": (
        "# Code\n```\n![[missing.png]]\n```\n> [!note] x\n> ```\n> ![[gone.mp3]]\n> ```\n\n"
        "para\n\n    ![[missing.png]]\n\n"
        "- item\n  ```\n  [[Src#^nope]]\n  ```\n- `![[missing.png]]` and `![[gone.mp3]]`\n\n"
        "Real ![[missing.png]], ![[gone.mp3]] and [[Src#^nope]] here.\n"),
        "Src.md": "# Src\ntext\n"})
    assert sorted(_found(result)) == [("Code.md", 20, "warning", code) for code in (
        "missing-audio", "missing-block", "missing-image")]
