"""The HTTP client for the Bold Price Rules API: the one place that talks HTTP to Bold.

Owns: ``BoldClient``, built from ``ClientSettings`` (``clientsettings.py``) and a token:
authentication and version headers, client-side pacing (a token bucket shared by every thread)
and bounded concurrency, sending each request and applying the retry policy of ``retries.py``
to what comes back (``answers.py`` reads an answer into its body or its typed error), sending
the pages of a list (``pagination.py`` walks them and re-reads a torn list), and call logging
on the ``reconciler.client`` logger (INFO: one line per call; DEBUG: bodies, truncated and
redacted). What the calls add up to is kept in ``calllog.py``; which transport a target needs
(the embedded sandbox in process, or the network) is ``connect.py``'s business.

Must not: interpret API objects beyond finding them in their envelope (``state.py`` owns field
quirks), know the sandbox, print anything, or let the token reach a message, a log line, a repr
or an exception. It is the only module that sends with httpx and catches ``httpx`` exceptions;
it re-raises ours ``from`` them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import random
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, NoReturn, Self
from urllib.parse import quote

import httpx

from reconciler import (
    __version__,
    answers,
    calllog,
    errors,
    operations,
    pacing,
    pagination,
    redact,
    retries,
    routes,
)
from reconciler.clientsettings import ClientSettings
from reconciler.pacing import TokenBucket
from reconciler.reads import ApiResponse
from reconciler.routes import Method
from reconciler.targets import token_problem
from reconciler.transport import IN_PROCESS_URL

log = logging.getLogger("reconciler.client")

#: Sent on every call so Bold can tell who is calling (contract §1).
USER_AGENT = f"boldrules/{__version__} (+https://github.com/boldrules/boldrules)"

_BODY_LOG_LIMIT = 2000
_SECRET_KEY = re.compile(r"token|secret|password|authorization|api[_-]?key", re.IGNORECASE)
# Failures where the request never left this machine: safe to retry even for POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that retrying cannot fix (a bad URL scheme, an illegal header we built).
_HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class _Halted(Exception):
    """A call refused because the client was halted (``BoldClient.halt``); never shown: the
    caller that halts discards what the halted calls raise."""


class BoldClient(operations.Operations):
    """A paced, retrying client for one target; safe to share between threads."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        token: str,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """A client calling as ``settings`` say with ``token``; ``transport`` (httpx's own when
        None), ``clock``, ``sleep`` and ``rng`` are seams for tests and the embedded sandbox."""
        token = token.strip()  # surrounding whitespace is never part of a bearer token
        problem = token_problem(token)
        if problem:
            # Deliberately vague: naming the bad character would start to print the token.
            raise errors.TokenInvalid(problem)
        self.settings = settings
        self.api_version = settings.api_version
        self.base_url = settings.base_url.rstrip("/")
        self.concurrency = settings.concurrency
        self.routes = routes.resolve(settings.routes)
        self._token = token
        self._shop_identifier = settings.shop_identifier
        self._shop_lock = threading.Lock()
        self._shop_failure: errors.ApiError | None = None
        self._clock = clock
        self._sleep = sleep
        self._backoff = retries.Backoff(settings, rng)
        self._bucket = TokenBucket(settings.rate, settings.burst, clock=clock, sleep=sleep)
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._log = calllog.CallLog(clock)
        self._on_close: list[Callable[[], object]] = []
        self._halted = threading.Event()
        self._pages = threading.local()
        #: Pages each list route had when last read (``pipeline`` remembers them between runs):
        #: asked for at once with the first (``pagination.read``).
        self.expected_pages: dict[str, int] = {}
        #: Pages each list route had in this client's reads, its latest read of it.
        self.pages_read: dict[str, int] = {}
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=settings.timeout,
            follow_redirects=False,  # a redirect would carry the token somewhere unplanned
            limits=httpx.Limits(max_connections=max(settings.concurrency, 10)),
            verify=_tls(self.base_url) if transport is None else True,
            headers={
                "Authorization": f"Bearer {token}",
                "Bold-API-Version-Date": self.api_version,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )

    def on_close(self, closer: Callable[[], object]) -> None:
        """Run ``closer`` when this client closes (``connect`` closes an embedded sandbox so)."""
        self._on_close.append(closer)

    def halt(self) -> None:
        """Send nothing more: every call from now on, and each one still waiting for its turn,
        raises before it is sent; calls already sent finish. ``plan`` halts the shop's reads so
        when the manifests it loads beside them turn out invalid."""
        self._halted.set()

    @contextlib.contextmanager
    def pages_through(
        self, convert: Callable[[pagination.Page], pagination.Page]
    ) -> Iterator[None]:
        """Every list this thread reads inside the block passes each page through ``convert``
        as it arrives, on whichever thread fetched it (``state.fetch_live`` normalises the
        objects so, and keeps of the raw JSON only what the read's checks need)."""
        self._pages.convert = convert
        try:
            yield
        finally:
            self._pages.convert = None

    def __repr__(self) -> str:
        return (
            f"BoldClient(base_url={self.base_url!r}, shop_identifier={self._shop_identifier!r}, "
            f"api_version={self.api_version!r})"
        )

    def close(self) -> None:
        """Close the connection pool (and an embedded sandbox this client opened)."""
        self._http.close()
        for closer in self._on_close:
            closer()
        self._on_close.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def stats(self) -> calllog.ClientStats:
        """Calls, retries, 429s and errors so far."""
        return self._log.snapshot()

    @property
    def shop_identifier(self) -> str:
        """The shop this client manages; asked of ``GET /shops/v1/info`` once if not given."""
        with self._shop_lock:
            if self._shop_failure is not None:
                # Threads that queued behind a failed ask get its answer, not six more attempts.
                raise self._shop_failure
            if self._shop_identifier is None:
                try:
                    info = self.shop_info()
                except errors.ApiError as exc:
                    self._shop_failure = exc
                    raise
                ident = info.get("shop_identifier")
                if not isinstance(ident, str | int) or isinstance(ident, bool) or not str(ident):
                    raise errors.BadResponse(
                        method="GET",
                        path=self._path("shop_info", {}),
                        status=200,
                        detail="the shop info has no shop_identifier",
                    )
                self._shop_identifier = str(ident)
            return self._shop_identifier

    # ---------------------------------------------------------------- observing calls

    def observe(self) -> contextlib.AbstractContextManager[list[calllog.Exchange]]:
        """Collect every call this thread finishes inside the block (apply's ledger uses it)."""
        return self._log.observe()

    def annotate(self, note: str) -> None:
        """Attach ``note`` to the call this thread finished last (the ledger shows it)."""
        self._log.annotate(note)

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock this client paces and times its calls by."""
        return self._clock

    # ---------------------------------------------------------------- the generic call

    def request(
        self,
        route: str,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        read_back: Mapping[str, Any] | None = None,
    ) -> ApiResponse:
        """Send one call of the routes table, paced and retried; raise ``errors.ApiError``."""
        if route in routes.NEVER_CALLED:
            raise ValueError(f"{route} reaches every app's rulesets; boldrules never sends it")
        if route not in self.routes:
            raise ValueError(f"unknown route {route!r}")
        if self._halted.is_set():
            raise _Halted(route)
        method = self.routes[route][0]
        path = self._path(route, path_params or {})
        where = path + ("?" + str(httpx.QueryParams(params)) if params else "")
        if json is not None and log.isEnabledFor(logging.DEBUG):  # a redacted copy costs
            log.debug("%s %s request body: %s", method, where, self._redacted(json))
        started = self._clock()
        self._log.starting()
        attempt = 0
        refusals = Counter[bool]()  # failed attempts so far: 429s (True) apart from the rest
        while True:
            attempt += 1
            try:
                response, body = self._attempt(
                    method, path, params, json, attempt, route, read_back
                )
            except retries.Retry as retry:
                spent = self._clock() - started
                refusals[retry.rate_limited] += 1
                if retries.exhausted(retry, refusals, spent, self.settings):
                    self._fail(route, method, where, started, retry.final)
                retries.announce(retry, method, where, refusals, self.settings)
                self._sleep(retry.delay)
                continue
            except errors.ApiError as exc:
                self._fail(route, method, where, started, exc)
            elapsed_ms = (self._clock() - started) * 1000
            self._log.finished(
                "ok",
                route=route,
                method=method,
                path=path,
                status=response.status_code,
                started=started,
                attempts=attempt,
            )
            log.info(
                "%s %s → %d in %.0f ms, %d retries",
                method,
                where,
                response.status_code,
                elapsed_ms,
                attempt - 1,
            )
            if body is not None and log.isEnabledFor(logging.DEBUG):
                # Only when asked (-vv): a redacted copy of every page was 65% of a fetch's CPU.
                log.debug("%s %s response body: %s", method, where, self._redacted(body))
            return ApiResponse(
                method,
                path,
                response.status_code,
                body,
                attempt,
                elapsed_ms,
                date=response.headers.get("date"),
            )

    def _tracer(self, token: pacing.Token) -> Callable[[str, Mapping[str, Any]], None]:
        """httpcore's trace callback for one request: the moment it was written whole is when
        its rate-limit token starts to count (``pacing.Token.sent``)."""

        def trace(event: str, info: Mapping[str, Any]) -> None:
            if event == _WRITTEN:
                token.sent(self._clock())

        return trace

    def _fail(
        self, route: str, method: Method, where: str, started: float, exc: errors.ApiError
    ) -> NoReturn:
        self._log.finished(
            "failed",
            route=route,
            method=method,
            path=where.partition("?")[0],
            status=exc.status,
            started=started,
            attempts=exc.attempts,
            error=exc,
        )
        status = exc.status if exc.status is not None else "no response"
        elapsed_ms = (self._clock() - started) * 1000
        retries = exc.attempts - 1
        log.info("%s %s → %s in %.0f ms, %d retries", method, where, status, elapsed_ms, retries)
        raise exc

    def _attempt(
        self,
        method: Method,
        path: str,
        params: Mapping[str, str | int] | None,
        body: Any,
        attempt: int,
        route: str,
        read_back: Mapping[str, Any] | None,
    ) -> tuple[httpx.Response, dict[str, Any] | None]:
        """One HTTP request and its parsed body (None: none); raise ``retries.Retry`` or
        ``ApiError``."""
        idempotent = method in retries.IDEMPOTENT
        common: answers.Attempt = {"method": method, "path": path, "attempts": attempt}
        with self._slots:
            # The token is taken once a slot is held, so the request leaves at once: a thread
            # that took a token and then queued for a slot would reach the server late, bunched
            # with later ones, and tip Bold's window over.
            token = self._bucket.take_token()
            self._log.paced(token.waited)
            if self._halted.is_set():
                raise _Halted(route)
            try:
                response = _unlinked(
                    self._http.request(
                        method,
                        path,
                        params=params,
                        json=body,
                        extensions={"trace": self._tracer(token)},
                    )
                )
            except _NOT_SENT as exc:
                raise retries.Retry(
                    self._no_response(exc, common), self._backoff.delay(attempt)
                ) from exc
            except _HOPELESS as exc:
                raise self._no_response(exc, common) from exc
            except httpx.TransportError as exc:  # read/write errors, timeouts, drops
                if not idempotent:
                    raise answers.ambiguous(
                        route, read_back, common, None, exc, self._scrub
                    ) from exc
                raise retries.Retry(
                    self._no_response(exc, common), self._backoff.delay(attempt)
                ) from exc
            except httpx.DecodingError as exc:
                raise errors.BadResponse(
                    **common, status=None, detail="the body could not be decoded"
                ) from exc
        status = response.status_code
        if status == 429:
            self._log.rate_limited()
            delay = retries.first(
                retries.retry_after(response.headers), self._backoff.delay(attempt)
            )
            self._bucket.hold(delay)
            raise retries.Retry(
                answers.error(errors.RateLimited, response, common, self._scrub), delay
            )
        if status >= 500:
            if not idempotent:
                raise answers.ambiguous(route, read_back, common, response, None, self._scrub)
            delay = retries.first(
                retries.retry_after(response.headers), self._backoff.delay(attempt)
            )
            raise retries.Retry(
                answers.error(errors.ServerError, response, common, self._scrub), delay
            )
        if 300 <= status < 400:
            target = httpx.URL(response.headers.get("location", "?"))
            raise errors.BadResponse(
                **common,
                status=status,
                detail=f"redirected to {target.host}{target.path}; check the target's api_url",
            )
        if status >= 400:
            extra = {"scope": routes.SCOPES.get(route, "")} if status == 403 else {}
            raise answers.error(
                answers.STATUS_ERRORS.get(status, errors.ApiError),
                response,
                common,
                self._scrub,
                extra,
            )
        body, problem = answers.read_body(method, response)
        if problem is not None:
            if method in retries.READS:
                # A read is safe to repeat: a body cut short by a proxy or a hiccup usually
                # comes whole the next time.
                error = errors.BadResponse(**common, status=status, detail=problem)
                raise retries.Retry(error, self._backoff.delay(attempt))
            raise answers.ambiguous(
                route, read_back, common, response, None, self._scrub, problem=problem
            )
        return response, body

    def _path(self, route: str, path_params: Mapping[str, str | int]) -> str:
        template = self.routes[route][1]
        empty = sorted(k for k, v in path_params.items() if v is None or not str(v).strip())
        if empty:
            # Defence in depth: an object without an identity must be addressed by its id;
            # ``…/external/None`` would reach nothing, or another object.
            raise errors.Unaddressable(
                method=self.routes[route][0],
                path=template.replace("{shop_identifier}", "…"),
                status=None,
                detail=f"path parameter {', '.join(empty)} of {route} is empty or None; "
                "an object without an external id is addressed by its server id",
            )
        values = {key: str(value) for key, value in path_params.items()}
        if "shop_identifier" in routes.placeholders(template) and "shop_identifier" not in values:
            values["shop_identifier"] = self.shop_identifier
        missing = routes.placeholders(template) - set(values)
        if missing:
            raise ValueError(f"route {route} needs path parameters {sorted(missing)}")
        # safe="": external ids and condition names may hold "/", spaces or "?".
        return template.format_map({key: quote(value, safe="") for key, value in values.items()})

    def _no_response(self, exc: httpx.HTTPError, common: answers.Attempt) -> errors.ApiError:
        detail = self._scrub(answers.describe(exc))
        if isinstance(exc, _NOT_SENT) and self.base_url != IN_PROCESS_URL:
            url = httpx.URL(self.base_url)
            where = f"{url.host}:{url.port}" if url.port else url.host
            detail = f"could not connect to {where} ({detail})"
        error = errors.ConnectionFailed(**common, status=None, detail=detail)
        error.__cause__ = exc  # kept for when this ends up raised after the last retry
        return error

    def _scrub(self, text: str) -> str:
        # The one scrubber (redact.py): this client's token and every secret of the environment.
        return redact.scrub(text, secrets=[self._token, *redact.secret_values()])

    def _redacted(self, value: Any) -> str:
        text = json.dumps(_redact(value), ensure_ascii=False, default=str)
        text = self._scrub(text)
        return text if len(text) <= _BODY_LOG_LIMIT else text[:_BODY_LOG_LIMIT] + "…(truncated)"

    # ---------------------------------------------------------------- pagination

    def list_all(
        self,
        route: str,
        key: str | None,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a paginated list, each once; ``key`` is ``data``'s list (None: bare)."""
        return self.read_list(route, key, path_params=path_params, params=params).items

    def read_list(
        self,
        route: str,
        key: str | None,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> pagination.Listing:
        """A whole list read so that its pages hold together (``pagination.read_whole``)."""
        convert: Callable[[pagination.Page], pagination.Page] | None = getattr(
            self._pages, "convert", None
        )

        def fetch(page: int) -> pagination.Page:
            query = {**(params or {}), "limit": pagination.PAGE_LIMIT, "page": page}
            response = self.request(route, path_params=path_params, params=query)
            try:
                found = pagination.page_of(page, response.body, key, date=response.date)
            except ValueError as exc:
                raise errors.BadResponse(
                    method=response.method,
                    path=response.path,
                    status=response.status_code,
                    attempts=response.attempts,
                    detail=str(exc),
                ) from None
            total = found.pagination.get("total")
            if page != 1:
                total = 0  # the first page announced the whole list
            self._log.page(len(found.items), total if type(total) is int else None)
            return found if convert is None else convert(found)

        whole = (params or {}).keys() <= _WHOLE_LIST_PARAMS and not path_params
        listing = pagination.read_whole(
            fetch,
            workers=self.concurrency,
            where=lambda: self._path(route, path_params or {}),
            expect=self.expected_pages.get(route) if whole else None,
        )
        if whole:
            self.pages_read[route] = listing.pages
        return listing


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: "***" if _SECRET_KEY.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


#: Query parameters of a list read whole (a shop's own listing), whose page count is remembered;
#: a filtered read (``external_ids=``, ``name=``) has its own.
_WHOLE_LIST_PARAMS = frozenset({"deep"})

#: httpcore's trace event once a request is written whole (HTTP/1.1, the API's protocol).
_WRITTEN = "http11.send_request_body.complete"


@functools.cache
def _verified() -> ssl.SSLContext:
    """httpx's own default context (certifi's authorities, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``), made once per process: each made anew cost 30-50 ms, once per client,
    and ``plan --all-targets`` opens one client a shop."""
    return httpx.create_ssl_context()


def _tls(base_url: str) -> ssl.SSLContext:
    """The TLS context for ``base_url``: verified for ``https``. Over plain ``http`` (the
    sandbox, a local proxy) no TLS is negotiated (redirects are refused), so no authorities
    are loaded; should a certificate ever be asked for, this context refuses it."""
    if base_url.lower().startswith("https:"):
        return _verified()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _unlinked(response: httpx.Response) -> httpx.Response:
    """``response``, read whole, no longer tied to the stream it was read from.

    httpx's Response and that stream refer to each other: a cycle only the garbage collector
    frees, and a plan pauses the collector while it is built (``pipeline.steps``), so every
    page's bytes stayed until the end (14 MB at 10,000 rulesets). The body is read already
    (``response.content``); an empty stream in its place lets them go with the response.
    """
    response.stream = httpx.ByteStream(b"")
    return response
