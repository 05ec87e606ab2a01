"""What one export needs to know: defaults, a config file next to the notes, command-line values."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from exporter.core import kinds, note_types, vaultid
from exporter.core.errors import ConfigError as ConfigError  # re-exported: the old import path
from exporter.core.errors import ExportError as ExportError
from exporter.core.note_types import NoteType
from exporter.core.text import slugify

PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
LAYOUTS = ("cheatsheet", "handout")
DEFAULT_FOOTER = "{title} | page {page} of {pages}"


@dataclass(frozen=True)
class SheetOptions:
    """What the sheet looks like; ``layout`` picks the defaults the other fields may override."""

    title: str
    source: str
    date: dt.date
    layout: str = "cheatsheet"
    paper: str = "a4"
    orientation: str | None = None
    columns: int | None = None
    font_size: float | None = None
    user_css: str = ""
    pages: int | None = None  # fit the sheet to this many printed pages
    min_font_size: float = 6.0  # … at no smaller a font than this
    glance: bool = True
    header: str = ""  # "left | centre | right", with {title} {date} {source} {page} {pages}
    footer: str = DEFAULT_FOOTER

    def resolved(self) -> SheetOptions:
        """These options with the layout's defaults filled in."""
        handout = self.layout == "handout"
        return replace(
            self,
            orientation=self.orientation or ("portrait" if handout else "landscape"),
            columns=self.columns or (2 if handout else 3),
            font_size=self.font_size or (9.5 if handout else 7.8),
        )


CARD_KINDS = kinds.names()  # the registry in kinds.py; these names for older imports
DEFAULT_CARD_KINDS = kinds.defaults()
CONFIG_FILE = "notes-export.toml"
log = logging.getLogger(__name__)
SAMPLE_NOTES = Path("source_notes")  # the notes folder with no NOTES_DIR, when present
DEFAULT_ASSETS = Path("assets")
GITIGNORE = """\
# Written by notes-export: its outputs (deck, sheet, state, caches) stay out of git.
# Name the output folder (--out, or out = "..." in notes-export.toml) to decide yourself.
*
"""


# What a change of an option makes stale, declared on each field of Config as
# ``field(..., metadata={"invalidates": KIND})`` (a kind, or a tuple of kinds for an option
# that shapes two things): "notes" (a note's reading or rendered HTML, so its cards and the
# sheet too), "cards" (the cards, and which notes a run takes), "sheet" (the PDFs), "outputs"
# (only where and whether outputs are written: no cache). A field that declares nothing makes
# every cache stale.
KINDS = ("notes", "cards", "sheet", "outputs")
_STALE = {"notes": {"notes", "cards", "sheet"}, "cards": {"cards"}, "sheet": {"sheet"},
          "outputs": set()}


def invalidates(item: Field[Any]) -> frozenset[str]:
    """The kinds of cache (of :data:`KINDS`) a change of this field of Config makes stale."""
    declared = item.metadata.get("invalidates")
    if declared is None:
        return frozenset(KINDS[:-1])
    kinds = (declared,) if isinstance(declared, str) else tuple(declared)
    if not kinds or any(kind not in _STALE for kind in kinds):
        raise ValueError(f"Config.{item.name} invalidates {declared!r}, not one of {KINDS}")
    return frozenset(stale for kind in kinds for stale in _STALE[kind])


