"""notes-export: Obsidian notes to an Anki deck and a printable PDF cheat sheet."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("notes-export")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
