"""A large sheet is laid out in chunks, kept in the cache: the same sheet as one layout shows
(text, bookmarks, anchors, links across chunks), byte-identical warm and cold, and an edit lays
out only its chunk again."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from exporter.app.pipeline import Config, export
from exporter.cache import cachestore, codedigest
from exporter.core.model import Progress
from exporter.sheet import sheet_chunks
from exporter.sheet.flow import Flow

from .conftest import SAMPLE_ASSETS, write_note

IMAGE = "Pasted image 20250217143901.png"
CHUNKS = re.compile(r"(\d+) of (\d+) chunks taken from the cache")


def _vault(root: Path) -> Path:
    """Nine notes in three folders, linking across them, with a table and an image each."""
    notes = root / "notes"
    names = [f"{topic} {n}" for topic in ("Compute", "Storage", "Network") for n in range(3)]
    for index, name in enumerate(names):
        other = names[(index + 4) % len(names)]
        text = "\n".join([
            f"# {name}", f"- {name} = the service number {index}",
            f"- see [[{other}]] and [[{other}#Limits]]", "", "## Limits",
            *(f"- limit {i} of {name}: words to fill the column {'and more ' * 6}"
              for i in range(12)),
            "", f"![[{IMAGE}]]", "", "## Comparison", "| A | B |", "| --- | --- |",
            *(f"| {name} {i} | value {i} |" for i in range(4)), ""])
        write_note(notes / name.split()[0], f"{name}.md", text)
    (root / "assets").mkdir(exist_ok=True)
    shutil.copy(SAMPLE_ASSETS / IMAGE, root / "assets" / IMAGE)
    return root


def _build(root: Path, out: str = "dist", progress: Progress | None = None) -> Path:
    config = Config(notes_dir=root / "notes", asset_dirs=[root / "assets"], out_dir=root / out,
                    write_anki=False, epoch=1_767_225_600)
    export(config, progress)
    return root / out / "notes.pdf"


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of three notes (the real ones hold about 24)."""
    monkeypatch.setattr(sheet_chunks, "EVERY", 1)
    monkeypatch.setattr(sheet_chunks, "MIN_NOTES", 3)
    monkeypatch.setattr(sheet_chunks, "WHOLE_UP_TO", 0)


def _outline(reader: PdfReader, items: list[object] | None = None) -> list[object]:
    items = reader.outline if items is None else items
    return [_outline(reader, item) if isinstance(item, list) else item.title  # type: ignore[attr-defined]
            for item in items]


def _links(reader: PdfReader) -> list[str]:
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            found.append(str(annotation.get("/Dest") or annotation["/A"]["/URI"]))
    return found


def _png(pdf: Path) -> Image.Image:
    """The first page, rendered."""
    run = subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile",
                          str(pdf), str(pdf.with_suffix(""))], check=True, capture_output=True)
    assert not run.stderr  # poppler names any syntax error it meets
    return Image.open(pdf.with_suffix(".png")).convert("RGB")


def _text(reader: PdfReader) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_chunks_show_what_one_layout_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    root = _vault(tmp_path)
    whole = PdfReader(_build(root, "whole"))
    monkeypatch.setattr(sheet_chunks, "EVERY", 1)
    monkeypatch.setattr(sheet_chunks, "MIN_NOTES", 3)
    monkeypatch.setattr(sheet_chunks, "WHOLE_UP_TO", 0)
    said: list[tuple[str, int, int]] = []
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.sheet_chunks"):
        parts = PdfReader(_build(root, "parts", lambda *line: said.append(line)))
    assert CHUNKS.search(caplog.text).groups() == ("0", "3")  # type: ignore[union-attr]
    chunks = [line for line in said if line[0] == "sheet chunks laid out"]
    assert chunks[0][1:] == (0, 3) and chunks[-1][1:] == (3, 3)  # a long sheet shows progress
    assert _outline(parts) == _outline(whole)
    assert set(parts.named_destinations) == set(whole.named_destinations)
    assert sorted(_links(parts)) == sorted(_links(whole))  # links into other chunks too
    text = _text(parts)
    for name in ("Compute 0", "Network 2", "Storage 1", "limit 11 of Network 2"):
        assert name in text
    titles = [m.group(0) for m in re.finditer(r"(Compute|Storage|Network) \d =", text)]
    assert titles == [m.group(0) for m in re.finditer(r"(Compute|Storage|Network) \d =",
                                                      _text(whole))]
    # every chunk starts a column: the sheet may take a page more, never fewer
    assert len(whole.pages) <= len(parts.pages) <= len(whole.pages) + 1
    if shutil.which("pdftoppm"):  # the first page lies inside the first chunk: the same page
        parts_png, whole_png = (_png(root / out / "notes.pdf") for out in ("parts", "whole"))
        difference = ImageChops.difference(parts_png, whole_png).convert("L")
        assert ImageStat.Stat(difference).mean[0] < 0.5  # anti-aliasing at other offsets
        assert difference.getextrema()[1] < 128  # no line moved

    monkeypatch.setattr(sheet_chunks.os, "cpu_count", lambda: 1)  # one process, same bytes
    assert _build(root, "serial").read_bytes() == (root / "parts" / "notes.pdf").read_bytes()


def _sheet_cache(out: Path) -> None:
    """Forget the finished sheet (kept whole when nothing changed): only chunks remain."""
    shutil.rmtree(cachestore.folder_of(cachestore.root_of(out), cachestore.SHEETS),
                  ignore_errors=True)


