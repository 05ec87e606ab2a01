"""Hostile notes (issue 12, items 5, 6, 8 and 12): unsafe links in math, links out of the vault,
embeds that fan out, and input shaped to make parsing super-linear. Each gets a clear
diagnostic and the rest exported; speed is measured in bench/, not asserted here."""

from __future__ import annotations

import os
from pathlib import Path

import pdfplumber

from exporter.app.pipeline import Config, Result, check, export
from exporter.render.transclude import MAX_TRANSCLUDED_LINES

from .conftest import EPOCH, write_note


def _check(notes: Path) -> Result:
    return check(Config(notes_dir=notes, asset_dirs=[], out_dir=notes.parent / "dist",
                        deck_name="H", epoch=EPOCH))


def test_math_links_with_unsafe_schemes_are_stripped_in_cards_and_pdf(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "m.md",
               "# Math\nInline $\\href{javascript:alert(1)}{click}$ and "
               "$\\href{https://example.com}{safe}$.\n\n$$\\url{javascript:alert(2)}$$\n\n"
               "Macro $\\let\\h\\href \\h{javascript:alert(3)}{x}$\n\n"
               "Entity $\\href{&#106;avascript:alert(4)}{y}$\n\n"
               "Q::$\\href{javascript:alert(5)}{z}$\n\n`$\\href{javascript:kept}{code}$`\n")
    result = export(Config(notes_dir=tmp_path / "notes", asset_dirs=[], out_dir=tmp_path / "d",
                           deck_name="M", epoch=EPOCH))
    assert len(result.cards) == 2
    for card in result.cards:
        shown = (card.front + card.back).replace("<code>$\\href{javascript:kept}{code}$</code>", "")
        for forbidden in ("alert(1)", "\\url{javascript", "\\href{javascript", "alert(4)",
                          "alert(5)", "\\let\\h\\href"):
            assert forbidden not in shown
    back = result.cards[0].back
    assert "\\href{https://example.com}{safe}" in back and "{click}" in back
    assert "<code>$\\href{javascript:kept}{code}$</code>" in back  # code shows TeX as written
    with pdfplumber.open(tmp_path / "d" / "m.pdf") as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
        uris = [str(link.get("uri")) for page in pdf.pages for link in page.hyperlinks]
    assert "alert(1)" not in text and "Inline" in text
    assert not any("javascript" in uri for uri in uris)


def test_links_and_embeds_leading_out_of_the_vault_are_refused_errors(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\nthe secret\n", encoding="utf-8")
    notes = tmp_path / "notes"
    write_note(notes, "sub/n.md", "# A\n![[../../etc/passwd]]\nsee [[../../outside/secret]]\n"
               "![[/etc/hostname]]\n![[secret]]\n![[fine]]\n")
    write_note(notes, "fine.md", "# Fine\nfine text\n")
    os.symlink(outside / "secret.md", notes / "sub" / "secret.md")
    result = _check(notes)
    found = [(d.line, d.severity, d.code) for d in result.diagnostics]
    assert found == [(2, "error", "outside-vault"), (3, "error", "outside-vault"),
                     (4, "error", "outside-vault"), (5, "error", "outside-vault")]
    messages = [d.message for d in result.diagnostics]
    assert messages[0] == "'../../etc/passwd' leads outside the notes folder; refused"
    assert messages[2] == "'/etc/hostname' is an absolute path; refused"
    assert messages[3] == "'secret' is a link to a file outside the notes folder; refused"
    back = next(c.back for c in result.cards if c.source.startswith("sub/n.md"))
    assert "the secret" not in back and "fine text" in back


def test_embeds_that_fan_out_are_capped_per_section(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    for level in range(6):  # each note embeds the next ten times: 10**6 leaves uncapped
        # (a line of its own text: a section of only embedded notes makes no card)
        write_note(notes, f"n{level}.md", f"# N{level}\n" + f"![[n{level + 1}]]\n" * 10
                   + "own text\n")
    write_note(notes, "n6.md", "# N6\nleaf text\n")
    result = _check(notes)
    assert len(result.cards) == 7
    limits = [d for d in result.diagnostics if d.code == "embed-limit"]
    assert limits and all(d.severity == "warning" and d.line == 2 for d in limits)
    assert "n0.md" in {d.path for d in limits}
    top = next(c for c in result.cards if c.source == "n0.md › N0")
    assert top.back.count("leaf text") * 2 <= MAX_TRANSCLUDED_LINES


def test_a_40000_line_paragraph_renders_whole(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "p.md", "# P\n" + "".join(f"w{i} line\n" for i in range(40000)))
    result = _check(tmp_path / "notes")
    back = result.cards[0].back
    assert "w0 line" in back and "w39999 line" in back and back.count(" line") == 40000
    assert result.diagnostics == []


def test_2000_missing_images_are_each_reported_on_their_line(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "m.md",
               "# M\n" + "".join(f"![[missing{i}.png]]\n" for i in range(2000)))
    result = _check(tmp_path / "notes")
    assert [(d.line, d.col, d.code) for d in result.diagnostics] == [
        (line, 1, "missing-image") for line in range(2, 2002)]


def test_lines_of_60000_spaces_are_plain_text(tmp_path: Path) -> None:
    spaces = " " * 60000
    write_note(tmp_path / "notes", "s.md", f"# S{spaces}\ntext{spaces}\n{spaces}x\nend ^id\n"
               f"{spaces}^\n\n{spaces}code ^no\n")
    result = _check(tmp_path / "notes")
    assert result.diagnostics == []
    back = result.cards[0].back
    assert result.cards[0].front == "S" and "<p>text" in back and "x<br>\nend<br>" in back
    assert "^id" not in back and "code ^no" in back  # indented code keeps its "^no"


def test_long_runs_of_tag_letters_and_tags_parse_in_one_pass(tmp_path: Path) -> None:
    letters = "a" * 60000
    write_note(tmp_path / "notes", "t.md", f"#{letters}!\n![[{'a.png' * 12000}\n# H "
               + " ".join(["#t"] * 20000) + f"\ntext #{'1' * 60000} #{letters}\n")
    result = _check(tmp_path / "notes")
    assert [c.front for c in result.cards] == ["t", "H"]
    assert result.vault.notes[0].sections[1].tags == {"t"}
    assert letters in result.vault.notes[0].tags


def test_no_internal_placeholder_reaches_a_card(tmp_path: Path) -> None:
    # Found by fuzzing: a footnote citing itself, with an escaped backtick in code.
    write_note(tmp_path / "notes", "f.md", "# F\ntext[^1]\n\n[^1]: [^1] again `![[x \\``\n"
               "raw \x02klzzwxh:0001\x03 and \x0299999999999\x03 control\n")
    result = _check(tmp_path / "notes")
    for card in result.cards:
        assert "\x02" not in card.back and "\x03" not in card.back
    assert "again" in result.cards[0].back and "<code>![[x `</code>" in result.cards[0].back
