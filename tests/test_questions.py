"""No card a student would delete: a question never says the note's title twice, and a section
of only links to other notes (a table of contents) makes no card; ``check`` says how many
sections made none, and why, in one line. GUIDs stay those of the cards' identities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.app.pipeline import check
from exporter.cards.toc import is_table_of_contents
from exporter.cli import main
from exporter.core.config import Config
from exporter.core.model import Card, Section

from .conftest import write_note

NOTES = {
    "GuardDuty.md": "Threat detection for AWS accounts.\n\n# GuardDuty\n"
                    "Reads CloudTrail, VPC flow logs and DNS logs.\n\n## Pricing\n"
                    "Per GB of logs analysed.\nWhat does GuardDuty bill by?::GB of logs analysed\n"
                    "\n## See also\n- [[Macie]]\n- [[Inspector]], [[Security Hub|the hub]]\n",
    "Macie.md": "# **macie**\nFinds personal data in S3.\nWhat does Macie scan?::S3 buckets\n\n"
                "## Related\nSee also: [[GuardDuty]] · [[Inspector]]\n\n## Neighbours\n"
                "Works beside [[GuardDuty]], which watches the logs.\n",
    "Inspector.md": "Inspector::Scans EC2 instances and container images for vulnerabilities\n"
                    "Runs the SSM agent.\n",
}
# What main (before this change) gave each card of NOTES: GUID, note, kind. The two cards of
# "See also" and "Related" (tables of contents) are the only ones gone.
MAIN_GUIDS = [
    ("Ny3h%;7s98", "GuardDuty.md", "section"),
    ("podv1&Qa}}", "GuardDuty.md", "section"),
    ("wm84N]g7~/", "GuardDuty.md", "qa"),
    ("ud]Ik@{,&N", "GuardDuty.md", "section"),  # GuardDuty › See also
    ("q]|@erN_&w", "Inspector.md", "section"),
    ("d2YD^?1k+X", "Inspector.md", "qa"),
    ("Ku}8|X9%{[", "Macie.md", "section"),
    ("MrvbId&&:#", "Macie.md", "qa"),
    ("zcRciiP68z", "Macie.md", "section"),  # macie › Related
    ("G.Z!q6#@/>", "Macie.md", "section"),
]
TABLES_OF_CONTENTS = {"ud]Ik@{,&N", "zcRciiP68z"}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    for name, text in NOTES.items():
        write_note(tmp_path / "notes", name, text)
    return tmp_path / "notes"


def _cards(notes: Path) -> list[Card]:
    return check(Config(notes_dir=notes, out_dir=notes.parent / "out")).cards


def _questions(notes: Path, note: str) -> list[tuple[str, str, str]]:
    """Each card of ``note`` as kind, context (above the question) and front."""
    return [(c.kind, c.context, c.front) for c in _cards(notes) if c.note == note]


def test_a_heading_that_is_the_title_is_shown_once(notes: Path) -> None:
    assert _questions(notes, "GuardDuty.md") == [
        ("section", "", "GuardDuty"),  # not "GuardDuty" above "GuardDuty"
        ("section", "GuardDuty", "Pricing"),  # not "GuardDuty" above "GuardDuty › Pricing"
        ("qa", "GuardDuty › Pricing", "What does GuardDuty bill by?")]


def test_a_title_repeated_in_another_case_or_markup_is_shown_once(notes: Path) -> None:
    assert _questions(notes, "Macie.md") == [
        ("section", "", "<strong>macie</strong>"),
        ("qa", "Macie", "What does Macie scan?"),  # not "Macie › **macie**"
        ("section", "Macie", "Neighbours")]


def test_a_question_that_is_the_title_has_no_context_repeating_it(notes: Path) -> None:
    assert _questions(notes, "Inspector.md") == [("section", "", "Inspector"),
                                                 ("qa", "", "Inspector")]


def test_the_cards_left_keep_the_guids_main_gave_them(notes: Path) -> None:
    assert [(c.guid, c.note, c.kind) for c in _cards(notes)] == [
        card for card in MAIN_GUIDS if card[0] not in TABLES_OF_CONTENTS]


def _section(*body: str, html: str = "") -> Section:
    return Section(heading="H", level=2, path=("H",), line=1, anchor="h", body=list(body),
                   html=html)


@pytest.mark.parametrize("body", [
    ["- [[Macie]]", "- [[Inspector#Agents|agents]]", "", "---", "#aws"],
    ["See also: [[Macie]], [[Inspector]]"],
    ["**Related notes:**", "1. [[Macie]]", "2. [[Inspector]] ^list"],
    ["See also", "[Macie](Macie.md) | [agents](Inspector%20notes.md#Agents) | [top](#GuardDuty)"],
    ["![[Macie]]", "![[Inspector#Agents]]"],
    ["> [!info] Related", "> - [[Macie]] →  [[Inspector]]"],
    ["up:: [[Security]]", "- [ ] [[Macie]]", "%% a comment %%"],
])
def test_a_section_of_only_links_to_notes_is_a_table_of_contents(body: list[str]) -> None:
    assert is_table_of_contents(_section(*body))


@pytest.mark.parametrize("body", [
    ["Works beside [[GuardDuty]], which watches the logs."],
    ["- [[Lambda]] runs code without servers", "- [[Batch]]"],
    ["- [[Macie]] (S3)"],
    ["- [[Macie]]", "- ![[diagram.png]]"],
    ["- [[Macie]]", "- ![[Map.excalidraw]]", "- ![[slides.pdf]]"],
    ["[AWS Lambda Pricing](https://aws.amazon.com/lambda/pricing/)"],
    ["```", "[[Macie]]", "```"],
    ["---", "#aws"],  # no link at all
])
def test_a_section_with_text_or_media_of_its_own_is_not(body: list[str]) -> None:
    assert not is_table_of_contents(_section(*body))


def test_an_embed_that_shows_an_image_is_not_a_table_of_contents() -> None:
    # ![[Sketch]] names a drawing note: only its rendering shows that it is an image
    assert not is_table_of_contents(_section("![[Sketch]]", html='<p><img src="s.png"></p>'))


def test_check_says_in_one_line_how_many_sections_made_no_card_and_why(notes: Path) -> None:
    write_note(notes, "Index.md", "# Index\n## Services\n- [[GuardDuty]]\n- [[Macie]]\n")
    result = CliRunner().invoke(main, ["check", str(notes)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("Sections")]
    assert lines == ["Sections without a card: 3 tables of contents, 1 only a heading"]
    assert "table" not in result.stderr  # a count in the summary, not a warning per section


def test_check_json_carries_the_counts(notes: Path) -> None:
    write_note(notes, "Index.md", "# Index\n## Services\n- [[GuardDuty]]\n")
    result = CliRunner().invoke(main, ["check", str(notes), "--format", "json"])
    summary = json.loads(result.stdout)["summary"]
    assert summary["sections_left_out"] == {"only_heading": 1, "toc": 3}
    assert summary["cards"] == 8
