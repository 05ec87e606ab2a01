"""Cards keep their Anki note when their key changes but they are still recognisably the same.

A card's GUID comes from its key (note path, heading path, question), so a renamed heading, a
reworded question, an edited cloze line or a moved note would make a new card and orphan the
old one with its review history. Using the previous build's state, each card that appeared is
paired with one that disappeared when the evidence is clear, strongest first:

1. both sides unchanged: the same note, or a note that was moved or renamed (content match);
2. the same note and one side unchanged (a reworded question, a renamed heading);
3. the same note and both sides close (a small edit, such as a word in a cloze line);
4. the same note and the same place among its neighbours, with one side still similar.

A pairing is made only when it is the one candidate on both sides. Two cards that could each be
the other's edit are never merged: they become new cards, with a notice saying why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import TypeVar

from exporter.core.model import Card, Diagnostic
from exporter.deck.state import Entry, State, plain

_T = TypeVar("_T")
CLOSE = 0.75  # SequenceMatcher ratio of two sides' text that counts as a small edit
SIMILAR = 0.6  # what the same place among neighbours needs besides, on one side
_MAX_TEXT = 2000  # characters compared per side; the rest of a long section adds little
_MAX_PAIRS = 20_000  # per note: beyond this many (removed × added) pairs, skip the fuzzy stages


@dataclass
class Pairing:
    """The cards with the GUIDs they keep, and what was renamed, moved and removed."""

    cards: list[Card]
    natural: dict[str, str] = field(default_factory=dict)  # kept GUID → the GUID its key gives
    renamed: int = 0
    moved: int = 0
    removed: list[Entry] = field(default_factory=list)


@dataclass
class _Side:
    """One card's comparable parts, current or previous."""

    index: int
    note: str
    model: str
    kind: str
    front: str
    back: str
    previous: bool = False  # a card of the previous build
    _plain: tuple[str, str] | None = None

    def texts(self) -> tuple[str, str]:
        if self._plain is None:
            self._plain = (plain(self.front)[:_MAX_TEXT], plain(self.back)[:_MAX_TEXT])
        return self._plain

    def fits(self, other: _Side) -> bool:
        """Same note type, and the same kind of card when both know theirs."""
        return self.model == other.model and (self.kind == other.kind or not self.kind
                                              or not other.kind)


def pair(cards: list[Card], previous: State, diagnostics: list[Diagnostic]) -> Pairing:
    """Give re-keyed cards the GUIDs of their previous selves; list the cards really removed."""
    live = {g: e for g, e in previous.items() if not e.removed}
    guids = [c.guid for c in cards]
    natural: dict[str, str] = {}
    _follow_aliases(guids, live, natural)
    _follow_legacy(cards, guids, live, natural)
    taken = set(guids)
    added = [i for i, g in enumerate(guids) if g not in live]
    gone = [e for g, e in live.items() if g not in taken]
    matcher = _Matcher(cards, guids, gone, added, live)
    matcher.run()
    for index, old in matcher.pairs.items():
        natural[gone[old].guid] = cards[index].guid
        guids[index] = gone[old].guid
    diagnostics += matcher.notices()
    paired = {gone[old].guid for old in matcher.pairs.values()}
    moved = sum(1 for i, old in matcher.pairs.items() if gone[old].note != cards[i].note)
    kept = [c if c.guid == g else replace(c, guid=g) for c, g in zip(cards, guids, strict=True)]
    return Pairing(kept, {g: n for g, n in natural.items() if g != n},
                   len(matcher.pairs) - moved, moved, [e for e in gone if e.guid not in paired])


def _follow_aliases(guids: list[str], live: State, natural: dict[str, str]) -> None:
    """A card renamed in an earlier build kept an older GUID: its key still leads to it."""
    direct = {g for g in guids if g in live}
    alias = {e.natural: e.guid for e in live.values() if e.natural and e.natural != e.guid}
    for i, guid in enumerate(guids):
        kept = alias.get(guid)
        if guid not in live and kept and kept not in direct:
            direct.add(kept)
            natural[kept] = guid
            guids[i] = kept


