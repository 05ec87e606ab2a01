"""``notes-export sync``: write the vault's cards straight into an Anki collection.

An ``.apkg`` import can add and update notes, but never delete one or move a card to another
deck. Sync does all four with Anki's own Python library (the code the desktop app runs): new
cards come in through a package import, so note types and GUIDs are exactly an import's; edited
notes are updated in place (review history kept); cards whose deck changed are moved; and the
notes whose cards left the vault are deleted. Only this vault's notes are touched: a note is
ours when it is of this tool's note types (or a type of the user's that the config maps a card
kind to, now or in the previous build: sync_types.py) and carries this vault's tag
(vaultid.py); a deck name, a GUID list or a state file never makes a note ours. A note whose
type the mapping changed is moved to its new type with Anki's Change Note Type: same note,
same cards, same history. A note made before vault identities
(notes-export 0.1) is taken over only by the card whose 0.1 GUID it has, and never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from exporter.app import pipeline
from exporter.app.engine import follow
from exporter.app.outputs import make_out_dir, staged
from exporter.app.writers import Result
from exporter.core import processes, vaultid
from exporter.core.config import Config
from exporter.core.errors import ExportError
from exporter.core.model import MODEL_NAMES, Card, Diagnostic
from exporter.core.note_types import NoteType
from exporter.deck import anki, history, state, sync_types
from exporter.deck.collection import (
    field_as_stored,
    filtered_decks,
    filtered_parent,
    normalizes_text,
    open_collection,
    tags_as_stored,
)
from exporter.deck.sync_types import Types

INSTALL_HINT = "pip install 'anki>=25.2,<27' into the environment notes-export runs in"
_UNOWNED_SEARCH = '"note:notes-export*" -"tag:notes-export::vault::*"'


@dataclass
class Plan:
    """What a sync changes, each change named for the user."""

    add: list[Card] = field(default_factory=list)
    update: list[tuple[int, Card]] = field(default_factory=list)  # note id, card
    move: list[tuple[list[int], Card]] = field(default_factory=list)  # card ids, card
    delete: list[tuple[int, str]] = field(default_factory=list)  # note id, what it showed
    # note id, its type, the type it goes to (its fields rewritten there), card
    convert: list[tuple[int, int, int, Card]] = field(default_factory=list)
    type_names: dict[int, str] = field(default_factory=dict)  # for the lines

    @property
    def empty(self) -> bool:
        """True when the collection already matches the vault."""
        return not (self.add or self.update or self.move or self.delete or self.convert)

    def lines(self) -> list[str]:
        """One line per change, deletions last (they are printed before they are made)."""
        return ([f"add: {_name(c)}" for c in self.add]
                + [f"convert: {_name(c)} → note type "  # 0: ours, not in the collection yet
                   f"'{self.type_names.get(new) or MODEL_NAMES[c.model]}'"
                   for _, _, new, c in self.convert]
                + [f"update: {_name(c)}" for _, c in self.update]
                + [f"move: {_name(c)} → {c.deck}" for _, c in self.move]
                + [f"delete: {name}" for _, name in self.delete])

    def summary(self) -> str:
        """``2 added, 1 updated, 0 moved, 1 deleted`` (and ``, 3 converted`` when some were)."""
        return (f"{len(self.add)} added, {len(self.update)} updated, {len(self.move)} moved, "
                f"{len(self.delete)} deleted"
                + (f", {len(self.convert)} converted" if self.convert else ""))


def sync(config: Config, collection: Path, dry_run: bool = False,
         echo: Callable[[str], None] = print, upgrade: bool = False) -> tuple[Result, Plan]:
    """Bring the collection at ``collection`` in line with the vault; print deletions first."""
    _require_anki()
    result = pipeline.check(config)
    diagnostics = result.vault.diagnostics
    previous = history.previous_state(config, diagnostics)
    col = _open(collection, dry_run, upgrade, echo)
    try:
        types = sync_types.find(col, config.note_types, previous)  # before any change
        notes = _notes(col)
        previous.update(_made_by_0_1(notes, result.cards, previous))
        # removed cards are deleted here, never re-sent tagged
        followed = follow(replace(config, tag_removed=False), result,
                                   previous=previous).history
        result.report = followed.report
        plan = _plan(col, notes, followed.cards, config.vault, diagnostics, types,
                     config.notes_dir)
        for line in plan.lines():
            echo(("would " if dry_run else "") + line)
        if not dry_run:
            _apply(col, plan, followed, result, config, types)
    finally:
        col.close()
    if not dry_run:
        make_out_dir(config)  # the state file goes there, out of the vault's git
        with staged() as stage:
            state.write(stage(history.state_path(config)), followed.entries.values())
    return result, plan


def _require_anki() -> None:
    """Anki's library is an optional dependency: say how to install it when it is missing."""
    try:
        import anki.collection  # noqa: F401
    except ImportError as exc:
        raise ExportError("notes-export sync needs Anki's Python library (the 'anki' package): "
                          f"{INSTALL_HINT}") from exc


