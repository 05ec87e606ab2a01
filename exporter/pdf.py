"""The vault → the cheat sheet's HTML: one flow of blocks, laid out column by column."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from importlib import resources

from .mathsvg import MathImages
from .model import Note, Section, Vault

MM = 96 / 25.4  # CSS pixels per millimetre
PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
LAYOUTS = ("cheatsheet", "handout")
IMAGE_SHARE = 0.24  # an image takes at most this share of a column's height
# Media are addressed under a host that cannot exist, so a relative URL in a note can only ever
# reach the PDF renderer's fetcher, which serves nothing but the vault's own resolved images.
MEDIA_BASE = "https://media.notes-export.invalid/"


@dataclass(frozen=True)
class SheetOptions:
    """What the sheet looks like; ``layout`` picks the defaults the other fields may override."""

    title: str
    source: str
    date: dt.date
    layout: str = "cheatsheet"
    paper: str = "a4"
    orientation: str | None = None
    columns: int | None = None
    font_size: float | None = None
    user_css: str = ""

    def resolved(self) -> SheetOptions:
        """These options with the layout's defaults filled in."""
        handout = self.layout == "handout"
        return replace(
            self,
            orientation=self.orientation or ("portrait" if handout else "landscape"),
            columns=self.columns or (2 if handout else 3),
            font_size=self.font_size or (9.5 if handout else 7.8),
        )


@dataclass(frozen=True)
class Geometry:
    """Page, margins and columns in CSS pixels."""

    page_w: float
    page_h: float
    top: float
    right: float
    bottom: float
    left: float
    gap: float
    columns: int
    cap: float = 4 * MM  # band above each column for "… (cont.)"

    @property
    def content_w(self) -> float:
        return self.page_w - self.left - self.right

    @property
    def column_w(self) -> float:
        return (self.content_w - (self.columns - 1) * self.gap) / self.columns

    @property
    def column_h(self) -> float:
        """Height of one column, the "(cont.)" band included."""
        return self.page_h - self.top - self.bottom

    def column_x(self, index: int) -> float:
        return self.left + index * (self.column_w + self.gap)


def geometry(options: SheetOptions) -> Geometry:
    """Lay out the paper: margins and gap scale with the layout."""
    o = options.resolved()
    short, long = PAPERS[o.paper]
    w, h = (long, short) if o.orientation == "landscape" else (short, long)
    handout = o.layout == "handout"
    m = 14.0 if handout else 8.0
    return Geometry(page_w=w * MM, page_h=h * MM, top=m * MM, right=m * MM,
                    bottom=(m + 3) * MM, left=m * MM, gap=(8 if handout else 5) * MM,
                    columns=o.columns or 1)


@dataclass
class Plan:
    """Which blocks may split (taller than a column) and which span the page (wide tables)."""

    long: set[int] = field(default_factory=set)
    wide: set[int] = field(default_factory=set)


@dataclass
class Content:
    """The sheet's blocks before styling, worked out once per sheet: At a glance, then each
    note's sections (headings without text of their own ride with the next block)."""

    glance: str
    notes: list[tuple[Note, list[tuple[str, str]]]]

    def blocks(self) -> list[tuple[str, str]]:
        """(kind, inner HTML) in document order, after the title block."""
        head = [("glance", self.glance)] if self.glance else []
        return head + [block for _, blocks in self.notes for block in blocks]


def content(vault: Vault) -> Content:
    """What the sheet of ``vault`` shows."""
    return Content(_glance_html(vault), [(n, list(_note_blocks(n))) for n in vault.notes])


def build_html(vault: Vault, options: SheetOptions, plan: Plan | None = None,
               math: MathImages | None = None, shown: Content | None = None) -> str:
    """The sheet's content as one flow of numbered blocks, styled for column-sized pages.

    Formulas become images typeset into ``math`` (kept as MathJax source without it).
    """
    shown = shown or content(vault)
    plan = plan or Plan(long=estimate_long(shown, options))
    o = options.resolved()
    g = geometry(o)
    blocks = _Blocks(plan, _anchors(vault), math)
    blocks.add("sheet-title", _title_html(vault, o))
    if shown.glance:
        blocks.add("glance", shown.glance)
    for note, note_blocks in shown.notes:
        blocks.raw(f'<h2 class="note-title" id="{note.anchor}">{html.escape(note.title)}</h2>')
        for kind, inner in note_blocks:
            blocks.add(kind, inner)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(o.title)}</title>",
        f"<style>{_css(o, g)}</style>",
        f"<style>{_style_text(o.user_css)}</style>" if o.user_css else "",
        "</head><body>",
        *blocks.parts,
        "</body></html>",
    ])