def _follow_legacy(cards: list[Card], guids: list[str], live: State,
                   natural: dict[str, str]) -> None:
    """A card made before GUIDs had a vault namespace (0.1) keeps that GUID, and its history."""
    taken = {g for g in guids if g in live}
    for i, card in enumerate(cards):
        old = card.legacy_guid
        if guids[i] not in live and old and old != guids[i] and old in live and old not in taken:
            taken.add(old)
            natural[old] = guids[i]
            guids[i] = old


class _Matcher:
    """The stages of pairing removed entries with added cards."""

    def __init__(self, cards: list[Card], guids: list[str], gone: list[Entry],
                 added: list[int], live: State) -> None:
        self.cards, self.guids, self.live = cards, guids, live
        self.old = [_Side(i, e.note, e.model, e.kind, e.front, e.back, previous=True)
                    for i, e in enumerate(gone)]
        self.gone = gone
        self.new = [_Side(i, cards[i].note, cards[i].model, cards[i].kind, cards[i].front,
                          cards[i].back) for i in added]
        self.pairs: dict[int, int] = {}  # card index → index of the entry whose GUID it keeps
        self.ambiguous: dict[int, set[int]] = defaultdict(set)  # card index → entry indexes
        self.moves: dict[str, str] = {}  # old note path → new one
        self.old_places: dict[str, tuple[str | None, str | None]] = {}
        self.new_places: dict[str, tuple[str | None, str | None]] = {}

    def run(self) -> None:
        present = {c.note for c in self.cards}
        vanished = {e.note for e in self.gone} - present
        self._stage(lambda s: [(s.front, s.back)],
                    lambda o, n: o.note == n.note or o.note in vanished)
        self._learn_moves(vanished)
        self._stage(lambda s: [k for k in ((self._note(s), 0, s.front) if s.front else None,
                                           (self._note(s), 1, s.back) if s.back else None) if k],
                    lambda o, n: True)
        self._stage(lambda s: [self._note(s)], self._close, capped=True)
        self._stage(lambda s: [self._note(s)],
                    lambda o, n: self._same_place(o, n) and self._similar(o, n), capped=True,
                    ambiguity=False)

    def _learn_moves(self, vanished: set[str]) -> None:
        """A vanished note whose unchanged cards all went to one new note was moved there."""
        targets: dict[str, set[str]] = defaultdict(set)
        for index, old in self.pairs.items():
            if self.gone[old].note in vanished:
                targets[self.gone[old].note].add(self.cards[index].note)
        self.moves = {old: next(iter(new)) for old, new in targets.items() if len(new) == 1}

    def _stage(self, keys: Callable[[_Side], list[object]],
               accepts: Callable[[_Side, _Side], bool], capped: bool = False,
               ambiguity: bool = True) -> None:
        """Pair each removed card with the one added card it accepts among those sharing a key
        with it, when that one accepts no other; several candidates on either side make an
        ambiguity and no pair."""
        used = set(self.pairs.values()) | {o for olds in self.ambiguous.values() for o in olds}
        olds = [o for o in self.old if o.index not in used]
        news = [n for n in self.new if n.index not in self.pairs and n.index not in self.ambiguous]
        of_old: dict[int, list[_Side]] = defaultdict(list)
        of_new: dict[int, list[_Side]] = defaultdict(list)
        for old, new in _sharing(olds, news, keys, capped):
            if old.fits(new) and accepts(old, new):
                of_old[old.index].append(new)
                of_new[new.index].append(old)
        for old_index, found in of_old.items():
            new = found[0]
            if len(found) == 1 and len(of_new[new.index]) == 1:
                self.pairs[new.index] = old_index
            elif ambiguity:
                for candidate in found:
                    self.ambiguous[candidate.index] |= {o.index for o in of_new[candidate.index]}

    def _note(self, side: _Side) -> str:
        """The note a card is in now: a removed card's note may have been moved."""
        return self.moves.get(side.note, side.note) if side.previous else side.note

    @staticmethod
    def _close(old: _Side, new: _Side) -> bool:
        return all(_ratio(a, b) >= CLOSE for a, b in zip(old.texts(), new.texts(), strict=True))

    @staticmethod
    def _similar(old: _Side, new: _Side) -> bool:
        return any(a and _ratio(a, b) >= SIMILAR
                   for a, b in zip(old.texts(), new.texts(), strict=True))

    def _same_place(self, old: _Side, new: _Side) -> bool:
        """The cards before and after it are the ones that were before and after it."""
        if not self.old_places:
            self.old_places = _neighbours(sorted(self.live.values(),
                                                 key=lambda e: (e.note, e.pos)),
                                          lambda e: e.note, lambda e: e.guid)
            self.new_places = _neighbours(range(len(self.cards)), lambda i: self.cards[i].note,
                                          str)
        before, after = self.old_places[self.gone[old.index].guid]
        now = tuple(self._guid(int(i)) if i is not None else None
                    for i in self.new_places[str(new.index)])
        return (before, after) == now and (before, after) != (None, None)

    def _guid(self, index: int) -> str:
        return self.gone[self.pairs[index]].guid if index in self.pairs else self.guids[index]

    def notices(self) -> list[Diagnostic]:
        """One notice per new card that could have been the edit of more than one old card, or
        of one that another new card could also have been."""
        found = []
        for index, olds in sorted(self.ambiguous.items()):
            if index in self.pairs:
                continue
            card = self.cards[index]
            names = sorted({_short(self.gone[o].front) for o in olds})
            found.append(Diagnostic(
                card.note, card.line or 1, 1, "notice",
                f"'{_short(card.front)}' may be the edited form of "
                + " or ".join(f"'{n}'" for n in names)
                + ", and so may another card: it is a new card (no review history) so that no "
                "two cards are merged; a block id (^id) keeps a card through any edit",
                "ambiguous-identity"))
        return found


