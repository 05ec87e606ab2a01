"""Generate stand-in PNG images for the sample note's image embeds.

The sample Obsidian note embeds eleven screenshots (``![[Pasted image ….png]]``)
that are not part of the repository. This script draws a small, clean,
diagram-like placeholder for each of them so that the Anki and PDF exporters
have real images to work with. Every image shows the heading path it
illustrates as a title, a few boxes connected by arrows, and a note saying it
is a stand-in to be replaced by your own screenshot.

The output is deterministic: no timestamps or other metadata are written, so
running the script twice produces byte-identical files.

Run it from anywhere (requires Pillow)::

    python tools/make_standin_images.py

The PNG files are written to ``assets/`` in the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

RGB = tuple[int, int, int]
Point = tuple[float, float]
Rect = tuple[float, float, float, float]

BACKGROUND: RGB = (251, 252, 253)
TEXT_DARK: RGB = (33, 37, 41)
TEXT_MUTED: RGB = (96, 103, 112)
RULE_COLOUR: RGB = (222, 226, 230)

BORDER_WIDTH = 3
MARGIN = 36
PALETTE_COLOURS = 96
SCALE = 2  # supersampling factor used for antialiasing


@dataclass(frozen=True)
class Spec:
    """Description of one stand-in image."""

    name: str
    heading_path: tuple[str, ...]
    accent: RGB
    boxes: tuple[str, ...]
    arrow_labels: tuple[str, ...] | None = ("", "")
    size: tuple[int, int] = (800, 450)
    vertical: bool = False


BLUE: RGB = (33, 102, 172)
ORANGE: RGB = (214, 110, 18)
TEAL: RGB = (0, 128, 128)
PURPLE: RGB = (111, 66, 193)
GREEN: RGB = (46, 125, 50)
RED: RGB = (190, 45, 60)

SPECS: tuple[Spec, ...] = (
    Spec(
        "Pasted image 20250217143901.png",
        ("ECS",),
        ORANGE,
        ("Load Balancer", "ECS\nstarts / stops\ncontainers", "EC2 instances\nyou provision"),
        ("traffic", "runs on"),
        size=(800, 500),
    ),
    Spec(
        "Pasted image 20250217144101.png",
        ("Fargate",),
        TEAL,
        ("Docker image\n+ CPU / RAM", "Fargate\nserverless", "Running\ncontainers"),
        ("launch", "AWS runs"),
    ),
    Spec(
        "Pasted image 20250217144254.png",
        ("ECR",),
        BLUE,
        ("Developer\ndocker push", "ECR\nprivate registry", "ECS / Fargate\nruns image"),
        ("push", "pull"),
    ),
    Spec(
        "Pasted image 20250217144736.png",
        ("Amazon EKS",),
        PURPLE,
        ("Kubernetes\nworkloads", "Amazon EKS\nmanaged cluster", "EC2 nodes\nor Fargate"),
        ("deploy", "hosted on"),
    ),
    Spec(
        "Pasted image 20250217163300.png",
        ("AWS Lambda",),
        ORANGE,
        ("Event\nS3, API, cron…", "Lambda\nfunction", "Result\npay per call"),
        ("invokes", "returns"),
    ),
    Spec(
        "Pasted image 20250217163916.png",
        ("AWS Lambda", "Example", "Serverless Thumbnail creation"),
        GREEN,
        ("S3 bucket\nnew image", "Lambda\nresize", "S3 bucket\nthumbnail"),
        ("trigger", "push"),
    ),
    Spec(
        "Pasted image 20250217164159.png",
        ("AWS Lambda", "Example", "Serverless CRON Job"),
        RED,
        ("EventBridge\nevery hour", "Lambda\nruns script", "Task done"),
        ("trigger", "performs"),
    ),
    Spec(
        "Pasted image 20250218110545.png",
        ("Amazon API Gateway",),
        PURPLE,
        ("Client", "API Gateway\nREST / WebSocket", "Lambda\nbusiness logic", "DynamoDB\ndata"),
        ("REST call", "proxy", "CRUD"),
        size=(1000, 400),
    ),
    Spec(
        "Pasted image 20250218111044.png",
        ("AWS Batch", "Example"),
        TEAL,
        ("S3 bucket\nnew object", "AWS Batch\nDocker job on ECS", "S3 bucket\nprocessed object"),
        ("trigger job", "write result"),
        size=(600, 700),
        vertical=True,
    ),
    Spec(
        "Pasted image 20250218112018.png",
        ("Summary",),
        BLUE,
        (
            "Containers\nECS · EKS\nFargate · ECR",
            "Serverless\nLambda\nAPI Gateway",
            "Compute\nBatch\nLightsail",
        ),
        None,
    ),
    Spec(
        "Pasted image 20250218112149.png",
        ("Summary", "Lambda Summary"),
        GREEN,
        ("Event\ntrigger", "Lambda\n≤ 15 min · ≤ 10 GB", "Billing\nper request"),
        ("invokes", "charged"),
    ),
)


class Pen:
    """Drawing helper that works in output pixels but renders at ``SCALE`` times.

    Rendering large and downscaling gives antialiased box corners, lines and
    arrow heads, which plain ``ImageDraw`` does not provide.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        self.img = Image.new("RGB", (size[0] * SCALE, size[1] * SCALE), BACKGROUND)
        self.draw = ImageDraw.Draw(self.img)
        self._fonts: dict[tuple[int, bool], ImageFont.FreeTypeFont] = {}

    def font(self, size: int, bold: bool) -> ImageFont.FreeTypeFont:
        """DejaVu font for a size given in output pixels."""
        key = (size, bold)
        if key not in self._fonts:
            path = FONT_BOLD if bold else FONT_REGULAR
            self._fonts[key] = ImageFont.truetype(str(path), size * SCALE)
        return self._fonts[key]

    def text_width(self, text: str, size: int, bold: bool = False) -> float:
        """Width of one line of text in output pixels."""
        left, _, right, _ = self.draw.textbbox((0, 0), text, font=self.font(size, bold))
        return (right - left) / SCALE

    def text(
        self, xy: Point, text: str, size: int, fill: RGB, *, bold: bool = False,
        anchor: str = "ma",
    ) -> None:
        """Draw one line of text anchored at ``xy``."""
        self.draw.text(_scale(xy), text, font=self.font(size, bold), fill=fill, anchor=anchor)

    def line(self, points: list[Point], fill: RGB, width: int) -> None:
        """Draw a polyline."""
        self.draw.line([_scale(p) for p in points], fill=fill, width=width * SCALE)

    def polygon(self, points: list[Point], fill: RGB) -> None:
        """Draw a filled polygon."""
        self.draw.polygon([_scale(p) for p in points], fill=fill)

    def rectangle(
        self, rect: Rect, *, fill: RGB | None = None, outline: RGB | None = None,
        width: int = 0,
    ) -> None:
        """Draw a rectangle given by its outer edges."""
        x0, y0, x1, y1 = rect
        box = (x0 * SCALE, y0 * SCALE, x1 * SCALE - 1, y1 * SCALE - 1)
        self.draw.rectangle(box, fill=fill, outline=outline, width=width * SCALE)

    def rounded_rectangle(
        self, rect: Rect, radius: int, fill: RGB, outline: RGB, width: int,
    ) -> None:
        """Draw a filled, outlined rectangle with rounded corners."""
        x0, y0, x1, y1 = rect
        box = (x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE)
        self.draw.rounded_rectangle(
            box, radius=radius * SCALE, fill=fill, outline=outline, width=width * SCALE,
        )

    def result(self) -> Image.Image:
        """The finished image at output size."""
        w, h = self.img.size
        return self.img.resize((w // SCALE, h // SCALE), Image.Resampling.LANCZOS)


def _scale(point: Point) -> Point:
    return (point[0] * SCALE, point[1] * SCALE)


def tint(colour: RGB, amount: float) -> RGB:
    """Mix a colour with white; ``amount`` is the share of white (0..1)."""
    r, g, b = colour
    return (
        round(r + (255 - r) * amount),
        round(g + (255 - g) * amount),
        round(b + (255 - b) * amount),
    )


def wrap_words(pen: Pen, words: list[str], max_width: float, size: int, bold: bool,
               sep: str = " ") -> list[str]:
    """Greedily join ``words`` into lines no wider than ``max_width``."""
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current}{sep}{word}" if current else word
        if current and pen.text_width(candidate, size, bold) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def fit_lines(
    pen: Pen,
    text: str,
    max_width: float,
    sizes: range,
    *,
    bold: bool = False,
) -> tuple[list[str], int]:
    """Largest font size at which ``text`` fits on one line, else wrap it.

    Wrapping prefers the text's natural break points: heading paths break after
    " ›", the footer breaks before its parenthesis, anything else between words.
    """
    for size in sizes:
        if pen.text_width(text, size, bold) <= max_width:
            return [text], size
    size = sizes[-1]
    if " › " in text:
        parts = text.split(" › ")
        words = [p + " ›" for p in parts[:-1]] + [parts[-1]]
        lines = wrap_words(pen, words, max_width, size, bold)
        if all(pen.text_width(line, size, bold) <= max_width for line in lines):
            return lines, size
    if " (" in text:
        head, tail = text.split(" (", 1)
        lines = [head, "(" + tail]
        if all(pen.text_width(line, size, bold) <= max_width for line in lines):
            return lines, size
    return wrap_words(pen, text.split(), max_width, size, bold), size


def draw_lines(
    pen: Pen,
    lines: list[str],
    size: int,
    centre_x: float,
    top: float,
    fill: RGB,
    line_gap: int,
    *,
    bold: bool = False,
) -> float:
    """Draw centred lines starting at ``top``; return the y below the last line."""
    line_height = size + line_gap
    for i, line in enumerate(lines):
        pen.text((centre_x, top + i * line_height), line, size, fill, bold=bold)
    return top + len(lines) * line_height


def draw_box(pen: Pen, rect: Rect, label: str, accent: RGB) -> None:
    """Draw a rounded box with a bold first line and smaller following lines."""
    x0, y0, x1, y1 = rect
    pen.rounded_rectangle(rect, radius=14, fill=tint(accent, 0.88), outline=accent, width=2)
    head, *rest = label.split("\n")
    inner = x1 - x0 - 16
    head_lines, head_size = fit_lines(pen, head, inner, range(20, 13, -1), bold=True)
    rest_lines: list[str] = []
    rest_size = 15
    for line in rest:
        wrapped, rest_size = fit_lines(pen, line, inner, range(15, 11, -1))
        rest_lines.extend(wrapped)
    gap = 4
    height = len(head_lines) * (head_size + gap) + len(rest_lines) * (rest_size + gap) - gap
    cx = (x0 + x1) / 2
    top = (y0 + y1) / 2 - height / 2
    top = draw_lines(pen, head_lines, head_size, cx, top, TEXT_DARK, gap, bold=True)
    draw_lines(pen, rest_lines, rest_size, cx, top, TEXT_MUTED, gap)


def draw_arrow(pen: Pen, start: Point, end: Point, colour: RGB) -> None:
    """Draw a straight horizontal or vertical arrow with a filled head."""
    (sx, sy), (ex, ey) = start, end
    head, half = 12, 7
    if sy == ey:
        d = 1 if ex > sx else -1
        pen.line([(sx, sy), (ex - d * head, ey)], fill=colour, width=3)
        tip = [(ex, ey), (ex - d * head, ey - half), (ex - d * head, ey + half)]
    else:
        d = 1 if ey > sy else -1
        pen.line([(sx, sy), (ex, ey - d * head)], fill=colour, width=3)
        tip = [(ex, ey), (ex - half, ey - d * head), (ex + half, ey - d * head)]
    pen.polygon(tip, fill=colour)


def draw_diagram(pen: Pen, spec: Spec, area: Rect) -> None:
    """Lay out the boxes (and arrows, if any) inside ``area``."""
    left, top, right, bottom = area
    n = len(spec.boxes)
    arrow_colour = tint(spec.accent, 0.15)
    labels = spec.arrow_labels
    if spec.vertical:
        gap = 70
        box_w = min(300, right - left)
        box_h = min(110, (bottom - top - gap * (n - 1)) / n)
        y = top + (bottom - top - (n * box_h + (n - 1) * gap)) / 2
        x0 = left + (right - left - box_w) / 2
        cx = x0 + box_w / 2
        for i, label in enumerate(spec.boxes):
            draw_box(pen, (x0, y, x0 + box_w, y + box_h), label, spec.accent)
            if labels is not None and i < n - 1:
                draw_arrow(pen, (cx, y + box_h + 6), (cx, y + box_h + gap - 6), arrow_colour)
                mid = y + box_h + gap / 2
                pen.text((cx + 16, mid), labels[i], 14, TEXT_MUTED, anchor="lm")
            y += box_h + gap
        return

    gap = 110 if labels is not None else 40
    box_w = (right - left - gap * (n - 1)) / n
    box_h = min(120, bottom - top)
    y0 = top + (bottom - top - box_h) / 2
    cy = y0 + box_h / 2
    x = left
    for i, label in enumerate(spec.boxes):
        draw_box(pen, (x, y0, x + box_w, y0 + box_h), label, spec.accent)
        if labels is not None and i < n - 1:
            draw_arrow(pen, (x + box_w + 8, cy), (x + box_w + gap - 8, cy), arrow_colour)
            lines, size = fit_lines(pen, labels[i], gap - 12, range(14, 10, -1))
            label_top = cy - 12 - len(lines) * (size + 2)
            draw_lines(pen, lines, size, x + box_w + gap / 2, label_top, TEXT_MUTED, 2)
        x += box_w + gap


def render(spec: Spec) -> Image.Image:
    """Render one stand-in image as an RGB image."""
    width, height = spec.size
    pen = Pen(spec.size)

    # Thin coloured frame with an accent bar at the top.
    pen.rectangle((0, 0, width, height), outline=spec.accent, width=BORDER_WIDTH)
    pen.rectangle((0, 0, width, 8), fill=spec.accent)

    inner_w = width - 2 * MARGIN
    title = " › ".join(spec.heading_path)
    title_lines, title_size = fit_lines(pen, title, inner_w, range(36, 25, -2), bold=True)
    y = draw_lines(pen, title_lines, title_size, width / 2, 30, TEXT_DARK, 8, bold=True)
    pen.line([(MARGIN, y + 8), (width - MARGIN, y + 8)], fill=tint(spec.accent, 0.6), width=1)

    footer = f"Stand-in image — replace with your own screenshot ({spec.name})"
    footer_lines, footer_size = fit_lines(pen, footer, inner_w, range(15, 12, -1))
    footer_top = height - 22 - len(footer_lines) * (footer_size + 4)
    rule_y = footer_top - 14
    pen.line([(MARGIN, rule_y), (width - MARGIN, rule_y)], fill=RULE_COLOUR, width=1)
    draw_lines(pen, footer_lines, footer_size, width / 2, footer_top, TEXT_MUTED, 4)

    draw_diagram(pen, spec, (MARGIN, y + 30, width - MARGIN, rule_y - 16))
    return pen.result()


def save_png(img: Image.Image, path: Path) -> None:
    """Save as a small, metadata-free palette PNG (byte-deterministic)."""
    pal = img.quantize(
        colors=PALETTE_COLOURS,
        method=Image.Quantize.MEDIANCUT,
        dither=Image.Dither.NONE,
    )
    pal.info.clear()
    pal.save(path, format="PNG", optimize=True)


def main() -> None:
    """Render every stand-in image into the assets folder."""
    ASSETS_DIR.mkdir(parents=True, exist_ok=True)
    for spec in SPECS:
        path = ASSETS_DIR / spec.name
        save_png(render(spec), path)
        print(f"{path.relative_to(REPO_ROOT)}  {path.stat().st_size:>6} bytes")


if __name__ == "__main__":
    main()
