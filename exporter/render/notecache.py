"""Rendered notes kept across runs in the note cache (cachestore.py's ``notes/``), one entry
per note.

An entry is found by a key over everything that changes the note's HTML: the options that
reach rendering (those that declare "notes", ``Config.options_for``), the note's text and
parsed state, those of the notes it embeds, and a digest of the whole vault's link targets
(names, aliases, headings, anchors, block ids) and file names; the store names each entry by the
code too. The images a note shows are checked by the hash of their bytes when it is taken back.
The store signs every entry and refuses a planted, forged or moved one; its shape is checked
before use too; anything else is rendered again and replaced. Deleting the folder is safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
from functools import lru_cache
from pathlib import Path

from exporter.cache import cachestore
from exporter.cache.cachestore import Store
from exporter.core.config import Config
from exporter.core.errors import BadEntryError
from exporter.core.model import Diagnostic, Note
from exporter.read.media import content_name
from exporter.render.render import NoteRendering, Renderer
from exporter.render.rendering_json import from_json as from_json  # re-exported
from exporter.render.rendering_json import json_dict, json_list, json_pair, json_str
from exporter.render.rendering_json import to_json as to_json  # re-exported

log = logging.getLogger(__name__)
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a note is at most 5 MB; its HTML a few times that
# Rendered from the state of files outside the note (an image missing, unreadable, fetched,
# or a crash): such a note is rendered again every time rather than trusted from the cache.
UNCACHED_CODES = frozenset({"missing-image", "bad-image", "render-failed", "remote-image",
                            "remote-image-failed", "missing-audio", "bad-audio"})
_EMBED = re.compile(r"!\[\[([^\[\]\n|#^]*)")
_SRC = re.compile(r'(?<=src=")[^"]+(?=")|(?<=\[sound:)[^\]"<]+(?=\])')
_BLOCK_IDS = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*$", re.M)


# --- keys ---------------------------------------------------------------------------------

def vault_digest(config: Config, renderer: Renderer, targets: list[object] | None = None
                 ) -> str:
    """What every note's HTML may depend on besides its own text: the options that declare
    "notes", the vault's folders as found, and the names, aliases, headings, anchors and
    block ids of all notes and the files links may reach (``targets``: each note's
    :func:`link_targets`, when known already)."""
    index = renderer.index
    options = config.options_key("notes")
    digest = hashlib.sha256(options.encode())
    folders = [str(index.notes_dir), [str(d) for d in index.asset_dirs], str(index.attachments),
               str(getattr(index, "note_attachments", None))]  # as found, resolved
    if targets is None:
        targets = [link_targets(note) for note in renderer.vault.notes]
    # json.dumps([folders, targets]), each note's part kept while its targets are the same
    global _TARGETS_JSON
    known, _TARGETS_JSON = _TARGETS_JSON, {}
    parts = []
    for target in targets:
        part = known.get(id(target))
        if part is None or part[0] is not target:
            part = (target, json.dumps(target))
        _TARGETS_JSON[id(target)] = part
        parts.append(part[1])
    digest.update(f"[{json.dumps(folders)}, [{', '.join(parts)}]]".encode())
    files = sorted(str(p) for paths in index._by_name.values() for p in paths)  # no public view
    digest.update("\0".join(files).encode())
    return digest.hexdigest()


# Each note's link targets as JSON, by the identity of the object (kept with it): the engine
# keeps a note's targets while its file is unchanged.
_TARGETS_JSON: dict[int, tuple[object, str]] = {}


def link_targets(note: Note) -> object:
    """What links into ``note`` may name: its path, title, aliases, headings and block ids."""
    # ^block ids may stand at the end of any line, and [[Note#^id]] links to them
    return [note.relpath, note.title, note.anchor, note.aliases,
            [[s.heading, s.level, s.path, s.anchor, s.block_id, [i.block_id for i in s.items],
              _BLOCK_IDS.findall("\n".join(s.body)) if "^" in "".join(s.body) else []]
             for s in note.sections]]


class _Embeds:
    """Which notes a note may embed, found from its text the generous way: every note whose
    name, path or alias matches an ``![[...]]`` target, and theirs in turn."""

    def __init__(self, notes: list[Note], texts: dict[str, str]) -> None:
        self.texts = texts
        self.by_name: dict[str, list[str]] = {}
        for note in notes:
            stem = note.relpath.rsplit("/", 1)[-1].removesuffix(".md")
            for key in {stem, note.relpath.removesuffix(".md"), *note.aliases}:
                self.by_name.setdefault(key.lower(), []).append(note.relpath)

    def closure(self, relpath: str) -> list[str]:
        """The notes ``relpath`` embeds, directly or through others, sorted."""
        seen, todo = {relpath}, [relpath]
        while todo:
            for target in _embed_targets(self.texts.get(todo.pop(), "")):
                for key in {target, target.rsplit("/", 1)[-1]}:
                    for other in self.by_name.get(key, []):
                        if other not in seen:
                            seen.add(other)
                            todo.append(other)
        return sorted(seen - {relpath})


@lru_cache(maxsize=1 << 16)
def _embed_targets(text: str) -> tuple[str, ...]:
    """What a note's ``![[...]]`` embeds name, lower case (``watch`` asks again each round)."""
    return tuple(match.group(1).strip().removesuffix(".md").lower()
                 for match in _EMBED.finditer(text))


