"""TeX math typeset as SVG for the PDF (WeasyPrint runs no MathJax), with ziamath (pure Python).

Cards keep MathJax's ``\\(…\\)`` and ``\\[…\\]``: Anki typesets those itself.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field

_MATH = re.compile(r'<(span|div) class="arithmatex">\\([(\[])(.*?)\\[)\]]</\1>', re.S)


@dataclass(frozen=True)
class Formula:
    """One typeset formula: its file name in the PDF's media, SVG bytes and baseline depth."""

    name: str
    svg: bytes
    depth: float


@dataclass
class MathImages:
    """Typesets each distinct formula once and serves it to the PDF renderer by name."""

    size_px: float
    images: dict[str, Formula] = field(default_factory=dict)

    def replace(self, fragment: str) -> str:
        """Swap every MathJax span of ``fragment`` for an image of the typeset formula."""
        return _MATH.sub(self._image, fragment)

    def _image(self, match: re.Match[str]) -> str:
        display = match.group(2) == "["
        tex = html.unescape(match.group(3)).strip()
        formula = self.typeset(tex, display)
        if formula is None:
            return f'<code class="math-error">{html.escape(tex)}</code>'
        alt = html.escape(tex, quote=True)
        if display:
            return f'<div class="math-display"><img class="math" alt="{alt}" ' \
                   f'src="{formula.name}"></div>'
        return (f'<img class="math" alt="{alt}" src="{formula.name}" '
                f'style="vertical-align: -{formula.depth:.2f}px">')

    def typeset(self, tex: str, display: bool) -> Formula | None:
        """The formula for ``tex``, typeset once; None when ziamath cannot read it."""
        key = hashlib.sha256(f"{display}\x00{self.size_px}\x00{tex}".encode()).hexdigest()[:16]
        name = f"math-{key}.svg"
        if name not in self.images:
            try:
                svg, depth = _svg(tex, self.size_px * (1.1 if display else 1.0))
            except Exception:  # ziamath raises many kinds of errors on TeX it cannot read
                return None
            self.images[name] = Formula(name, svg, depth)
        return self.images[name]


def _svg(tex: str, size: float) -> tuple[bytes, float]:
    from ziamath import Latex  # type: ignore[attr-defined]

    svg = Latex(tex, size=size).svg()
    view = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"', svg)
    height = re.search(r'height="([-\d.]+)"', svg)
    depth = 0.0
    if view and height:
        top, box_h = float(view.group(2)), float(view.group(4))
        depth = max(0.0, (box_h + top)) * float(height.group(1)) / box_h
    return svg.encode(), depth
