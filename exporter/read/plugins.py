"""What a vault's Obsidian settings say about its notes: the templates folder (not notes to
study) and the card syntax of the flashcard plugins it uses (Flashcards, Spaced Repetition).

Only files inside the vault's own ``.obsidian`` folder are read; a missing or broken settings
file leaves the exporter's defaults (a broken one is a warning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from exporter.core import scan
from exporter.core.model import Diagnostic, Note
from exporter.core.text import END_MARKER, is_literal, literal_spans

FLASHCARDS = "flashcards"  # reuseman/flashcards-obsidian
SPACED_REPETITION = "obsidian-spaced-repetition"  # st3v3nmw/obsidian-spaced-repetition
TEMPLATER = "templater-obsidian"
DECK_TAG = "flashcards"  # the Spaced Repetition plugin's default: only notes so tagged are read
# Its default cloze patterns: the three our CardSyntax flags stand for; any other is custom.
_PATTERN_KINDS = {"==[123;;]answer[;;hint]==": "highlight_cloze",
                  "**[123;;]answer[;;hint]**": "bold_cloze",
                  "{{[123;;]answer[;;hint]}}": "double_curly_cloze"}
_TAG = re.compile(r"(?<![^\s(\[])#([\w/-]*[^\W\d][\w/-]*)")
_MAX_SETTINGS_BYTES = 1024 * 1024
EMPTY: dict[str, Any] = {}


@dataclass(frozen=True)
class CardSyntax:
    """How one note writes its own cards: separators, which forms are clozes, the card tag."""

    inline: str = "::"
    inline_reversed: str = ":::"
    multiline: str = "?"
    multiline_reversed: str = "??"
    end_marker: str = END_MARKER
    highlight_cloze: bool = False  # ==answer==
    bold_cloze: bool = False  # **answer** (Spaced Repetition)
    double_curly_cloze: bool = False  # {{answer}} (Spaced Repetition)
    curly_cloze: bool = False  # {answer}, {2:answer} (Flashcards)
    card_tag: str = "card"  # a heading or line tagged #card is a card (Flashcards)
    context_aware: bool = True  # a #card heading's front is its heading path
    cloze_paragraphs: bool = True  # a cloze is its paragraph (Spaced Repetition), or its line
    custom_clozes: tuple[str, ...] = ()  # other Spaced Repetition patterns ("{{[123::]answer}}")
    deck_tags: tuple[str, ...] = (DECK_TAG,)  # Spaced Repetition's: a note's deck, not a tag
    plugin: bool = False  # the note is written for a flashcard plugin (its cards, no others)

    @property
    def marker_tags(self) -> tuple[str, ...]:
        """The tags that are card syntax, not Anki tags (lowercase; tags nested under the deck
        tags are decks, under the card tag kinds)."""
        tag = self.card_tag.lower()
        return (tag, f"{tag}-reverse", f"{tag}-spaced", *self.deck_tags)


@dataclass(frozen=True)
class VaultSettings:
    """The parts of a vault's ``.obsidian`` settings that change what is exported."""

    templates: tuple[str, ...] = ()  # folders of templates, relative to the vault
    syntax: CardSyntax = CardSyntax()
    flashcards_plugin: bool = False  # its settings file is present
    deck_tags: tuple[str, ...] | None = None  # Spaced Repetition: only notes so tagged
    spaced_repetition: bool = False  # its settings file is present

    def is_template(self, relpath: str) -> bool:
        """True when the note lies in a templates folder (templates are not notes to study)."""
        parents = PurePosixPath(relpath).parents
        return any(PurePosixPath(folder) in parents for folder in self.templates)

    def note_syntax(self, note: Note, highlights: bool) -> CardSyntax | None:
        """The card syntax of one note, or None when it gives no cards of its own syntax (a
        Spaced Repetition vault reads only the notes tagged as decks)."""
        if self.deck_tags is not None and not _is_deck(note, self.deck_tags):
            return None
        syntax = self.syntax
        tagged = carries(note, syntax.deck_tags)
        plugin = self.flashcards_plugin or "cards-deck" in note.meta or tagged \
            or (self.spaced_repetition and self.deck_tags is None)
        syntax = replace(syntax, plugin=plugin)
        if "cards-deck" in note.meta and not self.flashcards_plugin:
            # A note written for the Flashcards plugin: its clozes are highlights and braces.
            syntax = replace(syntax, highlight_cloze=True, curly_cloze=True,
                             cloze_paragraphs=False)
        elif not self.spaced_repetition and tagged:
            # A note written for Spaced Repetition, read with its defaults: highlights are clozes.
            syntax = replace(syntax, highlight_cloze=True)
        chosen = note.meta.get("cloze-highlights")
        chosen = chosen if isinstance(chosen, bool) else syntax.highlight_cloze or highlights
        return replace(syntax, highlight_cloze=chosen)


