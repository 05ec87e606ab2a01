"""What every cache key starts from: the exporter's version, the bytes of all of its code and
templates (subpackages too) and the versions of the libraries that shape the outputs. Any
change to any of them makes every cached note, chunk, sheet and session stale."""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

from exporter import __version__

PACKAGE = Path(__file__).parents[1]  # exporter/, every subpackage in it
# The libraries whose upgrade may change a note's HTML, a card, the PDF's bytes or what
# Pillow deems an image: WeasyPrint lays out with pydyf and fontTools, ziamath draws the maths.
LIBRARIES = ("markdown", "pymdown-extensions", "Pygments", "nh3", "PyYAML", "Pillow",
             "genanki", "weasyprint", "pydyf", "fonttools", "pypdf", "ziamath")


@functools.cache
def source_digest() -> str:
    """The digest of this process's exporter and libraries (computed once per process)."""
    return digest_of(PACKAGE, LIBRARIES, __version__)


def digest_of(package: Path, libraries: tuple[str, ...], version: str) -> str:
    """The digest of ``version``, every ``*.py`` file and template under ``package`` (by its
    path inside it) and the installed version of each of ``libraries``."""
    digest = hashlib.sha256(f"{version}\0".encode())
    for name in libraries:
        digest.update(f"{name}={library_version(name)}\0".encode())
    for path in code_files(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_version(name: str) -> str:
    """The installed version of a distribution; ``?`` when it is missing (still a key)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def code_files(package: Path) -> list[Path]:
    """The package's Python files and templates at any depth, sorted; links are not code."""
    found = {*package.rglob("*.py"), *package.rglob("templates/**/*")}
    return sorted(p for p in found if p.is_file() and not p.is_symlink()
                  and "__pycache__" not in p.parts)
