"""Your own note types: the ``[note_types.*]`` tables of the config file, checked.

Each table maps one of our note types (``basic``: sections, definitions and questions;
``reversed``: questions both ways; ``cloze``) to a note type of the user's, by name, with each of
our fields given the name of one of theirs. The deck then holds those notes in that type (its
templates from vault files, or ours with the fields renamed), and ``sync`` fills the type the
collection already has. Which note type a card uses never reaches its GUID or its content hash:
adding or removing a mapping keeps every note, card and review history.

The config file may come with the notes (a pull request), so template files are untrusted: a
path relative to the vault, inside it after links are followed, a regular file of at most
:data:`MAX_TEMPLATE_BYTES`, UTF-8.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

from exporter.core.errors import ConfigError

# Our fields, by our note type, in the order our notes hold them; every one carries content.
OUR_FIELDS: dict[str, tuple[str, ...]] = {
    "basic": ("Front", "Back", "Context", "Source"),
    "reversed": ("Front", "Back", "Context", "Source"),
    "cloze": ("Text", "Back Extra", "Context", "Source"),
}
MAX_TEMPLATE_BYTES = 64 << 10
MAX_NAME = 100
MAX_ID = (1 << 53) - 1  # Anki's ids are JavaScript-safe integers
_KEYS = ("name", "fields", "id", "front", "back", "css")
# What Anki will not keep in a field name (it strips or rejects them)
_BAD_FIELD = re.compile(r'[:{}"\x00-\x1f\x7f]|^[#/^]')


@dataclass(frozen=True)
class NoteType:
    """One mapping: our note type ``kind`` → the user's note type ``name``."""

    kind: str  # "basic", "reversed" or "cloze"
    name: str
    fields: tuple[str, ...]  # their field for each of ours, in our order (OUR_FIELDS)
    id: int | None = None
    front: str | None = None  # template texts read from the vault; None: ours, renamed
    back: str | None = None
    css: str | None = None

    @property
    def key(self) -> str:
        """The config key that sets it, for messages."""
        return f"note_types.{self.kind}"

    def field_for(self, ours: str) -> str:
        """The user's field that holds our field ``ours``."""
        return self.fields[OUR_FIELDS[self.kind].index(ours)]


