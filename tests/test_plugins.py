"""The other plugins' card syntax: the Flashcards plugin (#card, inline, its clozes, its
settings), obsidian-spaced-repetition's settings, and card syntax read as text in sections."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from anki.collection import Collection
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from exporter.app.pipeline import Config, Result, check, export
from exporter.core.model import Card, Section
from exporter.read.cloze import CLOZE, MAX_CLOZE, mask
from exporter.read.flashcards import extract
from exporter.read.plugins import CardSyntax

from .conftest import EPOCH, ROOT, import_apkg, write_note
from .test_fuzz import FRAGMENTS  # (importing it also loads Hypothesis' CI profile)

FLASHCARDS_VAULT = ROOT.parent / "shared" / "corpus" / "flashcards-plugin-vault"


def run(notes: Path, kinds: tuple[str, ...] = ("sections", "qa", "cloze"),
        sections: str = "auto") -> Result:
    return check(Config(notes_dir=notes, asset_dirs=[], card_kinds=kinds,
                        section_cards=sections))


def by_front(result: Result) -> dict[str, Card]:
    return {c.front: c for c in result.cards}


def settings(notes: Path, plugin: str, data: dict[str, object]) -> None:
    folder = notes / ".obsidian" / "plugins" / plugin
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.json").write_text(json.dumps(data), encoding="utf-8")


# --- the Flashcards plugin's own test notes ---


needs_corpus = pytest.mark.skipif(not FLASHCARDS_VAULT.is_dir(),
                                  reason="../shared/corpus/flashcards-plugin-vault is absent")


@needs_corpus
def test_flashcards_vault_must_work_and_must_not_work(tmp_path: Path) -> None:
    """Cloze.md and Inline.md say which cards "Must work" (4 and 5) and which "Must NOT work"
    (code blocks, inline code, math): exactly those cards, in the decks they name."""
    notes = tmp_path / "vault"
    shutil.copytree(FLASHCARDS_VAULT / "docs" / "test-vault", notes)
    result = run(notes)
    clozes = [c for c in result.cards if c.model == "cloze"]
    assert [c.front for c in clozes] == [
        "This is a valid {{c1::cloze}} that exploits the {{c2::Obsidian Highlight}} syntax.",
        "The other mechanism is the {{c1::following one}} with these parenthesis.",
        "Moreover, the {{c2::order}} of the {{c1::cloze}} support can vary.",
        "And of course {{c1::multiple syntax}} can be {{c2::mixed}} together.",
    ]
    assert {c.deck for c in clozes} == {"Cloze"}
    inline = [(c.model, c.front, c.back) for c in result.cards
              if c.deck == "Inline" and c.front == "This is a valid"]
    assert inline == [("basic", "This is a valid", "Inline card"),
                      ("basic", "This is a valid", "inline card"),
                      ("basic", "This is a valid", "inline card"),
                      ("basic", "This is a valid", "inline card"),
                      ("reversed", "This is a valid", "inline reversed card")]
    # Nothing from the "Must NOT work" sections; no section cards (as the plugin makes none).
    for card in result.cards:
        assert "::" not in card.front or card.model == "cloze"
        assert not re.search(r"\{valid\}|\{1\}|\{12\}|3::4", card.front)
    assert not [c for c in result.cards if "NOT work" in c.source or "Math" in c.source
                or "inline code" in c.source]
    assert not [c for c in result.cards if c.kind == "section"]
    result = run(notes, sections="always")
    not_work = [c for c in result.cards if "NOT work" in c.source or "Math" in c.source
                or "inline code" in c.source]
    assert all(c.model == "basic" and c.kind == "section" for c in not_work)
    # The section card shows the deletions' answers highlighted, not the plugin's markup.
    must_work = next(c.back for c in result.cards
                     if c.source.endswith("Cloze › Must work ✔️") and c.kind == "section")
    assert "<mark>following one</mark>" in must_work and "<mark>order</mark>" in must_work
    assert "{" not in must_work
    # 000 Main.md: "# My heading" then "#card" on the next line.
    main = by_front(result)["My heading"]
    assert main.back == "<p>My content</p>"
    assert "#card" not in " ".join(c.front for c in result.cards)


@needs_corpus
@pytest.mark.parametrize("name", sorted(p.name for p in (
    FLASHCARDS_VAULT / "tests" / "obsidian_vault").glob("*.md")) if FLASHCARDS_VAULT.is_dir()
    else ["absent"])
def test_flashcards_plugin_test_notes(tmp_path: Path, name: str) -> None:
    """Each of the plugin's own test notes gives the card Question → Answer, once."""
    notes = tmp_path / "vault"
    notes.mkdir()
    shutil.copy(FLASHCARDS_VAULT / "tests" / "obsidian_vault" / name, notes / name)
    result = run(notes)
    questions = [c for c in result.cards if c.front == "Question"]
    assert [(c.model, re.sub("</?p>", "", c.back)) for c in questions] == [("basic", "Answer")]
    assert not any("#card" in c.front or "#card" in c.back for c in result.cards)
    assert result.diagnostics == []


