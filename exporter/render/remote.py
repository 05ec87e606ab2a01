"""Remote images, fetched only when the user allows it (``--allow-remote``), with hard limits:
http and https only at every redirect, public addresses only (``--allow-private-remote`` lifts
that), one deadline for the whole download, a size bound."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from PIL import Image, UnidentifiedImageError

from exporter.core.errors import RemoteImageError as RemoteImageError  # re-exported
from exporter.read.images import image_problem

MAX_BYTES = 20 * 1024 * 1024
DEADLINE_SECONDS = 15.0  # for the whole download: lookups, connections, redirects and body
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp"}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # DNS64 answers: the IPv4 address is the last 32 bits
_PRIVATE_HINT = "--allow-private-remote fetches from such addresses"


class RemoteImages:
    """Downloads each remote image once per run into a private folder."""

    def __init__(self, folder: Path, allow_private: bool = False) -> None:
        self.folder = folder
        self.allow_private = allow_private
        self._done: dict[str, Path] = {}

    def fetch(self, url: str) -> Path:
        """The local copy of ``url``; raise RemoteImageError with a reason on any failure."""
        if url in self._done:
            return self._done[url]
        data = download(url, self.allow_private)
        digest = hashlib.sha256(url.encode()).hexdigest()[:10]
        self.folder.mkdir(parents=True, exist_ok=True)
        part = self.folder / f"remote-{digest}.part"
        part.write_bytes(data)
        why = image_problem(part)  # the checks a local image gets: its pixel count too
        if why is not None:
            part.unlink()
            raise RemoteImageError(f"it {why}")
        kind = _image_kind(data)
        stem = re.sub(r"[^\w.-]+", "-", PurePosixPath(unquote(urlsplit(url).path)).stem)[:40]
        path = self.folder / f"remote-{digest}-{stem or 'image'}{_SUFFIX[kind]}"
        part.replace(path)
        self._done[url] = path
        return path


# --- the deadline ---------------------------------------------------------------------------------


class _Deadline:
    """One monotonic deadline shared by every step of one download."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """The seconds left; RemoteImageError when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            self.fail()
        return left

    def fail(self) -> None:
        """Raise the error of a download that ran out of time."""
        raise RemoteImageError(f"the download took longer than {self.seconds:g} s")


# --- which addresses may be fetched from ----------------------------------------------------------


def address_problem(address: str) -> str | None:
    """What ``address`` is when not public ("a loopback address", …), else None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope ("%eth0") aside
    for judged in _judged(ip):
        kind = _kind(judged)
        if kind is not None:
            inner = "" if judged == ip else f" (it holds {judged})"
            return f"a {kind} address{inner}"
    return None


def _judged(ip: ipaddress.IPv4Address | ipaddress.IPv6Address
            ) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses that decide: an IPv6 address carrying an IPv4 one is judged by both (the
    mapped ``::ffff:127.0.0.1`` and DNS64's ``64:ff9b::/96`` by the IPv4 one alone)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    inner = [ip.sixtofour] if ip.sixtofour is not None else []
    if ip.teredo is not None:
        inner.append(ip.teredo[1])
    return [ip, *inner]


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    checks = [("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
              ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
              ("private", ip.is_private), ("reserved", ip.is_reserved),
              ("non-public", not ip.is_global)]  # e.g. 100.64.0.0/10, shared by carriers
    return next((kind for kind, found in checks if found), None)


# --- one hop: a URL checked, its host resolved and its addresses vetted ---------------------------


@dataclass(frozen=True)
class _Hop:
    """A URL that may be fetched, with the addresses its host resolved to (all of them vetted)."""

    tls: bool
    host: str
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]


def _hop(url: str, allow_private: bool, deadline: _Deadline) -> _Hop:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RemoteImageError("only http and https images are fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RemoteImageError(f"bad port in {url}") from exc
    if not parts.hostname:
        raise RemoteImageError(f"no host in {url}")
    addresses = _resolve(parts.hostname, port, deadline)
    for address in [] if allow_private else addresses:
        what = address_problem(address)
        if what is not None:  # one is enough: the connection could go to any of them
            who = f"{address} is" if address == parts.hostname else \
                f"{parts.hostname} resolves to {address},"
            raise RemoteImageError(f"{who} {what} ({_PRIVATE_HINT})")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Hop(parts.scheme == "https", parts.hostname, port, target, addresses)


def _resolve(host: str, port: int, deadline: _Deadline) -> tuple[str, ...]:
    """The addresses of ``host``; the lookup runs in a thread so that the deadline bounds it."""
    found: list[str] = []
    failed: list[Exception] = []

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(str(info[4][0]) for info in infos)
        except (OSError, UnicodeError) as exc:
            failed.append(exc)

    worker = threading.Thread(target=look_up, daemon=True)
    worker.start()
    worker.join(deadline.left())
    if worker.is_alive():  # the lookup has used up the time; the thread ends on its own
        deadline.fail()
    if failed or not found:
        reason = getattr(failed[0], "strerror", None) or failed[0] if failed else "no address"
        raise RemoteImageError(f"cannot resolve {host}: {reason}")
    return tuple(dict.fromkeys(found))


# --- connections to the vetted addresses ----------------------------------------------------------


class _Pinned(http.client.HTTPConnection):
    """HTTP to an address vetted beforehand (never a second lookup, which could answer
    differently), under the host name of the URL; the deadline cuts the socket."""

    def __init__(self, hop: _Hop, deadline: _Deadline) -> None:
        super().__init__(hop.host, hop.port, timeout=deadline.left())
        self.hop = hop
        self.deadline = deadline
        self.timer: threading.Timer | None = None
        self.cut = False  # by the deadline: what was read is not the whole answer

    def connect(self) -> None:
        self.sock = self._open()

    def _open(self) -> socket.socket:
        error: OSError = OSError(f"cannot connect to {self.hop.host}")
        for address in self.hop.addresses:
            try:
                sock = socket.create_connection((address, self.port), self.deadline.left())
            except OSError as exc:
                error = exc
                continue
            self.timer = threading.Timer(self.deadline.left(), self._cut, (sock,))
            self.timer.daemon = True
            self.timer.start()
            return sock
        raise error

    def _cut(self, sock: socket.socket) -> None:
        """Wake a read blocked on ``sock``: a server dripping bytes resets every socket
        timeout, and a header cut short reads as the end of the headers."""
        self.cut = True
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        super().close()
        if self.timer is not None:
            self.timer.cancel()


class _PinnedTLS(_Pinned):
    """HTTPS as :class:`_Pinned`; the certificate is verified against the URL's host name."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.hop.host)


