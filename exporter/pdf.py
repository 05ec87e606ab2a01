"""The vault → one HTML document → a printable multi-column PDF cheat sheet (WeasyPrint)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import mimetypes
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .model import Asset, Note, Section, Vault

if TYPE_CHECKING:
    from weasyprint import URLFetcher

log = logging.getLogger(__name__)

# Media are addressed under a host that cannot exist, so a relative URL in a note can only ever
# reach the fetcher below, which serves nothing but the vault's own resolved images.
MEDIA_BASE = "https://media.notes-export.invalid/"


@dataclass(frozen=True)
class SheetOptions:
    """What the cheat sheet looks like."""

    title: str
    source: str
    date: dt.date
    columns: int = 3


def build_html(vault: Vault, options: SheetOptions) -> str:
    """The whole cheat sheet as one HTML document (images as media-relative URLs)."""
    css = resources.files("exporter").joinpath("templates/sheet.css").read_text(encoding="utf-8")
    css = css.replace("__COLUMNS__", str(options.columns)).replace(
        "__TITLE__", _css_string(options.title))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(options.title)}</title>",
        f'<meta name="description" content="{html.escape(options.source)}">',
        f'<meta name="dcterms.created" content="{options.date.isoformat()}">',
        '<meta name="generator" content="notes-export">',
        f"<style>{css}{_pygments_css()}</style></head><body>",
        '<header class="sheet-title">',
        f"<h1>{html.escape(options.title)}</h1>",
        f'<p class="sheet-meta">{html.escape(options.source)} · '
        f"{len(vault.notes)} note{'s' if len(vault.notes) != 1 else ''} · "
        f"{options.date.isoformat()}</p>",
        "</header>",
        '<main class="sheet">',
    ]
    for note in vault.notes:
        parts.append(_note_html(note))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _note_html(note: Note) -> str:
    out = [f'<h2 class="note-title" id="{note.anchor}">{html.escape(note.title)}</h2>']
    pending: list[str] = []  # headings with no text of their own stay with what follows them
    for section in note.sections:
        if section.level:
            pending.append(_heading_html(section))
        if section.has_content:
            kind = f"d{min(len(section.path), 4)}" if section.level else "intro"
            if _estimated_lines(section.html) > _KEEP_WHOLE_LINES:
                kind += " long"
            out.append(f'<section class="block {kind}">{"".join(pending)}'
                       f'<div class="body">{section.html}</div></section>')
            pending = []
    if pending:
        out.append(f'<section class="block">{"".join(pending)}</section>')
    return "\n".join(out)


# A block is kept whole only when it surely fits a column: WeasyPrint pushes a taller
# unbreakable block to the next page and leaves the rest of the page empty.
_KEEP_WHOLE_LINES = 34
_CHARS_PER_LINE = 60
_IMAGE_LINES = 15
_TAG = re.compile(r"<[^>]+>")


def _estimated_lines(section_html: str) -> int:
    """A rough height of a section in column lines: text, list items, rows and images."""
    text = html.unescape(_TAG.sub("", section_html))
    lines = sum(len(line) // _CHARS_PER_LINE + 1 for line in text.splitlines() if line.strip())
    return lines + _IMAGE_LINES * section_html.count("<img")


def _heading_html(section: Section) -> str:
    depth = min(len(section.path), 4)
    return (f'<h3 class="sh d{depth}" id="{section.anchor}">'
            f"{html.escape(section.heading)}</h3>")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="friendly").get_style_defs(".highlight"))


def _fetcher(media: dict[str, Asset]) -> URLFetcher:
    from weasyprint import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class VaultFetcher(URLFetcher):
        """Serves the vault's resolved images and refuses every other URL: no network, no files."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            if not url.startswith(MEDIA_BASE):
                raise ValueError(f"refused to fetch {url!r}: only the notes' own images are read")
            name = unquote(urlsplit(url).path.lstrip("/"))
            asset = media.get(name)
            if asset is None:
                raise ValueError(f"refused to fetch {url!r}: not an image of the notes")
            mime = mimetypes.guess_type(asset.media_name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, asset.path.read_bytes(), {"Content-Type": mime})

    return VaultFetcher(allowed_protocols={"https"})


def write_pdf(target: Path, document: str, media: dict[str, Asset]) -> None:
    """Lay out the HTML and write the PDF to ``target``."""
    from weasyprint import HTML

    pdf = HTML(string=document, base_url=MEDIA_BASE, url_fetcher=_fetcher(media))
    # A content-derived identifier keeps the bytes equal for equal input.
    identifier = hashlib.sha256(document.encode()).hexdigest()[:32].encode()
    pdf.write_pdf(target, pdf_identifier=identifier)
