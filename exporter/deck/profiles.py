"""Where Anki keeps a profile's collection: ``--profile NAME`` (and ``--base DIR``) for sync.

Anki keeps each profile in a folder of its data folder, ``<base>/<profile>/collection.anki2``;
the data folder is, as Anki's own ``aqt/profiles.py`` chooses it: ``%APPDATA%\\Anki2`` on
Windows, ``~/Library/Application Support/Anki2`` on macOS, and ``$XDG_DATA_HOME/Anki2``
(``~/.local/share/Anki2``) elsewhere; Anki's ``--base DIR`` (or ``ANKI_BASE``) names another.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

COLLECTION = "collection.anki2"


class ProfileError(Exception):
    """No such profile; the message lists the ones there are."""


def anki_base(platform: str = sys.platform) -> Path:
    """Anki's data folder on this system."""
    if os.environ.get("ANKI_BASE"):
        return Path(os.environ["ANKI_BASE"])
    home = Path.home()
    if platform.startswith("win"):
        return Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming") / "Anki2"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Anki2"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "Anki2"


def profiles(base: Path) -> list[str]:
    """The profiles in ``base``: its folders that hold a collection."""
    try:
        return sorted(p.name for p in base.iterdir() if (p / COLLECTION).is_file())
    except OSError:
        return []


def find_collection(profile: str, base: Path | None = None) -> Path:
    """The collection of ``profile`` (its name, in any case); ProfileError saying what exists."""
    base = base or anki_base()
    found = profiles(base)
    match = [p for p in found if p == profile] or \
        [p for p in found if p.casefold() == profile.casefold()]
    if match:
        return base / match[0] / COLLECTION
    there = ("its profiles: " + ", ".join(f"'{p}'" for p in found)) if found else \
        "no profile with a collection there (is Anki installed, or is --base needed?)"
    raise ProfileError(f"no Anki profile '{profile}' in {base}; {there}")
