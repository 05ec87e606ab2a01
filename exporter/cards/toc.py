"""Tables of contents: a section that only points at other notes makes no card.

A section is a table of contents when it holds at least one such link and nothing of its own
is left once every line of its text loses, in this order:

1. quote and callout markers (``>``, ``[!note]``), list bullets and numbers, task boxes;
2. links: wikilinks to a note or a file (``[[Note]]``, ``[[Note#Heading|label]]``,
   ``[[#Heading]]``, ``[[slides.pdf]]``), Markdown links to a ``.md`` file or a ``#heading``,
   and embeds of notes (``![[Note]]``, ``![[Note#Part]]``), which only repeat another card;
3. tags, block ids and emphasis marks (``*``, ``_``, ``~``, ``=``);
4. a label of one to three words ending in a colon that opens the line (``See also:``,
   ``Related notes:``, ``up::``), or a whole line that is one of :data:`LEAD_WORDS`;
5. separators and punctuation: whatever is not a letter or a digit (``---``, ``|``, ``,``, ``→``).

"Nothing left" means no letter or digit. So a link inside a sentence or followed by a
description (``- [[Lambda]] runs code without servers``) is content, and so is an embedded
image, drawing, Base, PDF or sound, a web link (its words stay), code, math and HTML. A section
whose rendered HTML shows an image (or an image's placeholder) is never a table of contents.
"""

from __future__ import annotations

import re

from exporter.core import scan
from exporter.core.model import Section
from exporter.read.vault import IMAGE_SUFFIXES

# Lines that may stand alone above a list of links (compared without case and punctuation).
LEAD_WORDS = frozenset({
    "see also", "related", "related notes", "related topics", "links", "backlinks", "contents",
    "table of contents", "toc", "index", "moc", "map of content", "up", "parent", "next",
    "previous", "prev", "back", "home", "more", "further reading", "read more", "sources",
})
# An embed of one of these is shown as itself (content), never as a note's text.
_FILE_SUFFIXES = IMAGE_SUFFIXES | {".excalidraw", ".base", ".pdf", ".canvas", ".mp3", ".wav",
                                   ".m4a", ".ogg", ".flac", ".webm", ".mp4", ".mov", ".mkv",
                                   ".ogv"}
_PREFIX = re.compile(r"^(?:\s*>)*\s*(?:\[![\w-]+\][+-]?)?\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?"
                     r"(?:\[.\]\s+)?")
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_MD_LINK = re.compile(r"(!?)\[([^\[\]\n]*)\]\(\s*<?([^()<>\n]*?)>?\s*\)")
_HIDDEN = re.compile(r"(?<![\w&])#[\w/-]*[^\W\d][\w/-]*|\s\^[A-Za-z0-9-]+\s*$|[*_~=]")
_LABEL = re.compile(r"^\s*\w+(?:[\s-]+\w+){0,2}\s*::?(?=\s|$)")
_WORD = re.compile(r"[^\W_]")
_SHOWS_IMAGE = re.compile(r'<img\b|class="missing-image"')
_PUNCTUATION = re.compile(r"[\W_]+")


def is_table_of_contents(section: Section) -> bool:
    """True when the section links to other notes and holds nothing of its own (see above)."""
    if _SHOWS_IMAGE.search(section.html):
        return False  # ![[Drawing]] names a note but shows an image: only the HTML knows
    lines, _ = scan.strip_comments(section.body)
    links = 0
    for line, kind in zip(lines, scan.kinds(lines), strict=True):
        if not line.strip():
            continue
        if kind != scan.TEXT:
            return False  # code and math are content
        found, rest = _without_links(_PREFIX.sub("", line))
        if _has_own_text(rest):
            return False
        links += found
    return links > 0


def _without_links(line: str) -> tuple[int, str]:
    """How many links to notes ``line`` holds, and the line without them."""
    found = 0

    def wikilink(match: re.Match[str]) -> str:
        nonlocal found
        if match.group(1) and _is_file(match.group(2).split("|")[0].split("#")[0]):
            return match.group(0)
        found += 1
        return " "

    def md_link(match: re.Match[str]) -> str:
        nonlocal found
        target = match.group(3).strip()
        path = target.split("#")[0]
        if not target.startswith("#") and (":" in path or not path.lower().endswith(".md")):
            return match.group(0)  # a web link, a file or an image: its words stay
        found += 1
        return " "

    line = _MD_LINK.sub(md_link, _WIKILINK.sub(wikilink, line))
    return found, line


def _is_file(target: str) -> bool:
    """True when an embed's target is shown as a file (an image, a drawing, a PDF…)."""
    name = target.strip().lower()
    return any(name.endswith(suffix) for suffix in _FILE_SUFFIXES)


def _has_own_text(rest: str) -> bool:
    """True when a line without its links still says something: a letter or digit besides a
    short label, tags and emphasis."""
    rest = _LABEL.sub("", _HIDDEN.sub("", rest))
    words = _PUNCTUATION.sub(" ", rest).strip().casefold()
    return bool(_WORD.search(words)) and words not in LEAD_WORDS
