"""The export in one place: the stages in order, from a notes folder to a deck and a PDF."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from exporter.app.deck_writer import DeckWriter
from exporter.app.sheet_writer import SheetWriter
from exporter.app.writers import Build, Writer
from exporter.cards import cards
from exporter.core import kinds, processes
from exporter.core.config import GITIGNORE, Config
from exporter.core.errors import ExportError, NoteError
from exporter.core.model import Card, Diagnostic, Progress, Vault
from exporter.deck import anki, history
from exporter.deck.state import State
from exporter.read import flashcards, plugins, select
from exporter.read.parse import read_note, split_sections
from exporter.read.vault import AssetIndex, attachment_folder, find_notes, note_attachment_folder
from exporter.render import notecache
from exporter.render.remote import RemoteImages
from exporter.render.render import NoteRendering, Renderer

log = logging.getLogger(__name__)


@dataclass
class Output:
    """A file the export wrote."""

    path: Path
    size: int


@dataclass
class Result:
    """What an export did, for the summary and for tests."""

    vault: Vault
    cards: list[Card]
    outputs: list[Output] = field(default_factory=list)
    report: anki.DeckReport | None = None
    fitted: list[str] = field(default_factory=list)  # what --pages chose, per PDF
    sections_left_out: dict[str, int] = field(default_factory=dict)  # by why (cards.py)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """All problems found, in note and line order."""
        return sorted(self.vault.diagnostics, key=lambda d: (d.path, d.line, d.col, d.message))

    @property
    def errors(self) -> int:
        """How many diagnostics are errors."""
        return sum(1 for d in self.vault.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> int:
        """How many diagnostics are warnings."""
        return sum(1 for d in self.vault.diagnostics if d.severity == "warning")

    @property
    def sections(self) -> int:
        """How many sections the notes hold."""
        return sum(len(n.sections) for n in self.vault.notes)


def check(config: Config, progress: Progress | None = None) -> Result:
    """Parse and render everything and make the cards, but write nothing and lay out no PDF."""
    processes.remove_stale_folders()  # those of a build that was killed
    with processes.temporary_folder() as work:
        # the note cache of an earlier build is used, but no output folder is made for it
        return _check(config, Path(work), progress, config.out_dir.is_dir())


def export(config: Config, progress: Progress | None = None) -> Result:
    """Run every stage: read notes, render, make cards, write the deck, write the PDF."""
    processes.remove_stale_folders()  # those of a build that was killed
    with processes.temporary_folder() as work:
        return _export(config, Path(work), progress)


# The outputs of ``build``, in the order they are written; a new output is one line here.
WRITERS: list[Writer] = [DeckWriter(), SheetWriter()]


def _check(config: Config, work: Path, progress: Progress | None,
           use_cache: bool = True) -> Result:
    """The stages ``check`` runs, and ``build`` before its writers: read, card syntax and
    render (:func:`load_vault`), then cards."""
    remote = RemoteImages(work / "remote", config.allow_private_remote) \
        if config.allow_remote else None
    if use_cache and remote is None:  # notes, renderings and cards of the last run (session.py)
        from exporter.app.session import warm_check
        return warm_check(config, progress)
    vault = load_vault(config, remote, progress, use_cache)
    return Result(vault=vault, cards=_make_cards(config, vault),  # cards
                  sections_left_out=cards.sections_left_out(vault, card_options(config)))


def _export(config: Config, work: Path, progress: Progress | None) -> Result:
    """``check``'s stages, then each enabled writer; all outputs are replaced together."""
    started = time.perf_counter()
    writes = config.write_anki or config.write_pdf or config.out_dir.is_dir()
    make_out_dir(config)  # before the note cache goes into it
    result = _check(config, work, progress, use_cache=writes)
    log.debug("read and rendered %d notes, %d cards in %.2f s", len(result.vault.notes),
              len(result.cards), time.perf_counter() - started)
    build = follow(config, result, progress)  # cards keep the GUIDs of the previous build
    result.outputs = write_outputs(config, build, lambda name: log.debug(
        "%s written at %.2f s", name, time.perf_counter() - started))
    return result