# --- #card on headings and lines ---


def test_card_tags_on_headings_and_lines(tmp_path: Path) -> None:
    write_note(tmp_path, "Bio.md", "# Cells\n\n## What is a cell? #card\nThe unit of life.\n\n"
               "- made of **organelles**\n\n## Mitosis #card-reverse\nCell division.\n\n"
               "## Notes\nWhat is ATP? #card #bio\nThe energy currency.\n\nRibosome\n"
               "#card/spaced\nMakes proteins.\n")
    result = run(tmp_path, sections="always")
    cards = by_front(result)
    cell = cards["Cells › What is a cell?"]
    assert (cell.model, cell.back) == ("basic", "<p>The unit of life.</p>\n<ul>\n<li>made of "
                                       "<strong>organelles</strong></li>\n</ul>")
    assert cards["Cells › Mitosis"].model == "reversed"
    assert cards["Cells › Mitosis"].back == "<p>Cell division.</p>"
    assert (cards["What is ATP?"].model, cards["What is ATP?"].back) == \
        ("basic", "The energy currency.")
    assert cards["Ribosome"].back == "Makes proteins."
    fronts = [c.front for c in result.cards]
    assert len(fronts) == len(set(fronts)), "a tagged heading makes one card, not two"
    assert not any("#" in f for f in fronts)
    # The section card of "Notes" shows the text without the tags or card syntax.
    assert "#card" not in cards["Cells › Notes"].back
    assert "What is ATP?" in cards["Cells › Notes"].back


def test_card_tag_without_answer_is_a_warning(tmp_path: Path) -> None:
    write_note(tmp_path, "Empty.md", "# Alone #card\n\n# Next\nQuestion only #card\n")
    result = run(tmp_path)
    found = [(d.line, d.code) for d in result.diagnostics]
    assert found == [(1, "empty-card"), (4, "empty-card")]
    assert not any(c.front in ("Alone", "Question only") for c in result.cards)


def test_card_tag_inside_code_is_literal(tmp_path: Path) -> None:
    write_note(tmp_path, "Code.md", "# Shell\nRun `echo #card` here\nnot an answer\n\n"
               "```\nQ #card\nA\n```\n")
    result = run(tmp_path)
    assert [c.front for c in result.cards] == ["Shell"]


def test_flashcards_settings_file(tmp_path: Path) -> None:
    """The plugin's tag and separators come from its data.json; its clozes are on."""
    settings(tmp_path, "flashcards", {"flashcardsTag": "flash", "inlineSeparator": "&&",
                                      "inlineSeparatorReverse": "&&&",
                                      "contextAwareMode": False})
    write_note(tmp_path, "N.md", "# Top\n## Sub #flash\nAnswer\n\n## Other\nA && B\n"
               "C &&& D\nE::F\nThe {answer} is ==here==.\nStill #card\nx\n")
    result = run(tmp_path)
    got = {(c.model, c.front, c.back) for c in result.cards if "›" not in c.front}
    assert ("basic", "Sub", "<p>Answer</p>") in got  # context-aware off: the heading alone
    assert ("basic", "A", "B") in got and ("reversed", "C", "D") in got
    assert not any(front == "E" for _, front, _ in got)
    assert ("cloze", "The {{c1::answer}} is {{c2::here}}.", "") in got
    assert not any(front == "Still" for _, front, _ in got)


# --- obsidian-spaced-repetition's settings ---


