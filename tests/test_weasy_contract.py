"""The contract of exporter/weasy.py with WeasyPrint: each internal it uses, exercised on a tiny
document, so an upgrade that changes one fails the test named after it."""

from __future__ import annotations

import io
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pdfplumber
import pytest
from packaging.requirements import Requirement
from PIL import Image
from pypdf import PdfReader

from exporter.sheet import weasy
from exporter.sheet.sheet_html import MEDIA_BASE

ROOT = Path(__file__).resolve().parents[1]
RED = (1, 0, 0)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 128, 255)).save(out, format="PNG")
    return out.getvalue()


class _Served:
    """A fetch function that serves one image and records every URL asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, url: str) -> weasy.Resource:
        self.asked.append(url)
        if url != MEDIA_BASE + "dot.png":
            raise ValueError(f"refused to fetch {url!r}")
        return weasy.Resource(url, _png(40, 20), "image/png")


STYLE = """<style>
@page { size: 200px 300px; margin: 20px; @top-center { content: "head" } }
body { margin: 0; font: 10px "DejaVu Sans" }
td { padding: 3px; border: 1px solid black }
img { margin-bottom: 5px }
.band { background: rgb(255, 0, 0); height: 40px }
</style>"""
BODY = """<section data-block="7"><h1 id="top">Title</h1><p>One line.</p>
<table><tr><td>cell</td></tr></table>
<img data-img="3" src="dot.png"><img alt="refused" src="https://example.com/x.png">
<div class="band"></div><a href="#top">back</a></section>"""


def _render(body: str = BODY, style: str = STYLE) -> weasy.Document:
    return weasy.render(f"<html><head>{style}</head><body>{body}</body></html>", MEDIA_BASE,
                        _Served(), weasy.new_fonts())


def _walk(box: weasy.Box) -> Iterator[weasy.Box]:
    yield box
    for child in box.children:
        yield from _walk(child)


def test_supported_versions_are_the_pinned_ones_and_include_the_installed_one() -> None:
    import weasyprint

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pin = Requirement(next(d for d in project["project"]["dependencies"]
                           if d.startswith("weasyprint")))
    allowed = [major for major in range(40, 100) if pin.specifier.contains(f"{major}.9")]
    assert allowed == list(weasy.SUPPORTED)
    assert weasy.supported() and pin.specifier.contains(weasyprint.__version__)
    assert not weasy.supported(f"{min(allowed) - 1}.0")
    assert not weasy.supported(f"{max(allowed) + 1}.0")
    assert weasy.major("68.1") == 68


def test_render_reads_urls_through_the_fetch_function_alone() -> None:
    fetch = _Served()
    document = weasy.render(f"<html><body>{BODY}</body></html>", MEDIA_BASE, fetch,
                            weasy.new_fonts())
    assert fetch.asked == [MEDIA_BASE + "dot.png", "https://example.com/x.png"]
    images = [b for p in document.pages for b in _walk(weasy.page_box(p)) if b.tag == "img"]
    served = [b for b in images if b.attr("data-img") == "3"]
    assert served and served[0].is_ink and served[0].height == 20  # the PNG's own size
    refused = [b for b in images if b.attr("alt") == "refused"]
    assert refused and not refused[0].is_ink  # its alt text is shown instead


def test_url_fetcher_takes_the_form_this_weasyprint_expects() -> None:
    import weasyprint
    from weasyprint.urls import fetch

    fetcher = weasy.url_fetcher(_Served())
    with fetch(fetcher, MEDIA_BASE + "dot.png") as resource:
        if hasattr(weasyprint, "URLFetcher"):  # 68 on: a response object
            assert isinstance(fetcher, weasyprint.URLFetcher)
            assert resource.read() == _png(40, 20) and resource.content_type == "image/png"
        else:  # before 68: a dict
            assert resource["string"] == _png(40, 20) and resource["mime_type"] == "image/png"


def test_page_box_shows_margin_boxes_and_content() -> None:
    page = _render().pages[0]
    root = weasy.page_box(page)
    assert root.content_top == 20 and root.height == 260  # the @page margin and size
    assert any(child.is_margin for child in root.children)  # @top-center
    content = [child for child in root.children if not child.is_margin]
    assert len(content) == 1 and content[0].tag == "html"
    assert page.width == 200


def test_box_attributes_the_layout_checks_read() -> None:
    boxes = list(_walk(weasy.page_box(_render().pages[0])))
    section = next(b for b in boxes if b.tag == "section")
    assert section.attr("data-block") == "7" and section.attr("missing") is None
    assert section.margin_height > 0 and section.margin_width == 160
    cell = next(b for b in boxes if b.is_cell)
    assert cell.tag == "td" and cell.padding_bottom == 3 and cell.border_bottom == 1
    # where pagenums.py prints a page number over an empty cell: its content box and font
    assert cell.content_left == 20 + 2 + 1 + 3 and cell.content_top > cell.top  # 2: spacing
    assert 0 < cell.width < 160 and cell.font_size == 10
    lines = [b for b in boxes if b.is_ink and b.tag != "img"]
    assert lines and all(b.border_height > 0 for b in lines)
    image = next(b for b in boxes if b.attr("data-img") == "3")
    assert image.margin_bottom == 5 and image.border_height == 20 and image.top > 20
    assert not any(b.is_margin for b in _walk(section))


def test_place_moves_boxes_backgrounds_and_anchors_onto_another_page(tmp_path: Path) -> None:
    column = _render('<div class="band"></div><h1 id="top">Title</h1><a href="#top">back</a>',
                     STYLE.replace("200px 300px; margin: 20px", "100px 160px; margin: 0"))
    frame = _render("", STYLE.replace("200px 300px; margin: 20px", "400px 240px; margin: 0"))
    printed = frame.pages[0]
    weasy.place(printed, column.pages[0], 200, 40)
    page = weasy.new_page(printed)
    # The anchor, bookmark and link are gathered at their new place: moved by 200, 40.
    x, y = page.anchors["top"][:2]
    assert x == 200 and y > 80  # below the 40px band
    assert [(level, label, target) for level, label, target, *_ in page.bookmarks] == [
        (1, "Title", (x, y))]
    assert [(kind, target, area[0]) for kind, target, area, *_ in page.links] == [
        ("internal", "top", 200)]
    target = tmp_path / "placed.pdf"
    weasy.write_pdf(frame, target, b"0" * 32, [page])
    with pdfplumber.open(target) as pdf:
        assert len(pdf.pages) == 1 and pdf.pages[0].width == 300  # 400px in points
        red = [r for r in pdf.pages[0].rects
               if tuple(r.get("non_stroking_color") or ()) == RED]
    # The background was computed again for the band's new place: 200, 40 px = 150, 30 pt.
    assert [(round(r["x0"]), round(r["top"]), round(r["width"])) for r in red] == [(150, 30, 75)]


def test_write_pdf_is_byte_identical_and_carries_the_identifier(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fontTools.misc import timeTools
    from weasyprint.pdf import fonts

    # The fontTools path (no HarfBuzz subsetter) with a clock that moves between the writes:
    # the seam itself keeps the clock out of the bytes.
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    outputs = []
    for name, now in (("one", 1_800_000_000.0), ("two", 1_900_000_000.0)):
        monkeypatch.setattr(timeTools, "time", SimpleNamespace(time=lambda now=now: now))
        target = tmp_path / f"{name}.pdf"
        document = _render()
        weasy.write_pdf(document, target, b"a" * 32)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    ids = PdfReader(tmp_path / "one.pdf").trailer["/ID"]
    assert bytes(ids[0].original_bytes if hasattr(ids[0], "original_bytes") else ids[0]) \
        == b"a" * 32


def test_write_pdf_subsets_every_font_with_fonttools_and_hushes_the_advice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from fontTools import subset
    from weasyprint.pdf import fonts

    # The switch WeasyPrint reads: the HarfBuzz subsetter, or None on a machine without it.
    assert hasattr(fonts, "harfbuzz_subset")
    before = fonts.harfbuzz_subset
    subsets: list[str] = []
    original = subset.Subsetter.subset
    monkeypatch.setattr(subset.Subsetter, "subset", lambda self, font: (
        subsets.append(font["name"].getDebugName(1) or ""), original(self, font))[1])
    weasy.write_pdf(_render(), tmp_path / "one.pdf", b"a" * 32)
    assert "DejaVu Sans" in subsets  # by fontTools, HarfBuzz-Subset installed or not
    assert fonts.harfbuzz_subset is before  # put back as it was
    assert "HarfBuzz" not in caplog.text


@pytest.mark.parametrize("version", ["0.42", "1.0"])
def test_old_numbering_is_not_supported(version: str) -> None:
    assert not weasy.supported(version)


def test_ci_runs_the_seam_against_the_oldest_and_newest_allowed_release() -> None:
    """WeasyPrint and pypdf: the oldest together, then the newest together."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    step = script.split("OLDEST=", 1)[1].split("apt-get remove", 1)[0]
    assert 'for pair in "weasyprint==$OLDEST|pypdf==$PYPDF_OLDEST" "$PIN|$PYPDF_PIN"; do' in step
    assert '"${pair%%|*}" "${pair##*|}"' in step  # both halves of each pair are installed
    assert "tests/test_weasy_contract.py" in step and "tests/test_layout.py" in step
    assert "tests/test_sheet_chunks.py" in step  # the join with pypdf


def test_take_marks_reads_links_anchors_and_bookmarks_and_leaves_no_link() -> None:
    body = BODY.replace('<a href="#top">back</a>',
                        '<a href="#top">back</a> <a href="https://example.com/">web</a> '
                        '<a href="#elsewhere">gone</a>')
    page = _render(body).pages[0]
    marks = weasy.take_marks(page)
    assert [(kind, target) for kind, target, *_ in marks.links] == [
        ("internal", "top"), ("external", "https://example.com/"), ("internal", "elsewhere")]
    assert all(x1 < x2 and y1 < y2 for *_, x1, y1, x2, y2 in marks.links)
    assert [name for name, _, _ in marks.anchors] == ["top"] == weasy.anchor_names(page)
    ((level, label, x, y, is_open),) = marks.bookmarks
    assert (level, label, is_open) == (1, "Title", True) and 0 < x < 200 and 0 < y < 300
    assert page.links == []  # a link to an anchor elsewhere is no error when written