def _chunk_folder(out: Path) -> Path:
    """The folder of the one sheet's chunks."""
    return next(cachestore.folder_of(cachestore.root_of(out), cachestore.CHUNKS).iterdir())


def _chunk_entries(folder: Path) -> list[Path]:
    """The entries of laid-out chunks (a header of JSON), not the frame's (a PDF)."""
    return [path for path in sorted(folder.iterdir())
            if path.read_bytes().partition(b"\n")[2].startswith(b"{")]


@pytest.mark.usefixtures("chunked")
def test_warm_and_edited_sheets_equal_cold_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    root = _vault(tmp_path)
    cold = _build(root).read_bytes()
    _sheet_cache(root / "dist")
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.sheet_chunks"):
        assert _build(root).read_bytes() == cold
    assert CHUNKS.search(caplog.text).groups() == ("3", "3")  # type: ignore[union-attr]

    note = root / "notes" / "Storage" / "Storage 1.md"
    note.write_text(note.read_text().replace("limit 3 of", "a reworded limit 3 of"))
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.sheet_chunks"):
        edited = _build(root).read_bytes()
    assert CHUNKS.search(caplog.text).groups() == ("2", "3")  # type: ignore[union-attr]
    assert edited == _build(root, "fresh").read_bytes()
    assert "a reworded limit 3 of" in _text(PdfReader(root / "dist" / "notes.pdf"))
    kept = _chunk_entries(_chunk_folder(root / "dist"))
    assert len(kept) == 3  # the chunk the edit replaced is gone
    assert len(list(_chunk_folder(root / "dist").iterdir())) == 4  # and the frame

    monkeypatch.setattr(codedigest, "source_digest", lambda: "another version")
    _sheet_cache(root / "dist")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.sheet_chunks"):
        assert _build(root).read_bytes() == edited  # the same layout, made again
    assert CHUNKS.search(caplog.text).groups() == ("0", "3")  # type: ignore[union-attr]


@pytest.mark.usefixtures("chunked")
def test_a_tampered_chunk_cache_is_laid_out_again(tmp_path: Path) -> None:
    root = _vault(tmp_path)
    cold = _build(root).read_bytes()
    folder = _chunk_folder(root / "dist")
    first, second, third = _chunk_entries(folder)
    first.write_bytes(first.read_bytes().replace(b'"width":', b'"width": ', 1))  # signature
    head = second.read_bytes().split(b"\n", 2)
    second.write_bytes(b"\n".join(head[:2]) + b"\n%PDF-1.7 forged")  # bytes it did not sign
    third.unlink()
    _sheet_cache(root / "dist")
    assert _build(root).read_bytes() == cold

    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)  # a planted link is never followed
    _sheet_cache(root / "dist")
    assert _build(root).read_bytes() == cold
    assert not any(outside.iterdir())
    assert folder.is_dir() and not folder.is_symlink()

    top = folder.parent  # the folder of every sheet's chunks, linked away: never written through
    shutil.rmtree(top)
    top.symlink_to(outside, target_is_directory=True)
    _sheet_cache(root / "dist")
    assert _build(root).read_bytes() == cold
    assert not any(outside.iterdir())
    assert top.is_dir() and not top.is_symlink()

    shutil.rmtree(root / "dist" / ".notes-export-cache")  # deleting the cache is always safe
    assert _build(root).read_bytes() == cold


@pytest.mark.usefixtures("chunked")
def test_a_chunk_entry_swapped_with_another_keys_is_laid_out_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each entry is signed with its own name: a real entry copied under another chunk's name
    is refused, and the sheet keeps its order."""
    root = _vault(tmp_path)
    cold = _build(root).read_bytes()
    folder = _chunk_folder(root / "dist")
    first, second, _ = _chunk_entries(folder)
    swap = folder / "swap"
    first.rename(swap)
    second.rename(first)
    swap.rename(second)
    _sheet_cache(root / "dist")
    with caplog.at_level(logging.DEBUG, logger="exporter.sheet.sheet_chunks"), \
            caplog.at_level(logging.DEBUG, logger="exporter.cache.cachestore"):
        assert _build(root).read_bytes() == cold
    assert CHUNKS.search(caplog.text).groups() == ("1", "3")  # type: ignore[union-attr]
    assert caplog.text.count("bad signature") == 2


@pytest.mark.usefixtures("chunked")
def test_a_note_that_breaks_the_layout_is_looked_for_in_its_chunk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _vault(tmp_path)
    note = root / "notes" / "Storage" / "Storage 1.md"
    note.write_text(note.read_text() + "\nCRASH-ME\n")
    alone: set[str] = set()
    real = Flow.lay_out

    def fragile(self: Flow, *args: object, **kwargs: object) -> object:
        if any("CRASH-ME" in s.html for n in self.vault.notes for s in n.sections):
            raise ZeroDivisionError("layout bug")
        if len(self.vault.notes) == 1:
            alone.add(self.vault.notes[0].relpath)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Flow, "lay_out", fragile)
    result = export(Config(notes_dir=root / "notes", asset_dirs=[root / "assets"],
                           out_dir=root / "dist", write_anki=False, epoch=1_767_225_600))
    failed = [d for d in result.diagnostics if d.code == "pdf-failed"]
    assert [(d.path, d.severity) for d in failed] == [("Storage/Storage 1.md", "error")]
    assert "ZeroDivisionError: layout bug" in failed[0].message
    assert alone == {"Storage/Storage 0.md", "Storage/Storage 2.md"}  # its chunk, not all nine
    text = _text(PdfReader(root / "dist" / "notes.pdf"))
    assert "limit 3 of Storage 0" in text and "limit 3 of Storage 1" not in text
