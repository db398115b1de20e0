"""Rulesets: the handlers behind ``P/rulesets…`` (contract §5.1, §6); rules are in ``rules``.

Owns app scoping (a token sees its own app's rulesets; ``include_all_apps=true`` widens reads,
never writes), server-assigned ids and timestamps, PUT-by-external-id as an upsert, PATCH
merging, rule-id keeping on PUT, and the ruleset list with its filters. It must not validate
shapes (``validate`` does) nor speak HTTP beyond returning ``web.Response``.

Choices where the contract is silent (documented in docs/sandbox.md):
- DELETE of a ruleset answers 204.
- An omitted ``external_id`` on PUT by id (ruleset or rule) keeps the current one.
- ``filter_expression``: clauses ``field op value`` joined by ``and``; fields are the ruleset's
  scalar fields, ops ``= != > >= < <=``, values ``true``/``false``/``null``/numbers/strings.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from reconciler.sandbox import validate, web
from reconciler.sandbox.store import Store

RULESET_FIELDS = (
    "id",
    "external_id",
    "internal_name",
    "public_name",
    "active",
    "priority",
    "start_date",
    "expiry_date",
    "product_selection",
    "rules",
    "created_at",
    "updated_at",
)
_FILTERABLE = frozenset(
    {"id", "external_id", "internal_name", "public_name", "active", "priority"}
    | {"start_date", "expiry_date"}
)
#: The two ways a path names a ruleset.
BASES = ("P/rulesets/{id:int}", "P/rulesets/external/{eid}")
_CLAUSE = re.compile(r"^\s*([a-z_]+)\s*(=|!=|>=|<=|>|<)\s*(.+?)\s*$")


def unwrap(request: web.Request, key: str) -> dict[str, Any]:
    """The object under ``key`` in the body: 400 for bad JSON, 422 when the key is missing."""
    body = request.json_object()
    inner = body.get(key)
    if not isinstance(inner, dict):
        raise web.field_error(key, "is required and must be an object")
    return inner


# Storage helpers, shared with discount_codes (whose codes are backed by rulesets).


def assign_rule_ids(
    store: Store, rules: list[dict[str, Any]], existing: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Give each rule an id: the id of the existing rule with its external_id, else a new one."""
    by_eid = {r["external_id"]: r["id"] for r in existing if r.get("external_id") is not None}
    out = []
    for rule in rules:
        rule = {k: v for k, v in rule.items() if k != "id"}
        kept = by_eid.get(rule.get("external_id"))
        out.append({"id": kept if kept is not None else store.next_id("rule"), **rule})
    return out


def insert(
    store: Store, conn: sqlite3.Connection, app: str, cleaned: dict[str, Any]
) -> dict[str, Any]:
    """Store a new ruleset for ``app``; 409 when its external_id is taken in that app."""
    if cleaned.get("external_id") is not None:
        _refuse_duplicate(conn, app, cleaned["external_id"], None)
    cursor = conn.execute(
        "INSERT INTO rulesets(app, external_id, body) VALUES (?, ?, '{}')",
        (app, cleaned.get("external_id")),
    )
    moment = web.now()
    body = {
        "id": cursor.lastrowid,
        **{k: v for k, v in cleaned.items() if k != "rules"},
        "rules": assign_rule_ids(store, cleaned["rules"], []),
        "created_at": web.stamp(moment, style="micro"),
        "updated_at": web.stamp(moment, style="milli"),
    }
    body = {k: body[k] for k in RULESET_FIELDS}
    save(conn, body)
    return body


def save(conn: sqlite3.Connection, body: dict[str, Any], *, touch: bool = False) -> None:
    """Write a ruleset body back (optionally stamping updated_at)."""
    if touch:
        body["updated_at"] = web.stamp(web.now(), style="milli")
    conn.execute(
        "UPDATE rulesets SET external_id = ?, body = ? WHERE id = ?",
        (body.get("external_id"), web.dumps(body), body["id"]),
    )


def _refuse_duplicate(conn: sqlite3.Connection, app: str, eid: str, own_id: int | None) -> None:
    row = conn.execute(
        "SELECT id FROM rulesets WHERE app = ? AND external_id = ?", (app, eid)
    ).fetchone()
    if row is not None and row[0] != own_id:
        raise web.HttpError(
            409,
            f"A ruleset with external_id {eid!r} already exists (id {row[0]}).",
            errors=[{"field": "external_id", "message": f"{eid!r} is taken by ruleset {row[0]}"}],
        )