def _open(path: Path, dry_run: bool, upgrade: bool, echo: Callable[[str], None]) -> Any:
    """Open the collection after checking it is one nobody holds (collection.py); a dry run
    opens a copy; an older schema is upgraded only with ``upgrade``, and said first."""
    return open_collection(path, dry_run=dry_run, upgrade=upgrade, echo=echo)


@dataclass(frozen=True)
class _Found:
    """A note of the collection, as sync compares it."""

    nid: int
    mid: int
    flds: str
    tags: str
    mod: int


def _notes(col: Any) -> dict[str, _Found]:
    """Every note of the collection by GUID."""
    return {str(guid): _Found(int(nid), int(mid), str(flds), str(tags), int(mod))
            for nid, guid, mid, flds, tags, mod in col.db.all(
                "select id, guid, mid, flds, tags, mod from notes")}


def _made_by_0_1(notes: dict[str, _Found], cards: list[Card], previous: state.State
                 ) -> state.State:
    """Notes that 0.1 made for this vault's cards (no vault tag, the card's 0.1 GUID), as the
    previous state: the cards keep those notes (identity.py) when no state file says so."""
    found: state.State = {}
    for card in cards:
        note = notes.get(card.legacy_guid)
        if note is None or card.guid in previous or card.legacy_guid in previous \
                or vaultid.vault_tags(note.tags.split()):
            continue
        found[card.legacy_guid] = state.Entry(card.legacy_guid, "", note.mod, card.legacy_guid,
                                              card.note, card.kind, model=card.model)
    return found


def _plan(col: Any, notes: dict[str, _Found], cards: list[Card], vault: vaultid.VaultId,
          diagnostics: list[Diagnostic], types: Types, root: Path | None = None) -> Plan:
    """Compare this vault's notes in the collection with its cards."""
    nfc, filtered = normalizes_text(col), filtered_decks(col)
    ours = types.all
    plan = Plan(type_names=types.names)
    current = {c.guid for c in cards}
    for card in cards:
        stays = _into_filtered(card, filtered, root, diagnostics)
        found = notes.get(card.guid)
        if found is None:
            if not stays:
                plan.add.append(card)
            continue
        why = _not_ours(found, card, types.allowed(card), vault)
        if why:
            diagnostics.append(Diagnostic(
                card.note, card.line or 1, 1, "warning", f"'{state.plain(card.front)[:60]}': "
                f"the collection holds a note with this card's identity but {why}; left as it "
                "is", "sync-conflict"))
            continue
        target = types.target[card.model]
        if found.mid != target:  # the mapping changed: Change Note Type, fields rewritten
            plan.convert.append((found.nid, found.mid, target or 0, card))
        elif sync_types.values(found.flds, types.layout[found.mid]) != _stored(card, nfc) \
                or _tags(found.tags) != _tags(" ".join(tags_as_stored(card.tags))):
            plan.update.append((found.nid, card))
        deck_id = col.decks.id_for_name(card.deck) if card.deck else None
        cids = [int(cid) for cid, did, odid in col.db.all(
            "select id, did, odid from cards where nid = ?", found.nid)
            if not odid and did != deck_id]  # a card in a filtered deck stays there
        if cids and card.deck and not stays:
            plan.move.append((cids, card))
    unowned = 0
    for guid, note in sorted(notes.items(), key=lambda n: n[1].nid):
        if note.mid not in ours or guid in current:
            continue
        owner = vaultid.owner(note.tags.split(), vault)
        if owner == "ours":
            plan.delete.append((note.nid, state.plain(note.flds.split("\x1f")[0])[:80]))
        # a type of the user's holds their own notes too: those are no notice's business
        unowned += owner == "none" and note.mid in types.own.values()
    if unowned:
        diagnostics.append(Diagnostic(
            str(col.path), 1, 1, "notice", f"{unowned} notes of notes-export's note types carry "
            "no vault's tag (made before vault identities, or by hand): sync leaves them; find "
            f"them in Anki's browser with {_UNOWNED_SEARCH}", "sync-unowned"))
    return plan


def _not_ours(found: _Found, card: Card, mids: set[int], vault: vaultid.VaultId) -> str:
    """Why the note holding a card's GUID is not this vault's to change; '' when it is."""
    if found.mid not in mids:
        return "another note type"
    owner = vaultid.owner(found.tags.split(), vault)
    if owner == "other":
        return "another vault's tag (" + ", ".join(sorted(vaultid.vault_tags(
            found.tags.split()))) + ")"
    if owner == "none" and card.guid != card.legacy_guid:
        return "no vault's tag, and not the GUID notes-export 0.1 gave this card"
    return ""


