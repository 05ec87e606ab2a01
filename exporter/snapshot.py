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
import hmac
import logging
import os
import pickle
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .notecache import SESSION_FILE, _secret, source_digest
from .sheet_stage import CACHE_DIR, NOTES_DIR

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger(__name__)
MAX_BYTES = 1 << 30  # 5,000 notes take about 60 MB
_HEAD = b"notes-export session 1\n"


def path_of(config: Config) -> Path:
    """Where the snapshot of ``config.out_dir`` lives."""
    return config.out_dir / CACHE_DIR / NOTES_DIR / SESSION_FILE


# Options that reach only the outputs (which files, the PDF's look, the state and times):
# ``check`` and ``build``, with or without the PDF, share one snapshot. Every other option,
# including any added later, makes a snapshot of other options unusable.
OUTPUT_ONLY = frozenset({"out_dir", "epoch", "write_anki", "write_pdf", "layout", "paper",
                         "orientation", "columns", "font_size", "css", "pdf_per", "write_html",
                         "state_file", "previous", "tag_removed", "pages", "min_font_size",
                         "glance", "header", "footer"})


def stamp(config: Config) -> bytes:
    """What a snapshot must have been made under: the code, and every option that may reach a
    note's reading, rendering or cards."""
    options = {name: value for name, value in sorted(vars(config).items())
               if name not in OUTPUT_ONLY}
    return hashlib.sha256(f"{source_digest()}\0{options!r}".encode()).hexdigest().encode()


def load(config: Config) -> dict[str, object] | None:
    """The state a session saved for ``config``, or None when absent or not to be trusted."""
    secret = _secret()
    path = path_of(config)
    if secret is None or any(p.is_symlink() for p in (path.parent, path.parent.parent,
                                                        config.out_dir)):
        return None
    try:
        data = _read_regular(path)
        head, mac, made, body = data.split(b"\n", 3)
        if head + b"\n" != _HEAD or made != stamp(config):
            return None
        if not hmac.compare_digest(mac, _sign(secret, made + b"\n" + body)):
            log.debug("session snapshot %s: bad signature; ignored", path)
            return None
        state = pickle.loads(body)
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError,
            ImportError, TypeError, IndexError, RecursionError) as exc:
        log.debug("session snapshot %s not used: %s", path, exc)
        return None
    return state if isinstance(state, dict) else None


def save(config: Config, session: Session) -> None:
    """Write the session's notes, renderings and cards for the next run (best effort)."""
    secret = _secret()
    path = path_of(config)
    if secret is None or any(p.is_symlink() for p in (path.parent, path.parent.parent,
                                                        config.out_dir)):
        return
    try:
        body = pickle.dumps(session.kept(), protocol=pickle.HIGHEST_PROTOCOL)
        made = stamp(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{SESSION_FILE}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.write_bytes(_HEAD + _sign(secret, made + b"\n" + body) + b"\n" + made + b"\n" + body)
        if path.is_dir() and not path.is_symlink():
            raise OSError(f"{path} is a folder")
        os.replace(tmp, path)  # a link under that name is replaced, never followed
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        # the run goes on; the next one starts from the note cache
        log.debug("session snapshot %s not written: %s", path, exc)
        path.with_name(f".{SESSION_FILE}.{os.getpid()}.tmp").unlink(missing_ok=True)


def _sign(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).hexdigest().encode()


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file of bounded size, never through a link."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise OSError(f"{path} is not a regular file of at most {MAX_BYTES} bytes")
        return handle.read(MAX_BYTES + 1)
