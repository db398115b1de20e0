"""TLS: an ``https`` shop's certificate is verified, whatever the client shares to start fast.

The client makes httpx's default context (certifi's authorities, or ``SSL_CERT_FILE``) once per
process instead of once per client; these tests hold that sharing to the same verification, on
a real TLS server on 127.0.0.1 whose certificate no authority signed.
"""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import client, errors
from tests.client.conftest import SHOP, TOKEN, FakeClock
from tests.conftest import build_client

pytestmark = pytest.mark.socket


class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"message": "ok", "data": {"shop": {}}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An https server on 127.0.0.1 with a self-signed certificate; its base URL."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_certificate_no_authority_signed_is_refused_by_every_client(tls_server: str) -> None:
    clock = FakeClock()
    for _ in range(2):  # the second client shares the first's context: it verifies as well
        bold = build_client(
            base_url=tls_server,
            token=TOKEN,
            shop_identifier=SHOP,
            clock=clock.time,
            sleep=clock.sleep,
            max_attempts=1,
        )
        with bold, pytest.raises(errors.ApiError) as refused:
            bold.list_rulesets()
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)


def test_plain_http_loads_no_authorities() -> None:
    # What a plain-http client (the sandbox) holds instead of the authorities: a context that
    # would refuse any certificate, had one ever been asked for. https clients share one.
    plain = client._tls("http://127.0.0.1:9")
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.get_ca_certs() == []
    assert client._tls("https://a.test") is client._tls("HTTPS://b.test")
    assert client._tls("https://a.test").get_ca_certs() != []