def test_spaced_repetition_settings(tmp_path: Path) -> None:
    settings(tmp_path, "obsidian-spaced-repetition", {"settings": {
        "flashcardTags": ["#study"], "convertHighlightsToClozes": False,
        "convertBoldTextToClozes": True, "convertCurlyBracketsToClozes": True,
        "singleLineCardSeparator": ";;", "singleLineReversedCardSeparator": ";;;",
        "multilineCardSeparator": "!?", "multilineReversedCardSeparator": "!??"}})
    write_note(tmp_path, "Deck.md", "#study/bio\n# Facts\nCell;;Unit of life\nDNA;;;Genome\n"
               "A::B\nThe **nucleus** holds {{DNA}}.\nMade on {{date}} by {{title}}.\n"
               "A ==highlight== stays.\n\nWhat is RNA?\n!?\nA nucleic acid\n")
    write_note(tmp_path, "Other.md", "# Not a deck\nCell;;Unit of life\n")
    result = run(tmp_path, sections="always")
    got = [(c.model, c.front, c.back) for c in result.cards if "›" not in c.front
           and c.front not in ("Facts", "Not a deck", "Deck")]
    assert got == [
        ("basic", "Cell", "Unit of life"),
        ("reversed", "DNA", "Genome"),
        # The plugin's cloze is the paragraph that holds it (A::B is no card here).
        ("cloze", "A::B<br>\nThe {{c1::nucleus}} holds {{c2::DNA}}.<br>\nMade on {{date}} by "
         "{{title}}.<br>\nA <mark>highlight</mark> stays.", ""),
        ("basic", "What is RNA?", "A nucleic acid"),
    ]
    facts = by_front(result)["Facts"].back
    assert "Cell — Unit of life" in facts and "!?" not in facts
    assert "Made on {{date}} by {{title}}." in facts
    # The note without the deck tag gives its section card only, its lines left as written.
    assert by_front(result)["Not a deck"].back == "<p>Cell;;Unit of life</p>"


def test_spaced_repetition_defaults_convert_highlights(tmp_path: Path) -> None:
    settings(tmp_path, "obsidian-spaced-repetition", {"settings": {}})
    write_note(tmp_path, "D.md", "#flashcards\n# H\nThe ==sun== is a star.\n")
    write_note(tmp_path, "E.md", "# H\nThe ==moon== is not a deck.\n")
    write_note(tmp_path, "F.md", "# Stars #flashcards/sky\nThe ==pole star== is a deck.\n")
    write_note(tmp_path, "G.md", "---\ntags: [flashcards]\n---\nThe ==comet== too.\n")
    clozes = [c.front for c in run(tmp_path).cards if c.model == "cloze"]
    assert clozes == ["The {{c1::sun}} is a star.", "The {{c1::pole star}} is a deck.",
                      "The {{c1::comet}} too."]


def test_broken_settings_file_is_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / ".obsidian" / "plugins" / "obsidian-spaced-repetition"
    folder.mkdir(parents=True)
    (folder / "data.json").write_text("{not json", encoding="utf-8")
    write_note(tmp_path, "N.md", "# H\nA::B\n")
    result = run(tmp_path)
    assert [(d.path, d.code) for d in result.diagnostics] == [
        (".obsidian/plugins/obsidian-spaced-repetition/data.json", "bad-settings")]
    assert ("A", "B") in [(c.front, c.back) for c in result.cards]


# --- card syntax read as text in sections and the PDF ---


def test_section_shows_card_syntax_as_text(tmp_path: Path) -> None:
    write_note(tmp_path, "S.md", "# Terms\n- RCU::Read Capacity Unit\n- `a::b` is code\n"
               "\n| C++ | std::vector |\n| --- | --- |\n| x | y |\n\n"
               "- URL http://x.y\n\nWhat is S3?\n?\nObject storage\n\n"
               "Lambda runs up to {{c1::15 minutes}}.\n")
    result = run(tmp_path, sections="always")
    back = by_front(result)["Terms"].back
    assert "<li>RCU — Read Capacity Unit</li>" in back
    assert "<code>a::b</code>" in back and "<th>std::vector</th>" in back
    assert [c.front for c in result.cards if c.model != "cloze"] == ["Terms", "RCU",
                                                                      "What is S3?"]
    assert "?" not in re.sub(r"<[^>]+>", "", back).replace("What is S3?", "")
    assert '<span class="cloze-text">15 minutes</span>' in back


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_shows_card_syntax_as_text(tmp_path: Path) -> None:
    import subprocess

    notes = tmp_path / "notes"
    write_note(notes, "S.md", "# Terms\n- RCU::Read Capacity Unit\n\nWhat is S3?\n?\n"
               "Object storage\n")
    export(Config(notes_dir=notes, asset_dirs=[], out_dir=tmp_path / "out", write_anki=False,
                  deck_name="T", epoch=EPOCH))
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "out" / "t.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "RCU — Read Capacity Unit" in text
    assert "RCU::" not in text and "\n?\n" not in text.replace(" ", "")