def read_settings(notes_dir: Path, diagnostics: list[Diagnostic]) -> VaultSettings:
    """The vault's templates folders and its flashcard plugins' settings."""
    config = notes_dir / ".obsidian"
    if not config.is_dir():
        return VaultSettings()
    templates = [_folder((_read(config, "templates.json", diagnostics) or EMPTY).get("folder"))]
    templater = _read(config, f"plugins/{TEMPLATER}/data.json", diagnostics) or EMPTY
    templates.append(_folder(templater.get("templates_folder")))
    settings = VaultSettings(templates=tuple(sorted({t for t in templates if t})))
    flashcards = _read(config, f"plugins/{FLASHCARDS}/data.json", diagnostics, None)
    if flashcards is not None:
        settings = _flashcards(settings, flashcards)
    spaced = _read(config, f"plugins/{SPACED_REPETITION}/data.json", diagnostics, None)
    if spaced is not None:
        settings = _spaced_repetition(settings, spaced)
    return settings


def _read(config: Path, name: str, diagnostics: list[Diagnostic],
          missing: dict[str, Any] | None = EMPTY) -> dict[str, Any] | None:
    """A JSON settings file as a mapping; ``missing`` when it is absent or broken (a broken
    one is also a warning)."""
    path = config / name
    if not path.is_file() or path.is_symlink():
        return missing
    try:
        if path.stat().st_size > _MAX_SETTINGS_BYTES:
            raise ValueError("over 1 MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        diagnostics.append(Diagnostic(f".obsidian/{name}", 1, 1, "warning",
                                      f"settings file is not readable JSON ({exc}); ignored",
                                      "bad-settings"))
        return missing
    return data if isinstance(data, dict) else {}


def _folder(value: object) -> str:
    """A folder setting as a clean vault-relative path ('' when unset or escaping)."""
    if not isinstance(value, str):
        return ""
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    return "" if not parts or ".." in parts else "/".join(parts)


