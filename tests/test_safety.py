"""Notes are untrusted: nothing outside the vault is read, nothing fetched, no script kept."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pdfplumber
import pytest

from exporter.app.pipeline import Config, export
from exporter.core.model import Asset
from exporter.sheet.columns import VaultFetcher
from exporter.sheet.sheet_html import MEDIA_BASE

from .conftest import EPOCH, SAMPLE_ASSETS, build, local_server, write_note

PNG = (SAMPLE_ASSETS / "Pasted image 20250217143901.png").read_bytes()
HOSTILE = """# Hostile
<script>alert('x')</script>
<img src="x.png" onerror="alert(1)">
<a href="javascript:alert(1)">click</a>
<iframe src="https://example.com"></iframe>
<object data="evil.swf"></object>
<style>@import url(https://example.com/x.css);</style>
<link rel="stylesheet" href="https://example.com/x.css">
<b onclick="steal()">bold</b> <sub>2</sub> <mark>kept</mark><br>
<img src="file:///etc/passwd">
"""


def _media(apkg: Path) -> list[str]:
    with zipfile.ZipFile(apkg) as archive:
        return [n for n in archive.namelist() if n not in ("collection.anki2", "media")]


def test_scripts_and_active_content_never_reach_cards_or_pdf(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "h.md", HOSTILE)
    (tmp_path / "assets").mkdir()
    result = build(tmp_path, deck="H")
    back = result.cards[0].back
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<object", "<style",
                "<link", "@import", "file:"):
        assert bad not in back.lower(), bad
    assert "<b>bold</b> <sub>2</sub> <mark>kept</mark>" in back
    with pdfplumber.open(tmp_path / "dist" / "h.pdf") as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    assert "alert" not in text and "steal" not in text
    assert "passwd" not in back
    # x.png does not exist; the file: URL is dropped by the sanitiser before any lookup; the
    # iframe is a link to its page, with a notice
    assert [d.code for d in result.diagnostics] == ["missing-image", "web-embed"]
    assert '<a class="web-embed" href="https://example.com">https://example.com</a>' in back


def test_embeds_escaping_the_vault_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PNG + b"secret")
    notes = tmp_path / "notes"
    (tmp_path / "assets").mkdir()
    write_note(notes, "n.md", "# A\n![[../outside/secret.png]]\n![x](../outside/secret.png)\n"
               f"![[{outside / 'secret.png'}]]\n![[linked.png]]\n![y](sub/link/secret.png)\n")
    os.symlink(outside / "secret.png", notes / "linked.png")
    (notes / "sub").mkdir()
    os.symlink(outside, notes / "sub" / "link")
    result = build(tmp_path, deck="N")
    assert result.vault.assets == {}
    assert _media(tmp_path / "dist" / "n.apkg") == []
    with pdfplumber.open(tmp_path / "dist" / "n.pdf") as pdf:
        assert sum(len(page.images) for page in pdf.pages) == 0
    found = [(d.line, d.severity, d.code) for d in result.diagnostics]
    assert found == [(2, "error", "outside-vault"), (3, "error", "outside-vault"),
                     (4, "error", "outside-vault"), (5, "error", "outside-vault"),
                     (6, "error", "outside-vault")]


def test_remote_images_are_links_and_never_fetched(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "r.md", "# R\n![logo](https://example.com/logo.png)\n")
    (tmp_path / "assets").mkdir()
    result = build(tmp_path, deck="R")
    assert '<a class="remote-image" href="https://example.com/logo.png">logo</a>' in \
        result.cards[0].back
    assert [d.code for d in result.diagnostics] == ["remote-image"]


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "https://example.com/x.png",
    "http://169.254.169.254/latest/meta-data/",
    MEDIA_BASE + "not-a-vault-image.png",
    MEDIA_BASE + "../../etc/passwd",
])
def test_pdf_fetcher_serves_only_vault_images(url: str, tmp_path: Path) -> None:
    image = tmp_path / "ok.png"
    image.write_bytes(PNG)
    fetch = VaultFetcher({"ok.png": Asset(image, "ok.png")})
    assert fetch(MEDIA_BASE + "ok.png").read() == PNG
    with pytest.raises(ValueError, match="refused"):
        fetch(url)


def _route(path: str) -> tuple[int, dict[str, str], bytes]:
    """The PNG, an HTML page and a redirect to a local file."""
    if path == "/redirect.png":
        return 302, {"Location": "file:///etc/passwd"}, b""
    if path.endswith("logo.png"):
        return 200, {"Content-Type": "image/png"}, PNG
    return 200, {"Content-Type": "text/html"}, b"<html>not an image</html>"


def test_allow_remote_fetches_real_images_only(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    with local_server(_route) as base:
        write_note(tmp_path / "notes", "r.md", f"# R\n![logo]({base}/logo.png)\n"
                   f"![page]({base}/page.html)\n![r]({base}/redirect.png)\n")
        config = Config(notes_dir=tmp_path / "notes", asset_dirs=[], out_dir=tmp_path / "dist",
                        deck_name="R", allow_remote=True, allow_private_remote=True,
                        epoch=EPOCH)  # the test server is on 127.0.0.1
        result = export(config)
    assert len(result.vault.assets) == 1
    name = next(iter(result.vault.assets))
    assert re.fullmatch(r"remote-[0-9a-f]+-logo-[0-9a-f]{12}\.png", name)  # named by content
    assert f'<img alt="logo" src="{name}">' in result.cards[0].back
    assert [(d.line, d.code) for d in result.diagnostics] == [(3, "remote-image-failed"),
                                                              (4, "remote-image-failed")]
    assert "not an image" in result.diagnostics[0].message
    assert _media(tmp_path / "dist" / "r.apkg") == ["0"]
    with pdfplumber.open(tmp_path / "dist" / "r.pdf") as sheet:
        assert sum(len(page.images) for page in sheet.pages) == 1