# --- cloze numbers Anki accepts, and many clozes ---


def test_cloze_number_over_anki_limit(tmp_path: Path, collection: Collection) -> None:
    """Anki refuses a whole deck holding c65537: that card is an error and left out."""
    notes = tmp_path / "notes"
    write_note(notes, "C.md", "# H\n- {{c65537::x}} too big\n- {{c0::y}} zero\n"
               "- {{c65535::z}} the last one Anki takes\n- {{c1::fine}}\n")
    result = export(Config(notes_dir=notes, asset_dirs=[], out_dir=tmp_path / "out",
                           write_pdf=False, deck_name="T", epoch=EPOCH))
    assert [(d.line, d.col, d.severity, d.code) for d in result.diagnostics] == [
        (2, 3, "error", "bad-cloze-number"), (3, 3, "error", "bad-cloze-number")]
    assert [c.front for c in result.cards if c.model == "cloze"] == [
        "{{c65535::z}} the last one Anki takes", "{{c1::fine}}"]
    log = import_apkg(collection, tmp_path / "out" / "t.apkg")
    assert log["new"] == 3  # the section and two cloze notes


def test_many_clozes_with_one_unclosed(tmp_path: Path) -> None:
    """20,000 deletions and one never closed: reported once where it opens, the rest shown."""
    line = " ".join(f"{{{{c{i % 100 + 1}::w{i}}}}}" for i in range(20_000))
    write_note(tmp_path, "M.md", f"# A\nfirst {{{{c1::open\n\n{line}\n")
    result = run(tmp_path, kinds=("sections",))
    assert [(d.line, d.col, d.code) for d in result.diagnostics] == [(2, 7, "unclosed-cloze")]
    back = result.cards[0].back
    assert back.count('class="cloze-text"') == 20_000



def test_question_cards_say_where_they_stand(tmp_path: Path) -> None:
    """Two questions alike in two sections are told apart above the question, as the Spaced
    Repetition plugin shows its cards' context."""
    write_note(tmp_path, "Q.md", "# Tables\n## With a gap\nList two services\n?\nS3\n\n"
               "## Without a gap\nList two services\n?\nEC2\n")
    cards = [(c.context, c.back) for c in run(tmp_path).cards if c.front == "List two services"]
    assert cards == [("Q › Tables › With a gap", "S3"), ("Q › Tables › Without a gap", "EC2")]


def test_sample_definitions_do_not_repeat_their_heading() -> None:
    """The sample's pyproject turns on definitions: "ECS = …" is asked, under the heading ECS."""
    from exporter.core import config as config_file

    result = check(config_file.load(ROOT / "source_notes", {}))
    cards = {c.front: c for c in result.cards}
    assert (cards["ECS = …"].back, cards["EKS = …"].back) == \
        ("Elastic Container Service", "Elastic Kubernetes Service")
    fronts = [c.front for c in result.cards]
    assert len(fronts) == len(set(fronts)) == 18


@needs_corpus
def test_flashcards_vault_imports_into_anki(tmp_path: Path, collection: Collection) -> None:
    """In Anki: the Cloze deck holds the 4 cloze notes (7 cards), the Inline deck the 5 inline
    notes (6 cards: one both ways), and the #card heading of 000 Main.md: no section notes."""
    notes = tmp_path / "vault"
    shutil.copytree(FLASHCARDS_VAULT / "docs" / "test-vault", notes)
    export(Config(notes_dir=notes, asset_dirs=[], out_dir=tmp_path / "out", write_pdf=False,
                  deck_name="T", epoch=EPOCH))
    log = import_apkg(collection, tmp_path / "out" / "t.apkg")
    assert log["new"] == collection.note_count() == 10
    cloze = collection.find_notes('deck:Cloze "note:notes-export cloze"')
    assert (len(cloze), len(collection.find_cards('deck:Cloze "note:notes-export cloze"'))) == \
        (4, 7)
    inline = collection.find_notes('deck:Inline "Front:This is a valid"')
    assert (len(inline), len(collection.find_cards('deck:Inline "Front:This is a valid"'))) == \
        (5, 6)