# --- the cache ------------------------------------------------------------------------------

class NoteCache:
    """Renderings of earlier runs, found by key; unused entries are removed at the end."""

    def __init__(self, store: Store, config: Config, renderer: Renderer,
                 texts: dict[str, str], keys: dict[str, str] | None = None) -> None:
        self.store = store
        self.renderer = renderer
        self.keys = note_keys(config, renderer, texts) if keys is None else keys
        self.hits = 0
        self._media_names: dict[Path, str] | None = None
        self._paths: dict[str, Path] | None = None  # the reverse

    def get(self, note: Note) -> NoteRendering | None:
        """The cached rendering of ``note``, or None when absent, stale or not to be trusted."""
        key = self.keys.get(note.relpath)
        body = None if key is None else self.store.get(key)
        if body is None:
            return None
        try:
            entry = json_dict(json.loads(body))
            images = self._images(json_list(entry.get("images")))
            rendering = from_json(entry.get("rendering"), note, images)
        except (ValueError, RecursionError) as exc:  # JSON errors are ValueErrors
            log.debug("note cache entry of %s not used: %s", note.relpath, exc)
            return None
        self.hits += 1
        return rendering

    def put(self, note: Note, rendering: NoteRendering) -> None:
        """Keep ``rendering`` unless it depends on the state of files the key does not cover."""
        key = self.keys.get(note.relpath)
        if key is None or any(d.code in UNCACHED_CODES for d in rendering.diagnostics):
            return
        media = self._media()
        data = to_json(rendering)
        shown = self._shown(data.get("sections"), rendering.images)
        images = [[str(path), media[path]] for path in shown if path in media]
        body = json.dumps({"images": images, "rendering": data},
                          ensure_ascii=False, separators=(",", ":")).encode()
        self.store.put(key, body)

    def prune(self) -> None:
        """Keep only the entries this run used: the cache never outgrows one vault's notes."""
        log.debug("%d of %d notes taken from the note cache", self.hits, len(self.keys))
        self.store.prune(self.keys.values())

    def _media(self) -> dict[Path, str]:
        """Media names by path, of every image the run used (made once: puts come last)."""
        if self._media_names is None:
            used = self.renderer.index.used.values()
            self._media_names = {asset.path: asset.media_name for asset in used}
        return self._media_names

    def _images(self, raw: list[object]) -> list[Path]:
        """The images an entry shows, each unchanged since it was rendered and still usable."""
        paths = []
        roots = tuple(os.path.join(root, "") for root in self.renderer.index.roots)
        for item in raw:
            text, name = (json_str(v) for v in json_pair(item))
            path = Path(text)
            # named by a hash of its bytes (media.py), which the deck needs anyway
            if not text.startswith(roots) or ".." in path.parts or content_name(path) != name:
                raise BadEntryError(f"image {path} changed")
            paths.append(path)
        return paths

    def _shown(self, html: object, images: list[Path]) -> list[Path]:
        """Every image the HTML (any nesting of lists of strings) shows: ``images`` lists only
        those first used by this note in its process, so another note's shared image would be
        missed."""
        if self._paths is None:
            self._paths = {name: path for path, name in self._media().items()}
        return shown_images(html, images, self._paths)


