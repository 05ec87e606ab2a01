"""Cards → genanki notes → a byte-reproducible ``.apkg`` that Anki updates in place."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from exporter.core import processes
from exporter.core.model import MODEL_NAMES, Asset, Card
from exporter.core.note_types import OUR_FIELDS, NoteType, rename_fields
from exporter.deck import state
from exporter.deck.state import Entry

MODEL_NAME = MODEL_NAMES["basic"]
REVERSED_NAME = MODEL_NAMES["reversed"]
CLOZE_NAME = MODEL_NAMES["cloze"]
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_PACKED = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".mp3", ".ogg", ".m4a",
                     ".webm", ".mp4"})

_QFMT = """<div class="ne-context">{{Context}}</div>
<div class="ne-front">{{Front}}</div>"""
_AFMT = """{{FrontSide}}
<hr id="answer">
<div class="ne-back">{{Back}}</div>
<div class="ne-source">{{Source}}</div>"""


_CLOZE_Q = """<div class="ne-context">{{Context}}</div>
<div class="ne-cloze">{{cloze:Text}}</div>"""
_CLOZE_A = """<div class="ne-context">{{Context}}</div>
<div class="ne-cloze">{{cloze:Text}}</div>
<div class="ne-back">{{Back Extra}}</div>
<div class="ne-source">{{Source}}</div>"""


def stable_id(name: str) -> int:
    """A 31-bit id derived from a name, as genanki recommends for models and decks."""
    return (1 << 30) + int(hashlib.sha256(name.encode()).hexdigest(), 16) % (1 << 30)


def card_models(note_types: Mapping[str, NoteType] | None = None) -> dict[str, genanki.Model]:
    """The note types the cards use, by kind; their ids never change. A kind the config maps
    to a note type of the user's (``note_types``) uses that one (:func:`mapped_model`)."""
    ours = _our_models()
    return {kind: mapped_model(note_types[kind], model) if note_types and kind in note_types
            else model for kind, model in ours.items()}


def mapped_model(mapping: NoteType, ours: genanki.Model) -> genanki.Model:
    """The user's note type as the deck holds it: their name and fields (in our fields'
    order), their templates and CSS or ours with the fields renamed, their id or one derived
    from name and fields (the same every build)."""
    names = dict(zip(OUR_FIELDS[mapping.kind], mapping.fields, strict=True))
    if mapping.front is not None and mapping.back is not None:
        templates = [{"name": "Card 1", "qfmt": mapping.front, "afmt": mapping.back}]
        if mapping.kind == "reversed":  # the same templates, their front and back swapped
            swap = {mapping.fields[0]: mapping.fields[1], mapping.fields[1]: mapping.fields[0]}
            templates.append({"name": "Card 2", "qfmt": rename_fields(mapping.front, swap),
                              "afmt": rename_fields(mapping.back, swap)})
    else:
        templates = [{"name": t["name"], "qfmt": rename_fields(t["qfmt"], names),
                      "afmt": rename_fields(t["afmt"], names)} for t in ours.templates]
    model_id = mapping.id or stable_id("note type:" + "\x1f".join((mapping.name,
                                                                    *mapping.fields)))
    return genanki.Model(model_id, mapping.name, fields=[{"name": f} for f in mapping.fields],
                         templates=templates, model_type=ours.model_type,
                         css=ours.css if mapping.css is None else mapping.css)


def _our_models() -> dict[str, genanki.Model]:
    templates = resources.files("exporter").joinpath("templates")
    css = "\n".join(templates.joinpath(name).read_text(encoding="utf-8")
                    for name in ("obsidian.css", "card.css")) + _pygments_css()
    fields = [{"name": name} for name in OUR_FIELDS["basic"]]
    reverse_q = _QFMT.replace("{{Front}}", "{{Back}}")
    reverse_a = _AFMT.replace("{{Back}}", "{{Front}}")
    return {
        "basic": genanki.Model(stable_id(MODEL_NAME), MODEL_NAME, fields=fields,
                               templates=[{"name": "Section", "qfmt": _QFMT, "afmt": _AFMT}],
                               css=css),
        "reversed": genanki.Model(
            stable_id(REVERSED_NAME), REVERSED_NAME, fields=fields, css=css,
            templates=[{"name": "Forward", "qfmt": _QFMT, "afmt": _AFMT},
                       {"name": "Reverse", "qfmt": reverse_q, "afmt": reverse_a}]),
        "cloze": genanki.Model(
            stable_id(CLOZE_NAME), CLOZE_NAME, model_type=genanki.Model.CLOZE, css=css,
            fields=[{"name": name} for name in OUR_FIELDS["cloze"]],
            templates=[{"name": "Cloze", "qfmt": _CLOZE_Q, "afmt": _CLOZE_A}]),
    }


