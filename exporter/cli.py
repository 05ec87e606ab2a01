"""The command line: a thin Click layer over :mod:`exporter.pipeline`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from exporter import __version__
from exporter.app import report
from exporter.app.pipeline import check, export
from exporter.app.writers import Result
from exporter.core import kinds
from exporter.core.config import LAYOUTS, PAPERS, SAMPLE_NOTES, Config
from exporter.core.config import load as load_config
from exporter.core.errors import ConfigError, ExportError, describe, internal
from exporter.core.model import Diagnostic, Progress
from exporter.read.vault import is_vault

MAIN_HELP = "Turn Obsidian notes into an Anki deck and a printable PDF cheat sheet."
NOTES_DIR_HELP = """With no NOTES_DIR: source_notes/ when it is here, else the current folder when
it is a vault (.obsidian/ or .md notes). OUT is never read as notes; the default OUT inside the
notes folder gets a .gitignore that keeps it out of git."""
BUILD_HELP = f"""Export NOTES_DIR to an Anki deck and a PDF cheat sheet.

Writes OUT/<deck>.apkg and OUT/<deck>.pdf. Re-importing a rebuilt deck into Anki updates the
cards in place and keeps their review history.

{NOTES_DIR_HELP}

\b
Examples:
  notes-export build
  notes-export build ~/vault/AWS --assets ~/vault/attachments --deck "AWS SAA"
  notes-export build --no-pdf --strict
  notes-export build --layout handout --paper letter
  notes-export build ~/vault --pdf-per folder --html --css my-sheet.css
  notes-export build ~/vault --tag exam/final --exclude "Drafts/*" --pages 2
"""
WATCH_HELP = """Build NOTES_DIR, then rebuild on every save, until Ctrl-C.

Each rebuild prints the problems of the notes that changed. With --pdf-per note or folder,
only the PDFs whose content changed are laid out again.

\b
Examples:
  notes-export watch
  notes-export watch ~/vault --pdf-per folder --no-anki
"""
CHECK_HELP = f"""Check NOTES_DIR and report every problem; write nothing but the note cache
of OUT, when a build made OUT already.

{NOTES_DIR_HELP}

Missing images, links to headings that do not exist, broken front matter, embeds that leave the
vault, notes that are not UTF-8, duplicate card identities, and more.

\b
Examples:
  notes-export check
  notes-export check --strict --check-links
  notes-export check --format github     # annotations on a pull request's lines
  notes-export check --format json > diagnostics.json
