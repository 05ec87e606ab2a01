"""Obsidian's blocks after Markdown has parsed them: callouts (a title with formatting), lines
of only tags (hidden), images in a sentence (inline) and task items of every state."""

from __future__ import annotations

import re
from xml.etree import ElementTree as etree  # noqa: N813 (Python-Markdown's own spelling)

from markdown.treeprocessors import Treeprocessor

_CALLOUT = re.compile(r"^\[!([\w-]+)\]([+-]?)[ \t]*")


class CalloutTreeprocessor(Treeprocessor):
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


class BlockTreeprocessor(Treeprocessor):
    """Obsidian's look for a few blocks: a line of only tags is hidden (the tags are kept),
    images alone on their line (of a paragraph, list item, cell, heading or callout title) are
    centred blocks while others stay in the text, and task items of any state (``[ ]``,
    ``[x]``, ``[-]``, ``[?]``, ``[/]``) show a box glyph."""

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "p" and any(_is_tag(c) for c in child):
                    _hide_tag_lines(child)
                    if not (child.text or "").strip() and not len(child):
                        parent.remove(child)
        for holder in root.iter():
            if _holds_lines(holder):
                _mark_images(holder)
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


# Elements that hold a line of text; in any of them an image sharing its line with text is an
# icon in that text. Block children (a nested list, a paragraph of a loose item) end a line.
_LINE_HOLDERS = frozenset({"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "dt",
                           "dd", "summary"})
_BLOCK_CHILDREN = frozenset({"p", "ul", "ol", "div", "pre", "blockquote", "table", "details",
                             "dl", "hr", "figure", "h1", "h2", "h3", "h4", "h5", "h6"})


def _holds_lines(element: etree.Element) -> bool:
    return element.tag in _LINE_HOLDERS or (
        element.tag == "div" and element.get("class") == "callout-title")


def _mark_images(holder: etree.Element) -> None:
    """Class ``image-inline`` each image that shares its line with text, however deep in the
    line's formatting (``**![[icon]] Sort**``); an image alone on its line is a block."""
    lines: list[list[etree.Element]] = [[]]
    text_on_line = [bool((holder.text or "").strip())]
    for child in holder:
        if child.tag == "br" or child.tag in _BLOCK_CHILDREN:
            lines.append([])
            text_on_line.append(bool((child.tail or "").strip()))
            continue
        lines[-1].append(child)
        if (child.tail or "").strip() or "".join(child.itertext()).strip():
            text_on_line[-1] = True
    for line, has_text in zip(lines, text_on_line, strict=True):
        if not has_text:
            continue
        for child in line:
            for image in child.iter("img"):
                image.set("class", "image-inline")


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
