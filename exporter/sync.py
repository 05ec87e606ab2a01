"""``notes-export sync``: write the vault's cards straight into an Anki collection.

An ``.apkg`` import can add and update notes, but never delete one or move a card to another
deck. Sync does all four with Anki's own Python library (the code the desktop app runs): new
cards come in through a package import, so note types and GUIDs are exactly an import's; edited
notes are updated in place (review history kept); cards whose deck changed are moved; and the
notes whose cards left the vault are deleted, but only notes of this tool's note types that this
vault made (their GUIDs are in its state or in the list sync keeps in the collection).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import anki, history, pipeline, state
from .collection import (
    field_as_stored,
    filtered_decks,
    filtered_parent,
    normalizes_text,
    open_collection,
    tags_as_stored,
)
from .config import Config
from .errors import ExportError
from .model import MODEL_NAMES, Card, Diagnostic
from .pipeline import Result

INSTALL_HINT = "pip install 'notes-export[sync]'"
_CONFIG_KEY = "notesExport:{stem}:guids"  # the GUIDs this vault put into the collection


@dataclass
class Plan:
    """What a sync changes, each change named for the user."""

    add: list[Card] = field(default_factory=list)
    update: list[tuple[int, Card]] = field(default_factory=list)  # note id, card
    move: list[tuple[list[int], Card]] = field(default_factory=list)  # card ids, card
    delete: list[tuple[int, str]] = field(default_factory=list)  # note id, what it showed

    @property
    def empty(self) -> bool:
        """True when the collection already matches the vault."""
        return not (self.add or self.update or self.move or self.delete)

    def lines(self) -> list[str]:
        """One line per change, deletions last (they are printed before they are made)."""
        return ([f"add: {_name(c)}" for c in self.add]
                + [f"update: {_name(c)}" for _, c in self.update]
                + [f"move: {_name(c)} → {c.deck}" for _, c in self.move]
                + [f"delete: {name}" for _, name in self.delete])

    def summary(self) -> str:
        """``2 added, 1 updated, 0 moved, 1 deleted``."""
        return (f"{len(self.add)} added, {len(self.update)} updated, {len(self.move)} moved, "
                f"{len(self.delete)} deleted")


def sync(config: Config, collection: Path, dry_run: bool = False,
         echo: Callable[[str], None] = print, upgrade: bool = False) -> tuple[Result, Plan]:
    """Bring the collection at ``collection`` in line with the vault; print deletions first."""
    _require_anki()
    result = pipeline.check(config)
    previous = history.previous_state(config, result.vault.diagnostics)
    # removed cards are deleted here, never re-sent tagged
    followed = pipeline.follow(replace(config, tag_removed=False), result,
                               previous=previous).history
    result.report = followed.report
    col = _open(collection, dry_run, upgrade, echo)
    try:
        key = _CONFIG_KEY.format(stem=config.stem)
        known = set(col.get_config(key, []) or []) | set(previous)
        plan = _plan(col, followed.cards, known, result.vault.diagnostics, config.notes_dir)
        for line in plan.lines():
            echo(("would " if dry_run else "") + line)
        if not dry_run:
            _apply(col, plan, followed, result, config)
            guids = sorted(c.guid for c in followed.cards)
            if col.get_config(key, None) != guids:
                col.set_config(key, guids)
    finally:
        col.close()
    if not dry_run:
        with pipeline.staged() as stage:
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


def _plan(col: Any, cards: list[Card], known: set[str], diagnostics: list[Diagnostic],
          root: Path | None = None) -> Plan:
    """Compare the collection's notes of our note types with the vault's cards."""
    nfc, filtered = normalizes_text(col), filtered_decks(col)
    mids = {kind: _model_id(col, name) for kind, name in MODEL_NAMES.items()}
    ours = {mid for mid in mids.values() if mid is not None}
    notes = {str(guid): (int(nid), int(mid), str(flds), str(tags))
             for nid, guid, mid, flds, tags in col.db.all(
                 "select id, guid, mid, flds, tags from notes")}
    plan = Plan()
    current = {c.guid for c in cards}
    for card in cards:
        stays = _into_filtered(card, filtered, root, diagnostics)
        found = notes.get(card.guid)
        if found is None:
            if not stays:
                plan.add.append(card)
            continue
        nid, mid, flds, tags = found
        if mid != mids.get(card.model):
            diagnostics.append(Diagnostic(
                card.note, card.line or 1, 1, "warning", f"'{state.plain(card.front)[:60]}': "
                "the collection holds a note with this card's identity but another note type; "
                "left as it is", "sync-conflict"))
            continue
        if flds.split("\x1f") != _stored(card, nfc) or _tags(tags) != _tags(" ".join(
                tags_as_stored(card.tags))):
            plan.update.append((nid, card))
        deck_id = col.decks.id_for_name(card.deck) if card.deck else None
        cids = [int(cid) for cid, did, odid in col.db.all(
            "select id, did, odid from cards where nid = ?", nid)
            if not odid and did != deck_id]  # a card in a filtered deck stays there
        if cids and card.deck and not stays:
            plan.move.append((cids, card))
    for guid, (nid, mid, flds, _) in sorted(notes.items(), key=lambda n: n[1][0]):
        if mid in ours and guid in known and guid not in current:
            plan.delete.append((nid, state.plain(flds.split("\x1f")[0])[:80]))
    return plan


def _model_id(col: Any, name: str) -> int | None:
    model = col.models.by_name(name)
    return int(model["id"]) if model else None


def _apply(col: Any, plan: Plan, followed: history.History, result: Result,
           config: Config) -> None:
    """Add through a package import, then update, move and delete through the collection."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    for asset in result.vault.assets.values():
        if not col.media.have(asset.media_name):
            stored = col.media.write_data(asset.media_name, asset.path.read_bytes())
            if stored != asset.media_name:  # Anki renames only a name it cannot store as is
                result.vault.diagnostics.append(Diagnostic(
                    asset.path.name, 1, 1, "warning", f"Anki stored image '{asset.media_name}' "
                    f"as '{stored}': cards showing it need a rebuild", "sync-media"))
    if plan.add:
        with tempfile.TemporaryDirectory(prefix="notes-export-") as tmp:
            package = Path(tmp) / "sync.apkg"
            anki.write_package(package, config.title, plan.add, {}, followed.times)
            col.import_anki_package(ImportAnkiPackageRequest(
                package_path=str(package), options=ImportAnkiPackageOptions()))
    for nid, card in plan.update:
        note = col.get_note(nid)
        for index, value in enumerate(_fields(card)):
            note.fields[index] = value
        note.tags = list(card.tags)
        col.update_note(note)
    for cids, card in plan.move:
        col.set_deck(cids, col.decks.id(card.deck))
    if plan.delete:
        col.remove_notes([nid for nid, _ in plan.delete])


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
