"""The vault → the cheat sheet's HTML: one flow of blocks, laid out column by column."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import unquote

from exporter.core.config import PAPERS, SheetOptions
from exporter.core.model import Note, Section, Vault
from exporter.render.htmlfix import sound_names
from exporter.sheet import glance, wrap
from exporter.sheet.mathsvg import MathImages

MM = 96 / 25.4  # CSS pixels per millimetre
IMAGE_SHARE = 0.24  # an image takes at most this share of a column's height
# Media are addressed under a host that cannot exist, so a relative URL in a note can only ever
# reach the PDF renderer's fetcher, which serves nothing but the vault's own resolved images.
MEDIA_BASE = "https://media.notes-export.invalid/"



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

    def is_wide(self, width: float) -> bool:
        """A laid-out page this wide is a full-width page, not a column (columns are exact)."""
        return width > self.column_w * 1.5

    def column_x(self, index: int) -> float:
        return self.left + index * (self.column_w + self.gap)

    def group(self, widths: list[float], fresh: set[int] | None = None) -> list[list[int]]:
        """Which laid-out pages (by their widths) go on each printed page: columns side by
        side, a wide page on a printed page of its own; a page in ``fresh`` opens one."""
        printed: list[list[int]] = []
        current: list[int] = []
        for index, width in enumerate(widths):
            if current and (self.is_wide(width) or index in (fresh or set())):
                printed.append(current)
                current = []
            if self.is_wide(width):
                printed.append([index])
                continue
            current.append(index)
            if len(current) == self.columns:
                printed.append(current)
                current = []
        if current:
            printed.append(current)
        return printed

    def printed(self, pages: list[PageSpec]) -> list[Printed]:
        """The printed pages: the flow's pages grouped as ``group`` does, and each band page
        stacked atop the printed page that holds the flow page it is attached to."""
        flow = [i for i, page in enumerate(pages) if page.attach == -1]
        fresh = {n for n, i in enumerate(flow) if pages[i].fresh}
        sheets = [Printed([flow[n] for n in group], [])
                  for group in self.group([pages[i].width for i in flow], fresh)]
        where = {i: number for number, sheet in enumerate(sheets) for i in sheet.columns}
        for index, page in enumerate(pages):
            if page.attach >= 0 and sheets:
                target = flow[min(page.attach, len(flow) - 1)] if flow else 0
                sheets[where.get(target, len(sheets) - 1)].bands.append(index)
        return sheets


@dataclass(frozen=True)
class PageSpec:
    """What the imposition needs of a laid-out page: its width, the flow page a band page
    goes with (-1: a page of the flow; below that, a page left out), and whether it must open
    a printed page."""

    width: float
    attach: int = -1
    fresh: bool = False


@dataclass
class Printed:
    """A printed page: its column pages (or one wide page) and the band pages atop them."""

    columns: list[int]
    bands: list[int]


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
    """Which blocks span the page (wide tables and screenshots), and how images are sized."""

    wide: set[int] = field(default_factory=set)
    shrink: dict[int, float] = field(default_factory=dict)  # image number → height (px)
    # A wide block is a band atop a printed page, the columns flowing on below it, unless it is
    # too tall for one (``flowing``: it takes a printed page of its own, in the flow).
    flowing: set[int] = field(default_factory=set)
    bands: dict[int, int] = field(default_factory=dict)  # block → the flow page it goes with
    short: dict[int, float] = field(default_factory=dict)  # column page → band room (px)

    def is_band(self, block: int) -> bool:
        return block in self.wide and block not in self.flowing
    image_scale: float = 1.0  # of every image's largest size, when fitting to pages


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


def content(vault: Vault, options: SheetOptions | None = None) -> Content:
    """What the sheet of ``vault`` shows; At a glance within about a tenth of the sheet (and
    within one chunk's length: sheet_chunks.py lays a large sheet out in chunks)."""
    o = (options or SheetOptions("", "", dt.date(2000, 1, 1))).resolved()
    wide = _WideImages(vault, geometry(o).column_w)
    notes = [(n, [part for block in _note_blocks(n) for part in wide.split(*block)])
             for n in vault.notes]
    if options is not None and not options.glance:
        return Content("", notes)
    lines, per_column, _ = measures(o)
    total = sum(lines(inner) for _, blocks in notes for _, inner in blocks)
    if o.pages:
        total = min(total, o.pages * (o.columns or 1) * per_column)
    share = min(total * glance.SHARE, glance.MAX_COLUMNS * per_column)
    budget = int(share / glance.ROW_LINES)
    summary = summary_chars(o)
    return Content(glance.table(glance.rows(vault, max(budget, 3), summary), summary), notes)


def summary_chars(o: SheetOptions) -> float:
    """About how many characters fit one line of an At a glance summary: its cell is what the
    term (30%) and the page number (sheet.css) leave of the column, at the table's font."""
    table_px = (o.font_size or 8) * 96 / 72 * 0.92
    cell = geometry(o).column_w * 0.70 - (glance.PAGE_EM + 4 * 0.36) * table_px
    return cell / (table_px * 0.48) * 0.95


@dataclass(frozen=True)
class Part:
    """A run of the sheet's notes laid out on its own (sheet_chunks.py): whether it opens the
    sheet (title and At a glance), the folder of the note before it, and what the whole sheet
    holds (its anchors, whether its notes sit in folders, how many there are)."""

    head: bool
    folder: str | None
    anchors: frozenset[str]
    folders: bool
    notes: int


def whole(vault: Vault) -> Part:
    """The part that is the whole sheet."""
    return Part(True, None, frozenset(_anchors(vault)),
                any("/" in note.relpath for note in vault.notes), len(vault.notes))


def build_html(vault: Vault, options: SheetOptions, plan: Plan | None = None,
               math: MathImages | None = None, shown: Content | None = None,
               part: Part | None = None) -> str:
    """The sheet's content (or ``part`` of it) as one flow of numbered blocks, styled for
    column-sized pages.

    Formulas become images typeset into ``math`` (kept as MathJax source without it).
    """
    shown = shown or content(vault, options)
    plan = plan or Plan()
    part = part or whole(vault)
    o = options.resolved()
    g = geometry(o)
    blocks = _Blocks(plan, part.anchors, math,
                     wrap.code_columns(g.column_w, (o.font_size or 8) * 96 / 72))
    if part.head:
        blocks.add("sheet-title", _title_html(part.notes, o))
    else:
        blocks.count = 1  # numbered as in the whole sheet's first part: estimate_wide's count
    if shown.glance:
        blocks.add("glance", shown.glance)
    folder = part.folder
    for note, note_blocks in shown.notes:
        if part.folders and note.relpath.rpartition("/")[0] != folder:
            folder = note.relpath.rpartition("/")[0]
            blocks.raw(_folder_mark(folder, o.source))
        blocks.raw(f'<h2 class="note-title" id="{note.anchor}">{html.escape(note.title)}</h2>')
        for kind, inner in note_blocks:
            blocks.add(kind, inner)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(o.title)}</title>",
        f"<style>{_css(o, g, plan.image_scale)}{_short_pages(plan, g)}</style>",
        f"<style>{_style_text(o.user_css)}</style>" if o.user_css else "",
        '</head><body class="folders">' if part.folders else "</head><body>",
        *blocks.parts,
        *blocks.bands,
        "</body></html>",
    ])


