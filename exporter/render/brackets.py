"""Python-Markdown's ``[link]``, ``![image]`` and ``[reference]`` patterns with a bracket scan
that is linear over a paragraph.

Each of the six patterns asks, at every ``[``, where its ``]`` is (``getText``), counting
nested brackets up to the end of the paragraph when there is none: ``[[`` × 8,000 on a line
took 27 s, and every unclosed wikilink (``![[Note#^``, ``[[a|``) is one more such ``[``. Here a
scan remembers, for every ``[`` it passes, where that bracket closes or that it never does;
a later scan jumps over a closed bracket and stops at one that never closes (nothing around it
can close either), so each bracket of a paragraph is looked at once per pattern.
"""

from __future__ import annotations

import re

from markdown import Markdown
from markdown import inlinepatterns as ip

_BRACKET = re.compile(r"[\[\]]")
_UNCLOSED = -1


class BracketScan:
    """Where the ``[`` whose text starts at a position closes, remembered across the texts one
    pattern sees in a paragraph.

    Python-Markdown only replaces text before the position a pattern has reached (an earlier
    link becomes a placeholder), so a position is keyed by its distance from the end of the
    text and what is known stays true for as long as the tail from there is the same.
    """

    def __init__(self) -> None:
        self.text = ""
        self.known: dict[int, int] = {}  # start, from the end → after its "]", from the end
        self.valid = 0  # what is known holds for starts at most this far from the end
        self.steps = 0  # brackets looked at, for tests: linear, not quadratic

    def close(self, data: str, index: int) -> tuple[str, int, bool]:
        """``getText``: the text up to the ``]`` that closes a ``[`` whose text starts at
        ``index``, the index after that ``]``, and whether there is one (no text if not)."""
        end = len(data)
        self._follow(data, end - index)
        if end - index not in self.known:
            self._scan(data, index)
        after = self.known[end - index]
        if after == _UNCLOSED:
            return "", end, False
        return data[index:end - after - 1], end - after, True

    def _follow(self, data: str, tail: int) -> None:
        """Keep what is known about ``data`` from ``tail`` before its end, if it holds."""
        if tail <= self.valid and data is self.text:
            return
        if tail <= self.valid and self.text.endswith(data[len(data) - tail:]):
            self.valid = tail  # an earlier part of the text became a placeholder
        else:
            self.known, self.valid = {}, len(data)
        self.text = data

    def _scan(self, data: str, index: int) -> None:
        """Pair the brackets from ``index`` on, until the one before it closes."""
        end, known = len(data), self.known
        opened = [end - index]
        pos = index
        while opened:
            m = _BRACKET.search(data, pos)
            if m is None:
                break
            self.steps += 1
            pos = m.end()
            if m.group() == "]":
                known[opened.pop()] = end - pos
                continue
            after = known.get(end - pos)
            if after is None:
                opened.append(end - pos)
            elif after == _UNCLOSED:
                break  # a bracket inside that never closes: nothing around it closes either
            else:
                pos = end - after
        for start in opened:
            known[start] = _UNCLOSED


class _Scanned(ip.LinkInlineProcessor):
    """A bracket pattern whose ``getText`` asks a :class:`BracketScan` of its own."""

    def __init__(self, pattern: str, md: Markdown) -> None:
        super().__init__(pattern, md)
        self.scan = BracketScan()

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802
        return self.scan.close(data, index)


class _Link(_Scanned):
    pass


class _Image(_Scanned, ip.ImageInlineProcessor):
    pass


class _Reference(_Scanned, ip.ReferenceInlineProcessor):
    pass


class _ImageReference(_Scanned, ip.ImageReferenceInlineProcessor):
    pass


class _ShortReference(_Scanned, ip.ShortReferenceInlineProcessor):
    pass


class _ShortImageReference(_Scanned, ip.ShortImageReferenceInlineProcessor):
    pass


# Python-Markdown's own names, classes, patterns and priorities (inlinepatterns.py).
_REPLACED: list[tuple[str, type[_Scanned], str, float]] = [
    ("reference", _Reference, ip.REFERENCE_RE, 170),
    ("link", _Link, ip.LINK_RE, 160),
    ("image_link", _Image, ip.IMAGE_LINK_RE, 150),
    ("image_reference", _ImageReference, ip.IMAGE_REFERENCE_RE, 140),
    ("short_reference", _ShortReference, ip.REFERENCE_RE, 130),
    ("short_image_ref", _ShortImageReference, ip.IMAGE_REFERENCE_RE, 125),
]


def register(md: Markdown) -> None:
    """Replace Python-Markdown's bracket patterns by the same ones with a linear scan."""
    for name, kind, pattern, priority in _REPLACED:
        md.inlinePatterns.register(kind(pattern, md), name, priority)
