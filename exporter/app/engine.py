"""The engine: the one list of stages that ``build``, ``check``, ``watch`` and ``sync`` run
(read, card syntax, render, cards; then follow and write), each note's work kept by what it was
made from. ``watch`` keeps an engine in memory between rounds; ``build`` and ``check`` start one
from the snapshot the last run saved (snapshot.py) and the note cache; a cold run starts from
nothing. Whatever it starts from, the writers write the bytes a cold build writes (``watch``'s
deck, ``fast_writes``, holds the same notes in other bytes: deck/fastdeck.py)."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from exporter.app import outputs, snapshot
from exporter.app.writers import Build, Result
from exporter.cards import cards
from exporter.core import kinds
from exporter.core.config import Config
from exporter.core.errors import ExportError, NoteError
from exporter.core.model import Card, Diagnostic, Note, Progress, Vault
from exporter.deck import history
from exporter.deck.fastdeck import FastDeck
from exporter.deck.state import State
from exporter.read import flashcards, plugins, select
from exporter.read.excalidraw import Drawings, is_drawing, rewrite_embeds
from exporter.read.media import content_name
from exporter.read.parse import read_note, split_sections
from exporter.read.vault import AssetIndex, attachment_folder, find_notes, note_attachment_folder
from exporter.render import batch, notecache
from exporter.render.remote import RemoteImages
from exporter.render.render import NoteRendering, Renderer
from exporter.render.rendering_json import to_json

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int, int]  # size, mtime, ctime (ns), inode: a file unchanged keeps it


@dataclass
class _Read:
    """One note file as the last round read it."""

    stamp: Stamp
    text: str
    note: Note | None  # None: ``--tag`` left it out
    problems: list[Diagnostic]  # from splitting, then (once read for cards) from card syntax
    split_problems: int  # how many of ``problems`` splitting gave
    tags: frozenset[str] = frozenset()  # the note's tags before rendering adds inline ones
    context: object = None  # what its cards were read under (None: not yet)
    state: str = ""  # notecache.parsed_state, once cards are read
    targets: object = None  # notecache.link_targets, once cards are read


@dataclass
class _Rendered:
    """A rendering kept in memory, with the media name of every image it shows."""

    rendering: NoteRendering
    images: list[tuple[Path, str]]


@dataclass
class _Carded:
    """A note's cards, made from that note object and that rendering."""

    note: Note
    rendering: NoteRendering
    cards: list[Card]
    problems: list[Diagnostic]
    left_out: dict[str, int] = field(default_factory=dict)  # cards.note_sections_left_out


