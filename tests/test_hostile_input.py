"""Notes and images built to hang, exhaust or crash the export: each gets a diagnostic naming
file and line, the rest is exported, and the run stays small (issue 12, items 9-11, 13, 15,
17). The inputs are built at the size the issue names."""

from __future__ import annotations

import functools
import json
import os
import struct
import zlib
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from exporter.app.pipeline import Result, check, export
from exporter.cli import main
from exporter.core.config import Config

from .conftest import EPOCH, SAMPLE_ASSETS, local_server, write_note

PICTURE = "Pasted image 20250217143901.png"


def _config(tmp_path: Path, **options: object) -> Config:
    return Config(notes_dir=tmp_path / "notes", asset_dirs=[tmp_path / "assets"],
                  out_dir=tmp_path / "dist", deck_name="Hostile", epoch=EPOCH,
                  **options)  # type: ignore[arg-type]


def _found(result: Result) -> list[tuple[str, int, str]]:
    return [(d.path, d.line, d.code) for d in result.diagnostics]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- 9 and 15: images the PDF cannot or must not decode --------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def huge_png(side: int = 30_000) -> bytes:
    """A valid one-bit PNG of ``side``×``side`` white pixels: 100 KB on disk, 900 megapixels
    (and over 100 MB) once decoded."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
            + _png_chunk(b"IEND", b""))


def use_bomb(levels: int = 10, fan: int = 10) -> bytes:
    """An SVG whose ``<use>`` references copy ``fan**levels`` rectangles (10^10 here)."""
    groups = ['<g id="a0"><rect width="1" height="1"/></g>']
    for level in range(1, levels):
        uses = "".join(f'<use href="#a{level - 1}"/>' for _ in range(fan))
        groups.append(f'<g id="a{level}">{uses}</g>')
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><defs>'
            + "".join(groups) + f'</defs><use href="#a{levels - 1}"/></svg>').encode()


BAD_IMAGES = {
    "huge.png": (huge_png, "30000×30000 pixels"),
    "text.png": (lambda: b"just some text, not a picture\n" * 20, "not an image"),
    "page.svg": (lambda: b"<!DOCTYPE html><html><body><p>hi</p></body></html>",
                 "not an SVG (its root element is <html>)"),
    "broken.svg": (lambda: b"<html><body><p>one<br>two</body></html>", "not a well-formed SVG"),
    "bomb.svg": (use_bomb, "<use> references"),
    "outside.svg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><image '
                    b'href="file:///etc/passwd" width="9" height="9"/></svg>', "outside file"),
    "entities.svg": (lambda: b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaa">'
                     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">'
                     b'<text>&b;</text></svg>', "XML entities"),
    "cut.png": (lambda: (SAMPLE_ASSETS / PICTURE).read_bytes()[:300], "damaged"),
}


@pytest.fixture
def bad_images(tmp_path: Path) -> Path:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / PICTURE).write_bytes((SAMPLE_ASSETS / PICTURE).read_bytes())
    for name, (make, _) in BAD_IMAGES.items():
        (assets / name).write_bytes(make())
    lines = ["# Pictures", "A good one:", f"![[{PICTURE}]]"]
    lines += [f"Then {name}: ![[{name}]]" for name in BAD_IMAGES]
    write_note(tmp_path / "notes", "pics.md", "\n".join(lines) + "\n")
    write_note(tmp_path / "notes", "other.md", "# Other\nstill exported\n")
    return tmp_path


def test_undecodable_and_hostile_images_are_left_out_with_a_warning(bad_images: Path) -> None:
    assert len(use_bomb()) < 2_100 and len(huge_png()) < 200_000  # the sizes the issue names
    result = export(_config(bad_images))
    expected = [("pics.md", 4 + n, "bad-image") for n in range(len(BAD_IMAGES))]
    assert _found(result) == expected
    for diagnostic, (name, (_, why)) in zip(result.diagnostics, BAD_IMAGES.items(),
                                            strict=True):
        assert f"image '{name}'" in diagnostic.message and why in diagnostic.message
        assert diagnostic.col > 1
    assert [a.path.name for a in result.vault.assets.values()] == [PICTURE]
    back = next(c.back for c in result.cards if "Pictures" in c.front)
    for name in BAD_IMAGES:
        assert f'<span class="missing-image">Missing image: {name}</span>' in back
    assert any("still exported" in c.back for c in result.cards)
    pdf_path = next(o.path for o in result.outputs if o.path.suffix == ".pdf")
    with pdfplumber.open(pdf_path) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
        assert sum(len(page.images) for page in pdf.pages) == 1
    for name in BAD_IMAGES:
        assert f"Missing image: {name}" in text
    assert "still exported" in text


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_bad_images_are_reported_in_every_format(bad_images: Path, fmt: str) -> None:
    code, out, err = _run("check", str(bad_images / "notes"), "--assets",
                          str(bad_images / "assets"), "--format", fmt)
    assert code == 0, err
    if fmt == "json":
        found = [(d["path"], d["line"], d["code"]) for d in json.loads(out)["diagnostics"]]
    elif fmt == "github":
        found = [(line.split("file=")[1].split(",")[0].rsplit("/", 1)[-1],
                  int(line.split("line=")[1].split(",")[0]), "bad-image")
                 for line in out.splitlines() if line.startswith("::warning")]
    else:
        found = [(line.split(":")[0], int(line.split(":")[1]), line.rsplit("[", 1)[1][:-1])
                 for line in err.splitlines() if ": warning: " in line]
    assert found == [("pics.md", 4 + n, "bad-image") for n in range(len(BAD_IMAGES))]


def test_a_huge_remote_image_stays_a_link(tmp_path: Path) -> None:
    body = huge_png()  # every path serves the 30000×30000 PNG
    with local_server(lambda path: (200, {"Content-Type": "image/png"}, body)) as base:
        write_note(tmp_path / "notes", "r.md", f"# R\ntext\n![big]({base}/big.png)\n")
        result = check(_config(tmp_path, allow_remote=True, allow_private_remote=True))
    assert _found(result) == [("r.md", 3, "remote-image-failed")]
    assert "30000×30000 pixels" in result.diagnostics[0].message
    assert result.vault.assets == {} and 'class="remote-image"' in result.cards[0].back


# --- 10: YAML alias bombs --------------------------------------------------------------------

def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """Billion laughs in front matter: nine levels of nine aliases, about 500 bytes."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * fan) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * fan) + "]")
    lines.append(f"tags: *a{levels - 1}")
    return "---\n" + "\n".join(lines) + "\n---\n"


