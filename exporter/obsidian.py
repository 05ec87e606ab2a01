"""Obsidian's dialect on top of Python-Markdown: line fixes, wikilinks, embeds, images."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree  # noqa: N813 (Python-Markdown's own spelling)

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from .text import BLOCK_ID_LINE, END_MARKER, Fences, split_block_id
from .vault import IMAGE_SUFFIXES

_LIST_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+|$)")
_TABLE_ROW = re.compile(r"^\s*\|")
_COMMENT = re.compile(r"%%.*?%%")
_SIZE = re.compile(r"^(\d{1,5})(?:x(\d{1,5}))?$")
EMBED_RE = r"!\[\[([^\[\]\n]+?)\]\]"
WIKILINK_RE = r"\[\[([^\[\]\n]+?)\]\]"
# Obsidian tags: letters, digits, _ - / (not only digits); a line may start with one.
TAG_RE = r"\\?#([\w/-]*[^\W\d][\w/-]*)"
_LINE_TAG = re.compile(r"^([ \t]*)#(?=[^\s#])")


@dataclass(frozen=True)
class Problem:
    """Something wrong with a reference, before it is placed on a line."""

    text: str
    severity: str
    message: str
    code: str


@dataclass
class RenderContext:
    """What the extension needs to know about the section it is rendering."""

    link: Callable[[str, str, str], str | None]
    image: Callable[[str, bool], tuple[str | None, Problem | None]]
    file: Callable[[str], bool] = lambda name: False
    problems: list[Problem] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)

    def problems_for(self, text: str) -> bool:
        """True when a problem was already reported about ``text``."""
        return any(p.text == text for p in self.problems)


# --- line-level fixes: Obsidian is CommonMark-like, Python-Markdown is stricter ----------------


MAX_NESTING = 16  # deeper lists or quotes are flattened: Python-Markdown recurses per level
_QUOTES = re.compile(r"^((?:[ \t]*>){" + str(MAX_NESTING) + r"})(?:[ \t]*>)+")


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


def normalize_lines(lines: list[str]) -> list[str]:
    """Rewrite Obsidian Markdown so Python-Markdown parses it as Obsidian renders it."""
    return normalize(lines)[0]


def normalize(lines: list[str]) -> tuple[list[str], list[int]]:
    """Like :func:`normalize_lines`, also giving the indexes of lines nested too deep."""
    fixer = _LineFixer()
    for index, line in enumerate(lines):
        fixer.feed(index, line)
    return fixer.out, fixer.too_deep


class _LineFixer:
    """Obsidian is CommonMark-like; Python-Markdown wants blank lines and 4-space nesting."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.too_deep: list[int] = []
        self.fences = Fences()
        self.in_comment = False
        self.levels: list[int] = []  # indent widths of the open list levels
        self.ordered = False  # kind of the outermost open list
        self.last_was_quote = False  # the last line with text was part of a quote

    @property
    def after_text(self) -> bool:
        return bool(self.out) and bool(self.out[-1].strip())

    def feed(self, index: int, line: str) -> None:
        opening = self.fences.open is None
        if self.fences.feed(line):
            self._fence_line(line, opening, self.fences.open is None)
            return
        kept, self.in_comment = _strip_comments(line, self.in_comment)
        if kept is None or BLOCK_ID_LINE.match(kept) or kept.strip() == END_MARKER:
            return  # comments, block ids and the end marker of multi-line cards are not shown
        line = split_block_id(kept)[0]
        if not line.strip():
            if not self.after_text:
                self.levels = []
            self.out.append(line)
            return
        # "#tag" at the start of a line is a tag in Obsidian, a heading in Python-Markdown.
        line = _LINE_TAG.sub(r"\1\\#", line)
        if _QUOTES.match(line):
            self.too_deep.append(index)
            line = _QUOTES.sub(r"\1", line)
        quote = line.lstrip().startswith(">")
        if quote and self.out and not self.out[-1].strip() and self.last_was_quote:
            # A blank line ends a quote (a callout) in Obsidian; Python-Markdown would merge the
            # two, unless something stands between them.
            self.out += ["<!-- -->", ""]
        self.last_was_quote = quote
        item = _LIST_ITEM.match(line)
        if item:
            self._list_item(index, line, item)
        elif self.levels and line[:1] in (" ", "\t"):
            self.out.append("    " * len(self.levels) + line.lstrip(" \t"))
        else:
            self._text_line(line)

    def _fence_line(self, line: str, opening: bool, closed: bool) -> None:
        if opening and self.after_text and not self.levels:
            self.out.append("")  # a fence may follow text directly in Obsidian
        self.out.append(line)
        if closed and not opening and not self.levels:
            self.out.append("")

    def _list_item(self, index: int, line: str, item: re.Match[str]) -> None:
        ordered = item.group(2)[0].isdigit()
        width = _indent_width(item.group(1))
        levels = self.levels
        if len(levels) == 1 and width <= levels[0] and ordered != self.ordered:
            self.out.append("")  # a bullet list followed by a numbered one: two lists
            levels = []
        if not levels:
            if self.after_text:
                self.out.append("")  # Obsidian lets a list start right under a line of text
            levels = [width]
        else:
            while len(levels) > 1 and width < levels[-1]:
                levels = levels[:-1]
            if width > levels[-1]:
                if len(levels) >= MAX_NESTING:
                    self.too_deep.append(index)
                else:
                    levels = [*levels, width]
        if len(levels) == 1:
            self.ordered = ordered
        self.levels = levels
        self.out.append("    " * (len(levels) - 1) + line[len(item.group(1)):])

    def _text_line(self, line: str) -> None:
        is_row = bool(_TABLE_ROW.match(line))
        if is_row and self.after_text and not _TABLE_ROW.match(self.out[-1]):
            self.out.append("")  # a table may follow text directly in Obsidian
        if not is_row and not self.after_text:
            self.levels = []
        self.out.append(line)