"""


def default_notes_dir() -> Path:
    """The notes folder when none is named: ``source_notes`` when it is here, else the current
    folder when it is a vault (``.obsidian/`` or a Markdown note)."""
    if SAMPLE_NOTES.is_dir():
        return SAMPLE_NOTES
    here = Path(".")
    if is_vault(here):
        return here
    raise ConfigError(f"no notes found in '{here.resolve()}': no {SAMPLE_NOTES}/ folder, no "
                      ".obsidian/ folder and no Markdown (.md) notes; run in your vault or name "
                      "the notes folder (NOTES_DIR)")


def _card_kinds(ctx: click.Context, param: click.Parameter, value: str | None
                ) -> tuple[str, ...] | None:
    if value is None:
        return None
    chosen = tuple(k.strip() for k in value.split(",") if k.strip())
    wrong = [k for k in chosen if k not in kinds.names()]
    if wrong:
        raise click.BadParameter(f"unknown card kind {wrong[0]!r}; choose from "
                                 + ", ".join(kinds.names()))
    return chosen


def _with(*options: Callable[[Any], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator applying Click options in the order they are listed."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


_COMMON = [
    click.argument("notes_dir", required=False,
                   type=click.Path(exists=True, file_okay=False, path_type=Path)),
    click.option("--assets", "asset_dirs", multiple=True,
                 type=click.Path(exists=True, file_okay=False, path_type=Path),
                 help="Folder of pasted images; repeat for several.  "
                      "[default: assets, if present and not inside NOTES_DIR]"),
    click.option("-c", "--config", "config_file",
                 type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Read this config file (notes-export.toml, or a pyproject.toml's "
                      "[tool.notes-export]) instead of the one beside NOTES_DIR."),
    click.option("--format", "fmt", type=click.Choice(report.FORMATS), default="text",
                 show_default=True, help="How to print diagnostics and the summary."),
    click.option("--strict", is_flag=True, help="Exit with code 1 on any warning."),
    click.option("-q", "--quiet", is_flag=True,
                 help="Print problems only: no summary, no progress."),
    click.option("-v", "--verbose", is_flag=True,
                 help="Also log what each stage does, and why a step failed."),
    click.option("--check-links", is_flag=True,
                 help="Also warn about wikilinks to notes that are not in NOTES_DIR."),
    click.option("--allow-remote", is_flag=True,
                 help="Fetch http(s) images into the deck and PDF (default: keep as links)."),
    click.option("--allow-private-remote", is_flag=True,
                 help="With --allow-remote, also fetch from loopback, private and link-local "
                      "addresses (not settable in a config file)."),
    click.option("--cards", "card_kinds", callback=_card_kinds, metavar="KINDS",
                 help="Card kinds, comma-separated: " + ", ".join(kinds.names())
                      + "  [default: " + ",".join(kinds.defaults()) + "]"),
    click.option("--cloze-highlights", is_flag=True,
                 help="Turn ==highlights== into cloze deletions."),
    click.option("--section-cards", type=click.Choice(["auto", "always", "never"]),
                 default="auto", show_default=True,
                 help="A card per section: auto makes none for a note written for a flashcard "
                      "plugin (#card, #flashcards, cards-deck:), as the plugins make none."),
    click.option("--vault-name", help="Obsidian vault name: cards link back to their note."),
    click.option("--include", multiple=True, metavar="GLOB",
                 help="Only notes whose path (relative to NOTES_DIR) matches; repeatable."),
    click.option("--exclude", multiple=True, metavar="GLOB",
                 help="Leave out notes whose path matches; repeatable."),
    click.option("--tag", "tags", multiple=True, metavar="TAG",
                 help="Only notes carrying TAG (or a tag nested under it); repeatable."),
]
_SHEET = [
    click.option("--layout", type=click.Choice(LAYOUTS), default="cheatsheet",
                 show_default=True,
                 help="cheatsheet: landscape, 3 columns, 7.8 pt; handout: portrait, "
                      "2 columns, 9.5 pt."),
    click.option("--paper", type=click.Choice(sorted(PAPERS)), default="a4",
                 show_default=True, help="Paper size."),
    click.option("--orientation", type=click.Choice(["portrait", "landscape"]),
                 help="Override the layout's orientation."),
    click.option("--columns", type=click.IntRange(1, 6),
                 help="Override the layout's number of columns."),
    click.option("--font-size", type=click.FloatRange(5, 16),
                 help="Base font size in points."),
    click.option("--css", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Your stylesheet, applied after ours."),
    click.option("--pdf-per", type=click.Choice(["note", "folder"]),
                 help="One PDF per note or per top-level folder, in OUT/<deck>/."),
    click.option("--html", "write_html", is_flag=True,
                 help="Also write the HTML that was laid out, beside each PDF."),
    click.option("--pages", type=click.IntRange(1, 99),
                 help="Fit the sheet to this many pages (largest font size that fits)."),
    click.option("--min-font-size", type=click.FloatRange(4, 16),
                 help="Smallest font size --pages may choose, in points.  [default: 6]"),
    click.option("--no-glance", is_flag=True, help="Leave out the At a glance table."),
    click.option("--header", metavar="TEXT",
                 help='Page header: "left | centre | right" with {title} {date} {source} '
                      "{page} {pages}."),
    click.option("--footer", metavar="TEXT",
                 help='Page footer, as --header.  [default: "{title} | page {page} of '
                      '{pages}"]'),
]
_BUILD = [
    click.option("-o", "--out", "out_dir", default="dist", show_default=True,
                 type=click.Path(file_okay=False, path_type=Path), help="Output folder."),
    click.option("--deck", "deck_name",
                 help="Deck name and PDF title (default: from NOTES_DIR)."),
    click.option("--no-pdf", is_flag=True, help="Do not write the PDF."),
    click.option("--no-anki", is_flag=True, help="Do not write the Anki deck."),
    click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
                 help="The previous build's state: read, then rewritten (a file you may "
                      "commit).  [default: OUT/.<deck>.notes-export.json]"),
    click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Read the previous deck (.apkg) as the state, e.g. a CI artifact."),
    click.option("--tag-removed", is_flag=True,
                 help="Send removed cards once more, tagged notes-export::removed."),
]
_SYNC = [
    click.option("--collection", type=click.Path(dir_okay=False, path_type=Path),
                 help="The Anki collection file (collection.anki2 in your profile's folder)."),
    click.option("--profile", metavar="NAME",
                 help="Anki profile whose collection to sync (found in Anki's data folder)."),
    click.option("--base", "anki_base", type=click.Path(file_okay=False, path_type=Path),
                 help="Anki's data folder, when not the usual one (Anki's own --base)."),
    click.option("--dry-run", is_flag=True, help="List what would change; change nothing."),
    click.option("--upgrade", is_flag=True,
                 help="Allow upgrading an older collection's schema (older Anki versions then "
                      "cannot open it)."),
    _BUILD[0], _BUILD[1], _BUILD[4], _BUILD[5],  # --out, --deck, --state, --previous
]
# How --help groups each command's options (Click's own sections: no extra dependency for
# what is a few lines here); tests/test_cli.py checks that every option has its section.
_SECTIONS: dict[str, tuple[str, ...]] = {
    "Notes": ("config_file", "asset_dirs", "include", "exclude", "tags", "check_links",
              "allow_remote", "allow_private_remote", "vault_name"),
    "Cards": ("card_kinds", "section_cards", "cloze_highlights", "deck_name", "state_file",
              "previous", "tag_removed"),
    "Outputs": ("out_dir", "no_pdf", "no_anki", "write_html", "pdf_per"),
    "Cheat sheet": ("layout", "paper", "orientation", "columns", "font_size", "css", "pages",
                    "min_font_size", "no_glance", "header", "footer"),
    "Sync": ("collection", "profile", "anki_base", "dry_run", "upgrade"),
    "Reporting": ("fmt", "strict", "quiet", "verbose", "help"),
}
OTHER_SECTION = "Other options"


def section_of(name: str | None) -> str:
    """The --help section an option is listed in."""
    return next((title for title, names in _SECTIONS.items() if name in names), OTHER_SECTION)


class _SectionedCommand(click.Command):
    """A command whose --help lists its options in sections (Notes, Cards, Outputs, …)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        groups: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                groups.setdefault(section_of(param.name), []).append(record)
        for title in [*_SECTIONS, OTHER_SECTION]:
            if title in groups:
                with formatter.section(title):
                    formatter.write_dl(groups[title])


