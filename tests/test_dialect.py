"""Obsidian's dialect as Obsidian renders it: one tiny note per construct, checked in the card
HTML and in the text of the PDF (issue 9, items 1-10 and 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image
from pypdf import PdfReader

from exporter.app.pipeline import Config, Result, check, export
from exporter.core.model import Card

from .conftest import EPOCH, write_note

NOTES = {
    "Comments.md": (
        "# Kept\nbefore %% inline %% after\n%%\n# Hidden heading\nsecret words\n%%\n"
        "`%% literal code %%`\n```\n%% fenced %%\n```\n## Tail\ntail text\n"
        "cut %% never closed\n# Also hidden\nmore secret\n"),
    "Code.md": (
        "# Code\nUse `![[missing.png]]`, `[[Link]]`, `#notatag`, `==no==` and `{{c1::no}}` here.\n"
        "```\n![[alsomissing.png]]\n[[Link]] #fencetag ==x== {{c1::y}}\nTerm::Def\nQ\n?\nA\n"
        "# not a heading ^notid\n```\n\n    ![[indented.png]] #indentedtag\n    # nor this\n"
        "    Indented::Def\n    {{c1::z}}\n\n> [!note] Fenced\n> ```\n> Quoted::Def\n> ```\n\n"
        "$$\n# nor \\text{this}\n$$\nInline display math $$3::4 ==no==$$ here.\n"),
    "Include.md": "# C code\n\n    #include <stdio.h>\n",
    "Tags.md": (
        "---\ntags: [fm]\n---\n#only #tags\n# Heading one #card\nA sentence with #inline tag.\n"
        "- #camelCase\n"),
    "Callout.md": "# Callouts\n> [!tip] Use **bold**, `code` and [[Other]] here\n> Body line\n",
    "Source.md": (
        "# Facts\nA paragraph to quote. ^para\n\n- item one ^item\n    - child of one\n"
        "- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n^table\n\n## Deep\n### Deeper\n"
        "Deep text.\n"),
    "Blocks.md": (
        "# Refs\n![[Source#^para]]\n![[Source#^item]]\n![[Source#^table]]\n"
        "![[Source#Deep#Deeper]]\nSee [[Source#^para]] and [[Source#Deep#Deeper]].\n"),
    "Headings.md": ("# Use `code` here: now\ntext\n# Other\n"
                    "See [[#Use `code` here now]] and [[#Nope `x`]].\n"),
    "Footnotes.md": ("# One\nCites a footnote[^a].\n# Two\nOther text.\n\n"
                     "[^a]: The definition of a.\n"),
    "Icons.md": ("# Icons\nPress ![[gear.png|16]] to open settings.\n![[gear.png]]\n"
                 "Or ![[gear.png#icon]] here.\n"),
    "Intro.md": "#topic\n\n# Intro\nBody of intro.\n",
    "Title.md": "Some intro text.\n# Title\nMore text.\n",
    "Fronts.md": "# Use `code` and [[Other|alias]]\nFront text.\n",
    "Misc.md": (
        "# Misc\nVisit https://example.com now.\n1) first\n2) second\n\n- [ ] open\n- [x] done\n"
        "- [-] cancelled\n- [?] question\n- [/] half\n\n"
        "> [!note] Code\n>```python\n>x = 1\n>```\n\n> [!tip] Spaced\n>  ```\n>  y = 2\n>  ```\n\n"
        "```mermaid\ngraph TD\n```\n"),
    "Lines.md": "---\na: 1\n---\n# L\n```\ncode\n```\n![[Source#Deep]]\n![[nowhere.png]]\n",
    "Placed.md": "# P\ntext\nsee ![[no\tthing]] and\n![[`code` nope]]\n",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, str, Path]:
    root = tmp_path_factory.mktemp("dialect")
    for name, text in NOTES.items():
        write_note(root / "notes", name, text)
    (root / "assets").mkdir()
    Image.new("RGB", (64, 64), (200, 60, 60)).save(root / "assets" / "gear.png")
    result = export(Config(notes_dir=root / "notes", asset_dirs=[root / "assets"],
                           out_dir=root / "dist", deck_name="Dialect", epoch=EPOCH))
    pdf = root / "dist" / "dialect.pdf"
    with pdfplumber.open(pdf) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    return result, text, pdf


def _cards(result: Result, note: str) -> list[Card]:
    return [c for c in result.cards if c.source.split(" › ")[0] == note]


def _card(result: Result, note: str, front: str) -> Card:
    return next(c for c in _cards(result, note) if c.front == front)


def _codes(result: Result, note: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in result.diagnostics if d.path == note]


def test_1_comments_hide_headings_and_stop_at_code(built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    assert [c.front for c in _cards(result, "Comments.md")] == ["Kept", "Kept › Tail"]
    back = _card(result, "Comments.md", "Kept").back
    assert "before  after" in back and "inline" not in back and "secret" not in back
    assert "<code>%% literal code %%</code>" in back and "%% fenced %%" in back
    tail = _card(result, "Comments.md", "Kept › Tail").back
    assert "cut" in tail and "never closed" not in tail and "more secret" not in tail
    assert _codes(result, "Comments.md") == [(13, "unclosed-comment")]
    assert "%% literal code %%" in text and "secret" not in text and "Hidden heading" not in text


def test_2_code_is_literal_for_every_construct(built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    cards = _cards(result, "Code.md")
    assert [c.model for c in cards] == ["basic"]  # no cloze, no Q&A card from code
    back = cards[0].back
    for literal in ("<code>![[missing.png]]</code>", "<code>[[Link]]</code>",
                    "<code>#notatag</code>", "<code>==no==</code>", "<code>{{c1::no}}</code>",
                    "![[indented.png]] #indentedtag", "# not a heading ^notid", "# nor this",
                    "Indented::Def\n{{c1::z}}", "Quoted::Def"):
        assert literal in back
    assert "<mark>" not in back and 'class="tag"' not in back
    assert 'display math <span class="arithmatex">\\[3::4 ==no==\\]</span> here' in back
    assert _codes(result, "Code.md") == []  # no image named in code is reported missing
    assert not {"notatag", "fencetag", "indentedtag"} & set(cards[0].tags)
    assert "![[missing.png]]" in text and "{{c1::y}}" in text
    include = _cards(result, "Include.md")  # "#include" in code is code, not a tag line
    assert [c.front for c in include] == ["C code"]
    assert "#include &lt;stdio.h&gt;" in include[0].back


def test_3_tags_stay_in_place_and_become_anki_tags(built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    cards = _cards(result, "Tags.md")
    assert [c.front for c in cards] == ["Heading one"]  # no card for a line of tags
    assert {"fm", "only", "tags", "inline", "camelCase"} <= set(cards[0].tags)
    assert "card" not in cards[0].tags  # the Flashcards plugin's marker: syntax, not a tag
    back = cards[0].back
    assert 'A sentence with <span class="tag">#inline</span> tag.' in back
    assert '<li><span class="tag">#camelCase</span></li>' in back and "<h1" not in back
    assert "#only" not in back
    assert "A sentence with #inline tag." in text and "#camelCase" in text


def test_4_callout_title_is_its_whole_first_line(built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    back = _card(result, "Callout.md", "Callouts").back
    assert ('<div class="callout-title">Use <strong>bold</strong>, <code>code</code> and '
            '<span class="wikilink">Other</span> here</div>') in back
    assert "<p>Body line</p>" in back
    assert "Use bold, code and Other here" in text


def test_5_block_references_and_heading_paths(built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    back = _card(result, "Blocks.md", "Refs").back
    assert "<p>A paragraph to quote.</p>" in back
    assert "child of one" in back and "item two" not in back  # the item with its children
    assert "<td>1</td>" in back  # the table above a "^table" line
    assert "Deep text." in back
    assert 'class="internal">Source › ^para</span>' in back
    assert _codes(result, "Blocks.md") == []
    assert all("klzzwxh" not in d.message and "\x02" not in d.message
               for d in result.diagnostics)
    assert text.count("Deep text.") == 3  # in Source, in Blocks, and in Lines


def test_5_links_to_headings_with_code_and_no_placeholder_in_messages(
        built: tuple[Result, str, Path]) -> None:
    result, _, _ = built
    found = [(d.line, d.code, d.message) for d in result.diagnostics if d.path == "Headings.md"]
    assert found == [(4, "missing-heading", "link to heading '#Nope `x`' that does not exist in "
                      "'Headings.md'")]
    back = _card(result, "Headings.md", "Other").back
    assert '<span class="internal">Use <code>code</code> here now</span>' in back


def test_6_footnotes_travel_with_the_sections_citing_them(
        built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    assert "The definition of a." in _card(result, "Footnotes.md", "One").back
    assert "definition" not in _card(result, "Footnotes.md", "Two").back
    assert text.count("The definition of a.") == 1


def test_7_images_in_a_sentence_stay_inline(built: tuple[Result, str, Path]) -> None:
    result, _, pdf = built
    back = _card(result, "Icons.md", "Icons").back
    back = re.sub(r'src="gear-[0-9a-f]{12}\.png"', 'src="gear.png"', back)  # named by content
    assert '<img alt="gear.png" class="image-inline" src="gear.png" width="16">' in back
    assert '<img alt="gear.png" src="gear.png">' in back
    assert 'Or <img alt="gear.png" class="image-inline" src="gear.png"> here.' in back
    with pdfplumber.open(pdf) as document:
        # "Press" in the note's own block (At a glance quotes the sentence too): the one with
        # images in its column, from its line down
        column = [(w, sorted((i for i in page.images if 0 < i["x0"] - w["x0"] < 200
                              and i["top"] >= w["top"] - 6), key=lambda i: i["top"]))
                  for page in document.pages for w in page.extract_words()
                  if w["text"] == "Press"]
        press, images = next((w, i) for w, i in column if len(i) >= 2)
    icon, block = images[0], images[1]
    assert icon["height"] <= 12 and abs(icon["top"] - press["top"]) < 6  # on the line, small
    assert block["height"] > 3 * icon["height"]


def test_8_text_before_the_first_heading(built: tuple[Result, str, Path]) -> None:
    result, _, _ = built
    intro = _cards(result, "Intro.md")
    assert [c.front for c in intro] == ["Intro"] and "topic" in intro[0].tags
    titled = _cards(result, "Title.md")
    assert [c.front for c in titled] == ["Title"]
    assert "Some intro text." in titled[0].back and "More text." in titled[0].back


def test_9_fronts_headings_and_bookmarks_render_inline(built: tuple[Result, str, Path]) -> None:
    result, text, pdf = built
    card = _cards(result, "Fronts.md")[0]
    assert card.front == 'Use <code>code</code> and <span class="wikilink">alias</span>'
    assert "Use code and alias" in text and "`code`" not in text and "[[Other" not in text
    outline = PdfReader(pdf).outline
    titles: list[str] = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(str(item.title))  # type: ignore[attr-defined]

    walk(outline)
    assert "Use code and alias" in titles


def test_10_links_lists_tasks_fences_in_callouts_and_mermaid(
        built: tuple[Result, str, Path]) -> None:
    result, text, _ = built
    back = _card(result, "Misc.md", "Misc").back
    assert '<a href="https://example.com">https://example.com</a>' in back
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in back
    for state, glyph, words in (("todo", "☐", "open"), ("done", "☑", "done"),
                                ("cancelled", "☒", "cancelled"), ("question", "⍰", "question"),
                                ("doing", "◪", "half")):
        assert f'<span class="task task-{state}">{glyph}</span> {words}</li>' in back
    assert '<div class="callout-title">Code</div>' in back
    assert '<div class="highlight"><pre>' in back.split("callout-title")[1]
    assert "<code>y = 2\n</code>" in back.split("callout-title")[2]
    assert '<p class="code-label">Mermaid diagram</p><pre><code>graph TD</code></pre>' in back
    assert "☐ open" in text and "Mermaid diagram" in text and "x = 1" in text


def test_14_diagnostics_point_at_the_file_line(built: tuple[Result, str, Path]) -> None:
    result, _, _ = built
    assert _codes(result, "Lines.md") == [(9, "missing-image")]
    missing = next(d for d in result.diagnostics if d.path == "Lines.md")
    assert missing.col == 1
    # a tab (expanded by Markdown) or a code span in the name does not lose the line
    assert [(d.line, d.col, d.code) for d in result.diagnostics if d.path == "Placed.md"] == [
        (3, 5, "missing-embed"), (4, 1, "missing-embed")]
    assert "embedded '`code` nope' not found" in [d.message for d in result.diagnostics]


CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.mark.parametrize("name", ["sr-demo-vault", "flashcards-plugin-vault", "kepano-vault"])
def test_real_vaults_give_no_junk_section_card(name: str) -> None:
    root = CORPORA / name
    if not root.is_dir():
        pytest.skip(f"corpus not found at {root}")
    result = check(Config(notes_dir=root, asset_dirs=[], out_dir=root / "unused", deck_name="C",
                          epoch=EPOCH))
    for note in result.vault.notes:
        fronts = [s.front_html for s in note.sections if s.has_content]
        assert len(fronts) == len(set(fronts)), note.relpath
        for section in note.sections:
            if not section.has_content:
                continue
            for raw in ("[[", "%%", "`", "#card", "\x02", "\x1c"):
                assert raw not in section.front_html, (note.relpath, section.front_html)
            assert re.sub(r"<[^>]+>", "", section.html).strip(), (note.relpath, section.path)
            assert not re.search(r"[A-Za-z0-9+/]{300,}", section.html), note.relpath
    for diagnostic in result.diagnostics:
        assert "\x02" not in diagnostic.message and "klzzwxh" not in diagnostic.message


def _outline(items: list[object], depth: int = 0) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for item in items:
        if isinstance(item, list):
            out += _outline(item, depth + 1)
        else:
            out.append((depth, item.title))  # type: ignore[attr-defined]
    return out


def test_9_bookmarks_nest_folder_note_heading(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_note(notes / "Compute" / "Serverless", "Lambda.md", "# Lambda\ntext\n## Use `code`\nx\n")
    write_note(notes / "Compute", "EC2.md", "# EC2\nvms\n")
    write_note(notes, "Intro.md", "Root note text.\n")
    export(Config(notes_dir=notes, asset_dirs=[], out_dir=tmp_path / "dist", deck_name="B",
                  epoch=EPOCH))
    outline = _outline(PdfReader(tmp_path / "dist" / "b.pdf").outline)
    # a first heading that repeats the note's title is not said (or bookmarked) twice
    assert [entry for entry in outline if entry[1] != "At a glance"] == [
        (0, "Compute"), (1, "EC2"), (0, "Compute › Serverless"), (1, "Lambda"),
        (2, "Use code"), (0, "notes"), (1, "Intro")]