def _text(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else default


def _flag(data: dict[str, Any], key: str, default: bool) -> bool:
    value = data.get(key)
    return value if isinstance(value, bool) else default


def _flashcards(settings: VaultSettings, data: dict[str, Any]) -> VaultSettings:
    """The Flashcards plugin's settings: its tag, inline separators, context-aware fronts;
    its clozes are always on (``==highlight==`` and ``{curly}``)."""
    tag = _text(data, "flashcardsTag", "card").lstrip("#")
    syntax = replace(settings.syntax, card_tag=tag or "card", highlight_cloze=True,
                     curly_cloze=True, cloze_paragraphs=False,
                     inline=_text(data, "inlineSeparator", settings.syntax.inline),
                     inline_reversed=_text(data, "inlineSeparatorReverse",
                                           settings.syntax.inline_reversed),
                     context_aware=_flag(data, "contextAwareMode", True))
    return replace(settings, syntax=syntax, flashcards_plugin=True)


def _spaced_repetition(settings: VaultSettings, data: dict[str, Any]) -> VaultSettings:
    """The Spaced Repetition plugin's settings (kept under ``settings`` in its data file)."""
    options = data.get("settings")
    options = options if isinstance(options, dict) else {}
    tags = options.get("flashcardTags", ["#flashcards"])
    deck_tags: tuple[str, ...] | None = tuple(str(t).strip().lstrip("#").lower() for t in tags
                      if isinstance(t, str) and t.strip("# ")) if isinstance(tags, list) else ()
    syntax = sr_syntax(options, settings.syntax)
    syntax = replace(syntax, deck_tags=deck_tags or (DECK_TAG,))
    if _flag(options, "convertFoldersToDecks", False):
        deck_tags = None  # every note is a deck
    return replace(settings, syntax=syntax, deck_tags=deck_tags or None, spaced_repetition=True)


def sr_syntax(options: dict[str, Any], base: CardSyntax = CardSyntax()) -> CardSyntax:
    """The card syntax the Spaced Repetition plugin's options give (its parser's options, or
    the settings they come from). A separator set to nothing (or blanks) turns its kind off."""
    clozes = {
        "highlight_cloze": _flag(options, "convertHighlightsToClozes", True),
        "bold_cloze": _flag(options, "convertBoldTextToClozes", False),
        "double_curly_cloze": _flag(options, "convertCurlyBracketsToClozes", False),
    }
    custom: tuple[str, ...] = ()
    patterns = options.get("clozePatterns")
    if isinstance(patterns, list):  # newer releases: a list such as "==[123;;]answer[;;hint]=="
        chosen = {_PATTERN_KINDS.get(str(p)) for p in patterns}
        clozes = {kind: kind in chosen for kind in clozes}
        custom = tuple(str(p) for p in patterns if str(p) not in _PATTERN_KINDS and str(p))
    return replace(
        base, highlight_cloze=clozes["highlight_cloze"], bold_cloze=clozes["bold_cloze"],
        double_curly_cloze=clozes["double_curly_cloze"], custom_clozes=custom,
        inline=_separator(options, "singleLineCardSeparator", base.inline),
        inline_reversed=_separator(options, "singleLineReversedCardSeparator",
                                   base.inline_reversed),
        multiline=_separator(options, "multilineCardSeparator", base.multiline),
        multiline_reversed=_separator(options, "multilineReversedCardSeparator",
                                      base.multiline_reversed),
        end_marker=_separator(options, "multilineCardEndMarker", base.end_marker))


def _separator(options: dict[str, Any], key: str, default: str) -> str:
    """A separator the settings set ('' when set to nothing: that kind is off), else default."""
    value = options.get(key)
    return value.strip() if isinstance(value, str) else default


def _is_deck(note: Note, deck_tags: tuple[str, ...]) -> bool:
    """True when the note carries one of the deck tags (or a tag nested under one)."""
    return carries(note, deck_tags)


def carries(note: Note, wanted: Iterable[str]) -> bool:
    """The note carries one of ``wanted`` (front matter, heading or text), or a tag nested
    under one; tags compare without case, as in Obsidian."""
    tags = {t.lower().lstrip("#") for t in note.tags} | note_tags(note)
    return any(tag == want or tag.startswith(want + "/") for tag in tags
               for want in (w.lower().lstrip("#").strip("/") for w in wanted))


def note_tags(note: Note) -> set[str]:
    """The ``#tags`` written in the note's text, outside code and math (lowercase)."""
    found: set[str] = set()
    for section in note.sections:
        found |= {t.lower() for t in section.tags}
        for line, kind in zip(section.body, scan.kinds(section.body), strict=True):
            if kind != scan.TEXT or "#" not in line:
                continue
            spans = literal_spans(line)
            found |= {m.group(1).strip("/").lower() for m in _TAG.finditer(line)
                      if not is_literal(spans, m.start())}
    return found
