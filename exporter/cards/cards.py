"""Sections and the notes' own card syntax become cards with identities that survive edits.

A card's identity is the note's path (or its ``anki-id``), the card kind, the heading path and
the card's own key (the term, the question); a block id ``^id`` pins it instead, so a heading
or a term can be renamed without losing the card's history. Content never enters the identity.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import quote

from exporter.cards.toc import is_table_of_contents
from exporter.core import kinds as registry
from exporter.core.model import Card, CardItem, Diagnostic, Note, Section, Vault, fields_hash
from exporter.core.vaultid import VaultId, legacy_guid
from exporter.read.cloze import cloze_spans
from exporter.read.excalidraw import BASE_CLASS

FRONT_SEPARATOR = " › "
_INTERNAL_LINK = re.compile(r'<a class="(internal|embed-link)" href="#[^"]*">(.*?)</a>', re.S)
_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)


DEFAULT_VAULT = VaultId("notes")
SECTION_CARDS = ("auto", "always", "never")  # auto: only notes written in no card syntax
SECTION_CARDS_KEY = "section-cards"  # front matter: true brings them back, false drops them


@dataclass(frozen=True)
class CardOptions:
    """What cards to make and where they go."""

    root_deck: str
    kinds: tuple[str, ...] = registry.defaults()
    folder_decks: bool = True
    folder_tags: bool = False
    vault_name: str | None = None
    vault: VaultId = DEFAULT_VAULT  # namespaces every GUID, and tags every note
    section_cards: str = "auto"  # one of SECTION_CARDS


def card_html(section_html: str) -> str:
    """Cards cannot follow links into the cheat sheet: internal links become plain styled terms."""
    return _INTERNAL_LINK.sub(r'<span class="\1">\2</span>', section_html)


def anki_tag(tag: str) -> str:
    """Obsidian's nested ``a/b`` tag as Anki's hierarchical ``a::b``."""
    return "::".join(part.replace(" ", "_") for part in tag.split("/") if part)


def make_cards(vault: Vault, options: CardOptions | None = None) -> list[Card]:
    """Every card of every note, in note and line order."""
    options = options or CardOptions(root_deck="Notes")
    return unique_cards([(note.relpath, note_cards(note, options, vault.diagnostics))
                         for note in vault.notes], vault.diagnostics)


def note_cards(note: Note, options: CardOptions, diagnostics: list[Diagnostic]) -> list[Card]:
    """The cards of one note, in line order (its rendered HTML filled in already)."""
    maker = _NoteCards(note, options, diagnostics)
    cards = []
    for made in maker.cards():
        kind, line, legacy = maker.origins.get(made.guid, (made.model, 1, ""))
        cards.append(replace(made, note=note.relpath, kind=kind, line=line, legacy_guid=legacy))
    return cards


def unique_cards(per_note: list[tuple[str, list[Card]]], diagnostics: list[Diagnostic]
                 ) -> list[Card]:
    """Each note's cards in note order, less those whose identity an earlier note holds."""
    cards: list[Card] = []
    owners: dict[str, str] = {}
    for relpath, made in per_note:
        for card in made:
            if card.guid in owners:
                # Only two notes pinned to one anki-id get here; Anki would merge their cards.
                diagnostics.append(Diagnostic(
                    relpath, 1, 1, "error", f"a card has the same identity as one in "
                    f"'{owners[card.guid]}' (same anki-id?); left out", "duplicate-identity"))
                continue
            owners[card.guid] = relpath
            cards.append(card)
    return cards


