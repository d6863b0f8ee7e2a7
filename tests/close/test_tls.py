"""TLS as a user behind a corporate CA meets it (docs/ADVERSARIAL.md D12, I5).

A real TLS endpoint on loopback (a small TLS-terminating relay in front of the sandbox, with a
certificate made for the test by ``openssl``): an unknown certificate is refused without a
retry and with a hint that names ``SSL_CERT_FILE``; pointing ``SSL_CERT_FILE`` at the CA makes
the same command work.  Verification is never switched off.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def relay(listener: ssl.SSLSocket, upstream: tuple[str, int]) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except ssl.SSLError:
            continue  # a client that refused our certificate
        except OSError:
            return  # the listener was closed
        back = socket.create_connection(upstream)
        for a, b in ((conn, back), (back, conn)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


@pytest.fixture(scope="module")
def tls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    cert, key = make_cert(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with Sandbox().serve() as plain:
        parts = urlsplit(plain)
        raw = socket.create_server(("127.0.0.1", 0))
        listener = context.wrap_socket(raw, server_side=True)
        threading.Thread(
            target=relay, args=(listener, (parts.hostname, parts.port)), daemon=True
        ).start()
        yield f"https://127.0.0.1:{listener.getsockname()[1]}/api/v1/", cert
        listener.close()


def run(url: str, env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, "schema"], env=env
    )
    return result.exit_code, result.stdout, result.stderr


def test_an_unknown_certificate_is_refused_with_a_hint(tls_url: tuple[str, Path]) -> None:
    url, _ = tls_url
    code, out, err = run(url, {"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""})
    assert code == 3
    assert out == ""
    assert "SSL_CERT_FILE" in err
    assert "certificate" in err.lower()


def test_the_same_command_works_with_the_ca_in_ssl_cert_file(tls_url: tuple[str, Path]) -> None:
    url, cert = tls_url
    code, out, err = run(url, {"SSL_CERT_FILE": str(cert)})
    assert code == 0, err
    assert "Discovery Call" in out
