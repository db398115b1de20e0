"""The sandbox's small HTTP toolkit: requests, responses, API errors, routing and pagination.

Owns how a WSGI environ becomes a ``Request``, how a handler's result becomes bytes, the error
bodies of the contract (§3), the route table's matching rules and the ``pagination`` object.
It must not know any resource: rulesets, conditions and codes live in their own modules.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from reconciler.sandbox.store import Store

#: The contract's path prefixes; route templates are written with these letters (§1).
ADMIN_PREFIX = "/price_rules/rules/v2/shops/{shop}"
STOREFRONT_PREFIX = "/price_rules/storefront/v2/shops/{shop}"

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

# Error codes: the contract fixes only 401's ("00-1"); the others follow the same two-part shape
# so that clients keying on `type` (stable, documented in docs/sandbox.md) never parse `code`.
_ERROR_KINDS = {
    400: ("00-4", "request.malformed"),
    401: ("00-1", "authentication.failed"),
    403: ("00-2", "authorization.failed"),
    404: ("02-4", "resource.not_found"),
    405: ("00-5", "request.method_not_allowed"),
    409: ("02-9", "resource.conflict"),
    422: ("02-2", "validation.failed"),
    500: ("99-0", "server.error"),
    502: ("99-2", "server.bad_gateway"),
    503: ("99-3", "server.unavailable"),
}


def status_line(status: int) -> str:
    """``200 OK``: the WSGI status string for a code."""
    return f"{status} {_REASONS.get(status, 'Unknown')}"


class HttpError(Exception):
    """An answer other than success; raised anywhere in a handler, rendered by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The contract's error body (§3), or the exact 429 body of §4."""
        if self.status == 429:
            return {"message": self.message}
        code, kind = _ERROR_KINDS.get(self.status, ("99-9", "server.error"))
        out: dict[str, Any] = {"message": self.message, "code": code, "type": kind}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def field_error(field_path: str, message: str) -> HttpError:
    """A 422 naming one field."""
    return HttpError(
        422, f"{field_path}: {message}", errors=[{"field": field_path, "message": message}]
    )


@dataclass
class Response:
    """What a handler returns: a status and either a JSON document or pre-encoded bytes."""

    status: int = 200
    data: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The body bytes; empty for 204."""
        if self.status == 204:
            return b""
        if self.raw is not None:
            return self.raw
        return dumps(self.data).encode()


def dumps(value: Any) -> str:
    """Compact JSON, the one encoding the sandbox writes (to the wire and to SQLite)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def envelope(message: str, data: Any, pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    """The success envelope of §3."""
    out: dict[str, Any] = {"message": message, "data": data}
    if pagination is not None:
        out["pagination"] = pagination
    return out


@dataclass
class Request:
    """The parts of a WSGI request the handlers read."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str
    query_string: str = ""
    raw_path: str = ""
    """The path still percent-encoded: what routing splits into segments."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Request:
        """Read method, path (UTF-8 decoded), query, headers and body from a WSGI environ."""
        path_info = str(environ.get("PATH_INFO", "") or "/")
        # PEP 3333 hands the path over as latin-1 code points of the original bytes.
        try:
            path = path_info.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            path = path_info
        # Route on the still-quoted path when the server gives it (waitress's REQUEST_URI), so
        # that a "%2F" inside an external id or condition value stays inside its segment.
        request_uri = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or "")
        raw_path = request_uri.partition("?")[0]
        if "://" in raw_path:  # absolute-form request target
            raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        if not raw_path.startswith("/"):
            raw_path = quote(path, safe="/")
        query_string = str(environ.get("QUERY_STRING", ""))
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        host = headers.get("host") or str(environ.get("SERVER_NAME", "127.0.0.1"))
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            raw_path=raw_path,
            query=query,
            headers=headers,
            body=body,
            base_url=f"{scheme}://{host}",
            query_string=query_string,
        )

    def json(self) -> Any:
        """The body as JSON; 400 when it is missing or malformed."""
        if not self.body.strip():
            raise HttpError(400, "The request body is empty; a JSON object was expected.")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"The request body is not valid JSON: {exc}.") from exc

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 for anything else."""
        value = self.json()
        if not isinstance(value, dict):
            raise HttpError(400, "The request body must be a JSON object.")
        return value

    def bearer(self) -> str | None:
        """The bearer token, or None when the header is absent or of another scheme."""
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def flag(self, name: str) -> bool:
        """A boolean query parameter: true, 1 and yes count as true."""
        return self.query.get(name, "").strip().lower() in {"true", "1", "yes"}


@dataclass(frozen=True)
class Shop:
    """The one shop a sandbox serves."""

    identifier: str
    domain: str


@dataclass
class Context:
    """Everything a handler gets: the request, its path parameters and who is calling."""

    request: Request
    params: dict[str, str]
    app: str
    """The caller's app ("" on storefront routes, which take no token)."""
    store: Store
    shop: Shop
    order: str = "id"
    """How lists are ordered: ``id`` or ``hashed`` (see ``faults.Listing``)."""

    def order_by(self, column: str) -> str:
        """An SQL ``ORDER BY`` expression over an integer id column, in this call's order."""
        if self.order == "hashed":
            return f"(({column} * {_SCRAMBLE}) % 4294967296), {column}"
        return column

    def order_key(self, ident: int) -> tuple[int, int]:
        """The Python sort key matching ``order_by`` for one id."""
        return ((ident * _SCRAMBLE) % 4294967296 if self.order == "hashed" else 0, ident)