class _NoteCards:
    def __init__(self, note: Note, options: CardOptions, diagnostics: list[Diagnostic]) -> None:
        self.note = note
        self.options = options
        self.diagnostics = diagnostics
        self.kinds = _note_kinds(note, options.kinds, diagnostics)
        self.deck = _deck(note, options)
        self.tags = tuple(sorted({anki_tag(t) for t in note.tags if not _marker(note, t)}
                                 | _folder_tags(note, options) | {options.vault.tag}))
        self.sections = _wants_sections(note, options, self.kinds, diagnostics)
        self.context = html.escape(note.title)
        self.source = _source(note, options.vault_name)
        self.seen: dict[tuple[str, ...], int] = {}
        # guid → kind, line and 0.1's GUID, for identity.py
        self.origins: dict[str, tuple[str, int, str]] = {}

    def cards(self) -> Iterator[Card]:
        for section in self.note.sections:
            if self.sections and not _tagged(section, self.kinds) \
                    and section_left_out(section) is None:
                key = (registry.SECTION, *section.path)
                front, context = self._section_question(section)
                yield self._card(self._identity(key, section.block_id, section),
                                 registry.model_of(registry.SECTION), front,
                                 card_html(section.html), section, context)
            for item in section.items:
                if registry.kind_of(item.kind) in self.kinds:
                    yield self._item_card(section, item)

    def _item_card(self, section: Section, item: CardItem) -> Card:
        key = (item.kind, *section.path, " ".join(item.key.split()))
        identity = self._identity(key, item.block_id, section, item.line)
        front = card_html(item.front_html)
        if item.kind == "cloze":
            front = protect_cloze_in_math(front)
        back = section.html if item.whole_section else item.back_html
        return self._card(identity, registry.model_of(item.kind), front, card_html(back), section,
                          self._item_context(section, item, front))

    def _section_question(self, section: Section) -> tuple[str, str]:
        """A section card's front (its heading path) and context (the note's title), the title
        said once: headings that repeat it leave the front, or the context when the front
        would be left empty."""
        parts = _front_parts(section)
        repeats = _leading_repeats(self.note.title, parts)
        if repeats == len(parts):
            return parts[-1], ""
        return _SEPARATOR_HTML.join(parts[repeats:]), self.context

    def _item_context(self, section: Section, item: CardItem, front: str) -> str:
        """Above the question, where it stands (the Spaced Repetition plugin's card context):
        the note's title and headings, less those that repeat the title or the question."""
        path = [html.escape(p) for p in section.path] \
            if section.level and not item.whole_section else []
        path = path[_leading_repeats(self.note.title, path):]
        if _plain(front) == _plain(self.context):
            return _SEPARATOR_HTML.join(path)
        return _SEPARATOR_HTML.join([self.context, *path])

    def _identity(self, key: tuple[str, ...], block_id: str | None, section: Section,
                  line: int | None = None) -> str:
        kind, where = key[0], line or section.line
        if block_id:
            key = ("id", block_id)
        count = self.seen.get(key, 0) + 1
        self.seen[key] = count
        if count > 1:
            # The same key twice in one note: the n-th keeps a stable, distinct identity.
            key = (*key, f"#{count}")
            self.diagnostics.append(Diagnostic(
                self.note.relpath, line or section.line, 1, "warning",
                f"'{FRONT_SEPARATOR.join(key[1:-1])}' appears {count} times in this note; "
                "these cards are told apart by their order", "duplicate-card"))
        guid = self.options.vault.guid(self.note.identity, *key)
        self.origins[guid] = (kind, where, legacy_guid(self.note.identity, *key))
        return guid

    def _card(self, guid: str, model: str, front: str, back: str, section: Section,
              context: str | None = None) -> Card:
        # Where it came from: the note (a link into Obsidian when the vault is named) and heading.
        source = self.source + (html.escape(FRONT_SEPARATOR + FRONT_SEPARATOR.join(section.path))
                                if section.level else "")
        context = self.context if context is None else context
        return Card(guid=guid, front=front, back=back, context=context, source=source,
                    content_hash=fields_hash(model, self.deck, front, back, context, source,
                                             self.tags),
                    tags=self.tags, model=model, deck=self.deck)


