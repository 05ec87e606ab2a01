"""Every front matter value YAML can produce, or fail to produce, is that note's diagnostic on
its line; the note is still exported without it, the other notes with it, and neither ``build``
nor ``watch`` stops (issue 17). Red-team cases one by one, then front matter fuzz."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from watchfiles import Change

from exporter.app.pipeline import Result, export
from exporter.cli import main
from exporter.core.config import Config
from exporter.core.model import Diagnostic
from exporter.read.parse import split_sections

from .conftest import EPOCH, write_note

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "notes-export-hypothesis")
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")

pytestmark = pytest.mark.usefixtures("own_key")
BODY = "# Kept heading\nthe body is still exported\n"
GOOD = "---\ntags: [fine]\n---\n# Good\nanother note\n"
HUGE = "1" * 5_000  # past int()'s 4,300-digit limit for text
HUGE_HEX = "0x" + "f" * 5_000  # int() reads it, but str() of it raises


def _vault(tmp_path: Path, front: str) -> Path:
    notes = tmp_path / "notes"
    write_note(notes, "bad.md", "---\n" + front + "\n---\n" + BODY)
    write_note(notes, "good.md", GOOD)
    return notes


def _cli(*args: str) -> tuple[int, dict[str, object], str]:
    """Run the command line with ``--format json``: exit code, the document, stderr."""
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert "internal error" not in result.stderr and "Traceback" not in result.output, \
        result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, json.loads(result.stdout), result.stderr


def _found(document: dict[str, object]) -> list[tuple[str, int, str, str]]:
    diagnostics = document["diagnostics"]
    assert isinstance(diagnostics, list)
    return [(d["path"], d["line"], d["severity"], d["message"]) for d in diagnostics]


def _deck_written(document: dict[str, object]) -> bool:
    outputs = document["outputs"]
    assert isinstance(outputs, list)
    return any(o["path"].endswith(".apkg") and Path(o["path"]).stat().st_size for o in outputs)


RED_TEAM = [  # id, front matter, line, what the warning says
    ("invalid-date", "date: 2024-02-30", 2, "'2024-02-30' (!!timestamp) is not a valid date "
     "or time (day is out of range for month)"),
    ("hour-25-timestamp", "title: T\nupdated: 2024-01-01 25:00:00", 3,
     "is not a valid date or time (hour must be in 0..23)"),
    ("time-zone-past-24-hours", "t: 2024-01-01 10:00:00 +30:00", 2, "time zone is 24 hours"),
    ("int-tag-on-text", 'n: !!int "abc"', 2, "value 'abc' (!!int) is not an integer"),
    ("empty-int", 'n: !!int ""', 2, "value '' (!!int) is not an integer"),
    ("float-tag-on-text", "n: !!float x", 2, "value 'x' (!!float) is not a number"),
    ("bool-tag-on-maybe", "b: !!bool maybe", 2, "(!!bool) is not true or false"),
    ("timestamp-tag-on-text", "d: !!timestamp soon", 2, "is not a valid date or time"),
    ("binary-not-ascii", 'b: !!binary "é"', 2, "(!!binary) is not base64 data"),
    ("5000-digit-integer", "n: " + HUGE, 2, "(!!int) is not an integer (over 4,300 digits)"),
    ("5000-digit-hex-integer", "n: " + HUGE_HEX, 2, "is an integer of over 4,300 digits"),
    ("python-tag", "x: !!python/object/apply:os.system [echo hi]", 2,
     "has the tag '!!python/object/apply:os.system', which is not one of YAML's standard"),
    ("unknown-tag", "title: T\nx: !foo bar", 3, "has the tag '!foo'"),
    ("map-tag-on-text", "x: !!map abc", 2, "(!!map) is not a mapping"),
    ("omap-of-text", "x: !!omap [a]", 2, "list (!!omap) is not an ordered mapping"),
    ("lone-surrogate", 'title: "\\ud800x"', 2, "holds a lone surrogate"),
    ("list-as-key", "? [a]\n: b\nc: d", 2, "key on this line is a list or mapping"),
    ("duplicate-key", "a: 1\nb: 2\na: 3", 4, "key 'a' is written twice"),
    ("merge-of-text", "x: &x 1\ny: {<<: *x}", 3, "merge ('<<') failed"),
]


@pytest.mark.parametrize(("front", "line", "says"), [r[1:] for r in RED_TEAM],
                         ids=[r[0] for r in RED_TEAM])
def test_a_value_yaml_cannot_build_is_a_warning_on_its_line(tmp_path: Path, front: str,
                                                            line: int, says: str) -> None:
    notes = _vault(tmp_path, front)
    code, document, _ = _cli("build", str(notes), "--out", str(tmp_path / "out"), "--no-pdf")
    assert code == 0
    [(path, where, severity, message)] = _found(document)
    assert (path, where, severity) == ("bad.md", line, "warning")
    assert says in message and message.endswith(("ignored", "the last value is used"))
    summary = document["summary"]
    assert isinstance(summary, dict) and summary["notes"] == 2 and summary["cards"] == 2
    assert _deck_written(document)


WRONG_TYPES = [  # id, front matter, line, what the warning says
    ("title-list", "title: [a, b]", 2, "'title' must be text (quote it if it looks like a "
     "number or date), not a list"),
    ("title-date", "title: 2024-01-01", 2, "'title' must be text"),
    ("deck-mapping", "deck: {a: b}", 2, "'deck' must be text"),
    ("cards-deck-list", "cards-deck: [x]", 2, "'cards-deck' must be text"),
    ("tags-nested", "tags: [ok, [a], {b: c}]", 2, "'tags' holds a list: items must be text"),
    ("aliases-mapping", "aliases: {a: b}", 2, "'aliases' must be text or a list of text, not "
     "a mapping"),
    ("cards-nested", "title: T\ncards: [[qa]]", 3, "'cards' holds a list"),
    ("anki-id-list", "anki-id: [1]", 2, "'anki-id' must be text or a whole number, not a list"),
    ("anki-id-nan", "anki-id: .nan", 2, "not a decimal number"),
    ("anki-id-bool", "anki-id: yes", 2, "not true or false"),
    ("cloze-highlights-text", "cloze-highlights: sometimes", 2,
     "'cloze-highlights' must be true or false, not text"),
    ("sheet-binary", "sheet: !!binary aGVsbG8=", 2, "'sheet' must be true or false, not binary"),
]


@pytest.mark.parametrize(("front", "line", "says"), [r[1:] for r in WRONG_TYPES],
                         ids=[r[0] for r in WRONG_TYPES])
def test_a_key_the_exporter_reads_with_the_wrong_type_is_a_warning(
        tmp_path: Path, front: str, line: int, says: str) -> None:
    notes = _vault(tmp_path, front)
    code, document, _ = _cli("build", str(notes), "--out", str(tmp_path / "out"), "--no-pdf")
    assert code == 0
    [(path, where, severity, message)] = _found(document)
    assert (path, where, severity) == ("bad.md", line, "warning")
    assert says in message


def _export(tmp_path: Path, pdf: bool = False) -> Result:
    return export(Config(notes_dir=tmp_path / "notes", asset_dirs=[], out_dir=tmp_path / "out",
                         deck_name="Deck", write_pdf=pdf, epoch=EPOCH))


def test_a_bad_value_leaves_the_rest_of_the_front_matter_and_the_note_in_deck_and_pdf(
        tmp_path: Path) -> None:
    _vault(tmp_path, "title: Chosen title\ndate: 2024-02-30\ntags: [kept, [nested]]\n"
                     "n: " + HUGE + "\ndeck: [Not, A, Deck]\nanki-id: pinned")
    result = _export(tmp_path, pdf=True)
    assert [(d.path, d.line) for d in result.diagnostics] == [
        ("bad.md", 3), ("bad.md", 4), ("bad.md", 5), ("bad.md", 6)]
    bad = next(n for n in result.vault.notes if n.relpath == "bad.md")
    assert bad.title == "Chosen title" and bad.tags == {"kept"}
    assert bad.meta["date"] is None and bad.meta["n"] is None and bad.meta["deck"] is None
    [card] = [c for c in result.cards if "body is still exported" in c.back]
    write_note(tmp_path / "pinned" / "notes", "bad.md", "---\nanki-id: pinned\n---\n" + BODY)
    [pinned] = _export(tmp_path / "pinned").cards
    assert card.deck == "Deck" and card.guid == pinned.guid
    assert {o.path.suffix for o in result.outputs} >= {".apkg", ".pdf"}


def test_a_bad_title_deck_or_anki_id_falls_back_as_if_unset(tmp_path: Path) -> None:
    _vault(tmp_path, "title: [x]\ndeck: {a: b}\nanki-id: [1]\ncloze-highlights: maybe")
    plain = tmp_path / "plain"
    write_note(plain / "notes", "bad.md", BODY)
    write_note(plain / "notes", "good.md", GOOD)
    result, expected = _export(tmp_path), _export(plain)
    assert len(result.diagnostics) == 4 and not expected.diagnostics
    assert [(c.guid, c.deck, c.front) for c in result.cards] == \
        [(c.guid, c.deck, c.front) for c in expected.cards]


def test_a_line_of_front_matter_yaml_cannot_parse_is_still_an_error_with_its_line(
        tmp_path: Path) -> None:
    notes = _vault(tmp_path, "title: ok\ntags: [a, b]]")
    code, document, _ = _cli("build", str(notes), "--out", str(tmp_path / "out"), "--no-pdf")
    assert code == 1  # the whole block is lost: an error, as before
    [(path, line, severity, _)] = _found(document)
    assert (path, line, severity) == ("bad.md", 3, "error")
    assert _deck_written(document)


# --- watch -------------------------------------------------------------------------------------

def test_watch_reports_bad_front_matter_in_its_round_and_carries_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = _vault(tmp_path, "title: Fine")

    def saves(*folders: Path, **options: object) -> Iterator[set[tuple[Change, str]]]:
        """Stands in for the file watcher: three saves, one round each."""
        for name, text in [("bad.md", "---\ndate: 2024-02-30\nn: !!int abc\n---\n" + BODY),
                           ("good.md", GOOD + "more text\n"),
                           ("bad.md", "---\ntitle: Fixed\n---\n" + BODY)]:
            write_note(notes, name, text)
            yield {(Change.modified, str(notes / name))}

    monkeypatch.setattr("watchfiles.watch", saves)
    result = CliRunner().invoke(main, ["watch", str(notes), "--out", str(tmp_path / "out"),
                                       "--no-pdf"])
    assert result.exit_code == 0 and "internal error" not in result.stderr, result.stderr
    assert re.findall(r"^bad\.md:\d+:1: warning: .*$", result.stderr, re.M) == [
        "bad.md:2:1: warning: front matter value '2024-02-30' (!!timestamp) is not a valid "
        "date or time (day is out of range for month); ignored [bad-front-matter]",
        "bad.md:3:1: warning: front matter value 'abc' (!!int) is not an integer; ignored "
        "[bad-front-matter]"]
    rounds = re.findall(r"^(Built|Rebuilt after 1 changed note\(s\)): (\d+) cards, (\d+) "
                        r"warnings", result.stdout, re.M)
    assert rounds == [("Built", "2", "0"), ("Rebuilt after 1 changed note(s)", "2", "2"),
                      ("Rebuilt after 1 changed note(s)", "2", "2"),
                      ("Rebuilt after 1 changed note(s)", "2", "0")]


# --- fuzz --------------------------------------------------------------------------------------

KEYS = ["title", "tags", "aliases", "deck", "cards-deck", "cards", "anki-id",
        "cloze-highlights", "sheet", "excalidraw-plugin", "date", "time", "x", "<<", "1",
        "2024-01-01", "~", "[a]", "{a: b}", '"\\ud800"', "!!int k", "!foo k", "&@ k"]
SCALARS = [  # each valid YAML where a value may stand, in a block or in a flow collection
    "2024-02-30", "2024-01-01 25:00:00", "2024-01-01T10:61:00Z", "2024-01-01 1:00:00 +99:00",
    "0000-01-01", "9999-12-31", "2024-01-01", "2024-01-01 10:00:00", "25:00:00", "25:00",
    "1:2:3:4:5:6:7", "<huge>", "<huge-hex>", "<huge-binary>", "<huge-octal>", "1e999",
    "-1e999", ".nan", ".inf", "-.inf", "~", "null", "yes", "no", "on", "off", "y", "1_000",
    "0x_ff", "017", "0", "-0", "+1", "1.5", "abc", "é", "a b", "sections", "qa", "Deck::Sub",
    "[[Link]]", "''", '""', '"\\ud800"', '"\\udfff a"', '"\\0"', '"\\x01\\x1f"',
    '"\\U0010ffff"', "'it''s'"]
JUNK = ["[", "]", "{", "}", ",", ":", "- ", "@", "`", "%YAML 1.1", "&", "!", "!!", "*nope",
        "|\n  block", ">\n  folded", "#tag", "? x"]  # mostly not YAML at all
# Long values are expanded when drawn: Hypothesis would print them in every report.
LONG = {"<huge>": HUGE, "<huge-hex>": HUGE_HEX, "<huge-binary>": "0b" + "1" * 20_000,
        "<huge-octal>": "0o" + "7" * 6_000}
SCALAR = st.sampled_from(SCALARS * 8 + JUNK).map(lambda s: LONG.get(s, s))
TAGS = ["", "", "", "", "", "", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ",
        "!!str ", "!!null ", "!!map ", "!!seq ", "!!set ", "!!omap ", "!!pairs ", "!!merge ",
        "!!value ", "!!python/object/apply:os.system ", "!!python/name:os.system ", "!foo ",
        "!<tag:x> ", "!!yaml "]
ANCHORS = [""] * 6 + ["&@ "]  # named in _anchored: PyYAML refuses an anchor named twice


def _flow(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A flow list or mapping of ``values`` (which may be flow collections themselves)."""
    items = st.lists(values, max_size=4)
    pairs = st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=4)
    return st.one_of(items.map(lambda v: "[" + ", ".join(v) + "]"),
                     pairs.map(lambda p: "{" + ", ".join(f"{k}: {v}" for k, v in p) + "}"))


