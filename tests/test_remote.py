"""--allow-remote under hostile servers (issue 17): http(s) only at every redirect, public
addresses only unless --allow-private-remote, one deadline for the whole download.

Every server here is on 127.0.0.1; host names that must look public or private resolve through
a fake lookup, and a guard refuses any connection that is not to a loopback address."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.core.config import ConfigError, load
from exporter.render import remote
from exporter.render.remote import RemoteImageError, RemoteImages, address_problem

from .conftest import SAMPLE_ASSETS, local_server, write_note

PNG = (SAMPLE_ASSETS / "Pasted image 20250217143901.png").read_bytes()
FAKE_DNS = {"intranet.test": ["10.0.0.1"], "metadata.test": ["169.254.169.254"],
            "mapped.test": ["::ffff:127.0.0.1"], "mixed.test": ["93.184.216.34", "10.1.2.3"],
            "images.test": ["127.0.0.1"]}
_real_lookup = socket.getaddrinfo
_real_connect = socket.create_connection


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fake names resolve to FAKE_DNS; connections go to loopback addresses or fail; the
    addresses connected to, in order."""
    connected: list[str] = []

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in FAKE_DNS:
            return _real_lookup(host, port, *args, **kwargs)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in FAKE_DNS[host]]

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        try:
            loopback = ipaddress.ip_address(address[0]).is_loopback
        except ValueError:
            loopback = address[0] == "localhost"
        if not loopback:
            raise OSError(f"test guard: no connection to {address[0]}")
        connected.append(address[0])
        return _real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket, "create_connection", connect)
    yield connected


@pytest.fixture
def public_test_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 (the test server) passes the address check as a public server would."""
    check = remote.address_problem
    monkeypatch.setattr(remote, "address_problem", lambda a: None if a == "127.0.0.1" else check(a))


def _fetch(url: str, tmp_path: Path, allow_private: bool = False) -> Path:
    return RemoteImages(tmp_path / "remote", allow_private).fetch(url)


def _redirect_to(target: str) -> Any:
    return lambda path: ((302, {"Location": target}, b"") if path == "/start"
                         else (200, {"Content-Type": "image/png"}, PNG))


# --- schemes and redirects -------------------------------------------------------------------


def test_a_redirect_to_ftp_is_refused(tmp_path: Path) -> None:
    with local_server(_redirect_to("ftp://127.0.0.1:1/x.png")) as base, \
            pytest.raises(RemoteImageError) as caught:
        _fetch(f"{base}/start", tmp_path, allow_private=True)
    assert str(caught.value) == ("redirected to ftp://127.0.0.1:1/x.png: only http and https "
                                 "images are fetched")


def test_more_than_five_redirects_are_refused(tmp_path: Path) -> None:
    route = lambda path: (302, {"Location": f"/r{len(path)}"}, b"")  # noqa: E731
    with local_server(route) as base, pytest.raises(RemoteImageError, match="more than 5 redir"):
        _fetch(f"{base}/start", tmp_path, allow_private=True)


def test_an_image_behind_a_redirect_still_downloads(tmp_path: Path) -> None:
    with local_server(lambda path: _redirect_to(f"{base}/x.png")(path)) as base:
        path = _fetch(f"{base}/start", tmp_path, allow_private=True)
    assert path.read_bytes() == PNG and path.suffix == ".png"


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.0.0.2", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1%eth0", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"), ("100.64.0.1", "non-public"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
    ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
])
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert f"a {kind} address" in (address_problem(address) or "")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize("url", ["http://localhost:1/x.png", "http://[::1]:1/x.png",
                                 "http://0.0.0.0:1/x.png", "http://intranet.test/x.png",
                                 "http://mixed.test/x.png"])
def test_a_private_address_is_refused_before_connecting(url: str, tmp_path: Path,
                                                        loopback_only: list[str]) -> None:
    with pytest.raises(RemoteImageError, match=r"address.*--allow-private-remote fetches"):
        _fetch(url, tmp_path)
    assert loopback_only == []


def test_the_local_server_is_refused_without_the_flag(tmp_path: Path) -> None:
    with local_server(lambda path: (200, {}, PNG)) as base, \
            pytest.raises(RemoteImageError, match=r"127\.0\.0\.1 is a loopback address"):
        _fetch(f"{base}/x.png", tmp_path)


@pytest.mark.usefixtures("public_test_server")
@pytest.mark.parametrize(("target", "why"), [
    ("http://127.0.0.2:{port}/x.png", "127.0.0.2 is a loopback address"),
    ("http://[::1]:{port}/x.png", "::1 is a loopback address"),
    ("http://intranet.test:{port}/x.png", "intranet.test resolves to 10.0.0.1, a private address"),
    ("http://metadata.test/latest/meta-data/",
     "metadata.test resolves to 169.254.169.254, a link-local address"),
    ("http://mapped.test:{port}/x.png", "mapped.test resolves to ::ffff:127.0.0.1, a loopback "
                                      "address (it holds 127.0.0.1)"),
    ("http://mixed.test/x.png", "mixed.test resolves to 10.1.2.3, a private address"),
])
def test_a_redirect_to_a_private_address_is_refused(target: str, why: str, tmp_path: Path,
                                                    loopback_only: list[str]) -> None:
    port: list[int] = []
    with local_server(lambda path: _redirect_to(target.format(port=port[0]))(path)) as base:
        port.append(int(base.rsplit(":", 1)[1]))
        assert _fetch(f"{base}/x.png", tmp_path).read_bytes() == PNG  # the first hop is fine
        with pytest.raises(RemoteImageError) as caught:
            _fetch(f"{base}/start", tmp_path)
    assert str(caught.value).startswith(f"redirected to {target.format(port=port[0])}: ")
    assert why in str(caught.value)
    assert loopback_only == ["127.0.0.1", "127.0.0.1"]  # never the redirect's target


# --- one deadline --------------------------------------------------------------------------


@contextmanager
def dripping_server(head: bytes, drip: bytes) -> Iterator[str]:
    """A server that sends ``head``, then ``drip`` a byte every 0.2 s (for 6 s at most)."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(65536)
            try:
                self.request.sendall(head)
                for byte in drip[:30]:
                    if stop.wait(0.2):
                        return
                    self.request.sendall(bytes([byte]))
            except OSError:
                return  # the client hung up

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/x.png"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("head", "drip"), [
    (b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 99999\r\n\r\n", PNG),
    (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 100),
], ids=["body", "headers"])
def test_a_dripping_server_is_stopped_at_the_deadline(head: bytes, drip: bytes, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "DEADLINE_SECONDS", 1.0)  # each drip (0.2 s) is well inside it
    with dripping_server(head, drip) as url, \
            pytest.raises(RemoteImageError) as caught:
        _fetch(url, tmp_path, allow_private=True)
    assert str(caught.value) == "the download took longer than 1 s"


