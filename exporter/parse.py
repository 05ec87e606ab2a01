"""Read a note and split it into its heading tree of sections (no HTML yet)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import yaml

from .model import Diagnostic, Note, Section
from .text import BLOCK_ID_LINE, Fences, split_block_id

MAX_NOTE_BYTES = 5 * 1024 * 1024
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")


class NoteError(Exception):
    """A note that cannot be read at all; carries the diagnostic to report."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


def slugify(text: str) -> str:
    """A lowercase ASCII slug for anchors and file names."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


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


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after a leading YAML front matter block (0 if none)."""
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() in ("---", "..."):
                return index + 1
    return 0


MAX_FRONT_MATTER_VALUES = 10_000


class _TooLargeError(Exception):
    """Front matter whose aliases expand past the limit (a "billion laughs")."""


class _FrontMatterLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents whose aliases expand past a limit: the values
    are shared while loading, but everything that reads them afterwards sees every copy."""

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {}, MAX_FRONT_MATTER_VALUES)
        return node


def _expanded_size(node: yaml.Node, sizes: dict[int, int], limit: int) -> int:
    """How many values ``node`` holds with every alias copied out; raise _TooLargeError past the
    limit. Each node is counted once (memoised), and a node inside itself is refused."""
    known = sizes.get(id(node))
    if known is not None:
        if known < 0:
            raise _TooLargeError  # an alias inside its own anchor: endless when copied out
        return known
    sizes[id(node)] = -1
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, sizes, limit)
        if size > limit:
            raise _TooLargeError
    sizes[id(node)] = size
    return size


def _front_matter(lines: list[str], end: int, relpath: str,
                  diagnostics: list[Diagnostic]) -> dict[str, object]:
    """Parse the YAML between the ``---`` lines; a broken block is reported and ignored."""
    if not end:
        return {}
    try:
        data = yaml.load("\n".join(lines[1:end - 1]), Loader=_FrontMatterLoader)
    except (_TooLargeError, RecursionError):
        diagnostics.append(Diagnostic(relpath, 2, 1, "error", "front matter expands to over "
                                      f"{MAX_FRONT_MATTER_VALUES:,} values or nests too deep "
                                      "(YAML aliases); ignored", "bad-front-matter"))
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        diagnostics.append(Diagnostic(relpath, line, 1, "error",
                                      f"front matter is not valid YAML: {problem}; ignored",
                                      "bad-front-matter"))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        diagnostics.append(Diagnostic(relpath, 2, 1, "error", "front matter is not a mapping of "
                                      "keys to values; ignored", "bad-front-matter"))
        return {}
    return {str(k): v for k, v in data.items()}


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
    """Split note text into sections following Obsidian's heading tree (levels may be skipped)."""
    lines = text.split("\n")
    start = _front_matter_end(lines)
    meta = _front_matter(lines, start, relpath, diagnostics if diagnostics is not None else [])
    if isinstance(meta.get("title"), str) and str(meta["title"]).strip():
        title = str(meta["title"]).strip()
    note = Note(relpath=relpath, title=title, anchor=slugify(relpath.removesuffix(".md")),
                meta=meta, tags=set(_words(meta.get("tags"))), aliases=_aliases(meta))
    current = Section(heading=title, level=0, path=(title,), line=start + 1, anchor=note.anchor,
                      body_line=start + 1)
    stack: list[tuple[int, str]] = []
    fences = Fences()
    used: dict[str, int] = {}
    for number, line in enumerate(lines[start:], start=start + 1):
        heading = None if fences.feed(line) else _HEADING.match(line)
        if heading is None:
            current.body.append(line)
            continue
        if current.level or current.has_content:
            note.sections.append(current)
        level, name = len(heading.group(1)), heading.group(2).strip()
        name, pin = split_block_id(name)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        anchor = f"{note.anchor}--{slugify(name)}"
        used[anchor] = used.get(anchor, 0) + 1
        if used[anchor] > 1:
            anchor = f"{anchor}-{used[anchor]}"
        current = Section(heading=name, level=level, path=tuple(n for _, n in stack), line=number,
                          anchor=anchor, body_line=number + 1, block_id=pin)
    if current.level or current.has_content:
        note.sections.append(current)
    for section in note.sections:
        section.block_id = section.block_id or _leading_block_id(section.body)
    return note


def _leading_block_id(body: list[str]) -> str | None:
    """A block id alone on the first non-blank line under a heading pins the section."""
    for line in body:
        if line.strip():
            match = BLOCK_ID_LINE.match(line)
            return match.group(1) if match else None
    return None
