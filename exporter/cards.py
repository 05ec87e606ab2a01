"""Sections become cards with identities that survive edits to their content."""

from __future__ import annotations

import hashlib
import html
import re

import genanki

from .model import Card, Diagnostic, Note, Vault

FRONT_SEPARATOR = " › "
_INTERNAL_LINK = re.compile(r'<a class="(internal|embed-link)" href="#[^"]*">(.*?)</a>', re.S)


def card_html(section_html: str) -> str:
    """Cards cannot follow links into the cheat sheet: internal links become plain styled terms."""
    return _INTERNAL_LINK.sub(r'<span class="\1">\2</span>', section_html)


def anki_tag(tag: str) -> str:
    """Obsidian's nested ``a/b`` tag as Anki's hierarchical ``a::b``."""
    return "::".join(part for part in tag.split("/") if part)


def make_cards(vault: Vault) -> list[Card]:
    """One card per section that has content of its own, in note and heading order."""
    cards: list[Card] = []
    for note in vault.notes:
        cards.extend(_note_cards(note, vault.diagnostics))
    return cards


def _note_cards(note: Note, diagnostics: list[Diagnostic]) -> list[Card]:
    cards: list[Card] = []
    seen: dict[tuple[str, ...], int] = {}
    tags = tuple(sorted(anki_tag(t) for t in note.tags))
    for section in note.sections:
        if not section.has_content:
            continue
        count = seen.get(section.path, 0) + 1
        seen[section.path] = count
        key: tuple[str, ...] = (note.relpath, "section", *section.path)
        if count > 1:
            # Two sections with one heading path: the n-th keeps a stable, distinct identity.
            key = (*key, f"#{count}")
            diagnostics.append(Diagnostic(
                note.relpath, section.line, 1, "warning",
                f"heading path '{FRONT_SEPARATOR.join(section.path)}' appears {count} times in "
                "this note; cards are told apart by their order", "duplicate-heading"))
        front = html.escape(FRONT_SEPARATOR.join(section.path))
        back = card_html(section.html)
        context = html.escape(note.title)
        source = html.escape(note.relpath)
        fields = "\x1f".join((front, back, context, source, *tags))
        digest = hashlib.sha256(fields.encode()).hexdigest()
        cards.append(Card(guid=genanki.guid_for(*key), front=front, back=back, context=context,
                          source=source, content_hash=digest, tags=tags))
    return cards
