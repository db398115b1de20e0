"""The in-process transport: the embedded sandbox served to httpx without a socket.

Owns the two ways a real server differs from httpx's own WSGITransport that the client can
tell apart (the raw request path, and a dropped connection). It must not know the API: it
serves whatever WSGI app it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

import httpx

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: The base URL a client uses over this transport: never resolved, the app answers in process.
IN_PROCESS_URL = "http://sandbox.invalid"


class InProcessTransport(httpx.BaseTransport):
    """Serve requests with a WSGI app in this process (the embedded sandbox).

    Mirrors a real server in the two ways the client can tell: ``REQUEST_URI`` carries the raw,
    still-quoted path (as waitress sets it, so ``%2F`` inside a name survives), and an ``OSError``
    out of the app (the sandbox's "commit, then drop the connection" fault) becomes
    ``httpx.ReadError``, exactly what a dropped socket raises.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app on ``request`` and return its fully read response."""
        raw_uri = request.url.raw_path.decode("ascii")
        # PEP 3333: PATH_INFO holds the unquoted bytes as latin-1 code points, as waitress
        # gives it; httpx's own WSGITransport hands over an already-decoded str instead.
        path_info = unquote_to_bytes(raw_uri.partition("?")[0]).decode("latin-1")
        app = self.app

        def with_raw_uri(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]:
            environ["REQUEST_URI"] = raw_uri
            environ["PATH_INFO"] = path_info
            return app(environ, start_response)

        try:
            response = httpx.WSGITransport(app=with_raw_uri).handle_request(request)
            try:
                content = response.read()
            finally:
                response.close()
        except OSError as exc:
            raise httpx.ReadError(
                f"connection dropped by the server ({type(exc).__name__})", request=request
            ) from exc
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(content)
        )