def make_out_dir(config: Config) -> None:
    """The output folder; the default one inside the notes folder gets a ``.gitignore`` that
    keeps it out of the vault's repository (an existing one is the user's, and kept)."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    ignore = config.out_dir / ".gitignore"
    # never written through a link: a checkout may hold one under either name
    if config.out_ignored and not config.out_dir.is_symlink() and not ignore.is_symlink() \
            and not ignore.exists():
        try:
            ignore.write_text(GITIGNORE, encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"cannot write '{ignore}': {exc}") from exc


def write_outputs(config: Config, build: Build,
                  written_one: Callable[[str], object] | None = None) -> list[Output]:
    """Every enabled writer's outputs, each written beside its target first and all moved into
    place together, so a failure at any stage leaves the previous deck, PDF and state untouched;
    ``written_one`` hears each writer's name when it is done."""
    written: list[Path] = []
    with staged() as stage:
        for writer in WRITERS:
            if writer.enabled(config):
                written += writer.write(build, stage)
                if written_one:
                    written_one(writer.name)
    return [Output(path, path.stat().st_size) for path in written]


def _card_syntax(config: Config, vault: Vault, settings: plugins.VaultSettings) -> None:
    """Each note's cards in its own syntax (flashcards.py), then the kinds it does not read."""
    flashcards.read_cards(vault, settings, config.cloze_highlights)
    for note in vault.notes:
        kinds.read_extra(note, vault.diagnostics)


def card_options(config: Config) -> cards.CardOptions:
    """What cards to make, as the options choose."""
    return cards.CardOptions(root_deck=config.title, kinds=config.card_kinds,
                             folder_decks=config.folder_decks, folder_tags=config.folder_tags,
                             vault_name=config.vault_name, vault=config.vault,
                             section_cards=config.section_cards)


def _make_cards(config: Config, vault: Vault) -> list[Card]:
    """Every card of every note, as the options choose (cards.py)."""
    return cards.make_cards(vault, card_options(config))


def follow(config: Config, result: Result, progress: Progress | None = None,
           previous: State | None = None) -> Build:
    """Re-keyed cards keep their previous GUIDs (identity.py); edited ones get later times.
    ``previous``: the previous build's state when the caller read it already."""
    epoch = config.epoch if config.epoch is not None else _epoch()
    diagnostics = result.vault.diagnostics
    if previous is None:
        previous = history.previous_state(config, diagnostics)
    followed = history.follow(result.cards, previous, epoch, config.tag_removed, diagnostics,
                              {model: t.name for model, t in config.note_types.items()})
    result.cards = followed.cards
    return Build(config, result, followed, epoch, progress)


def load_vault(config: Config, remote: RemoteImages | None = None,
               progress: Progress | None = None, use_cache: bool = False) -> Vault:
    """Read and parse every note with its cards, then render each section to HTML (or take it
    from the note cache in the output folder, when there is one: notecache.py)."""
    texts: dict[str, str] = {}  # each note's text by path: the note cache's keys
    vault, settings = _read_notes(config, texts)  # read: every note, split into sections
    _card_syntax(config, vault, settings)  # card syntax: the cards each note writes itself
    _render(config, vault, texts, remote, progress, use_cache)  # render: sections to HTML
    return vault


def _render(config: Config, vault: Vault, texts: dict[str, str], remote: RemoteImages | None,
            progress: Progress | None, use_cache: bool) -> None:
    """Render each section and card to HTML: from the note cache, on every core, or here."""
    index = AssetIndex(config.notes_dir, list(config.asset_dirs),
                       attachment_folder(config.notes_dir),
                       note_attachments=note_attachment_folder(config.notes_dir),
                       skip=[config.out_dir])
    renderer = Renderer(vault, index, config.notes_dir, check_links=config.check_links,
                        remote=remote)
    # Fetched images live in a temporary folder: with --allow-remote nothing is cached.
    cache = None if remote is not None or not use_cache else \
        notecache.open_cache(config, renderer, texts, vault.diagnostics)
    cached = {i: r for i, note in enumerate(vault.notes) if cache and (r := cache.get(note))}
    todo = [i for i in range(len(vault.notes)) if i not in cached]
    fresh: dict[int, NoteRendering] = {}
    if remote is None and len(todo) >= PARALLEL_NOTES and _fork_workers() > 1:
        fresh = _render_in_workers(renderer, todo, cached, progress)
    else:
        for number, note in enumerate(vault.notes, start=1):
            if progress and (number % 50 == 0 or number == len(vault.notes)):
                progress("notes", number, len(vault.notes))
            if number - 1 in cached:
                renderer.apply(note, cached[number - 1])
            else:
                fresh[number - 1] = renderer.render_note(note)
    vault.assets = index.used
    if cache:
        for number, rendering in fresh.items():
            cache.put(vault.notes[number], rendering)
        cache.prune()


PARALLEL_NOTES = 200  # below this, starting worker processes costs more than it saves
_WORKER: Renderer | None = None  # the renderer a forked worker inherits