# Why a section makes no section card, as the summary counts them (sections_left_out).
ONLY_HEADING, NOTHING_SHOWN, TABLE_OF_CONTENTS = "only_heading", "nothing_shown", "toc"


def section_left_out(section: Section) -> str | None:
    """Why ``section`` makes no section card, or None when it makes one."""
    return _left_out(bool(section.level), tuple(section.body), section.html)


# ``watch`` and ``sections_left_out`` ask again each round of sections that did not change:
# the answer depends on these three only. Room for a large vault's sections.
@lru_cache(maxsize=1 << 18)
def _left_out(headed: bool, body: tuple[str, ...], section_html: str) -> str | None:
    section = Section("", 1 if headed else 0, (), 1, "", list(body), html=section_html)
    if not section.has_content:
        # an intro before the first heading is kept when it holds only tags: it shows nothing
        return ONLY_HEADING if headed else NOTHING_SHOWN
    if not _shows_something(section_html):
        return NOTHING_SHOWN
    return TABLE_OF_CONTENTS if is_table_of_contents(section) else None


def sections_left_out(vault: Vault, options: CardOptions) -> dict[str, int]:
    """How many sections made no section card, by why (not counted: sections whose heading is
    a card of its own, and notes without section cards)."""
    counts: Counter[str] = Counter()
    for note in vault.notes:
        counts.update(note_sections_left_out(note, options))
    return dict(sorted(counts.items()))


def note_sections_left_out(note: Note, options: CardOptions) -> dict[str, int]:
    """:func:`sections_left_out` of one note."""
    chosen = _note_kinds(note, options.kinds, [])  # its warnings are made with its cards
    if not _wants_sections(note, options, chosen, []):
        return {}
    counts: Counter[str] = Counter()
    for section in note.sections:
        why = None if _tagged(section, chosen) else section_left_out(section)
        counts.update([why] if why else [])
    return dict(counts)


def _tagged(section: Section, chosen: tuple[str, ...]) -> bool:
    """A heading tagged as a card (#card) is that card: no section card repeats it."""
    return any(i.whole_section and registry.kind_of(i.kind) in chosen for i in section.items)


_SEPARATOR_HTML = html.escape(FRONT_SEPARATOR)
_MARKUP = re.compile(r"<[^>]*>|[*_`~=\[\]]")


def _plain(text_html: str) -> str:
    """Text compared for repeats: without tags and markup marks, in one case, single-spaced."""
    return " ".join(html.unescape(_MARKUP.sub("", text_html)).split()).casefold()


def _front_parts(section: Section) -> list[str]:
    """The headings of a section's front, each as HTML (the whole front when a heading holds
    the separator itself)."""
    if not section.front_html:
        return [html.escape(p) for p in section.path]
    parts = section.front_html.split(_SEPARATOR_HTML)
    return parts if len(parts) == len(section.path) else [section.front_html]


def _leading_repeats(title: str, parts: list[str]) -> int:
    """How many of ``parts`` (HTML), from the first, say the note's title again."""
    said, count = _plain(html.escape(title)), 0
    while count < len(parts) and _plain(parts[count]) == said:
        count += 1
    return count


_TAG_OR_SPACE = re.compile(r"<(?!img\b)[^>]*>|\s+")
_BASE = re.compile(rf'<span class="wikilink {BASE_CLASS}">[^<]*</span>')


def _shows_something(section_html: str) -> bool:
    """False when the section's HTML shows nothing to study (a line of tags, or only the names
    of embedded Bases): no empty card back."""
    return bool(_TAG_OR_SPACE.sub("", _BASE.sub("", section_html)))


def _note_kinds(note: Note, default: tuple[str, ...], diagnostics: list[Diagnostic]
                ) -> tuple[str, ...]:
    """Front matter ``cards: [sections, qa]`` chooses the kinds for one note."""
    chosen = note.meta.get("cards")
    if chosen is None:
        return default
    if isinstance(chosen, str):
        chosen = [chosen]
    if not isinstance(chosen, list) or any(k not in registry.names() for k in chosen):
        diagnostics.append(Diagnostic(note.relpath, note.meta_lines.get("cards", 1), 1,
                                      "warning", "front matter 'cards' must list kinds from: "
                                      + ", ".join(registry.names()) + "; ignored",
                                      "bad-front-matter"))
        return default
    return tuple(chosen)


