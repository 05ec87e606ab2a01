"""Find the notes and images of a vault, and resolve embeds the way Obsidian does."""

from __future__ import annotations

import json
import os
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from exporter.core.errors import OutsideVaultError as OutsideVaultError  # re-exported
from exporter.core.model import Asset, Diagnostic
from exporter.read.images import image_problem
from exporter.read.media import content_name

NOTE_SUFFIX = ".md"
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif"})
# What Anki plays with [sound:…] (video files too: its player shows them)
SOUND_SUFFIXES = frozenset({".mp3", ".wav", ".ogg", ".m4a", ".flac", ".webm", ".mp4"})
_SKIPPED_DIRS = frozenset({".obsidian", ".git", ".trash", "node_modules", "__pycache__"})


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def walk_files(root: Path, allowed: Iterable[Path],
               diagnostics: list[Diagnostic] | None = None, resolved: bool = False,
               skip: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield files under ``root``, skipping hidden folders, the folders ``skip`` names (the
    output folder: outputs are never inputs) and links that escape ``allowed`` (``resolved``:
    each as its real path, as ``Path.resolve`` gives it).

    Each folder is walked once, by its real path: a link back to a parent (``ln -s . self``)
    neither repeats notes nor loops; names that are not UTF-8 are skipped. Both are reported
    when ``diagnostics`` is given. A walk that met no link and nothing to report is kept with
    each folder's stamp, and given again while every folder keeps it (``watch``'s rounds)."""
    allowed, skip = list(allowed), list(skip)
    key = (root, tuple(allowed), resolved, tuple(skip))
    known = _WALKS.get(key)
    if known is not None and all(_folder_stamp(f) == stamp for f, stamp in known[0]):
        yield from known[1]
        return
    _WALKS.pop(key, None)
    walk = _Walk()
    found = []
    for path in _walk(root, allowed, diagnostics, resolved, skip, walk):
        found.append(path)
        yield path
    if walk.keep:  # walked to the end (not stopped early) and nothing special met
        while len(_WALKS) >= _MAX_WALKS:
            del _WALKS[next(iter(_WALKS))]
        _WALKS[key] = (walk.folders, found)


# A folder's listing changes only with its mtime (and ctime, and inode); one changed within
# this many nanoseconds of its walk may change again inside its file system's time
# granularity unseen, so such a walk is not kept.
RACY_NS = 2_000_000_000
_MAX_WALKS = 16
FolderStamp = tuple[int, int, int, int]
_WALKS: dict[tuple[object, ...], tuple[list[tuple[Path, FolderStamp | None]], list[Path]]] = {}


@dataclass
class _Walk:
    """What a walk met: each folder with its stamp; whether it may be given again."""

    folders: list[tuple[Path, FolderStamp | None]] = field(default_factory=list)
    keep: bool = True


def _folder_stamp(folder: Path) -> FolderStamp | None:
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def _walk(root: Path, allowed: list[Path], diagnostics: list[Diagnostic] | None,
          resolved: bool, skip: list[Path], walk: _Walk) -> Iterator[Path]:
    roots = [r.resolve() for r in allowed]
    skipped = {s.resolve() for s in skip} - {root.resolve()}

    def report(problem: Diagnostic) -> None:
        walk.keep = False  # given again, a kept walk would say nothing
        if diagnostics is not None:
            diagnostics.append(problem)

    seen: set[Path] = set()
    stack, linked = [root], list[Path]()  # linked folders last: read under their own names
    while stack or linked:
        folder = stack.pop() if stack else linked.pop(0)
        stamp = _folder_stamp(folder)  # before the listing: a change meanwhile shows later
        try:
            real = folder.resolve(strict=True)
            # scandir knows each entry's type without a stat per file (links are stat-ed)
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name, reverse=True)
        except (OSError, RuntimeError):  # a link loop, or a folder gone meanwhile
            report(_walk_warning(folder, root, "cannot be read; skipped"))
            continue
        if real in skipped:
            continue  # the output folder changes each build: its listing is never read
        if stamp is None or time.time_ns() - stamp[0] < RACY_NS:
            walk.keep = False
        walk.folders.append((folder, stamp))
        if real in seen:
            report(_walk_warning(folder, root, f"is a link to a folder already read "
                                 f"('{_shown(real, root)}'); skipped"))
            continue
        seen.add(real)
        for found in entries:
            if found.name.startswith(".") or found.name in _SKIPPED_DIRS:
                continue
            entry = folder / found.name
            if not _utf8(found.name):
                report(_walk_warning(entry, root, "has a name that is not UTF-8; skipped"))
                continue
            try:
                # A symlink that leads out of the allowed folders is never followed or read.
                link = found.is_symlink()
                walk.keep = walk.keep and not link  # where a link leads may change unseen
                if link and not _inside(entry.resolve(strict=True), roots):
                    continue
                is_dir, is_file = found.is_dir(), found.is_file()
            except (OSError, RuntimeError):
                report(_walk_warning(entry, root, "is a broken or looping symbolic link; "
                                     "skipped"))
                continue
            if is_dir:
                (linked if link else stack).append(entry)
            elif is_file and resolved:
                # the folder's real path is known: only a link needs resolving
                yield entry.resolve() if link else real / found.name
            elif is_file:
                yield entry
    # Sorting per folder with a stack gives depth-first order; callers sort again when needed.


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False
    return True


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when under it, with undecodable bytes shown as �."""
    try:
        text = path.relative_to(root).as_posix()
    except ValueError:
        text = path.as_posix()
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _walk_warning(path: Path, root: Path, message: str) -> Diagnostic:
    return Diagnostic(_shown(path, root), 1, 1, "warning", f"'{path.name}' {message}"
                      .encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                      "skipped-file")


