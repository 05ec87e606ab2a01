"""The deck writer: the Anki package and the state the next build follows its cards from."""

from __future__ import annotations

import logging
from pathlib import Path

from exporter.app.writers import Build, Stage
from exporter.core.config import Config
from exporter.core.errors import ExportError
from exporter.deck import anki, history, state
from exporter.deck.fastdeck import FastDeck

log = logging.getLogger(__name__)


class DeckWriter:
    """Writes OUT/<deck>.apkg and the state file (``--state``)."""

    name = "deck"

    def enabled(self, config: Config) -> bool:
        """Unless ``--no-anki``."""
        return config.write_anki

    def write(self, build: Build, stage: Stage) -> list[Path]:
        """The package, then the state; the package is the output the summary lists."""
        config, followed, vault = build.config, build.history, build.result.vault
        build.result.report = followed.report
        target = config.out_dir / f"{config.stem}.apkg"
        apkg = stage(target)
        try:
            if config.fast_writes:  # watch: the same notes, not the same bytes (fastdeck.py)
                (build.fast_deck or FastDeck()).write(
                    apkg, target, config.title, followed.deck_cards, vault.assets,
                    followed.deck_times, followed.entries, config.note_types)
            else:
                anki.write_package(apkg, config.title, followed.deck_cards, vault.assets,
                                   followed.deck_times, followed.entries, config.note_types)
        except Exception as exc:  # genanki's errors name no file; say which output failed
            log.debug("deck failed", exc_info=True)
            raise ExportError(f"writing the deck failed: {type(exc).__name__}: {exc}") from exc
        state.write(stage(history.state_path(config)), followed.entries.values())
        return [target]