def _short_pages(plan: Plan, g: Geometry) -> str:
    """The column pages shortened to leave room for the bands atop their printed page."""
    return "".join(f"@page :nth({page + 1}) {{ size: {g.column_w:.3f}px "
                   f"{g.column_h - room:.3f}px; }}" for page, room in sorted(plan.short.items()))


def _folder_mark(folder: str, source: str) -> str:
    """A bookmark for a folder, above its notes' bookmarks; it takes no room on the page."""
    label = folder.replace("/", FOLDER_SEPARATOR) or source
    style = html.escape(f"bookmark-label: {_css_string(label)}", quote=True)
    return f'<div class="folder-mark" style="{style}"></div>'


FOLDER_SEPARATOR = " › "
WIDE_ASPECT = 3.0  # a screenshot this much wider than tall …
WIDE_SCALE = 0.5  # … that a column would shrink below this share takes the page's width
_SRC = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"')


def estimate_wide(shown: Content, vault: Vault, options: SheetOptions) -> set[int]:
    """Block numbers holding a very wide screenshot: they get a full-width block rather than
    shrinking to an illegible strip."""
    wide = _WideImages(vault, geometry(options.resolved()).column_w)
    return {number for number, (kind, inner) in enumerate(shown.blocks(), start=2)
            if kind == "figure"  # split out by content() for its wide screenshot
            or any(wide.is_wide(name) for name in _SRC.findall(inner))}