# --- TLS to the vetted address, verified against the URL's host name -------------------------


def _certificate(name: str, folder: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with this certificate, serving PNG; yields its port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("name", "works"), [("images.test", True), ("other.test", False)])
def test_https_goes_to_the_vetted_address_and_checks_the_host_name(
        name: str, works: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _certificate(name, tmp_path)  # images.test resolves to 127.0.0.1 (FAKE_DNS)
    trusting = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: trusting(cafile=str(cert)))
    with tls_server(cert, key) as port:
        url = f"https://images.test:{port}/x.png"
        if works:
            assert _fetch(url, tmp_path, allow_private=True).read_bytes() == PNG
        else:
            with pytest.raises(RemoteImageError, match=r"certificate verify failed"):
                _fetch(url, tmp_path, allow_private=True)


# --- the flag: command line only ------------------------------------------------------------


def test_a_config_file_cannot_allow_private_addresses(tmp_path: Path) -> None:
    write_note(tmp_path / "notes", "a.md", "# A\ntext\n")
    (tmp_path / "notes-export.toml").write_text("allow_remote = true\n"
                                                "allow_private_remote = true\n")
    with pytest.raises(ConfigError, match="'allow_private_remote' is not read from a config "
                                          "file; only the command line may give it"):
        load(tmp_path / "notes", {})


def test_the_command_line_flag_fetches_from_a_local_server(tmp_path: Path) -> None:
    with local_server(lambda path: (200, {"Content-Type": "image/png"}, PNG)) as base:
        write_note(tmp_path / "notes", "r.md", f"# R\ntext\n![logo]({base}/logo.png)\n")
        notes = str(tmp_path / "notes")
        refused = CliRunner().invoke(main, ["check", notes, "--allow-remote"])
        fetched = CliRunner().invoke(main, ["check", notes, "--allow-remote",
                                            "--allow-private-remote"])
    assert refused.exit_code == 0 and fetched.exit_code == 0
    assert f"r.md:3:9: warning: remote image '{base}/logo.png' could not be fetched: 127.0.0.1 " \
           "is a loopback address (--allow-private-remote fetches from such addresses); kept " \
           "as a link [remote-image-failed]" in refused.stderr
    assert "remote-image" not in fetched.stderr
