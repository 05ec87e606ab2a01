"""Resolve what a note points at: wikilinks to notes, headings and blocks; images; refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from exporter.core.errors import OutsideVaultError, RemoteImageError
from exporter.core.model import Asset, Note
from exporter.read.media import sound_problem
from exporter.read.vault import AssetIndex
from exporter.render.obsidian import Problem
from exporter.render.remote import RemoteImages
from exporter.render.transclude import Places, escapes, find_block, find_section


class Resolver:
    """Links and images of the notes, resolved across the vault as Obsidian resolves them."""

    def __init__(self, index: AssetIndex, notes_dir: Path, notes: list[Note],
                 check_links: bool = False, remote: RemoteImages | None = None) -> None:
        self.index = index
        self.notes_dir = notes_dir
        self.check_links = check_links
        self.remote = remote
        self.places = Places()  # headings and block ids, each note read once
        self.notes_by_title: dict[str, Note] = {}
        for note in notes:
            name = note.relpath.rsplit("/", 1)[-1].removesuffix(".md")
            for key in (name, note.relpath.removesuffix(".md"), *note.aliases):
                self.notes_by_title.setdefault(key.lower(), note)

    def attribute(self, tag: str, attr: str, value: str, note_path: Path,
                   problems: list[Problem]) -> str | None:
        """Images in raw HTML go through the same resolver as Markdown images, or are dropped."""
        if tag != "img" or attr != "src" or value in self.index.names:
            return value
        media, problem = self.image(value, False, note_path)
        if problem is not None:
            problems.append(problem)
        return media

    def link(self, note: Note, target: str, heading: str, raw: str,
              problems: list[Problem]) -> str | None:
        """The anchor a wikilink points to; None when its note is not part of the export."""
        if target and self._refused(note, target, raw, problems, escapes(note.relpath, target)):
            return None
        target_note = note if not target else self.notes_by_title.get(target.lower())
        # A name the vault does not hold may be a link in the vault to a file outside it (the
        # walk never follows those): the file system is asked only then.
        if target_note is None and self._refused(note, target, raw, problems,
                                                 self.outside_link(note, target)):
            return None
        if target_note is None:
            # links to notes outside the export are normal in a vault: reported only on request
            if self.check_links:
                problems.append(Problem(raw, "warning", f"link to note '{target}' that is not "
                                        "in the notes folder", "missing-note"))
            return None
        if not heading:
            return "#" + target_note.anchor
        if heading.startswith("^"):
            block = find_block(target_note, heading[1:].strip(), self.places)
            if block is not None:
                return "#" + block[0].anchor
            problems.append(Problem(raw, "warning", f"link to block '#{heading}' that does not "
                                    f"exist in '{target_note.relpath}'", "missing-block"))
            return None
        section = find_section(target_note, heading, self.places)
        if section is not None:
            return "#" + section.anchor
        problems.append(Problem(raw, "warning", f"link to heading '#{heading}' that does not "
                                f"exist in '{target_note.relpath}'", "missing-heading"))
        return None

    @staticmethod
    def _refused(note: Note, target: str, raw: str, problems: list[Problem],
                 why: str | None) -> bool:
        """True (and an error) when a link or embed leads out of the notes folder: a ``../``
        path above it, an absolute path, or a link in the vault to a file outside it."""
        if why and not any(p.text == raw and p.code == "outside-vault" for p in problems):
            problems.append(Problem(raw, "error", f"'{target}' {why}; refused", "outside-vault"))
        return why is not None

    def outside_link(self, note: Note, target: str) -> str | None:
        """Why ``target`` is a symlink (beside the note or at the vault's top) leading out."""
        roots = [self.notes_dir.resolve(), *self.index.asset_dirs]
        for base in ((self.notes_dir / note.relpath).parent, self.notes_dir):
            for name in (target, target + ".md"):
                candidate = base / name
                try:
                    if candidate.is_symlink() and not any(
                            r == candidate.resolve() or r in candidate.resolve().parents
                            for r in roots):
                        return "is a link to a file outside the notes folder"
                except (OSError, ValueError):
                    continue
        return None

    def image(self, src: str, embedded: bool,
               note_path: Path) -> tuple[str | None, Problem | None]:
        """Resolve an image reference to a media name, or explain why it cannot be."""
        parts = urlsplit(src)
        if parts.scheme or src.startswith("//"):
            if parts.scheme in ("http", "https"):
                return self._remote_image(src)
            return None, Problem(src, "error", f"image '{src}' uses a '{parts.scheme}:' URL; "
                                 "refused", "outside-vault")
        return self._local(unquote(parts.path) if not embedded else src, src, embedded,
                           note_path, "image", self.index.why_unreadable, "bad-image")

    def sound(self, src: str, embedded: bool,
              note_path: Path) -> tuple[str | None, Problem | None]:
        """Resolve an audio or video file to a media name, or explain why it cannot be (the
        rules of images: in the notes or assets folders only, never fetched, a size cap)."""
        parts = urlsplit(src)
        if parts.scheme or src.startswith("//"):
            return None, Problem(src, "warning", f"audio '{src}' is a URL, not a file of the "
                                 "vault; kept as a link", "remote-audio")
        return self._local(unquote(parts.path) if not embedded else src, src, embedded,
                           note_path, "audio", sound_problem, "bad-audio")

    def _local(self, target: str, src: str, embedded: bool, note_path: Path, noun: str,
               unusable: Callable[[Path], str | None], code: str
               ) -> tuple[str | None, Problem | None]:
        """The media name of a file of the vault, or why it cannot be shown (not found,
        outside, or ``unusable`` says why: damaged, too large)."""
        found, problem = self._find(target, src, embedded, note_path, noun)
        if found is None:
            return None, problem
        why = unusable(found)
        if why is not None:
            return None, Problem(_where(src, embedded), "warning", f"{noun} '{target}' {why}; "
                                 "left out", code)
        asset: Asset = self.index.asset(found)
        return asset.media_name, None

    def _find(self, target: str, src: str, embedded: bool, note_path: Path,
              noun: str) -> tuple[Path | None, Problem | None]:
        """The file ``target`` names in the notes or assets folders, or the problem."""
        where = _where(src, embedded)
        try:
            found = self.index.resolve(target, note_path)
        except OutsideVaultError:
            return None, Problem(where, "error", f"{noun} '{target}' is outside the notes and "
                                 "assets folders; refused", "outside-vault")
        if found is not None:
            return found, None
        if "\x00" not in target and self._outside_link_path(target, note_path):
            return None, Problem(where, "error", f"{noun} '{target}' is a link to a file "
                                 "outside the notes and assets folders; refused",
                                 "outside-vault")
        return None, Problem(where, "warning", f"{noun} '{target}' not found in the assets "
                             "or notes folders", f"missing-{noun}")

    def _outside_link_path(self, target: str, note_path: Path) -> bool:
        relpath = note_path.relative_to(self.notes_dir).as_posix()
        note = Note(relpath=relpath, title="")
        return self.outside_link(note, target) is not None

    def _remote_image(self, url: str) -> tuple[str | None, Problem | None]:
        if self.remote is None:
            return None, Problem(url, "warning", f"remote image '{url}' is not fetched "
                                 "(--allow-remote fetches it); kept as a link", "remote-image")
        try:
            path = self.remote.fetch(url)
        except RemoteImageError as exc:
            return None, Problem(url, "warning", f"remote image '{url}' could not be fetched: "
                                 f"{exc}; kept as a link", "remote-image-failed")
        asset = self.index.asset(path)
        return asset.media_name, None


def _where(src: str, embedded: bool) -> str:
    """What a problem is located by: an embed by its opening "![[", so that the column points
    at the embed itself."""
    return f"![[{src}" if embedded else src
