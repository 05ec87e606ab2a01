"""The README a newcomer reads in minutes, and the documentation site: every config key and
option documented, every link leading somewhere, every page in the site's navigation."""

from __future__ import annotations

import re

import click
import yaml

from exporter.cli import main
from exporter.core import config

from .conftest import ROOT

DOCS = ROOT / "docs"
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert blocks[:2] == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/notes-export build",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"]
    assert blocks[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # CI runs it


def test_every_config_key_is_documented() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^(\w+) = ", page, re.M))
    assert documented == {*config._KEYS, *config.TABLE_KEYS}


def test_every_option_of_every_command_is_documented() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert isinstance(main, click.Group)
    missing = [f"{name} {opt}" for name, command in main.commands.items()
               for param in command.params if isinstance(param, click.Option)
               for opt in param.opts if opt.startswith("--") and f"`{opt}" not in page
               and opt != "--help"]
    assert missing == []


def test_every_link_in_the_readme_and_the_docs_leads_to_a_file() -> None:
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    broken = [f"{page.name}: {target}" for page in pages
              for target in _LINK.findall(page.read_text(encoding="utf-8"))
              if "://" not in target and not (page.parent / target).exists()]
    assert broken == []


def test_every_docs_page_is_in_the_sites_navigation() -> None:
    site = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = {next(iter(entry.values())) for entry in site["nav"]}
    assert listed == {page.name for page in DOCS.glob("*.md")}
    assert site["strict"] is True
