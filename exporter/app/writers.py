"""The writer interface: each output (the deck, the PDFs) is one class in one module, and
``pipeline.WRITERS`` lists them; a new output is one module and one line there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from exporter.core.config import Config
from exporter.deck.history import History

if TYPE_CHECKING:
    from exporter.app.pipeline import Result
    from exporter.core.model import Progress

Stage = Callable[[Path], Path]  # a target's temporary path; all move into place at the end


@dataclass
class Build:
    """What the writers share: the checked result and the cards as they follow the last build."""

    config: Config
    result: Result
    history: History  # GUIDs kept from the previous build, times, the state to write
    epoch: int  # the build's time (SOURCE_DATE_EPOCH or now)
    progress: Progress | None = None


class Writer(Protocol):
    """One output of ``build``."""

    name: str  # what it writes, for the log

    def enabled(self, config: Config) -> bool:
        """Whether this build writes it (``--no-anki``, ``--no-pdf``)."""
        ...

    def write(self, build: Build, stage: Stage) -> list[Path]:
        """Write through ``stage`` and return the targets to list in the summary."""
        ...
