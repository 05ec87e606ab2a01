"""Readable everywhere: every colour pair the sheet prints (text, links, code, callouts, tags,
headings, the dark table header, header and footer, page numbers) meets WCAG AA (4.5:1), read
from WeasyPrint's own cascade of the sheet's CSS; images in table cells are icons near the
text's height unless the note sizes them, while a screenshot alone in a list item stays large."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.app.pipeline import Config, load_vault
from exporter.core.config import SheetOptions
from exporter.sheet import pagenums, weasy
from exporter.sheet.columns import VaultFetcher
from exporter.sheet.sheet_html import MEDIA_BASE, build_html, frame_html

from .conftest import SAMPLE_ASSETS, SAMPLE_NOTES, write_note

OPTIONS = SheetOptions(title="Readable", source="notes", date=dt.date(2026, 1, 1))
AA = 4.5
IMAGE = "Pasted image 20250217143901.png"
CALLOUTS = ("note", "tip", "warning", "danger", "example", "quote")
NOTE = "\n".join([
    "# Table", "| [[#Callouts]] `code` #tag ==mark== [web](https://example.com) | [[Other]] |",
    "| --- | --- |", *(f"| [[#Callouts|link]] `code` #tag ==mark== | [[Other]] {i} |"
                       for i in range(4)), "",
    "# Callouts", *(line for kind in CALLOUTS for line in (
        f"> [!{kind}] A {kind} with [[#Table]] and `code`",
        "> Text, [a link](https://example.com), [[Other]], `code`, #tag, ==mark==.", "")),
    "## Second level", "Text with a footnote[^1] and `code`.", "",
    "### Third level", "> a quote with [[#Table]]", "",
    "#### Fourth level", "- [ ] a task", "- [x] done task", "- [-] cancelled task", "",
    "```python", "def f(x: int) -> str:", "    # a comment", "    return f'{x!r}' + \"s\"  "
    "# and a very long line that has to wrap inside its column because it goes on and on", "```",
    "", "[^1]: the footnote, with [[#Table]].", ""])


def _colour(value: Any) -> tuple[float, float, float, float]:
    """A computed colour as sRGB and alpha (tinycss2's Color, or the older RGBA tuple)."""
    if hasattr(value, "to"):
        red, green, blue = value.to("srgb").coordinates
        return red, green, blue, value.alpha
    return value.red, value.green, value.blue, value.alpha


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    def luminance(c: tuple[float, ...]) -> float:
        r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _hex(text: str) -> tuple[float, float, float]:
    text = text.lstrip("#")
    return tuple(int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _pairs(box: Any, ground: tuple[float, ...] = (1, 1, 1, 1)) -> Iterator[tuple[str, Any, Any]]:
    """Each piece of text with its colour and the background it is printed on."""
    background = _colour(box.style["background_color"])
    if background[3] > 0:
        ground = background
    if type(box).__name__ == "TextBox" and box.text.strip():
        yield box.text.strip(), _colour(box.style["color"]), ground
    for child in getattr(box, "children", ()):
        yield from _pairs(child, ground)


def _failures(document: weasy.Document) -> list[str]:
    bad = set()
    for page in document.pages:
        for text, colour, ground in _pairs(weasy.page_box(page).raw):
            ratio = contrast(colour, ground)
            if ratio < AA:
                bad.add(f"{text[:30]!r}: {ratio:.2f}:1 ({colour[:3]} on {ground[:3]})")
    return sorted(bad)


@pytest.fixture
def fixture_vault(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    write_note(notes, "Readable.md", NOTE)
    write_note(notes, "Other.md", "# Other\n- another note, with text.\n")
    shutil.copy(SAMPLE_NOTES / "AWS Other Compute Services.md", notes / "Sample.md")
    return notes


def test_every_colour_pair_the_sheet_prints_meets_aa(fixture_vault: Path) -> None:
    vault = load_vault(Config(notes_dir=fixture_vault, asset_dirs=[SAMPLE_ASSETS]))
    source = build_html(vault, OPTIONS)
    for construct in ('class="callout callout-danger', "<thead>", "<code", 'class="tag"',
                      "<mark>", "highlight", 'class="footnote"', "task-done", 'class="sh d4"'):
        assert construct in source, construct  # the fixture shows what the test reads
    fetcher = VaultFetcher(vault.assets)
    document = weasy.render(source, MEDIA_BASE, fetcher, weasy.new_fonts())
    assert _failures(document) == []
    frame = weasy.render(frame_html(OPTIONS, ["columns"]), MEDIA_BASE, fetcher,
                         weasy.new_fonts())
    assert _failures(frame) == []  # header and footer
    for ground in ("#ffffff", "#eef2f7", "#dbe4f0"):  # At a glance's page numbers on its rows
        assert contrast(_hex(pagenums.COLOR), _hex(ground)) >= AA


def test_links_in_a_dark_table_header_take_its_colour(fixture_vault: Path) -> None:
    vault = load_vault(Config(notes_dir=fixture_vault, asset_dirs=[SAMPLE_ASSETS]))
    document = weasy.render(build_html(vault, OPTIONS), MEDIA_BASE, VaultFetcher(vault.assets),
                            weasy.new_fonts())
    header = []

    def walk(box: Any, inside: bool = False) -> None:
        inside = inside or getattr(box, "element_tag", None) == "thead"
        if inside and type(box).__name__ == "TextBox" and box.text.strip():
            header.append((box.text.strip(), _colour(box.style["color"])))
        for child in getattr(box, "children", ()):
            walk(child, inside)

    for page in document.pages:
        walk(weasy.page_box(page).raw)
    texts = {text for text, _ in header}
    assert {"Callouts", "code", "#tag", "web", "Other"} <= texts
    colours = {colour for text, colour in header if text != "mark"}
    assert colours == {(1.0, 1.0, 1.0, 1.0)}  # all the header's own white


def _images(notes: Path) -> dict[str, tuple[float, float]]:
    """Each image's laid-out width and height (CSS px), by its alt text or file name."""
    vault = load_vault(Config(notes_dir=notes, asset_dirs=[SAMPLE_ASSETS]))
    document = weasy.render(build_html(vault, OPTIONS), MEDIA_BASE, VaultFetcher(vault.assets),
                            weasy.new_fonts())
    found = {}

    def walk(box: Any) -> None:
        if getattr(box, "element_tag", None) == "img" and box.element.get("data-img"):
            found[box.element.get("data-img")] = (box.width, box.height)
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(weasy.page_box(page).raw)
    return found


def test_images_in_cells_are_icons_unless_sized(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "Icons.md", "\n".join([
        "# Icons", "| Service | Icon |", "| --- | --- |", f"| Alone | ![[{IMAGE}]] |",
        f"| In text | the ![[{IMAGE}]] icon |", f"| Sized | ![[{IMAGE}\\|64]] |", "",
        f"- an item with ![[{IMAGE}]] in its line", f"- a sized one ![[{IMAGE}|64]] in a line",
        "- a screenshot under its bullet", f"![[{IMAGE}]]", ""]))
    font = 7.8 * 96 / 72
    sizes = _images(notes)
    assert len(sizes) == 6
    alone, in_text, sized, in_item, sized_item, screenshot = (sizes[str(n)] for n in range(1, 7))
    for icon in (alone, in_text, in_item):
        assert icon[1] <= 1.6 * font + 0.5  # near the text's height
    assert sized[0] == 64 and sized_item[0] == 64  # the note's size, not capped
    assert screenshot[1] > 8 * font  # a screenshot alone in its item is shown as one
