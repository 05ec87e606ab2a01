"""A session's notes kept on disk between runs: ``OUT/.notes-export-cache/notes/session.pickle``
holds each note as it was read (split, its cards' syntax read), its rendering and its cards, so
a warm ``check --out`` or ``build`` reads, renders and makes cards only for what changed.

The file sits in an output folder a pull request can fill, and pickle runs code when it loads:
the file is signed with the note cache's key (kept outside any output folder) and its signature
is checked before anything is unpickled; it names the exporter's source digest and the options
it was made under, and anything that does not match (corrupt, forged, another version, other
options, a link) is ignored and replaced. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path

from exporter.cache import cachefiles, codedigest
from exporter.cache.cachefiles import CACHE_DIR, NOTES_DIR
from exporter.core.config import Config
from exporter.render.notecache import SESSION_FILE

log = logging.getLogger(__name__)
MAX_BYTES = cachefiles.MAX_BYTES  # 5,000 notes take about 55 MB
_HEAD = b"notes-export session 1\n"


def path_of(config: Config) -> Path:
    """Where the snapshot of ``config.out_dir`` lives."""
    return config.out_dir / CACHE_DIR / NOTES_DIR / SESSION_FILE


# Options that reach only the outputs (which files, the PDF's look, the state and times):
# ``check`` and ``build``, with or without the PDF, share one snapshot. Every other option,
# including any added later, makes a snapshot of other options unusable.
OUTPUT_ONLY = frozenset({"out_dir", "out_by_default", "epoch", "write_anki", "write_pdf",
                         "layout", "paper", "orientation", "columns", "font_size", "css",
                         "pdf_per", "write_html", "state_file", "previous", "tag_removed",
                         "pages", "min_font_size", "glance", "header", "footer",
                         "note_types", "fast_writes"})


def stamp(config: Config) -> bytes:
    """What a snapshot must have been made under: the code, and every option that may reach a
    note's reading, rendering or cards."""
    options = {name: value for name, value in sorted(vars(config).items())
               if name not in OUTPUT_ONLY}
    code = codedigest.source_digest()
    return hashlib.sha256(f"{code}\0{options!r}".encode()).hexdigest().encode()


def load(config: Config) -> dict[str, object] | None:
    """The state a session saved for ``config``, or None when absent or not to be trusted."""
    key = cachefiles.secret()
    path = path_of(config)
    if key is None or _linked(config):
        return None
    try:
        head, _, data = cachefiles.read_regular(path, MAX_BYTES).partition(b"\n")
        made, _, body = cachefiles.signed(key, SESSION_FILE, data).partition(b"\n")
        if head + b"\n" != _HEAD or made != stamp(config):
            return None
        state = pickle.loads(body)  # signed by us: never a planted file's bytes
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError,
            ImportError, TypeError, IndexError, RecursionError) as exc:
        log.debug("session snapshot %s not used: %s", path, exc)
        return None
    return state if isinstance(state, dict) else None


def save(config: Config, kept: dict[str, object]) -> None:
    """Write what an engine kept (its notes, renderings and cards) for the next run (best
    effort)."""
    key = cachefiles.secret()
    path = path_of(config)
    if key is None or _linked(config):
        return
    try:
        data = stamp(config) + b"\n" + pickle.dumps(kept, pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(parents=True, exist_ok=True)
        cachefiles.write_atomic(path, _HEAD + cachefiles.seal(key, SESSION_FILE, data))
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        # the run goes on; the next one starts from the note cache
        log.debug("session snapshot %s not written: %s", path, exc)
        cachefiles.remove(path.with_name(f".{SESSION_FILE}.{os.getpid()}.tmp"))


def _linked(config: Config) -> bool:
    """True when the output folder or a cache folder on the way is a link: never used."""
    folder = path_of(config).parent
    return any(p.is_symlink() for p in (folder, folder.parent, config.out_dir))