LEAF = st.builds(lambda a, t, s: a + t + s, st.sampled_from(ANCHORS), st.sampled_from(TAGS),
                 SCALAR)
VALUES = st.recursive(
    st.one_of(LEAF, LEAF, LEAF, LEAF, st.just("*@")),
    lambda inner: st.builds(lambda a, t, f: a + t + f, st.sampled_from(ANCHORS),
                            st.sampled_from(TAGS), _flow(inner)),
    max_leaves=8)
BLOCK_LIST = st.lists(VALUES, min_size=1, max_size=3).map(
    lambda v: "".join("\n  - " + x for x in v))
BLOCK_MAP = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3).map(
    lambda p: "".join(f"\n  {k}: {v}" for k, v in p))
LINE = st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(KEYS),
                 st.one_of(VALUES, BLOCK_LIST, BLOCK_MAP))
BROKEN = ["[", "- x", "key", "a: b: c", "*nope", "%YAML 1.1", "\tx: 1"]  # a line YAML refuses


def _anchored(text: str) -> str:
    """Each ``&@`` a new anchor; each ``*@`` an alias of the last anchor of an earlier key
    (``~`` before there is one): an alias inside its own anchor is refused as a whole."""
    count, done = 0, 0
    entries = []
    for entry in re.split(r"\n(?! )", text):
        parts = re.split(r"([&*]@)", entry)
        for index in range(1, len(parts), 2):
            if parts[index] == "&@":
                count += 1
                parts[index] = f"&a{count}"
            else:
                parts[index] = f"*a{done}" if done else "~"
        entries.append("".join(parts))
        done = count
    return "\n".join(entries)


