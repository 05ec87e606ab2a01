"""The command line: a thin Click layer over :func:`exporter.pipeline.export`."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import __version__
from .pipeline import Config, ExportError, Result, export

BUILD_HELP = """Export NOTES_DIR (default: source_notes) to an Anki deck and a PDF cheat sheet.

Writes OUT/<deck>.apkg and OUT/<deck>.pdf. Re-importing a rebuilt deck into Anki updates the
cards in place and keeps their review history.

\b
Examples:
  notes-export build
  notes-export build ~/vault/AWS --assets ~/vault/attachments --deck "AWS SAA"
  notes-export build --no-pdf --strict
"""
DEFAULT_ASSETS = Path("assets")
MAIN_HELP = "Turn Obsidian notes into an Anki deck and a printable PDF cheat sheet."


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def _summary(result: Result, notes_dir: Path) -> list[str]:
    vault = result.vault
    sections = sum(len(n.sections) for n in vault.notes)
    plural = "" if len(vault.notes) == 1 else "s"
    lines = [f"Read {len(vault.notes)} note{plural} ({sections} sections) from {notes_dir}"]
    cards = f"Cards: {len(result.cards)}"
    if result.report:
        r = result.report
        cards += (f" ({r.added} added, {r.changed} changed, {r.unchanged} unchanged, "
                  f"{r.removed} removed since the last build)")
    lines.append(cards)
    lines.append(f"Images embedded: {len(vault.assets)}")
    warnings = len(result.diagnostics) - result.errors
    lines.append(f"Warnings: {warnings}, errors: {result.errors}")
    lines += [f"Wrote {o.path} ({_size(o.size)})" for o in result.outputs]
    return lines


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notes-export")
def main() -> None:
    """Entry point of ``notes-export``."""
    logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s", level=logging.WARNING)
    # WeasyPrint reports font and CSS details the user cannot act on; keep real errors only.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


@main.command(help=BUILD_HELP)
@click.argument("notes_dir", default="source_notes",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assets", "asset_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of pasted images; repeat for several.  [default: assets, if present]")
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--deck", "deck_name", help="Deck name and PDF title (default: from NOTES_DIR).")
@click.option("--strict", is_flag=True, help="Exit with code 1 on any warning.")
@click.option("--no-pdf", is_flag=True, help="Do not write the PDF.")
@click.option("--no-anki", is_flag=True, help="Do not write the Anki deck.")
def build(notes_dir: Path, asset_dirs: tuple[Path, ...], out_dir: Path, deck_name: str | None,
          strict: bool, no_pdf: bool, no_anki: bool) -> None:
    """Run the export and print diagnostics and a summary."""
    if not asset_dirs:
        asset_dirs = tuple(p for p in [DEFAULT_ASSETS] if p.is_dir())
    config = Config(notes_dir=notes_dir, asset_dirs=list(asset_dirs), out_dir=out_dir,
                    deck_name=deck_name, write_anki=not no_anki, write_pdf=not no_pdf)
    try:
        result = export(config)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # never a traceback for the user; the message says what broke
        raise click.ClickException(f"unexpected {type(exc).__name__}: {exc}") from exc
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.format(), err=True)
    for line in _summary(result, notes_dir):
        click.echo(line)
    if result.errors or (strict and result.diagnostics):
        raise SystemExit(1)