def _strip_comments(line: str, in_comment: bool) -> tuple[str | None, bool]:
    """Drop ``%%comments%%``, inline or spanning lines; None when the whole line goes."""
    if in_comment:
        if "%%" not in line:
            return None, True
        line = line.split("%%", 1)[1]
        in_comment = False
        if not line.strip():
            return None, False
    line = _COMMENT.sub("", line)
    if "%%" in line:
        head = line.split("%%", 1)[0]
        return (head if head.strip() else None), True
    return line, in_comment


# --- inline syntax ------------------------------------------------------------------------------


def split_target(raw: str) -> tuple[str, str, str | None]:
    """Split ``Note#Heading|alias`` (the pipe may be escaped) into its three parts."""
    raw = raw.replace("\\|", "|")
    target, _, alias = raw.partition("|")
    note, _, heading = target.partition("#")
    return note.strip(), heading.strip(), (alias.strip() or None) if "|" in raw else None


def link_label(note: str, heading: str, alias: str | None) -> str:
    """The text Obsidian shows for a wikilink."""
    if alias:
        return alias
    if note and heading:
        return f"{note} › {heading}"
    return heading or note


class _WikilinkProcessor(InlineProcessor):
    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:  # noqa: N802
        note, heading, alias = split_target(m.group(1))
        label = link_label(note, heading, alias)
        ctx = self.ext.context
        href = ctx.link(note, heading, m.group(0)) if ctx else None
        if href is None:
            el = etree.Element("span", {"class": "wikilink"})
        else:
            el = etree.Element("a", {"class": "internal", "href": href})
        el.text = label
        return el, m.start(0), m.end(0)


class _TagProcessor(InlineProcessor):
    """``#tag`` and ``#nested/tag``: collected for the card's tags, not shown as text."""

    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(  # noqa: N802
        self, m: re.Match[str], data: str
    ) -> tuple[str | None, int | None, int | None]:
        before = data[m.start(0) - 1] if m.start(0) else " "
        if not before.isspace() and before not in "\x02\x03":
            return None, None, None  # part of a word, URL or entity, not a tag
        if self.ext.context is not None:
            self.ext.context.tags.add(m.group(1).strip("/"))
        return "", m.start(0), m.end(0)