LINES = st.builds(lambda lines, broken: _anchored("\n".join(lines + broken)),
                  st.lists(LINE, max_size=6), st.sampled_from([[]] * 21 + [[b] for b in BROKEN]))


def _lines_hold(diagnostics: list[Diagnostic] | list[tuple[str, int, str, str]],
                text: str) -> None:
    last = text.count("\n") + 1
    for found in diagnostics:
        path, line = (found.path, found.line) if isinstance(found, Diagnostic) else found[:2]
        assert path in ("bad.md", "good.md") and 1 <= line <= last, found


@settings(max_examples=400, deadline=None)
@given(front=LINES)
def test_fuzzed_front_matter_always_gives_a_note_and_diagnostics_on_its_lines(
        front: str) -> None:
    text = "---\n" + front + "\n---\n" + BODY
    diagnostics: list[Diagnostic] = []
    note = split_sections(text, "bad.md", "bad", diagnostics)
    assert any("body is still exported" in "\n".join(s.body) for s in note.sections)
    assert all(isinstance(k, str) for k in note.meta)
    _lines_hold(diagnostics, text)
    event("not YAML (error)" if any(d.severity == "error" for d in diagnostics)
          else "values reported (warnings)" if diagnostics else "clean")


@pytest.fixture(scope="module")
def fuzz_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("front-fuzz")


@settings(max_examples=40, deadline=None, phases=[p for p in Phase if p is not Phase.explain],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(front=LINES)
def test_fuzzed_front_matter_never_stops_check_or_build(fuzz_vault: Path, front: str) -> None:
    notes = _vault(fuzz_vault, front)
    text = (notes / "bad.md").read_text(encoding="utf-8")
    for command in (["check", str(notes)], ["build", str(notes), "--no-pdf"]):
        code, document, _ = _cli(*command, "--out", str(fuzz_vault / "out"))
        assert code in (0, 1)  # 1 when the block is not YAML at all: an error diagnostic
        _lines_hold(_found(document), text)
        summary = document["summary"]
        # ``excalidraw-plugin`` makes bad.md a drawing, which is not a note
        assert isinstance(summary, dict) and summary["notes"] >= 1 and summary["cards"] >= 1
        assert command[0] == "check" or _deck_written(document)
