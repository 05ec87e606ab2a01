"""What a run gives and what the writers share: a run's :class:`Result`, the :class:`Build` the
writers read, and the writer interface. Each output (the deck, the PDFs) is one class in one
module, and ``outputs.WRITERS`` lists them; a new output is one module and one line there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from exporter.core.config import Config
from exporter.core.model import Card, Diagnostic, Progress, Vault
from exporter.deck.anki import DeckReport
from exporter.deck.fastdeck import FastDeck
from exporter.deck.history import History

Stage = Callable[[Path], Path]  # a target's temporary path; all move into place at the end


@dataclass
class Output:
    """A file the export wrote."""

    path: Path
    size: int


@dataclass
class Result:
    """What an export did, for the summary and for tests."""

    vault: Vault
    cards: list[Card]
    outputs: list[Output] = field(default_factory=list)
    report: DeckReport | None = None
    fitted: list[str] = field(default_factory=list)  # what --pages chose, per PDF
    sections_left_out: dict[str, int] = field(default_factory=dict)  # by why (cards.py)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """All problems found, in note and line order."""
        return sorted(self.vault.diagnostics, key=lambda d: (d.path, d.line, d.col, d.message))

    @property
    def errors(self) -> int:
        """How many diagnostics are errors."""
        return sum(1 for d in self.vault.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> int:
        """How many diagnostics are warnings."""
        return sum(1 for d in self.vault.diagnostics if d.severity == "warning")

    @property
    def sections(self) -> int:
        """How many sections the notes hold."""
        return sum(len(n.sections) for n in self.vault.notes)


@dataclass
class Build:
    """What the writers share: the checked result and the cards as they follow the last build."""

    config: Config
    result: Result
    history: History  # GUIDs kept from the previous build, times, the state to write
    epoch: int  # the build's time (SOURCE_DATE_EPOCH or now)
    progress: Progress | None = None
    fast_deck: FastDeck | None = None  # the deck ``watch`` keeps between rounds (fast_writes)


class Writer(Protocol):
    """One output of ``build``."""

    name: str  # what it writes, for the log

    def enabled(self, config: Config) -> bool:
        """Whether this build writes it (``--no-anki``, ``--no-pdf``)."""
        ...

    def write(self, build: Build, stage: Stage) -> list[Path]:
        """Write through ``stage`` and return the targets to list in the summary."""
        ...
