"""``watch``'s deck (config ``fast_writes``): the notes, GUIDs, fields, tags, decks, cards,
modification times and media that :func:`anki.write_package` writes, written in a fraction of
its time and not byte-reproducible. The collection stays in memory between rounds and only the
rows of changed cards are written again; the package stores it uncompressed and copies the
media from the last package (fastzip.py). ``build`` never writes this way: its deck is the
reproducible one CI compares."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from exporter.core.model import Asset, Card
from exporter.core.note_types import NoteType
from exporter.deck import anki, fastzip, state
from exporter.deck.state import Entry


@dataclass(frozen=True)
class _Note:
    """A card's note as the collection holds it: what it was written from, and its ids."""

    made_from: tuple[object, ...]
    note_id: int
    card_ids: tuple[int, ...]


class FastDeck:
    """One session's deck: the collection in memory and the package's members, between rounds."""

    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None
        self._models: object = None  # the note types the collection was written with
        self._col: tuple[object, ...] = ()  # the ``col`` row before any deck is written
        self._notes: dict[str, _Note] = {}  # by GUID
        self._table: dict[str, Entry] = {}  # what our table's rows hold, by GUID
        self._next_id = 0
        self._zip = fastzip.PackageZip()
        self.rewritten = 0  # notes written anew in the last round

    def write(self, tmp: Path, target: Path, deck_name: str, cards: list[Card],
              media: dict[str, Asset], times: dict[str, int],
              identities: Mapping[str, Entry] | None = None,
              note_types: Mapping[str, NoteType] | None = None) -> None:
        """Write the deck to ``tmp`` (to replace ``target``, which may be the last package),
        with what :func:`anki.write_package` takes."""
        models = anki.card_models(note_types)
        by_deck = anki.decks_of(deck_name, cards)
        timestamp = max(times.values(), default=0)
        conn = self._collection(models, timestamp)
        try:
            self._update(conn, by_deck, models, times, timestamp)
            self._update_table(conn, identities or {})
            conn.commit()
        except BaseException:
            self._conn = None  # half written: the next round starts again
            raise
        try:
            self._zip.write(tmp, target, conn.serialize(), list(media.values()))
        except fastzip.Zip64Error:
            anki.write_package(tmp, deck_name, cards, media, times, identities, note_types)
            self._zip = fastzip.PackageZip()

    def _collection(self, models: dict[str, genanki.Model], timestamp: int
                    ) -> sqlite3.Connection:
        """The collection of the last round, or an empty one when the note types changed."""
        signature = sorted((kind, repr(model), model.sort_field_index)
                           for kind, model in models.items())
        if self._conn is not None and signature == self._models:
            return self._conn
        conn = sqlite3.connect(":memory:")
        conn.executescript(APKG_SCHEMA)
        conn.executescript(APKG_COL)
        self._col = conn.execute("select * from col").fetchone()
        self._conn, self._models, self._notes, self._table = conn, signature, {}, {}
        self._next_id = timestamp * 1000  # as the reproducible writer numbers a first deck
        return conn

    def _ids(self, count: int) -> list[int]:
        first, self._next_id = self._next_id, self._next_id + count
        return list(range(first, self._next_id))

    def _update(self, conn: sqlite3.Connection, by_deck: dict[str, list[Card]],
                models: dict[str, genanki.Model], times: dict[str, int],
                timestamp: int) -> None:
        """Each deck's entry and note types as the reproducible writer leaves them; the rows
        of each card whose fields, tags, note type, deck or time changed written again."""
        cursor = conn.cursor()
        cursor.execute("delete from col")
        cursor.execute(f"insert into col values ({', '.join('?' * len(self._col))})",
                       self._col)
        ids = iter(())  # genanki's deck entries take no ids
        kept: dict[str, _Note] = {}
        self.rewritten = 0
        # a new note's id is its creation time in Anki: never before this deck's time
        self._next_id = max(self._next_id, timestamp * 1000)
        for name, deck_cards in by_deck.items():
            deck_id = anki.write_deck_entry(cursor, name, deck_cards, models, timestamp, ids)
            for card in deck_cards:
                mod = times[card.guid]
                made_from = (card.front, card.back, card.context, card.source, card.tags,
                             card.model, deck_id, mod)
                known = self._notes.get(card.guid)
                if known is not None and known.made_from == made_from:
                    kept[card.guid] = known
                    continue
                kept[card.guid] = self._write_note(cursor, card, models[card.model], mod,
                                                   deck_id, made_from, known)
        gone = [(n.note_id,) for guid, n in self._notes.items() if guid not in kept]
        cursor.executemany("delete from notes where id = ?", gone)
        cursor.executemany("delete from cards where nid = ?", gone)
        self._notes = kept

    def _write_note(self, cursor: sqlite3.Cursor, card: Card, model: genanki.Model,
                    mod: int, deck_id: int, made_from: tuple[object, ...],
                    known: _Note | None) -> _Note:
        """A changed card's note and cards written again, under the ids they had."""
        rows = anki.note_rows(card, model, mod)
        if known is not None:
            cursor.execute("delete from notes where id = ?", (known.note_id,))
            cursor.execute("delete from cards where nid = ?", (known.note_id,))
            note_id, card_ids = known.note_id, list(known.card_ids[:len(rows.cards)])
        else:
            note_id, card_ids = self._ids(1)[0], []
        card_ids += self._ids(len(rows.cards) - len(card_ids))
        anki.insert_note(cursor, rows, note_id, card_ids, deck_id)
        self.rewritten += 1
        return _Note(made_from, note_id, tuple(card_ids))

    def _update_table(self, conn: sqlite3.Connection, identities: Mapping[str, Entry]) -> None:
        """Our table of identities (state.py), there exactly when there are any."""
        if not identities or not self._table:
            conn.execute(f"drop table if exists {state.TABLE}")
            self._table = {}
        if not identities:
            return
        if not self._table:
            conn.execute(state.TABLE_SCHEMA)
        changed = [state.table_row(entry) for guid, entry in identities.items()
                   if self._table.get(guid) is not entry]  # history.follow keeps the same
        conn.executemany(state.TABLE_INSERT.replace("insert", "insert or replace", 1), changed)
        conn.executemany(f"delete from {state.TABLE} where guid = ?",
                         [(guid,) for guid in self._table if guid not in identities])
        self._table = dict(identities)
