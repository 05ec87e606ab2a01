"""Front matter: the YAML block at the top of a note, read so that no value stops the build.

PyYAML's safe loader raises on values it cannot build: an invalid date or time, ``!!int "abc"``,
an integer of more digits than Python prints, a tag it does not know, a list used as a key.
Here each such value is reported on its own line and left out (None); the rest of the block is
kept. The keys the exporter reads are then checked for their type the same way.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from exporter.core.model import Diagnostic

MAX_FRONT_MATTER_VALUES = 10_000
CODE = "bad-front-matter"
FIRST_LINE = 2  # the block's first line in the file (line 1 is the opening ``---``)
_STANDARD = "tag:yaml.org,2002:"
# What PyYAML's constructors raise on a value they cannot build: ValueError (invalid dates,
# times and numbers, int()'s digit limit), KeyError (``!!bool maybe``), IndexError
# (``!!int ""``), AttributeError (``!!timestamp x``), ConstructorError (the rest).
_VALUE_ERRORS = (ConstructorError, ValueError, OverflowError, TypeError, KeyError, IndexError,
                 AttributeError)
_SURROGATE = re.compile("[\ud800-\udfff]")  # "\ud800" in a quoted string: no file can hold it
_WHAT = {"int": "an integer", "float": "a number", "bool": "true or false",
         "timestamp": "a valid date or time", "binary": "base64 data", "str": "text",
         "map": "a mapping", "seq": "a list", "set": "a set", "omap": "an ordered mapping",
         "pairs": "a list of pairs", "null": "null", "merge": "a merge"}


class _TooLargeError(Exception):
    """Front matter whose aliases expand past the limit (a "billion laughs")."""


@dataclass
class FrontMatter:
    """What a note's front matter gave: values by key, and the line each key is on."""

    values: dict[str, object] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def block_end(lines: list[str]) -> int:
    """Index of the first line after a leading YAML front matter block (0 if none)."""
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() in ("---", "..."):
                return index + 1
    return 0


def read_front_matter(lines: list[str], end: int, relpath: str,
                      diagnostics: list[Diagnostic]) -> FrontMatter:
    """Parse the YAML between the ``---`` lines: broken YAML is reported and ignored, a value
    that cannot be built or has the wrong type for its key is reported and ignored."""
    if not end:
        return FrontMatter()
    loader = _Loader("\n".join(lines[1:end - 1]))
    try:
        data = _load(loader, relpath, diagnostics)
    finally:
        loader.dispose()
    diagnostics += [Diagnostic(relpath, line, 1, "warning", message, CODE)
                    for line, message in loader.problems]
    if data is None:
        return FrontMatter()
    if not isinstance(data, dict):
        diagnostics.append(Diagnostic(relpath, FIRST_LINE, 1, "error", "front matter is not a "
                                      "mapping of keys to values; ignored", CODE))
        return FrontMatter()
    found = FrontMatter({str(k): v for k, v in data.items()},
                        {str(k): line for k, line in loader.key_lines.items()})
    _check_types(found, relpath, diagnostics)
    return found


def _load(loader: _Loader, relpath: str, diagnostics: list[Diagnostic]) -> object:
    """The block's data, or None with an error when it cannot be read as a whole."""

    def fail(line: int, message: str) -> None:
        diagnostics.append(Diagnostic(relpath, line, 1, "error", message, CODE))

    try:
        return loader.get_single_data()
    except (_TooLargeError, RecursionError):
        fail(FIRST_LINE, f"front matter expands to over {MAX_FRONT_MATTER_VALUES:,} values or "
             "nests too deep (YAML aliases); ignored")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        fail(mark.line + FIRST_LINE if mark is not None else 1,
             f"front matter is not valid YAML: {problem}; ignored")
    except _VALUE_ERRORS as exc:  # a safety net: the constructors below catch these themselves
        fail(FIRST_LINE, f"front matter cannot be read ({type(exc).__name__}); ignored")
    return None


