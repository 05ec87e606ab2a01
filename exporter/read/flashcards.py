"""Cards written in a note's own syntax: ``Term = Definition``, ``Term::Definition``,
``Term:::Definition``, multi-line ``?``/``??`` questions, ``{{c1::cloze}}`` deletions, and the
flashcard plugins' forms: a heading or line tagged ``#card``, clozes written as
``==highlights==``, ``**bold**``, ``{{braces}}`` or ``{braces}``.

Which forms and separators a note uses comes from :class:`plugins.CardSyntax`. Inside code and
math every form is literal. Each section also gets its *display* lines: the card syntax as a
reader sees it (``Term — Definition``, no ``?`` lines, no ``#card`` tags, clozes highlighted).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from exporter.core import scan
from exporter.core.model import ANSWER_MARK, CardItem, Diagnostic, Note, Section
from exporter.core.text import BLOCK_ID_LINE, split_block_id
from exporter.read import srsyntax
from exporter.read.cloze import CLOZE, MAX_CLOZE, cloze_spans, convert, mask, pattern_start
from exporter.read.plugins import CardSyntax

_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_DEFINITION = re.compile(r"^(?P<front>[^=`$\\]{1,80}?)\s+=\s+(?P<back>[^=>].*)$")
_TAGS_ONLY = re.compile(r"^\s*(?:#[\w/-]+\s*)+$")

Report = Callable[[int, int, str, str, str], None]  # line, column, severity, message, code


@dataclass
class Extraction:
    """The cards a section writes in its own syntax, and its lines as a reader sees them."""

    items: list[CardItem] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    tagged: bool = False  # a card made by the Flashcards plugin's #card tag


def extract(section: Section, syntax: CardSyntax, report: Report | None = None) -> Extraction:
    """The cards written in a section's own lines, in line order, and its display lines."""
    return _Reader(section, syntax, report or (lambda *args: None)).run()


def read_note_cards(note: Note, syntax: CardSyntax | None,
                    diagnostics: list[Diagnostic]) -> None:
    """Fill each section's cards (none when ``syntax`` is None) and its display lines."""
    marking = syntax or CardSyntax()
    note.card_tags, note.deck_tags = marking.marker_tags, marking.deck_tags
    if syntax is None:
        return

    def report(line: int, col: int, severity: str, message: str, code: str) -> None:
        diagnostics.append(Diagnostic(note.relpath, line, col, severity,  # type: ignore[arg-type]
                                      message, code))

    note.plugin_cards = syntax.plugin
    for section in note.sections:
        result = extract(section, syntax, report)
        section.items, section.body = result.items, result.display
        # A #card says the note is written for the Flashcards plugin.
        note.plugin_cards = note.plugin_cards or result.tagged


