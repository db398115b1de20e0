"""``boldrules doctor``: check every assumption boldrules makes about a target, before going live.

Most of the API's paths and shapes are inferred (the contract's [I] tags), so the first contact
with a real shop is the first real test. ``Doctor`` runs one check per assumption and records a
``Check`` for each: ``ok``, ``FAIL`` or ``skipped``, with what was sent (method, path, query) and
what came back (status, and what was found in the body). The token is never part of a check.

Read-only by default: the token, shop info and the version header, every list route (envelope,
pagination fields, limit clamping, date format, unknown fields), the reads by identity, the
``external_ids`` filter, the app scoping of rulesets, the apply lock and the ownership record.
With ``--write``, ``probes.py`` runs next: it takes the project's apply lock (checking that a
second take answers 409), then creates, reads back, changes and deletes a probe ruleset, order
condition, discount code and ownership record under a unique ``boldrules-doctor-<stamp>-<hex>``
name, through every route apply uses, and always deletes them again: on errors, Ctrl-C and
SIGTERM alike. Probes left by a run that was killed outright (SIGKILL) are deleted by the next
``--write`` run once an hour old.

A route that answers 404 or 405 on an object known to exist is a path the API does not have:
the check says so, tries the path's likely alternative spellings (``external`` →
``external_id``, ``by-external-id``…, ``_`` → ``-``, another method), and when one answers and
behaves, names the ``routes:`` override that fixes it and carries on with it applied, so the
checks after it run as they would with the fix in the project file.

Owns the read-only checks, the recording of every check, the route search and the report;
``cli/doctor.py`` prints it and picks the exit code from ``Report.exit_code``. It must not print.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from reconciler import (
    calllog,
    errors,
    instants,
    kinds,
    lock,
    model,
    ownership,
    pagination,
    routes,
    state,
    words,
)

if TYPE_CHECKING:
    from reconciler.client import BoldClient

#: Every probe object's name starts with this (discount codes too, in the same case).
PROBE_PREFIX = "boldrules-doctor-"
#: A probe older than this is a leftover of a killed run, and the next ``--write`` deletes it.
LEFTOVER_AGE = dt.timedelta(hours=1)

OK, FAIL, SKIPPED = "ok", "FAIL", "skipped"

#: The pagination fields the contract lists (§3); boldrules needs only ``total_pages`` (else it
#: walks page by page) and ``total`` (else the count of other apps' rulesets is unknown).
PAGINATION_FIELDS = (
    "total",
    "count",
    "per_page",
    "current_page",
    "total_pages",
    "next_url",
    "previous_url",
)
#: Fields the contract lists per object (§5), by list: anything else is reported as ignored.
KNOWN_FIELDS: Mapping[str, frozenset[str]] = {
    spec.list_name: spec.live_fields for spec in kinds.in_dependency_order
}
_DATE_FIELDS = ("start_date", "expiry_date", "created_at", "updated_at")

#: Likely other spellings of a path segment, tried when a route answers 404 or 405.
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "external": ("external_id", "external-id", "by-external-id", "by_external_id", "ext", "eid"),
    "rulesets": ("ruleset",),
    "rules": ("rule",),
    "order_conditions": ("order-conditions", "order_condition", "conditions"),
    "discount_codes": ("discount-codes", "discount_code", "codes"),
    "field_sets": ("field-sets", "fieldsets"),
}
#: Other methods tried on the contract's path when a route answers 405.
OTHER_METHODS: Mapping[str, tuple[str, ...]] = {
    "PATCH": ("POST", "PUT"),
    "PUT": ("POST", "PATCH"),
    "DELETE": ("POST",),
    "POST": ("PUT",),
    "GET": (),
}


@dataclass(frozen=True)
class Check:
    """One assumption checked: its outcome, what was sent and what came back."""

    status: str
    title: str
    sent: str = ""
    got: str = ""
    notes: tuple[str, ...] = ()
    route: str = ""
    #: False for what boldrules can do without (a FAIL then does not fail the run).
    needed: bool = True
    #: The ``routes:`` override that fixed a 404/405 ("": none found or none needed).
    override: str = ""
    #: Why it failed, for the exit code: "auth", "unreachable", "lock" or "".
    cause: str = ""

    def lines(self) -> list[str]:
        """``ok       title: sent → got``, then one indented line per note."""
        text = f"{self.status:<8} {self.title}"
        if self.sent:
            text += f": {self.sent} → {self.got}" if self.got else f": {self.sent}"
        elif self.got:
            text += f": {self.got}"
        if self.status == FAIL and not self.needed:
            text += " (boldrules does without it)"
        return [text, *(f"         {note}" for note in self.notes)]

    def as_json(self) -> dict[str, Any]:
        """The check for ``--format json``."""
        return {
            "status": self.status,
            "check": self.title,
            "route": self.route or None,
            "sent": self.sent,
            "got": self.got,
            "notes": list(self.notes),
            "needed": self.needed,
            "override": self.override or None,
        }


@dataclass
class Report:
    """Every check of one doctor run, and the overrides it found."""

    target: str
    api_url: str
    write: bool
    shop: str = ""
    checks: list[Check] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    interrupted: str = ""

    @property
    def failed(self) -> list[Check]:
        """The checks that failed and that boldrules needs."""
        return [c for c in self.checks if c.status == FAIL and c.needed]

    @property
    def exit_code(self) -> int:
        """0 when everything boldrules needs holds; 8, 7, 9 or 1 (the README's table)."""
        causes = {c.cause for c in self.failed}
        for cause, code in (("unreachable", 8), ("auth", 7), ("lock", 9)):
            if cause in causes:
                return code
        return 1 if self.failed or self.interrupted else 0

    def summary(self) -> list[str]:
        """The closing lines: counts, what it means, and the overrides to add."""
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in (OK, FAIL, SKIPPED)}
        head = f"{counts[OK]} ok, {counts[FAIL]} failed, {counts[SKIPPED]} skipped"
        out: list[str] = []
        if self.interrupted:
            out.append(f"{head}: interrupted ({self.interrupted}); the probes were cleaned up.")
        elif self.failed:
            out.append(
                f"{head}: boldrules cannot yet work with target {self.target}; fix what failed "
                "and re-run `boldrules doctor" + (" --write`." if self.write else "`.")
            )
        elif self.write:
            out.append(f"{head}: target {self.target} holds every assumption boldrules makes.")
        else:
            out.append(
                f"{head}: target {self.target} holds every assumption boldrules can check without "
                "writing; `boldrules doctor --write` checks the routes apply uses."
            )
        if self.overrides:
            out.append("Add to boldrules.yaml (the routes the checks above found):")
            out.append("routes:")
            out.extend(f"  {name}: {text}" for name, text in sorted(self.overrides.items()))
        return out

    def as_json(self) -> dict[str, Any]:
        """The whole report, for a bug report or a tool."""
        return {
            "target": self.target,
            "api_url": self.api_url,
            "shop": self.shop,
            "write": self.write,
            "checks": [c.as_json() for c in self.checks],
            "overrides": dict(sorted(self.overrides.items())),
            "interrupted": self.interrupted or None,
            "summary": self.summary()[0],
            "exit_code": self.exit_code,
        }


