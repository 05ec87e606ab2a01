"""Parsing and rendering Obsidian Markdown as Obsidian shows it, on small vaults on disk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporter.app.pipeline import Config, load_vault
from exporter.core.model import Vault
from exporter.read.parse import split_sections
from exporter.render.obsidian import normalize_lines, split_target

from .conftest import SAMPLE_ASSETS, SAMPLE_NOTE, SAMPLE_NOTES, write_note


def _vault(notes: Path, assets: Path | None = None) -> Vault:
    return load_vault(Config(notes_dir=notes, asset_dirs=[assets] if assets else []))


def _html(vault: Vault, front: str) -> str:
    for note in vault.notes:
        for section in note.sections:
            if " › ".join(section.path) == front:
                return section.html
    raise KeyError(front)


def test_sample_heading_tree_with_skipped_levels() -> None:
    text = (SAMPLE_NOTES / SAMPLE_NOTE).read_text(encoding="utf-8")
    note = split_sections(text, SAMPLE_NOTE, "AWS Other Compute Services")
    paths = [(" › ".join(s.path), s.level, s.has_content) for s in note.sections]
    assert ("AWS Lambda › Example", 2, False) in paths
    assert ("AWS Batch › Example", 4, True) in paths  # '####' straight under '#'
    assert ("AWS Batch › Batch vs Lambda", 3, True) in paths  # '###' after that '####'
    assert sum(1 for _, _, content in paths if content) == 16
    assert [s.line for s in note.sections][:3] == [1, 9, 16]


def test_headings_inside_code_fences_are_not_sections() -> None:
    note = split_sections("# A\n```\n# not a heading\n```\n## B\ntext", "n.md", "n")
    assert [s.path for s in note.sections] == [("A",), ("A", "B")]


def test_front_matter_is_not_content() -> None:
    note = split_sections("---\ntitle: x\n---\n# A\nbody", "n.md", "n")
    assert [s.path for s in note.sections] == [("A",)]
    assert note.sections[0].line == 4


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Docker", ("Docker", "", None)),
        ("EC2#EBS Volume\\|EBS", ("EC2", "EBS Volume", "EBS")),
        ("Databases & Analytics#Amazon RDS|RDS", ("Databases & Analytics", "Amazon RDS", "RDS")),
        ("#ECS", ("", "ECS", None)),
    ],
)
def test_wikilink_targets(raw: str, expected: tuple[str, str, str | None]) -> None:
    assert split_target(raw) == expected


def test_sample_renders_links_lists_and_table() -> None:
    vault = _vault(SAMPLE_NOTES, SAMPLE_ASSETS)
    assert vault.diagnostics == []
    ecs = _html(vault, "ECS")
    assert '<span class="wikilink">Docker</span>' in ecs
    assert "[[" not in ecs and "![[" not in ecs
    eks = _html(vault, "Amazon EKS")
    # the tab-nested bullets are a nested list, and [[#Fargate]] links into the sheet
    assert '<ul>\n<li><span class="wikilink">EC2</span> instances</li>' in eks
    assert '<a class="internal" href="#aws-other-compute-services--fargate">Fargate</a>' in eks
    benefits = _html(vault, "AWS Lambda › Benefits")
    assert benefits.count("<ul>") == 4
    assert "<strong>Event-Driven</strong>" in benefits
    table = _html(vault, "AWS Batch › Batch vs Lambda")
    assert table.count("<td>") == 8
    assert "<th><strong>Lambda</strong></th>" in table
    assert ('<td>Rely on <span class="wikilink">EBS</span> / '
            '<span class="wikilink">Instance Store</span> for disk space</td>') in table
    lightsail = _html(vault, "Amazon Lightsail")
    assert '<span class="wikilink">RDS</span>' in lightsail
    assert '<span class="wikilink">ELB</span>' in lightsail
    pricing = _html(vault, "AWS Lambda › Pricing")
    assert '<a href="https://aws.amazon.com/lambda/pricing/">AWS Lambda Pricing</a>' in pricing


def test_every_sample_embed_resolves_to_its_asset() -> None:
    vault = _vault(SAMPLE_NOTES, SAMPLE_ASSETS)
    # media are named by content: name-<12 hex digits of the bytes' SHA-256>.png
    assert sorted(re.sub(r"-[0-9a-f]{12}\.png$", ".png", n) for n in vault.assets) == \
        sorted(p.name.lower() for p in SAMPLE_ASSETS.glob("*.png"))
    assert len(vault.assets) == 11
    html = _html(vault, "AWS Batch › Example")
    assert re.fullmatch(r'<p><img alt="Pasted image 20250218111044.png" '
                        r'src="pasted image 20250218111044-[0-9a-f]{12}\.png"></p>', html.strip())


def test_obsidian_lists_start_under_text_and_nest_with_spaces() -> None:
    lines = normalize_lines(["Use cases:", "- one", "  - two", "    - three", "- four",
                             "1. first"])
    assert lines == ["Use cases:", "", "- one", "    - two", "        - three", "- four", "",
                     "1. first"]


def test_image_embed_forms_and_case_insensitive_match(tmp_path: Path) -> None:
    notes, assets = tmp_path / "notes", tmp_path / "assets"
    assets.mkdir()
    (assets / "Diagram.PNG").write_bytes((SAMPLE_ASSETS / "Pasted image 20250217143901.png")
                                         .read_bytes())
    write_note(notes, "n.md", "# Images\n![[Diagram.PNG]]\n![[diagram.png|300]]\n"
               "![[Diagram.PNG|300x200]]\n![alt text](Diagram.PNG)\n![[nowhere.png]]\n")
    vault = _vault(notes, assets)
    html = _html(vault, "Images")
    assert len(re.findall(r'src="diagram-[0-9a-f]{12}\.png"', html)) == 4
    assert 'width="300"' in html and 'height="200"' in html
    assert 'alt="alt text"' in html
    assert '<span class="missing-image">Missing image: nowhere.png</span>' in html
    assert [d.format() for d in vault.diagnostics] == [
        "n.md:6:1: warning: image 'nowhere.png' not found in the assets or notes folders "
        "[missing-image]"]


def test_same_file_name_in_two_folders_gets_two_media_names(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    png = (SAMPLE_ASSETS / "Pasted image 20250217143901.png").read_bytes()
    for folder in ("a", "b"):
        (notes / folder).mkdir(parents=True)
        (notes / folder / "diagram.png").write_bytes(png + folder.encode())
        write_note(notes, f"{folder}/Note {folder}.md", "# H\n![[diagram.png]]\n")
    vault = _vault(notes)
    assert len(vault.assets) == 2
    assert {a.path.parent.name for a in vault.assets.values()} == {"a", "b"}
    # both get a name of their own, whichever note uses one first
    assert all(re.fullmatch(r"diagram-[0-9a-f]{12}\.png", name) for name in vault.assets)


def test_tags_become_note_tags_and_stay_in_the_text(tmp_path: Path) -> None:
    write_note(tmp_path, "n.md", "# A\n#flashcards/aws\ntext with #inline tag, a#b and "
               "[link](#frag)\n")
    vault = _vault(tmp_path)
    assert vault.notes[0].tags == {"flashcards/aws", "inline"}
    html = _html(vault, "A")
    # a line of only tags is hidden; a tag in a sentence stays, styled as Obsidian shows it
    assert '<span class="tag">#inline</span>' in html and "flashcards" not in html
    assert "a#b" in html and 'href="#frag"' in html


def test_comments_are_dropped(tmp_path: Path) -> None:
    write_note(tmp_path, "n.md", "# A\nkeep %%inline%% this\n%%\nblock\n%%\nend\n")
    html = _html(_vault(tmp_path), "A")
    assert "inline" not in html and "block" not in html
    assert "keep" in html and "end" in html


def test_missing_heading_link_is_a_located_warning(tmp_path: Path) -> None:
    write_note(tmp_path, "n.md", "# A\nsee [[#A]]\n\nand [[#Nope]]\n")
    vault = _vault(tmp_path)
    assert [d.format() for d in vault.diagnostics] == [
        "n.md:4:5: warning: link to heading '#Nope' that does not exist in 'n.md' "
        "[missing-heading]"]
