"""Remote images, fetched only when the user allows it (``--allow-remote``), with hard limits."""

from __future__ import annotations

import hashlib
import re
import urllib.request
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from PIL import Image, UnidentifiedImageError

from .errors import RemoteImageError as RemoteImageError  # re-exported
from .images import image_problem

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT_SECONDS = 15
_SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp"}


class RemoteImages:
    """Downloads each remote image once per run into a private folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._done: dict[str, Path] = {}

    def fetch(self, url: str) -> Path:
        """The local copy of ``url``; raise RemoteImageError with a reason on any failure."""
        if url in self._done:
            return self._done[url]
        if urlsplit(url).scheme not in ("http", "https"):
            raise RemoteImageError("only http and https images are fetched")
        data = _download(url)
        digest = hashlib.sha256(url.encode()).hexdigest()[:10]
        self.folder.mkdir(parents=True, exist_ok=True)
        download = self.folder / f"remote-{digest}.part"
        download.write_bytes(data)
        why = image_problem(download)  # the checks a local image gets: its pixel count too
        if why is not None:
            download.unlink()
            raise RemoteImageError(f"it {why}")
        kind = _image_kind(data)
        stem = re.sub(r"[^\w.-]+", "-", PurePosixPath(unquote(urlsplit(url).path)).stem)[:40]
        path = self.folder / f"remote-{digest}-{stem or 'image'}{_SUFFIX[kind]}"
        download.replace(path)
        self._done[url] = path
        return path


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "notes-export"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise RemoteImageError(str(getattr(exc, "reason", exc))) from exc
    if len(data) > MAX_BYTES:
        raise RemoteImageError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def _image_kind(data: bytes) -> str:
    from io import BytesIO

    try:
        with Image.open(BytesIO(data)) as image:
            kind = str(image.format)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise RemoteImageError("not an image") from exc
    if kind not in _SUFFIX:
        raise RemoteImageError(f"unsupported image format {kind}")
    return kind