@dataclass
class Engine:
    """The stages every command runs, in order: read (each note split into sections), card
    syntax, render, cards; then, for ``build``, follow the previous state and write. Each stage
    works note by note and keeps what it made, by what it was made from: a later run on the
    same engine (``watch``'s next round, or a run started from a snapshot) redoes only what
    changed. A cold run is this engine with nothing remembered."""

    config: Config
    remote: RemoteImages | None = None  # images fetched (``--allow-remote``): nothing is kept
    use_cache: bool = True  # the note cache in the output folder (notecache.py)
    timings: dict[str, float] = field(default_factory=dict)  # stage → seconds, last round
    rendered_notes: int = 0  # notes rendered anew in the last round (not from memory or disk)
    made: int = 0  # notes read, rendered or carded anew in the last round: what to save
    loaded: bool = False  # started from a snapshot
    _reads: dict[str, _Read] = field(default_factory=dict)
    _rendered: dict[str, _Rendered] = field(default_factory=dict)  # by note-cache key
    _carded: dict[str, _Carded] = field(default_factory=dict)  # by note path
    _previous: tuple[Stamp, State] | None = None  # the state this session wrote last
    _applied: dict[str, NoteRendering] = field(default_factory=dict)  # this round's, by path
    _context: object = None  # what the last round read cards under
    _renderer: Renderer | None = None  # the last round's, whose Markdown the next one takes
    _deck: FastDeck | None = None  # the deck kept between rounds (config.fast_writes)

    def build(self, progress: Progress | None = None) -> Result:
        """Every stage, the writers last (``build`` and each round of ``watch``)."""
        outputs.make_out_dir(self.config)  # before the note cache goes into it
        return self.write(self.check(progress), progress)

    def check(self, progress: Progress | None = None) -> Result:
        """``check``'s stages: :meth:`load`, then cards."""
        clock = self._start()
        vault = self._load(clock, progress)
        made = self._cards(vault)  # cards
        left_out: Counter[str] = Counter()
        for note in vault.notes:
            left_out.update(self._carded[note.relpath].left_out)
        result = Result(vault=vault, cards=made, sections_left_out=dict(sorted(left_out.items())))
        clock("cards")
        return result

    def load(self, progress: Progress | None = None) -> Vault:
        """The notes read, their card syntax read and their sections rendered."""
        return self._load(self._start(), progress)

    def _start(self) -> _Clock:
        """A new round: its timings and count of notes made start from nothing."""
        self.timings, self.made = {}, 0
        return _Clock(self.timings)

    def _load(self, clock: _Clock, progress: Progress | None) -> Vault:
        vault, texts, states = self._read_vault()  # read, then card syntax
        clock("read")
        self._render(vault, texts, states, progress)  # render
        clock("render")
        return vault

    def write(self, result: Result, progress: Progress | None = None) -> Result:
        """The cards follow the previous build's state; then every enabled writer writes."""
        clock = _Clock(self.timings)
        built = follow(self.config, result, progress, previous=self._previous_state(result.vault))
        if self.config.fast_writes:
            built.fast_deck = self._deck = self._deck or FastDeck()
        clock("follow")
        result.outputs = outputs.write_outputs(self.config, built, clock)
        clock("replace")
        if self.config.write_anki and self.config.previous is None:
            self._previous = (_stamp(history.state_path(self.config)), built.history.entries)
        return result

    def kept(self) -> dict[str, object]:
        """What a later process may start from (snapshot.py): notes, renderings, cards."""
        return {"reads": self._reads, "rendered": self._rendered, "carded": self._carded,
                "context": self._context}

    def restore(self, kept: dict[str, object]) -> None:
        """Start from what :meth:`kept` gave in an earlier process; anything of the wrong
        shape is dropped (the file was signed by us, so this only guards against our own
        older layouts)."""
        reads, rendered, carded = kept.get("reads"), kept.get("rendered"), kept.get("carded")
        if not (isinstance(reads, dict) and isinstance(rendered, dict)
                and isinstance(carded, dict)):
            return
        self._reads = {k: v for k, v in reads.items() if isinstance(v, _Read)}
        self._rendered = {k: v for k, v in rendered.items() if isinstance(v, _Rendered)}
        self._carded = {k: v for k, v in carded.items() if isinstance(v, _Carded)}
        self._context = kept.get("context")

    # --- read ---------------------------------------------------------------------------

    def _read_vault(self) -> tuple[Vault, dict[str, str], dict[str, str]]:
        """Every chosen note, split into sections, and its card syntax read: each unchanged
        note's as the last run left it."""
        config = self.config
        if not config.notes_dir.is_dir():
            raise ExportError(f"notes folder '{config.notes_dir}' does not exist or is not a "
                              "folder")
        vault = Vault(root=config.notes_dir)
        settings = plugins.read_settings(config.notes_dir, vault.diagnostics)
        reads: dict[str, _Read] = {}
        for path in find_notes(config.notes_dir, vault.diagnostics, [config.out_dir]):
            relpath = path.relative_to(config.notes_dir).as_posix()
            if settings.is_template(relpath):
                continue
            if not select.path_chosen(relpath, config.include, config.exclude):
                vault.left_out += 1
                continue
            read = self._read_note(path, relpath, vault.diagnostics)
            if read is None:
                continue
            reads[relpath] = read
            if read.note is None:
                vault.left_out += 1
                continue
            vault.diagnostics += read.problems[:read.split_problems]
            vault.notes.append(read.note)
        self.made += len(self._reads) != len(reads)
        self._reads = reads
        texts = {relpath: read.text for relpath, read in reads.items() if read.note}
        self._card_syntax(vault, settings, reads)
        return vault, texts, {n.relpath: reads[n.relpath].state for n in vault.notes}

    def _read_note(self, path: Path, relpath: str, diagnostics: list[Diagnostic]
                   ) -> _Read | None:
        """The note as last read when its file is unchanged, else read and split again."""
        known = self._reads.get(relpath)
        try:
            stamp = _stamp(path)
        except OSError:
            stamp = (-1, -1, -1, -1)  # never matches: read_note says what is wrong
        if known is not None and known.stamp == stamp:
            return known
        try:
            text = read_note(path, relpath)
        except NoteError as exc:
            diagnostics.append(exc.diagnostic)
            return None
        return self._split(stamp, text, relpath)

    def _split(self, stamp: Stamp, text: str, relpath: str) -> _Read:
        self.made += 1
        problems: list[Diagnostic] = []
        note = split_sections(text, relpath, PurePosixPath(relpath).stem, problems)
        if self.config.tags and not select.has_tag(note, self.config.tags):
            return _Read(stamp, text, None, [], 0)
        return _Read(stamp, text, note, problems, len(problems))

    def _card_syntax(self, vault: Vault, settings: plugins.VaultSettings,
                     reads: dict[str, _Read]) -> None:
        """Drawings out of the notes (their embeds shown as their images), then each note's
        cards in its own syntax (flashcards.py) and the other kinds: a note read under the
        same settings and drawings keeps its cards; the rest are split again and read."""
        drawings = Drawings(vault.root)
        for note in vault.notes:
            (drawings.add if is_drawing(note) else drawings.add_note)(note.relpath)
        # the options that reach a note's reading (those that declare "notes")
        context = (settings, self.config.options_for("notes"), drawings.by_name,
                   drawings.short, drawings.notes, [drawings.image(stem) for stem in sorted(
                       set(drawings.by_name.values()))])
        if context == self._context:  # one comparison; then each note's by identity
            context = self._context
        self._context = context
        vault.notes = [note for note in vault.notes if not is_drawing(note)]
        for number, note in enumerate(vault.notes):
            read = reads[note.relpath]
            if read.context is not context:
                if read.context is not None:  # read under other settings: start from the text
                    read = reads[note.relpath] = self._split(read.stamp, read.text, note.relpath)
                    assert read.note is not None  # its tags were chosen before
                    note = vault.notes[number] = read.note
                problems = read.problems
                rewrite_embeds(note, drawings, problems)
                flashcards.read_note_cards(note, settings.note_syntax(
                    note, self.config.cloze_highlights), problems)
                kinds.read_extra(note, problems)
                read.context, read.tags = context, frozenset(note.tags)
                self.made += 1
                read.state = notecache.parsed_state(note)
                read.targets = notecache.link_targets(note)
            vault.diagnostics += read.problems[read.split_problems:]

    # --- render -------------------------------------------------------------------------

    def _render(self, vault: Vault, texts: dict[str, str], states: dict[str, str],
                progress: Progress | None) -> None:
        """Each note's rendering from memory, else the note cache, else rendered here."""
        config = self.config
        index = AssetIndex(config.notes_dir, list(config.asset_dirs),
                           attachment_folder(config.notes_dir),
                           note_attachments=note_attachment_folder(config.notes_dir),
                           skip=[config.out_dir])
        renderer = Renderer(vault, index, config.notes_dir, check_links=config.check_links,
                            remote=self.remote)
        if self._renderer is not None:
            renderer.take_markdown(self._renderer)
        self._renderer = renderer
        keys: dict[str, str] = {}
        cache = None
        if self.remote is None:  # fetched images live in a temporary folder: never kept
            targets = [self._reads[note.relpath].targets for note in vault.notes]
            keys = notecache.note_keys(config, renderer, texts, states, targets)
            if self.use_cache:
                cache = notecache.open_cache(config, renderer, texts, vault.diagnostics, keys)
        found: dict[int, NoteRendering] = {}
        for number, note in enumerate(vault.notes):
            note.tags = set(self._reads[note.relpath].tags)  # rendering adds the inline ones
            kept = self._rendered.get(keys.get(note.relpath, ""))
            if kept is not None and all(content_name(p) == name for p, name in kept.images):
                found[number] = kept.rendering
            elif cache and (rendering := cache.get(note)):
                found[number] = rendering
        fresh = batch.render_notes(renderer, found, progress, parallel=self.remote is None)
        vault.assets = index.used
        self.rendered_notes = len(fresh)
        self._applied = {vault.notes[i].relpath: r for i, r in {**found, **fresh}.items()}
        self._keep(vault, keys, {**found, **fresh})
        if cache:
            for number, rendering in fresh.items():
                cache.put(vault.notes[number], rendering)
            cache.prune()

    def _keep(self, vault: Vault, keys: dict[str, str],
              renderings: dict[int, NoteRendering]) -> None:
        """Keep this round's renderings in memory by key (and no others), each with the media
        names of the images it shows, checked when it is used again."""
        names = {asset.path: asset.media_name for asset in vault.assets.values()}
        paths = {name: path for path, name in names.items()}
        kept: dict[str, _Rendered] = {}
        for number, rendering in renderings.items():
            key = keys.get(vault.notes[number].relpath)
            if key is None or any(d.code in notecache.UNCACHED_CODES
                                  for d in rendering.diagnostics):
                continue
            old = self._rendered.get(key)
            if old is not None and old.rendering is rendering:
                kept[key] = old
                continue
            html = to_json(rendering)["sections"]
            shown = notecache.shown_images(html, rendering.images, paths)
            kept[key] = _Rendered(rendering, [(p, names[p]) for p in shown if p in names])
            self.made += 1
        self.made += len(self._rendered) != len(kept)
        self._rendered = kept

    # --- cards --------------------------------------------------------------------------

    def _cards(self, vault: Vault) -> list[Card]:
        """cards.make_cards, reusing the cards of each note whose note and rendering are the
        very objects they were made from."""
        options = card_options(self.config)
        carded: dict[str, _Carded] = {}
        for note in vault.notes:
            rendering = self._applied[note.relpath]
            known = self._carded.get(note.relpath)
            if known is None or known.note is not note or known.rendering is not rendering:
                problems: list[Diagnostic] = []
                known = _Carded(note, rendering, cards.note_cards(note, options, problems),
                                problems, cards.note_sections_left_out(note, options))
                self.made += 1
            carded[note.relpath] = known
            vault.diagnostics += known.problems
        self.made += len(self._carded) != len(carded)
        self._carded = carded
        return cards.unique_cards([(r, c.cards) for r, c in carded.items()], vault.diagnostics)

    # --- state --------------------------------------------------------------------------

    def _previous_state(self, vault: Vault) -> State:
        """The state this session wrote last, while its file is as written; else read it."""
        if self._previous is not None and self.config.previous is None:
            stamp, entries = self._previous
            try:
                if _stamp(history.state_path(self.config)) == stamp:
                    return dict(entries)
            except OSError:
                pass
        self._previous = None
        return history.previous_state(self.config, vault.diagnostics)