_common = _with(*_COMMON)
_build_options = _with(*_BUILD, *_SHEET)


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notes-export")
def main() -> None:
    """Entry point of ``notes-export``."""
    logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s", level=logging.WARNING)
    # WeasyPrint reports font and CSS details the user cannot act on; keep real errors only.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # watchfiles says "KeyboardInterrupt caught, stopping watch" at Ctrl-C: the user knows
    logging.getLogger("watchfiles").setLevel(logging.ERROR)


@main.command(help=BUILD_HELP, cls=_SectionedCommand)
@_common
@_build_options
@click.pass_context
def build(ctx: click.Context, /, notes_dir: Path | None, fmt: str, strict: bool, quiet: bool,
          verbose: bool, **options: Any) -> None:
    """Run the export and print diagnostics and a summary."""
    _once(ctx, export, notes_dir, fmt, strict, quiet, verbose, options)


@main.command(name="check", help=CHECK_HELP, cls=_SectionedCommand)
@_common
@click.option("-o", "--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Output folder of your builds: its note cache is used when it exists.")
@click.pass_context
def check_command(ctx: click.Context, /, notes_dir: Path | None, fmt: str, strict: bool,
                  quiet: bool, verbose: bool, **options: Any) -> None:
    """Parse everything and report problems without writing outputs."""
    _once(ctx, check, notes_dir, fmt, strict, quiet, verbose, options)


