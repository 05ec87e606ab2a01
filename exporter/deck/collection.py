"""The Anki collection sync writes to: what the file is, whether Anki holds it, opening it.

Anki's library writes as it opens a collection (it upgrades an old schema, turns on its journal,
sets preferences), and it would write its tables into any file it is given. So everything before
that reads only: the file's first bytes, then SQLite read-only. A dry run opens a private copy,
which keeps every byte of the user's files as it was. The texts Anki stores are normalised on
save (:func:`field_as_stored`, :func:`tags_as_stored`), so a comparison must normalise ours alike.
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import sqlite3
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from exporter.core import processes
from exporter.core.errors import ExportError
from exporter.core.model import MODEL_NAMES

SQLITE_HEADER = b"SQLite format 3\x00"
ANKI_TABLES = ("col", "notes", "cards", "revlog")
SCHEMA_NOTE = {18: "Anki 2.1.50+ reads it; older Anki versions won't"}
_HINT = "point --collection at collection.anki2 in your Anki profile's folder"
_PACKAGE_ENTRIES = {"collection.anki2", "collection.anki21", "collection.anki21b"}
_SIDE_FILES = ("-wal", "-journal")  # what SQLite needs besides the file to read it whole
# SQLite's lock bytes (os_unix.c): a writer holds a write lock on these
_SHARED_FIRST, _SHARED_SIZE = 0x40000000 + 2, 510
# What Anki drops when it stores a field (rslib: ASCII control characters but tab and newline)
# and a tag (all ASCII control characters; a space or U+3000 separates tags)
_FIELD_DROPS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_TAG_DROPS = re.compile("[\x00-\x1f\x7f]")
_TAG_SEPARATORS = re.compile("[ \u3000]")


class CollectionError(ExportError):
    """The file given as the collection cannot be synced; the message says what it is."""


def open_collection(path: Path, *, dry_run: bool, upgrade: bool,
                    echo: Callable[[str], None]) -> Any:
    """Check ``path`` is a collection nobody holds, then open it (a dry run: a private copy)."""
    _refuse_non_database(path)
    if _locked_elsewhere(path):
        raise CollectionError(_locked_message(path))
    if dry_run:
        return _open_copy(path, upgrade, echo)
    _announce_upgrade(path, inspect(path, immutable=True), upgrade, echo)
    return _checked(_anki_open(path, path), lambda: None)


def inspect(path: Path, shown: Path | None = None, immutable: bool = False) -> int:
    """The collection's schema version, read-only; refuse what is not a sound Anki collection.

    ``shown`` is the path named in messages (the user's file when ``path`` is a copy);
    ``immutable`` reads without SQLite's locks, -wal or -shm files (none gets created)."""
    shown = shown or path
    try:
        with contextlib.closing(_read_only(path, immutable)) as db:
            tables = {str(row[0]) for row in db.execute(
                "select name from sqlite_master where type = 'table'")}
            missing = [name for name in ANKI_TABLES if name not in tables]
            if missing:
                raise CollectionError(
                    f"'{shown}' is an SQLite database without Anki's tables (no "
                    f"{', '.join(missing)}): not an Anki collection; {_HINT}")
            row = db.execute("select ver from col").fetchone()
            problems = [str(r[0]) for r in db.execute("pragma quick_check")]
    except sqlite3.Error as exc:
        raise CollectionError(_sqlite_message(shown, exc)) from exc
    if problems != ["ok"]:
        raise CollectionError(_damaged_message(shown, "; ".join(problems[:3])))
    if row is None or not isinstance(row[0], int):
        raise CollectionError(f"'{shown}' has Anki's tables but no collection row: "
                              f"not an Anki collection Anki could open; {_HINT}")
    return row[0]


@functools.cache
def library_schema() -> int:
    """The schema version the installed ``anki`` library writes (it upgrades older ones to it)."""
    from anki.collection import Collection

    with processes.temporary_folder() as tmp:
        col: Any = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            return int(col.db.scalar("select ver from col"))
        finally:
            col.close()


def check_note_types(col: Any) -> None:
    """Refuse when a note type of ours lacks a field sync fills (or has other fields): Anki's
    import would then make a copy of the note type, and updates would fail."""
    from exporter.deck.anki import card_models

    for kind, model in card_models().items():
        found = col.models.by_name(MODEL_NAMES[kind])
        if not found:
            continue
        have = [str(f["name"]) for f in found["flds"]]
        need = [str(f["name"]) for f in model.fields]
        if have != need:
            raise CollectionError(_note_type_message(MODEL_NAMES[kind], have, need))


def filtered_decks(col: Any) -> set[str]:
    """The names of the collection's filtered decks, casefolded (Anki ignores case)."""
    return {str(d["name"]).casefold() for d in col.decks.all() if d.get("dyn")}


def filtered_parent(deck: str, filtered: set[str]) -> str | None:
    """The filtered deck ``deck`` is or lies under, if any: Anki moves no card into one."""
    parts = deck.split("::")
    for end in range(1, len(parts) + 1):
        name = "::".join(parts[:end])
        if name.casefold() in filtered:
            return name
    return None


def normalizes_text(col: Any) -> bool:
    """Whether Anki stores note text in Unicode NFC (a collection setting, on by default)."""
    from anki.config import Config

    return bool(col.get_config_bool(Config.Bool.NORMALIZE_NOTE_TEXT))


def field_as_stored(text: str, nfc: bool) -> str:
    """``text`` as Anki stores it in a field: without ASCII control characters (tab and
    newline stay), and in NFC when the collection normalises text."""
    text = _FIELD_DROPS.sub("", text)
    return unicodedata.normalize("NFC", text) if nfc else text


def tags_as_stored(tags: Iterable[str]) -> list[str]:
    """``tags`` as Anki stores them: split at its separators, each ``::`` part in NFC (always),
    without control characters, trimmed, an empty part named ``blank``."""
    stored = []
    for tag in tags:
        for name in _TAG_SEPARATORS.split(tag):
            if name:
                stored.append("::".join(_tag_part(part) for part in name.split("::")))
    return stored


def _tag_part(part: str) -> str:
    return _TAG_DROPS.sub("", unicodedata.normalize("NFC", part)).strip() or "blank"


def _refuse_non_database(path: Path) -> None:
    """Say what the file is when its first bytes show it is no SQLite database."""
    if path.is_dir():
        inside = path / "collection.anki2"
        hint = f"point --collection at '{inside}'" if inside.is_file() else _HINT
        raise CollectionError(f"'{path}' is a directory, not an Anki collection: {hint}")
    if not path.is_file():
        raise CollectionError(f"no Anki collection at '{path}' (it is the collection.anki2 "
                              "file in your Anki profile's folder)")
    with path.open("rb") as file:
        head = file.read(512)
    if head.startswith(SQLITE_HEADER):
        return
    raise CollectionError(f"'{path}' is {_what(path, head)}: "
                          + (_PACKAGE_HINT if _is_package(path, head) else _HINT))


_PACKAGE_HINT = ("import it in Anki, or point --collection at collection.anki2 in your profile "
                 "folder")


def _what(path: Path, head: bytes) -> str:
    if not head:
        return "an empty file, not an Anki collection"
    if _is_package(path, head):
        return "an Anki package (.apkg), not a collection"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive, not an Anki collection"
    try:
        text = b"\x00" not in head and bool(head.decode("utf-8"))
    except UnicodeDecodeError:
        text = False
    return "a text file, not a database" if text else "not a database"


def _is_package(path: Path, head: bytes) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(_PACKAGE_ENTRIES & set(archive.namelist()))
    except (zipfile.BadZipFile, OSError):
        return False


def _locked_elsewhere(path: Path) -> bool:
    """True while another process writes or holds the database (Anki keeps it locked while
    open). Tried with a lock on SQLite's lock bytes, never by opening the database, which
    would create its -wal and -shm files; where there are no POSIX locks, False."""
    try:
        import fcntl
    except ImportError:  # Windows: the read-only probe (inspect) still finds Anki's lock
        return False
    with path.open("rb") as file:
        try:
            fcntl.lockf(file, fcntl.LOCK_SH | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST)
        except OSError:
            return True
        fcntl.lockf(file, fcntl.LOCK_UN, _SHARED_SIZE, _SHARED_FIRST)
    return False


def _read_only(path: Path, immutable: bool) -> sqlite3.Connection:
    """A read-only SQLite connection that gives up soon when the database is locked."""
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    db = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, timeout=1.0)
    db.create_collation("unicase", _unicase)  # Anki's indexes on names use it
    return db


