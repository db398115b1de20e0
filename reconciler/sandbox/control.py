"""The control surface under ``/__sandbox__/``: what tests and benchmarks use to steer a sandbox.

Owns the control endpoints and their authorisation: ``Authorization: Bearer <control token>``;
an ordinary API token gets 403, anything else 401. Control calls are never rate limited, never
fault-injected and never counted in the API statistics. It must not offer anything a real Bold
shop has: these are the sandbox's own knobs.

Endpoints (JSON in, JSON out, no envelope):
- ``GET /__sandbox__/stats`` — ``Sandbox.stats()``
- ``POST /__sandbox__/reset`` — optional body ``{"data": bool, "stats": bool, "faults": bool}``
- ``GET|PUT /__sandbox__/faults`` — read, or replace with the given settings (others off)
- ``GET|PUT /__sandbox__/listing`` — list order and the mid-listing mutation (``faults.Listing``)
- ``GET|PUT /__sandbox__/routes`` — ``{"moved": {"METHOD template": "new template"}}``: serve
  routes at other paths (``Sandbox.move_routes``), to try ``routes:`` overrides and ``doctor``
- ``PUT /__sandbox__/rate`` — ``{"rate": number|null, "burst": int, "retry_after": bool}``
- ``POST /__sandbox__/tokens`` — ``{"token", "app", "scopes"?}`` (default: every scope)
- ``DELETE /__sandbox__/tokens`` — ``{"token"}``: revoke it (every later request is 401)
- ``GET /__sandbox__/dump`` and ``POST /__sandbox__/load`` — the seed/dump format
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.sandbox import web

if TYPE_CHECKING:
    from reconciler.sandbox.app import Sandbox

PREFIX = "/__sandbox__/"


def handle(sandbox: Sandbox, request: web.Request) -> web.Response:
    """Answer one control request."""
    try:
        _authorise(sandbox, request)
        return _dispatch(sandbox, request)
    except web.HttpError as exc:
        return web.Response(exc.status, exc.body(), headers=exc.headers)


def _authorise(sandbox: Sandbox, request: web.Request) -> None:
    token = request.bearer()
    if token == sandbox.control_token:
        return
    if token and sandbox.token_app(token) is not None:
        raise web.HttpError(403, "API tokens cannot use the sandbox control surface.")
    raise web.HttpError(401, "This request failed to be authenticated.")


def _dispatch(sandbox: Sandbox, request: web.Request) -> web.Response:
    name = request.path[len(PREFIX) :].strip("/")
    method = request.method
    if (method, name) == ("GET", "stats"):
        return web.Response(200, sandbox.stats())
    if (method, name) == ("POST", "reset"):
        body = request.json_object() if request.body.strip() else {}
        flags = {k: bool(body.get(k, True)) for k in ("data", "stats", "faults")}
        sandbox.reset(**flags)
        return web.Response(200, {"reset": flags})
    if (method, name) == ("GET", "faults"):
        return web.Response(200, sandbox.faults.to_dict())
    if (method, name) == ("PUT", "faults"):
        try:
            chosen = sandbox.set_faults(**request.json_object())
        except ValueError as exc:
            raise web.HttpError(400, str(exc)) from exc
        return web.Response(200, chosen.to_dict())
    if (method, name) == ("GET", "listing"):
        return web.Response(200, sandbox.listing.to_dict())
    if (method, name) == ("PUT", "listing"):
        try:
            listing = sandbox.set_listing(**request.json_object())
        except ValueError as exc:
            raise web.HttpError(400, str(exc)) from exc
        return web.Response(200, listing.to_dict())
    if (method, name) == ("GET", "routes"):
        return web.Response(200, {"moved": sandbox.moved_routes})
    if (method, name) == ("PUT", "routes"):
        moved = request.json_object().get("moved", {})
        if not isinstance(moved, dict):
            raise web.HttpError(400, '"moved" must be an object of "METHOD template": "template".')
        try:
            return web.Response(200, {"moved": sandbox.move_routes(moved)})
        except ValueError as exc:
            raise web.HttpError(400, str(exc)) from exc
    if (method, name) == ("PUT", "rate"):
        return _set_rate(sandbox, request.json_object())
    if (method, name) == ("POST", "tokens"):
        return _add_token(sandbox, request.json_object())
    if (method, name) == ("DELETE", "tokens"):
        token = request.json_object().get("token")
        if not isinstance(token, str) or not token:
            raise web.HttpError(400, 'Revoking a token needs a "token" string.')
        if not sandbox.revoke_token(token):
            raise web.HttpError(404, "No such API token.")
        return web.Response(200, {"revoked": True})
    if (method, name) == ("GET", "dump"):
        return web.Response(200, sandbox.dump())
    if (method, name) == ("POST", "load"):
        try:
            sandbox.load(request.json_object())
        except (ValueError, KeyError, TypeError) as exc:
            raise web.HttpError(400, f"Cannot load this dump: {exc!r}.") from exc
        return web.Response(200, {"loaded": True})
    raise web.HttpError(404, f"No control endpoint {method} {request.path}.")


def _set_rate(sandbox: Sandbox, body: dict[str, Any]) -> web.Response:
    rate, burst = body.get("rate"), body.get("burst", 10)
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)):
        raise web.HttpError(400, "rate must be a number or null.")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise web.HttpError(400, "burst must be a positive integer.")
    retry_after = bool(body.get("retry_after", True))
    sandbox.set_rate(rate, burst=burst, retry_after=retry_after)
    return web.Response(200, {"rate": rate or None, "burst": burst, "retry_after": retry_after})


def _add_token(sandbox: Sandbox, body: dict[str, Any]) -> web.Response:
    token, app, scopes = body.get("token"), body.get("app"), body.get("scopes")
    if not isinstance(token, str) or not isinstance(app, str) or not token or not app:
        raise web.HttpError(400, 'A token needs "token" and "app" strings.')
    if scopes is not None and (
        not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)
    ):
        raise web.HttpError(400, '"scopes" must be a list of strings.')
    try:
        if scopes is None:
            sandbox.add_token(token, app=app)
        else:
            sandbox.add_token(token, app=app, scopes=scopes)
    except ValueError as exc:
        raise web.HttpError(400, str(exc)) from exc
    return web.Response(201, {"app": app, "scopes": sorted(sandbox.token_scopes(token))})
