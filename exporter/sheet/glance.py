"""The sheet's "At a glance" table: one row per note or top-level section, each a real summary."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from itertools import islice, takewhile

from exporter.core.model import ANSWER_MARK, Note, Section, Vault
from exporter.render.htmlfix import sound_names

_TAGS = re.compile(r"<[^>]+>")
# ``Term = Definition`` (the sample's definitions) and ``Term::Definition`` (card syntax)
_DEFINITION = re.compile(r"^\s*(.{1,60}?)\s*(?:\s=\s|:{2,3})\s*(.+)$")
_SENTENCE_END = re.compile(r"(?<=[^\s.][.!?])\s+(?=[A-Z0-9\"'(\[])")
SHARE = 0.1  # the table takes at most about this share of the sheet …
MAX_COLUMNS = 30  # … and never more than about this many columns (a chunk's worth)
LOOK_AHEAD = 6  # a summary that fits is looked for among the first this many candidates
ROW_LINES = 1.25  # a one-line row is about this many lines of text tall
PAGE_EM = 2.4  # the page number's cell is this wide (sheet.css)


@dataclass(frozen=True)
class Row:
    """One row: where it links, what it names, its one-line summary (safe HTML)."""

    anchor: str
    term: str
    summary: str
    group: bool = False
    term_html: str = ""  # the term with its inline formatting (a heading's code, links)


@dataclass(frozen=True)
class _Text:
    html: str
    plain: str
    linked: int  # characters of plain text inside links
    nested: bool  # a list follows inside the same item: a label such as "Benefits"


class _Texts(HTMLParser):
    """Each paragraph, list item or cell of a section (nested lists apart) as safe HTML: text
    escaped, formulas kept (the sheet typesets them), every other tag dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[_Text] = []
        self.current: list[str] | None = None
        self.plain: list[str] = []
        self.linked = 0
        self.depth = 0
        self.spans: list[str] = []  # for each open span: "formula", "link" or ""
        self.links = 0
        self.nested = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag in ("p", "li", "td") and self.current is None:
            self.current, self.plain, self.linked, self.depth = [], [], 0, 0
            self.nested = False
        elif tag in ("ul", "ol", "table", "pre") and self.current is not None:
            self.depth += 1
            self.nested = True
        if tag == "a":
            self.links += 1
        elif tag == "span":
            kind = "formula" if "arithmatex" in classes else \
                "link" if "link" in classes or "embed" in classes else ""
            self.spans.append(kind)
            self.links += kind == "link"
            if kind == "formula" and self.current is not None and not self.depth:
                self.current.append('<span class="arithmatex">')

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            self.links -= 1
        if tag == "span" and self.spans:
            kind = self.spans.pop()
            self.links -= kind == "link"
            if kind == "formula" and self.current is not None and not self.depth:
                self.current.append("</span>")
        elif tag in ("ul", "ol", "table", "pre") and self.current is not None and self.depth:
            self.depth -= 1
        elif tag in ("p", "li", "td") and self.current is not None and not self.depth:
            text = " ".join("".join(self.current).split())
            if text:
                self.texts.append(_Text(text, " ".join("".join(self.plain).split()),
                                        self.linked, self.nested))
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.spans and self.spans[-1] == "formula":
            data = _TEX_SIZE.sub("", data)
        if self.current is not None and not self.depth:
            self.current.append(html.escape(data, quote=False))
            self.plain.append(data)
            if self.links:
                self.linked += len(data.strip())


# A sheet of one folder (``--pdf-per folder``) asks again of the notes of every other sheet
# (a note's rows are chosen against the whole table's budget): parse each section's HTML once.
@lru_cache(maxsize=1 << 16)
def _texts(section_html: str) -> tuple[_Text, ...]:
    parser = _Texts()
    parser.feed(sound_names(section_html))
    return tuple(parser.texts)


def _says_something(text: _Text) -> bool:
    """Not a lead-in ("The options are:"), a label ("Benefits", over a list), a fragment of
    one or two words, a bare link or a list of links (a contents), or an embedded file."""
    plain = text.plain.strip()
    words = len(plain.split())
    if not plain or plain.endswith(":") or words < 3 or (text.nested and words <= 4):
        return False
    own = sum(c.isalnum() for c in plain) - text.linked
    return own >= 8