class _EmbedProcessor(InlineProcessor):
    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:  # noqa: N802
        note, heading, alias = split_target(m.group(1))
        name = note + (f"#{heading}" if heading else "")
        suffix = "." + note.rsplit(".", 1)[-1].lower() if "." in note else ""
        if suffix in IMAGE_SUFFIXES:
            el = etree.Element("img", {"src": note, "alt": note, "data-embed": "1"})
            size = _SIZE.match(alias or "")
            if size:
                el.set("width", size.group(1))
                if size.group(2):
                    el.set("height", size.group(2))
            elif alias:
                el.set("alt", alias)
            return el, m.start(0), m.end(0)
        ctx = self.ext.context
        if ctx is not None and ctx.file(note):
            el = etree.Element("span", {"class": "embed-file"})
            el.text = alias or note
            return el, m.start(0), m.end(0)
        href = ctx.link(note.removesuffix(".md"), heading, m.group(0)) if ctx else None
        if ctx is not None and href is None and not ctx.problems_for(m.group(0)):
            ctx.problems.append(Problem(m.group(0), "warning", f"embedded '{name}' not found",
                                        "missing-embed"))
        el = etree.Element("a" if href else "span", {"class": "embed-link"})
        if href:
            el.set("href", href)
        el.text = link_label(note, heading, alias)
        return el, m.start(0), m.end(0)


class _ImageTreeprocessor(Treeprocessor):
    """Point every ``<img>`` at a media file, or replace it with a visible placeholder."""

    def __init__(self, md: Markdown, ext: ObsidianExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        ctx = self.ext.context
        if ctx is None:
            return
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    self._resolve(ctx, parent, index, child)

    def _resolve(self, ctx: RenderContext, parent: etree.Element, index: int,
                 img: etree.Element) -> None:
        src = img.get("src", "")
        embedded = img.attrib.pop("data-embed", None) is not None
        media, problem = ctx.image(src, embedded)
        if media is not None:
            img.set("src", media)
            return
        if problem is not None:
            ctx.problems.append(problem)
        parts = urlsplit(src)
        if parts.scheme in ("http", "https"):
            repl = etree.Element("a", {"class": "remote-image", "href": src})
            repl.text = img.get("alt") or src
        else:
            repl = etree.Element("span", {"class": "missing-image"})
            repl.text = f"Missing image: {unquote(src)}"
        repl.tail = img.tail
        parent.remove(img)
        parent.insert(index, repl)


_CALLOUT = re.compile(r"^\[!([\w-]+)\]([+-]?)[ \t]*")


class _CalloutTreeprocessor(Treeprocessor):
    """``> [!note] Title`` blockquotes become callout boxes; ``-``/``+`` make them foldable."""

    def run(self, root: etree.Element) -> None:
        for quote in list(root.iter("blockquote")):
            first = quote[0] if len(quote) else None
            match = _CALLOUT.match(first.text or "") if first is not None and \
                first.tag == "p" else None
            if first is None or match is None:
                continue
            kind, fold = match.group(1).lower(), match.group(2)
            title, first.text = _split_title((first.text or "")[match.end():], first)
            quote.tag = "details" if fold else "div"
            quote.set("class", f"callout callout-{kind}")
            if fold == "+":
                quote.set("open", "open")
            head = etree.Element("summary" if fold else "div", {"class": "callout-title"})
            head.text = title or kind.capitalize()
            quote.insert(0, head)
            if not (first.text or "").strip() and not len(first):
                quote.remove(first)


def _split_title(text: str, paragraph: etree.Element) -> tuple[str, str]:
    """The callout's title is the rest of its first line; the body starts after it."""
    if "\n" in text:
        title, rest = text.split("\n", 1)
        return title.strip(), rest
    if len(paragraph) and paragraph[0].tag == "br":
        br = paragraph[0]
        paragraph.remove(br)
        return text.strip(), (br.tail or "").lstrip("\n")
    return text.strip(), ""


class ObsidianExtension(Extension):
    """Registers the wikilink, embed and image handling on a Markdown instance."""

    def __init__(self) -> None:
        super().__init__()
        self.context: RenderContext | None = None

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802
        md.inlinePatterns.register(_TagProcessor(TAG_RE, self), "obsidian-tag", 187)
        md.inlinePatterns.register(_EmbedProcessor(EMBED_RE, self), "obsidian-embed", 186)
        md.inlinePatterns.register(_WikilinkProcessor(WIKILINK_RE, self), "obsidian-link", 185)
        md.treeprocessors.register(_ImageTreeprocessor(md, self), "obsidian-images", 12)
        md.treeprocessors.register(_CalloutTreeprocessor(md), "obsidian-callouts", 11)
