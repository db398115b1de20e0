"""HTTP answers read into our terms: a success's body, and every failure as an ``errors.ApiError``.

Owns which status means which error (``STATUS_ERRORS``), an error answer read into its typed
error (the API's message, code and field errors, scrubbed; a non-JSON error body is a proxy or a
wrong URL talking, not the API), an ambiguous write described for its read-back, a 2xx body
parsed once and what is wrong with it (empty, cut short, not JSON, not an object), and the
short description of a transport failure.

Must not: send a request, catch httpx's exceptions or decide on retries (``client.py`` sends and
applies ``retries.py``'s policy); it only reads the answer ``client.py`` hands it, and scrubs
with the scrubber the client hands it (its token among the secrets).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import orjson

from reconciler import errors
from reconciler.routes import Method

if TYPE_CHECKING:
    import httpx

STATUS_ERRORS: dict[int, type[errors.ApiError]] = {
    400: errors.InvalidRequest,
    401: errors.AuthenticationFailed,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.InvalidRequest,
    429: errors.RateLimited,
}


class Attempt(TypedDict):
    """What every error of one attempt names: the call, and how many attempts it has taken."""

    method: Method
    path: str
    attempts: int


def error(
    kind: type[errors.ApiError],
    response: httpx.Response,
    common: Attempt,
    scrub: Callable[[str], str],
    extra: Mapping[str, str] | None = None,
) -> errors.ApiError:
    """The error an error answer stands for, with the API's own words (scrubbed)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        detail = f"the error body is not JSON ({content_type(response)})"
        if kind in (errors.RateLimited, errors.ServerError):
            return kind(**common, status=response.status_code, detail=detail)
        # A non-JSON 404 or 401 is a proxy or a wrong URL talking, not the API: saying
        # "not found" would make plan believe the object is absent.
        return errors.BadResponse(
            **common, status=response.status_code, detail=detail + "; check api_url and routes"
        )
    field_errors = tuple(
        errors.FieldError(scrub(str(e.get("field", ""))), scrub(str(e["message"])))
        for e in body.get("errors") or ()
        if isinstance(e, dict) and "message" in e
    )
    return kind(
        **common,
        status=response.status_code,
        api_message=scrub(str(body.get("message", ""))),
        code=str(body.get("code", "")),
        field_errors=field_errors,
        **(extra or {}),
    )


def ambiguous(
    route: str,
    read_back: Mapping[str, Any] | None,
    common: Attempt,
    response: httpx.Response | None,
    exc: Exception | None,
    scrub: Callable[[str], str],
    *,
    problem: str = "",
) -> errors.AmbiguousWrite:
    """A write whose outcome is unknown (a transport failure ``exc``, a 5xx, or a yes whose body
    has ``problem``), carrying what to read back."""
    if exc is not None:
        what = scrub(describe(exc))
    elif problem:
        what = f"the server said yes but {problem}"
    else:
        what = "the server failed mid-write"
    return errors.AmbiguousWrite(
        **common,
        status=response.status_code if response is not None else None,
        read_back=dict(read_back) if read_back is not None else {"route": route},
        detail=f"{what}; the write may or may not have happened: read back before retrying",
    )


def read_body(method: Method, response: httpx.Response) -> tuple[dict[str, Any] | None, str | None]:
    """A 2xx answer's parsed body, and what is wrong with it (None: what the contract promises).

    Every success carries a JSON object (contract §3), except a DELETE's, which may be empty
    (204, or 200 with no body: both mean done). Parsed once, here.
    """
    content = response.content
    if not content.strip():
        return None, None if method == "DELETE" else "the answer's body was empty"
    try:
        body = parse_json(content)
    except UnicodeDecodeError:
        return None, f"the answer's body was not UTF-8 text ({content_type(response)})"
    except json.JSONDecodeError as exc:
        at = len(exc.doc[: exc.pos].encode("utf-8"))
        if exc.doc[exc.pos :].strip() == "" or exc.msg.startswith("Unterminated string"):
            # The document is fine up to where it ends: a body cut short.
            return (
                None,
                f"the answer's body was truncated JSON (it breaks off at byte {len(content)})",
            )
        if exc.pos == 0 or not exc.doc.lstrip().startswith(("{", "[")):
            return None, f"the answer's body was not JSON ({content_type(response)})"
        return None, f"the answer's body was invalid JSON at byte {at} ({exc.msg})"
    if not isinstance(body, dict):
        return None, f"the answer's body was a JSON {_json_kind(body)}, not an object"
    return body, None


def parse_json(content: bytes) -> Any:
    """``json.loads(content)``, by orjson where the two give the same value.

    orjson reads the pages of 10,000 rulesets (15 MB) in 0.12 s of CPU against json's 0.18-0.25 s,
    and gives the same values, floats to the last bit. Where they could differ, json reads
    (or words the error): an integer outside 64 bits (orjson makes it a float), so a body
    holding any run of 19 digits, and what orjson refuses (``NaN``, a lone surrogate, a byte
    order mark, UTF-16).
    """
    if _LONG_RUN not in content.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return json.loads(content)


#: Every digit as ``0``, and the run of them the smallest integer outside 64 bits needs
#: (-9223372036854775809): the look costs 14 ms over 15 MB, where a regex took 176 ms.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "no content type").split(";")[0] or "?"


def describe(exc: Exception) -> str:
    """A transport failure in a few words: its type, and its message cut short."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {errors.cut(text, 120)}" if text else type(exc).__name__
