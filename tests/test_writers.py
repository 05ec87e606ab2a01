"""The writer interface: a new output is one class and one line in outputs.WRITERS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporter.app import outputs, pipeline
from exporter.app.deck_writer import DeckWriter
from exporter.app.sheet_writer import SheetWriter
from exporter.app.writers import Build, Stage, Writer
from exporter.core.config import Config
from exporter.core.errors import ExportError

from .conftest import EPOCH, write_note


class CardList:
    """An output that is not built in: the cards' fronts as JSON."""

    name = "card list"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def enabled(self, config: Config) -> bool:
        return config.write_anki

    def write(self, build: Build, stage: Stage) -> list[Path]:
        target = build.config.out_dir / "cards.json"
        stage(target).write_text(json.dumps([c.front for c in build.result.cards]))
        if self.fail:
            raise ExportError("the card list failed")
        return [target]


def _config(tmp_path: Path, **options: object) -> Config:
    settings: dict[str, object] = {"out_dir": tmp_path / "out", **options}
    return Config(notes_dir=tmp_path / "notes", deck_name="D", epoch=EPOCH,
                  **settings)  # type: ignore[arg-type]


def test_the_built_in_writers_have_the_interface() -> None:
    writers: list[Writer] = [DeckWriter(), SheetWriter()]
    assert [type(w) for w in outputs.WRITERS] == [type(w) for w in writers]
    config = Config(notes_dir=Path("n"), write_anki=False)
    assert [w.enabled(config) for w in writers] == [False, True]


def test_a_new_writer_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_note(tmp_path / "notes", "A.md", "# A\n- one\n## B\n- two\n")
    monkeypatch.setattr(outputs, "WRITERS", [*outputs.WRITERS, CardList()])
    result = pipeline.export(_config(tmp_path, write_pdf=False))
    assert [o.path.name for o in result.outputs] == ["d.apkg", "cards.json"]
    # the title is said once: "B", not "A › B"
    assert json.loads((tmp_path / "out" / "cards.json").read_text()) == ["A", "B"]
    # a writer that is not enabled writes nothing
    result = pipeline.export(_config(tmp_path, write_pdf=False, write_anki=False,
                                     out_dir=tmp_path / "none"))
    assert result.outputs == [] and not (tmp_path / "none" / "cards.json").exists()


def test_a_failing_writer_replaces_no_output(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_note(tmp_path / "notes", "A.md", "# A\n- one\n")
    pipeline.export(_config(tmp_path, write_pdf=False))
    deck = (tmp_path / "out" / "d.apkg").read_bytes()
    write_note(tmp_path / "notes", "A.md", "# A\n- one, edited\n")
    monkeypatch.setattr(outputs, "WRITERS", [*outputs.WRITERS, CardList(fail=True)])
    with pytest.raises(ExportError, match="the card list failed"):
        pipeline.export(_config(tmp_path, write_pdf=False))
    assert (tmp_path / "out" / "d.apkg").read_bytes() == deck
    assert not (tmp_path / "out" / "cards.json").exists()
    assert [p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".tmp"] == []