def find_notes(notes_dir: Path, diagnostics: list[Diagnostic] | None = None,
               skip: Iterable[Path] = ()) -> list[Path]:
    """All Markdown notes under ``notes_dir`` but not under ``skip``, sorted by relative path."""
    found = [p for p in walk_files(notes_dir, [notes_dir], diagnostics, skip=skip)
             if p.suffix.lower() == NOTE_SUFFIX]
    return sorted(found, key=lambda p: p.relative_to(notes_dir).as_posix())


def is_vault(folder: Path) -> bool:
    """True when ``folder`` holds ``.obsidian/`` or a Markdown note (found as the notes are:
    the walk stops at the first one)."""
    if (folder / ".obsidian").is_dir():
        return True
    return any(p.suffix.lower() == NOTE_SUFFIX for p in walk_files(folder, [folder]))


def _attachment_setting(notes_dir: Path) -> str | None:
    """``attachmentFolderPath`` from ``.obsidian/app.json``, when set."""
    try:
        settings = json.loads((notes_dir / ".obsidian" / "app.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    folder = settings.get("attachmentFolderPath") if isinstance(settings, dict) else None
    return folder.strip() if isinstance(folder, str) and folder.strip() else None


def attachment_folder(notes_dir: Path) -> Path | None:
    """The vault's attachment folder from ``.obsidian/app.json``, when it names a fixed one."""
    folder = _attachment_setting(notes_dir)
    if folder is None or folder.startswith("./") or folder == ".":
        return None  # "./x" is relative to each note: see note_attachment_folder
    candidate = (notes_dir / folder.strip("/")).resolve()
    return candidate if candidate.is_dir() and _inside(candidate, [notes_dir.resolve()]) else None


def note_attachment_folder(notes_dir: Path) -> str | None:
    """The attachment folder relative to each note (``./files`` in ``.obsidian/app.json``)."""
    folder = _attachment_setting(notes_dir)
    if folder is None or not folder.startswith("./"):
        return None
    parts = [p for p in folder[2:].split("/") if p not in ("", ".")]
    return "/".join(parts) if parts and ".." not in parts else None


@dataclass
class AssetIndex:
    """Images of the assets folders and the notes folder, looked up as Obsidian does."""

    notes_dir: Path
    asset_dirs: list[Path]
    attachments: Path | None = None
    note_attachments: str | None = None  # "./files": a folder beside each note
    skip: list[Path] = field(default_factory=list)  # the output folder: never read
    _by_name: dict[str, list[Path]] = field(default_factory=dict)
    _by_lower: dict[str, list[Path]] = field(default_factory=dict)
    _media: dict[Path, Asset] = field(default_factory=dict)
    _readable: dict[Path, str | None] = field(default_factory=dict)
    order: list[Path] = field(default_factory=list)  # media files in the order first used
    names: set[str] = field(default_factory=set)  # their media names

    def __post_init__(self) -> None:
        self.notes_dir = self.notes_dir.resolve()
        self.asset_dirs = [d.resolve() for d in self.asset_dirs if d.is_dir()]
        for folder in [*self.asset_dirs, self.notes_dir]:
            for path in walk_files(folder, self.roots, resolved=True, skip=self.skip):
                if path.suffix.lower() != NOTE_SUFFIX:
                    self._add(path)

    @property
    def roots(self) -> list[Path]:
        """The folders a note may read from."""
        return [self.notes_dir, *self.asset_dirs]

    def _add(self, path: Path) -> None:
        name = _nfc(path.name)  # macOS writes names decomposed (NFD); notes hold them composed
        for table, key in ((self._by_name, name), (self._by_lower, name.lower())):
            bucket = table.setdefault(key, [])
            if path not in bucket:
                bucket.append(path)

    def why_unreadable(self, path: Path) -> str | None:
        """Why ``path`` cannot be shown as an image, or None (checked once per file)."""
        if path not in self._readable:
            self._readable[path] = _is_image(path)
        return self._readable[path]

    def has_file(self, name: str) -> bool:
        """True when a file (not a note) of that name is in the vault or the assets folders."""
        return _nfc(name.strip().rsplit("/", 1)[-1]).lower() in self._by_lower

    def resolve(self, target: str, note_path: Path) -> Path | None:
        """Find the file an embed names, or None; raise OutsideVaultError for escaping paths."""
        target = _nfc(target.strip())
        if "\x00" in target:
            return None  # no file name holds a NUL byte (and Path refuses one)
        if "/" in target or "\\" in target:
            try:
                return self._resolve_path(target.replace("\\", "/"), note_path)
            except OutsideVaultError:
                raise
            except (OSError, ValueError):  # a name too long for the file system
                return None
        for table, key in ((self._by_name, target), (self._by_lower, target.lower())):
            candidates = table.get(key)
            if candidates:
                return self._closest(candidates, note_path)
        return None

    def _resolve_path(self, target: str, note_path: Path) -> Path | None:
        relative = PurePosixPath(target)
        if relative.is_absolute():
            raise OutsideVaultError(target)
        # A path from the vault's root wins (Obsidian's rule); "./x" and "../x" are the note's.
        bases = [note_path.parent, *self.roots] if target.startswith(".") \
            else [self.notes_dir, note_path.parent, *self.asset_dirs]
        for base in bases:
            candidate = (base / relative).resolve()
            if not _inside(candidate, self.roots):
                raise OutsideVaultError(target)
            if candidate.is_file():
                return candidate
        # Obsidian also matches a partial path by its trailing components, case-insensitively.
        suffix = relative.as_posix().lower()
        for path in self._by_lower.get(relative.name.lower(), []):
            if _nfc(path.as_posix()).lower().endswith("/" + suffix):
                return path
        return None

    def _closest(self, candidates: list[Path], note_path: Path) -> Path:
        """Obsidian's rule for a bare file name: the file beside the note first, then the one
        in the vault's attachment folder (or the note's own ``./attachments`` folder) and the
        assets folders, then the shortest path."""
        note_dir = note_path.parent.resolve()
        local = note_dir / self.note_attachments if self.note_attachments else None

        def rank(path: Path) -> tuple[int, int, str]:
            if path.parent == note_dir:
                tier = 0
            elif path.parent == local:
                tier = 1
            elif self.attachments is not None and self.attachments in path.parents:
                tier = 2
            elif any(d in path.parents for d in self.asset_dirs):
                tier = 3
            else:
                tier = 4
            relative = self._relative(path)
            return (tier, len(relative), relative)

        return min(candidates, key=rank)

    def asset(self, path: Path) -> Asset:
        """The media entry for ``path``, named by content: ``name-<hash of its bytes>.ext``.

        An edited image gets a new name, so the card's HTML changes and Anki updates the note
        and shows the new picture (Anki keeps a stored file whose name it already has); an
        unchanged image keeps its name build after build. Two files sharing a name in different
        folders differ in bytes, so in name too; names depend on the files alone, so notes can
        be rendered in any order, or in parallel."""
        existing = self._media.get(path)
        if existing:
            return existing
        asset = Asset(path=path, media_name=content_name(path))
        self._media[path] = asset
        self.order.append(path)
        self.names.add(asset.media_name)
        return asset

    def _relative(self, path: Path) -> str:
        for root in self.roots:
            if root in path.parents:
                return path.relative_to(root).as_posix()
        return path.name

    @property
    def used(self) -> dict[str, Asset]:
        """Media actually embedded, keyed by media name, in a stable order."""
        return {a.media_name: a for a in sorted(self._media.values(), key=lambda a: a.media_name)}


def _nfc(name: str) -> str:
    """A name composed (NFC), as Obsidian compares them."""
    return unicodedata.normalize("NFC", name)


def _is_image(path: Path) -> str | None:
    """Why the file is not an image a renderer can draw safely, or None."""
    return image_problem(path)