@dataclass
class Config:
    """Everything one export needs to know; each field declares what a change of it makes
    stale (``invalidates``, above)."""

    notes_dir: Path = field(metadata={"invalidates": "notes"})
    asset_dirs: list[Path] = field(default_factory=lambda: [DEFAULT_ASSETS],
                                   metadata={"invalidates": "notes"})
    out_dir: Path = field(default=Path("dist"), metadata={"invalidates": "outputs"})
    # out_dir is the default, named by no option or config file
    out_by_default: bool = field(default=False, metadata={"invalidates": "outputs"})
    # the deck's name and the sheet's title
    deck_name: str | None = field(default=None, metadata={"invalidates": ("cards", "sheet")})
    write_anki: bool = field(default=True, metadata={"invalidates": "outputs"})
    write_pdf: bool = field(default=True, metadata={"invalidates": "outputs"})
    epoch: int | None = field(default=None, metadata={"invalidates": "outputs"})
    check_links: bool = field(default=False, metadata={"invalidates": "notes"})
    allow_remote: bool = field(default=False, metadata={"invalidates": "notes"})
    # command line only: see _COMMAND_LINE_ONLY
    allow_private_remote: bool = field(default=False, metadata={"invalidates": "notes"})
    card_kinds: tuple[str, ...] = field(default=DEFAULT_CARD_KINDS,
                                        metadata={"invalidates": "cards"})
    cloze_highlights: bool = field(default=False, metadata={"invalidates": "notes"})
    # auto: sections only of notes written in no card syntax
    section_cards: str = field(default="auto", metadata={"invalidates": "cards"})
    folder_decks: bool = field(default=True, metadata={"invalidates": "cards"})
    folder_tags: bool = field(default=False, metadata={"invalidates": "cards"})
    vault_name: str | None = field(default=None, metadata={"invalidates": "cards"})
    # the vault's identity (vaultid.py); default: its name
    vault_id: str | None = field(default=None, metadata={"invalidates": "cards"})
    layout: str = field(default="cheatsheet", metadata={"invalidates": "sheet"})
    paper: str = field(default="a4", metadata={"invalidates": "sheet"})
    orientation: str | None = field(default=None, metadata={"invalidates": "sheet"})
    columns: int | None = field(default=None, metadata={"invalidates": "sheet"})
    font_size: float | None = field(default=None, metadata={"invalidates": "sheet"})
    css: Path | None = field(default=None, metadata={"invalidates": "sheet"})
    pdf_per: str | None = field(default=None, metadata={"invalidates": "sheet"})
    write_html: bool = field(default=False, metadata={"invalidates": "outputs"})
    # the previous build's state; default: beside the deck
    state_file: Path | None = field(default=None, metadata={"invalidates": "outputs"})
    # the previous deck, read as the state (a CI artifact)
    previous: Path | None = field(default=None, metadata={"invalidates": "outputs"})
    # send removed cards once more, tagged notes-export::removed
    tag_removed: bool = field(default=False, metadata={"invalidates": "outputs"})
    pages: int | None = field(default=None, metadata={"invalidates": "sheet"})
    min_font_size: float = field(default=6.0, metadata={"invalidates": "sheet"})
    glance: bool = field(default=True, metadata={"invalidates": "sheet"})
    header: str = field(default="", metadata={"invalidates": "sheet"})
    footer: str = field(default=DEFAULT_FOOTER, metadata={"invalidates": "sheet"})
    # which notes a run takes: the session's and the sheet's (a note's HTML is keyed by the
    # notes there are)
    include: list[str] = field(default_factory=list, metadata={"invalidates": ("cards", "sheet")})
    exclude: list[str] = field(default_factory=list, metadata={"invalidates": ("cards", "sheet")})
    tags: list[str] = field(default_factory=list, metadata={"invalidates": ("cards", "sheet")})
    # your own note types, by our note type (note_types.py): the deck's and sync's
    note_types: dict[str, NoteType] = field(default_factory=dict,
                                            metadata={"invalidates": "outputs"})
    # watch's deck: the same notes, written faster and not byte-identical (deck/fastdeck.py);
    # set by ``watch`` only, never by an option or the config file
    fast_writes: bool = field(default=False, metadata={"invalidates": "outputs"})

    def options_for(self, kind: str) -> dict[str, Any]:
        """The options, by name, that key the caches of ``kind`` ("notes", "cards" or
        "sheet"): every field whose change makes that kind stale."""
        if kind not in KINDS[:-1]:
            raise ValueError(f"no cache is keyed by {kind!r} options")
        return {item.name: getattr(self, item.name) for item in fields(self)
                if kind in invalidates(item)}

    def options_key(self, kind: str) -> str:
        """:meth:`options_for` as text, in name order: what a cache's key holds of them."""
        return repr(sorted(self.options_for(kind).items()))

    def sheet(self, title: str, date: dt.date) -> SheetOptions:
        """The PDF options for one sheet of this export."""
        user_css = ""
        if self.css is not None:
            try:
                user_css = self.css.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ExportError(f"cannot read stylesheet '{self.css}': {exc}") from exc
        return SheetOptions(
            title=title, source=self.notes_dir.resolve().name, date=date, layout=self.layout,
            paper=self.paper, orientation=self.orientation, columns=self.columns,
            font_size=self.font_size, user_css=user_css, pages=self.pages,
            min_font_size=self.min_font_size, glance=self.glance, header=self.header,
            footer=self.footer)

    @property
    def out_ignored(self) -> bool:
        """True when the default output folder lies inside the notes folder: it gets a
        ``.gitignore`` of its own, so a vault's git repository never sees the outputs."""
        return self.out_by_default and self.notes_dir.resolve() in self.out_dir.resolve().parents

    @property
    def title(self) -> str:
        """The deck name, or the notes folder's name made readable."""
        if self.deck_name:
            return self.deck_name
        name = self.notes_dir.resolve().name.replace("_", " ").replace("-", " ")
        return " ".join(w if w.isupper() else w.capitalize() for w in name.split()) or "Notes"

    @property
    def vault(self) -> vaultid.VaultId:
        """This vault's identity: GUID namespace and Anki tag (vaultid.py)."""
        return vaultid.of(self.vault_id, self.vault_name, self.notes_dir.resolve().name)

    @property
    def stem(self) -> str:
        """File name (without suffix) shared by the outputs."""
        return slugify(self.title)


