"""The rendered HTML of a section, finished: safe math links, footnote ids, cloze answers,
sounds named on paper."""

from __future__ import annotations

import html
import re

from exporter.read.cloze import unwrap_clozes

# MathJax (Anki) renders \href{url}{text} and \url{url} as live links: only web and mail links
# are kept; any other \href or \url (a javascript: URL, one built with \let, no braces) loses
# its link and keeps its text.
_MATH_LINK = re.compile(r"\\(href|url)(?![A-Za-z])\s*(\{((?:[^{}]|\{[^{}]*\})*)\})?")
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*:)")
# Math spans cannot cross another "\(" or "\[": an unclosed one costs one scan, not one per
# opening (the HTML is sanitised, so <pre> and <code> are always closed).
_LITERAL = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)"
                      r"|(\\\((?:[^\\]|\\[^()])*?\\\)|\\\[(?:[^\\]|\\[^\[\]])*?\\\])", re.S)
_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.S)
_FOOTNOTE_ID = re.compile(r'\b(id|href)="(#?)(fn|fnref\d*)(:[^"]*)"')
# Python-Markdown leaves an escaped character's placeholder inside code in a footnote.
_ESCAPED = re.compile("\x02([0-9]+)\x03")
_PLACEHOLDER = re.compile("\x02[^\x02\x03]*\x03|[\x02\x03]")
_SOUND = re.compile(r'<span class="audio-file" title="([^"]*)">\[sound:[^\]<]*\]</span>')


def safe_math_links(fragment: str) -> str:
    """Drop every ``\\href``/``\\url`` whose target is not an http(s) or mailto URL."""
    if "\\href" not in fragment and "\\url" not in fragment:
        return fragment
    # MathJax skips <pre> and <code>: code showing TeX stays as written.
    parts = _CODE.split(fragment)
    return "".join(part if index % 2 else _MATH_LINK.sub(_math_link, part)
                   for index, part in enumerate(parts))


def _math_link(match: re.Match[str]) -> str:
    url = html.unescape(match.group(3) or "")
    scheme = _SCHEME.match(url)
    if match.group(2) is not None and scheme and scheme.group(1).lower() in _SAFE_SCHEMES \
            and not any(c in url for c in "\\{}"):
        return match.group(0)
    if match.group(1) == "url" and match.group(2) is not None:
        return "\\text{" + re.sub(r"[\\{}]", "", match.group(3)) + "}"
    return ""  # \href{bad}{text}: the text argument stays, as a plain group


def no_placeholders(fragment: str) -> str:
    """Escaped characters restored and any other internal placeholder of Python-Markdown gone."""
    if "\x02" not in fragment and "\x03" not in fragment:
        return fragment
    return _PLACEHOLDER.sub("", _ESCAPED.sub(_unescape, fragment))


def _unescape(match: re.Match[str]) -> str:
    code = int(match.group(1)[:7])
    return html.escape(chr(code)) if 0 < code <= 0x10FFFF else ""


def scope_footnotes(fragment: str, anchor: str) -> str:
    """Footnote ids made unique per section, so many sections can share one sheet."""
    if "fn" not in fragment:
        return fragment
    return _FOOTNOTE_ID.sub(lambda m: f'{m.group(1)}="{m.group(2)}{anchor}-{m.group(3)}'
                            f'{m.group(4)}"', fragment)


def show_cloze_answers(section_html: str) -> str:
    """The sheet and the section card show a cloze's answer, marked; inside math, plain; inside
    code, the cloze stays as written."""
    if "{{c" not in section_html:
        return section_html
    out, last = [], 0
    for match in _LITERAL.finditer(section_html):
        out.append(unwrap_clozes(section_html[last:match.start()],
                                 '<span class="cloze-text">{}</span>'))
        out.append(match.group(0) if match.group(1) else unwrap_clozes(match.group(0)))
        last = match.end()
    out.append(unwrap_clozes(section_html[last:], '<span class="cloze-text">{}</span>'))
    return "".join(out)


def sound_names(fragment: str) -> str:
    """Paper plays nothing: each ``[sound:…]`` of a card is the sound file's name on the sheet."""
    if "[sound:" not in fragment:
        return fragment
    return _SOUND.sub(r'<span class="audio-file">\1</span>', fragment)
