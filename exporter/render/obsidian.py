"""Obsidian's dialect on top of Python-Markdown: wikilinks, embeds, tags, images.

Code is literal for every construct by construction: passes that must run before Markdown ask
one scanner (:mod:`exporter.scan`) where fences, indented code and ``$$`` math are, and
:func:`exporter.text.literal_spans` where inline code and ``$…$`` are; constructs inside a line
are Python-Markdown inline processors registered after its code spans (190) and inline math
(189.9), so they never see code. Which construct is handled where:

=============================================  ================================================
``%%comments%%`` (over lines, unclosed)        scan.strip_comments, before sectioning (parse)
headings, ``# H #tag ^id``, sections           parse.split_sections (scan kinds: not in code)
text before the first heading                  parse._merge_intro
``[^1]: …`` footnote definitions               parse._take_footnotes → render._footnotes
``![[Note]]``, ``#Heading``, ``#H1#H2``,        render._transclude (scan kinds) + transclude.py
``#^block`` transclusion, fan-out cap
``#heading`` without a space (a tag)           _HASH_HEADING, replacing Python-Markdown's RE
list nesting, ``1)``, fences in callouts,      lines.normalize (scan kinds: code untouched)
block ids ``^id``, long paragraphs
``#tag``                                       _TagProcessor (inline, 187)
``![[embed]]`` of images, files, notes         _EmbedProcessor (inline, 186)
``[[wikilink]]``                               _WikilinkProcessor (inline, 185)
``[text](url)``, ``[ref]``, ``![img]``         brackets.py (Markdown's, with a linear scan)
``==highlight==``, ``~~strike~~``, bare URLs   pymdownx.mark, tilde, magiclink (inline)
``$math$``, ``$$math$$``                       pymdownx.arithmatex (inline 189.9, block)
``$$math$$`` inside a line of text             _DisplayMathProcessor (inline 189.95)
image files, sizes, missing images             _ImageTreeprocessor → resolve.Resolver.image
``![[x.mp3]]`` sound and video files           _ImageTreeprocessor → Resolver.sound
web videos ``![](https://youtu.be/…)``         _ImageTreeprocessor (webembed: a link)
``<iframe>``                                   webembed.iframes, before sanitising (render)
callouts and their titles                      blocks.CalloutTreeprocessor
lines of only tags, inline images, tasks       blocks.BlockTreeprocessor
Mermaid fences                                 mermaid_fence (a superfences custom fence)
cloze answers in sections, math links          htmlfix (on the HTML: code and math skipped)
card syntax ``::``, ``?``, ``{{c1::}}``        flashcards.extract (scan and literal_spans)
=============================================  ================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape as html_escape
from html import unescape as html_unescape
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree  # noqa: N813 (Python-Markdown's own spelling)

from markdown import Extension, Markdown, treeprocessors
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from exporter.core.text import DISPLAY_MATH, TAG_NAME
from exporter.read.vault import IMAGE_SUFFIXES, SOUND_SUFFIXES
from exporter.render import brackets
from exporter.render.blocks import BlockTreeprocessor, CalloutTreeprocessor
from exporter.render.lines import MAX_NESTING as MAX_NESTING
from exporter.render.lines import normalize as normalize
from exporter.render.lines import normalize_lines as normalize_lines
from exporter.render.webembed import is_web_video

_SIZE = re.compile(r"^(\d{1,5})(?:x(\d{1,5}))?$")
EMBED_RE = r"!\[\[([^\[\]\n]+?)\]\]"
WIKILINK_RE = r"\[\[([^\[\]\n]+?)\]\]"
# Obsidian tags: letters, digits, _ - / (not only digits); a line may start with one.
TAG_RE = r"#(" + TAG_NAME + ")"


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
    sound: Callable[[str, bool], tuple[str | None, Problem | None]] = \
        lambda src, embedded: (None, None)
    problems: list[Problem] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)

    def problems_for(self, text: str) -> bool:
        """True when a problem was already reported about ``text``."""
        return any(p.text == text for p in self.problems)


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
_STASHED = re.compile("\x02klzzwxh:([0-9]+)\x03")


def source_text(processor: InlineProcessor, text: str) -> str:
    """Text as the note wrote it (code spans back in backticks, escapes restored), for lookups
    and diagnostics: no internal placeholder ever leaves this module."""
    if "\x02" not in text:
        return text
    stash = getattr(processor.md.treeprocessors["inline"], "stashed_nodes", {}) \
        if processor.md is not None else {}

    def restore(match: re.Match[str]) -> str:
        node = stash.get(match.group(1))
        if isinstance(node, str):
            return node
        if node is None:
            return ""
        inner = html_unescape("".join(node.itertext()))  # code spans stash escaped text
        return f"`{inner}`" if node.tag == "code" else inner

    return _PLACEHOLDER.sub("", processor.unescape(_STASHED.sub(restore, text)))


class _WikilinkProcessor(InlineProcessor):
    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)
        self.ext = ext

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:  # noqa: N802
        note, heading, _ = split_target(source_text(self, m.group(1)))
        label = link_label(*split_target(m.group(1)))
        ctx = self.ext.context
        href = ctx.link(note, heading, source_text(self, m.group(0))) if ctx else None
        if href is None:
            el = etree.Element("span", {"class": "wikilink"})
        else:
            el = etree.Element("a", {"class": "internal", "href": href})
        el.text = label
        return el, m.start(0), m.end(0)


class _DisplayMathProcessor(InlineProcessor):
    """``$$x$$`` inside a line of text is display math in Obsidian; arithmatex only knows it as a
    block of its own and would read ``$`` + ``$x$`` + ``$``."""

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:  # noqa: N802
        el = etree.Element("span", {"class": "arithmatex"})
        el.text = AtomicString(f"\\[{m.group(1)}\\]")
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
        note, heading, alias = split_target(source_text(self, m.group(1)))
        shown = link_label(*split_target(m.group(1)))
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
        if suffix in SOUND_SUFFIXES:  # resolved with the images, by _ImageTreeprocessor
            shown_as = alias if alias and not _SIZE.match(alias) else note
            el = etree.Element("audio", {"src": note, "alt": shown_as, "data-embed": "1"})
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
        el.text = shown
        return el, m.start(0), m.end(0)


class _ImageTreeprocessor(Treeprocessor):
    """Point every ``<img>`` at a media file, or replace it with a visible placeholder; an
    embedded sound or video file becomes Anki's ``[sound:…]``, a web video a link."""

    def __init__(self, md: Markdown, ext: ObsidianExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        ctx = self.ext.context
        if ctx is None:
            return
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag in ("img", "audio"):
                    repl = self._replacement(ctx, child)
                    if repl is not None:
                        repl.tail = child.tail
                        parent.remove(child)
                        parent.insert(index, repl)

    def _replacement(self, ctx: RenderContext, img: etree.Element) -> etree.Element | None:
        """What stands in the image's place, or None when it stays, pointed at its media."""
        src = img.get("src", "")
        embedded = img.attrib.pop("data-embed", None) is not None
        if img.tag == "audio" or _suffix(src) in SOUND_SUFFIXES:
            return _sound(ctx, src, embedded, img.get("alt") or src)
        if is_web_video(src):
            ctx.problems.append(Problem(src, "notice", f"web video '{src}' cannot play in a "
                                        "card or on paper; shown as a link", "web-embed"))
            return _element("a", "web-embed", img.get("alt") or src, href=src)
        media, problem = ctx.image(src, embedded)
        if media is not None:
            img.set("src", media)
            return None
        if problem is not None:
            ctx.problems.append(problem)
        if urlsplit(src).scheme in ("http", "https"):
            return _element("a", "remote-image", img.get("alt") or src, href=src)
        return _element("span", "missing-image", f"Missing image: {unquote(src)}")


def _suffix(src: str) -> str:
    path = urlsplit(src).path if "://" in src else src
    return "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""


def _element(tag: str, css: str, text: str, **attributes: str) -> etree.Element:
    el = etree.Element(tag, {"class": css, **attributes})
    el.text = text
    return el


def _sound(ctx: RenderContext, src: str, embedded: bool, shown: str) -> etree.Element:
    """``[sound:<media name>]``, which Anki plays (the sheet shows the file's name), or a
    placeholder when the file cannot be used."""
    media, problem = ctx.sound(src, embedded)
    if media is None:
        if problem is not None:
            ctx.problems.append(problem)
        if urlsplit(src).scheme in ("http", "https"):
            return _element("a", "web-embed", shown, href=src)
        return _element("span", "missing-image", f"Missing audio: {unquote(src)}")
    name = unquote(src).rsplit("/", 1)[-1] if shown == src else shown
    return _element("span", "audio-file", f"[sound:{media}]", title=name)


def mermaid_fence(source: str, language: str, css_class: str, options: object, md: Markdown,
                  **kwargs: object) -> str:
    """A Mermaid diagram cannot be drawn here: its source, as a labelled code block."""
    return (f'<div class="diagram-source"><p class="code-label">{language.capitalize()} '
            f'diagram</p><pre><code>{html_escape(source)}</code></pre></div>')


# CommonMark and Obsidian need a space after the #s of a heading; Python-Markdown does not, so
# "#camelCase" (a tag) would be a heading. Its own block processor, with that rule added.
_HASH_HEADING = re.compile(
    r"(?:^|\n)(?P<level>#{1,6})(?=[ \t]|\n|$)(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)")


# Every inline pattern the renderer registers needs one of these to match; text without any is
# left as it is without trying each pattern on it (most of the inline pass on plain prose).
# tests/test_quick_inline.py fails when a pattern is added, so that this list is looked at.
INLINE_PATTERNS = frozenset({
    "backtick", "arithmatex-inline", "escape", "footnote", "reference", "link", "image_link",
    "image_reference", "short_reference", "short_image_ref", "autolink", "automail",
    "linebreak", "html", "magic-link", "magic-mail", "entity", "em_strong", "delimiter", "nl",
    "obsidian-display-math", "obsidian-tag", "obsidian-embed", "obsidian-link"})
_TRIGGERS = re.compile(r"[`$\\\[!<&@*_~=#:^\n]|www\.|ftp\.", re.IGNORECASE)


class _QuickInline(treeprocessors.InlineProcessor):
    """Python-Markdown's inline pass, which skips a text no inline pattern can match."""

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802,N803
        if not isinstance(data, AtomicString) and not _TRIGGERS.search(data):
            return data
        handle = super()._InlineProcessor__handleInline
        return str(handle(data, patternIndex))


class ObsidianExtension(Extension):
    """Registers the wikilink, embed and image handling on a Markdown instance."""

    def __init__(self) -> None:
        super().__init__()
        self.context: RenderContext | None = None

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802
        # After code spans (190) and inline math (189.9): both stay literal by construction.
        inline: list[tuple[InlineProcessor, str, float]] = [
            (_DisplayMathProcessor(DISPLAY_MATH.pattern), "obsidian-display-math", 189.95),
            (_TagProcessor(TAG_RE, self), "obsidian-tag", 187),
            (_EmbedProcessor(EMBED_RE, self), "obsidian-embed", 186),
            (_WikilinkProcessor(WIKILINK_RE, self), "obsidian-link", 185),
        ]
        for processor, name, priority in inline:
            processor.md = md
            md.inlinePatterns.register(processor, name, priority)
        brackets.register(md)  # Markdown's [link] patterns, linear on unclosed "[["
        if hasattr(treeprocessors.InlineProcessor, "_InlineProcessor__handleInline"):
            md.treeprocessors.register(_QuickInline(md), "inline", 20)  # Markdown's own place
        md.treeprocessors.register(_ImageTreeprocessor(md, self), "obsidian-images", 12)
        md.treeprocessors.register(CalloutTreeprocessor(md), "obsidian-callouts", 11)
        md.treeprocessors.register(BlockTreeprocessor(md), "obsidian-blocks", 10)
        md.parser.blockprocessors["hashheader"].RE = _HASH_HEADING
