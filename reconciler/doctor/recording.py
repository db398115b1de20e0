"""One doctor run against one client: every check recorded, a moved route searched for.

``Doctor.check`` runs one check of a route and records its ``results.Check``: a check function
returns what it found or raises ``Failed``; an API error becomes a located FAIL (a refused token
or no answer stops the run: ``Stop``), and a 404/405 on an object known to exist makes it try the
route's alternatives (``routesearch``): one that answers and behaves becomes the ``routes:``
override from then on, so the checks after it run as they would with the fix in the project
file. The checks themselves are the families of ``reconciler.doctor`` (read-only) and
``reconciler.probes`` (``--write``). It must not print.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from reconciler import calllog, errors, instants, routes
from reconciler.doctor import probenames, routesearch
from reconciler.doctor.results import FAIL, OK, SKIPPED, Check, Report

if TYPE_CHECKING:
    from reconciler.client import BoldClient


class Failed(Exception):
    """A check's own finding: the API answered, but not as boldrules assumes."""


class Stop(Exception):
    """Nothing further can be checked (no token, no answer, a refused token)."""


class Doctor:
    """One doctor run against one client (see the module docstring)."""

    def __init__(
        self,
        bold: BoldClient,
        *,
        report: Report,
        project: str,
        shop_identifier: str | None = None,
        now: Callable[[], dt.datetime] = instants.now,
        name: str | None = None,
    ) -> None:
        self.bold = bold
        self.report = report
        self.project = project
        self.configured_shop = shop_identifier
        self.now = now
        self.name = name or probenames.probe_name(now())
        #: Objects found by the read-only checks, used to check the reads by identity.
        self.seen: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ recording

    def add(self, check: Check) -> Check:
        """Record a check."""
        self.report.checks.append(check)
        return check

    def skip(self, title: str, why: str, *, route: str = "", needed: bool = True) -> None:
        """Record a check that could not run, and why."""
        self.add(Check(SKIPPED, title, got=why, route=route, needed=needed))

    def check(
        self,
        title: str,
        route: str,
        run: Callable[[], str],
        *,
        params: Mapping[str, Any] | None = None,
        needed: bool = True,
        fixable: bool = True,
    ) -> bool:
        """Run one check of ``route``: ``run`` returns what it found, or raises ``Failed``.

        A 404/405 (when ``fixable``: the object is known to exist) makes it try the route's
        alternatives with ``run`` again; one that passes becomes the override from then on.
        """
        with self.bold.observe() as seen:
            try:
                found = run()
            except errors.ApiError as exc:
                sent, got = self._exchange(seen, route, params)
                got = got or str(exc.status or "no answer")
                return self._api_failure(title, route, run, exc, sent, got, needed, fixable)
            except Failed as exc:
                sent, got = self._exchange(seen, route, params)
                self.add(Check(FAIL, title, sent, f"{got}: {exc}", route=route, needed=needed))
                return False
        sent, got = self._exchange(seen, route, params)
        self.add(
            Check(OK, title, sent, f"{got}: {found}" if got else found, route=route, needed=needed)
        )
        return True

    def _exchange(
        self, seen: Sequence[calllog.Exchange], route: str, params: Mapping[str, Any] | None
    ) -> tuple[str, str]:
        """``METHOD /path?query`` and the status of the first call of ``route`` in ``seen``."""
        mine = [e for e in seen if e.route == route] or list(seen)
        if not mine:
            return "", ""
        first = mine[0]
        query = "?" + urlencode(dict(params)) if params else ""
        status = "no answer" if first.status is None else str(first.status)
        return f"{first.method} {first.path}{query}", status

    def _api_failure(
        self,
        title: str,
        route: str,
        run: Callable[[], str],
        exc: errors.ApiError,
        sent: str,
        got: str,
        needed: bool,
        fixable: bool,
    ) -> bool:
        message = exc.api_message or exc.detail or type(exc).__name__
        if isinstance(exc, errors.ConnectionFailed):
            self.add(
                Check(
                    FAIL, title, sent, f"no answer: {exc.detail}", route=route, cause="unreachable"
                )
            )
            raise Stop from None
        if isinstance(exc, errors.AuthenticationFailed):
            note = "the token was refused: check that it is this shop's and has not been revoked"
            self.add(Check(FAIL, title, sent, f"{got}: {message}", (note,), route, cause="auth"))
            raise Stop from None
        if isinstance(exc, errors.PermissionDenied):
            scope = getattr(exc, "scope", "") or routes.SCOPES.get(route, "")
            note = f"the token lacks the {scope} scope: add it to the app in Bold's account center"
            self.add(
                Check(FAIL, title, sent, f"{got}: {message}", (note,), route, needed, cause="auth")
            )
            return False
        if not (fixable and routesearch.route_problem(exc) and route in routes.ROUTES):
            self.add(Check(FAIL, title, sent, f"{got}: {message}", route=route, needed=needed))
            return False
        method, template = self.bold.routes[route]
        notes = [
            f"{method} {template} answered {exc.status} on an object that exists: the API has "
            "no such route there"
        ]
        found = self._search(route, run, exc.status)
        override = ""
        if found:
            override = found
            self.report.overrides[route] = found
            notes.append(
                f"answers and behaves at: {found} (re-checked with it applied; the override "
                "is in the summary below)"
            )
        else:
            notes.append(
                f"no likely spelling answered: find the path in Bold's API reference and set it "
                f"in boldrules.yaml under routes: {route}"
            )
        self.add(
            Check(FAIL, title, sent, f"{got}: {message}", tuple(notes), route, needed, override)
        )
        return False

    def _search(self, route: str, run: Callable[[], str], status: int | None) -> str:
        """The first alternative under which ``run`` passes; it stays applied. "" if none."""
        original = self.bold.routes[route]
        for text in routesearch.alternatives(route, original[1], status):
            parsed = routes.parse_override(route, text)
            assert not isinstance(parsed, str)  # alternatives() keeps only valid ones
            self.bold.routes[route] = parsed
            try:
                run()
            except (errors.ApiError, Failed) as exc:
                if isinstance(exc, errors.ConnectionFailed | errors.AuthenticationFailed):
                    self.bold.routes[route] = original
                    raise
                continue
            return text
        self.bold.routes[route] = original
        return ""