def _wants_sections(note: Note, options: CardOptions, kinds: tuple[str, ...],
                    diagnostics: list[Diagnostic]) -> bool:
    """Section cards for this note: ``always``, ``never``, or (``auto``) unless the note is
    written for a flashcard plugin and gives cards in its syntax (the plugin makes none besides
    them); front matter ``section-cards: true`` or ``false`` decides for one note."""
    if registry.kind_of(registry.SECTION) not in kinds:
        return False
    chosen = note.meta.get(SECTION_CARDS_KEY)
    if isinstance(chosen, bool):
        return chosen
    if chosen is not None:
        diagnostics.append(Diagnostic(note.relpath, note.meta_lines.get(SECTION_CARDS_KEY, 1), 1,
                                      "warning", f"front matter '{SECTION_CARDS_KEY}' must be "
                                      "true or false; ignored", "bad-front-matter"))
    if options.section_cards != "auto":
        return options.section_cards == "always"
    return not note.plugin_cards or not any(
        item.kind != "definition" and registry.kind_of(item.kind) in kinds
        for section in note.sections for item in section.items)


def _marker(note: Note, tag: str) -> bool:
    """The tag is a flashcard plugin's syntax (``#card``, ``#flashcards/chemistry``)."""
    tag = tag.lower().strip("/")
    return any(tag == m or tag.startswith(m + "/") for m in note.card_tags)


def _tag_deck(note: Note) -> list[str]:
    """The deck a Spaced Repetition deck tag names (``#flashcards/chemistry``: chemistry)."""
    for tag in sorted(t.strip("/") for t in note.tags):
        for deck_tag in note.deck_tags:
            if tag.lower().startswith(deck_tag + "/"):
                return [part for part in tag[len(deck_tag) + 1:].split("/") if part]
    return []


def _deck(note: Note, options: CardOptions) -> str:
    """Decks follow folders under the root deck; front matter ``deck:`` (or the Flashcards
    plugin's ``cards-deck:``) names one outright; a Spaced Repetition deck tag names one under
    the root deck."""
    chosen = note.meta.get("deck", note.meta.get("cards-deck"))
    if isinstance(chosen, str) and chosen.strip():
        return "::".join(p.strip() for p in chosen.split("::") if p.strip())
    if tagged := _tag_deck(note):
        return "::".join([options.root_deck, *tagged])
    folders = note.relpath.split("/")[:-1] if options.folder_decks else []
    return "::".join([options.root_deck, *folders])


def _folder_tags(note: Note, options: CardOptions) -> set[str]:
    folders = note.relpath.split("/")[:-1]
    return {anki_tag("/".join(folders))} if options.folder_tags and folders else set()


def _source(note: Note, vault_name: str | None) -> str:
    """Where the card came from; with the vault's name, a link that opens the note."""
    if not vault_name:
        return html.escape(note.relpath)
    url = (f"obsidian://open?vault={quote(vault_name, safe='')}"
           f"&file={quote(note.relpath.removesuffix('.md'), safe='')}")
    return f'<a href="{html.escape(url)}">{html.escape(note.relpath)}</a>'


def protect_cloze_in_math(text: str) -> str:
    """Inside MathJax, a cloze ending in ``}`` needs a space before its ``}}`` (Anki's rule)."""

    def fix(match: re.Match[str]) -> str:
        math = match.group(0)
        for _, _, close, _ in reversed(cloze_spans(math)):
            if math[close - 1] == "}":
                math = math[:close] + " " + math[close:]
        return math

    return _MATH.sub(fix, text)