Constructor = Callable[[Any, yaml.Node], Any]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader that never raises for a value: it reports the value and builds
    None instead. It refuses documents whose aliases expand past a limit: the values are
    shared while loading, but everything that reads them afterwards sees every copy."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[tuple[int, str]] = []
        self.failed: set[int] = set()  # ids of the nodes reported (their value is None)
        self.top: yaml.Node | None = None
        self.key_lines: dict[Hashable, int] = {}

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {}, MAX_FRONT_MATTER_VALUES)
        self.top = node
        return node

    def report(self, node: yaml.Node, message: str) -> None:
        """One problem of the block, on the line of ``node``."""
        self.problems.append((node.start_mark.line + FIRST_LINE, message))

    def drop(self, node: yaml.Node, message: str) -> None:
        """Report a value that is not built: it reads as None, and as a key drops its pair."""
        self.failed.add(id(node))
        self.report(node, message)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Hashable, Any]:
        """A mapping without the pairs whose key cannot be a key; a key written twice is
        reported (the last value is used, as PyYAML does)."""
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping, but found a "
                                   + type(node).__name__.removesuffix("Node").lower(),
                                   node.start_mark)
        own = {id(key) for key, _ in node.value}
        self._flatten(node)
        mapping: dict[Hashable, Any] = {}
        written: set[Hashable] = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if id(key_node) in self.failed:
                continue
            if not isinstance(key, Hashable):
                self.report(key_node, "front matter key on this line is a list or mapping; "
                            "its pair is ignored")
                continue
            if id(key_node) in own:
                if key in written:
                    name = _shown(key_node).removeprefix("value ")
                    self.report(key_node, f"front matter key {name} is written twice; the last "
                                "value is used")
                written.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
            if node is self.top:
                self.key_lines[key] = key_node.start_mark.line + FIRST_LINE
        return mapping

    def _flatten(self, node: yaml.MappingNode) -> None:
        """Merge ``<<`` keys in; a merge of something that is not a mapping is reported."""
        merges = [key for key, _ in node.value if key.tag == _STANDARD + "merge"]
        try:
            self.flatten_mapping(node)
        except ConstructorError as exc:
            self.report(merges[0] if merges else node,
                        f"front matter merge ('<<') failed: {exc.problem}; ignored")
            node.value = [(k, v) for k, v in node.value if k.tag != _STANDARD + "merge"]


def _guarded(constructor: Constructor) -> Constructor:
    """``constructor`` reporting a value it cannot build instead of raising."""

    def construct(loader: _Loader, node: yaml.Node) -> object:
        try:
            data = constructor(loader, node)
        except _VALUE_ERRORS as exc:
            loader.drop(node, _unreadable(node, exc))
            return None
        if isinstance(data, types.GeneratorType):
            return _finished(loader, node, data)
        return _printable(loader, node, data)

    return construct


def _finished(loader: _Loader, node: yaml.Node, generator: Iterator[object]
              ) -> Iterator[object]:
    """A list or mapping yielded before it is filled (so that aliases can point into it): a
    failure while filling is reported, and it keeps what it got."""
    try:
        first = next(generator)
    except _VALUE_ERRORS as exc:
        loader.report(node, _unreadable(node, exc))
        first = None
    yield first
    try:
        for _ in generator:
            pass
    except _VALUE_ERRORS as exc:
        loader.report(node, _unreadable(node, exc))


def _printable(loader: _Loader, node: yaml.Node, data: object) -> object:
    """``data``, or None when no later stage could print it (reported)."""
    if isinstance(data, int) and data.bit_length() > 10_000:
        try:
            str(data)  # hex, octal and base-60 integers escape int()'s digit limit
        except ValueError:
            loader.drop(node, f"front matter {_shown(node)} is an integer of over "
                          f"{sys.get_int_max_str_digits():,} digits; ignored")
            return None
    if isinstance(data, str) and _SURROGATE.search(data):
        loader.drop(node, f"front matter {_shown(node)} holds a lone surrogate "
                      "('\\ud800' to '\\udfff'), which no file can hold; ignored")
        return None
    return data