def _first_sentence(text: _Text) -> str:
    if "<span" in text.html:
        return text.html
    return _SENTENCE_END.split(text.html, maxsplit=1)[0]


def summary(sections: list[Section], heading: str, limit: float = 0) -> str:
    """The definition line when there is one, else the first sentence that says something;
    the sections' own text first, their subsections' after. With ``limit`` (characters: two
    lines of the table), the first of the next few that fits it whole, when the first does not."""
    texts = [t for s in sections for t in _texts(s.html)]
    found = []
    for text in texts:
        match = _DEFINITION.match(text.html)
        if match and "<span" not in text.html:
            term, definition = match.group(1).strip(), match.group(2).strip()
            found.append(definition if term.lower() in heading.lower() else
                         f"{term} = {definition}")
            break
    found += (_first_sentence(t) for t in texts if _says_something(t))
    if not limit or not found:
        return found[0] if found else ""
    # a later one only when it comes soon: a sentence deep in the text is no summary; and a
    # question whose answer does not fit is a whole thought without it
    near = [choice for f in found[:LOOK_AHEAD] for choice in (f, *_question(f))]
    return next((f for f in near if width(f) <= limit),
                next((f for f in near if width(f) <= limit * MAX_LINES / 2), found[0]))


MAX_LINES = 3  # a summary that fits no two lines may take three rather than be cut


def _question(text: str) -> tuple[str, ...]:
    """The question of a "question — answer" line, when it is one (five words or more)."""
    question, found, _ = text.partition(ANSWER_MARK)
    return (question,) if found and len(question.split()) >= 5 and "<" not in question else ()


def _section_rows(note: Note, limit: float) -> list[Row]:
    rows = []
    for index, section in enumerate(note.sections):
        if len(section.path) != 1 or section.level == 0:
            continue
        # its subsections follow it: a later section of the same name is not its own (and
        # looking there made a note of 1,000 "# T" headings read each section 1,000 times)
        under = takewhile(lambda s: len(s.path) > 1, islice(note.sections, index + 1, None))
        own = [section, *(s for s in under if s.path[:1] == section.path)]
        short = summary(own, section.heading, limit)
        if short:
            rows.append(Row(section.anchor, section.heading, short, term_html=section.heading_html))
    return rows


def _note_row(note: Note, limit: float) -> Row | None:
    short = summary(note.sections, note.title, limit)
    return Row(note.anchor, note.title, short) if short else None


def _grouped(note: Note, found: list[Row]) -> list[Row]:
    """A note's rows under its title; a row never repeats the group's name: a note of one
    top-level section is one row (the note's), and a first section named as its note gives
    its summary to the title row."""
    if len(found) == 1:
        return [Row(note.anchor, note.title, found[0].summary)]
    if _same(found[0].term, note.title):
        return [Row(note.anchor, note.title, found[0].summary, group=True), *found[1:]]
    return [Row(note.anchor, note.title, "", group=True), *found]


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def rows(vault: Vault, budget: float, chars: float = 0) -> list[Row]:
    """Rows per top-level section when they fit ``budget`` (one-line rows), else one per note,
    else as many notes as fit and a last row saying how many more there are. With ``chars``
    (characters on a summary's line), a row counts by the lines it takes and a summary is
    chosen to fit two lines."""
    several = len(vault.notes) > 1
    limit = 2 * chars
    detailed: list[Row] = []
    for note in vault.notes:
        found = _section_rows(note, limit)
        detailed += _grouped(note, found) if found and several else found
    if cost(detailed, chars) <= budget:
        return detailed
    brief = [r for n in vault.notes if (r := _note_row(n, limit)) is not None]
    if cost(brief, chars) <= budget:
        return brief
    kept: list[Row] = []
    for row in brief:
        if cost([*kept, row], chars) > budget - 1:
            break
        kept.append(row)
    return [*kept, Row("", "", f"… and {len(brief) - len(kept)} more notes")] if kept else []


TERM_SHARE = 0.4  # a term's line holds about this share of a summary's characters


def term_lines(row: Row, chars: float) -> int:
    """About how many lines a row's term takes (a group's title spans the table)."""
    if row.group and not row.summary:
        return 1
    return max(1, math.ceil(len(row.term) / (chars * TERM_SHARE)))


