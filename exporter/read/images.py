"""Check an image before any renderer decodes it: a file the PDF cannot draw, or one built to
exhaust it (a huge bitmap, an SVG ``<use>`` bomb), is refused with the reason."""

from __future__ import annotations

import warnings
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as parse_xml
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # a 4K screenshot is 8 megapixels; a 30000×30000 PNG is 900
MAX_SIDE = 20_000
MAX_SVG_BYTES = 5 * 1024 * 1024
MAX_SVG_ELEMENTS = 50_000  # counting every copy a <use> makes
_XLINK = "{http://www.w3.org/1999/xlink}href"
_FETCHING = frozenset({"use", "image", "feImage", "script", "foreignObject"})


def image_problem(path: Path) -> str | None:
    """Why the file at ``path`` cannot be shown as an image, or None when it can."""
    try:
        if path.suffix.lower() == ".svg":
            return _svg_problem(path)
        return _bitmap_problem(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _bitmap_problem(path: Path) -> str | None:
    """Read the header only (size and format), then check the file's structure without
    decoding its pixels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with _open_any_size(path) as image:
                width, height = image.size
                kind = image.format or "image"
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    return (f"is {width}×{height} pixels, over the limit of {MAX_SIDE:,} a side "
                            f"and {MAX_PIXELS // 1_000_000} megapixels")
                try:
                    image.verify()
                except (SyntaxError, ValueError, EOFError, OSError) as exc:  # Pillow's "broken"
                    return f"is a damaged {kind} ({exc})"
        except UnidentifiedImageError:
            return "is not an image (no image format recognises its bytes)"
        except (SyntaxError, ValueError, EOFError) as exc:
            return f"is a damaged image ({exc})"
        except OSError as exc:
            if exc.errno is not None:
                raise  # the file system's error, not the image's
            return f"is a damaged image ({exc})"
    return None


def _open_any_size(path: Path) -> Image.Image:
    """Open (header only) without Pillow's own bomb check, to report the size it declares."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _svg_problem(path: Path) -> str | None:
    """Well-formed SVG, not too big, no entities, no outside references, and a bounded number
    of elements once every ``<use>`` is expanded."""
    size = path.stat().st_size
    if size > MAX_SVG_BYTES:
        return f"is an SVG of {size:,} bytes, over the {MAX_SVG_BYTES:,}-byte limit"
    try:
        root = parse_xml(str(path), forbid_dtd=False).getroot()
    except DefusedXmlException:
        return "is an SVG that declares XML entities; refused"
    except ParseError as exc:
        return f"is not a well-formed SVG ({exc})"
    if _local(root.tag) != "svg":
        return f"is not an SVG (its root element is <{_local(root.tag)}>)"
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    for element in root.iter():
        href = element.get("href") or element.get(_XLINK)
        if href and _local(element.tag) in _FETCHING and not href.startswith(("#", "data:")):
            return f"is an SVG that refers to an outside file or URL ('{href[:80]}'); refused"
    try:
        total = _expanded(root, ids, {})
    except RecursionError:
        total = MAX_SVG_ELEMENTS + 1
    if total > MAX_SVG_ELEMENTS:
        return (f"is an SVG of over {MAX_SVG_ELEMENTS:,} elements once its <use> references "
                "are expanded; refused")
    return None


def _expanded(element: Element, ids: dict[str | None, Element], sizes: dict[int, int]) -> int:
    """Elements drawn for ``element``, each ``<use>`` counting what it copies (memoised; a
    reference to itself counts as over the limit)."""
    known = sizes.get(id(element))
    if known is not None:
        return known if known >= 0 else MAX_SVG_ELEMENTS + 1
    sizes[id(element)] = -1
    total = 1
    if _local(element.tag) == "use":
        href = element.get("href") or element.get(_XLINK) or ""
        target = ids.get(href[1:]) if href.startswith("#") else None
        if target is not None:
            total += _expanded(target, ids, sizes)
    for child in element:
        total += _expanded(child, ids, sizes)
        if total > MAX_SVG_ELEMENTS:
            break
    sizes[id(element)] = min(total, MAX_SVG_ELEMENTS + 1)
    return sizes[id(element)]


def _local(tag: object) -> str:
    """An element's name without its namespace (comments and the like have none)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
