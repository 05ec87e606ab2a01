"""A vault read as Obsidian reads it: Excalidraw drawings, the templates folder, Bases, and
where an embedded image is found."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from exporter.app.pipeline import Config, Result, check, export

from .conftest import EPOCH, ROOT, write_note

KEPANO = ROOT.parent / "shared" / "corpus" / "kepano-vault"
BASE64 = "N4KAkARALgRg9gWwKYCcoFcA2AlgCYBOuA7gMYC2aA"
DRAWING = f"""---
excalidraw-plugin: parsed
tags: [excalidraw]
---
==⚠  Switch to EXCALIDRAW VIEW in the MORE OPTIONS menu of this document. ⚠==

# Excalidraw Data
## Text Elements
Hello drawing ^x1y2z3

%%
## Drawing
```compressed-json
{BASE64 * 20}
```
%%
"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" ' \
      'height="10" fill="red"/></svg>'


def run(notes: Path, assets: list[Path] | None = None) -> Result:
    return check(Config(notes_dir=notes, asset_dirs=assets or []))


def backs(result: Result) -> dict[str, str]:
    return {re.sub(r"<[^>]+>", "", c.front): c.back for c in result.cards}


def image(path: Path, colour: bytes = b"\x00") -> None:
    """A tiny real PNG whose bytes differ by ``colour``."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00" + colour * 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2,
                                                                        0, 0, 0))
                     + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def media_of(result: Result, back: str) -> list[Path]:
    """The files a card back's images are, through the deck's media names."""
    names = re.findall(r'<img[^>]*src="([^"]+)"', back)
    return [result.vault.assets[name].path for name in names]


# --- Excalidraw -------------------------------------------------------------------------------


def test_drawing_note_is_never_exported(tmp_path: Path) -> None:
    write_note(tmp_path, "Drawing.excalidraw.md", DRAWING)
    write_note(tmp_path, "Note.md", "# Plan\nSee the sketch.\n")
    result = run(tmp_path)
    assert [n.relpath for n in result.vault.notes] == ["Note.md"]
    assert all(BASE64 not in c.back and "Excalidraw" not in c.front for c in result.cards)


def test_drawing_embed_shows_the_exported_image(tmp_path: Path) -> None:
    write_note(tmp_path, "Art/Drawing.excalidraw.md", DRAWING)
    (tmp_path / "Art" / "Drawing.excalidraw.svg").write_text(SVG, encoding="utf-8")
    write_note(tmp_path, "Note.md", "# Full name\n![[Drawing.excalidraw]]\n\n# Short name\n"
               "![[Drawing|300]]\n\n# In code\n`![[Drawing]]` is how\n%% ![[Nope.excalidraw]]\n"
               "![[Views.base]] %%\n")
    result = run(tmp_path)
    cards = backs(result)
    for front in ("Full name", "Short name"):
        assert media_of(result, cards[front]) == [(tmp_path / "Art" /
                                                   "Drawing.excalidraw.svg").resolve()]
    assert 'width="300"' in cards["Short name"]
    assert "<code>![[Drawing]]</code>" in cards["In code"]
    assert result.diagnostics == []


def test_drawing_exported_as_png(tmp_path: Path) -> None:
    write_note(tmp_path, "Map.excalidraw.md", DRAWING)
    image(tmp_path / "Map.excalidraw.png")
    write_note(tmp_path, "Note.md", "# Where\n![[Map.excalidraw]]\n")
    result = run(tmp_path)
    assert media_of(result, backs(result)["Where"]) == [
        (tmp_path / "Map.excalidraw.png").resolve()]


def test_a_note_of_the_short_name_wins(tmp_path: Path) -> None:
    write_note(tmp_path, "Plan.excalidraw.md", DRAWING)
    write_note(tmp_path, "Plan.md", "# Goals\nShip it.\n")
    # (text of its own: a section of only an embedded note makes no card, cards.py)
    write_note(tmp_path, "Note.md", "# Embeds\nThe plan, as written today:\n![[Plan]]\n")
    result = run(tmp_path)
    assert "Ship it." in backs(result)["Embeds"]
    assert result.diagnostics == []


def test_drawing_without_export_is_a_placeholder_and_a_notice(tmp_path: Path) -> None:
    write_note(tmp_path, "Sketch.excalidraw.md", DRAWING)
    write_note(tmp_path, "Note.md", "# Plan\nAs drawn: ![[Sketch.excalidraw]]\n")
    result = run(tmp_path)
    assert backs(result)["Plan"] == ('<p>As drawn: <span class="missing-image">Drawing not '
                                     'exported: Sketch.excalidraw</span></p>')
    assert [(d.path, d.line, d.col, d.severity, d.code) for d in result.diagnostics] == [
        ("Note.md", 2, 11, "notice", "drawing-not-exported")]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_drawing_data_never_reaches_the_pdf(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "Sketch.excalidraw.md", DRAWING)
    write_note(notes, "Note.md", "# Plan\n![[Sketch]]\n")
    export(Config(notes_dir=notes, asset_dirs=[], out_dir=tmp_path / "out", write_anki=False,
                  deck_name="T", epoch=EPOCH))
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "t.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Drawing not exported: Sketch" in text
    assert BASE64[:20] not in text and "Excalidraw Data" not in text


# --- templates and Bases ------------------------------------------------------------------------


def test_templates_folders_are_not_exported(tmp_path: Path) -> None:
    (tmp_path / ".obsidian" / "plugins" / "templater-obsidian").mkdir(parents=True)
    (tmp_path / ".obsidian" / "templates.json").write_text('{"folder": "Templates"}')
    (tmp_path / ".obsidian" / "plugins" / "templater-obsidian" / "data.json").write_text(
        json.dumps({"templates_folder": "Meta/Tpl"}))
    write_note(tmp_path, "Templates/Daily.md", "# {{date}}\n- Mood::\n")
    write_note(tmp_path, "Meta/Tpl/Book.md", "# <% tp.file.title %>\nAuthor::\n")
    write_note(tmp_path, "Meta/Other.md", "# Kept\nText\n")
    write_note(tmp_path, "Templates.md", "# Also kept\nA note named like the folder.\n")
    result = run(tmp_path)
    assert sorted(n.relpath for n in result.vault.notes) == ["Meta/Other.md", "Templates.md"]


def test_template_placeholders_are_not_clozes(tmp_path: Path) -> None:
    settings = tmp_path / ".obsidian" / "plugins" / "obsidian-spaced-repetition"
    settings.mkdir(parents=True)
    (settings / "data.json").write_text(json.dumps({"settings": {
        "convertCurlyBracketsToClozes": True, "flashcardTags": ["#cards"]}}))
    write_note(tmp_path, "N.md", "#cards\n# Log\nCreated {{date:YYYY-MM-DD}} at {{time}}.\n"
               "Capital of France is {{Paris}}.\n")
    result = run(tmp_path)
    # the card is the paragraph, as the plugin makes it; the placeholders stay text
    assert [c.front for c in result.cards if c.model == "cloze"] == [
        "Created {{date:YYYY-MM-DD}} at {{time}}.<br>\nCapital of France is {{c1::Paris}}."]


def test_base_embed_is_a_link_with_a_notice(tmp_path: Path) -> None:
    write_note(tmp_path, "Movies.md", "# Directors\nBy director: ![[Movies.base#Director]]\n"
               "\n# All\n![[Movies.base]]\n")
    (tmp_path / "Movies.base").write_text("views: []\n")
    result = run(tmp_path)
    assert backs(result) == {"Directors": '<p>By director: <span class="wikilink base-embed">'
                             'Movies.base › Director</span></p>'}  # "All" has nothing to study
    assert [(d.line, d.col, d.severity, d.code) for d in result.diagnostics] == [
        (2, 14, "notice", "base-embed"), (5, 1, "notice", "base-embed")]


@pytest.mark.skipif(not KEPANO.is_dir(), reason="../shared/corpus/kepano-vault is absent")
def test_kepano_vault_gives_no_card_from_templates() -> None:
    result = run(KEPANO)
    assert not any(n.relpath.startswith("Templates/") for n in result.vault.notes)
    assert not any("Templates/" in c.source for c in result.cards)
    assert not any("{{" in c.front for c in result.cards)


# --- images: beside the note, attachments and assets, then the shortest path ------------------


def test_each_note_gets_its_own_image(tmp_path: Path) -> None:
    notes, assets = tmp_path / "notes", tmp_path / "assets"
    image(notes / "a" / "diagram.png", b"\x10")
    image(notes / "b" / "diagram.png", b"\x20")
    image(assets / "diagram.png", b"\x30")
    write_note(notes, "a/A.md", "# First\n![[diagram.png]]\n")
    write_note(notes, "b/B.md", "# Second\n![](diagram.png)\n")
    write_note(notes, "C.md", "# Third\n![[diagram.png]]\n")
    result = run(notes, [assets])
    cards = backs(result)
    assert media_of(result, cards["First"]) == [(notes / "a" / "diagram.png").resolve()]
    assert media_of(result, cards["Second"]) == [(notes / "b" / "diagram.png").resolve()]
    assert media_of(result, cards["Third"]) == [(assets / "diagram.png").resolve()]
    assert len(set(result.vault.assets)) == 3


def test_attachment_folder_before_assets_before_shortest_path(tmp_path: Path) -> None:
    notes, assets = tmp_path / "notes", tmp_path / "assets"
    (notes / ".obsidian").mkdir(parents=True)
    (notes / ".obsidian" / "app.json").write_text('{"attachmentFolderPath": "Attachments"}')
    for where in ("Attachments/deep/x.png", "z/x.png", "z/y.png", "a/b/c/y.png"):
        image(notes / where)
    image(assets / "x.png")
    image(assets / "w.png")
    image(notes / "far" / "away" / "w.png")
    write_note(notes, "N.md", "# X\n![[x.png]]\n\n# Y\n![[y.png]]\n\n# W\n![[w.png]]\n")
    result = run(notes, [assets])
    cards = backs(result)
    assert media_of(result, cards["X"]) == [(notes / "Attachments/deep/x.png").resolve()]
    assert media_of(result, cards["Y"]) == [(notes / "z/y.png").resolve()]
    assert media_of(result, cards["W"]) == [(assets / "w.png").resolve()]


def test_attachment_folder_beside_each_note(tmp_path: Path) -> None:
    """``./files`` in app.json: a ``files`` folder beside each note (the demo vault's way)."""
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "app.json").write_text('{"attachmentFolderPath": "./files"}')
    image(tmp_path / "Math" / "Ellipse" / "files" / "p.png", b"\x01")
    image(tmp_path / "z" / "p.png", b"\x02")
    write_note(tmp_path, "Math/Ellipse/Ellipse.md", "# Ellipse\n![[p.png]]\n")
    result = run(tmp_path)
    assert media_of(result, backs(result)["Ellipse"]) == [
        (tmp_path / "Math" / "Ellipse" / "files" / "p.png").resolve()]


def test_path_from_the_vault_root_wins(tmp_path: Path) -> None:
    image(tmp_path / "img" / "x.png", b"\x01")
    image(tmp_path / "sub" / "img" / "x.png", b"\x02")
    write_note(tmp_path, "sub/N.md", "# Root\n![[img/x.png]]\n\n# Relative\n![](./img/x.png)\n")
    result = run(tmp_path)
    cards = backs(result)
    assert media_of(result, cards["Root"]) == [(tmp_path / "img" / "x.png").resolve()]
    assert media_of(result, cards["Relative"]) == [(tmp_path / "sub/img/x.png").resolve()]


def test_nul_byte_in_an_image_path_is_not_found(tmp_path: Path) -> None:
    write_note(tmp_path, "N.md", "# A\n![x](a/%00.png) and text\n\n# B\nText\n")
    result = run(tmp_path)
    assert [d.code for d in result.diagnostics] == ["missing-image"]
    assert "and text" in backs(result)["A"] and backs(result)["B"] == "<p>Text</p>"