def _sharing(olds: list[_Side], news: list[_Side], keys: Callable[[_Side], list[object]],
             capped: bool) -> Iterable[tuple[_Side, _Side]]:
    """The (removed, added) pairs that share a key, each once; with ``capped``, a key shared by
    too many pairs (a huge note rewritten wholesale) is skipped rather than compared in full."""
    index: dict[object, list[_Side]] = defaultdict(list)
    for new in news:
        for key in keys(new):
            index[key].append(new)
    by_key: dict[object, list[_Side]] = defaultdict(list)
    for old in olds:
        for key in keys(old):
            by_key[key].append(old)
    seen: set[tuple[int, int]] = set()
    for key, group in by_key.items():
        matches = index.get(key, [])
        if capped and len(group) * len(matches) > _MAX_PAIRS:
            continue
        for old in group:
            for new in matches:
                if (old.index, new.index) not in seen:
                    seen.add((old.index, new.index))
                    yield old, new


def _neighbours(items: Iterable[_T], note: Callable[[_T], str], name: Callable[[_T], str]
                ) -> dict[str, tuple[str | None, str | None]]:
    """Each item's name → the names of the items before and after it in the same note."""
    ordered = list(items)
    found: dict[str, tuple[str | None, str | None]] = {}
    for at, item in enumerate(ordered):
        before = name(ordered[at - 1]) if at and note(ordered[at - 1]) == note(item) else None
        after = (name(ordered[at + 1]) if at + 1 < len(ordered)
                 and note(ordered[at + 1]) == note(item) else None)
        found[name(item)] = (before, after)
    return found


def _ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # ratio() ≤ quick_ratio() ≤ real_quick_ratio(): cheap bounds rule most pairs out.
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def _short(text: str) -> str:
    shown = plain(text)
    return shown if len(shown) <= 60 else shown[:57] + "…"
