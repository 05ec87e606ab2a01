"""The sheet's "At a glance" table: one row per note or top-level section, each a real summary."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import islice, takewhile

from .htmlfix import sound_names
from .model import Note, Section, Vault

_TAGS = re.compile(r"<[^>]+>")
# ``Term = Definition`` (the sample's definitions) and ``Term::Definition`` (card syntax)
_DEFINITION = re.compile(r"^\s*(.{1,60}?)\s*(?:\s=\s|:{2,3})\s*(.+)$")
_SENTENCE_END = re.compile(r"(?<=[^\s.][.!?])\s+(?=[A-Z0-9\"'(\[])")
SHARE = 0.1  # the table takes at most about this share of the sheet …
MAX_COLUMNS = 30  # … and never more than about this many columns (a chunk's worth)
ROW_LINES = 1.25  # a one-line row is about this many lines of text tall


@dataclass(frozen=True)
class Row:
    """One row: where it links, what it names, its one-line summary (safe HTML)."""

    anchor: str
    term: str
    summary: str
    group: bool = False
    term_html: str = ""  # the term with its inline formatting (a heading's code, links)


@dataclass
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
        if self.current is not None and not self.depth:
            self.current.append(html.escape(data, quote=False))
            self.plain.append(data)
            if self.links:
                self.linked += len(data.strip())


def _texts(section_html: str) -> list[_Text]:
    parser = _Texts()
    parser.feed(sound_names(section_html))
    return parser.texts


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


def summary(sections: list[Section], heading: str) -> str:
    """The definition line when there is one, else the first sentence that says something;
    the sections' own text first, their subsections' after."""
    texts = [t for s in sections for t in _texts(s.html)]
    for text in texts:
        match = _DEFINITION.match(text.html)
        if match and "<span" not in text.html:
            term, definition = match.group(1).strip(), match.group(2).strip()
            return definition if term.lower() in heading.lower() else f"{term} = {definition}"
    return next((_first_sentence(t) for t in texts if _says_something(t)), "")


def _section_rows(note: Note) -> list[Row]:
    rows = []
    for index, section in enumerate(note.sections):
        if len(section.path) != 1 or section.level == 0:
            continue
        # its subsections follow it: a later section of the same name is not its own (and
        # looking there made a note of 1,000 "# T" headings read each section 1,000 times)
        under = takewhile(lambda s: len(s.path) > 1, islice(note.sections, index + 1, None))
        own = [section, *(s for s in under if s.path[:1] == section.path)]
        short = summary(own, section.heading)
        if short:
            rows.append(Row(section.anchor, section.heading, short, term_html=section.heading_html))
    return rows


def _note_row(note: Note) -> Row | None:
    short = summary(note.sections, note.title)
    return Row(note.anchor, note.title, short) if short else None


def rows(vault: Vault, budget: int) -> list[Row]:
    """Rows per top-level section when they fit ``budget``, else one per note, else as many
    notes as fit and a last row saying how many more there are."""
    several = len(vault.notes) > 1
    detailed: list[Row] = []
    for note in vault.notes:
        found = _section_rows(note)
        if found and several:
            detailed.append(Row(note.anchor, note.title, "", group=True))
        detailed += found
    if len(detailed) <= budget:
        return detailed
    brief = [r for n in vault.notes if (r := _note_row(n)) is not None]
    if len(brief) <= budget:
        return brief
    kept = brief[:max(budget - 1, 0)]
    return [*kept, Row("", "", f"… and {len(brief) - len(kept)} more notes")] if kept else []


def clip(text: str, limit: int) -> str:
    """Shorten escaped text at a word; text holding a formula is left whole."""
    if len(text) <= limit or "<span" in text:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rsplit("&", 1)[0] + " …"


def table(found: list[Row], chars: int) -> str:
    """The table's HTML; each summary clipped to ``chars`` characters (one line)."""
    if not found:
        return ""
    body = []
    for row in found:
        term = row.term_html or html.escape(row.term)
        link = f'<a class="internal" href="#{row.anchor}">{term}</a>' if row.anchor else ""
        if row.group:
            body.append(f'<tr class="group"><th colspan="2">{link}</th></tr>')
        else:
            body.append(f'<tr><th scope="row">{link}</th><td>{clip(row.summary, chars)}</td></tr>')
    return ('<h2 class="glance-title">At a glance</h2><div class="body"><table class="glance">'
            '<thead><tr><th>Topic</th><th>In short</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def strip_tags(fragment: str) -> str:
    """Plain text of an HTML fragment."""
    return html.unescape(_TAGS.sub("", fragment))
