"""Diagnostics and the build summary as text, JSON or GitHub Actions workflow commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

from exporter.app.writers import Result
from exporter.cards.cards import NOTHING_SHOWN, ONLY_HEADING, TABLE_OF_CONTENTS
from exporter.core.config import Config
from exporter.core.model import Diagnostic
from exporter.deck.anki import REMOVED_TAG, DeckReport

FORMATS = ("text", "json", "github")


def summary_lines(result: Result, config: Config) -> list[str]:
    """The short human summary printed after a run."""
    vault = result.vault
    plural = "" if len(vault.notes) == 1 else "s"
    lines = [f"Read {len(vault.notes)} note{plural} ({result.sections} sections) from "
             f"{place(config.notes_dir)}"]
    if vault.left_out:
        lines.append(f"Left out {vault.left_out} note{'' if vault.left_out == 1 else 's'} "
                     "not chosen by --include, --exclude or --tag")
    cards = f"Cards: {len(result.cards)}"
    if result.report:
        r = result.report
        cards += (f" ({r.added} added, {r.changed} changed, {r.unchanged} unchanged, "
                  f"{r.removed} removed since the last build)")
    lines.append(cards)
    if result.sections_left_out:
        lines.append(left_out_line(result.sections_left_out))
    if result.report:
        lines += _history_lines(result.report)
    lines.append(f"Images embedded: {len(vault.assets)}")
    notices = len(result.vault.diagnostics) - result.warnings - result.errors
    lines.append(f"Warnings: {result.warnings}, errors: {result.errors}"
                 + (f", notices: {notices}" if notices else ""))
    lines += [f"Wrote {shown(o.path)} ({_size(o.size)})" for o in result.outputs]
    lines += [f"PDF {note}" for note in result.fitted]
    if result.outputs and config.out_ignored:
        lines.append(out_line(config))
    return lines


# How the summary names each reason a section makes no card (cards.section_left_out), in order.
_WHY = {TABLE_OF_CONTENTS: ("table of contents", "tables of contents"),
        ONLY_HEADING: ("only a heading", "only a heading"),
        NOTHING_SHOWN: ("with nothing to show", "with nothing to show")}


def left_out_line(counts: dict[str, int]) -> str:
    """One line for every section that made no card: how many, by why."""
    said = [f"{counts[why]} {names[counts[why] != 1]}" for why, names in _WHY.items()
            if counts.get(why)]
    return "Sections without a card: " + ", ".join(said)


def out_line(config: Config) -> str:
    """Where the default output folder went when it lies inside the notes folder, and why."""
    out = shown(config.out_dir)
    return (f"Outputs are in {out}/ inside the notes folder: never read as notes; "
            f"{out}/.gitignore keeps them out of git (--out names another folder)")


def shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies inside it, else as given."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def place(notes_dir: Path) -> str:
    """The notes folder as the summary names it: the current folder by its name."""
    if notes_dir.resolve() == Path.cwd().resolve():
        return f"the current folder ({notes_dir.resolve().name})"
    return shown(notes_dir)


def _history_lines(report: DeckReport) -> list[str]:
    """Renamed and moved cards that kept their history; removed cards, by name."""
    lines = []
    if report.renamed or report.moved:
        lines.append(f"{report.renamed} renamed, {report.moved} moved (history kept)")
    if report.removed_cards:
        shown = report.removed_cards[:_LISTED]
        more = len(report.removed_cards) - len(shown)
        what = (f"sent once more, tagged {REMOVED_TAG}" if report.tagged else
                "still in Anki: `notes-export sync` deletes them, --tag-removed tags them")
        lines.append(f"Removed cards ({what}):")
        lines += [f"  - {name}" for name in shown] + ([f"  … and {more} more"] if more else [])
    return lines


_LISTED = 20


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def github_line(diagnostic: Diagnostic, notes_dir: Path) -> str:
    """A ``::warning file=…,line=…::…`` command, the file relative to the working directory."""
    path = _repo_path(notes_dir / diagnostic.path)
    props = (f"file={_escape_property(path)},line={diagnostic.line},col={diagnostic.col},"
             f"title={_escape_property('notes-export ' + diagnostic.code)}")
    return f"::{diagnostic.severity} {props}::{_escape_data(diagnostic.message)}"


def _repo_path(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def json_document(result: Result, notes_dir: Path) -> str:
    """One machine-readable document: diagnostics, counts and outputs."""
    report = result.report
    document = {
        "notes_dir": str(notes_dir),
        "diagnostics": [
            {"path": d.path, "line": d.line, "col": d.col, "severity": d.severity,
             "message": d.message, "code": d.code} for d in result.diagnostics],
        "summary": {
            "notes": len(result.vault.notes), "sections": result.sections,
            **({"left_out": result.vault.left_out} if result.vault.left_out else {}),
            **({"sections_left_out": result.sections_left_out}
               if result.sections_left_out else {}),
            **({"fitted": result.fitted} if result.fitted else {}),
            "cards": len(result.cards), "images": len(result.vault.assets),
            "warnings": result.warnings, "errors": result.errors,
            **({"added": report.added, "changed": report.changed,
                "unchanged": report.unchanged, "removed": report.removed,
                "renamed": report.renamed, "moved": report.moved,
                "removed_cards": list(report.removed_cards)} if report else {}),
        },
        "outputs": [{"path": str(o.path), "size": o.size} for o in result.outputs],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
