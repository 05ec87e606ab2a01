"""Media files named by their content, so that an edited image changes the card showing it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MAX_SOUND_BYTES = 100 * 1024 * 1024  # AnkiWeb does not sync a larger media file

# Names already worked out in this process, by path and the file's stat: a warm build or a
# watch round applies cached renderings and checks their images without reading them again.
_NAMES: dict[Path, tuple[tuple[int, int, int, int], str]] = {}


def content_name(path: Path) -> str:
    """``stem-<12 hex digits of the bytes' SHA-256>.suffix`` in lower case, as Anki stores media
    it is given (and safe on case-insensitive file systems); the path's hash if unreadable."""
    try:
        info = os.stat(path)
    except OSError:
        return _content_name(path)
    # a rewrite changes the change time (ctime) even when size and mtime are put back
    stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    known = _NAMES.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    name = _content_name(path)
    _NAMES[path] = (stamp, name)
    return name


def _content_name(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        digest.update(str(path).encode())
    return f"{path.stem}-{digest.hexdigest()[:12]}{path.suffix}".lower()


def sound_problem(path: Path) -> str | None:
    """Why the file at ``path`` cannot go into the deck as a sound, or None when it can."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size > MAX_SOUND_BYTES:
        return f"is {size:,} bytes, over the {MAX_SOUND_BYTES:,}-byte limit"
    return None
