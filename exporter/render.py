"""Render each section's Markdown to safe HTML, resolving links and images across the vault."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape as html_escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
import nh3

from .flashcards import first_unclosed, unwrap_clozes
from .model import Asset, Diagnostic, Note, Section, Vault
from .obsidian import (
    MAX_NESTING,
    ObsidianExtension,
    Problem,
    RenderContext,
    normalize,
    split_target,
)
from .remote import RemoteImageError, RemoteImages
from .vault import AssetIndex, OutsideVaultError

log = logging.getLogger(__name__)
_EMBED_LINE = re.compile(r"^\s*!\[\[([^\[\]\n|]+?)(?:\|[^\]]*)?\]\]\s*$")
MAX_EMBED_DEPTH = 10
_MARKUP = re.compile(r"[\\`*_\[\]!<>&$=~#%{}|^:\n]|https?:|www\.")
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")
_MATH_SPAN = re.compile(r"(\\\(.*?\\\)|\\\[.*?\\\])", re.S)

_EXTENSIONS = [
    "tables",
    "sane_lists",
    "nl2br",
    "footnotes",
    "pymdownx.superfences",
    "pymdownx.highlight",
    "pymdownx.tilde",
    "pymdownx.mark",
    "pymdownx.tasklist",
    "pymdownx.arithmatex",
    "md_in_html",
]
_EXTENSION_CONFIGS = {
    "pymdownx.highlight": {"use_pygments": True, "css_class": "highlight", "guess_lang": False},
    "pymdownx.tilde": {"subscript": False},
    "pymdownx.tasklist": {"custom_checkbox": False},
    "pymdownx.arithmatex": {"generic": True},
}

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "input": {"type", "checked", "disabled"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan"},
    "ol": {"start"},
    "details": {"open"},
}


AttributeFilter = Callable[[str, str, str], "str | None"]


def sanitize(html: str, attribute_filter: AttributeFilter | None = None) -> str:
    """Keep only an allow-list of tags, attributes and URL schemes: no script survives."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel=None,
    )


@dataclass
class NoteRendering:
    """What rendering one note produced: HTML per section and card, tags, problems, images."""

    sections: list[tuple[str, list[tuple[str, str]]]]
    tags: set[str]
    diagnostics: list[Diagnostic]
    images: list[Path]