def _unicase(a: str, b: str) -> int:
    a, b = a.casefold(), b.casefold()
    return (a > b) - (a < b)


def _open_copy(path: Path, upgrade: bool, echo: Callable[[str], None]) -> Any:
    """Open a private copy of the collection (and its -wal), so a dry run writes nothing."""
    tmp = processes.temporary_folder()
    try:
        copy = Path(tmp.name) / "collection.anki2"
        for suffix in ("", *_SIDE_FILES):
            if Path(f"{path}{suffix}").is_file():
                shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
        schema = inspect(copy, shown=path)
        if schema < library_schema():
            echo(_upgrade_line(schema, "would upgrade") + ("" if upgrade else
                 "; a real sync needs --upgrade"))
        return _checked(_anki_open(copy, path), tmp.cleanup)
    except BaseException:
        tmp.cleanup()
        raise


def _announce_upgrade(path: Path, schema: int, upgrade: bool,
                      echo: Callable[[str], None]) -> None:
    """Opening upgrades an older schema for good: only with --upgrade, and said first."""
    target = library_schema()
    if schema > target:
        raise CollectionError(f"the collection '{path}' has schema {schema}, newer than the "
                              f"installed anki library reads ({target}): upgrade it "
                              "(pip install --upgrade anki)")
    if schema == target:
        return
    if not upgrade:
        raise CollectionError(
            f"the collection '{path}' has schema {schema} (Anki before 2.1.50, or a "
            f"downgraded collection): syncing upgrades it to schema {target}"
            f" ({SCHEMA_NOTE.get(target, 'older Anki versions will not read it')}); "
            "run sync again with --upgrade, or open the collection once in a current Anki")
    echo(_upgrade_line(schema, "upgrading"))