def _once(ctx: click.Context, action: Callable[[Config, Progress | None], Result],
          notes_dir: Path | None, fmt: str, strict: bool, quiet: bool, verbose: bool,
          options: dict[str, Any]) -> None:
    """What ``build`` and ``check`` share: configure, run, report, set the exit code."""
    _logging(verbose)
    config = _config(ctx, notes_dir, options)
    _finish(_run(action, config, quiet), config, fmt, strict, quiet)


@main.command(name="watch", help=WATCH_HELP, cls=_SectionedCommand)
@_common
@_build_options
@click.pass_context
def watch_command(ctx: click.Context, /, notes_dir: Path | None, fmt: str, strict: bool,
                  quiet: bool, verbose: bool, **options: Any) -> None:
    """Build, then rebuild on every change until interrupted."""
    from exporter.app.watch import watch

    _logging(verbose)
    config = _config(ctx, notes_dir, options)
    shown = report.place(config.notes_dir)
    progress = _progress(quiet)

    def print_round(outcome: Result | ExportError, changed: set[str] | None) -> None:
        if progress is not None:
            progress.close()  # the round's progress line, before what it found
        if isinstance(outcome, ExportError):
            click.echo(f"Error: {outcome}", err=True)
            return
        _print_diagnostics([d for d in outcome.diagnostics
                            if changed is None or d.path in changed], config.notes_dir, fmt)
        when = "Built" if changed is None else f"Rebuilt after {len(changed)} changed note(s)"
        if not quiet:
            click.echo(f"{when}: {len(outcome.cards)} cards, {outcome.warnings} warnings, "
                       f"{outcome.errors} errors; watching {shown}; Ctrl-C stops")
            if changed is None and config.out_ignored:
                click.echo(report.out_line(config))

    try:
        watch(config, print_round, progress=progress)
    except KeyboardInterrupt:
        pass  # Ctrl-C during a round: stop as quietly as between rounds
    except Exception as exc:
        raise _failure(exc) from exc
    finally:
        if progress is not None:
            progress.close()


SYNC_HELP = """Write NOTES_DIR's cards straight into an Anki collection (Anki must be closed).

Adds and updates notes as an import would (same identities, review history kept), moves cards
whose deck changed, and deletes the notes whose cards left the vault: only notes of this tool's
note types that this vault made, each printed first. A second sync with no edits changes
nothing. --dry-run works on a copy: the collection keeps every byte. An older
collection's schema is upgraded only with --upgrade (older Anki versions then cannot open it).
Needs Anki's library: pip install 'anki>=25.2,<27' beside notes-export.

\b
Examples:
  notes-export sync --profile "User 1" --dry-run
  notes-export sync --collection ~/.local/share/Anki2/"User 1"/collection.anki2 --dry-run
  notes-export sync ~/vault/AWS --collection ~/Anki2/"User 1"/collection.anki2
"""


@main.command(name="sync", help=SYNC_HELP, cls=_SectionedCommand)
@_common
@_with(*_SYNC)
@click.pass_context
def sync_command(ctx: click.Context, /, notes_dir: Path | None, fmt: str, strict: bool,
                 quiet: bool, verbose: bool, collection: Path | None, profile: str | None,
                 anki_base: Path | None, dry_run: bool, upgrade: bool,
                 **options: Any) -> None:
    """Sync the vault's cards into a collection and print what changed."""
    from exporter.app.sync import sync
    from exporter.deck.profiles import ProfileError, find_collection

    if (collection is None) == (profile is None):
        raise click.UsageError("name the collection with --collection FILE or --profile NAME "
                               "(one of the two)")
    if collection is None:
        try:
            collection = find_collection(profile or "", anki_base)
        except ProfileError as exc:
            raise click.UsageError(str(exc)) from exc
    _logging(verbose)
    config = _config(ctx, notes_dir, options)
    plans = []

    def run(config: Config, progress: Progress | None) -> Result:
        echo = (lambda line: click.echo(line, err=True)) if fmt == "json" else click.echo
        result, plan = sync(config, collection, dry_run, echo, upgrade)
        plans.append(plan)
        return result

    result = _run(run, config, quiet)
    if not quiet:
        verb = "Would change" if dry_run else "Synced"
        click.echo(f"{verb} {collection}: {plans[0].summary()}", err=fmt == "json")
    _finish(result, config, fmt, strict, quiet=True)  # the build summary is not sync's


