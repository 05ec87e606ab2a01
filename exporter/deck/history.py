"""What a build carries over from the previous one: state in, kept GUIDs, times, state out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from exporter.core import vaultid
from exporter.core.config import Config
from exporter.core.model import Card, Diagnostic
from exporter.deck import anki, identity, state
from exporter.deck.state import Entry, State


@dataclass
class History:
    """The cards with the GUIDs they keep, their times, and the state for the next build."""

    cards: list[Card]
    times: dict[str, int]
    report: anki.DeckReport
    entries: dict[str, Entry]
    resent: list[Card]  # removed cards sent once more, tagged (``--tag-removed``)
    resent_times: dict[str, int]

    @property
    def deck_cards(self) -> list[Card]:
        """Everything the deck holds: the vault's cards, then the removed ones re-sent."""
        return self.cards + self.resent

    @property
    def deck_times(self) -> dict[str, int]:
        """The modification time of every card in the deck."""
        return {**self.times, **self.resent_times}


def state_path(config: Config) -> Path:
    """``--state FILE`` (or the config's ``state``), else a hidden file beside the deck."""
    return config.state_file or config.out_dir / f".{config.stem}.notes-export.json"


def previous_state(config: Config, diagnostics: list[Diagnostic]) -> State:
    """The previous build: the deck ``--previous`` names, else the state file; less any card
    another vault made (a card of another vault never lends this vault its GUID)."""
    if config.previous is not None:
        found = state.load_deck(config.previous, {t.name: kind for kind, t in
                                                  config.note_types.items()})
    else:
        found = state.load_file(state_path(config), diagnostics)
    ours = config.vault
    return {g: e for g, e in found.items() if vaultid.owner(e.tags, ours) != "other"}


def follow(cards: list[Card], previous: State, epoch: int, tag_removed: bool,
           diagnostics: list[Diagnostic], note_types: Mapping[str, str] | None = None
           ) -> History:
    """Pair re-keyed cards with their previous selves and work out times and the new state;
    ``note_types``: the user's note type each model's cards are sent in (model → name)."""
    sent_in = note_types or {}
    pairing = identity.pair(cards, previous, diagnostics)
    kept = pairing.cards
    times = anki.modification_times(kept, previous, epoch)
    counts = anki.compare(kept, previous)
    resending = pairing.removed if tag_removed else []
    resent = [state.card_of(e, (anki.REMOVED_TAG,)) for e in resending]
    resent_times = anki.modification_times(resent, previous, epoch)
    entries = {}
    place: dict[str, int] = {}
    for card in kept:
        pos = place[card.note] = place.get(card.note, -1) + 1
        natural, note_type = pairing.natural.get(card.guid, card.guid), sent_in.get(card.model, "")
        entry = previous.get(card.guid)  # kept as it was when unchanged: most are, in watch
        if entry is None or not state.same_entry(entry, card, times[card.guid], natural, pos,
                                                 note_type):
            entry = state.entry_for(card, times[card.guid], natural, pos, note_type=note_type)
        entries[card.guid] = entry
    for card, old in zip(resent, resending, strict=True):
        entries[card.guid] = state.entry_for(card, resent_times[card.guid], old.natural,
                                             old.pos, removed=True,
                                             note_type=sent_in.get(card.model, ""))
    removed = tuple(f"{e.note} › {state.plain(e.front)}" if e.note else state.plain(e.front)
                    for e in sorted(pairing.removed, key=lambda e: (e.note, e.pos)))
    report = anki.DeckReport(counts.added, counts.changed, counts.unchanged, counts.removed,
                             pairing.renamed, pairing.moved, removed, len(resent))
    return History(kept, times, report, entries, resent, resent_times)