# --- the download -------------------------------------------------------------------------------


def download(url: str, allow_private: bool = False) -> bytes:
    """The body of ``url`` after at most MAX_REDIRECTS redirects, each hop checked."""
    deadline = _Deadline(DEADLINE_SECONDS)
    for hops in range(MAX_REDIRECTS + 1):
        try:
            hop = _hop(url, allow_private, deadline)
        except RemoteImageError as exc:
            raise RemoteImageError(f"redirected to {url}: {exc}" if hops else str(exc)) from None
        location, data = _get(hop, deadline)
        if location is None:
            return data
        url = urljoin(url, location)
    raise RemoteImageError(f"more than {MAX_REDIRECTS} redirects")


def _get(hop: _Hop, deadline: _Deadline) -> tuple[str | None, bytes]:
    """(the redirect's location, b"") or (None, the body) of one request."""
    connection = (_PinnedTLS if hop.tls else _Pinned)(hop, deadline)
    try:
        connection.request("GET", hop.target, headers={"User-Agent": "notes-export"})
        response = connection.getresponse()
        _check_cut(connection)
        if response.status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise RemoteImageError(f"HTTP {response.status} without a Location")
            return location, b""
        if response.status != 200:
            raise RemoteImageError(f"HTTP {response.status} {response.reason}")
        body = _body(response, connection, deadline)
        _check_cut(connection)
        return None, body
    except (OSError, http.client.HTTPException, ValueError) as exc:
        _check_cut(connection)  # a socket cut at the deadline says so, not "connection reset"
        deadline.left()
        raise RemoteImageError(str(exc) or type(exc).__name__) from exc
    finally:
        connection.close()


def _check_cut(connection: _Pinned) -> None:
    """A socket cut at the deadline ends a read as the server closing would: no answer."""
    if connection.cut:
        connection.deadline.fail()


def _body(response: http.client.HTTPResponse, connection: _Pinned,
          deadline: _Deadline) -> bytes:
    """The body, read a chunk at a time while the deadline lasts, at most MAX_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if connection.sock is not None:
            connection.sock.settimeout(deadline.left())
        chunk = response.read1(_CHUNK)  # one read of the socket, not "until _CHUNK bytes"
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BYTES:
            raise RemoteImageError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
        chunks.append(chunk)
    if response.length:  # bytes promised by Content-Length that never came
        deadline.left()
        raise RemoteImageError("the connection closed before the whole image came")
    return b"".join(chunks)


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