def shown_images(html: object, images: list[Path], paths: dict[str, Path]) -> list[Path]:
    """``images`` and every image (of ``paths``, by media name) the HTML, any nesting of lists
    of strings, shows by name."""
    names = {name for text in _strings(html) if "src=" in text or "[sound:" in text
             for name in _SRC.findall(text)}
    return sorted({paths[n] for n in names if n in paths} | set(images))


def _strings(value: object) -> list[str]:
    """The strings inside nested lists, depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def note_keys(config: Config, renderer: Renderer, texts: dict[str, str],
              states: dict[str, str] | None = None, targets: list[object] | None = None
              ) -> dict[str, str]:
    """Each note's key by path (``states``, ``targets``: their :func:`parsed_state` and
    :func:`link_targets`, in note order, when known already)."""
    base = vault_digest(config, renderer, targets)
    embeds = _Embeds(renderer.vault.notes, texts)
    if states is None:
        states = {note.relpath: parsed_state(note) for note in renderer.vault.notes}
    global _KEYS
    known, _KEYS = _KEYS, {}
    for note in renderer.vault.notes:
        if note.relpath in texts:
            _KEYS[note.relpath] = _note_key(base, note.relpath, texts, embeds, states,
                                            known.get(note.relpath))
    return {relpath: made[-1] for relpath, made in _KEYS.items()}


# The last keys made, with what each was made from: the same base, texts (the very strings:
# the engine keeps a note's text while its file is unchanged) and states give the same key.
_KEYS: dict[str, tuple[str, list[str], list[str], list[str], str]] = {}


def _note_key(base: str, relpath: str, texts: dict[str, str], embeds: _Embeds,
              states: dict[str, str],
              known: tuple[str, list[str], list[str], list[str], str] | None = None
              ) -> tuple[str, list[str], list[str], list[str], str]:
    """The key of one note: the vault's digest, then its text and parsed state, then those of
    every note it embeds; with what it was made from."""
    names = [relpath, *embeds.closure(relpath)]
    used = [texts.get(name, "") for name in names]
    shown = [states.get(name, "") for name in names]
    if known is not None and known[0] == base and known[1] == names and known[3] == shown \
            and all(a is b for a, b in zip(known[2], used, strict=True)):
        return known
    digest = hashlib.sha256(base.encode())
    for name, text, state in zip(names, used, shown, strict=True):
        digest.update(f"\0{name}\0{len(text)}\0".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(state.encode())
    return base, names, used, shown, digest.hexdigest()


def parsed_state(note: Note) -> str:
    """A digest of everything reading gave the note before rendering: its sections, lines and
    cards as settings, plugins and drawings shaped them (not only its own text)."""
    text = json.dumps(_plain(note), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: object) -> object:
    """``value`` as JSON data: dataclasses by field (rendered HTML left out), sets sorted."""
    kind = type(value)
    if kind in _SCALARS or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return value if all(type(v) is str for v in value) else [_plain(v) for v in value]
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = [f.name for f in dataclasses.fields(value)
                                 if f.name != "html" and not f.name.endswith("_html")]
    if names is not None:
        return [_plain(getattr(value, name)) for name in names]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(item) for item in value)
    if isinstance(value, dict):
        return [[repr(key), _plain(item)] for key, item in value.items()]
    return repr(value)


_SCALARS = frozenset({str, int, float, bool})
_FIELDS: dict[type, list[str]] = {}


def open_cache(config: Config, renderer: Renderer, texts: dict[str, str],
               diagnostics: list[Diagnostic], keys: dict[str, str] | None = None
               ) -> NoteCache | None:
    """The note cache of ``config.out_dir``, or None when it must not or cannot be used."""
    store = cachestore.open_store(cachestore.root_of(config.out_dir), cachestore.NOTES,
                                  MAX_ENTRY_BYTES, diagnostics)
    return None if store is None else NoteCache(store, config, renderer, texts, keys)
