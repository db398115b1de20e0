"""The ``Sandbox``: a WSGI app that behaves like Bold's Price Rules API, and its knobs.

Owns the request pipeline (auth → rate limit → route → scope → shop → faults → handler →
mid-listing mutation → drop/slow), the token registry, the statistics, and the public methods
tests and the CLI use (``add_token``, ``set_faults``, ``set_listing``, ``stats``, ``reset``,
``dump``, ``load``). Resource behaviour lives in ``rulesets``, ``order_conditions``,
``discount_codes`` and ``storefront``; the control surface under ``/__sandbox__/`` in
``control``. It must not import anything of ``reconciler``
outside ``reconciler.sandbox``: the sandbox is an independent picture of the API.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reconciler.sandbox import (
    control,
    discount_codes,
    faults,
    limits,
    order_conditions,
    rules,
    rulesets,
    shop,
    storefront,
    web,
)
from reconciler.sandbox.faults import Listing as ListingSettings
from reconciler.sandbox.store import Store

ALL_SCOPES: tuple[str, ...] = (
    "read_price_rulesets",
    "write_price_rulesets",
    "read_price_order_conditions",
    "write_price_order_conditions",
    "read_discount_codes",
    "write_discount_codes",
)
DEFAULT_TOKEN = "sandbox-local-token"
DEFAULT_APP = "boldrules-local"
CONTROL_TOKEN = "sandbox-control"
#: The app that owns the rulesets backing discount codes (contract §5.5).
DISCOUNT_APP = discount_codes.DISCOUNT_APP

#: Set by ``serve`` on every environ: the request came over a real socket.
SOCKET_KEY = "boldrules.sandbox.socket"

_RELEASES = ("2022-05-01", "2022-10-14")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AUTH_BODY_MESSAGE = "This request failed to be authenticated."

StartResponse = Callable[..., Any]


def resolve_version(header: str | None) -> str:
    """Bold-API-Version-Date → the release it selects; missing or invalid → 2022-05-01 (§1)."""
    if header is None or not _DATE.match(header.strip()):
        return _RELEASES[0]
    chosen = _RELEASES[0]
    for release in _RELEASES:
        if release <= header.strip():
            chosen = release
    return chosen


class Sandbox:
    """A local Bold Price Rules server for one shop; a WSGI callable, thread-safe."""

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        rate: float | None = None,
        burst: int = 10,
        retry_after: bool = True,
        shop_identifier: str = "sandbox-shop",
        shop_domain: str = "sandbox-shop.example.com",
        control_token: str = CONTROL_TOKEN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = Store(db)
        self.clock = clock
        """The rate limiter's time: tests pass a fake one, so its windows are not the machine's."""
        self.shop = web.Shop(identifier=shop_identifier, domain=shop_domain)
        self.control_token = control_token
        self._table = [
            *shop.routes(),
            *storefront.routes(),
            *rulesets.routes(),
            *rules.routes(),
            *order_conditions.routes(),
            *discount_codes.routes(),
        ]
        self._moved: dict[str, str] = {}
        self.router = web.Router(self._table)
        self._tokens: dict[str, tuple[str, frozenset[str]]] = {}
        self._stats: Counter[tuple[str, str, int]] = Counter()
        self._versions: Counter[str] = Counter()
        self._events: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self.injector = faults.Injector()
        self.listing_hook = faults.ListingHook()
        self.limiter: limits.RateLimiter | None = None
        self.retry_after = retry_after
        self.set_rate(rate, burst=burst, retry_after=retry_after)

    @classmethod
    def embedded(cls, path: str | Path) -> Sandbox:
        """The embedded target's sandbox: the file (and folder) made on first use, the default
        token registered for app ``boldrules-local`` with every scope, no rate limit."""
        sandbox = cls(db=path)
        sandbox.add_token(DEFAULT_TOKEN, app=DEFAULT_APP)
        return sandbox

    # Configuration.

    def add_token(self, token: str, *, app: str, scopes: Iterable[str] = ALL_SCOPES) -> None:
        """Register (or redefine) an API token belonging to ``app`` with ``scopes``."""
        if not token or token == self.control_token:
            raise ValueError("an API token must be non-empty and differ from the control token")
        self._tokens[token] = (app, frozenset(scopes))

    def revoke_token(self, token: str) -> bool:
        """Forget an API token, as Bold does when an app's token is revoked; False if unknown.

        Requests already past the token check finish; every later one is answered 401.
        """
        return self._tokens.pop(token, None) is not None

    def token_app(self, token: str) -> str | None:
        """The app a registered API token belongs to (None: not an API token)."""
        entry = self._tokens.get(token)
        return entry[0] if entry else None

    def token_scopes(self, token: str) -> frozenset[str]:
        """The scopes of a registered API token (empty: not an API token)."""
        entry = self._tokens.get(token)
        return entry[1] if entry else frozenset()

    def set_rate(self, rate: float | None, *, burst: int = 10, retry_after: bool = True) -> None:
        """Turn per-token rate limiting on (``rate`` per second, ``burst``) or off (None/0)."""
        self.limiter = limits.RateLimiter(rate, burst, clock=self.clock) if rate else None
        self.retry_after = retry_after

    def set_faults(self, **settings: Any) -> faults.Faults:
        """Replace the fault settings (unnamed ones go back to off); ValueError on bad input."""
        chosen = faults.Faults.from_dict(settings)
        self.injector.configure(chosen)
        return chosen

    def move_routes(self, moved: Mapping[str, str]) -> dict[str, str]:
        """Serve some routes at other paths, as a server whose paths differ from the contract's.

        ``moved`` maps ``"METHOD template"`` (a row of the route table, e.g. ``"PATCH
        P/rulesets/external/{eid}"``) to the template it answers at instead; the old path then
        answers 404, or 405 when other methods still live there. The new template must fill the
        same placeholders. Replaces earlier moves (``{}`` undoes them all); ValueError names an
        unknown route or a bad template.
        """
        table: list[web.Route] = []
        rows = {f"{r.method} {r.template.replace(':int', '')}": r for r in self._table}
        for spec, to in moved.items():
            method, _, template = spec.strip().partition(" ")
            key = f"{method.upper()} {template.strip().replace(':int', '')}"
            if key not in rows:
                raise ValueError(f"no route {spec!r} in the sandbox's table")
            want = set(re.findall(r"\{([a-z_]+)", key))
            if not isinstance(to, str) or set(re.findall(r"\{([a-z_]+)", to)) != want:
                raise ValueError(
                    f"{spec!r} must move to a template with placeholders {sorted(want)}"
                )
        chosen = {
            f"{s.split(' ', 1)[0].upper()} {s.split(' ', 1)[1].strip().replace(':int', '')}": to
            for s, to in moved.items()
        }
        for route in self._table:
            found = chosen.get(f"{route.method} {route.template.replace(':int', '')}")
            if found is None:
                table.append(route)
                continue
            to = found
            # Keep ``:int`` where the original had it, so ids still match only digits.
            for name in re.findall(r"\{([a-z_]+):int\}", route.template):
                to = to.replace(f"{{{name}}}", f"{{{name}:int}}")
            table.insert(0, dataclasses.replace(route, template=to))
        self.router = web.Router(table)
        self._moved = dict(chosen)
        return dict(self._moved)

    @property
    def moved_routes(self) -> dict[str, str]:
        """The routes served elsewhere (``move_routes``)."""
        return dict(self._moved)

    @property
    def faults(self) -> faults.Faults:
        """The fault settings in force."""
        return self.injector.faults

    def set_listing(self, **settings: Any) -> ListingSettings:
        """Replace the list order and mid-listing mutation (unnamed: default); ValueError."""
        chosen = faults.Listing.from_dict(settings)
        self.listing_hook.configure(chosen)
        return chosen

    @property
    def listing(self) -> ListingSettings:
        """The list order and mid-listing mutation in force."""
        return self.listing_hook.listing

    @property
    def wsgi_app(self) -> Sandbox:
        """The WSGI callable (the sandbox itself)."""
        return self

    # Observation and state.

    def stats(self) -> dict[str, Any]:
        """Request counts by method+route and status, totals, 429s, fault events, versions."""
        with self._stats_lock:
            by_route: dict[str, dict[str, int]] = {}
            by_status: Counter[str] = Counter()
            for (method, route, status), count in sorted(self._stats.items()):
                by_route.setdefault(f"{method} {route}", {})[str(status)] = count
                by_status[str(status)] += count
            return {
                "total": sum(self._stats.values()),
                "by_route": by_route,
                "by_status": dict(by_status),
                "rate_limited": by_status.get("429", 0),
                "events": {
                    **self._events,
                    "burst429_started": self.injector.bursts_started,
                },
                "api_versions": dict(self._versions),
            }

    def reset(self, *, data: bool = True, stats: bool = True, faults: bool = True) -> None:
        """Forget the stored objects, the counts (and rate buckets) and/or the fault settings."""
        if data:
            self.store.clear()
        if stats:
            with self._stats_lock:
                self._stats.clear()
                self._versions.clear()
                self._events.clear()
            if self.limiter is not None:
                self.limiter.clear()
        if faults:
            self.injector.configure(type(self.injector.faults)())
            self.listing_hook.configure(type(self.listing_hook.listing)())
            self.move_routes({})

    def dump(self) -> dict[str, Any]:
        """Every stored object as JSON (the seed format of docs/sandbox.md)."""
        return self.store.dump()

    def load(self, data: dict[str, Any]) -> None:
        """Replace every stored object with a dump; ValueError/KeyError on a malformed one."""
        self.store.load(data)

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    # The WSGI entry point.

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = web.Request.from_environ(environ)
        if request.path.startswith(control.PREFIX):
            response = control.handle(self, request)
            return _send(start_response, response)
        response, drop = self._api(request)
        if not drop:
            return _send(start_response, response)
        if not environ.get(SOCKET_KEY):
            # In process there is no connection to cut: raise what a reset socket raises, and
            # let the client map it like any transport failure.
            raise ConnectionResetError("sandbox: connection dropped after the write committed")
        body = response.encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body) + 64))]
        start_response(web.status_line(response.status), headers)
        # Fewer bytes than promised: the server closes the connection mid-body, and the client
        # sees a protocol or read error although the write has happened.
        return _Truncated(body[: len(body) // 2])

    def _api(self, request: web.Request) -> tuple[web.Response, bool]:
        """Run one API request through the pipeline; (response, drop the connection?)."""
        version = resolve_version(request.headers.get("bold-api-version-date"))
        matched = self.router.match(request.method, request.raw_path or request.path)
        route = matched[0] if isinstance(matched, tuple) else None
        template = route.template.replace(":int", "") if route else "(unmatched)"
        drop = False
        try:
            response, drop = self._pipeline(request, matched)
        except web.HttpError as exc:
            response = web.Response(exc.status, exc.body(), headers=exc.headers)
        except Exception as exc:  # a sandbox bug must reach the client as a 500, not hang it
            response = web.Response(500, web.HttpError(500, f"Sandbox error: {exc!r}").body())
        with self._stats_lock:
            self._stats[(request.method, template, response.status)] += 1
            self._versions[version] += 1
            if drop:
                self._events["dropped_after_commit"] += 1
        return response, drop

    def _pipeline(
        self, request: web.Request, matched: tuple[web.Route, dict[str, str]] | list[str]
    ) -> tuple[web.Response, bool]:
        storefront_call = request.path.startswith("/price_rules/storefront/")
        app, scopes = "", frozenset[str]()
        if not storefront_call:
            token = request.bearer()
            entry = self._tokens.get(token) if token else None
            if entry is None:
                raise web.HttpError(401, _AUTH_BODY_MESSAGE)
            app, scopes = entry
            if self.limiter is not None:
                wait = self.limiter.acquire(token or "")
                if wait is not None:
                    raise self._too_many(wait)
        if not isinstance(matched, tuple):
            if matched:
                raise web.HttpError(
                    405,
                    f"{request.method} is not allowed on {request.path}.",
                    headers={"Allow": ", ".join(sorted(set(matched)))},
                )
            raise web.HttpError(404, f"No endpoint at {request.method} {request.path}.")
        route, params = matched
        shop_name = params.pop("shop", None)
        if shop_name is not None and shop_name not in self._shop_names(storefront_call):
            raise web.HttpError(404, f"No shop {shop_name!r}.")
        if route.scope is not None and route.scope not in scopes:
            raise web.HttpError(403, f"This token lacks the {route.scope} scope for this call.")
        delay = self.injector.delay()
        if delay:
            time.sleep(delay)
        early = self.injector.early_status()
        if early == 429:
            raise self._too_many(1.0)
        if early is not None:
            with self._stats_lock:
                self._events[f"injected_{early}"] += 1
            raise web.HttpError(early, f"Injected fault: the sandbox answered {early}.")
        order = self.listing_hook.listing.order
        response = route.handler(
            web.Context(
                request=request,
                params=params,
                app=app,
                store=self.store,
                shop=self.shop,
                order=order,
            )
        )
        if route.listing and response.status == 200 and not _FILTERS & set(request.query):
            count = self.listing_hook.fire(route.listing, web.page_params(request)[0])
            if count is not None:
                self._mutate(app, count, order)
        drop = route.write and response.status < 300 and self.injector.drop()
        if not drop and response.status < 300:
            spoil = self.injector.spoil_body(write=route.write)
            if spoil is not None:
                body = response.encode()
                cut = body[: len(body) // 2] if spoil == "truncated" else b""
                response = web.Response(response.status, raw=cut, headers=response.headers)
                with self._stats_lock:
                    self._events[f"{spoil}_body"] += 1
        held = 0.0 if drop else self.injector.slow()
        if held:
            with self._stats_lock:
                self._events["slow"] += 1
            time.sleep(held)
        return response, drop

    def _mutate(self, app: str, count: int, order: str) -> None:
        """Run the mid-listing mutation's requests as ``app``, after the page was built."""
        prefix = web.ADMIN_PREFIX.replace("{shop}", quote(self.shop.identifier, safe=""))
        for spec in self.listing_hook.listing.requests:
            method = str(spec["method"]).upper()
            path = prefix + "/" + quote(_numbered(spec["path"], count).lstrip("/"), safe="/")
            body = spec.get("body")
            raw = b"" if body is None else web.dumps(_numbered(body, count)).encode()
            request = web.Request(
                method=method,
                path=path,
                query={},
                headers={"content-type": "application/json"},
                body=raw,
                base_url="http://sandbox.internal",
                raw_path=path,
            )
            matched = self.router.match(method, path)
            outcome = "listing_mutation_failed"
            if isinstance(matched, tuple):
                route, params = matched
                params.pop("shop", None)
                call = web.Context(request, params, app, self.store, self.shop, order)
                try:
                    route.handler(call)
                    outcome = "listing_mutations"
                except web.HttpError:
                    pass
            with self._stats_lock:
                self._events[outcome] += 1

    def _shop_names(self, storefront_call: bool) -> tuple[str, ...]:
        if storefront_call:
            return (self.shop.identifier, self.shop.domain)
        return (self.shop.identifier,)

    def _too_many(self, wait: float) -> web.HttpError:
        headers = {"Retry-After": str(max(1, math.ceil(wait)))} if self.retry_after else {}
        return web.HttpError(429, "API rate limit exceeded", headers=headers)


#: Query parameters that make a list call a lookup rather than a listing: no mutation follows.
_FILTERS = frozenset({"include_all_apps", "external_ids", "filter_expression", "name", "status"})


def _numbered(value: Any, count: int) -> Any:
    """``value`` with ``{n}`` in every string replaced by the trigger count."""
    if isinstance(value, str):
        return value.replace("{n}", str(count))
    if isinstance(value, list):
        return [_numbered(item, count) for item in value]
    if isinstance(value, dict):
        return {key: _numbered(item, count) for key, item in value.items()}
    return value


class _Truncated:
    """A WSGI body that stops short of its Content-Length."""

    def __init__(self, part: bytes) -> None:
        self.part = part

    def __iter__(self) -> Iterator[bytes]:
        yield self.part


def _send(start_response: StartResponse, response: web.Response) -> list[bytes]:
    body = response.encode()
    headers = [(name, value) for name, value in response.headers.items()]
    if response.status != 204:
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(body))))
    start_response(web.status_line(response.status), headers)
    return [body]