def _pygments_css() -> str:
    """Code highlighting for light mode, and a dark palette under Anki's night mode."""
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style="friendly").get_style_defs(".card .highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(".nightMode .highlight")
    return f"\n{light}\n{dark}\n.night_mode .highlight {{ background: #272822; }}\n"


@dataclass(frozen=True)
class DeckReport:
    """What changed against the previous build written to the same place."""

    added: int
    changed: int
    unchanged: int
    removed: int
    renamed: int = 0  # re-keyed cards that kept their note (and review history)
    moved: int = 0  # cards of a moved or renamed note file that kept theirs
    removed_cards: tuple[str, ...] = ()  # "note › front" of each removed card
    tagged: int = 0  # removed cards sent once more with the tag REMOVED_TAG


REMOVED_TAG = "notes-export::removed"


def modification_times(cards: list[Card], state: Mapping[str, Entry],
                       epoch: int) -> dict[str, int]:
    """Keep a card's time while its content is unchanged; otherwise move it past the last one.

    Anki updates a note on import only when the incoming modification time is newer than
    the one it holds, so an edited card must always get a later time than it had.
    """
    times: dict[str, int] = {}
    for card in cards:
        previous = state.get(card.guid)
        if previous and previous.hash == card.content_hash:
            times[card.guid] = previous.mod
        else:
            last = previous.mod if previous else 0
            times[card.guid] = max(epoch, last + 1)
    return times


def compare(cards: list[Card], state: Mapping[str, Entry]) -> DeckReport:
    """Count cards added, changed, unchanged and removed against the previous state."""
    live = {g: e for g, e in state.items() if not e.removed}
    current = {c.guid: c.content_hash for c in cards}
    added = sum(1 for g in current if g not in live)
    changed = sum(1 for g, h in current.items() if g in live and live[g].hash != h)
    removed = sum(1 for g in live if g not in current)
    return DeckReport(added, changed, len(current) - added - changed, removed)


def write_package(target: Path, deck_name: str, cards: list[Card], media: dict[str, Asset],
                  times: dict[str, int], identities: Mapping[str, Entry] | None = None,
                  note_types: Mapping[str, NoteType] | None = None) -> None:
    """Write the deck to ``target`` with fixed zip metadata so equal input gives equal bytes.

    ``identities`` (each card's key, note and place) go into a table of the deck's collection
    that Anki ignores, so the deck can serve as the next build's state (``--previous``);
    ``note_types``: the user's note types, by the kind they take (config ``note_types``)."""
    models = card_models(note_types)
    by_deck = decks_of(deck_name, cards)
    timestamp = max(times.values(), default=0)
    with processes.temporary_folder() as tmp:
        db_path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(db_path)
        try:
            cursor = conn.cursor()
            _write_collection(cursor, by_deck, models, times, timestamp)
            if identities:
                state.write_table(conn, identities)
            conn.commit()
        finally:
            conn.close()
        _zip(target, db_path, list(media.values()))


def decks_of(deck_name: str, cards: list[Card]) -> dict[str, list[Card]]:
    """The cards by deck, the decks in name order (the root deck always among them)."""
    by_deck: dict[str, list[Card]] = {}
    for name in sorted({deck_name, *(c.deck or deck_name for c in cards)}):
        by_deck[name] = []
    for card in cards:
        by_deck[card.deck or deck_name].append(card)
    return by_deck


def _write_collection(cursor: sqlite3.Cursor, by_deck: dict[str, list[Card]],
                      models: dict[str, genanki.Model], times: dict[str, int],
                      timestamp: int) -> None:
    """What ``genanki.Package.write_to_db`` writes, row for row and in its order, each note
    with its own modification time; genanki writes the schema and each deck's entry, the
    notes and cards are inserted here (a genanki Note per card costs more than its rows)."""
    ids = itertools.count(timestamp * 1000)
    cursor.executescript(APKG_SCHEMA)
    cursor.executescript(APKG_COL)
    for name, deck_cards in by_deck.items():
        deck_id = write_deck_entry(cursor, name, deck_cards, models, timestamp, ids)
        for card in deck_cards:
            rows = note_rows(card, models[card.model], times[card.guid])
            insert_note(cursor, rows, next(ids), [next(ids) for _ in rows.cards], deck_id)


def write_deck_entry(cursor: sqlite3.Cursor, name: str, deck_cards: list[Card],
                     models: dict[str, genanki.Model], timestamp: int,
                     ids: Iterator[int]) -> int:
    """genanki writes the deck's entry and its note types into the ``col`` row; its id."""
    deck = genanki.Deck(stable_id("deck:" + name), name)
    for card in deck_cards:
        deck.add_model(models[card.model])  # first use decides the order, as genanki's
    deck.write_to_db(cursor, timestamp, ids)  # its entry and its note types; no notes
    return int(deck.deck_id)


@dataclass(frozen=True)
class NoteRows:
    """A note's row in the collection and the cards it makes, less their ids and deck."""

    note: tuple[object, ...]  # guid, mid, mod, usn, tags, flds, sfld, csum, flags, data
    cards: tuple[tuple[int, bool], ...]  # (ordinal, suspended) per card
    mod: int


def note_rows(card: Card, model: genanki.Model, mod: int) -> NoteRows:
    """``genanki.Note.write_to_db``'s rows for ``card``: the note, and one card per template
    (or cloze number) it makes."""
    # U+001F separates fields in Anki's row: one inside a field would make a fifth field
    fields = [f.replace("\x1f", "") for f in (card.front, card.back, card.context, card.source)]
    if len(fields) != len(model.fields):
        raise ValueError(f"{len(fields)} fields for note type {model.name!r}")
    for tag in card.tags:
        if " " in tag:
            raise ValueError(f'Tag "{tag}" contains a space; this is not allowed!')
    # genanki's own rule for which cards a note makes (templates, cloze numbers)
    view = _NoteView(model, fields)
    made = genanki.Note._cloze_cards(view) if model.model_type == genanki.Model.CLOZE \
        else genanki.Note._front_back_cards(view)
    return NoteRows((card.guid, model.model_id, mod, -1, " " + " ".join(card.tags) + " ",
                     "\x1f".join(fields), card.front or fields[model.sort_field_index], 0, 0,
                     ""), tuple((ordinal.ord, bool(ordinal.suspend)) for ordinal in made), mod)


def insert_note(cursor: sqlite3.Cursor, rows: NoteRows, note_id: int, card_ids: list[int],
                deck_id: int) -> None:
    """Insert a note's row, then its cards' rows, under the ids given."""
    cursor.execute("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);", (note_id, *rows.note))
    for card_id, (ordinal, suspended) in zip(card_ids, rows.cards, strict=True):
        cursor.execute("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);", (
            card_id, note_id, deck_id, ordinal, rows.mod, -1, 0, -1 if suspended else 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, ""))


@dataclass(frozen=True)
class _NoteView:
    """What genanki's card rules read of a note."""

    model: genanki.Model
    fields: list[str]


def _zip(target: Path, db_path: Path, media: list[Asset]) -> None:
    """Zip the collection and media in a fixed order with fixed dates, streaming each file."""
    with zipfile.ZipFile(target, "w") as archive:
        _add(archive, "collection.anki2", db_path)
        index = {str(i): asset.media_name for i, asset in enumerate(media)}
        info = _info("media")
        archive.writestr(info, json.dumps(index, sort_keys=True))
        for i, asset in enumerate(media):
            _add(archive, str(i), asset.path)


def _info(name: str, compress: bool = True) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def is_packed(path: Path) -> bool:
    """PNG, JPEG, GIF, WebP and sound formats but WAV and FLAC (lossless) are compressed
    already: deflating them again costs time, not bytes."""
    return path.suffix.lower() in _PACKED


def _add(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    compress = not is_packed(path)
    with path.open("rb") as source, archive.open(_info(name, compress), "w") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