def test_a_yaml_alias_bomb_is_refused_and_the_note_still_exported(tmp_path: Path) -> None:
    assert len(alias_bomb()) < 600
    write_note(tmp_path / "notes", "bomb.md", alias_bomb() + "# Kept\nthe body is exported\n")
    write_note(tmp_path / "notes", "fine.md", "---\nx: &x {a: 1}\ny: {<<: *x, b: 2}\n"
               "tags: [one]\n---\n# Fine\ntext\n")
    write_note(tmp_path / "notes", "self.md", "---\na: &a [*a]\n---\n# Self\ntext\n")
    result = check(_config(tmp_path))
    assert _found(result) == [("bomb.md", 2, "bad-front-matter"),
                              ("self.md", 2, "bad-front-matter")]
    assert "YAML aliases" in result.diagnostics[0].message
    assert [c.front.split("›")[-1].strip() for c in result.cards] == ["Kept", "Fine", "Self"]
    fine = next(n for n in result.vault.notes if n.relpath == "fine.md")
    assert fine.meta["y"] == {"a": 1, "b": 2} and fine.tags == {"one"}


# --- 11: links to folders already read --------------------------------------------------------

def test_folder_links_neither_multiply_cards_nor_loop(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "a.md", "# A\ntext\n")
    write_note(notes, "sub/b.md", "# B\ntext\n")
    clean = len(check(_config(tmp_path)).cards)
    os.symlink(".", notes / "self")
    os.symlink("..", notes / "sub" / "up")
    os.symlink("loop2", notes / "loop1")
    os.symlink("loop1", notes / "loop2")
    result = check(_config(tmp_path))
    assert len(result.cards) == clean == 2
    assert [n.relpath for n in result.vault.notes] == ["a.md", "sub/b.md"]
    found = sorted((d.path, d.code) for d in result.diagnostics)
    assert found == [("loop1", "skipped-file"), ("loop2", "skipped-file"),
                     ("self", "skipped-file"), ("sub/up", "skipped-file")]
    assert "already read" in next(d.message for d in result.diagnostics if d.path == "self")