def estimate_long(shown: Content, options: SheetOptions) -> set[int]:
    """Block numbers that are surely taller than a column, so they may split from the start.

    A wrong guess costs a second layout pass (the layout checks every block), so this errs
    towards neither side: text lines at the column's width, images, table rows.
    """
    o = options.resolved()
    g = geometry(o)
    font_px = (o.font_size or 8) * 96 / 72
    lines_per_column = g.column_h / (font_px * 1.3)
    chars_per_line = g.column_w / (font_px * 0.48)

    def lines(inner: str) -> float:
        text = html.unescape(_TAGS.sub("", inner))
        count = sum(len(line) // chars_per_line + 1 for line in text.splitlines() if line.strip())
        return count + inner.count("<img") * lines_per_column * IMAGE_SHARE * 0.8

    # block 1 is the title; the others are numbered in the order build_html adds them
    return {number for number, (_, inner) in enumerate(shown.blocks(), start=2)
            if lines(inner) > lines_per_column * 1.05}


class _Blocks:
    """Numbers the blocks in document order; the layout measures them by that number."""

    def __init__(self, plan: Plan, anchors: set[str], math: MathImages | None) -> None:
        self.plan = plan
        self.anchors = anchors
        self.math = math
        self.parts: list[str] = []
        self.count = 0

    def add(self, kind: str, inner: str) -> None:
        self.count += 1
        classes = ["block", kind]
        if self.count in self.plan.long:
            classes.append("long")
        if self.count in self.plan.wide:
            classes.append("wide")
        inner = _drop_dangling_links(inner, self.anchors)
        inner = _OPEN.sub("<details open ", inner)  # paper has no folds: show every callout
        inner = _IMG.sub(_sized, inner)
        if self.math is not None:
            inner = self.math.replace(inner)
        # The empty marker resets the "(cont.)" string: a column that starts with a new block
        # shows no continuation line; one that starts inside a block repeats its heading.
        self.parts.append(f'<section class="{" ".join(classes)}" data-block="{self.count}">'
                          f'<div class="m"></div>{inner}</section>')

    def raw(self, part: str) -> None:
        self.parts.append(part)


def _title_html(vault: Vault, o: SheetOptions) -> str:
    notes = len(vault.notes)
    return (f"<h1>{html.escape(o.title)}</h1>"
            f'<p class="sheet-meta">{html.escape(o.source)} · {notes} note'
            f"{'' if notes == 1 else 's'} · {o.date.isoformat()}</p>")


def _note_blocks(note: Note) -> Iterable[tuple[str, str]]:
    """A block per section with content; headings without content stay with what follows."""
    pending: list[str] = []
    for section in note.sections:
        if section.level:
            pending.append(_heading_html(section))
        if section.has_content:
            kind = f"d{min(len(section.path), 4)}" if section.level else "intro"
            yield kind, f'{"".join(pending)}<div class="body">{section.html}</div>'
            pending = []
    if pending:
        yield "d1", "".join(pending)


def _heading_html(section: Section) -> str:
    depth = min(len(section.path), 4)
    return (f'<h3 class="sh d{depth}" id="{section.anchor}">'
            f"{html.escape(section.heading)}</h3>")


# --- "At a glance": one row per top-level section ------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")
_DEFINITION = re.compile(r"^\s*(.{1,60}?)\s+=\s+(.+)$")


class _FirstText(HTMLParser):
    """The first paragraph or list item of each block, without nested lists, as safe HTML:
    text escaped, formulas kept (the sheet typesets them), every other tag dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.current: list[str] | None = None
        self.depth = 0
        self.spans: list[bool] = []  # for each open span: is it a formula?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "li", "td") and self.current is None:
            self.current, self.depth = [], 0
        elif tag in ("ul", "ol", "table", "pre") and self.current is not None:
            self.depth += 1
        elif tag == "span":
            formula = ("class", "arithmatex") in attrs
            self.spans.append(formula)
            if formula and self.current is not None and not self.depth:
                self.current.append('<span class="arithmatex">')

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.spans:
            if self.spans.pop() and self.current is not None and not self.depth:
                self.current.append("</span>")
        elif tag in ("ul", "ol", "table", "pre") and self.current is not None and self.depth:
            self.depth -= 1
        elif tag in ("p", "li", "td") and self.current is not None and not self.depth:
            text = " ".join("".join(self.current).split())
            if text:
                self.texts.append(text)
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None and not self.depth:
            self.current.append(html.escape(data, quote=False))


def _texts(section_html: str) -> list[str]:
    parser = _FirstText()
    parser.feed(section_html)
    return parser.texts


def _glance_rows(note: Note) -> list[tuple[str, str, str]]:
    """(anchor, term, short definition) per top-level section of a note that says something."""
    rows = []
    for index, section in enumerate(note.sections):
        if len(section.path) != 1 or section.level == 0:
            continue
        texts = [t for s in note.sections[index:] if s.path[:1] == section.path
                 for t in _texts(s.html)]
        definition = next((m.group(2) for t in texts if (m := _DEFINITION.match(t))
                           and m.group(1).strip().lower() in section.heading.lower()), None)
        short = definition or (texts[0] if texts else "")
        if short:
            rows.append((section.anchor, section.heading, _clip(short, 110)))
    return rows


def _clip(text: str, limit: int) -> str:
    """Shorten escaped text at a word; text holding a formula is left whole."""
    if len(text) <= limit or "<span" in text:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rsplit("&", 1)[0] + " …"


def _glance_html(vault: Vault) -> str:
    """The opening summary table; with several notes, each note's rows under its title."""
    body = []
    for note in vault.notes:
        rows = _glance_rows(note)
        if rows and len(vault.notes) > 1:
            body.append(f'<tr class="group"><th colspan="2"><a class="internal" '
                        f'href="#{note.anchor}">{html.escape(note.title)}</a></th></tr>')
        body += [f'<tr><th scope="row"><a class="internal" href="#{anchor}">'
                 f"{html.escape(term)}</a></th><td>{short}</td></tr>"
                 for anchor, term, short in rows]
    if not body:
        return ""
    return ('<h2 class="glance-title">At a glance</h2><div class="body"><table class="glance">'
            '<thead><tr><th>Topic</th><th>In short</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


# --- links and CSS -------------------------------------------------------------------------------

_OPEN = re.compile(r"<details (?!open)")
_IMG = re.compile(r"<img\b[^>]*>")
_SIZE_ATTR = re.compile(r'\b(width|height)="(\d{1,5})"')


def _sized(match: re.Match[str]) -> str:
    """``![[img|300x200]]`` sizes as CSS (cheaper for WeasyPrint than presentational hints)."""
    tag = match.group(0)
    sizes = _SIZE_ATTR.findall(tag)
    if not sizes or "style=" in tag:
        return tag
    style = ";".join(f"{name}:{value}px" for name, value in sizes)
    return tag[:-1] + f' style="{style}">'

_INTERNAL = re.compile(r'<a (?:class="([^"]*)" )?href="#([^"]*)"[^>]*>(.*?)</a>', re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def _anchors(vault: Vault) -> set[str]:
    """Every anchor the sheet will hold: notes, headings and ids inside sections."""
    found = {a for n in vault.notes for a in (n.anchor, *(s.anchor for s in n.sections))}
    for note in vault.notes:
        for section in note.sections:
            found.update(_ID.findall(section.html))
    return found


def _drop_dangling_links(fragment: str, anchors: set[str]) -> str:
    """A link to an anchor that is not in this PDF (another note with ``--pdf-per``, a
    ``[link](#nowhere)``) becomes a plain term."""
    return _INTERNAL.sub(lambda m: m.group(0) if m.group(2) in anchors else
                         f'<span class="{m.group(1) or "dangling"}">{m.group(3)}</span>', fragment)


def _css(o: SheetOptions, g: Geometry) -> str:
    templates = resources.files("exporter").joinpath("templates")
    css = "\n".join(templates.joinpath(name).read_text(encoding="utf-8")
                    for name in ("obsidian.css", "sheet.css"))
    values = {
        "__COLW__": f"{g.column_w:.3f}px", "__COLH__": f"{g.column_h:.3f}px",
        "__CAP__": f"{g.cap:.3f}px", "__WIDEW__": f"{g.content_w:.3f}px",
        "__FONT__": f"{o.font_size}pt", "__IMGMAX__": f"{g.column_h * IMAGE_SHARE:.3f}px",
    }
    for key, value in values.items():
        css = css.replace(key, value)
    return css + _pygments_css()


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="friendly").get_style_defs(".highlight"))


def frame_html(options: SheetOptions, pages: list[str]) -> str:
    """The sheet pages themselves: margins, column rules, footer, page numbers, metadata."""
    o = options.resolved()
    g = geometry(o)
    css = resources.files("exporter").joinpath("templates/frame.css").read_text(encoding="utf-8")
    css = (css.replace("__PAGEW__", f"{g.page_w:.3f}px").replace("__PAGEH__", f"{g.page_h:.3f}px")
           .replace("__TOP__", f"{g.top:.3f}px").replace("__BOTTOM__", f"{g.bottom:.3f}px")
           .replace("__LEFT__", f"{g.left:.3f}px").replace("__RIGHT__", f"{g.right:.3f}px")
           .replace("__TITLE__", _css_string(o.title)))
    rules = "".join(f'<div class="rule" style="left:{g.column_x(i) - g.left - g.gap / 2:.3f}px">'
                    "</div>" for i in range(1, g.columns))
    body = "".join(f'<div class="page {kind}">{rules if kind == "columns" else ""}</div>'
                   for kind in pages)
    return "\n".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(o.title)}</title>",
        f'<meta name="description" content="{html.escape(o.source)}">',
        f'<meta name="dcterms.created" content="{o.date.isoformat()}">',
        '<meta name="generator" content="notes-export">',
        f"<style>{css}</style></head><body>{body}</body></html>",
    ])


def _style_text(css: str) -> str:
    """A stylesheet that cannot end its ``<style>`` block: "<\\/" means "</" in CSS."""
    return css.replace("</", "<\\/")


def _css_string(text: str) -> str:
    # "<" as a CSS escape: a title holding "</style>" cannot end the style block
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") \
        .replace("<", "\\3c ") + '"'
