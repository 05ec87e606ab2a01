"""One cache layer: every cache (the rendered notes, the session, the PDFs, their chunks) keeps
its entries alike, each in a folder of its own under ``OUT/.notes-export-cache/``.

An entry's file name is a hash of the code digest (codedigest.py), the cache's name and the
entry's key, so new code renames every entry of every cache and the old ones are pruned. Its
file holds a signature, with this user's key (kept outside any output folder:
cachefiles.secret), over the cache's name, the file name and the body, then the body: an entry
planted, forged, cut short, or copied from another key or another cache does not verify and is a
miss, laid out or rendered again and replaced. Reads are bounded and never follow a link; a
prune removes only what lies in its own cache's folder. Deleting the whole folder is safe.

Which options each cache's keys name is declared on the options themselves
(``Config.options_for``): the note cache keys on "notes", the session on "cards", the sheets on
"sheet"; a chunk is keyed by what it is laid out from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from exporter.cache import cachefiles, codedigest
from exporter.cache.cachefiles import CACHE_DIR
from exporter.core.model import Diagnostic

log = logging.getLogger(__name__)
# the caches, each a folder of the cache root; a sheet's chunks are in a folder of CHUNKS
NOTES, SESSION, SHEETS, CHUNKS = "notes", "session", "sheets", "chunks"
LABELS = {NOTES: "note cache", SESSION: "session snapshot", SHEETS: "PDF cache",
          CHUNKS: "chunk cache"}
# the sheets of the layout before this one, kept in the cache root itself
_OLD_LAYOUT = re.compile(r"(\.)?[0-9a-f]{64}\.(pdf|json|html)(\.\d+\.tmp)?")


def root_of(out_dir: Path) -> Path:
    """The cache root of an output folder."""
    return out_dir / CACHE_DIR


def folder_of(root: Path, name: str) -> Path:
    """The folder of the cache ``name`` (``chunks/<sheet>`` for one sheet's chunks)."""
    return root.joinpath(*name.split("/"))


def entry_name(code: str, name: str, key: str) -> str:
    """The file name of ``key``'s entry in the cache ``name`` under the code ``code``."""
    return hashlib.sha256(f"{code}\0{name}\0{key}".encode()).hexdigest()


def entry_path(root: Path, name: str, key: str) -> Path:
    """Where ``key``'s entry in the cache ``name`` lives, under this process's code."""
    return folder_of(root, name) / entry_name(codedigest.source_digest(), name, key)


class Store:
    """One cache's folder of signed entries, by key (open one with :func:`open_store`)."""

    def __init__(self, root: Path, name: str, secret: bytes,
                 limit: int = cachefiles.MAX_BYTES,
                 diagnostics: list[Diagnostic] | None = None) -> None:
        self.root = root
        self.name = name
        self.folder = folder_of(root, name)
        self.secret = secret
        self.limit = limit  # the largest body kept
        self.diagnostics = diagnostics  # where warnings go; None: the cache is quiet
        self.code = codedigest.source_digest()

    def entry(self, key: str) -> str:
        """The file name of ``key``'s entry."""
        return entry_name(self.code, self.name, key)

    def path(self, key: str) -> Path:
        """Where ``key``'s entry lives."""
        return self.folder / self.entry(key)

    def get(self, key: str) -> bytes | None:
        """The body kept under ``key``; None when absent or not to be trusted."""
        name = self.entry(key)
        path = self.folder / name
        try:
            data = cachefiles.read_regular(path, self.limit + 65)  # signature and newline
            return cachefiles.signed(self.secret, self._bound(name), data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # garbage under our name: the put replaces it
            log.debug("%s entry %s not used: %s", self.name, path, exc)
            return None

    def put(self, key: str, body: bytes) -> bool:
        """Keep ``body`` under ``key`` in one step, whatever held its name; False when not
        kept (too large, a full disk)."""
        if len(body) > self.limit:
            return False
        name = self.entry(key)
        path = self.folder / name
        if path.is_dir() and not path.is_symlink():
            self._warn(path, f"the {self.label} held a folder; removed")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)  # a store opened lazily
            cachefiles.write_atomic(path, cachefiles.seal(self.secret, self._bound(name), body))
        except OSError as exc:  # the build goes on uncached
            log.debug("%s entry %s not written: %s", self.name, path, exc)
            return False
        return True

    def prune(self, keep: Iterable[str], stores: Iterable[str] = ()) -> None:
        """Remove from this cache's folder, and nowhere else, everything but the entries of
        ``keep`` and the folders of the stores :meth:`within` gave for ``stores``."""
        files = {self.entry(key) for key in keep}
        folders = {self.entry(key) for key in stores}
        try:
            for path in sorted(self.folder.iterdir()):
                if path.name in files and cachefiles.regular(path):
                    continue
                if path.name in folders and path.is_dir() and not path.is_symlink():
                    continue
                if path.is_dir() and not path.is_symlink():
                    self._warn(path, f"the {self.label} held a folder; removed")
                cachefiles.remove(path)  # a link goes, never what it names
        except OSError as exc:
            log.debug("%s not pruned: %s", self.folder, exc)

    def within(self, key: str) -> Store | None:
        """The store in a folder of this one's, for ``key`` (the chunks of one sheet), made by
        its first entry; None when a planted file or link there cannot be removed."""
        store = Store(self.root, f"{self.name}/{self.entry(key)}", self.secret, self.limit)
        store.code = self.code
        folder = store.folder
        try:
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                cachefiles.remove(folder)  # planted: never written through
        except OSError as exc:
            log.debug("%s not used: %s", folder, exc)
            return None
        return store

    @property
    def label(self) -> str:
        """What warnings call this cache."""
        return _label(self.name)

    def _bound(self, name: str) -> str:
        """What an entry's signature binds it to: this cache and this file name."""
        return f"{self.name}/{name}"

    def _warn(self, path: Path, message: str) -> None:
        _warn(self.diagnostics, path, message)


def open_store(root: Path, name: str, limit: int = cachefiles.MAX_BYTES,
               diagnostics: list[Diagnostic] | None = None) -> Store | None:
    """The cache ``name`` in the cache root ``root`` (its folder made when missing), or None
    when it must not or cannot be used: the output folder or the root is a link (never written
    through), or there is no key. A link or file where one of the cache's folders belongs is
    removed. Warnings go to ``diagnostics`` when given."""
    label = _label(name)
    store_folder = folder_of(root, name)
    if root.parent.is_symlink() or root.is_symlink():
        _warn(diagnostics, store_folder, f"the {label} folder is (under) a symbolic link; not "
                                         "used (remove it)")
        return None
    secret = cachefiles.secret()
    if secret is None:
        return None
    try:
        folder = root
        for part in name.split("/"):
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                _warn(diagnostics, folder, f"the {label} folder was a symbolic link or a "
                                           "file; removed")
                cachefiles.remove(folder)  # planted: never written through
        store_folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _warn(diagnostics, store_folder,
              f"the {label} folder cannot be made ({exc.strerror}); not used")
        return None
    return Store(root, name, secret, limit, diagnostics)


def remove_old_layout(root: Path) -> None:
    """Remove the sheets an earlier version kept in the cache root itself (``KEY.pdf``,
    ``KEY.json``): only files and links of those names, nothing else there."""
    try:
        for path in sorted(root.iterdir()) if root.is_dir() and not root.is_symlink() else []:
            if _OLD_LAYOUT.fullmatch(path.name) and (path.is_symlink() or path.is_file()):
                cachefiles.remove(path)
    except OSError as exc:
        log.debug("old cache files in %s not removed: %s", root, exc)


def pack(head: Mapping[str, object], data: bytes) -> bytes:
    """A body of a JSON header (one line) and bytes (a PDF)."""
    return json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" + data


def unpack(body: bytes) -> tuple[dict[str, object], bytes]:
    """The header and bytes of a :func:`pack`ed body; ValueError when it is not one."""
    line, newline, data = body.partition(b"\n")
    head = json.loads(line)
    if not newline or not isinstance(head, dict):
        raise ValueError("not a header and bytes")
    return head, data


def _label(name: str) -> str:
    return LABELS.get(name.split("/")[0], "cache")


def _warn(diagnostics: list[Diagnostic] | None, path: Path, message: str) -> None:
    if diagnostics is not None:
        diagnostics.append(Diagnostic(str(path.absolute()), 1, 1, "warning", message,
                                      "bad-cache"))
