"""The previous deck (``--previous``) opened as untrusted input, for state.py to read.

A CI artifact can be anything: a link to a device, a FIFO, a zip bomb, an encrypted member, a
collection whose ``notes`` is a view computing huge strings, or Anki's newer format. So the deck
must be a regular file, opened without following links; the collection's zip member is checked
(method, encryption, size and ratio) before a byte is read; and its SQLite database is opened
read-only and immutable, with only real tables queried, no string longer than
MAX_VALUE_BYTES, no more text read than the file holds, and a progress handler that stops a
query past READ_SECONDS. Every refusal is an ExportError naming the deck and why.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from exporter.core import processes
from exporter.core.errors import ExportError

T = TypeVar("T")

MAX_COLLECTION_BYTES = 512 << 20
MAX_RATIO = 200  # uncompressed / compressed; a real collection stays far below
_RATIO_FLOOR = 1 << 20  # below this size any ratio is harmless (an empty collection packs well)
MAX_VALUE_BYTES = 32 << 20  # SQLite's length limit: no string, blob or row longer
READ_SECONDS = 60.0  # for every query together; a real 512 MiB collection takes seconds
_CHECK_EVERY = 100  # SQLite instructions between two looks at the clock
MEMBERS = ("collection.anki21b", "collection.anki21", "collection.anki2")  # newest first
# what Anki's newer format keeps in a collection.anki2 beside the real one: a note saying
# "please update Anki"; reading it would give an empty state
_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {12: "bzip2", 14: "LZMA", 93: "Zstandard", 98: "PPMd", 99: "AES encryption"}
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # not on Windows, which has no FIFOs to wait on
_OLDER_ANKI = ('export it from Anki with "Support older Anki versions" ticked, '
               "or pass the deck notes-export wrote")


class Budget:
    """What one read may still spend: characters of text, and time (the progress handler)."""

    def __init__(self, path: Path, text: int) -> None:
        self.path = path
        self.text = text
        self.deadline = 0.0  # set when the collection is opened
        self.stopped = False

    def spend(self, *values: object) -> None:
        """Count the values read; refuse once they hold more text than the file does."""
        self.take(sum(len(v) for v in values if isinstance(v, str | bytes)))

    def take(self, size: int | None) -> None:
        """Count ``size`` characters read (a column's ``length()``, None for NULL)."""
        self.text -= size or 0
        if self.text < 0:  # only computed columns make more text than a file stores
            raise _refuse(self.path, "yields more text than its collection file holds")

    def __call__(self) -> bool:
        """SQLite's progress handler: true stops the running query."""
        self.stopped = self.stopped or time.monotonic() > self.deadline
        return self.stopped


def read(path: Path, reader: Callable[[sqlite3.Connection, Budget], T]) -> T:
    """``reader`` run over the deck's collection within the bounds; an ExportError naming the
    deck when it is not a regular file, not a deck, or past a bound."""
    budget = Budget(path, 0)
    try:
        with _open(path) as deck, zipfile.ZipFile(deck) as archive, \
                processes.temporary_folder() as tmp:
            db = _extract(path, archive, Path(tmp) / "collection.anki2")
            budget.text = db.stat().st_size
            conn = _connect(db, budget)
            try:
                return reader(conn, budget)
            finally:
                conn.close()
    except ExportError:
        raise
    except sqlite3.DataError as exc:  # SQLITE_TOOBIG: past the length limit
        raise _refuse(path, f"holds a value longer than {MAX_VALUE_BYTES >> 20} MiB "
                            "(a crafted collection?)") from exc
    except sqlite3.OperationalError as exc:
        if budget.stopped:
            raise _refuse(path, f"took longer than {READ_SECONDS:g} s to read: stopped "
                                "(a crafted collection?)") from exc
        raise _unreadable(path, exc) from exc
    except (OSError, zipfile.BadZipFile, sqlite3.Error, ValueError, KeyError, TypeError,
            IndexError, AttributeError, RecursionError, EOFError) as exc:
        raise _unreadable(path, exc) from exc


def _refuse(path: Path, why: str) -> ExportError:
    return ExportError(f"--previous '{path}' {why}")


def _unreadable(path: Path, exc: BaseException) -> ExportError:
    return _refuse(path, f"is not a readable Anki deck: {type(exc).__name__}: {exc}")


def _open(path: Path) -> IO[bytes]:
    """The deck, if it is a regular file and not a link: never a device, a FIFO or a folder."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise _refuse(path, "is a symbolic link: pass the deck file itself")
        # O_NONBLOCK: opening a FIFO must not wait for a writer; a link swapped in meanwhile fails
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, "is a symbolic link: pass the deck file itself") from exc
        raise _refuse(path, f"cannot be opened: {exc.strerror or exc}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(path, f"is not a regular file (it is {_kind(mode)}): pass the deck file")
    if _NONBLOCK:
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
             (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def _extract(path: Path, archive: zipfile.ZipFile, target: Path) -> Path:
    """Copy the deck's collection to ``target``, checking its member before reading it."""
    names = set(archive.namelist())
    member = next((n for n in MEMBERS if n in names), None)
    if member is None:
        raise _refuse(path, "holds no collection.anki2")
    info = archive.getinfo(member)
    _check_member(path, info)
    with archive.open(info) as source:
        if member.endswith("b"):
            _decompress(path, source, target, info.file_size)
        else:
            _copy(path, source, target, MAX_COLLECTION_BYTES)
    return target


def _check_member(path: Path, info: zipfile.ZipInfo) -> None:
    """Refuse what zipfile cannot read or should not: encryption, other methods, bombs."""
    name = info.filename
    if info.flag_bits & 0x1 or info.compress_type == 99:
        raise _refuse(path, f"has its {name} encrypted: pass an unencrypted deck")
    if info.compress_type not in _COMPRESSION:
        method = _METHOD_NAMES.get(info.compress_type, "unknown")
        raise _refuse(path, f"has its {name} compressed with method {info.compress_type} "
                            f"({method}); Anki writes stored or deflate members")
    if info.file_size > MAX_COLLECTION_BYTES:
        raise _refuse(path, f"has a collection larger than {MAX_COLLECTION_BYTES >> 20} MiB")
    if info.file_size > max(_RATIO_FLOOR, MAX_RATIO * info.compress_size):
        raise _refuse(path, f"has its {name} expand {info.file_size // max(info.compress_size, 1)}"
                            f" times: a zip bomb, not a deck")


def _copy(path: Path, source: IO[bytes], target: Path, limit: int) -> None:
    with target.open("wb") as sink:
        copied = 0
        for chunk in iter(lambda: source.read(1 << 20), b""):
            copied += len(chunk)
            if copied > limit:  # a size field can lie
                raise _refuse(path, f"has a collection larger than {limit >> 20} MiB"
                              if limit == MAX_COLLECTION_BYTES else
                              f"has a collection that expands more than {MAX_RATIO} times")
            sink.write(chunk)


def _decompress(path: Path, source: IO[bytes], target: Path, packed: int) -> None:
    """Anki's newer format: the collection compressed with Zstandard (one frame)."""
    try:
        import zstandard
    except ImportError:
        raise _refuse(path, "is in Anki's newer format (collection.anki21b), which needs the "
                            f"zstandard package: install it, or {_OLDER_ANKI}") from None
    limit = min(MAX_COLLECTION_BYTES, max(_RATIO_FLOOR, MAX_RATIO * packed))
    reader = zstandard.ZstdDecompressor(max_window_size=1 << 27).stream_reader(source)
    try:
        _copy(path, reader, target, limit)
    except zstandard.ZstdError as exc:
        raise _refuse(path, f"has a collection.anki21b that is not Zstandard data: {exc}") \
            from exc


def _connect(db: Path, budget: Budget) -> sqlite3.Connection:
    """The collection opened read-only and immutable, within the length and time bounds."""
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro&immutable=1", uri=True)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    budget.deadline = time.monotonic() + READ_SECONDS
    conn.set_progress_handler(budget, _CHECK_EVERY)
    conn.execute("pragma trusted_schema = off")  # no unsafe functions in its schema
    conn.execute("pragma query_only = on")
    return conn


def tables(conn: sqlite3.Connection, budget: Budget, *required: str) -> set[str]:
    """The names of the collection's real tables; refuse when one of ``required`` is missing or
    is a view or a virtual table (a view can compute anything; only tables hold stored rows)."""
    if sqlite3.sqlite_version_info >= (3, 37):
        query = "select lower(name), type from pragma_table_list where schema = 'main'"
    else:  # no virtual-table check: the length, text and time bounds still hold
        query = "select lower(name), type from sqlite_master"
    found: dict[str, str] = {}
    for name, kind in conn.execute(query):
        budget.spend(name)
        found[str(name)] = str(kind)
    for name in required:
        if found.get(name) != "table":
            what = f"a {found[name]}" if name in found else "missing"
            raise _refuse(budget.path, f"is not a readable Anki deck: its table '{name}' is "
                                       f"{what}")
    return {name for name, kind in found.items() if kind == "table"}
