"""Count what a sheet's "At a glance" shows, from the HTML a build wrote (``build --html``):

    python bench/glance_report.py dist/notes.html [more.html …]

For each file: rows (group rows apart), summaries cut (ending in "…"), rows that repeat their
group's name, and rows (group rows included) that show a page number.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

_ROW = re.compile(r"<tr( class=\"group\")?>(.*?)</tr>", re.S)
_TAGS = re.compile(r"<[^>]+>")
_PAGE = re.compile(r"<td class=\"pg\"[^>]*>\s*(\d+)\s*</td>")
_SUMMARY = re.compile(r"<td>(.*?)</td>", re.S)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub("", fragment)).split())


def report(source: str) -> dict[str, int]:
    """The counts for one sheet's HTML."""
    table = source.split('<table class="glance">', 1)[-1].split("</table>", 1)[0] \
        if '<table class="glance">' in source else ""
    counts = {"rows": 0, "cut": 0, "repeating": 0, "numbered": 0, "all rows": 0}
    group = ""
    for match in _ROW.finditer(table.split("<tbody>", 1)[-1]):
        is_group, inner = bool(match.group(1)), match.group(2)
        counts["all rows"] += 1
        counts["numbered"] += bool(_PAGE.search(inner))
        term = _text(inner.split("</th>", 1)[0])
        if is_group:
            group = term
            continue
        counts["rows"] += 1
        summary = _SUMMARY.search(inner)
        counts["cut"] += bool(summary and _text(summary.group(1)).endswith("…"))
        counts["repeating"] += bool(group) and term.lower() == group.lower()
    return counts


def main(paths: list[str]) -> None:
    for path in paths:
        counts = report(Path(path).read_text(encoding="utf-8"))
        print(f"{path}: " + ", ".join(f"{key} {value}" for key, value in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