class _WideImages:
    """Which of the vault's images are too wide for a column (read once each)."""

    def __init__(self, vault: Vault, column_w: float) -> None:
        self.vault = vault
        self.column_w = column_w
        self.known: dict[str, bool] = {}

    def is_wide(self, src: str) -> bool:
        if src not in self.known:
            self.known[src] = self._measure(src)
        return self.known[src]

    def _measure(self, src: str) -> bool:
        from PIL import Image, UnidentifiedImageError

        asset = self.vault.assets.get(unquote(html.unescape(src)))
        if asset is None:
            return False
        try:
            with Image.open(asset.path) as image:
                w, h = image.size
        except (OSError, UnidentifiedImageError, ValueError):
            return False  # not an image Pillow reads (an SVG): WeasyPrint sizes it
        return bool(h) and w / h >= WIDE_ASPECT and self.column_w / w < WIDE_SCALE

    def split(self, kind: str, inner: str) -> list[tuple[str, str]]:
        """A section whose body holds a wide screenshot in a paragraph of its own, as the
        text before it, the screenshot (a block of its own that spans the page) and the text
        after it, so only the screenshot spans the page. A heading with no text before the
        screenshot goes with it."""
        head, opened, _ = inner.partition('<div class="body">')
        if not opened or not inner.endswith("</div>"):
            return [(kind, inner)]
        body = inner[len(head) + len(opened):-len("</div>")]
        for match in _IMAGE_PARAGRAPH.finditer(body):
            before = body[:match.start()]
            if _depth(before) or not self.is_wide(match.group(1)):
                continue
            after = body[match.end():]
            parts = []
            if before.strip():
                parts.append((kind, f'{head}<div class="body">{before}</div>'))
                head = ""
            parts.append(("figure", f'{head}<div class="body">{match.group(0)}</div>'))
            if after.strip():
                parts += self.split(kind, f'<div class="body">{after}</div>')
            return parts
        return [(kind, inner)]


_IMAGE_PARAGRAPH = re.compile(r'<p>\s*<img\b[^>]*\bsrc="([^"]+)"[^>]*>\s*</p>')
_OPENS = re.compile(r"<(ul|ol|div|table|blockquote|details|figure|dl|section)\b")
_CLOSES = re.compile(r"</(ul|ol|div|table|blockquote|details|figure|dl|section)>")


def _depth(fragment: str) -> int:
    """How many containers are open at the end of ``fragment``."""
    return len(_OPENS.findall(fragment)) - len(_CLOSES.findall(fragment))