def _unknown_tag(loader: _Loader, node: yaml.Node) -> None:
    loader.drop(node, f"front matter {_shown(node)} has the tag '{_tag(node)}', which "
                  "is not one of YAML's standard tags; ignored")


_Loader.yaml_constructors = {tag: _guarded(constructor) for tag, constructor
                             in yaml.SafeLoader.yaml_constructors.items() if tag is not None}
_Loader.yaml_constructors[None] = _unknown_tag


def _unreadable(node: yaml.Node, exc: Exception) -> str:
    """What is wrong with a value its constructor could not build."""
    tag = _tag(node)
    what = _WHAT.get(tag.removeprefix("!!"), "a value of its tag")
    reason = ""
    if isinstance(exc, ConstructorError):
        reason = exc.problem or ""
    elif tag == "!!int" and "digits" in str(exc):
        reason = f"over {sys.get_int_max_str_digits():,} digits"
    elif tag == "!!timestamp" and isinstance(exc, (ValueError, OverflowError)):
        reason = "its time zone is 24 hours off or more" if "offset" in str(exc) else str(exc)
    reason = f" ({reason})" if reason else ""
    return f"front matter {_shown(node)} ({tag}) is not {what}{reason}; ignored"


def _tag(node: yaml.Node) -> str:
    return "!!" + node.tag.removeprefix(_STANDARD) if node.tag.startswith(_STANDARD) \
        else node.tag


def _shown(node: yaml.Node) -> str:
    """A scalar as ``value '…'`` (escaped, cut short); a list or mapping by its kind."""
    if not isinstance(node, yaml.ScalarNode):
        return "list" if isinstance(node, yaml.SequenceNode) else "mapping"
    text = str(node.value)
    return "value " + repr(text[:40] + "…" if len(text) > 40 else text)


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


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_word(value: object) -> bool:
    """Text, a number or a date: each reads as a word (a tag, an alias, a card kind)."""
    return value is None or not isinstance(value, (list, dict, set, bytes, bool))


def _is_words(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(map(_is_word, value)))


def _is_id(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


_TEXT = (_is_text, "text (quote it if it looks like a number or date)")
_WORDS = (_is_words, "text or a list of text")
# The keys the exporter reads, and what each must hold; None (an empty value) is always fine.
_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "title": _TEXT, "deck": _TEXT, "cards-deck": _TEXT,
    "tags": _WORDS, "aliases": _WORDS, "cards": _WORDS,
    "anki-id": (_is_id, "text or a whole number"),
    "cloze-highlights": (_is_bool, "true or false"), "sheet": (_is_bool, "true or false"),
}


def _check_types(found: FrontMatter, relpath: str, diagnostics: list[Diagnostic]) -> None:
    """A key the exporter reads whose value has the wrong type is reported and set to None
    (the key stays: its presence alone may mean something, as ``cards-deck``'s does); from a
    list of words, only the items that are not words are left out."""
    for key, (fits, what) in _TYPES.items():
        value = found.values.get(key)
        if value is None or fits(value):
            continue
        if fits is _is_words and isinstance(value, list):
            wrong = next(v for v in value if not _is_word(v))
            found.values[key] = [v for v in value if _is_word(v)]
            problem = f"holds {_kind(wrong)}: items must be text (quote them); left out"
        else:
            found.values[key] = None
            problem = f"must be {what}, not {_kind(value)}; ignored"
        diagnostics.append(Diagnostic(relpath, found.lines.get(key, FIRST_LINE), 1, "warning",
                                      f"front matter '{key}' {problem}", CODE))


def _kind(value: object) -> str:
    """What a value is, in the words of the messages above."""
    for kinds, name in (((bool,), "true or false"), ((int,), "a number"),
                        ((float,), "a decimal number"), ((list,), "a list"),
                        ((dict,), "a mapping"), ((bytes,), "binary data"), ((set,), "a set"),
                        ((str,), "text")):
        if isinstance(value, kinds):
            return name
    return "a date or time" if type(value).__module__ == "datetime" else type(value).__name__
