"""Web videos and ``<iframe>`` embeds, which neither a card nor paper can play: each becomes a
link to what it shows (never fetched), so that nothing written in the note vanishes."""

from __future__ import annotations

import re
from html import escape, unescape
from urllib.parse import urlsplit

_VIDEO_HOSTS = frozenset({"youtube.com", "youtu.be", "youtube-nocookie.com", "vimeo.com",
                          "player.vimeo.com", "dailymotion.com", "dai.ly"})
# Python-Markdown passes raw HTML through as written and escapes "<" in code, so an "<iframe"
# in its output is one the note wrote outside code.
_IFRAME = re.compile(r"<iframe\b([^>]*)>(?:.*?</iframe\s*>)?", re.S | re.I)
_ATTRIBUTE = re.compile(r"""\b(src|title)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)


def is_web_video(url: str) -> bool:
    """True for a page of a video site (YouTube, Vimeo …), which an ``![](…)`` embeds as a
    player in Obsidian and which is no image to fetch."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    return parts.scheme in ("http", "https") and host in _VIDEO_HOSTS


def web_link(url: str, text: str) -> str:
    """The HTML of the link that stands for an embedded page or video."""
    return f'<a class="web-embed" href="{escape(url)}">{escape(text)}</a>'


def iframes(html: str) -> tuple[str, list[tuple[str, str]]]:
    """``html`` with each ``<iframe>`` a link to its http(s) ``src`` (its title as the text),
    or its title as text when it has no such source; and for each, (the text that locates it
    in the note, a message)."""
    if "<iframe" not in html.lower():
        return html, []
    found: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        attributes = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
                      for m in _ATTRIBUTE.finditer(match.group(1))}
        raw = attributes.get("src", "")
        src, title = unescape(raw).strip(), unescape(attributes.get("title", "")).strip()
        web = urlsplit(src).scheme.lower() in ("http", "https")
        found.append((raw or "<iframe", f"embedded page '{src or title or 'iframe'}' cannot "
                      "be shown in a card or on paper; shown as a link" if web else
                      "an <iframe> without a web address cannot be shown; its title is kept"))
        if web:
            return web_link(src, title or src)
        return f'<span class="web-embed">{escape(title or "Embedded page")}</span>'

    return _IFRAME.sub(replace, html), found
