"""The inline pass skips text no inline pattern can match: the HTML is what trying every pattern
on every text gives, and a pattern added later is noticed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporter.app.pipeline import Config, check
from exporter.render import obsidian

from .conftest import SAMPLE_ASSETS, SAMPLE_NOTES, write_note

LINES = [
    "plain words only, a comma; and a full stop.", "two spaces end this line  \nnext line",
    "one\nnewline", "see www.example.com and FTP.example.org", "mail me at a@b.co",
    "a link http://example.com/x", "**bold**", "_italic_", "*em*", "~~gone~~", "==marked==",
    "a #tag and a #nested/tag", "math $x^2$ inline", "`code` span", "&amp; &#169; entities",
    "<kbd>Ctrl</kbd> html", "[a link](https://example.com) and ![an image](x.png)",
    "a note[^1]\n\n[^1]: the footnote", "[[Other]] and [[Other#Part|alias]]", "![[Other]]",
    r"an escaped \*star\*", "<https://example.com/auto>", "<someone@example.com>",
    "a term:: its definition", "a ^caret and a block id ^abc123",
]


def _html(root: Path) -> list[str]:
    result = check(Config(notes_dir=root, asset_dirs=[SAMPLE_ASSETS], out_dir=root / "out"))
    return [section.html for note in result.vault.notes for section in note.sections]


def test_skipping_plain_text_changes_no_html(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    notes = tmp_path / "notes"
    write_note(notes, "Other.md", "# Other\n## Part\ntext\n")
    write_note(notes, "Lines.md", "# Lines\n" + "".join(f"\n- {line}\n" for line in LINES)
               + "\n## Paragraphs\n" + "\n\n".join(LINES) + "\n")
    (notes / "Sample.md").write_text((SAMPLE_NOTES / "AWS Other Compute Services.md")
                                     .read_text(encoding="utf-8"), encoding="utf-8")
    quick = _html(notes)
    monkeypatch.setattr(obsidian, "_TRIGGERS", re.compile(""))  # every text tried, as stock
    assert quick == _html(notes)
    assert any("<mark>" in html for html in quick) and any("<br" in html for html in quick)


def test_every_inline_pattern_is_known_to_the_skip(tmp_path: Path) -> None:
    write_note(tmp_path, "n.md", "# N\ntext\n")
    from exporter.render.render import Renderer  # the renderer a build sets up

    made: list[Renderer] = []
    real = Renderer.render_note

    def keep(self: Renderer, note: object) -> object:
        made.append(self)
        return real(self, note)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Renderer, "render_note", keep)
        check(Config(notes_dir=tmp_path, asset_dirs=[], out_dir=tmp_path / "out"))
    md = made[0].md
    names = {item.name for item in md.inlinePatterns._priority}
    assert names == obsidian.INLINE_PATTERNS  # a new pattern: add what it needs to _TRIGGERS
    assert isinstance(md.treeprocessors["inline"], obsidian._QuickInline)
