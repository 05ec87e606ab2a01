"""Files of the caches kept in an output folder, which a pull request may fill with anything:
signed with this user's key, read without following links and with a bound on size."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import shutil
import stat
from pathlib import Path

log = logging.getLogger(__name__)
CACHE_DIR = ".notes-export-cache"  # in an output folder: a folder per cache (cachestore.py)
MAX_BYTES = 256 * 1024 * 1024  # the largest file a cache reads back


def secret() -> bytes | None:
    """This user's key for signing entries, made once, kept outside any output folder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "notes-export" / "note-cache.key"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_hex(32).encode())
        key = path.read_bytes().strip()
    except OSError as exc:  # no home, read-only, or another run made it meanwhile
        log.debug("cache key %s unusable: %s", path, exc)
        return None
    return key if len(key) == 64 else None


def sign(key: bytes, name: str, body: bytes) -> bytes:
    """The signature that opens a signed entry's first line: it covers the entry's ``name``
    (its kind and key) too, so an entry copied under another entry's name does not verify."""
    return hmac.new(key, name.encode() + b"\0" + body, hashlib.sha256).hexdigest().encode()


def seal(key: bytes, name: str, body: bytes) -> bytes:
    """A signed entry: the signature of ``name`` and ``body``, a newline, then ``body``."""
    return sign(key, name, body) + b"\n" + body


def signed(key: bytes, name: str, data: bytes) -> bytes:
    """The body of an entry sealed under ``name``; ValueError when the signature does not match
    it (forged, truncated, or another entry's file under this name)."""
    mac, _, body = data.partition(b"\n")
    if not hmac.compare_digest(mac, sign(key, name, body)):
        raise ValueError("bad signature")
    return body


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, never through a link; OSError
    otherwise."""
    # no link is followed, and a planted FIFO does not block the build
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise OSError(f"{path} is not a regular file of at most {limit} bytes")
        return handle.read(limit + 1)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, whatever held the name (a link goes)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    remove(tmp)
    remove(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        remove(tmp)  # a full disk leaves no half entry behind
        raise


def regular(path: Path) -> bool:
    """A real file, not a link to one (``is_file`` follows links)."""
    return path.is_file() and not path.is_symlink()


def remove(path: Path) -> None:
    """Delete an entry without following links: a link goes, never what it names."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)  # rmtree unlinks links inside, never descends into them