def _apply(col: Any, plan: Plan, followed: history.History, result: Result,
           config: Config, types: Types) -> None:
    """Add through a package import (into a type of the user's: as a note of it), convert
    notes between types, then update, move and delete through the collection."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    for asset in result.vault.assets.values():
        if not col.media.have(asset.media_name):
            stored = col.media.write_data(asset.media_name, asset.path.read_bytes())
            if stored != asset.media_name:  # Anki renames only a name it cannot store as is
                result.vault.diagnostics.append(Diagnostic(
                    asset.path.name, 1, 1, "warning", f"Anki stored image '{asset.media_name}' "
                    f"as '{stored}': cards showing it need a rebuild", "sync-media"))
    imported = [c for c in plan.add if c.model not in config.note_types]
    if imported:
        with processes.temporary_folder() as tmp:
            package = Path(tmp) / "sync.apkg"
            anki.write_package(package, config.title, imported, {}, followed.times)
            col.import_anki_package(ImportAnkiPackageRequest(
                package_path=str(package), options=ImportAnkiPackageOptions()))
    for card in plan.add:
        if card.model in config.note_types:
            _add_note(col, card, config.note_types[card.model], config.title)
    if plan.convert:
        _convert(col, plan, types, config)
    for nid, card in [*plan.update, *((nid, card) for nid, _, _, card in plan.convert)]:
        note = col.get_note(nid)
        for index, value in zip(types.layout[int(note.mid)], _fields(card), strict=True):
            note.fields[index] = value
        note.tags = list(card.tags)
        col.update_note(note)
    for cids, card in plan.move:
        col.set_deck(cids, col.decks.id(card.deck))
    if plan.delete:
        col.remove_notes([nid for nid, _ in plan.delete])


def _add_note(col: Any, card: Card, mapping: NoteType, deck: str) -> None:
    """Add ``card`` as a note of the user's type, with its GUID, our fields in theirs."""
    note = col.new_note(col.models.by_name(mapping.name))
    note.guid = card.guid
    for name, value in zip(mapping.fields, _fields(card), strict=True):
        note[name] = value
    note.tags = list(card.tags)
    col.add_note(note, col.decks.id(card.deck or deck))


def _convert(col: Any, plan: Plan, types: Types, config: Config) -> None:
    """Change the note type of the notes the plan converts, one call per pair of types; a type
    of ours not in the collection yet comes in first, as an import makes it."""
    missing = sorted({c.model for _, _, new, c in plan.convert if not new})
    if missing:
        _import_types(col, missing, config)
        for model in missing:
            found = col.models.by_name(anki.card_models()[model].name)
            types.own[model] = types.target[model] = int(found["id"])
            types.layout[int(found["id"])] = list(range(4))
    pairs: dict[tuple[int, int], list[int]] = {}
    for nid, old, new, card in plan.convert:
        pairs.setdefault((old, new or types.target[card.model] or 0), []).append(nid)
    for (old, new), nids in sorted(pairs.items()):
        sync_types.convert(col, nids, old, new, types.layout)


def _import_types(col: Any, models: list[str], config: Config) -> None:
    """Bring our note types ``models`` into the collection through a package import (their ids
    exactly a deck's), with a placeholder note each that is removed again."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    placeholders = [Card(guid=f"notes-export-placeholder-{model}", front="{{c1::-}}",
                         back="", context="", source="", content_hash="", model=model)
                    for model in models]
    with processes.temporary_folder() as tmp:
        package = Path(tmp) / "types.apkg"
        anki.write_package(package, config.title, placeholders, {},
                           {c.guid: 0 for c in placeholders})
        col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(package), options=ImportAnkiPackageOptions()))
    col.remove_notes([int(col.db.scalar("select id from notes where guid = ?", c.guid))
                      for c in placeholders])


def _fields(card: Card) -> list[str]:
    return [card.front, card.back, card.context, card.source]


def _stored(card: Card, nfc: bool) -> list[str]:
    """The card's fields as Anki stores them (NFC, no control characters): what it compares."""
    return [field_as_stored(value, nfc) for value in _fields(card)]


def _into_filtered(card: Card, filtered: set[str], root: Path | None,
                   diagnostics: list[Diagnostic]) -> bool:
    """True (and a warning, once per note) when the card's deck is a filtered deck, or lies
    under one: Anki moves no card into one, so the card stays where it is (a new one out)."""
    deck = filtered_parent(card.deck, filtered) if filtered and card.deck else None
    if deck is None:
        return False
    where = (f"deck '{deck}' is a filtered deck" if deck == card.deck
             else f"deck '{card.deck}' lies under the filtered deck '{deck}'")
    warning = Diagnostic(card.note, _deck_line(root, card), 1, "warning", f"{where} in the "
                         "collection, and Anki moves no card into one: this note's cards stay "
                         "where they are, new ones are not added; name a regular deck",
                         "sync-filtered")
    if warning not in diagnostics:
        diagnostics.append(warning)
    return True


def _deck_line(root: Path | None, card: Card) -> int:
    """The line of the note's ``deck:`` (or ``cards-deck:``) in its front matter, else 1."""
    try:
        lines = (root / card.note).read_text(encoding="utf-8").splitlines() if root else []
    except (OSError, UnicodeDecodeError):
        return 1
    if not lines or lines[0].strip() != "---":
        return 1
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in ("---", "..."):
            break
        if re.match(r"\s*(cards-)?deck\s*:", line):
            return number
    return 1


def _tags(text: str) -> set[str]:
    return {t.casefold() for t in text.split()}


def _name(card: Card) -> str:
    return f"{card.note} › {state.plain(card.front)[:80]}"