class _Reader:
    def __init__(self, section: Section, syntax: CardSyntax, report: Report) -> None:
        self.section = section
        self.raw = section.body
        self.first = section.body_line
        self.syntax = syntax
        self.report = report
        # text lines only: fenced (also in a callout) and indented code and $$ math are literal
        self.kinds = scan.kinds(self.raw)
        # HTML comments hold no cards; the plugin's scheduling comments are no card's text
        self.body, self.scheduled = srsyntax.without_comments(self.raw, self.kinds)
        self.visible = [i for i, kind in enumerate(self.kinds) if kind == scan.TEXT]
        self.is_visible = set(self.visible)
        self.consumed: set[int] = set()
        self.out = Extraction(display=list(self.raw))
        self.markers = [i for i, line in enumerate(self.body)
                        if syntax.end_marker and line.strip() == syntax.end_marker]
        # What a line must hold to be worth reading for one-line cards.
        optional = {"==": syntax.highlight_cloze, "**": syntax.bold_cloze,
                    "{": syntax.curly_cloze or syntax.double_curly_cloze}
        self.tokens = {syntax.inline, syntax.inline_reversed, "{{c", " = "} - {""} | \
            {token for token, used in optional.items() if used} | \
            {start for p in syntax.custom_clozes if (start := pattern_start(p))}
        self.tag_text = "#" + syntax.card_tag.lower()
        tag = re.escape(syntax.card_tag)
        self.card_tag = re.compile(
            rf"(?:^|(?<=\s))#{tag}(?P<kind>[-/](?:reverse|spaced))?(?![\w/-])"
            r"(?P<more>(?:\s+#[\w/-]+)*)\s*$", re.I)

    def run(self) -> Extraction:
        self._heading_card()
        self._tagged_lines()
        separators = {sep for sep in self._separators if sep}
        for index in self.visible:
            if self.body[index].strip() in separators and index not in self.consumed:
                self._multiline(index)
        for index in self.visible:
            if index not in self.consumed:
                self._single(index)
        self.out.items.sort(key=lambda i: i.line)
        return self.out

    @property
    def _separators(self) -> tuple[str, str]:
        return self.syntax.multiline, self.syntax.multiline_reversed

    # --- the Flashcards plugin: a heading or a line tagged #card ------------------------------

    def _tag_kind(self, tags: set[str]) -> str | None:
        base = self.syntax.card_tag.lower()
        for tag in (t.lower() for t in tags):
            if tag in (f"{base}-reverse", f"{base}/reverse"):
                return "qa-reversed"
            if tag in (base, f"{base}-spaced", f"{base}/spaced"):
                return "qa"
        return None

    def _heading_card(self) -> None:
        """``## Question #card`` (or ``#card`` alone on the first line under it): the heading is
        the front, the whole section the back."""
        section = self.section
        if not section.level:
            return
        kind = self._tag_kind(section.tags)
        first = next((i for i in self.visible if self.body[i].strip()), None)
        if first is not None and _TAGS_ONLY.match(self.body[first]):
            match = self.card_tag.search(self.body[first].strip())
            if match:
                kind = kind or _kind_of(match)
                self.consumed.add(first)
                self.out.display[first] = ""
        if kind is None:
            return
        back = "\n".join(self.out.display).strip()
        if not back:
            self.report(section.line, 1, "warning", f"'{section.heading}' is tagged as a card "
                        "but has no answer under it; no card made", "empty-card")
            return
        front = " › ".join(section.path) if self.syntax.context_aware else section.heading
        self.out.tagged = True
        self.out.items.append(CardItem(kind, section.heading, _escape_front(front), back,
                                       section.line, section.block_id, whole_section=True))

    def _tagged_lines(self) -> None:
        """``Question #card`` then the answer: the rest of the paragraph, else the next block."""
        for index in self.visible:
            if index in self.consumed:
                continue
            line = self.body[index]
            if self.tag_text not in line.lower():
                continue
            match = self.card_tag.search(mask(line))
            if match is None:
                continue
            front_text = _BULLET.sub("", line[:match.start()]).strip()
            start = index
            if not front_text and index - 1 in self.is_visible and \
                    self.body[index - 1].strip() and index - 1 not in self.consumed:
                start, front_text = index - 1, _BULLET.sub("", self.body[index - 1]).strip()
            answer = self._answer_lines(index)
            self.out.display[index] = line[:match.start()].rstrip()
            self.consumed |= set(range(start, index + 1)) | set(answer)
            back = "\n".join(self.body[i] for i in answer).strip()
            if not front_text or not back:
                self.report(self.first + index, match.start() + 1, "warning",
                            f"'#{self.syntax.card_tag}' has no "
                            f"{'question' if not front_text else 'answer'}; no card made",
                            "empty-card")
                continue
            front_text, block_id = split_block_id(front_text)
            self.out.tagged = True
            self.out.items.append(CardItem(_kind_of(match), front_text, front_text, back,
                                           self.first + start, block_id))

    def _answer_lines(self, index: int) -> list[int]:
        """The lines after a tagged line up to a blank line; if none, the next block."""
        end = index + 1
        while end < len(self.body) and end in self.is_visible and self.body[end].strip() \
                and not self._tagged(end):
            end += 1
        if end > index + 1:
            return list(range(index + 1, end))
        start = end
        while start < len(self.body) and not self.body[start].strip():
            start += 1
        end = start
        while end < len(self.body) and (self.body[end].strip() or self.kinds[end] == scan.FENCE):
            if end in self.is_visible and self._tagged(end):
                break
            end += 1
        return list(range(start, end))

    def _tagged(self, index: int) -> bool:
        line = self.body[index]
        return self.tag_text in line.lower() and bool(self.card_tag.search(mask(line)))

    # --- multi-line questions: lines, a "?" line, the answer ----------------------------------

    def _multiline(self, sep: int) -> None:
        """Question lines (back to a blank line, or to a card above), a line with only ``?``
        (``??``: both ways), then the answer: up to a blank line outside code, or up to the end
        marker line when the answer holds blank lines."""
        body = self.body
        start = sep
        while start > 0 and self._filled(start - 1) and start - 1 in self.is_visible \
                and start - 1 not in self.consumed and not self._is_inline(start - 1):
            start -= 1
        end = self._answer_end(sep)
        question = [split_block_id(line)[0] for line in body[start:sep]]
        answer = [split_block_id(line)[0] for line in body[sep + 1:end]]
        front = srsyntax.without_deck_tag("\n".join(question).strip(), self.syntax.deck_tags)
        if not front.strip() or not "".join(answer).strip():
            return
        block_id = next((b for line in body[start:end] if (b := split_block_id(line)[1])), None)
        kind = "qa-reversed" if body[sep].strip() == self.syntax.multiline_reversed else "qa"
        last = end - 1  # up to the end marker, as the plugin counts; else the last text line
        while last > sep and not self._filled(last) and end not in self.markers:
            last -= 1
        self.out.items.append(CardItem(kind, "\n".join(question).strip(), front.strip("\n"),
                                       "\n".join(answer).strip("\n").rstrip(),
                                       self.first + start, block_id,
                                       last_line=self.first + last))
        self.consumed |= set(range(start, min(end + 1, len(body))))
        self.out.display[sep] = ""
        if end < len(body) and self.markers and body[end].strip() == self.syntax.end_marker:
            self.out.display[end] = ""

    def _answer_end(self, sep: int) -> int:
        """The line after a multi-line card's answer: the next end marker, else the first blank
        line (outside code) after the answer's first line."""
        body = self.body
        after = bisect.bisect_right(self.markers, sep)
        if after < len(self.markers):
            return self.markers[after]
        first = next((i for i in range(sep + 1, len(body)) if self._filled(i)), len(body))
        return next((i for i in range(first, len(body))
                     if not self._filled(i) and self.kinds[i] == scan.TEXT), len(body))

    def _filled(self, index: int) -> bool:
        """The line holds something: text, or the plugin's scheduling comment."""
        return bool(self.body[index].strip()) or index in self.scheduled

    def _is_inline(self, index: int) -> bool:
        """The line is a one-line ``Term::Definition`` card of its own."""
        line = split_block_id(self.body[index])[0].strip()
        text = _BULLET.sub("", line)
        if "{{c" in text and CLOZE.search(mask(text, math=False)):
            return False  # a written deletion, not a separator
        return any(sep and sep in text for sep in (self.syntax.inline,
                                                   self.syntax.inline_reversed)) \
            and not text.startswith("|") and self._inline(text, mask(text)) is not None

    # --- one line: cloze, Term::Definition, Term = Definition ---------------------------------

    def _single(self, index: int) -> None:
        raw = self.body[index]
        line, block_id = split_block_id(raw)
        bullet = _BULLET.match(line)
        offset = bullet.end() if bullet else len(line) - len(line.lstrip())
        text = line[offset:].rstrip()
        if not text or BLOCK_ID_LINE.match(text):
            return
        if not any(token in text for token in self.tokens):
            return  # most lines hold no card syntax at all
        number = self.first + index
        masked = mask(text)
        if "{{c" in text and CLOZE.search(mask(text, math=False)) and not cloze_spans(text):
            return  # a deletion never closed: no card of any kind (the render reports it)
        cloze, shown = convert(text, masked, self.syntax)
        if cloze is not None:
            self._show(index, offset, text, shown)
            self._cloze(index, offset, (bool(bullet) and not self._lists_join)
                        or not self.syntax.cloze_paragraphs)
            return
        qa = None if text.startswith("|") else self._inline(text, masked)  # not a table row
        if qa is not None:
            kind, front, back, sep_at, sep_end = qa
            last = index + srsyntax.metadata_lines(self.raw, index)
            shown_front = srsyntax.without_deck_tag(front, self.syntax.deck_tags).strip()
            self.out.items.append(CardItem(kind, front, shown_front or front, back, number,
                                           block_id, last_line=self.first + last))
            self.consumed |= set(range(index, last + 1))
            for metadata in range(index + 1, last + 1):
                self.out.display[metadata] = ""
            self._show(index, offset, text, text[:sep_at].rstrip() + ANSWER_MARK
                       + text[sep_end:].lstrip())
            return
        definition = _DEFINITION.match(text)
        if definition:
            # "ECS = …" asks for the definition, and never reads like the heading "ECS".
            term = definition.group("front")
            self.out.items.append(CardItem("definition", term, f"{term} = …",
                                           definition.group("back"), number, block_id))

    def _show(self, index: int, offset: int, text: str, shown: str) -> None:
        """The line as a reader sees it: ``shown`` in place of its card syntax."""
        raw = self.raw[index]
        self.out.display[index] = raw[:offset] + shown + raw[offset + len(text):]

    def _cloze(self, index: int, offset: int, listed: bool) -> None:
        """The cloze card of the paragraph that holds line ``index``: its lines from the last
        blank line to the next (a list item is a paragraph of its own), or to the end marker."""
        lines = [index] if listed else self._paragraph(index)
        lines = self._to_end_marker(lines)
        for other in lines[1:]:
            self._show_deletions(other)
        texts = [split_block_id(self.body[i]) for i in lines]
        block_id = next((b for _, b in texts if b), None)
        joined = "\n".join(_BULLET.sub("", t, count=1) if listed else t
                           for t, _ in texts).strip()
        cloze, _ = convert(joined, mask(joined), self.syntax)
        self.consumed |= set(lines)
        if cloze is not None and self._cloze_numbers_ok(cloze, self.first + lines[0], offset):
            ends = lines[-1] + 1 in self.markers  # up to the end marker, as the plugin counts
            last = lines[-1] if ends else max(i for i in lines if self._filled(i))
            self.out.items.append(CardItem("cloze", cloze, cloze, "", self.first + lines[0],
                                           block_id, last_line=self.first + last))

    @property
    def _lists_join(self) -> bool:
        """A list's lines are one paragraph, as the Spaced Repetition plugin reads them (one
        cloze note for a list without blank lines); in other notes each item is its own."""
        return self.syntax.plugin and self.syntax.cloze_paragraphs

    def _paragraph(self, index: int) -> list[int]:
        """The lines of the paragraph around ``index``, up to blank lines, list items (unless
        lists join), other cards and code."""
        def joins(i: int) -> bool:
            return 0 <= i < len(self.body) and i in self.is_visible and self._filled(i) \
                and i not in self.consumed \
                and (self._lists_join or not _BULLET.match(self.body[i])) \
                and not self._is_inline(i)

        start, end = index, index + 1
        while joins(start - 1):
            start -= 1
        while joins(end) and self.body[end].strip() not in self._separators:
            end += 1
        return list(range(start, end))

    def _to_end_marker(self, lines: list[int]) -> list[int]:
        """With an end marker below and only plain text before it, the card runs up to it."""
        after = bisect.bisect_right(self.markers, lines[-1])
        if after == len(self.markers):
            return lines
        marker = self.markers[after]
        between = range(lines[-1] + 1, marker)
        if any(i in self.consumed or self.body[i].strip() in self._separators
               or (self._filled(i) and i not in self.is_visible) or self._is_inline(i)
               for i in between):
            return lines
        self.out.display[marker] = ""
        return [*lines, *between]

    def _show_deletions(self, index: int) -> None:
        """Another line of a cloze paragraph, its deletions shown highlighted."""
        line = split_block_id(self.body[index])[0]
        offset = len(line) - len(line.lstrip())
        text = line[offset:].rstrip()
        if text:
            shown = convert(text, mask(text), self.syntax)[1]
            self._show(index, offset, text, shown)

    def _cloze_numbers_ok(self, cloze: str, number: int, offset: int) -> bool:
        """Anki numbers clozes from 1 to 65535; any other number fails the whole import."""
        for match in CLOZE.finditer(mask(cloze, math=False)):
            value = int(match.group(1))
            if not 1 <= value <= MAX_CLOZE:
                self.report(number, offset + 1, "error", f"cloze number c{value} is outside "
                            f"Anki's range (1 to {MAX_CLOZE}); this card is left out",
                            "bad-cloze-number")
                return False
        return True

    def _inline(self, text: str, masked: str) -> tuple[str, str, str, int, int] | None:
        """``Term::Definition`` (``:::`` both ways): exactly one separator outside code."""
        normal, reverse = self.syntax.inline, self.syntax.inline_reversed
        longest = sorted({s for s in (normal, reverse) if s}, key=len, reverse=True)
        if not longest:
            return None
        found = list(re.finditer("|".join(re.escape(s) for s in longest), masked))
        if len(found) != 1:
            return None
        match = found[0]
        sep = match.group()
        before = masked[match.start() - 1:match.start()]
        after = masked[match.end():match.end() + 1]
        if before == sep[0] or after == sep[-1]:
            return None  # part of a longer run such as "::::"
        front, back = text[:match.start()].strip(), text[match.end():].strip()
        if not front or not back or "://" in front[-3:] + sep + back[:2]:
            return None
        kind = "qa-reversed" if sep == reverse and reverse != normal else "qa"
        return kind, front, back, match.start(), match.end()


def _kind_of(match: re.Match[str]) -> str:
    kind = (match.group("kind") or "").lower()
    return "qa-reversed" if kind.endswith("reverse") else "qa"


def _escape_front(text: str) -> str:
    """A heading path as Markdown that renders as itself (a leading number is not a list)."""
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)


