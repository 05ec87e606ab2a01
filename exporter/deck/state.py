"""What the previous build made: its cards' GUIDs, fields and times, from a state file or a deck.

The state is what lets a build pair a re-keyed card with its previous self (identity.py) and give
an edited card a later modification time than Anki holds (anki.py). It is read from the state
file beside the deck (or the one ``--state`` names, which a user may commit), or from the
previous ``.apkg`` itself (``--previous``): its ``collection.anki2`` holds every note's GUID,
fields and time, and a small table of ours with each card's note and position (a deck Anki
exported has no such table, and in its newer format a ``collection.anki21b``: deck_reader.py).
Both are untrusted input: a broken state file is a warning and is ignored; a broken deck is an
error.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.core.errors import BadStateError
from exporter.core.model import MODEL_NAMES, Card, Diagnostic, fields_hash
from exporter.deck import deck_reader
from exporter.deck.deck_reader import Budget

VERSION = 2
TABLE = "notes_export_cards"  # our table inside the deck's collection.anki2; Anki ignores it
MAX_STATE_BYTES = 256 << 20
MAX_MOD = 1 << 40  # seconds; far past any real time, far below Anki's 64-bit limit
_MODEL_NAMES = {name: model for model, name in MODEL_NAMES.items()}
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Entry:
    """One card of the previous build."""

    guid: str
    hash: str
    mod: int
    natural: str = ""  # the GUID its key gives; differs once a renamed card kept an older one
    note: str = ""
    kind: str = ""
    pos: int = 0  # its place among its note's cards
    model: str = ""
    deck: str = ""
    front: str = ""
    back: str = ""
    context: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    removed: bool = False  # removed from the vault and already sent once tagged as removed
    note_type: str = ""  # the user's note type it was sent in (config note_types); "": ours


State = dict[str, Entry]


def entry_for(card: Card, mod: int, natural: str, pos: int, removed: bool = False,
              note_type: str = "") -> Entry:
    """The state entry that records ``card`` (sent in the user's ``note_type``, if any)."""
    return Entry(card.guid, card.content_hash, mod, natural, card.note, card.kind, pos,
                 card.model, card.deck, card.front, card.back, card.context, card.source,
                 card.tags, removed, note_type)


def same_entry(e: Entry, card: Card, mod: int, natural: str, pos: int,
               note_type: str = "") -> bool:
    """True when ``e`` is the entry :func:`entry_for` would make of ``card`` (not removed):
    a round that changed little keeps most entries as they were, without making them again."""
    return (not e.removed and e.guid == card.guid
            and e.hash == card.content_hash and e.mod == mod and e.natural == natural
            and e.pos == pos and e.note == card.note and e.kind == card.kind
            and e.model == card.model and e.deck == card.deck and e.front == card.front
            and e.back == card.back and e.context == card.context and e.source == card.source
            and e.tags == card.tags and e.note_type == note_type)


def card_of(entry: Entry, extra_tags: tuple[str, ...] = ()) -> Card:
    """The card an entry recorded, for sending it again (tagged as removed)."""
    tags = tuple(sorted({*entry.tags, *extra_tags}))
    return Card(guid=entry.guid, front=entry.front, back=entry.back, context=entry.context,
                source=entry.source, tags=tags, model=entry.model or "basic", deck=entry.deck,
                content_hash=fields_hash(entry.model, entry.deck, entry.front, entry.back,
                                         entry.context, entry.source, tags),
                note=entry.note, kind=entry.kind)


def plain(text: str) -> str:
    """A field's visible text: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


# --- the state file -------------------------------------------------------------------------------


# json.dumps with options makes an encoder per call; a state file makes one per card
_RECORD = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
# The lines the last write wrote (encoded), by GUID with their entry: ``watch`` writes mostly
# the same cards again (the very entries: history.follow keeps them).
_LINES: dict[str, tuple[Entry, bytes]] = {}


def write(path: Path, entries: Iterable[Entry]) -> None:
    """Write the state file: deterministic JSON, one card per line, streamed (it holds every
    card's fields, so a big vault's state is tens of megabytes)."""
    global _LINES
    lines: dict[str, tuple[Entry, bytes]] = {}
    with path.open("wb") as out:
        out.write(_encoded(f'{{"version": {VERSION}, "cards": {{'))
        batch: list[bytes] = []  # written a thousand lines at a time: a write per line costs
        separator = b""
        for e in sorted(entries, key=lambda e: e.guid):
            known = _LINES.get(e.guid)
            line = known[1] if known is not None and (known[0] is e or known[0] == e) \
                else _encoded(_line(e))
            lines[e.guid] = (e, line)
            batch.append(line)
            if len(batch) == 1000:
                out.write(separator + b",".join(batch))
                separator, batch = b",", []
        if batch:
            out.write(separator + b",".join(batch))
        out.write(_encoded("\n}}\n"))
    _LINES = lines


def _encoded(text: str) -> bytes:
    """``text`` as a text-mode file writes it: UTF-8, the system's line ends."""
    return (text if os.linesep == "\n" else text.replace("\n", os.linesep)).encode("utf-8")


def _line(e: Entry) -> str:
    record: dict[str, Any] = {
        "hash": e.hash, "mod": e.mod, "natural": e.natural, "note": e.note,
        "kind": e.kind, "pos": e.pos, "model": e.model, "deck": e.deck,
        "front": e.front, "back": e.back, "context": e.context, "source": e.source,
        "tags": list(e.tags)}
    if e.removed:
        record["removed"] = True
    if e.note_type:  # only then: a state without your note types stays as it was
        record["type"] = e.note_type
    return f"\n{json.dumps(e.guid)}: " + _RECORD.encode(record)


def load_file(path: Path, diagnostics: list[Diagnostic]) -> State:
    """The state in ``path``; nothing when absent; a warning and nothing when it is broken."""
    try:
        if path.stat().st_size > MAX_STATE_BYTES:
            raise BadStateError(f"larger than {MAX_STATE_BYTES >> 20} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
        return parse(data)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        diagnostics.append(Diagnostic(  # absolute: the file is not in the notes folder
            str(path.resolve()), 1, 1, "warning", f"state file ignored ({reason}): cards "
            "renamed or moved since the last build start with a new review history",
            "bad-state"))
        return {}


def parse(data: object) -> State:
    """Check a decoded state document field by field; raise BadStateError on anything unexpected."""
    if not isinstance(data, dict):
        raise BadStateError(f"expected an object, found {type(data).__name__}")
    version, cards = data.get("version"), data.get("cards")
    if version not in (1, VERSION) or isinstance(version, bool):
        raise BadStateError(f"unknown version {version!r}")
    if not isinstance(cards, dict):
        raise BadStateError("'cards' must be an object")
    state: State = {}
    for guid, raw in cards.items():
        if not isinstance(guid, str) or not 0 < len(guid) <= 200:
            raise BadStateError(f"bad GUID {guid!r:.40}")
        state[guid] = _v1_entry(guid, raw) if version == 1 else _entry(guid, raw)
    return state


def _v1_entry(guid: str, raw: object) -> Entry:
    """Version 1 kept only ``[hash, time]``: enough to keep times, not to pair renames."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise BadStateError(f"card {guid!r:.40}: expected [hash, time]")
    return Entry(guid, _text(raw[0], "hash"), _time(raw[1]), guid)


_TEXTS = ("hash", "natural", "note", "kind", "model", "deck", "front", "back", "context",
          "source")


def _entry(guid: str, raw: object) -> Entry:
    if not isinstance(raw, dict):
        raise BadStateError(f"card {guid!r:.40}: expected an object")
    try:
        texts = {name: _text(raw.get(name, ""), name) for name in _TEXTS}
        tags = raw.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadStateError("'tags' must be a list of strings")
        pos = raw.get("pos", 0)
        if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos < 1 << 31:
            raise BadStateError(f"'pos' must be a small integer, not {pos!r:.40}")
        removed = raw.get("removed", False)
        if not isinstance(removed, bool):
            raise BadStateError("'removed' must be true or false")
        if texts["model"] not in ("", *_MODEL_NAMES.values()):
            raise BadStateError(f"unknown model {texts['model']!r:.40}")
        note_type = _text(raw.get("type", ""), "type")
        return Entry(guid=guid, mod=_time(raw.get("mod")), pos=pos, tags=tuple(tags),
                     removed=removed, note_type=note_type, **texts)
    except BadStateError as exc:
        raise BadStateError(f"card {guid!r:.40}: {exc}") from None


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise BadStateError(f"'{name}' must be a string")
    return value


def _time(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_MOD:
        raise BadStateError(f"a modification time must be a whole number of seconds, "
                            f"not {value!r:.40}")
    return value


# --- the previous deck ----------------------------------------------------------------------------


def load_deck(path: Path, note_types: Mapping[str, str] | None = None) -> State:
    """The state a deck carries (ours, or Anki's export of it, either format); an ExportError
    naming it when it is broken or hostile (deck_reader.py bounds the read). ``note_types``:
    the user's note types (name → our model) whose notes are read as ours too."""
    theirs = dict(note_types or {})
    return deck_reader.read(path, lambda conn, budget: _read_collection(conn, budget, theirs))


def _read_collection(conn: sqlite3.Connection, budget: Budget,
                     theirs: Mapping[str, str] | None = None) -> State:
    names = deck_reader.tables(conn, budget, "col", "notes", "cards")
    known = {**_MODEL_NAMES, **(theirs or {})}
    models, decks = _models_and_decks(conn, budget, known)
    deck_of = dict(conn.execute(  # ids are integers; text in them would escape the count
        "select nid, min(did) from cards where typeof(nid) = 'integer' "
        "and typeof(did) = 'integer' group by nid").fetchall())
    ours = _our_rows(conn, budget) if TABLE in names else {}
    state: State = {}
    positions: dict[str, int] = {}
    rows = conn.execute("select id, guid, mid, mod, flds, tags, "  # length(): counted in C
                        f"{_LENGTHS.format('guid', 'flds', 'tags')} from notes order by id")
    for nid, guid, mid, mod, flds, tags, size in rows:
        budget.take(size)
        model, type_name = models.get(int(mid), ("", ""))
        fields = str(flds).split("\x1f")
        if not model or len(fields) != 4 or not isinstance(guid, str):
            continue  # not one of our note types
        front, back, context, source = fields
        deck = decks.get(deck_of.get(nid, -1), "")
        tag_list = tuple(str(tags).split())
        natural, note, kind, pos, content, removed = ours.get(
            guid, (guid, _note_of(source), "", -1, "", False))
        if pos < 0:  # a deck without our table: position from the order notes were written
            pos = positions[note] = positions.get(note, -1) + 1
        state[guid] = Entry(
            guid, content or fields_hash(model, deck, front, back, context, source, tag_list),
            _time(mod), natural, note, kind, pos, model, deck, front, back, context, source,
            tag_list, removed, "" if type_name in _MODEL_NAMES else type_name)
    return state


def _models_and_decks(conn: sqlite3.Connection, budget: Budget, known: Mapping[str, str]
                      ) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Note type id → (our model, its name) (model empty for others), deck id → deck name."""
    models_json, decks_json = conn.execute("select models, decks from col").fetchone()
    budget.spend(models_json, decks_json)
    if models_json == "":  # Anki's schema 18 (collection.anki21b): tables instead of JSON
        deck_reader.tables(conn, budget, "notetypes", "decks")
        types, groups = _named(conn, budget, "notetypes"), _named(conn, budget, "decks")
        return ({mid: (known.get(name, ""), name) for mid, name in types},  # a parent deck and
                {did: name.replace("\x1f", "::") for did, name in groups})  # its child: \x1f
    models = {int(mid): (known.get(str(m.get("name", "")), ""), str(m.get("name", "")))
              for mid, m in json.loads(models_json).items()}
    decks = {int(did): str(d.get("name", "")) for did, d in json.loads(decks_json).items()}
    return models, decks


def _named(conn: sqlite3.Connection, budget: Budget, table: str) -> list[tuple[int, str]]:
    """The (id, name) rows of schema 18's ``notetypes`` or ``decks``."""
    rows = []
    for rid, name in conn.execute(f"select id, name from {table}"):
        budget.spend(rid, name)
        rows.append((int(rid), str(name)))
    return rows


# the characters of three text columns, NULL counting none
_LENGTHS = "coalesce(length({0}), 0) + coalesce(length({1}), 0) + coalesce(length({2}), 0)"


def _our_rows(conn: sqlite3.Connection,
              budget: Budget) -> dict[str, tuple[str, str, str, int, str, bool]]:
    rows: dict[str, tuple[str, str, str, int, str, bool]] = {}
    texts = f"{_LENGTHS.format('guid', 'natural', 'note')} + {_LENGTHS.format('kind', 'hash', 0)}"
    for *row, size in conn.execute(f"select guid, natural, note, kind, pos, hash, removed, "
                                   f"{texts} from {TABLE}"):
        budget.take(size)
        g, n, note, k, p, h, r = row
        rows[str(g)] = (str(n), str(note), str(k), int(p), str(h), bool(r))
    return rows


def _note_of(source: str) -> str:
    """The note's path from a card's Source field: ``path › heading`` or a link naming it."""
    return plain(source).split(" › ")[0]


def write_table(conn: sqlite3.Connection, entries: Mapping[str, Entry]) -> None:
    """Record each card's key, note, kind, position and hash inside the deck's collection."""
    conn.execute(TABLE_SCHEMA)
    conn.executemany(TABLE_INSERT, [table_row(e) for e in sorted(entries.values(),
                                                                 key=lambda e: e.guid)])


TABLE_SCHEMA = (f"create table {TABLE} (guid text primary key, natural text, note text, "
                "kind text, pos integer, hash text, removed integer)")
TABLE_INSERT = f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?)"


def table_row(e: Entry) -> tuple[str, str, str, str, int, str, int]:
    """An entry's row in our table of the deck's collection."""
    return (e.guid, e.natural, e.note, e.kind, e.pos, e.hash, int(e.removed))