class Failed(Exception):
    """A check's own finding: the API answered, but not as boldrules assumes."""


class Stop(Exception):
    """Nothing further can be checked (no token, no answer, a refused token)."""


def probe_name(now: dt.datetime | None = None) -> str:
    """``boldrules-doctor-20261201t091500-1a2b3c``: unique, and dated for leftover cleanup."""
    moment = (now or instants.now()).strftime("%Y%m%dt%H%M%S")
    return f"{PROBE_PREFIX}{moment}-{secrets.token_hex(3)}"


def probe_age(name: str, now: dt.datetime) -> dt.timedelta | None:
    """How old a probe is by its name (None: not a dated probe name)."""
    stamp = name[len(PROBE_PREFIX) :].split("-", 1)[0] if name.startswith(PROBE_PREFIX) else ""
    try:
        made = dt.datetime.strptime(stamp, "%Y%m%dt%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return now - made


def alternatives(name: str, template: str, status: int | None) -> list[str]:
    """``routes:`` override texts worth trying for a route whose path answered 404 or 405."""
    method, contract = routes.ROUTES[name]
    head, marker, tail = template.partition("{shop_identifier}")
    if not marker:
        head, tail = "", template
    parts = tail.split("/")
    found: list[str] = []
    for index, part in enumerate(parts):
        for other in SYNONYMS.get(part, ()):
            path = head + marker + "/".join([*parts[:index], other, *parts[index + 1 :]])
            found.append(path)
    found.append(template.rstrip("/") + "/")
    texts = [p if method == routes.ROUTES[name][0] else f"{method} {p}" for p in found]
    if status == 405:
        texts += [f"{other} {template}" for other in OTHER_METHODS.get(method, ())]
    if template != contract:
        texts.append(contract)  # an override in the project file may itself be the problem
    return [t for t in dict.fromkeys(texts) if not isinstance(routes.parse_override(name, t), str)]


def _route_problem(exc: errors.ApiError) -> bool:
    return exc.status in (404, 405) and not isinstance(exc, errors.BadResponse)


def diff_fields(want: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    """The fields (``rules.a.meta``, ``start_date``) where two normalised bodies differ."""
    out: list[str] = []
    for key in sorted(set(want) | set(got)):
        a, b = want.get(key), got.get(key)
        if a == b:
            continue
        if key == "rules" and isinstance(a, dict) and isinstance(b, dict):
            for rule in sorted(set(a) | set(b)):
                ra, rb = a.get(rule), b.get(rule)
                if ra is None or rb is None:
                    out.append(f"rules.{rule} ({'missing' if rb is None else 'unexpected'})")
                elif ra != rb:
                    out += [
                        f"rules.{rule}.{k}"
                        for k in sorted(set(ra) | set(rb))
                        if ra.get(k) != rb.get(k)
                    ]
        else:
            out.append(key)
    return out


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
        self.name = name or probe_name(now())
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
        if not (fixable and _route_problem(exc) and route in routes.ROUTES):
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
        for text in alternatives(route, original[1], status):
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

    # ------------------------------------------------------------------ running

    def run(self, *, token_note: str, write: Callable[[Doctor], None] | None = None) -> Report:
        """Every check, in order; never raises for what the shop answers.

        ``write`` runs the write checks (``probes.run``) once the read-only ones have passed.
        """
        self.add(Check(OK, "token", got=token_note))
        try:
            self._read_checks()
            if write is not None:
                write(self)
            else:
                self.skip("write routes", "read-only run: `boldrules doctor --write` checks them")
        except Stop:
            self.skip("the remaining checks", "stopped: see the failure above")
        return self.report

    # ------------------------------------------------------------------ read-only checks

    def _read_checks(self) -> None:
        bold = self.bold
        version = bold.api_version

        def shop() -> str:
            info = bold.shop_info()
            ident = str(info.get("shop_identifier") or "")
            if not ident:
                raise Failed("the body has no shop_identifier")
            self.report.shop = ident
            if self.configured_shop and ident != self.configured_shop:
                raise Failed(
                    f"the token belongs to shop {ident}, but the target names shop "
                    f"{self.configured_shop}: a token of another shop (or a typo in "
                    "shop_identifier)"
                )
            domain = info.get("shop_domain")
            return f"shop {ident}" + (f" ({domain})" if domain else "")

        if not self.check("shop_info", "shop_info", shop, fixable=False):
            raise Stop
        self.add(
            Check(
                OK,
                "version header",
                got=f"every call sends Bold-API-Version-Date: {version} (a released date, "
                "never a future one); the shop accepted it",
            )
        )

        def ping() -> str:
            bold.ping()
            return "the Price Rules API answers"

        self.check("ping", "ping", ping, needed=False, fixable=False)
        for kind, route, key, params in (
            ("rulesets", "list_rulesets", "rulesets", {}),
            ("order_conditions", "list_order_conditions", "order_conditions", {"deep": "true"}),
            ("discount_codes", "list_discount_codes", "discount_codes", {}),
        ):
            self._list_checks(kind, route, key, params)
        self._identity_checks()
        self._scoping_checks()
        self._bookkeeping_checks()

    def _list_checks(self, kind: str, route: str, key: str, params: Mapping[str, str]) -> None:
        bold = self.bold
        query: dict[str, str | int] = {**params, "limit": 250, "page": 1}

        def first_page() -> str:
            body = bold.request(route, params=query).body
            if not isinstance(body, dict) or not isinstance(body.get("message"), str):
                raise Failed('the body is not the envelope {"message", "data", "pagination"}')
            data = body.get("data")
            items = data.get(key) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise Failed(f"the body has no data.{key} list: boldrules reads data.{key}")
            notes = [f"envelope ok, data.{key}: {len(items)} on page 1"]
            meta = body.get("pagination")
            meta = meta if isinstance(meta, dict) else {}
            missing = [f for f in PAGINATION_FIELDS if f not in meta]
            if missing:
                notes.append(
                    f"pagination lacks {', '.join(missing)}"
                    + ("; boldrules walks page by page" if "total_pages" in missing else "")
                )
            per_page = meta.get("per_page")
            if len(items) > pagination.PAGE_LIMIT:
                raise Failed(
                    f"limit=250 answered {len(items)} items: the limit is not clamped to 100"
                )
            notes.append(
                f"limit=250 clamped to per_page {per_page}"
                if per_page is not None
                else "no per_page"
            )
            bad_dates = [
                f"{f}={item[f]!r}"
                for item in items
                for f in _DATE_FIELDS
                if item.get(f) not in (None, "") and _unparsable(item[f])
            ]
            if bad_dates:
                raise Failed(f"dates that are not RFC 3339: {', '.join(bad_dates[:3])}")
            unknown = sorted(
                {k for item in items if isinstance(item, dict) for k in item} - KNOWN_FIELDS[kind]
            )
            if unknown:
                notes.append(
                    f"fields the contract does not list (ignored): {', '.join(unknown[:8])}"
                )
            return "; ".join(notes)

        self.check(
            f"{route}: envelope, pagination, dates", route, first_page, params=query, fixable=False
        )

        def whole() -> str:
            listing = bold.read_list(route, key, params=params or None)
            self.seen[kind] = listing.items
            noun = kind.replace("_", " ")
            count = len(listing.items)
            return f"{words.count(count, noun[:-1])} in {words.count(listing.pages, 'page')}"

        self.check(
            f"{route}: the whole list", route, whole, params={**params, "limit": 100}, fixable=False
        )

    def _identity_checks(self) -> None:
        bold = self.bold
        mine = [
            r
            for r in self.seen.get("rulesets", [])
            if state.has_identity(r.get("external_id"))
            and not model.is_reserved(str(r["external_id"]))
        ]
        if mine:
            one = mine[0]
            eid, ident = str(one["external_id"]), int(one.get("id") or 0)

            def by_eid() -> str:
                got = bold.get_ruleset(eid)
                if got is None or got.get("id") != ident:
                    raise errors.NotFound(
                        method="GET",
                        path=bold._path("get_ruleset", {"external_id": eid}),
                        status=404,
                    )
                return f"ruleset {eid} (id {ident})"

            self.check("get_ruleset", "get_ruleset", by_eid)

            def by_id() -> str:
                got = bold.get_ruleset_by_id(ident)
                if got is None:
                    raise errors.NotFound(
                        method="GET",
                        path=bold._path("get_ruleset_by_id", {"id": ident}),
                        status=404,
                    )
                return f"ruleset id {ident}"

            self.check("get_ruleset_by_id", "get_ruleset_by_id", by_id)

            def filtered() -> str:
                rows = bold.list_all("list_rulesets", "rulesets", params={"external_ids": eid})
                others = sorted({str(r.get("external_id")) for r in rows} - {eid})
                if others:
                    raise Failed(
                        f"external_ids={eid} also answered {', '.join(others[:3])}: the filter is "
                        "ignored; boldrules then reads each ruleset by path (slower, still right)"
                    )
                return f"only {eid}"

            self.check(
                "list_rulesets external_ids filter",
                "list_rulesets",
                filtered,
                params={"external_ids": eid},
                needed=False,
                fixable=False,
            )
        else:
            self.skip(
                "get_ruleset, get_ruleset_by_id",
                "no ruleset of this app to read (`--write` uses a probe)",
            )
        conditions = self.seen.get("order_conditions", [])
        if conditions:
            name, value = str(conditions[0].get("name")), str(conditions[0].get("value"))

            def condition() -> str:
                if bold.get_order_condition(name, value) is None:
                    raise errors.NotFound(
                        method="GET",
                        path=bold._path("get_order_condition", {"name": name, "value": value}),
                        status=404,
                    )
                return f"order condition {name}={value}"

            self.check("get_order_condition", "get_order_condition", condition)
        else:
            self.skip(
                "get_order_condition", "the shop has no order condition (`--write` uses a probe)"
            )
        codes = self.seen.get("discount_codes", [])
        if codes:
            code_id = codes[0].get("id")

            def code() -> str:
                if code_id is None or bold.get_discount_code(code_id) is None:
                    raise errors.NotFound(
                        method="GET",
                        path=bold._path("get_discount_code", {"id": code_id or 0}),
                        status=404,
                    )
                return f"discount code id {code_id}"

            self.check("get_discount_code", "get_discount_code", code)
        else:
            self.skip("get_discount_code", "the shop has no discount code (`--write` uses a probe)")

    def _scoping_checks(self) -> None:
        bold = self.bold
        own = self.seen.get("rulesets")
        if own is None:
            self.skip("app scoping", "the rulesets could not be listed")
            return
        own_ids = {r.get("id") for r in own}
        params = {"limit": 1, "include_all_apps": "true"}

        def scoping() -> str:
            total = bold.count_rulesets_all_apps()
            backing = {c.get("ruleset_id") for c in self.seen.get("discount_codes", [])} - {None}
            shown = sorted(str(i) for i in backing & own_ids)
            if shown:
                raise Failed(
                    f"this app's listing shows discount codes' backing rulesets (ids "
                    f"{', '.join(shown[:5])}): plan would take them for this app's own and "
                    "delete them; check the token is this app's, not an all-apps token"
                )
            if total is not None and total < len(own):
                raise Failed(f"all apps hold {total} rulesets but this app alone lists {len(own)}")
            every = "an unknown number" if total is None else str(total)
            return (
                f"this app lists {len(own)} rulesets of {every} in the shop "
                "(include_all_apps honoured)"
            )

        self.check(
            "app scoping of rulesets", "list_rulesets", scoping, params=params, fixable=False
        )

    def _bookkeeping_checks(self) -> None:
        bold = self.bold

        def held() -> str:
            holder = lock.read_lock(bold, self.project)
            if holder is None:
                return f"no apply running ({lock.lock_id(self.project)} absent)"
            return f"held by {holder.describe()}" + (
                " (expired)" if holder.expired(self.now()) else ""
            )

        self.check("apply lock (read)", "get_ruleset", held, fixable=False)

        def record() -> str:
            found = ownership.read_record(bold, self.project)
            if found is None:
                name = ownership.record_id(self.project)
                return f"no ownership record yet ({name}): the first apply writes it"
            if isinstance(found, ownership.Damaged):
                raise Failed(f"the ownership record is damaged: {found.reason}")
            return f"{ownership.record_id(self.project)} lists {len(found.members)} objects"

        self.check("ownership record (read)", "get_ruleset", record, fixable=False)


def _unparsable(value: Any) -> bool:
    try:
        state.normalise_instant(value)
    except (TypeError, ValueError):
        return True
    return False