def test_a_note_written_for_the_flashcards_plugin(tmp_path: Path) -> None:
    """``cards-deck:`` marks a note written for the Flashcards plugin: its braces and
    highlights are clozes there, and nowhere else without the plugin's settings."""
    write_note(tmp_path, "Plugin.md", "---\ncards-deck: Bio::Cells\n---\n# H\n"
               "The {nucleus} holds ==DNA==.\n")
    write_note(tmp_path, "Plain.md", "# H\nA set {1, 2} and a ==highlight==.\n")
    result = run(tmp_path)
    assert [(c.deck, c.front) for c in result.cards if c.model == "cloze"] == [
        ("Bio::Cells", "The {{c1::nucleus}} holds {{c2::DNA}}.")]


def test_spaced_repetition_end_marker(tmp_path: Path) -> None:
    settings(tmp_path, "obsidian-spaced-repetition", {"settings": {
        "multilineCardEndMarker": "---", "convertFoldersToDecks": True}})
    write_note(tmp_path, "N.md", "# H\nName two\n?\nfirst\n\nsecond\n---\nAfter.\n")
    result = run(tmp_path, sections="always")
    question = by_front(result)["Name two"]
    assert question.back == "<p>first</p>\n<p>second</p>"
    assert "<hr" not in by_front(result)["H"].back


# --- random lines never crash the card syntax reader ----------------------------------------------

PLUGIN_FRAGMENTS = [*FRAGMENTS, "#card", "#card-reverse", " #card", "?", "??", "+++", ":::",
                    "{", "}", "{2:", "{{", "**", ";;", "1;;", "c65536", "{{date}}", "Q", "A"]
PLUGIN_LINES = st.lists(st.lists(st.one_of(st.sampled_from(PLUGIN_FRAGMENTS),
                                           st.text(max_size=4)), max_size=12).map("".join),
                        max_size=15)
EVERYTHING = CardSyntax(highlight_cloze=True, bold_cloze=True, double_curly_cloze=True,
                        curly_cloze=True)


@hypothesis_settings(max_examples=300, deadline=None)
@given(body=PLUGIN_LINES, level=st.integers(0, 2), tags=st.sets(st.sampled_from(
    ["card", "card-reverse", "bio"]), max_size=2))
def test_random_card_syntax_never_crashes(body: list[str], level: int, tags: set[str]) -> None:
    section = Section(heading="H", level=level, path=("H",), line=1, anchor="h",
                      body=list(body), body_line=2, tags=tags)
    problems: list[tuple[int, str]] = []
    result = extract(section, EVERYTHING, lambda line, col, sev, msg, code:
                     problems.append((line, code)))
    assert len(result.display) == len(body)
    for item in result.items:
        assert item.key.strip() and 1 <= item.line <= len(body) + 2
        numbers = [int(m.group(1)) for m in CLOZE.finditer(mask(item.front, math=False))]
        assert item.kind != "cloze" or all(1 <= n <= MAX_CLOZE for n in numbers)
    assert all(2 <= line <= len(body) + 2 or line == 1 for line, _ in problems)


def test_question_context_does_not_repeat_a_title_heading(tmp_path: Path) -> None:
    # The plugins' vaults open with "# <note title>": the context says it once.
    write_note(tmp_path, "Cloze.md", "# Cloze\n## Must work\nQuestion::Answer\n"
               "# Other\nAsked::Told\n")
    contexts = {c.front: c.context for c in run(tmp_path).cards}
    assert contexts["Question"] == "Cloze › Must work"
    assert contexts["Asked"] == "Cloze › Other"


# --- cards as the plugin makes them: no section cards besides, marker tags are syntax ---


def test_inline_card_above_a_multiline_card_is_its_own(tmp_path: Path) -> None:
    """The question of a multi-line card runs back to a blank line, but not into a one-line
    card above it: two cards, as the plugin makes them."""
    write_note(tmp_path, "N.md", "# H\nATP::energy\nWhat is 2+2?\n?\nfour\n")
    got = [(c.front, c.back) for c in run(tmp_path).cards if c.kind != "section"]
    assert got == [("ATP", "energy"), ("What is 2+2?", "four")]