def room(row: Row, chars: float) -> float:
    """The characters a row's summary may take: two lines (three when that keeps it whole),
    or as many as its term takes."""
    whole = 2 * chars < width(row.summary) <= MAX_LINES * chars
    return max(MAX_LINES if whole else 2, term_lines(row, chars)) * chars


def cost(found: list[Row], chars: float) -> float:
    """The lines ``found`` take in the table (each row one, without ``chars``)."""
    if not chars:
        return float(len(found))
    return float(sum(max(term_lines(row, chars), min(room(row, chars) / chars,
                                                     math.ceil(width(row.summary) / chars)))
                     for row in found))


_SEGMENT = re.compile(r'<span class="arithmatex">.*?</span>|<[^>]+>|[^<]+', re.S)
# Where a clause ends: a comma, semicolon, colon, dash or an opening parenthesis
_CLAUSE = re.compile(r"[,;:](?= )| (?=[—–(]| - | =>)")
FORMULA_CHARS = 1.2  # a formula prints about this many characters per symbol of its TeX
_TEX_MARKUP = re.compile(r"\\[a-zA-Z]+|\\[()\[\]]|[{}\s^_]")  # commands, delimiters, braces
# \large and its kind: a formula in a summary is set at the table's size
_TEX_SIZE = re.compile(r"\\(?:tiny|scriptsize|footnotesize|small|normalsize|large|Large|LARGE"
                       r"|huge|Huge)\b\s*")


def width(text: str) -> float:
    """About how many characters ``text`` (escaped HTML, formulas in spans) prints."""
    total = 0.0
    for part in _SEGMENT.findall(text):
        if part.startswith("<span"):
            tex = _TEX_MARKUP.sub("", html.unescape(_TAGS.sub("", part)))
            total += len(tex) * FORMULA_CHARS
        elif not part.startswith("<"):
            total += len(html.unescape(part))
    return total


def clip(text: str, limit: float) -> str:
    """``text`` whole when it fits ``limit`` characters; else cut at its last clause boundary
    that leaves most of it (at a word when there is none), never inside a formula."""
    if width(text) <= limit:
        return text
    room = limit - 2  # " …"
    clauses: list[tuple[int, float]] = []  # cut positions and the width before them
    words: list[tuple[int, float]] = []
    at, shown = 0, 0.0
    for part in _SEGMENT.findall(text):
        if not part.startswith("<"):
            for match in _CLAUSE.finditer(part):
                before = shown + len(html.unescape(part[:match.start()]))
                clauses.append((at + match.start(), before))
            for match in re.finditer(" ", part):
                words.append((at + match.start(), shown + len(html.unescape(part[:match.start()]))))
        shown += width(part)
        at += len(part)
    fitting = [p for p, w in clauses if room * 0.3 <= w <= room]
    cut = fitting[-1] if fitting else next((p for p, w in reversed(words) if w <= room), 0)
    head = text[:cut].rstrip(" ,;:—–-")
    return f"{head} …" if head else text


def table(found: list[Row], chars: float) -> str:
    """The table's HTML; each summary within two lines of ``chars`` characters (or its term's
    lines), and a cell
    for the page its row points to (printed over it once the layout knows: pagenums.py)."""
    if not found:
        return ""
    body = []
    for row in found:
        term = row.term_html or html.escape(row.term)
        link = f'<a class="internal" href="#{row.anchor}">{term}</a>' if row.anchor else ""
        page = f'<td class="pg" data-to="{row.anchor}"></td>' if row.anchor else \
            '<td class="pg"></td>'
        if row.group and not row.summary:
            body.append(f'<tr class="group"><th colspan="2">{link}</th>{page}</tr>')
        else:
            kind = ' class="group"' if row.group else ""
            body.append(f'<tr{kind}><th scope="row">{link}</th>'
                        f"<td>{clip(row.summary, room(row, chars))}</td>{page}</tr>")
    return ('<h2 class="glance-title">At a glance</h2><div class="body"><table class="glance">'
            '<thead><tr><th>Topic</th><th>In short</th><th class="pg">p.</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def strip_tags(fragment: str) -> str:
    """Plain text of an HTML fragment."""
    return html.unescape(_TAGS.sub("", fragment))