class _Clock:
    """Seconds per stage, each from the end of the one before."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.last
        self.last = now


def _stamp(path: Path) -> Stamp:
    info = os.stat(path)
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)



def card_options(config: Config) -> cards.CardOptions:
    """What cards to make, as the options choose."""
    return cards.CardOptions(root_deck=config.title, kinds=config.card_kinds,
                             folder_decks=config.folder_decks, folder_tags=config.folder_tags,
                             vault_name=config.vault_name, vault=config.vault,
                             section_cards=config.section_cards)


def follow(config: Config, result: Result, progress: Progress | None = None,
           previous: State | None = None) -> Build:
    """Re-keyed cards keep their previous GUIDs (identity.py); edited ones get later times.
    ``previous``: the previous build's state when the caller read it already."""
    epoch = config.epoch if config.epoch is not None else build_epoch()
    diagnostics = result.vault.diagnostics
    if previous is None:
        previous = history.previous_state(config, diagnostics)
    followed = history.follow(result.cards, previous, epoch, config.tag_removed, diagnostics,
                              {model: t.name for model, t in config.note_types.items()})
    result.cards = followed.cards
    return Build(config, result, followed, epoch, progress)


def build_epoch() -> int:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), otherwise now."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        try:
            return int(value)
        except ValueError as exc:
            raise ExportError(f"SOURCE_DATE_EPOCH must be an integer, not {value!r}") from exc
    return int(time.time())


def remembered(config: Config, remote: RemoteImages | None = None) -> Engine:
    """An engine that starts from what the last run in ``config.out_dir`` kept (snapshot.py);
    with ``remote``, one that keeps nothing."""
    kept = None if remote is not None else snapshot.load(config)
    engine = Engine(config, remote=remote, loaded=kept is not None)
    if kept is not None:
        engine.restore(kept)
    return engine


def remember(engine: Engine) -> None:
    """Save what ``engine`` keeps for the next run, when it uses the caches and anything in
    it changed."""
    if engine.use_cache and engine.remote is None and (engine.made or not engine.loaded):
        snapshot.save(engine.config, engine.kept())
