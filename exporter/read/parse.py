"""Read a note and split it into its heading tree of sections (no HTML yet)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from exporter.core.errors import NoteError as NoteError  # re-exported: the old import path
from exporter.core.model import Diagnostic, Note, Section
from exporter.core.scan import INDENTED, TEXT, kinds, strip_comments
from exporter.core.text import (
    BLOCK_ID_LINE,
    TAG_NAME,
    is_literal,
    literal_spans,
    slugify,
    split_block_id,
)
from exporter.read.frontmatter import block_end, read_front_matter

MAX_NOTE_BYTES = 5 * 1024 * 1024
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?=[ \t]|$)")
TAG = re.compile(r"(?<!\S)#(" + TAG_NAME + ")")
_FOOTNOTE = re.compile(r"^\[\^([^\]\s]+)\]:[ \t]?")



def read_note(path: Path, relpath: str) -> str:
    """Read a note as UTF-8 text, or raise NoteError naming the file."""

    def fail(message: str, code: str, line: int = 1) -> NoteError:
        return NoteError(Diagnostic(relpath, line, 1, "error", message, code))

    try:
        size = path.stat().st_size
        if size > MAX_NOTE_BYTES:
            raise fail(f"note is {size:,} bytes, over the {MAX_NOTE_BYTES:,}-byte limit; skipped",
                       "note-too-large")
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read note: {exc.strerror}", "unreadable") from exc
    text = _decode(data, fail)
    return text.replace("\r\n", "\n").replace("\r", "\n")


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decode(data: bytes, fail: Callable[[str, str, int], NoteError]) -> str:
    """UTF-8 (with or without a BOM), or UTF-16/32 with a BOM as Windows editors write it."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise fail(f"note starts as {codec.upper()} but is not valid {codec.upper()}; "
                           "convert it to UTF-8; skipped", "not-utf8", 1) from exc
    if b"\x00" in data:
        if _looks_utf16(data):
            raise fail("note is UTF-16 without a byte-order mark; convert it to UTF-8; skipped",
                       "not-utf8", 1)
        raise fail("note holds binary data (NUL bytes); skipped", "binary-note", 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise fail(f"note is not UTF-8 (byte 0x{data[exc.start]:02x}); skipped", "not-utf8",
                   line) from exc


def _looks_utf16(data: bytes) -> bool:
    """Mostly ASCII text in UTF-16: every other byte is NUL."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    return max(even.count(0), odd.count(0)) > 0.9 * (len(head) // 2) > 0


def _words(value: object) -> list[str]:
    """A front matter list, or a comma/space separated string, as a list of strings."""
    if isinstance(value, str):
        return [w.lstrip("#") for w in re.split(r"[,\s]+", value) if w.strip("#")]
    if isinstance(value, list):
        return [str(v).strip().lstrip("#") for v in value if v is not None and str(v).strip()]
    return []


def _aliases(meta: dict[str, object]) -> list[str]:
    """Front matter aliases: a list, or one string (which may hold spaces and commas)."""
    value = meta.get("aliases")
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    return [str(v).strip() for v in value if v is not None] if isinstance(value, list) else []


def split_sections(text: str, relpath: str, title: str,
                   diagnostics: list[Diagnostic] | None = None) -> Note:
    """Split note text into sections following Obsidian's heading tree (levels may be skipped).

    Comments are removed first (a heading inside one makes no section) and code is never a
    heading; every body line keeps its place, so ``body_line + index`` is its line in the file.
    """
    diagnostics = diagnostics if diagnostics is not None else []
    raw = text.split("\n")
    start = block_end(raw)
    front = read_front_matter(raw, start, relpath, diagnostics)
    meta = front.values
    if isinstance(meta.get("title"), str) and str(meta["title"]).strip():
        title = str(meta["title"]).strip()
    note = Note(relpath=relpath, title=title, anchor=slugify(relpath.removesuffix(".md")),
                meta=meta, meta_lines=front.lines, tags=set(_words(meta.get("tags"))),
                aliases=_aliases(meta))
    lines, unclosed = strip_comments(raw[start:])
    if unclosed is not None:
        diagnostics.append(Diagnostic(relpath, start + unclosed + 1, 1, "warning",
                                      "comment '%%' is never closed: it hides the rest of the "
                                      "note, as in Obsidian", "unclosed-comment"))
    kinds_of = kinds(lines)
    note.footnotes = _take_footnotes(lines, kinds_of, start + 1)
    sections = _sections(note, lines, kinds_of, start + 1)
    for section in sections:
        section.block_id = section.block_id or _leading_block_id(section.body)
    note.sections = _merge_intro(note, sections)
    return note


def _sections(note: Note, lines: list[str], kinds_of: list[str], first: int) -> list[Section]:
    """The heading tree; a section without text of its own before the first heading is dropped."""
    out: list[Section] = []
    current = Section(heading=note.title, level=0, path=(note.title,), line=first,
                      anchor=note.anchor, body_line=first)
    stack: list[tuple[int, str]] = []
    used: dict[str, int] = {}
    for number, (line, kind) in enumerate(zip(lines, kinds_of, strict=True), start=first):
        heading = _heading(line) if kind == TEXT else None
        if heading is None:
            current.body.append(line)
            continue
        if current.level or any(line.strip() for line in current.body):
            out.append(current)  # an intro of only tags is kept: rendering collects its tags
        level, name = heading
        name, pin = split_block_id(name)
        name, tags = heading_tags(name)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        anchor = f"{note.anchor}--{slugify(name)}"
        used[anchor] = used.get(anchor, 0) + 1
        if used[anchor] > 1:
            anchor = f"{anchor}-{used[anchor]}"
        current = Section(heading=name, level=level, path=tuple(n for _, n in stack), line=number,
                          anchor=anchor, body_line=number + 1, block_id=pin, tags=tags)
    if current.level or any(line.strip() for line in current.body):
        out.append(current)
    return out


def _heading(line: str) -> tuple[int, str] | None:
    """Level and text of an ATX heading (CommonMark: a space after the ``#``s), else None."""
    match = _HEADING.match(line)
    if match is None:
        return None
    rest = line[match.end():].rstrip()
    closing = rest.rstrip("#")
    if not closing or closing[-1] in " \t":  # a closing run of #s needs a space before it
        rest = closing
    return len(match.group(1)), rest.strip()


def heading_tags(name: str) -> tuple[str, set[str]]:
    """A heading's text without the ``#tags`` that end it, and every tag written on it."""
    spans = literal_spans(name)
    tags = {m.group(1).strip("/") for m in TAG.finditer(name) if not is_literal(spans, m.start())}
    words = name.split(" ")
    end = len(name)  # the length of " ".join(words), kept as words are dropped
    while words and TAG.fullmatch(words[-1]):
        start = end - len(words[-1])
        if spans and is_literal(spans, start):
            break
        words.pop()
        end = start - 1
        while words and not words[-1]:
            words.pop()
            end -= 1
    return " ".join(words).strip(), tags


def _take_footnotes(lines: list[str], kinds_of: list[str],
                    first: int) -> dict[str, list[tuple[int, str]]]:
    """Move every ``[^label]: text`` definition (with its indented lines) out of the body: a
    card or sheet block shows the definitions it cites, wherever the note writes them."""
    found: dict[str, list[tuple[int, str]]] = {}
    current: list[tuple[int, str]] | None = None
    for index, line in enumerate(lines):
        if kinds_of[index] not in (TEXT, INDENTED):
            current = None
            continue
        match = _FOOTNOTE.match(line) if kinds_of[index] == TEXT else None
        if match:
            current = found.setdefault(match.group(1), [])
        elif current is None or (line.strip() and not line[:1].isspace()):
            current = None
            continue
        current.append((first + index, line))
        lines[index] = ""
    for label, taken in found.items():
        while taken and not taken[-1][1].strip():
            taken.pop()
        found[label] = taken
    return found


_INTRO_LINE = re.compile(
    r"^\s*(?:(?:#" + TAG_NAME + r"\s*)+"  # only tags
    r"|[\w][\w -]{0,40}::.*"  # an inline property (Dataview's "key:: value")
    r"|!\[\[[^\[\]|#]+\.(?:png|jpe?g|gif|webp|svg|bmp|avif)(?:#[^\[\]|]*)?(?:\|[^\[\]]*)?\]\]"
    r"|\^[A-Za-z0-9-]+)\s*$", re.I)


def _merge_intro(note: Note, sections: list[Section]) -> list[Section]:
    """Text before the first heading that holds only tags, properties or an icon, or that the
    first heading titles by repeating the note's name, joins the first heading's section."""
    if len(sections) < 2 or sections[0].level:
        return sections
    intro = sections[0]
    trivial = all(not line.strip() or _INTRO_LINE.match(line) for line in intro.body)
    repeated = sections[1].heading.strip().lower() == note.title.strip().lower()
    first = sections[1] if repeated else next((s for s in sections[1:] if s.has_content), None)
    if first is None or not (trivial or repeated):
        return sections
    # Lines in between (headings, empty sections) become empty lines: line numbers stay exact.
    gap = first.body_line - intro.body_line - len(intro.body)
    first.body = [*intro.body, *[""] * gap, *first.body]
    first.body_line = intro.body_line
    return [s for s in sections if s is not intro]


def _leading_block_id(body: list[str]) -> str | None:
    """A block id alone on the first non-blank line under a heading pins the section."""
    for line in body:
        if line.strip():
            match = BLOCK_ID_LINE.match(line) if not line.startswith(("    ", "\t")) else None
            return match.group(1) if match else None  # indented four spaces: code
    return None
