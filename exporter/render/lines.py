"""Line fixes before Markdown: Obsidian is CommonMark-like, Python-Markdown is stricter.

Lists may start right under text and nest by any indent, tables and fences may follow text,
``1)`` lists are ordered, a fence may sit in a callout, a blank line ends a quote; block ids and
the ``+++`` end marker are not shown. Code (per :mod:`exporter.scan`) is passed through as is.
"""

from __future__ import annotations

import re

from exporter.core.scan import FENCE, HIDDEN, INDENTED, MATH, Scanner, quote_depth
from exporter.core.text import BLOCK_ID_LINE, END_MARKER, split_block_id

_LIST_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+|$)")
_TABLE_ROW = re.compile(r"^\s*\|")
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*>)+")
MAX_PARAGRAPH = 200


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
        if BLOCK_ID_LINE.match(_QUOTE_MARKERS.sub("", line)) or line.strip() == END_MARKER:
            return  # block ids (in a quote too) and the end marker of cards are not shown
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