class Renderer:
    """Turns the sections of every note into HTML, one Markdown instance reused throughout."""

    def __init__(self, vault: Vault, index: AssetIndex, notes_dir: Path,
                 check_links: bool = False, remote: RemoteImages | None = None) -> None:
        self.vault = vault
        self.remote = remote
        self.check_links = check_links
        self.index = index
        self.notes_dir = notes_dir
        self.ext = ObsidianExtension()
        self.md = markdown.Markdown(extensions=[*_EXTENSIONS, self.ext],
                                    extension_configs=_EXTENSION_CONFIGS, output_format="html")
        self._notes_by_title: dict[str, Note] = {}
        for note in vault.notes:
            name = note.relpath.rsplit("/", 1)[-1].removesuffix(".md")
            for key in (name, note.relpath.removesuffix(".md"), *note.aliases):
                self._notes_by_title.setdefault(key.lower(), note)

    def render_note(self, note: Note) -> NoteRendering:
        """Render every section of ``note``; what it produced, to apply in another process."""
        first_diagnostic, first_image = len(self.vault.diagnostics), len(self.index.order)
        for section in note.sections:
            try:
                self.render_section(note, section)
                self.render_items(note, section)
            except Exception as exc:  # a dependency crashing on one section must not stop the rest
                log.debug("rendering failed", exc_info=True)
                section.html = '<p class="missing-image">This section could not be rendered.</p>'
                self.vault.diagnostics.append(Diagnostic(
                    note.relpath, section.line, 1, "error",
                    f"section '{section.heading}' could not be rendered: "
                    f"{type(exc).__name__}: {exc}", "render-failed"))
        return NoteRendering(
            sections=[(s.html, [(i.front_html, i.back_html) for i in s.items])
                      for s in note.sections],
            tags=set(note.tags), diagnostics=self.vault.diagnostics[first_diagnostic:],
            images=self.index.order[first_image:])

    def apply(self, note: Note, rendering: NoteRendering) -> None:
        """Take a note's rendering made in a worker process into this process's vault."""
        for section, (html, items) in zip(note.sections, rendering.sections, strict=True):
            section.html = html
            for item, (front, back) in zip(section.items, items, strict=True):
                item.front_html, item.back_html = front, back
        note.tags |= rendering.tags
        self.vault.diagnostics.extend(rendering.diagnostics)
        for path in rendering.images:
            self.index.asset(path)

    def render_section(self, note: Note, section: Section) -> None:
        """Render one section's own body to sanitised HTML."""
        problems: list[Problem] = []
        label = f"{note.title} › {section.heading}" if section.level else note.title
        body = self._transclude(note, section.body, [(note.relpath, label)], problems)
        lines, too_deep = normalize(body)
        if too_deep:
            self.vault.diagnostics.append(Diagnostic(
                note.relpath, section.body_line + too_deep[0], 1, "warning",
                f"lists or quotes nested deeper than {MAX_NESTING} levels are flattened",
                "too-deep"))
        self._check_cloze(note, section)
        html, context = self._convert(note, lines, problems)
        section.html = _show_cloze_answers(html)
        note.tags |= context.tags
        self._report(note, section, problems)

    def render_items(self, note: Note, section: Section) -> None:
        """Render both sides of each card written in the section's own syntax."""
        for item in section.items:
            item.front_html = self.render_fragment(note, item.front)
            item.back_html = self.render_fragment(note, item.back)

    def render_fragment(self, note: Note, text: str) -> str:
        """A snippet of Markdown as sanitised HTML, without a lone wrapping paragraph.

        Problems in it were already reported with the section it belongs to.
        """
        if not text.strip():
            return ""
        if not _MARKUP.search(text):
            return html_escape(text.strip(), quote=False)  # plain words: no need for Markdown
        html = self._convert(note, normalize(text.split("\n"))[0], [])[0].strip()
        inner = html[3:-4]
        if html.startswith("<p>") and html.endswith("</p>") and "<p>" not in inner:
            return inner
        return html

    def _convert(self, note: Note, lines: list[str],
                 problems: list[Problem]) -> tuple[str, RenderContext]:
        """Markdown lines → sanitised HTML, with links, images and files resolved for ``note``."""
        note_path = self.notes_dir / note.relpath
        context = RenderContext(
            link=lambda target, heading, raw: self._link(note, target, heading, raw, problems),
            image=lambda src, embedded: self._image(src, embedded, note_path),
            file=self.index.has_file,
            problems=problems,
        )
        self.ext.context = context
        self.md.reset()
        try:
            html = self.md.convert("\n".join(lines))
        finally:
            self.ext.context = None
        html = _EMPTY_PARAGRAPH.sub("", html)  # a line that held only tags or a comment
        return sanitize(html, lambda tag, attr, value: self._attribute(
            tag, attr, value, note_path, problems)), context

    def _transclude(self, note: Note, lines: list[str], stack: list[tuple[str, str]],
                    problems: list[Problem]) -> list[str]:
        """Replace each line that is only ``![[Note]]`` or ``![[Note#Heading]]`` by that content."""
        out: list[str] = []
        for line in lines:
            match = _EMBED_LINE.match(line)
            target = self._embedded(note, match.group(1)) if match else None
            if match is None or target is None:
                out.append(line)
                continue
            other, sections, label = target
            key = (other.relpath, label)
            if key in stack or len(stack) > MAX_EMBED_DEPTH:
                why = ("embeds itself" if key in stack
                       else f"nests embeds over {MAX_EMBED_DEPTH} deep")
                problems.append(Problem(line.strip(), "warning", f"'{label}' {why}; shown as a "
                                        "link", "embed-cycle"))
                out.append(line)
                continue
            inner: list[str] = []
            for section in sections:
                if section is not sections[0] or not match.group(1).count("#"):
                    inner += ["", f"**{section.heading}**", ""] if section.level else []
                inner += section.body
            if other is not note:  # its own [[#Heading]] links still mean its headings
                name = other.relpath.removesuffix(".md")
                inner = [line.replace("[[#", f"[[{name}#") for line in inner]
            inner = self._transclude(other, inner, [*stack, key], problems)
            out += ["", '<div class="transclusion" markdown="1">', "",
                    f'<p class="transclusion-source">{html_escape(label)}</p>', "", *inner, "",
                    "</div>", ""]
        return out

    def _embedded(self, note: Note, raw: str) -> tuple[Note, list[Section], str] | None:
        """The note and sections an embed names (a heading brings its subsections along)."""
        target, heading, _ = split_target(raw)
        other = note if not target else self._notes_by_title.get(target.removesuffix(".md").lower())
        if other is None:
            return None
        if not heading:
            return other, other.sections, other.title
        for index, section in enumerate(other.sections):
            if section.heading.lower() == heading.lower():
                depth = len(section.path)
                rest = other.sections[index + 1:]
                end = next((i for i, s in enumerate(rest) if len(s.path) <= depth), len(rest))
                return other, [section, *rest[:end]], f"{other.title} › {section.heading}"
        return None

    def _check_cloze(self, note: Note, section: Section) -> None:
        """A ``{{c1::`` without its ``}}`` would break the card: report where it opens."""
        text = "\n".join(section.body)
        opened = first_unclosed(text)
        if opened is not None:
            line = text.count("\n", 0, opened)
            col = opened - (text.rfind("\n", 0, opened) + 1) + 1
            self.vault.diagnostics.append(Diagnostic(
                note.relpath, section.body_line + line, col, "warning",
                "cloze '{{c…::' is never closed with '}}'", "unclosed-cloze"))

    def _attribute(self, tag: str, attr: str, value: str, note_path: Path,
                   problems: list[Problem]) -> str | None:
        """Images in raw HTML go through the same resolver as Markdown images, or are dropped."""
        if tag != "img" or attr != "src" or value in self.index.names:
            return value
        media, problem = self._image(value, False, note_path)
        if problem is not None:
            problems.append(problem)
        return media

    def _link(self, note: Note, target: str, heading: str, raw: str,
              problems: list[Problem]) -> str | None:
        """The anchor a wikilink points to; None when its note is not part of the export."""
        target_note = note if not target else self._notes_by_title.get(target.lower())
        if target_note is None:
            # links to notes outside the export are normal in a vault: reported only on request
            if self.check_links:
                problems.append(Problem(raw, "warning", f"link to note '{target}' that is not "
                                        "in the notes folder", "missing-note"))
            return None
        if not heading:
            return "#" + target_note.anchor
        for section in target_note.sections:
            if section.heading.lower() == heading.lower():
                return "#" + section.anchor
        problems.append(Problem(raw, "warning", f"link to heading '#{heading}' that does not "
                                f"exist in '{target_note.relpath}'", "missing-heading"))
        return None

    def _image(self, src: str, embedded: bool,
               note_path: Path) -> tuple[str | None, Problem | None]:
        """Resolve an image reference to a media name, or explain why it cannot be."""
        parts = urlsplit(src)
        if parts.scheme or src.startswith("//"):
            if parts.scheme in ("http", "https"):
                return self._remote_image(src)
            return None, Problem(src, "error", f"image '{src}' uses a '{parts.scheme}:' URL; "
                                 "refused", "outside-vault")
        target = src if embedded else unquote(parts.path)
        # an embed is located by its opening "![[" so the column points at the embed itself
        where = f"![[{src}" if embedded else src
        try:
            found = self.index.resolve(target, note_path)
        except OutsideVaultError:
            return None, Problem(where, "error", f"image '{target}' is outside the notes and "
                                 "assets folders; refused", "outside-vault")
        if found is None:
            return None, Problem(where, "warning", f"image '{target}' not found in the assets "
                                 "or notes folders", "missing-image")
        why = self.index.why_unreadable(found)
        if why is not None:
            return None, Problem(where, "warning", f"image '{target}' {why}; left out",
                                 "bad-image")
        asset: Asset = self.index.asset(found)
        return asset.media_name, None

    def _remote_image(self, url: str) -> tuple[str | None, Problem | None]:
        if self.remote is None:
            return None, Problem(url, "warning", f"remote image '{url}' is not fetched "
                                 "(--allow-remote fetches it); kept as a link", "remote-image")
        try:
            path = self.remote.fetch(url)
        except RemoteImageError as exc:
            return None, Problem(url, "warning", f"remote image '{url}' could not be fetched: "
                                 f"{exc}; kept as a link", "remote-image-failed")
        asset = self.index.asset(path)
        return asset.media_name, None

    def _report(self, note: Note, section: Section, problems: list[Problem]) -> None:
        """Place each problem on the first mention in the section not already claimed."""
        claimed: list[tuple[int, int, int]] = []
        for problem in problems:
            line, col = _locate(section, problem.text, claimed)
            self.vault.diagnostics.append(Diagnostic(note.relpath, line, col,
                                                     problem.severity,  # type: ignore[arg-type]
                                                     problem.message, problem.code))


def _show_cloze_answers(section_html: str) -> str:
    """The sheet and the section card show a cloze's answer, marked; inside math, plain."""
    if "{{c" not in section_html:
        return section_html
    parts = _MATH_SPAN.split(section_html)
    return "".join(unwrap_clozes(part, "{}" if index % 2 else '<span class="cloze-text">{}</span>')
                   for index, part in enumerate(parts))


def _locate(section: Section, text: str, claimed: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Line and column (1-based) of the first unclaimed mention of ``text`` in the section."""
    for offset, line in enumerate(section.body):
        start = line.find(text)
        while start != -1:
            end = start + len(text)
            if not any(o == offset and s < end and start < e for o, s, e in claimed):
                claimed.append((offset, start, end))
                return section.body_line + offset, start + 1
            start = line.find(text, start + 1)
    return section.line, 1