def read(where: str, raw: object, vault: Path) -> dict[str, NoteType]:
    """The ``note_types`` table of a config file (``where`` names it), checked; template files
    are read from ``vault``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'note_types' must be a table of [note_types.basic], "
                          "[note_types.reversed] or [note_types.cloze]")
    found = {}
    for kind, table in raw.items():
        if kind not in OUR_FIELDS:
            raise ConfigError(f"{where}: unknown key 'note_types.{kind}' "
                              f"({_suggest(kind, list(OUR_FIELDS))})")
        found[kind] = _one(where, kind, table, vault)
    names = [t.name.casefold() for t in found.values()]
    for kind, note_type in found.items():
        if names.count(note_type.name.casefold()) > 1:
            raise ConfigError(f"{where}: 'note_types.{kind}.name' = '{note_type.name}' is "
                              "named by another of the note_types too: give each its own")
    return found


def _one(where: str, kind: str, table: object, vault: Path) -> NoteType:
    key = f"note_types.{kind}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: '{key}' must be a table (name, fields)")
    for name in table:
        if name not in _KEYS:
            raise ConfigError(f"{where}: unknown key '{key}.{name}' ({_suggest(name, _KEYS)})")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME \
            or re.search(r"[\x00-\x1f\x7f]", name):
        raise ConfigError(f"{where}: '{key}.name' must be the name of your note type (a "
                          f"non-empty string of at most {MAX_NAME} characters)")
    fields = _fields(where, key, kind, table.get("fields"))
    model_id = table.get("id")
    if model_id is not None and (isinstance(model_id, bool) or not isinstance(model_id, int)
                                 or not 1 <= model_id <= MAX_ID):
        raise ConfigError(f"{where}: '{key}.id' must be an integer from 1 to {MAX_ID} (the "
                          "note type's id in your collection)")
    texts = {part: _template(where, f"{key}.{part}", table[part], vault)
             for part in ("front", "back", "css") if part in table}
    if ("front" in texts) != ("back" in texts):
        missing = "back" if "front" in texts else "front"
        raise ConfigError(f"{where}: '{key}.{missing}' is missing: give both templates "
                          "(front and back), or neither to use ours")
    note_type = NoteType(kind, name.strip(), fields, model_id, texts.get("front"),
                         texts.get("back"), texts.get("css"))
    if kind == "cloze" and note_type.front is not None \
            and not cloze_field(note_type.front, note_type.fields[0]):
        raise ConfigError(f"{where}: '{key}.front' is no cloze template: the cloze note type "
                          f"needs {{{{cloze:{note_type.fields[0]}}}}} in its front template")
    return note_type


def _fields(where: str, key: str, kind: str, raw: object) -> tuple[str, ...]:
    ours = OUR_FIELDS[kind]
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: '{key}.fields' must be a table giving each of our fields "
                          f"({', '.join(ours)}) the name of one of yours")
    for name, theirs in raw.items():
        if name not in ours:
            raise ConfigError(f"{where}: unknown field '{key}.fields.{name}' "
                              f"({_suggest(name, ours)})")
        if not isinstance(theirs, str) or not theirs.strip() or len(theirs) > MAX_NAME \
                or _BAD_FIELD.search(theirs.strip()):
            raise ConfigError(f"{where}: '{key}.fields.{name}' must be a field name (at most "
                              f"{MAX_NAME} characters, without : {{ }} \" or a leading # / ^)")
    missing = [name for name in ours if name not in raw]
    if missing:
        raise ConfigError(f"{where}: '{key}.fields' does not map {', '.join(map(repr, missing))}"
                          f": every field of ours carries content ({', '.join(ours)}); name a "
                          "field of your note type for each")
    mapped = tuple(str(raw[name]).strip() for name in ours)
    folded = [name.casefold() for name in mapped]
    twice = sorted({name for name in mapped if folded.count(name.casefold()) > 1})
    if twice:
        raise ConfigError(f"{where}: '{key}.fields' names {', '.join(map(repr, twice))} for "
                          "more than one field of ours: each needs a field of its own")
    return mapped


def _template(where: str, key: str, value: object, vault: Path) -> str:
    """A template or CSS file named in the config: inside the vault, small, UTF-8."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be a path relative to the vault")
    pure = PurePath(value)
    if pure.is_absolute() or value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", value):
        raise ConfigError(f"{where}: '{key}' = '{value}' is an absolute path: name a file "
                          "inside the vault, relative to it")
    root = vault.resolve()
    target = (vault / value).resolve()
    if root != target and root not in target.parents:
        raise ConfigError(f"{where}: '{key}' = '{value}' leads outside the vault '{root}' "
                          "(through '..' or a link): name a file inside the vault")
    if ".git" in target.relative_to(root).parts:
        raise ConfigError(f"{where}: '{key}' = '{value}' lies in .git: name a file of the vault")
    try:
        if not target.is_file():
            raise ConfigError(f"{where}: '{key}' = '{value}': no such file in the vault")
        if target.stat().st_size > MAX_TEMPLATE_BYTES:
            raise ConfigError(f"{where}: '{key}' = '{value}' is larger than "
                              f"{MAX_TEMPLATE_BYTES >> 10} KiB: a template or stylesheet "
                              "is smaller")
        with target.open("rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:  # it grew since: read no more
            raise ConfigError(f"{where}: '{key}' = '{value}' is larger than "
                              f"{MAX_TEMPLATE_BYTES >> 10} KiB")
        return data.decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: '{key}' = '{value}': cannot read it ({exc})") from exc
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: '{key}' = '{value}' is not UTF-8 text") from None


def cloze_field(template: str, field: str) -> bool:
    """Whether ``template`` shows ``field`` as clozes (``{{cloze:Field}}``, with any filters)."""
    pattern = r"\{\{(?:[^{}]*:)?cloze:" + re.escape(field) + r"\}\}"
    return re.search(pattern, template) is not None


def rename_fields(template: str, names: Mapping[str, str]) -> str:
    """``template`` with each ``{{Field}}`` (also ``{{filter:Field}}``, ``{{#Field}}``,
    ``{{/Field}}``, ``{{^Field}}``) of ours named by ``names`` renamed to theirs."""
    def swap(match: re.Match[str]) -> str:
        prefix, name = match.group(1), match.group(2)
        return "{{" + prefix + names.get(name, name) + "}}"

    return re.sub(r"\{\{([#/^]?(?:[^{}:]*:)*)([^{}:]+)\}\}", swap, template)


def _suggest(key: str, known: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(known)