def find(call: web.Context, conn: sqlite3.Connection, *, write: bool) -> dict[str, Any]:
    """The ruleset the path names (by id or external id), as the caller may see it; else 404."""
    wide = call.request.flag("include_all_apps") and not write
    if "id" in call.params:
        row = conn.execute(
            "SELECT app, body FROM rulesets WHERE id = ?", (int(call.params["id"]),)
        ).fetchone()
        if row is not None and (wide or row[0] == call.app):
            return dict(json.loads(row[1]))
        raise web.HttpError(404, f"No ruleset with id {call.params['id']}.")
    eid = call.params["eid"]
    if wide:
        row = conn.execute(
            "SELECT body FROM rulesets WHERE external_id = ? ORDER BY app = ? DESC, id LIMIT 1",
            (eid, call.app),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT body FROM rulesets WHERE app = ? AND external_id = ?", (call.app, eid)
        ).fetchone()
    if row is None:
        raise web.HttpError(404, f"No ruleset with external_id {eid!r}.")
    return dict(json.loads(row[0]))


def one(message: str, body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status, web.envelope(message, {"ruleset": body}))


# Handlers: rulesets.


def list_rulesets(call: web.Context) -> web.Response:
    """GET P/rulesets: paginated, app-scoped unless include_all_apps, with the §6 filters."""
    request = call.request
    page, limit = web.page_params(request)
    where, args = (["1 = 1"], []) if request.flag("include_all_apps") else (["app = ?"], [call.app])
    eids = [e for e in request.query.get("external_ids", "").split(",") if e]
    if eids:
        where.append(f"external_id IN ({','.join('?' * len(eids))})")
        args.extend(eids)
    if request.query.get("filter_expression", "").strip():
        clause_sql, clause_args = _filter_sql(request.query["filter_expression"])
        where.extend(clause_sql)
        args.extend(clause_args)
    fields = [f for f in request.query.get("fields", "").split(",") if f]
    unknown = [f for f in fields if f not in RULESET_FIELDS]
    if unknown:
        raise web.HttpError(400, f"Unknown field(s) {', '.join(unknown)} in fields.")
    sql_where = " AND ".join(where)
    with call.store.transaction() as conn:
        total = conn.execute(f"SELECT COUNT(*) FROM rulesets WHERE {sql_where}", args).fetchone()[0]
        # Page the ids first (the (app, id) index alone), then read only that page's bodies:
        # deep pages of a 10,000-ruleset shop stay as cheap as the first.
        rows = conn.execute(
            f"SELECT body FROM rulesets WHERE id IN (SELECT id FROM rulesets WHERE {sql_where} "
            f"ORDER BY {call.order_by('id')} LIMIT ? OFFSET ?) ORDER BY {call.order_by('id')}",
            [*args, limit, (page - 1) * limit],
        ).fetchall()
    bodies = [row[0] for row in rows]
    if fields:
        keep = ["id", *fields]
        bodies = [web.dumps({k: v for k, v in json.loads(b).items() if k in keep}) for b in bodies]
    meta = web.pagination(request, total=total, count=len(bodies), page=page, limit=limit)
    # The stored JSON is the wire JSON: join it instead of decoding and re-encoding each page.
    raw = (
        '{"message":"Rulesets retrieved","data":{"rulesets":['
        + ",".join(bodies)
        + ']},"pagination":'
        + web.dumps(meta)
        + "}"
    )
    return web.Response(200, raw=raw.encode())


def _filter_sql(expression: str) -> tuple[list[str], list[Any]]:
    clauses, args = [], []
    for text in re.split(r"\s+and\s+", expression.strip(), flags=re.IGNORECASE):
        found = _CLAUSE.match(text)
        if found is None or found.group(1) not in _FILTERABLE:
            raise web.HttpError(
                400,
                f"Cannot read filter_expression clause {text!r}: write field op value with a "
                f"field among {', '.join(sorted(_FILTERABLE))} and op among = != > >= < <=.",
            )
        name, op, literal = found.groups()
        value = _literal(literal)
        column = "id" if name == "id" else f"json_extract(body, '$.{name}')"
        if value is None:
            clauses.append(f"{column} IS {'NOT ' if op == '!=' else ''}NULL")
            continue
        clauses.append(f"{column} {op} ?")
        args.append(value)
    return clauses, args


def _literal(text: str) -> Any:
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return 1 if lowered == "true" else 0  # json_extract yields 1/0 for JSON booleans
    if lowered == "null":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        return text


def create_ruleset(call: web.Context) -> web.Response:
    """POST P/rulesets: 201, or 409 on a duplicate external_id within the app."""
    cleaned = validate.ruleset(unwrap(call.request, "ruleset"))
    with call.store.transaction() as conn:
        body = insert(call.store, conn, call.app, cleaned)
    return one("Ruleset created", body, 201)


def get_ruleset(call: web.Context) -> web.Response:
    """GET P/rulesets/{id} or P/rulesets/external/{eid}."""
    with call.store.transaction() as conn:
        return one("Ruleset retrieved", find(call, conn, write=False))


