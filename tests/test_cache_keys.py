"""The sheet cache is signed like the others, and every cache key names all of the exporter's
code and the libraries that shape the outputs (issue 17)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from exporter.app.pipeline import Config, export
from exporter.cache import cachestore, codedigest
from exporter.sheet import sheet_stage

from .conftest import EPOCH, write_note

pytestmark = pytest.mark.usefixtures("own_key")


def _build(project: Path, out: str = "dist") -> Path:
    export(Config(notes_dir=project / "notes", out_dir=project / out, write_anki=False,
                  write_html=True, epoch=EPOCH))
    return project / out


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))


def _sheets(out: Path) -> Path:
    return cachestore.folder_of(cachestore.root_of(out), cachestore.SHEETS)


def _forge(entry: Path, planted: Path) -> None:
    """What a pull request can commit under the name of a sheet's entry: another PDF and HTML
    with a script, with a signature it cannot make."""
    body = cachestore.pack({"source": "<html><script>alert(1)</script></html>"},
                           (planted / "notes.pdf").read_bytes())
    mac = hmac.new(b"guessed", body, hashlib.sha256).hexdigest().encode()
    entry.write_bytes(mac + b"\n" + body)


def _unsigned(entry: Path, planted: Path) -> None:
    entry.write_bytes(cachestore.pack({"source": "<script>alert(1)</script>"},
                                      (planted / "notes.pdf").read_bytes()))


def _truncate(entry: Path, planted: Path) -> None:
    entry.write_bytes(entry.read_bytes()[:-20])


def _link(entry: Path, planted: Path) -> None:
    entry.unlink()
    entry.symlink_to(next(_sheets(planted).iterdir()))


def _other_key(entry: Path, planted: Path) -> None:
    """A real entry of this user's, signed with this user's key, copied under our name."""
    shutil.copyfile(next(_sheets(planted).iterdir()), entry)


@pytest.mark.parametrize("plant", [_forge, _unsigned, _truncate, _link, _other_key],
                         ids=["forged", "unsigned", "truncated", "linked", "other-key"])
def test_a_planted_sheet_pdf_or_html_is_never_published(
        tmp_path: Path, plant: Callable[[Path, Path], None]) -> None:
    write_note(tmp_path / "notes", "a.md", "# Real\n- the real sheet's line\n")
    write_note(tmp_path / "other" / "notes", "a.md", "# Planted\n- PLANTED TEXT\n")
    planted = _build(tmp_path / "other")
    dist = _build(tmp_path)
    real_pdf, real_html = (dist / "notes.pdf").read_bytes(), (dist / "notes.html").read_text()
    entry = next(_sheets(dist).iterdir())
    plant(entry, planted)
    _build(tmp_path)
    assert "the real sheet's line" in _text(dist / "notes.pdf")
    assert "PLANTED" not in _text(dist / "notes.pdf")
    assert (dist / "notes.pdf").read_bytes() == real_pdf  # laid out again, the same bytes
    assert (dist / "notes.html").read_text() == real_html
    assert "<script>" not in real_html
    assert list(_sheets(dist).iterdir()) == [entry]
    assert not entry.is_symlink()
    assert (planted / "notes.pdf").is_file() and "PLANTED" in _text(planted / "notes.pdf")


def test_an_intact_sheet_entry_is_taken_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_note(tmp_path / "notes", "a.md", "# Real\n- the real sheet's line\n")
    first = (_build(tmp_path) / "notes.pdf").read_bytes()
    monkeypatch.setattr(sheet_stage, "write_sheet", lambda *a: pytest.fail("laid out again"))
    assert (_build(tmp_path) / "notes.pdf").read_bytes() == first


# --- every key names all of the code -----------------------------------------------------------

def _package(root: Path) -> Path:
    """A package with a subpackage and a template, like the exporter's."""
    for name, text in {"__init__.py": "", "stage.py": "A = 1\n", "sub/__init__.py": "",
                       "sub/inner.py": "B = 2\n", "templates/sheet.css": "p { }\n"}.items():
        write_note(root / "pkg", name, text)
    return root / "pkg"


def test_a_change_to_any_module_or_template_changes_the_code_digest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _package(tmp_path)
    libraries = ("weasyprint", "pypdf", "no-such-dist-anywhere")

    def digest() -> str:
        return codedigest.digest_of(package, libraries, "1.0")

    seen = [digest()]
    for name, text in [("sub/inner.py", "B = 3\n"), ("stage.py", "A = 2\n"),
                       ("templates/sheet.css", "p { color: red }\n"),
                       ("sub/deeper/more.py", "C = 1\n")]:
        write_note(package, name, text)
        seen.append(digest())
    assert codedigest.digest_of(package, libraries, "1.1") not in seen  # the version
    real = codedigest.metadata.version
    monkeypatch.setattr(codedigest.metadata, "version",
                        lambda name: "99.0" if name == "pypdf" else real(name))
    seen.append(digest())  # an upgraded library
    assert len(set(seen)) == len(seen)
    assert codedigest.library_version("no-such-dist-anywhere") == "?"
    files = {p.relative_to(codedigest.PACKAGE).as_posix()
             for p in codedigest.code_files(codedigest.PACKAGE)}
    assert {"cache/codedigest.py", "sheet/sheet_stage.py", "app/engine.py",
            "templates/sheet.css"} <= files
    assert set(codedigest.LIBRARIES) >= {"weasyprint", "pypdf", "genanki", "markdown", "Pillow",
                                         "pymdown-extensions", "Pygments", "nh3", "ziamath"}


@pytest.mark.usefixtures("fresh_digest")
def test_the_code_digest_is_made_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = codedigest.source_digest()
    monkeypatch.setattr(codedigest, "code_files", lambda package: pytest.fail("made again"))
    assert codedigest.source_digest() == first


def test_every_cache_entry_is_renamed_by_the_code(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys name what an entry is made of; the store names every entry of every cache by
    the code as well (test_cache_layer.py builds with a changed package)."""
    package = _package(tmp_path)
    root = cachestore.root_of(tmp_path / "dist")

    def names() -> list[str]:
        monkeypatch.setattr(codedigest, "source_digest",
                            lambda: codedigest.digest_of(package, (), "1.0"))
        return [cachestore.entry_path(root, name, "key").name for name in
                (cachestore.NOTES, cachestore.SESSION, cachestore.SHEETS, cachestore.CHUNKS)]

    before = names()
    write_note(package, "sub/inner.py", "B = 3\n")  # a subpackage's module
    after = names()
    assert [a != b for a, b in zip(before, after, strict=True)] == [True] * 4
    assert len(set(before)) == 4  # and each cache names the same key apart
    assert os.environ["XDG_CACHE_HOME"].startswith(str(tmp_path))
