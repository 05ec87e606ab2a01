"""The cheat sheet's layout, read back from the PDF: columns, blocks, tables, options, glyphs."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from exporter.app.pipeline import Config, Result, export
from exporter.core.config import SheetOptions
from exporter.sheet.sheet_html import geometry

from .conftest import EPOCH, write_note

PX = 72 / 96  # PDF points per CSS pixel


def _export(notes: Path, out: Path, **options: object) -> Result:
    config = Config(notes_dir=notes, asset_dirs=[], out_dir=out, deck_name="Sheet",
                    write_anki=False, epoch=EPOCH, **options)  # type: ignore[arg-type]
    return export(config)


def _words(pdf_path: Path) -> list[dict[str, object]]:
    out = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages):
            for word in page.extract_words():
                out.append({**word, "page": number, "width": page.width})
    return out


def _column(word: dict[str, object], options: SheetOptions) -> int:
    g = geometry(options)
    x = float(word["x0"]) / PX + 1  # type: ignore[arg-type]
    return min(range(g.columns), key=lambda i: abs(g.column_x(i) - x) if x >= g.column_x(i)
               else 1e9)


def _sections(count: int, tall: int | None = None) -> str:
    parts = []
    for i in range(count):
        items = 160 if i == tall else 3 + (i * 7) % 25
        bullets = "\n".join(f"- point {j} of section {i}" for j in range(1, items - 1))
        parts.append(f"# Heading{i}\n- s{i}first opens\n{bullets}\n- s{i}last closes\n")
    return "\n".join(parts)


def test_sections_continue_in_the_next_column_under_their_heading(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "Many.md", _sections(30, tall=7))
    _export(tmp_path / "notes", tmp_path / "dist")
    words = _words(tmp_path / "dist" / "sheet.pdf")
    options = SheetOptions(title="", source="", date=dt.date(2026, 1, 1))
    title = next(w for w in words if w["text"] == "Many")  # the note's title bar
    # the "At a glance" table above the title repeats each section's first bullet: skip it
    body = [w for w in words if not (w["page"] == 0 and _column(w, options) == 0
                                     and float(w["top"]) < float(title["top"]))]  # type: ignore[arg-type]
    where: dict[str, tuple[object, int, object]] = {}
    body.sort(key=lambda w: (w["page"], _column(w, options), w["top"]))  # reading order
    for w in body:  # the first place each word appears ("HeadingN (cont.)" repeats later)
        where.setdefault(str(w["text"]), (w["page"], _column(w, options), w["top"]))
    text = " ".join(str(w["text"]) for w in words)
    order = [where[f"Heading{i}"][:2] for i in range(30)]
    assert order == sorted(order), "the sections keep the note's order"  # type: ignore[type-var]
    for i in range(30):
        first, last, heading = where[f"s{i}first"], where[f"s{i}last"], where[f"Heading{i}"]
        assert heading[:2] == first[:2], f"heading {i} left alone at the bottom of a column"
        if first[:2] != last[:2]:  # it continues in the next column under its heading
            assert f"Heading{i} (cont.)" in text, i
    assert where["s7first"][:2] != where["s7last"][:2]
    assert "Heading7 (cont.)" in text


def test_long_table_repeats_its_header_on_every_page(tmp_path: Path) -> None:
    rows = "\n".join(f"| row{i} | val{i} |" for i in range(400))
    write_note(tmp_path / "notes", "T.md", f"# Table\n| Service | Limit |\n|---|---|\n{rows}\n")
    _export(tmp_path / "notes", tmp_path / "dist")
    with pdfplumber.open(tmp_path / "dist" / "sheet.pdf") as pdf:
        assert len(pdf.pages) >= 2
        for page in pdf.pages:
            text = page.extract_text() or ""
            if "row" in text:
                columns_with_rows = text.count("Service Limit")
                assert columns_with_rows >= 1, page.page_number
        second = pdf.pages[1].extract_text() or ""
        assert second.count("Service Limit") == 3  # one header per column
    # rows never split: each row's two cells sit on the same line of the same page
    words = _words(tmp_path / "dist" / "sheet.pdf")
    place = {str(w["text"]): (w["page"], round(float(w["top"]))) for w in words}  # type: ignore[arg-type]
    for i in range(400):
        assert place[f"row{i}"] == place[f"val{i}"], i


def test_wide_table_spans_the_columns(tmp_path: Path) -> None:
    header = "| " + " | ".join(f"Column{i}" for i in range(10)) + " |"
    rule = "|" + "---|" * 10
    row = "| " + " | ".join(f"cell{i} with some words" for i in range(10)) + " |"
    write_note(tmp_path / "notes", "W.md", f"# Before\n- text\n# Wide\n{header}\n{rule}\n{row}\n"
               "# After\n- more text\n")
    _export(tmp_path / "notes", tmp_path / "dist")
    options = SheetOptions(title="", source="", date=dt.date(2026, 1, 1))
    g = geometry(options)
    words = {str(w["text"]): w for w in _words(tmp_path / "dist" / "sheet.pdf")}
    span = float(words["Column9"]["x1"]) - float(words["Column0"]["x0"])  # type: ignore[arg-type]
    assert span > g.column_w * PX * 1.5
    assert float(words["Column9"]["x1"]) <= float(words["Column9"]["width"])  # type: ignore[arg-type]
    # A band across the page (at the bottom of the first, under the title), the columns
    # flowing on around it: on the same page as the text around it, overlapping nothing.
    assert words["Column0"]["page"] == words["Before"]["page"] == words["After"]["page"]
    table = [w for w in _words(tmp_path / "dist" / "sheet.pdf")  # (At a glance shows cell0)
             if str(w["text"]).startswith(("Column", "cell9"))]
    top = min(float(w["top"]) for w in table)  # type: ignore[arg-type]
    bottom = max(float(w["bottom"]) for w in table)  # type: ignore[arg-type]
    for name in ("Before", "After", "text", "more"):
        word = words[name]
        assert float(word["bottom"]) <= top or float(word["top"]) >= bottom, name  # type: ignore[arg-type]


def test_handout_and_letter_paper(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "n.md", _sections(6))
    _export(tmp_path / "notes", tmp_path / "a", layout="handout")
    _export(tmp_path / "notes", tmp_path / "b", paper="letter", columns=4, font_size=7)
    with pdfplumber.open(tmp_path / "a" / "sheet.pdf") as pdf:
        assert (round(pdf.pages[0].width), round(pdf.pages[0].height)) == (595, 842)
        sizes = Counter(round(c["size"], 1) for c in pdf.pages[0].chars)
        assert sizes.most_common(1)[0][0] == 9.5
    with pdfplumber.open(tmp_path / "b" / "sheet.pdf") as pdf:
        assert (round(pdf.pages[0].width), round(pdf.pages[0].height)) == (792, 612)
    g = geometry(SheetOptions(title="", source="", date=dt.date(2026, 1, 1), paper="letter",
                              columns=4))
    assert g.columns == 4


def test_links_between_notes_and_per_note_pdfs(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "Alpha.md", "# One\n- see [[Beta#Two]] and [[Beta]]\n")
    write_note(notes, "sub/Beta.md", "# Two\n- back to [[Alpha#One]]\n")
    _export(notes, tmp_path / "all")
    reader = PdfReader(tmp_path / "all" / "sheet.pdf")
    internal = sum(1 for page in reader.pages for a in page.get("/Annots") or []
                   if a.get_object().get("/Dest") is not None
                   or (a.get_object().get("/A") or {}).get("/S") == "/GoTo")
    assert internal == 3  # three wikilinks; no "At a glance": both notes are bare links
    result = _export(notes, tmp_path / "per", pdf_per="note", write_html=True)
    names = sorted(o.path.relative_to(tmp_path / "per").as_posix() for o in result.outputs)
    assert names == ["sheet/alpha.html", "sheet/alpha.pdf", "sheet/sub-beta.html",
                     "sheet/sub-beta.pdf"]
    alpha = (tmp_path / "per" / "sheet" / "alpha.html").read_text(encoding="utf-8")
    assert 'href="#sub-beta--two"' not in alpha and '<span class="internal">Beta › Two</span>' \
        in alpha
    result = _export(notes, tmp_path / "folder", pdf_per="folder")
    assert sorted(o.path.name for o in result.outputs) == ["sheet.pdf", "sub.pdf"]


def test_user_stylesheet_is_applied_after_ours(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "n.md", "# Red\n- text\n")
    css = tmp_path / "mine.css"
    css.write_text(".sh { color: rgb(255, 0, 0); }", encoding="utf-8")
    _export(tmp_path / "notes", tmp_path / "dist", css=css)
    with pdfplumber.open(tmp_path / "dist" / "sheet.pdf") as pdf:
        colours = {c["non_stroking_color"] for c in pdf.pages[0].chars if c["text"] == "R"}
    assert (1, 0, 0) in colours or (1.0, 0.0, 0.0) in colours


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="needs fontconfig")
def test_accents_arrows_greek_cjk_and_emoji_have_glyphs(tmp_path: Path) -> None:
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True, check=True).stdout
    if "WenQuanYi" not in fonts or "Symbola" not in fonts:
        pytest.skip("needs fonts-wqy-microhei and fonts-symbola (.ci/run installs them)")
    write_note(tmp_path / "notes", "g.md", "# Glyphs\n- café naïve → ⇒ αβγ Δ 日本語 한국어 😀 ✅\n")
    _export(tmp_path / "notes", tmp_path / "dist")
    with pdfplumber.open(tmp_path / "dist" / "sheet.pdf") as pdf:
        chars = {c["text"]: c["fontname"] for c in pdf.pages[0].chars}
    for char in "é→⇒αΔ":
        assert "DejaVu" in chars[char], (char, chars[char])
    for char in "日한":
        assert "WenQuanYi" in chars[char], (char, chars[char])
    assert "DejaVu" not in chars.get("😀", "") and chars.get("😀")


def test_image_sizes_are_honoured_within_the_column(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    png = Path(__file__).parents[1] / "assets" / "Pasted image 20250217143901.png"
    notes.mkdir()
    shutil.copy(png, notes / "d.png")  # 800 x 500 pixels
    write_note(notes, "i.md", "# Small\n![[d.png|120]]\n# Huge\n![[d.png|5000]]\n"
               "# Natural\n![[d.png]]\n")
    _export(notes, tmp_path / "dist")
    g = geometry(SheetOptions(title="", source="", date=dt.date(2026, 1, 1)))
    with pdfplumber.open(tmp_path / "dist" / "sheet.pdf") as pdf:
        images = sorted((round(i["top"]), i["x1"] - i["x0"], i["bottom"] - i["top"])
                        for p in pdf.pages for i in p.images)
    (_, small_w, small_h), (_, huge_w, huge_h), (_, nat_w, nat_h) = images
    assert small_w == pytest.approx(120 * PX, abs=0.5)
    assert small_h == pytest.approx(120 * PX * 500 / 800, abs=0.5)  # aspect ratio kept
    assert huge_w <= g.column_w * PX + 0.5 and huge_h <= g.column_h * 0.24 * PX + 0.5
    assert nat_w <= g.column_w * PX + 0.5 and nat_h <= g.column_h * 0.24 * PX + 0.5


def test_metadata_follows_the_notes(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "n.md", "# A\ntext\n")
    _export(tmp_path / "notes", tmp_path / "dist")
    meta = PdfReader(tmp_path / "dist" / "sheet.pdf").metadata
    assert meta is not None
    assert meta.title == "Sheet"
    assert meta.subject == "notes"
    assert meta.creation_date is not None and meta.creation_date.date() == dt.date(2026, 1, 1)