def _config(ctx: click.Context, notes_dir: Path | None, options: dict[str, Any]) -> Config:
    """The config file's values, overridden by the options given on the command line; with no
    NOTES_DIR, the notes here (config.default_notes_dir)."""
    given: dict[str, Any] = {}
    config_file = options.pop("config_file", None)
    for name, value in options.items():
        if ctx.get_parameter_source(name) in (None, ParameterSource.DEFAULT):
            continue
        if name in ("no_pdf", "no_anki"):
            given["write_" + name[3:]] = not value
        elif name == "no_glance":
            given["glance"] = not value
        elif name in ("asset_dirs", "include", "exclude", "tags"):
            given[name] = list(value)
        else:
            given[name] = value
    try:
        return load_config(default_notes_dir() if notes_dir is None else notes_dir, given,
                           config_file)
    except ConfigError as exc:
        raise _ConfigProblem(str(exc)) from exc


class _ConfigProblem(click.ClickException):
    """A bad config file is a usage error: exit code 2."""

    exit_code = 2


def _run(action: Callable[[Config, Progress | None], Result], config: Config,
         quiet: bool) -> Result:
    progress = _progress(quiet)
    try:
        return action(config, progress)
    except Exception as exc:
        raise _failure(exc) from exc
    finally:
        if progress is not None:
            progress.close()


def _failure(exc: Exception) -> click.ClickException:
    """Our errors say their message; known library errors what failed; the rest are bugs."""
    if isinstance(exc, ExportError):
        return click.ClickException(str(exc))
    # never a traceback for the user: it goes to the debug log, which -v prints (_logging)
    logging.getLogger(__name__).debug("the export failed", exc_info=True)
    return click.ClickException(describe(exc) or internal(exc))


class _TerminalProgress:
    """One line on stderr, rewritten in place; only when stderr is a terminal."""

    def __init__(self) -> None:
        self.width = 0

    def __call__(self, what: str, done: int, total: int) -> None:
        line = f"{what}: {done}/{total}"
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


def _progress(quiet: bool) -> _TerminalProgress | None:
    return _TerminalProgress() if not quiet and sys.stderr.isatty() else None


def _logging(verbose: bool) -> None:
    """With --verbose, the library's debug log (tracebacks of failed steps) goes to stderr."""
    logger = logging.getLogger("exporter")
    logger.handlers.clear()
    logger.propagate = not verbose
    logger.setLevel(logging.DEBUG if verbose else logging.NOTSET)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
        logger.addHandler(handler)


def _print_diagnostics(diagnostics: list[Diagnostic], notes_dir: Path, fmt: str) -> None:
    """GitHub workflow commands on stdout, or ``path:line:col: …`` lines on stderr."""
    for diagnostic in diagnostics:
        if fmt == "github":
            click.echo(report.github_line(diagnostic, notes_dir))
        else:
            click.echo(diagnostic.format(), err=True)


def _finish(result: Result, config: Config, fmt: str, strict: bool, quiet: bool) -> None:
    """Print diagnostics and summary in the chosen format; exit 1 on errors (or strict)."""
    if fmt == "json":
        click.echo(report.json_document(result, config.notes_dir))
    else:
        _print_diagnostics(result.diagnostics, config.notes_dir, fmt)
        for line in [] if quiet else report.summary_lines(result, config):
            click.echo(line)
    if result.errors or (strict and result.warnings):
        click.echo(exit_reason(result.errors, result.warnings, strict), err=True)
        raise SystemExit(1)


def exit_reason(errors: int, warnings: int, strict: bool) -> str:
    """The last line of a run that exits with code 1 for what it found in the notes."""
    if errors:
        return f"Exit code 1: {errors} error{'' if errors == 1 else 's'} in the notes (above)"
    return (f"Exit code 1: --strict, and {warnings} warning{'' if warnings == 1 else 's'} in "
            "the notes (above)")