#: Knuth's multiplicative hash: a fixed scramble of ids into 32 bits, the same in SQL and Python.
_SCRAMBLE = 2654435761


Handler = Callable[[Context], Response]


@dataclass(frozen=True)
class Route:
    """One row of the route table: method, template (with P/S prefixes), scope and handler."""

    method: str
    template: str
    scope: str | None
    handler: Handler
    write: bool = False
    listing: str = ""
    """For a list route: the listing's name (what a mid-listing mutation follows)."""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        path = self.template
        if path.startswith("P/"):
            path = ADMIN_PREFIX + path[1:]
        elif path.startswith("S/"):
            path = STOREFRONT_PREFIX + path[1:]
        regex = ""
        for part in re.split(r"(\{[a-z_]+(?::int)?\})", path):
            if part.startswith("{"):
                name, _, kind = part[1:-1].partition(":")
                regex += f"(?P<{name}>\\d+)" if kind == "int" else f"(?P<{name}>[^/]+)"
            else:
                regex += re.escape(part)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}/?$"))


class Router:
    """Matches a method and path against routes in table order (list specific paths first)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | list[str]:
        """The route and its path parameters, or the methods the path allows (empty: 404)."""
        allowed: list[str] = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        return allowed


def page_params(request: Request) -> tuple[int, int]:
    """``page`` and ``limit`` from the query: 400 when not positive integers; limit clamped."""
    values = []
    for name, default in (("page", 1), ("limit", DEFAULT_LIMIT)):
        raw = request.query.get(name)
        if raw is None:
            values.append(default)
            continue
        try:
            number = int(raw)
        except ValueError:
            raise HttpError(
                400, f"Query parameter {name} must be an integer, got {raw!r}."
            ) from None
        if number < 1:
            raise HttpError(400, f"Query parameter {name} must be at least 1, got {number}.")
        values.append(number)
    return values[0], min(values[1], MAX_LIMIT)


def pagination(
    request: Request, *, total: int, count: int, page: int, limit: int
) -> dict[str, Any]:
    """The full ``pagination`` object of §3, with absolute next/previous URLs."""
    total_pages = math.ceil(total / limit) if total else 0

    def url(target: int) -> str:
        query = dict(request.query)
        query["page"] = str(target)
        query["limit"] = str(limit)
        return f"{request.base_url}{request.raw_path or quote(request.path)}?{urlencode(query)}"

    return {
        "total": total,
        "count": count,
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "next_url": url(page + 1) if page < total_pages else None,
        "previous_url": url(min(page - 1, max(total_pages, 1))) if page > 1 else None,
    }


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def stamp(moment: datetime, *, style: str = "micro") -> str:
    """An RFC 3339 UTC string; styles differ on purpose so clients compare instants (§1)."""
    moment = moment.astimezone(UTC)
    if style == "micro":  # created_at: "+00:00" with microseconds
        return moment.isoformat(timespec="microseconds")
    if style == "milli":  # updated_at: "Z" with milliseconds
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # user-given bounds: "Z", whole seconds unless the client sent a fraction
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_instant(value: str) -> datetime | None:
    """An RFC 3339 date-time with an offset, or None when it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in value.upper():
        return None
    return moment.astimezone(UTC)