# --- the config file ------------------------------------------------------------------------------


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("a non-empty string")
    return value


def _identity(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > vaultid.MAX_LENGTH:
        raise TypeError(f"a non-empty string of at most {vaultid.MAX_LENGTH} characters")
    return value.strip()


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


def _choice(*allowed: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in allowed:
            raise TypeError("one of " + ", ".join(allowed))
        return str(value)

    return check


def _number(low: float, high: float, kind: type = float) -> Callable[[object], Any]:
    def check(value: object) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (kind is int and not isinstance(value, int)) or not low <= value <= high:
            raise TypeError(f"{'an integer' if kind is int else 'a number'} from {low} to {high}")
        return kind(value)

    return check


def _texts(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TypeError("a list of strings")
    return list(value)


def _line(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("a string")
    return value


def _kinds(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or any(v not in kinds.names() for v in value):
        raise TypeError("a list of " + ", ".join(kinds.names()))
    return tuple(value)


# key in the file → (Config field, check); paths are relative to the file's folder
_KEYS: dict[str, tuple[str, Callable[[object], Any]]] = {
    "deck": ("deck_name", _text),
    "out": ("out_dir", _text),
    "cards": ("card_kinds", _kinds),
    "cloze_highlights": ("cloze_highlights", _flag),
    "section_cards": ("section_cards", _choice("auto", "always", "never")),
    "folder_decks": ("folder_decks", _flag),
    "folder_tags": ("folder_tags", _flag),
    "vault": ("vault_name", _text),
    "vault_id": ("vault_id", _identity),
    "check_links": ("check_links", _flag),
    "allow_remote": ("allow_remote", _flag),
    "anki": ("write_anki", _flag),
    "pdf": ("write_pdf", _flag),
    "layout": ("layout", _choice(*LAYOUTS)),
    "paper": ("paper", _choice(*PAPERS)),
    "orientation": ("orientation", _choice("portrait", "landscape")),
    "columns": ("columns", _number(1, 6, int)),
    "font_size": ("font_size", _number(5, 16)),
    "css": ("css", _text),
    "pdf_per": ("pdf_per", _choice("note", "folder")),
    "html": ("write_html", _flag),
    "state": ("state_file", _text),
    "tag_removed": ("tag_removed", _flag),
    "pages": ("pages", _number(1, 99, int)),
    "min_font_size": ("min_font_size", _number(4, 16)),
    "glance": ("glance", _flag),
    "header": ("header", _line),
    "footer": ("footer", _line),
    "include": ("include", _texts),
    "exclude": ("exclude", _texts),
    "tags": ("tags", _texts),
}
_PATHS = {"out_dir", "css", "state_file"}
TABLE_KEYS = ("assets", "note_types")  # keys file_values reads with checks of their own
# A config file comes with the notes, from a pull request too: one that could allow private
# addresses would let a note make CI (or your laptop) fetch from its internal network (cloud
# metadata at 169.254.169.254, admin pages on localhost) and put the answer in the deck.
_COMMAND_LINE_ONLY = {"allow_private_remote": "--allow-private-remote"}


def read_config_file(path: Path) -> tuple[Path, Mapping[str, Any]]:
    """The config file ``--config`` names: a ``notes-export.toml``, or a ``pyproject.toml``
    whose ``[tool.notes-export]`` table is read."""
    data = _read_toml(path)
    if path.name != "pyproject.toml":
        return path, data
    section = data.get("tool", {}).get("notes-export")
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: no [tool.notes-export] table")
    return path, section


def find_config_file(notes_dir: Path) -> tuple[Path, Mapping[str, Any]] | None:
    """``notes-export.toml`` in or beside the notes folder, else ``[tool.notes-export]``."""
    for folder in (notes_dir, notes_dir.resolve().parent):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate, _read_toml(candidate)
    pyproject = notes_dir.resolve().parent / "pyproject.toml"
    if pyproject.is_file():
        section = _read_toml(pyproject).get("tool", {}).get("notes-export")
        if isinstance(section, dict):
            return pyproject, section
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def file_values(path: Path, table: Mapping[str, Any], notes_dir: Path | None = None
                ) -> dict[str, Any]:
    """Config field values from a config table, checked; an unknown key is an error.
    ``notes_dir``: the vault that template files of ``note_types`` are read from (default:
    the config file's folder)."""
    values: dict[str, Any] = {}
    where = f"{path}" + (" [tool.notes-export]" if path.name == "pyproject.toml" else "")
    for key, raw in table.items():
        if key == "note_types":
            values["note_types"] = note_types.read(where, raw, notes_dir or path.parent)
            continue
        if key == "assets":
            if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                raise ConfigError(f"{where}: 'assets' must be a list of folders")
            values["asset_dirs"] = [_contained(path, where, key, v) for v in raw]
            continue
        if key in _COMMAND_LINE_ONLY:
            raise ConfigError(f"{where}: '{key}' is not read from a config file; only the "
                              f"command line may give it ({_COMMAND_LINE_ONLY[key]})")
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key '{key}' ({_suggest(key)})")
        name, check = _KEYS[key]
        try:
            value = check(raw)
        except TypeError as exc:
            raise ConfigError(f"{where}: '{key}' must be {exc}") from None
        values[name] = _contained(path, where, key, value) if name in _PATHS else value
    return values


def _suggest(key: str) -> str:
    """``did you mean 'columns'?`` for a typo, else every key the file may hold."""
    known = sorted([*_KEYS, *TABLE_KEYS])
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(known)


def _contained(config_file: Path, where: str, key: str, value: str) -> Path:
    """A path from a config file, which must stay inside the folder holding the file (or the
    repository above it) and out of ``.git``: notes from a pull request can bring a config
    file, and only the command line may point elsewhere."""
    folder = config_file.parent.resolve()
    base = _repository_root(folder) or folder
    target = (config_file.parent / value).resolve()
    try:
        parts: tuple[str, ...] | None = target.relative_to(base).parts
    except ValueError:
        parts = None
    if parts is None or ".git" in parts:
        raise ConfigError(f"{where}: '{key}' = '{value}' leads outside '{base}' (or into .git); "
                          "a config file may only name paths inside its project, the command "
                          "line may name any")
    return config_file.parent / value


def _repository_root(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` holding ``.git``."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None



def _default_assets(notes_dir: Path) -> list[Path]:
    """``assets`` unless it is inside the notes folder: there it is part of the vault, and
    the vault's own attachment rules find its images."""
    inside = notes_dir.resolve() in (DEFAULT_ASSETS.resolve(), *DEFAULT_ASSETS.resolve().parents)
    return [] if inside else [DEFAULT_ASSETS]


def load(notes_dir: Path, overrides: Mapping[str, Any], config_file: Path | None = None
         ) -> Config:
    """Defaults, then the config file's values (``config_file``, else the one found beside the
    notes), then the command line's."""
    values: dict[str, Any] = {}
    found = read_config_file(config_file) if config_file else find_config_file(notes_dir)
    if found is not None:
        values.update(file_values(*found, notes_dir))
        log.info("config: %s%s", found[0],
                 " [tool.notes-export]" if found[0].name == "pyproject.toml" else "")
    else:
        log.info("config: none (no %s in or beside %s, no [tool.notes-export] in the "
                 "pyproject.toml beside it)", CONFIG_FILE, notes_dir)
    values.update(overrides)
    values.setdefault("out_by_default", "out_dir" not in values)
    values.setdefault("asset_dirs", _default_assets(notes_dir))
    known = {f.name for f in fields(Config)}
    unknown = set(values) - known
    if unknown:  # a programming error in a caller, not a user's
        raise ValueError(f"unknown Config fields: {sorted(unknown)}")
    return Config(notes_dir=notes_dir, **values)
