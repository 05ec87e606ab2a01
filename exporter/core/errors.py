"""Every error of the exporter's own, and the words the command line prints for the rest.

:class:`ExportError` stops the export with a message that names the path at fault; the others
are caught inside a stage and become diagnostics or warnings. :func:`describe` turns the known
errors of the libraries underneath (files, the previous deck's SQLite, Pillow, WeasyPrint) into
a sentence saying what failed; anything else is an internal error.
"""

from __future__ import annotations

import sqlite3

from exporter.core.model import Diagnostic


class ExportError(Exception):
    """The export cannot go on; the message names the path at fault."""


class ConfigError(ExportError):
    """The configuration file or its values are wrong; the message names the file and key."""


class NoteTypeError(ExportError):
    """A note type the config maps a card kind to is not in the collection as it says."""


class FitError(ExportError):
    """The sheet does not fit the pages asked for, even at the smallest font allowed."""


class ChunkError(Exception):
    """A chunk of a large sheet (sheet_chunks.py) could not be laid out: its notes, and why."""

    def __init__(self, notes: list[str], cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.notes = notes
        self.cause = cause


class NoteError(Exception):
    """A note that cannot be read at all; carries the diagnostic to report."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


class RemoteImageError(Exception):
    """A remote image could not be fetched or is not an image."""


class OutsideVaultError(ValueError):
    """A reference points outside the notes and assets folders."""


class BadEntryError(ValueError):
    """A note cache entry that is not what this version writes."""


class BadStateError(ValueError):
    """The state's content is not what this tool writes."""


def describe(exc: BaseException) -> str | None:
    """A clear message for a known library error, or None when it is not one we know."""
    if isinstance(exc, OSError) and exc.filename is not None:
        target = f"'{exc.filename}'" + (f" → '{exc.filename2}'" if exc.filename2 else "")
        return f"cannot access {target}: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"a file operation failed: {exc.strerror or exc}"
    if isinstance(exc, sqlite3.Error):
        return f"reading the previous deck's database failed: {exc}"
    module = type(exc).__module__.split(".")[0]
    if module == "PIL":
        return f"an image could not be read (Pillow): {exc}"
    if module in ("weasyprint", "pydyf", "tinycss2", "cssselect2"):
        return f"laying out the PDF failed ({module}): {type(exc).__name__}: {exc}"
    return None


def internal(exc: BaseException) -> str:
    """The message for an error nobody expected: a bug to report, with -v for the traceback."""
    return f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)"
