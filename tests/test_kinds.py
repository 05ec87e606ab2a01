"""The card kind registry: a new kind is one reader and one line in kinds.KINDS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.app.pipeline import check
from exporter.cli import main
from exporter.core import kinds
from exporter.core.config import CARD_KINDS, DEFAULT_CARD_KINDS, Config
from exporter.core.model import CardItem, Diagnostic, Note

from .conftest import write_note

_GLOSS = re.compile(r"^(?P<term>[^:=]+?)\s*:=\s*(?P<meaning>.+)$")


def read_glossary(note: Note, diagnostics: list[Diagnostic]) -> None:
    """A kind that is not built in: ``term := meaning`` lines, as a new module would read."""
    for section in note.sections:
        for offset, line in enumerate(section.body, start=1):
            if match := _GLOSS.match(line.strip()):
                section.items.append(CardItem("gloss", match["term"], match["term"],
                                              match["meaning"], section.line + offset))


def test_the_built_in_kinds_come_from_the_registry() -> None:
    assert CARD_KINDS == kinds.names() == ("sections", "definitions", "qa", "cloze")
    assert DEFAULT_CARD_KINDS == kinds.defaults() == ("sections", "qa", "cloze")
    assert kinds.kind_of("qa-reversed") == "qa" and kinds.model_of("qa-reversed") == "reversed"
    assert kinds.model_of(kinds.SECTION) == "basic" and kinds.model_of("cloze") == "cloze"
    with pytest.raises(KeyError, match="gloss"):
        kinds.kind_of("gloss")


def test_a_new_kind_is_one_reader_and_one_registry_line(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kinds, "KINDS", [
        *kinds.KINDS, kinds.CardKind("glossary", {"gloss": "basic"}, read=read_glossary)])
    write_note(tmp_path / "notes", "Terms.md", "# Terms\nVPC := a *private* network\nplain\n")
    config = Config(notes_dir=tmp_path / "notes", out_dir=tmp_path / "out",
                    card_kinds=("glossary",))
    result = check(config)
    assert [(c.kind, c.model, c.front, c.back) for c in result.cards] == [
        ("gloss", "basic", "VPC", "a <em>private</em> network")]
    assert result.cards[0].line == 2
    # the kinds the command line accepts are the registry's
    code = CliRunner().invoke(main, ["check", str(tmp_path / "notes"), "--cards",
                                     "glossary", "-q"]).exit_code
    assert code == 0


def test_an_unknown_kind_names_the_registry(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "A.md", "# A\nx\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "notes"), "--cards", "gloss"])
    assert result.exit_code == 2
    assert "unknown card kind 'gloss'; choose from sections, definitions, qa, cloze" \
        in result.stderr
