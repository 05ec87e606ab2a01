"""Obsidian's dialect on top of Python-Markdown: line fixes, wikilinks, embeds, images."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape as html_escape
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree  # noqa: N813 (Python-Markdown's own spelling)

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from .scan import FENCE, HIDDEN, INDENTED, MATH, Scanner, quote_depth
from .text import BLOCK_ID_LINE, END_MARKER, split_block_id
from .vault import IMAGE_SUFFIXES

_LIST_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+|$)")
_TABLE_ROW = re.compile(r"^\s*\|")
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*>)+")
MAX_PARAGRAPH = 200
_SIZE = re.compile(r"^(\d{1,5})(?:x(\d{1,5}))?$")
EMBED_RE = r"!\[\[([^\[\]\n]+?)\]\]"
WIKILINK_RE = r"\[\[([^\[\]\n]+?)\]\]"
# Obsidian tags: letters, digits, _ - / (not only digits); a line may start with one.
TAG_RE = r"#([\w/-]*[^\W\d][\w/-]*)"


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
        self.scanner = Scanner()
        self.levels: list[int] = []  # indent widths of the open list levels
        self.ordered = False  # kind of the outermost open list
        self.last_was_quote = False  # the last line with text was part of a quote
        self.run = 0  # lines in the current paragraph
        self.quote_fence: tuple[int, int] | None = None  # depth and indent of a fence in a quote

    @property
    def after_text(self) -> bool:
        return bool(self.out) and bool(self.out[-1].strip())

    def feed(self, index: int, line: str) -> None:
        if line == HIDDEN:
            return  # a line inside a comment
        opening = self.scanner.fence is None
        kind = self.scanner.feed(line)
        if kind == FENCE:
            self._fence_line(line, opening, self.scanner.fence is None)
            return
        if kind == INDENTED:
            self.out.append(line)
            return
        if kind == MATH:
            self._text_line(line)
            return
        if BLOCK_ID_LINE.match(line) or line.strip() == END_MARKER:
            return  # block ids and the end marker of multi-line cards are not shown
        line = split_block_id(line)[0]
        if not line.strip():
            if not self.after_text:
                self.levels = []
            self.run = 0
            self.out.append(line)
            return
        if _QUOTES.match(line):
            self.too_deep.append(index)
            line = _QUOTES.sub(r"\1", line)
        quote = line.lstrip().startswith(">")
        if quote and self.out and not self.out[-1].strip() and self.last_was_quote:
            # A blank line ends a quote (a callout) in Obsidian; Python-Markdown would merge the
            # two, unless something stands between them.
            self.out += ["<!-- -->", ""]
        self.last_was_quote = quote
        self._split_long_paragraph(line, quote)
        item = _LIST_ITEM.match(line)
        if item:
            self._list_item(index, line, item)
        elif self.levels and line[:1] in (" ", "\t"):
            self.out.append("    " * len(self.levels) + line.lstrip(" \t"))
        else:
            self._text_line(line)

    def _split_long_paragraph(self, line: str, quote: bool) -> None:
        """Python-Markdown's inline pass is quadratic in a paragraph's length: a paragraph of
        thousands of lines is cut into paragraphs of MAX_PARAGRAPH lines (they read the same)."""
        if _TABLE_ROW.match(line) or _LIST_ITEM.match(line):
            self.run = 0  # rows and list items are blocks of their own
            return
        self.run += 1
        if self.run > MAX_PARAGRAPH:
            self.run = 1
            self.out.append(">" * quote_depth(line) if quote else "")

    def _fence_line(self, line: str, opening: bool, closed: bool) -> None:
        depth = quote_depth(line) if opening else (self.quote_fence or (0, 0))[0]
        if depth:
            self._quoted_fence_line(line, opening, closed, depth)
            return
        if opening and self.after_text and not self.levels:
            self.out.append("")  # a fence may follow text directly in Obsidian
        self.out.append(line)
        if closed and not opening and not self.levels:
            self.out.append("")

    def _quoted_fence_line(self, line: str, opening: bool, closed: bool, depth: int) -> None:
        """A fence in a callout (``>```…``, ``>  ```…``): blank quote lines around it and one
        space after the markers, as Python-Markdown needs to see code there."""
        rest = _QUOTE_MARKERS.sub("", line, count=1) if quote_depth(line) else line.lstrip()
        if opening:
            indent = len(rest) - len(rest.lstrip(" "))
            self.quote_fence = (depth, indent)
            if self.after_text:
                self.out.append(">" * depth)
        indent = (self.quote_fence or (depth, 0))[1]
        rest = rest[min(indent, len(rest) - len(rest.lstrip(" "))):]
        self.out.append("> " * depth + rest)
        if closed and not opening:
            self.out.append(">" * depth)
            self.quote_fence = None
        self.last_was_quote = True

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
        marker = item.group(2)
        if marker.endswith(")"):  # "1)" is an ordered list in CommonMark and Obsidian
            marker = marker[:-1] + "."
        self.out.append("    " * (len(levels) - 1) + marker + line[item.end(2):])

    def _text_line(self, line: str) -> None:
        is_row = bool(_TABLE_ROW.match(line))
        if is_row and self.after_text and not _TABLE_ROW.match(self.out[-1]):
            self.out.append("")  # a table may follow text directly in Obsidian
        if not is_row and not self.after_text:
            self.levels = []
        self.out.append(line)


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
    heading = " › ".join(part.strip() for part in heading.split("#") if part.strip()) \
        if not heading.startswith("^") else heading
    if note and heading:
        return f"{note} › {heading}"
    return heading or note


_PLACEHOLDER = re.compile("\x02[^\x02\x03]*\x03")


def source_text(processor: InlineProcessor, text: str) -> str:
    """Text as the note wrote it, for a diagnostic: escapes restored, no internal placeholder."""
    return _PLACEHOLDER.sub("", processor.unescape(text))


class _WikilinkProcessor(InlineProcessor):
    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:  # noqa: N802
        note, heading, alias = split_target(m.group(1))
        label = link_label(note, heading, alias)
        ctx = self.ext.context
        href = ctx.link(note, heading, source_text(self, m.group(0))) if ctx else None
        if href is None:
            el = etree.Element("span", {"class": "wikilink"})
        else:
            el = etree.Element("a", {"class": "internal", "href": href})
        el.text = label
        return el, m.start(0), m.end(0)


class _TagProcessor(InlineProcessor):
    """``#tag`` and ``#nested/tag``: shown in place, styled as Obsidian shows tags, and collected
    for the card's tags."""

    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(  # noqa: N802
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        before = data[m.start(0) - 1] if m.start(0) else " "
        if not before.isspace() and before not in "\x02\x03":
            return None, None, None  # part of a word, URL or entity, not a tag
        if self.ext.context is not None:
            self.ext.context.tags.add(m.group(1).strip("/"))
        el = etree.Element("span", {"class": "tag"})
        el.text = m.group(0)
        return el, m.start(0), m.end(0)


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
        raw = source_text(self, m.group(0))
        href = ctx.link(note.removesuffix(".md"), heading, raw) if ctx else None
        if ctx is not None and href is None and not ctx.problems_for(raw):
            ctx.problems.append(Problem(raw, "warning", f"embedded '{name}' not found",
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
            quote.tag = "details" if fold else "div"
            quote.set("class", f"callout callout-{kind}")
            if fold == "+":
                quote.set("open", "open")
            head = etree.Element("summary" if fold else "div", {"class": "callout-title"})
            first.text = (first.text or "")[match.end():]
            _move_first_line(first, head)
            if not (head.text or "").strip() and not len(head):
                head.text = kind.capitalize()
            quote.insert(0, head)
            if not (first.text or "").strip() and not len(first):
                quote.remove(first)


def _move_first_line(paragraph: etree.Element, title: etree.Element) -> None:
    """Move the paragraph's first line, formatting, code and links included, into ``title``:
    everything up to the first line break (``nl2br`` made each break a ``<br>``)."""
    text = paragraph.text or ""
    if "\n" in text:
        title.text, paragraph.text = text.split("\n", 1)
        return
    title.text, paragraph.text = text, None
    while len(paragraph):
        child = paragraph[0]
        paragraph.remove(child)
        if child.tag == "br":
            paragraph.text = (child.tail or "").lstrip("\n")
            break
        tail = child.tail or ""
        if "\n" in tail:
            child.tail, paragraph.text = tail.split("\n", 1)
            title.append(child)
            break
        title.append(child)
    if title.text:
        title.text = title.text.lstrip()
    if len(title):
        title[-1].tail = (title[-1].tail or "").rstrip()
    elif title.text:
        title.text = title.text.rstrip()


class _BlockTreeprocessor(Treeprocessor):
    """Obsidian's look for a few blocks: a line of only tags is hidden (the tags are kept),
    images alone on their line are centred blocks while others stay in the text, and task
    items of any state (``[ ]``, ``[x]``, ``[-]``, ``[?]``, ``[/]``) show a box glyph."""

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "p" and any(_is_tag(c) for c in child):
                    _hide_tag_lines(child)
                    if not (child.text or "").strip() and not len(child):
                        parent.remove(child)
        for paragraph in root.iter("p"):
            _mark_images(paragraph)
        for item in root.iter("li"):
            _task(item)


def _is_tag(element: etree.Element) -> bool:
    return element.tag == "span" and element.get("class") == "tag"


def _hide_tag_lines(paragraph: etree.Element) -> None:
    """Remove each line of the paragraph that holds nothing but tags (and its line break)."""
    lines: list[tuple[list[etree.Element], etree.Element | None, bool]] = []
    current: list[etree.Element] = []
    text = bool((paragraph.text or "").strip())
    for child in paragraph:
        if child.tag == "br":
            lines.append((current, child, text))
            current, text = [], bool((child.tail or "").strip())
            continue
        current.append(child)
        text = text or not _is_tag(child) or bool((child.tail or "").strip())
    lines.append((current, None, text))
    previous_br: etree.Element | None = None
    for elements, br, has_text in lines:
        if not elements or has_text:
            previous_br = br
            continue
        for element in elements:
            paragraph.remove(element)
        if br is not None:
            _drop_keeping_tail(paragraph, br)
        elif previous_br is not None:
            _drop_keeping_tail(paragraph, previous_br)


def _drop_keeping_tail(parent: etree.Element, child: etree.Element) -> None:
    index = list(parent).index(child)
    tail = (child.tail or "").lstrip("\n")
    parent.remove(child)
    if index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + tail
    else:
        parent.text = (parent.text or "").strip() + tail


def _mark_images(paragraph: etree.Element) -> None:
    """Class ``image-inline`` each image that shares its line with text (others are blocks)."""
    lines: list[list[etree.Element]] = [[]]
    text_on_line = [bool((paragraph.text or "").strip())]
    for child in paragraph:
        if child.tag == "br":
            lines.append([])
            text_on_line.append(bool((child.tail or "").strip()))
            continue
        lines[-1].append(child)
        if child.tag != "img" or (child.tail or "").strip():
            text_on_line[-1] = True
    for line, has_text in zip(lines, text_on_line, strict=True):
        for child in line:
            if child.tag == "img" and has_text:
                child.set("class", "image-inline")


_TASK = re.compile(r"^\[(.)\][ \t]+")
TASK_GLYPHS = {" ": ("todo", "☐"), "x": ("done", "☑"), "X": ("done", "☑"),
               "-": ("cancelled", "☒"), "/": ("doing", "◪"), "?": ("question", "⍰")}


def _task(item: etree.Element) -> None:
    holder = item[0] if len(item) and item[0].tag == "p" and not (item.text or "").strip() \
        else item
    match = _TASK.match(holder.text or "")
    if match is None:
        return
    state, glyph = TASK_GLYPHS.get(match.group(1), ("other", "☐"))
    box = etree.Element("span", {"class": f"task task-{state}"})
    box.text = glyph
    box.tail = " " + (holder.text or "")[match.end():]
    holder.text = None
    holder.insert(0, box)
    item.set("class", f"task-item task-item-{state}")


def mermaid_fence(source: str, language: str, css_class: str, options: object, md: Markdown,
                  **kwargs: object) -> str:
    """A Mermaid diagram cannot be drawn here: its source, as a labelled code block."""
    return (f'<div class="diagram-source"><p class="code-label">{language.capitalize()} '
            f'diagram</p><pre><code>{html_escape(source)}</code></pre></div>')


# CommonMark and Obsidian need a space after the #s of a heading; Python-Markdown does not, so
# "#camelCase" (a tag) would be a heading. Its own block processor, with that rule added.
_HASH_HEADING = re.compile(
    r"(?:^|\n)(?P<level>#{1,6})(?=[ \t]|\n|$)(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)")


class ObsidianExtension(Extension):
    """Registers the wikilink, embed and image handling on a Markdown instance."""

    def __init__(self) -> None:
        super().__init__()
        self.context: RenderContext | None = None

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802
        # After code spans (190) and inline math (189.9): both stay literal by construction.
        inline: list[tuple[InlineProcessor, str, int]] = [
            (_TagProcessor(TAG_RE, self), "obsidian-tag", 187),
            (_EmbedProcessor(EMBED_RE, self), "obsidian-embed", 186),
            (_WikilinkProcessor(WIKILINK_RE, self), "obsidian-link", 185),
        ]
        for processor, name, priority in inline:
            processor.md = md
            md.inlinePatterns.register(processor, name, priority)
        md.treeprocessors.register(_ImageTreeprocessor(md, self), "obsidian-images", 12)
        md.treeprocessors.register(_CalloutTreeprocessor(md), "obsidian-callouts", 11)
        md.treeprocessors.register(_BlockTreeprocessor(md), "obsidian-blocks", 10)
        md.parser.blockprocessors["hashheader"].RE = _HASH_HEADING