def _upgrade_line(schema: int, verb: str) -> str:
    target = library_schema()
    note = SCHEMA_NOTE.get(target, "older Anki versions won't read it")
    return f"{verb} the collection from schema {schema} to {target} ({note})"


def _anki_open(path: Path, shown: Path) -> Any:
    """Anki's own open; its errors said as lock, damage or else."""
    from anki.collection import Collection
    from anki.errors import DBError

    try:
        return Collection(str(path))
    except DBError as exc:
        if _is_lock(str(exc)):
            raise CollectionError(_locked_message(shown, exc)) from exc
        raise CollectionError(_damaged_message(shown, str(exc))) from exc
    except Exception as exc:
        raise CollectionError(f"cannot open the Anki collection '{shown}': {exc}") from exc


def _checked(col: Any, cleanup: Callable[[], None]) -> Any:
    """``col`` after checking our note types; closing it runs ``cleanup`` (removes a copy)."""
    close = col.close

    def close_and_clean(downgrade: bool = False) -> None:
        try:
            close(downgrade)
        finally:
            cleanup()

    col.close = close_and_clean
    try:
        check_note_types(col)
    except BaseException:
        col.close()
        raise
    return col


def _is_lock(text: str) -> bool:
    return "locked" in text or "already open" in text or "busy" in text.lower()


def _sqlite_message(path: Path, exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or _is_lock(str(exc)):
        return _locked_message(path, exc)
    return _damaged_message(path, str(exc))


def _locked_message(path: Path, exc: BaseException | str = "database is locked") -> str:
    return (f"the collection '{path}' is open in Anki (or being synced): close Anki, or switch "
            f"it to another profile, then run sync again ({exc})")


def _damaged_message(path: Path, detail: str) -> str:
    return (f"the collection '{path}' is damaged ({detail}): sync changed nothing; in Anki, "
            "Tools › Check Database may repair it, or restore a backup (File › Switch Profile "
            "› Open Backup)")


def _note_type_message(name: str, have: list[str], need: list[str]) -> str:
    missing = [f for f in need if f not in have]
    extra = [f for f in have if f not in need]
    what = (f"has lost its field{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}"
            if missing else f"has other fields than sync fills ({', '.join(map(repr, extra))})"
            if extra else "has its fields in another order")
    return (f"the note type '{name}' in the collection {what}: it has {', '.join(have)}; sync "
            f"fills {', '.join(need)}. Restore the fields in Anki (Tools › Manage Note Types › "
            f"Fields), or rename the note type so that sync makes a fresh one; nothing was "
            "changed")