def replace_ruleset(call: web.Context) -> web.Response:
    """PUT by id (replace; 404 when absent) or by external id (upsert: 201 or 200)."""
    raw = unwrap(call.request, "ruleset")
    cleaned = validate.ruleset(raw)
    eid = call.params.get("eid")
    if eid is not None:
        if cleaned["external_id"] not in (None, eid):
            raise web.field_error("external_id", f"must match the path's external id {eid!r}")
        cleaned["external_id"] = eid
    with call.store.transaction() as conn:
        try:
            current = find(call, conn, write=True)
        except web.HttpError:
            if eid is None:
                raise
            return one("Ruleset created", insert(call.store, conn, call.app, cleaned), 201)
        if "external_id" not in raw or cleaned["external_id"] is None:
            cleaned["external_id"] = current["external_id"]
        elif cleaned["external_id"] != current["external_id"]:
            _refuse_duplicate(conn, call.app, cleaned["external_id"], current["id"])
        body = {**current, **cleaned}
        body["rules"] = assign_rule_ids(call.store, cleaned["rules"], current["rules"])
        save(conn, body, touch=True)
    return one("Ruleset updated", body)


def patch_ruleset(call: web.Context) -> web.Response:
    """PATCH: each rule replaces the one with its id, else its external_id, else is appended."""
    cleaned = validate.ruleset_patch(unwrap(call.request, "ruleset"))
    with call.store.transaction() as conn:
        body = find(call, conn, write=True)
        rules: list[dict[str, Any]] = list(body["rules"])
        for given in cleaned["rules"]:
            index = _match_rule(rules, given)
            rule = {k: v for k, v in given.items() if k != "id"}
            if index is None:
                rules.append({"id": call.store.next_id("rule"), **rule})
            else:
                rules[index] = {"id": rules[index]["id"], **rule}
        refuse_duplicate_rules(rules)
        body["rules"] = rules
        for key in ("start_date", "expiry_date"):
            if key in cleaned:
                body[key] = cleaned[key]
        start, expiry = body.get("start_date"), body.get("expiry_date")
        if start and expiry and web.parse_instant(expiry) <= web.parse_instant(start):  # type: ignore[operator]
            raise web.field_error("expiry_date", "must be later than start_date")
        save(conn, body, touch=True)
    return one("Ruleset patched", body)


def _match_rule(rules: list[dict[str, Any]], given: dict[str, Any]) -> int | None:
    if "id" in given:
        for index, rule in enumerate(rules):
            if rule["id"] == given["id"]:
                return index
    if given.get("external_id") is not None:
        for index, rule in enumerate(rules):
            if rule.get("external_id") == given["external_id"]:
                return index
    return None


def refuse_duplicate_rules(rules: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for rule in rules:
        eid = rule.get("external_id")
        if eid is None:
            continue
        if eid in seen:
            raise web.HttpError(
                409,
                f"Two rules of this ruleset would share external_id {eid!r} "
                f"(ids {seen[eid]} and {rule['id']}).",
            )
        seen[eid] = rule["id"]


def delete_ruleset(call: web.Context) -> web.Response:
    """DELETE by id or external id: 204."""
    with call.store.transaction() as conn:
        body = find(call, conn, write=True)
        conn.execute("DELETE FROM rulesets WHERE id = ?", (body["id"],))
    return web.Response(204)


def _set_all_active(call: web.Context, active: bool) -> web.Response:
    with call.store.transaction() as conn:
        rows = conn.execute("SELECT body FROM rulesets").fetchall()
        for (text,) in rows:
            body = json.loads(text)
            body["active"] = active
            save(conn, body, touch=True)
    verb = "activated" if active else "deactivated"
    return web.Response(200, web.envelope(f"{len(rows)} rulesets {verb}", {"count": len(rows)}))


def activate_all(call: web.Context) -> web.Response:
    """POST P/rulesets/activate: every ruleset of the shop, every app's."""
    return _set_all_active(call, True)


def deactivate_all(call: web.Context) -> web.Response:
    """POST P/rulesets/deactivate: every ruleset of the shop, every app's."""
    return _set_all_active(call, False)


def routes() -> list[web.Route]:
    """The ruleset rows of the route table (static segments before parameters)."""
    r, w = "read_price_rulesets", "write_price_rulesets"
    out = [
        web.Route("GET", "P/rulesets", r, list_rulesets, listing="rulesets"),
        web.Route("POST", "P/rulesets", w, create_ruleset, write=True),
        web.Route("POST", "P/rulesets/activate", w, activate_all, write=True),
        web.Route("POST", "P/rulesets/deactivate", w, deactivate_all, write=True),
    ]
    for base in BASES:
        out += [
            web.Route("GET", base, r, get_ruleset),
            web.Route("PUT", base, w, replace_ruleset, write=True),
            web.Route("PATCH", base, w, patch_ruleset, write=True),
            web.Route("DELETE", base, w, delete_ruleset, write=True),
        ]
    return out