def _fork_workers() -> int:
    """How many processes to render in: all cores, where processes can be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return os.cpu_count() or 1


def _render_chunk(indexes: list[int]) -> list[NoteRendering]:
    assert _WORKER is not None
    return [_WORKER.render_note(_WORKER.vault.notes[i]) for i in indexes]


def _render_in_workers(renderer: Renderer, todo: list[int], cached: dict[int, NoteRendering],
                       progress: Progress | None) -> dict[int, NoteRendering]:
    """Render the notes ``todo`` on every core; each note's result (or its ``cached`` one) is
    applied here, in note order, so the vault ends up exactly as a serial run leaves it."""
    global _WORKER
    notes = renderer.vault.notes
    size = max(1, len(todo) // (_fork_workers() * 4))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    _WORKER = renderer
    fresh: dict[int, NoteRendering] = {}
    applied = 0
    try:
        context = multiprocessing.get_context("fork")
        with processes.pool(_fork_workers(), context) as pool:
            for chunk, renderings in zip(chunks, pool.map(_render_chunk, chunks), strict=True):
                fresh.update(zip(chunk, renderings, strict=True))
                while applied < len(notes) and (applied in fresh or applied in cached):
                    renderer.apply(notes[applied], fresh.get(applied) or cached[applied])
                    applied += 1
                if progress:
                    progress("notes", applied, len(notes))
    finally:
        _WORKER = None
    return fresh


def _read_notes(config: Config, texts: dict[str, str] | None = None
                ) -> tuple[Vault, plugins.VaultSettings]:
    """Every readable note split into sections, and the Obsidian plugins' settings (their card
    syntax); each note's text goes into ``texts`` by path when given (the note cache's keys)."""
    if not config.notes_dir.is_dir():
        raise ExportError(f"notes folder '{config.notes_dir}' does not exist or is not a folder")
    vault = Vault(root=config.notes_dir)
    settings = plugins.read_settings(config.notes_dir, vault.diagnostics)
    for path in find_notes(config.notes_dir, vault.diagnostics, [config.out_dir]):
        relpath = path.relative_to(config.notes_dir).as_posix()
        if settings.is_template(relpath):
            continue  # Obsidian's templates folder: templates are not notes to study
        if not select.path_chosen(relpath, config.include, config.exclude):
            vault.left_out += 1
            continue
        try:
            text = read_note(path, relpath)
        except NoteError as exc:
            vault.diagnostics.append(exc.diagnostic)
            continue
        problems: list[Diagnostic] = []
        note = split_sections(text, relpath, path.stem, problems)
        if config.tags and not select.has_tag(note, config.tags):
            vault.left_out += 1
            continue
        vault.diagnostics += problems
        if texts is not None:
            texts[relpath] = text
        vault.notes.append(note)
    return vault, settings


def _epoch() -> int:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), otherwise now."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        try:
            return int(value)
        except ValueError as exc:
            raise ExportError(f"SOURCE_DATE_EPOCH must be an integer, not {value!r}") from exc
    return int(time.time())


@contextmanager
def staged() -> Iterator[Callable[[Path], Path]]:
    """Hand out temporary paths for targets; move them all into place only if no error occurs."""
    staged: dict[Path, Path] = {}  # target → its temporary file

    def stage(target: Path) -> Path:
        if target in staged:  # two outputs under one name: the second would be lost
            raise ExportError(f"two outputs would both be written to '{target}'")
        if target.parent.is_symlink():  # an output folder from the checkout may lead anywhere
            raise ExportError(f"output folder '{target.parent}' is a symbolic link; refused")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.parent not in {t.parent for t in staged}:
            _remove_leftovers(target.parent)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)  # never write through a link left under that name
        staged[target] = tmp
        return tmp

    try:
        yield stage
        for target, tmp in staged.items():  # check all before replacing any
            if target.is_dir() and not target.is_symlink():
                raise ExportError(f"'{target}' is a folder; nothing was replaced")
            if not tmp.is_file():
                raise ExportError(f"'{target}' was not written; nothing was replaced")
        for target, tmp in staged.items():
            os.replace(tmp, target)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


_LEFTOVER = re.compile(r"^\..+\.(\d+)\.tmp$")


def _remove_leftovers(folder: Path) -> None:
    """Delete the temporary files of a build that was killed (its process is gone)."""
    for path in folder.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and not _running(int(match.group(1))) and \
                (path.is_symlink() or path.is_file()):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """True when a process with this id exists (another build may be writing beside us)."""
    if pid == os.getpid():
        return False  # our own leftovers from an earlier build in this process
    return processes.running(pid)
