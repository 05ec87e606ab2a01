"""Media files named by their content, so that an edited image changes the card showing it."""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_name(path: Path) -> str:
    """``stem-<12 hex digits of the bytes' SHA-256>.suffix`` in lower case, as Anki stores media
    it is given (and safe on case-insensitive file systems); the path's hash if unreadable."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        digest.update(str(path).encode())
    return f"{path.stem}-{digest.hexdigest()[:12]}{path.suffix}".lower()