def test_a_multiline_cloze_is_its_paragraph(tmp_path: Path) -> None:
    write_note(tmp_path, "N.md", "# H\nThe cell's engine\nis the {{c1::mitochondrion}}.\n\n"
               "- list items are {{c1::one card}} each\n- as {{c1::written}}\n")
    clozes = [c.front for c in run(tmp_path).cards if c.model == "cloze"]
    assert clozes == ["The cell's engine<br>\nis the {{c1::mitochondrion}}.",
                      "list items are {{c1::one card}} each", "as {{c1::written}}"]



def test_a_cloze_list_in_a_spaced_repetition_note_is_one_note(tmp_path: Path) -> None:
    """The Spaced Repetition plugin reads a list without blank lines as one paragraph: one
    cloze note with a deletion per highlight (c1, c2, c3: three Anki cards), the list shown
    whole, as the plugin shows it; the lines it covers are the list's. A list after a blank
    line is a card of its own, and a note not written for the plugin keeps one per item."""
    write_note(tmp_path, "Bio.md", "---\ntags: [flashcards]\n---\n# Cell\n\n"
               "- The ==mitochondria== is the powerhouse\n- ==ATP== is energy\n"
               "\t- ==DNA== holds genes\n\n- ==Ribosomes== make proteins\n")
    clozes = [c for c in run(tmp_path).cards if c.model == "cloze"]
    assert [c.front.count("{{c") for c in clozes] == [3, 1]
    first = clozes[0].front
    marks = ("{{c1::mitochondria}}", "{{c2::ATP}}", "{{c3::DNA}}")
    assert all(m in first for m in marks)
    assert first.startswith("<ul>") and first.count("<li>") == 3  # shown as the list it is
    assert (clozes[0].line, clozes[1].line) == (6, 10)
    write_note(tmp_path, "Bio.md", "# Cell\n\n- The {{c1::mitochondria}} is the powerhouse\n"
               "- {{c1::ATP}} is energy\n")
    assert [c.front for c in run(tmp_path).cards if c.model == "cloze"] == [
        "The {{c1::mitochondria}} is the powerhouse", "{{c1::ATP}} is energy"]

def test_plugin_notes_give_their_cards_only(tmp_path: Path) -> None:
    """A note written for a plugin (#card, a #flashcards deck tag) gives its cards and no
    section cards; a note in no card syntax gives section cards; ``section-cards: true``
    brings them back for one note."""
    write_note(tmp_path, "Fc.md", "# Cells\n## What is a cell? #card\nThe unit of life.\n\n"
               "## Notes\nText only.\n")
    write_note(tmp_path, "Sr.md", "#flashcards/chemistry\n# Acids\nA base::pH > 7\n\nProse.\n")
    write_note(tmp_path, "Plain.md", "# Plain\nJust prose.\n")
    write_note(tmp_path, "Back.md", "---\nsection-cards: true\n---\n#flashcards\n# Both\nQ::A\n")
    write_note(tmp_path, "Off.md", "---\nsection-cards: false\n---\n# Off\nJust prose.\n")
    result = run(tmp_path)
    got = sorted((c.note, c.kind, c.front) for c in result.cards)
    assert got == [("Back.md", "qa", "Q"), ("Back.md", "section", "Both"),
                   ("Fc.md", "qa", "Cells › What is a cell?"), ("Plain.md", "section", "Plain"),
                   ("Sr.md", "qa", "A base")]
    decks = {c.note: c.deck for c in result.cards}
    assert decks["Sr.md"] == decks["Plain.md"] + "::chemistry"  # the deck tag names the deck
    for card in result.cards:
        assert not {t for t in card.tags if t.split("::")[0] in ("card", "flashcards")}


def test_section_cards_always_and_never(tmp_path: Path) -> None:
    write_note(tmp_path, "N.md", "#flashcards\n# H\nQ::A\n")
    write_note(tmp_path, "P.md", "# P\nProse.\n")
    for mode, fronts in (("always", ["H", "P", "Q"]), ("never", ["Q"])):
        result = check(Config(notes_dir=tmp_path, asset_dirs=[], section_cards=mode))
        assert sorted(c.front for c in result.cards) == fronts