def measures(o: SheetOptions) -> tuple[Callable[[str], float], float, float]:
    """Rough sizes before layout: lines a block takes, lines per column, characters per line."""
    g = geometry(o)
    font_px = (o.font_size or 8) * 96 / 72
    lines_per_column = g.column_h / (font_px * 1.3)
    chars_per_line = g.column_w / (font_px * 0.48)

    def lines(inner: str) -> float:
        text = glance.strip_tags(inner)
        count = sum(len(line) // chars_per_line + 1 for line in text.splitlines() if line.strip())
        return count + inner.count("<img") * lines_per_column * IMAGE_SHARE * 0.8

    return lines, lines_per_column, chars_per_line


class _Blocks:
    """Numbers the blocks in document order; the layout measures them by that number."""

    def __init__(self, plan: Plan, anchors: frozenset[str], math: MathImages | None,
                 code_width: int = 80) -> None:
        self.plan = plan
        self.code_width = code_width
        self.anchors = anchors
        self.math = math
        self.parts: list[str] = []
        self.bands: list[str] = []  # wide blocks laid out as bands, after the flow
        self.count = 0
        self.images = 0

    def add(self, kind: str, inner: str) -> None:
        self.count += 1
        classes = ["block", kind]
        band = self.plan.is_band(self.count)
        if self.count in self.plan.wide:
            classes.append("band" if band else "wide")
        inner = _drop_dangling_links(inner, self.anchors)
        inner = _OPEN.sub("<details open ", inner)  # paper has no folds: show every callout
        inner = _IMG.sub(self._image, sound_names(inner))
        if self.math is not None:
            inner = self.math.replace(inner)
        inner = wrap.wrap(inner, self.code_width)  # after the formulas: TeX is never broken
        # The empty marker resets the "(cont.)" string: a column that starts with a new block
        # shows no continuation line; one that starts inside a block repeats its heading.
        section = (f'<section class="{" ".join(classes)}" data-block="{self.count}"'
                   f'{self._band_attribute(band)}><div class="m"></div>{inner}</section>')
        if band:  # laid out after the flow, on a page of its own; the flow keeps its place
            self.parts.append(f'<div class="band-mark" data-mark="{self.count}"></div>')
            self.bands.append(section)
        else:
            self.parts.append(section)

    def _band_attribute(self, band: bool) -> str:
        return f' data-band="{self.plan.bands.get(self.count, -1)}"' if band else ""

    def _image(self, match: re.Match[str]) -> str:
        """Number each image; one the layout shrank to finish a column gets its height."""
        self.images += 1
        tag = _sized(match)
        height = self.plan.shrink.get(self.images)
        if height is not None:
            style = f"max-height:{height:.2f}px"
            tag = tag.replace(' style="', f' style="{style};', 1) if ' style="' in tag else \
                tag[:-1] + f' style="{style}">'
        return tag[:4] + f' data-img="{self.images}"' + tag[4:]

    def raw(self, part: str) -> None:
        self.parts.append(part)


def _title_html(notes: int, o: SheetOptions) -> str:
    return (f"<h1>{html.escape(o.title)}</h1>"
            f'<p class="sheet-meta">{html.escape(o.source)} · {notes} note'
            f"{'' if notes == 1 else 's'} · {o.date.isoformat()}</p>")


def _note_blocks(note: Note) -> Iterable[tuple[str, str]]:
    """A block per section with content; headings without content stay with what follows."""
    pending: list[str] = []
    first = next((s for s in note.sections if s.level), None)
    for section in note.sections:
        if section is first and _repeats_title(section, note):
            # "# EC2" atop the note EC2 under its title bar: said once, linked to all the same
            pending.append(f'<div class="title-heading" id="{section.anchor}"></div>')
        elif section.level:
            pending.append(_heading_html(section))
        if section.has_content:
            kind = f"d{min(len(section.path), 4)}" if section.level else "intro"
            yield kind, f'{"".join(pending)}<div class="body">{section.html}</div>'
            pending = []
    if pending:
        yield "d1", "".join(pending)


def _repeats_title(section: Section, note: Note) -> bool:
    return len(section.path) == 1 and section.heading.strip().lower() == note.title.strip().lower()


def _heading_html(section: Section) -> str:
    depth = min(len(section.path), 4)
    # Bookmarks take the heading's text: code and links rendered inline read as plain words.
    inner = section.heading_html or html.escape(section.heading)
    return f'<h3 class="sh d{depth}" id="{section.anchor}">{inner}</h3>'



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
    # data-sized: the note chose this size, which no icon cap (sheet.css) overrides
    return tag[:-1] + f' style="{style}" data-sized="1">'

_INTERNAL = re.compile(r'<a (?:class="([^"]*)" )?href="#([^"]*)"[^>]*>(.*?)</a>', re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def _anchors(vault: Vault) -> set[str]:
    """Every anchor the sheet will hold: notes, headings and ids inside sections."""
    found = {a for n in vault.notes for a in (n.anchor, *(s.anchor for s in n.sections))}
    for note in vault.notes:
        for section in note.sections:
            found.update(_ID.findall(section.html))
    return found


def _drop_dangling_links(fragment: str, anchors: frozenset[str]) -> str:
    """A link to an anchor that is not in this PDF (another note with ``--pdf-per``, a
    ``[link](#nowhere)``) becomes a plain term."""
    return _INTERNAL.sub(lambda m: m.group(0) if m.group(2) in anchors else
                         f'<span class="{m.group(1) or "dangling"}">{m.group(3)}</span>', fragment)


def _css(o: SheetOptions, g: Geometry, image_scale: float = 1.0) -> str:
    templates = resources.files("exporter").joinpath("templates")
    css = "\n".join(templates.joinpath(name).read_text(encoding="utf-8")
                    for name in ("obsidian.css", "sheet.css"))
    values = {
        "__COLW__": f"{g.column_w:.3f}px", "__COLH__": f"{g.column_h:.3f}px",
        "__CAP__": f"{g.cap:.3f}px", "__WIDEW__": f"{g.content_w:.3f}px",
        "__FONT__": f"{o.font_size}pt",
        "__IMGMAX__": f"{g.column_h * IMAGE_SHARE * image_scale:.3f}px",
        "__IMGW__": f"{100 * image_scale:.2f}%",
    }
    for key, value in values.items():
        css = css.replace(key, value)
    return css + _pygments_css()


CODE_GROUND = "#f6f8fa"  # sheet.css: the background of a code block
AA = 4.6  # WCAG AA asks 4.5:1 of text against its background; a little to spare


def _pygments_css() -> str:
    """The "friendly" style's code colours, each darkened as far as it needs to read at AA
    contrast on the code block's background (its comments and numbers are too light)."""
    from pygments.formatters import HtmlFormatter

    css = str(HtmlFormatter(style="friendly").get_style_defs(".highlight"))
    return _HEX_COLOUR.sub(lambda m: "color: " + readable(m.group(1), CODE_GROUND), css)


_HEX_COLOUR = re.compile(r"(?<![-\w])color: (#[0-9a-fA-F]{6})\b")


def _luminance(colour: str) -> float:
    channels = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour: str, ground: str) -> str:
    """``colour``, darkened in steps of its own hue until it reads at AA on ``ground``."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    while contrast("#{:02x}{:02x}{:02x}".format(*rgb), ground) < AA and any(rgb):
        rgb = [int(c * 0.93) for c in rgb]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def frame_html(options: SheetOptions, pages: list[str]) -> str:
    """The sheet pages themselves: margins, column rules, footer, page numbers, metadata."""
    o = options.resolved()
    g = geometry(o)
    css = resources.files("exporter").joinpath("templates/frame.css").read_text(encoding="utf-8")
    css = (css.replace("__PAGEW__", f"{g.page_w:.3f}px").replace("__PAGEH__", f"{g.page_h:.3f}px")
           .replace("__TOP__", f"{g.top:.3f}px").replace("__BOTTOM__", f"{g.bottom:.3f}px")
           .replace("__LEFT__", f"{g.left:.3f}px").replace("__RIGHT__", f"{g.right:.3f}px")
           .replace("/*__MARGIN_BOXES__*/", _margin_boxes("top", o.header, o)
                    + _margin_boxes("bottom", o.footer, o)))
    body = "".join(_frame_page(kind, g) for kind in pages)
    return "\n".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(o.title)}</title>",
        f'<meta name="description" content="{html.escape(o.source)}">',
        f'<meta name="dcterms.created" content="{o.date.isoformat()}">',
        '<meta name="generator" content="notes-export">',
        f"<style>{css}</style></head><body>{body}</body></html>",
    ])


def _frame_page(kind: str, g: Geometry) -> str:
    """A printed page of the frame: ``wide``, or ``columns`` with their rules (below the bands
    atop the page when ``columns:ROOM``, ROOM their height in px; above the bands at the
    bottom when ROOM is negative)."""
    name, _, room = kind.partition(":")
    if name != "columns":
        return f'<div class="page {name}"></div>'
    taken = float(room or 0)
    top = max(taken, 0.0)
    rules = "".join(f'<div class="rule" style="left:{g.column_x(i) - g.left - g.gap / 2:.3f}px;'
                    f' top:{top:.3f}px; height:{g.column_h - abs(taken):.3f}px"></div>'
                    for i in range(1, g.columns))
    return f'<div class="page columns">{rules}</div>'


def _style_text(css: str) -> str:
    """A stylesheet that cannot end its ``<style>`` block: "<\\/" means "</" in CSS."""
    return css.replace("</", "<\\/")


_FIELD = re.compile(r"\{(title|date|source|page|pages)\}")


def _margin_boxes(edge: str, spec: str, o: SheetOptions) -> str:
    """``"left | centre | right"`` (one part: left; two: left and right) as page-margin boxes;
    ``{page}`` and ``{pages}`` are counters, ``{title}``, ``{date}``, ``{source}`` text."""
    parts = [p.strip() for p in spec.split(" | ")] if spec.strip() else []
    places = {1: ["left"], 2: ["left", "right"]}.get(len(parts), ["left", "center", "right"])
    values = {"title": o.title, "date": o.date.isoformat(), "source": o.source}
    css = []
    for place, part in zip(places, parts[:3], strict=False):
        pieces = []
        for index, piece in enumerate(_FIELD.split(part)):
            if index % 2 == 0:
                pieces.append(_css_string(piece) if piece else "")
            elif piece in ("page", "pages"):
                pieces.append(f"counter({piece})")
            else:
                pieces.append(_css_string(values[piece]))
        content = " ".join(p for p in pieces if p) or '""'
        css.append(f"@{edge}-{place} {{ content: {content}; }}")
    return "\n".join(css)


def _css_string(text: str) -> str:
    # "<" as a CSS escape: a title holding "</style>" cannot end the style block
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") \
        .replace("<", "\\3c ") + '"'
