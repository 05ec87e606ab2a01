"""Render each section's Markdown to safe HTML, resolving links and images across the vault."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from html import escape as html_escape
from pathlib import Path

import markdown
import nh3

from exporter.core.model import Diagnostic, Note, Section, Vault
from exporter.core.scan import HIDDEN, TEXT, kinds
from exporter.core.text import is_literal, literal_spans
from exporter.read.cloze import first_unclosed
from exporter.read.vault import AssetIndex
from exporter.render.htmlfix import (
    no_placeholders,
    safe_math_links,
    scope_footnotes,
    show_cloze_answers,
)
from exporter.render.locate import Finder, Source
from exporter.render.obsidian import (
    MAX_NESTING,
    ObsidianExtension,
    Problem,
    RenderContext,
    mermaid_fence,
    normalize,
    split_target,
)
from exporter.render.remote import RemoteImages
from exporter.render.resolve import Resolver
from exporter.render.transclude import (
    MAX_TRANSCLUDED_LINES,
    MAX_TRANSCLUSIONS,
    Budget,
    Target,
    escapes,
    find,
    unfilled,
)
from exporter.render.webembed import iframes

log = logging.getLogger(__name__)
_EMBED_LINE = re.compile(r"^\s*!\[\[([^\[\]\n|]+?)(?:\|[^\]]*)?\]\]\s*$")
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")
_LINK_TAG = re.compile(r"<a\b[^>]*?(?: class=\"([^\"]*)\")?[^>]*>(.*?)</a>", re.S)
MAX_EMBED_DEPTH = 10
_MARKUP = re.compile(r"[\\`*_\[\]!<>&$=~#%{}|^:\n]|https?:|www\.")
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")

_EXTENSIONS = [
    "tables",
    "sane_lists",
    "nl2br",
    "footnotes",
    "pymdownx.superfences",
    "pymdownx.highlight",
    "pymdownx.tilde",
    "pymdownx.mark",
    "pymdownx.magiclink",
    "pymdownx.arithmatex",
    "md_in_html",
]
_EXTENSION_CONFIGS = {
    "pymdownx.highlight": {"use_pygments": True, "css_class": "highlight", "guess_lang": False},
    "pymdownx.tilde": {"subscript": False},
    "pymdownx.superfences": {"custom_fences": [
        {"name": "mermaid", "class": "mermaid", "format": mermaid_fence}]},
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

    sections: list[tuple[str, str, str, list[tuple[str, str]]]]
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
        self.resolver = Resolver(index, notes_dir, vault.notes, check_links, remote)

    def take_markdown(self, earlier: Renderer) -> None:
        """Use the Markdown set up by an earlier renderer, if it made one (``watch`` makes a
        renderer per round; setting Markdown up costs more than rendering a note)."""
        if "md" in earlier.__dict__:  # what cached_property made
            self.ext, self.__dict__["md"] = earlier.ext, earlier.md

    @cached_property
    def md(self) -> markdown.Markdown:
        """One Markdown instance, made when a first note is rendered (a warm run may not)."""
        return markdown.Markdown(extensions=[*_EXTENSIONS, self.ext],
                                 extension_configs=_EXTENSION_CONFIGS, output_format="html")

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
        _fronts(note)
        # A footnote cited by two sections is rendered twice: its problems are reported once.
        made = self.vault.diagnostics[first_diagnostic:]
        self.vault.diagnostics[first_diagnostic:] = list(dict.fromkeys(made))
        return NoteRendering(
            sections=[(s.html, s.heading_html, s.front_html,
                       [(i.front_html, i.back_html) for i in s.items]) for s in note.sections],
            tags=set(note.tags), diagnostics=self.vault.diagnostics[first_diagnostic:],
            images=self.index.order[first_image:])

    def apply(self, note: Note, rendering: NoteRendering) -> None:
        """Take a note's rendering made in a worker process into this process's vault."""
        for section, (html, heading, front, items) in zip(note.sections, rendering.sections,
                                                          strict=True):
            section.html, section.heading_html, section.front_html = html, heading, front
            for item, (front_html, back_html) in zip(section.items, items, strict=True):
                item.front_html, item.back_html = front_html, back_html
        note.tags |= rendering.tags
        self.vault.diagnostics.extend(rendering.diagnostics)
        for path in rendering.images:
            self.index.asset(path)

    def render_section(self, note: Note, section: Section) -> None:
        """Render one section's own body (and its heading) to sanitised HTML."""
        problems: list[Problem] = []
        source = Source([(section.line, "#" * section.level + " " + section.heading)]
                         if section.level else [], [])
        source.lines += [(section.body_line + i, line) for i, line in enumerate(section.body)]
        section.heading_html = self.render_heading(note, section.heading, problems)
        note.tags |= section.tags
        label = f"{note.title} › {section.heading}" if section.level else note.title
        budget = Budget()
        body = self._transclude(note, section.body, [(note.relpath, label)], problems, source,
                                budget)
        body += self._footnotes(note, section.body, source)
        lines, too_deep = normalize(body)
        if too_deep:
            too_deep = normalize(section.body)[1]  # where in the note's own lines, if there
        if too_deep:
            self.vault.diagnostics.append(Diagnostic(
                note.relpath, section.body_line + too_deep[0], 1, "warning",
                f"lists or quotes nested deeper than {MAX_NESTING} levels are flattened",
                "too-deep"))
        self._check_cloze(note, section)
        html, context = self._convert(note, lines, problems)
        section.html = scope_footnotes(show_cloze_answers(html), section.anchor)
        note.tags |= context.tags
        self._report(note, section, problems, source)

    def render_heading(self, note: Note, heading: str, problems: list[Problem]) -> str:
        """A heading's inline Markdown as HTML: code as code, links as their text."""
        if not _MARKUP.search(heading):
            return html_escape(heading.strip(), quote=False)
        html, context = self._convert(note, [heading.replace("\n", " ")], problems)
        html = html.strip()
        if html.startswith("<p>") and html.endswith("</p>"):
            html = html[3:-4]
        note.tags |= context.tags
        return _LINK_TAG.sub(lambda m: f'<span class="{m.group(1) or "link"}">{m.group(2)}'
                             "</span>", html)

    def render_items(self, note: Note, section: Section) -> None:
        """Render both sides of each card written in the section's own syntax."""
        for item in section.items:
            item.front_html = self.render_fragment(note, item.front)
            item.back_html = self.render_fragment(note, item.back)

    def render_fragment(self, note: Note, text: str) -> str:
        """A snippet of Markdown as sanitised HTML, without a lone wrapping paragraph; it
        carries the definitions of the footnotes it cites.

        Problems in it were already reported with the section it belongs to.
        """
        if HIDDEN in text:  # a card's lines may span a comment
            text = "\n".join(line for line in text.split("\n") if line != HIDDEN)
        if not text.strip():
            return ""
        if not _MARKUP.search(text):
            return html_escape(text.strip(), quote=False)  # plain words: no need for Markdown
        lines = text.split("\n")
        lines += self._footnotes(note, lines, Source([], []))
        html = self._convert(note, normalize(lines)[0], [])[0].strip()
        inner = html[3:-4]
        if html.startswith("<p>") and html.endswith("</p>") and "<p>" not in inner:
            return inner
        return html

    def _footnotes(self, note: Note, lines: list[str], source: Source) -> list[str]:
        """The definitions of the footnotes these lines cite, from anywhere in the note."""
        if not note.footnotes or "[^" not in "".join(lines):
            return []
        cited: list[str] = []
        for line, kind in zip(lines, kinds(lines), strict=True):
            if kind != TEXT or "[^" not in line:
                continue
            spans = literal_spans(line)
            cited += [m.group(1) for m in _FOOTNOTE_REF.finditer(line)
                      if m.group(1) in note.footnotes and m.group(1) not in cited
                      and not is_literal(spans, m.start())]
        out: list[str] = []
        for label in cited:
            out.append("")
            for number, text in note.footnotes[label]:
                source.lines.append((number, text))
                out.append(text)
        return out

    def _convert(self, note: Note, lines: list[str],
                 problems: list[Problem]) -> tuple[str, RenderContext]:
        """Markdown lines → sanitised HTML, with links, images and files resolved for ``note``."""
        note_path = self.notes_dir / note.relpath
        context = RenderContext(
            link=lambda target, heading, raw: self.resolver.link(note, target, heading, raw,
                                                                 problems),
            image=lambda src, embedded: self.resolver.image(src, embedded, note_path),
            sound=lambda src, embedded: self.resolver.sound(src, embedded, note_path),
            file=lambda name: self.index.has_file(name) and not escapes(note.relpath, name),
            problems=problems,
        )
        self.ext.context = context
        self.md.reset()
        try:
            html = no_placeholders(self.md.convert("\n".join(lines)))
        finally:
            self.ext.context = None
        html = _EMPTY_PARAGRAPH.sub("", html)  # a line that held only tags or a comment
        html, frames = iframes(html)  # the sanitiser would drop them without a trace
        problems += [Problem(text, "notice", message, "web-embed") for text, message in frames]
        return safe_math_links(sanitize(html, lambda tag, attr, value: self.resolver.attribute(
            tag, attr, value, note_path, problems))), context

    def _transclude(self, note: Note, lines: list[str], stack: list[tuple[str, str]],
                    problems: list[Problem], source: Source, budget: Budget) -> list[str]:
        """Replace each line that is only ``![[Note]]``, ``![[Note#Heading]]`` or
        ``![[Note#^block]]`` by that content (never inside code)."""
        if not any("![[" in line for line in lines):
            return list(lines)
        out: list[str] = []
        for line, kind in zip(lines, kinds(lines), strict=True):
            match = _EMBED_LINE.match(line) if kind == TEXT and "![[" in line else None
            target = self._embedded(note, match.group(1)) if match else None
            if match is None or target is None:
                out.append(line)
                continue
            key = (target.note.relpath, target.label)
            if len(stack) == 1:
                budget.top = line.strip()
            if key in stack or len(stack) > MAX_EMBED_DEPTH:
                why = ("embeds itself" if key in stack
                       else f"nests embeds over {MAX_EMBED_DEPTH} deep")
                problems.append(Problem(line.strip(), "warning", f"'{target.label}' {why}; shown "
                                        "as a link", "embed-cycle"))
                out.append(line)
                continue
            if target.label.rsplit(" › ", 1)[-1].startswith("^") and unfilled(target):
                problems.append(Problem(line.strip(), "warning", f"'{target.label}' names no "
                                        "block that can be shown; shown as a link",
                                        "empty-block"))
                out.append(line)
                continue
            if not budget.spend(len(target.lines)):
                if not budget.reported:
                    budget.reported = True
                    problems.append(Problem(budget.top, "warning", "embeds here bring in over "
                                            f"{MAX_TRANSCLUDED_LINES:,} lines or "
                                            f"{MAX_TRANSCLUSIONS} embeds; the rest are shown "
                                            "as links", "embed-limit"))
                out.append(line)
                continue
            inner = target.lines
            if target.note is not note:  # its own [[#Heading]] links still mean its headings
                name = target.note.relpath.removesuffix(".md")
                inner = [line.replace("[[#", f"[[{name}#") for line in inner]
                source.foreign += inner
            inner = self._transclude(target.note, inner, [*stack, key], problems, source, budget)
            out += ["", '<div class="transclusion" markdown="1">', "",
                    f'<p class="transclusion-source">{html_escape(target.label)}</p>', "",
                    *inner, "", "</div>", ""]
        return out

    def _embedded(self, note: Note, raw: str) -> Target | None:
        """What an embed names (a heading brings its subsections along), or None."""
        target, heading, _ = split_target(raw)
        if target and escapes(note.relpath, target):
            return None  # refused where the embed is rendered
        titles = self.resolver.notes_by_title
        other = note if not target else titles.get(target.removesuffix(".md").lower())
        if other is None:
            return None
        return find(other, heading, self.resolver.places)

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

    def _report(self, note: Note, section: Section, problems: list[Problem],
                source: Source) -> None:
        """Place each problem on the first mention in the section not already claimed; one
        about a line transcluded from another note is reported with that note instead."""
        finder = Finder(source.lines)
        for problem in problems:
            where = finder.locate(problem.text, problem.code)
            # Text rebuilt from Markdown may differ from the source after a code span, a line
            # break or a tab (Markdown expands tabs): its first part is enough to find the line.
            text = problem.text
            for part in (text.split("\n")[0], text.split("`")[0], (text.split() or [""])[0]):
                if where is None and len(part) >= 3 and part != text:
                    where = finder.locate(part, problem.code)
            if where is None:
                if any(problem.text in line for line in source.foreign):
                    continue
                where = (section.line, 1)
            self.vault.diagnostics.append(Diagnostic(note.relpath, where[0], where[1],
                                                     problem.severity,  # type: ignore[arg-type]
                                                     problem.message, problem.code))


def _fronts(note: Note) -> None:
    """Each section's card front: its heading path with every heading rendered."""
    rendered: dict[tuple[str, ...], str] = {}
    for section in note.sections:
        heading = section.heading_html or html_escape(section.heading, quote=False)
        if section.level:
            rendered[section.path] = heading
        parts = [rendered.get(section.path[:i + 1], html_escape(section.path[i], quote=False))
                 for i in range(len(section.path))]
        section.front_html = html_escape(" › ").join(parts)
