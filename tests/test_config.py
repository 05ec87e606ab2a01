"""The config file next to the notes, the command line over it, and per-note front matter."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.app.pipeline import check
from exporter.cli import main
from exporter.core.config import ConfigError, load

from .conftest import write_note


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_config_file_beside_the_notes_sets_defaults(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "a.md", "# A\n- X = the letter x\n- Q::A\n")
    (tmp_path / "notes-export.toml").write_text(
        'deck = "Letters"\ncards = ["definitions"]\nlayout = "handout"\ncolumns = 1\n'
        'out = "build"\nassets = ["pics"]\n', encoding="utf-8")
    config = load(tmp_path / "notes", {})
    assert (config.deck_name, config.card_kinds, config.layout, config.columns) == (
        "Letters", ("definitions",), "handout", 1)
    assert config.out_dir == tmp_path / "build"
    assert config.asset_dirs == [tmp_path / "pics"]
    assert [c.front for c in check(config).cards] == ["X = …"]


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "a.md", "# A\ntext\n")
    (tmp_path / "notes-export.toml").write_text('deck = "From File"\npdf = false\n',
                                                encoding="utf-8")
    code, _, _ = run("build", str(tmp_path / "notes"), "--out", str(tmp_path / "o"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".from-file.notes-export.json", ".notes-export-cache", "from-file.apkg"]
    code, _, _ = run("build", str(tmp_path / "notes"), "--out", str(tmp_path / "o2"),
                       "--deck", "Given", "--no-anki")
    assert code == 0
    # --no-anki given, pdf = false from the file: nothing but the summary
    assert sorted(p.name for p in (tmp_path / "o2").iterdir()) == []


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "a.md", "# A\ntext\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.notes-export]\n'
                                             'deck = "Py Deck"\n', encoding="utf-8")
    assert load(tmp_path / "notes", {}).title == "Py Deck"


@pytest.mark.parametrize(("content", "message"), [
    ('dekc = "typo"\n', "unknown key 'dekc'"),
    ('columns = "three"\n', "'columns' must be an integer from 1 to 6"),
    ('cards = ["sections", "flashy"]\n', "'cards' must be a list of sections, definitions"),
    ('deck = \n', "Invalid value"),
])
def test_bad_config_names_the_key_and_exits_2(tmp_path: Path, content: str,
                                              message: str) -> None:
    write_note(tmp_path / "notes", "a.md", "# A\ntext\n")
    (tmp_path / "notes-export.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load(tmp_path / "notes", {})
    code, _, err = run("check", str(tmp_path / "notes"))
    assert code == 2
    assert "notes-export.toml" in err and message in err


def test_front_matter_chooses_kinds_and_deck(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "only-qa.md", "---\ncards: [qa]\ndeck: Other::Deck\n---\n"
               "# Section\n- Q::A\n")
    write_note(tmp_path / "notes", "sub/normal.md", "# Section\n- Q::A\n")
    cards = check(load(tmp_path / "notes", {"deck_name": "Root"})).cards
    assert [(c.front, c.deck) for c in cards] == [
        ("Q", "Other::Deck"), ("Section", "Root::sub"), ("Q", "Root::sub")]
    code, _, err = run("check", str(tmp_path / "notes"), "--cards", "sections,bogus")
    assert code == 2 and "unknown card kind 'bogus'" in err