def test_a_folder_linked_from_another_is_read_under_its_own_name(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "zz/x.md", "# X\ntext\n")
    (notes / "aa").mkdir()
    os.symlink("../zz", notes / "aa" / "link")
    result = check(_config(tmp_path))
    assert [n.relpath for n in result.vault.notes] == ["zz/x.md"]
    assert _found(result) == [("aa/link", 1, "skipped-file")]


# --- 13: names and encodings ------------------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "ok.md", "# Ok\ntext\n")
    (tmp_path / "assets").mkdir()
    for folder in (notes, tmp_path / "assets"):
        with open(os.fsencode(folder) + b"/caf\xe9.md", "wb") as handle:
            handle.write(b"# Latin-1 name\ntext\n")
    code, out, err = _run("build", str(notes), "--assets", str(tmp_path / "assets"),
                          "--out", str(tmp_path / "dist"), "--no-pdf", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert [(d["path"], d["code"]) for d in document["diagnostics"]] == [
        ("caf\ufffd.md", "skipped-file")]
    assert document["summary"]["cards"] == 1


def test_images_are_found_whether_their_names_are_composed_or_not(tmp_path: Path) -> None:
    nfd, nfc = "Cafe\u0301 diagram.png", "Caf\u00e9 diagram.png"
    picture = (SAMPLE_ASSETS / PICTURE).read_bytes()
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / nfd).write_bytes(picture)  # as macOS writes it
    (tmp_path / "notes" / "pics").mkdir(parents=True)
    (tmp_path / "notes" / "pics" / "R\u00e9sum\u00e9.png").write_bytes(picture)
    write_note(tmp_path / "notes", "n.md", f"# N\n![[{nfc}]]\n![x]({nfc.replace(' ', '%20')})\n"
               "![[Re\u0301sume\u0301.png]]\n![[pics/Re\u0301sume\u0301.png]]\n")
    result = check(_config(tmp_path))
    assert result.diagnostics == []
    assert sorted(a.path.name for a in result.vault.assets.values()) == sorted(
        [nfd, "R\u00e9sum\u00e9.png"])


def test_utf16_notes_are_read_or_reported(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "bom.md").write_bytes("# Windows\nnotes sa\u00e9ved as Unicode\n".encode("utf-16"))
    (notes / "bom-be.md").write_bytes(b"\xfe\xff" + "# Big\nend\n".encode("utf-16-be"))
    (notes / "plain.md").write_bytes("# No mark\ntext\n".encode("utf-16-le"))
    (notes / "binary.md").write_bytes(b"# A\x00\x01\x02\xff binary")
    result = check(_config(tmp_path))
    assert [c.front.split("›")[-1].strip() for c in result.cards] == ["Big", "Windows"]
    assert _found(result) == [("binary.md", 1, "binary-note"), ("plain.md", 1, "not-utf8")]
    assert "UTF-16" in result.diagnostics[1].message and "convert it to UTF-8" in \
        result.diagnostics[1].message


# --- 17: a NUL byte in an image path ----------------------------------------------------------

def test_a_nul_byte_in_an_image_path_is_a_missing_image_not_a_blank_section(
        tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "n.md", "# Section\nbefore\n![x](a/%00.png)\n"
               "![y](%00)\nafter\n")
    result = check(_config(tmp_path))
    assert [(d.line, d.code) for d in result.diagnostics] == [(3, "missing-image"),
                                                            (4, "missing-image")]
    assert "before" in result.cards[0].back and "after" in result.cards[0].back
