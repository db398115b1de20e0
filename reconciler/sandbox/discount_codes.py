"""Discount codes: the handlers behind ``P/discount_codes…`` (contract §5.5).

Owns one object per code name, names unique per shop ignoring case, each code backed by a
ruleset of the discount-code app (``bold-discount-codes``) whose single rule carries a
``DISCOUNT_CODE`` condition; the backing ruleset follows every change of its code and goes
with it on delete. Also activate/deactivate and the ``status`` and ``name`` list filters.
Discount codes are shop-wide: every token with the scope sees them all. It must not validate
shapes (``validate`` does).

Choices where the contract is silent (documented in docs/sandbox.md):
- Create answers 201 with ``data.discount_codes``, a list (one per name, in the given order).
- ``name`` filters by a case-insensitive substring; ``status`` takes ACTIVE, SCHEDULED, EXPIRED
  (EXPIRED wins when both bounds say so).
- DELETE answers 204.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reconciler.sandbox import rulesets, validate, web

DISCOUNT_APP = "bold-discount-codes"
STATUSES = ("ACTIVE", "SCHEDULED", "EXPIRED")
_FIELDS = (
    "id",
    "code",
    "action",
    "product_selection",
    "conditions",
    "limits",
    "restrict_by_emails",
    "start_date",
    "expiry_date",
    "ruleset_id",
    "usage_count",
)


def status(body: dict[str, Any]) -> str:
    """ACTIVE, SCHEDULED (start in the future) or EXPIRED (expiry in the past)."""
    moment = web.now()
    expiry = web.parse_instant(body["expiry_date"]) if body.get("expiry_date") else None
    start = web.parse_instant(body["start_date"]) if body.get("start_date") else None
    if expiry is not None and expiry <= moment:
        return "EXPIRED"
    if start is not None and start > moment:
        return "SCHEDULED"
    return "ACTIVE"


def _backing(code: dict[str, Any]) -> dict[str, Any]:
    """The cleaned ruleset a code stands on."""
    return {
        "external_id": f"discount-code-{code['id']}",
        "internal_name": f"Discount code {code['code']}",
        "public_name": code["code"],
        "active": True,
        "priority": 0,
        "start_date": code["start_date"],
        "expiry_date": code["expiry_date"],
        "product_selection": code["product_selection"],
        "rules": [
            {
                "external_id": "discount-code",
                "type": "DISCOUNT_CODE",
                "conditions": [
                    {"type": "DISCOUNT_CODE", "value": code["code"]},
                    *code["conditions"],
                ],
                "actions": [code["action"]],
                "meta": {
                    "limits": code["limits"],
                    "restrict_by_emails": code["restrict_by_emails"],
                },
                "priority": 0,
                "stack_order": 0,
            }
        ],
    }


def _sync_ruleset(call: web.Context, conn: sqlite3.Connection, code: dict[str, Any]) -> None:
    row = conn.execute("SELECT body FROM rulesets WHERE id = ?", (code["ruleset_id"],)).fetchone()
    if row is None:  # its ruleset was removed behind its back: stand it up again
        body = rulesets.insert(call.store, conn, DISCOUNT_APP, _backing(code))
        code["ruleset_id"] = body["id"]
        return
    current = json.loads(row[0])
    cleaned = _backing(code)
    body = {**current, **cleaned}
    body["rules"] = rulesets.assign_rule_ids(call.store, cleaned["rules"], current["rules"])
    rulesets.save(conn, body, touch=True)


def _save(conn: sqlite3.Connection, code: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE discount_codes SET code_key = ?, ruleset_id = ?, body = ? WHERE id = ?",
        (code["code"].lower(), code["ruleset_id"], web.dumps(code), code["id"]),
    )


def _find(conn: sqlite3.Connection, call: web.Context) -> dict[str, Any]:
    if "ruleset_id" in call.params:
        row = conn.execute(
            "SELECT body FROM discount_codes WHERE ruleset_id = ?",
            (int(call.params["ruleset_id"]),),
        ).fetchone()
        what = f"backed by ruleset {call.params['ruleset_id']}"
    else:
        row = conn.execute(
            "SELECT body FROM discount_codes WHERE id = ?", (int(call.params["id"]),)
        ).fetchone()
        what = f"with id {call.params['id']}"
    if row is None:
        raise web.HttpError(404, f"No discount code {what}.")
    return dict(json.loads(row[0]))


def _one(message: str, body: dict[str, Any]) -> web.Response:
    return web.Response(200, web.envelope(message, {"discount_code": body}))


def list_codes(call: web.Context) -> web.Response:
    """GET P/discount_codes: paginated, filtered by ``status`` and ``name``."""
    page, limit = web.page_params(call.request)
    wanted = call.request.query.get("status", "").upper()
    if wanted and wanted not in STATUSES:
        raise web.HttpError(400, f"status must be one of {', '.join(STATUSES)}, got {wanted!r}.")
    name = call.request.query.get("name", "").lower()
    with call.store.transaction() as conn:
        rows = conn.execute("SELECT body FROM discount_codes ORDER BY id").fetchall()
    codes = sorted((json.loads(row[0]) for row in rows), key=lambda c: call.order_key(c["id"]))
    codes = [
        c
        for c in codes
        if (not wanted or status(c) == wanted) and (not name or name in c["code"].lower())
    ]
    chunk = codes[(page - 1) * limit : page * limit]
    meta = web.pagination(call.request, total=len(codes), count=len(chunk), page=page, limit=limit)
    return web.Response(
        200, web.envelope("Discount codes retrieved", {"discount_codes": chunk}, meta)
    )


def create_codes(call: web.Context) -> web.Response:
    """POST P/discount_codes: one object per name; 409 and nothing created if any name exists."""
    cleaned = validate.discount_code(rulesets.unwrap(call.request, "discount_code"), create=True)
    names: list[str] = cleaned.pop("codes")
    created = []
    with call.store.transaction() as conn:
        for name in names:
            row = conn.execute(
                "SELECT id FROM discount_codes WHERE code_key = ?", (name.lower(),)
            ).fetchone()
            if row is not None:
                raise web.HttpError(
                    409,
                    f"The discount code {name!r} already exists (id {row[0]}); codes ignore case.",
                )
        for name in names:
            cursor = conn.execute(
                "INSERT INTO discount_codes(code_key, ruleset_id, body) VALUES (?, 0, '{}')",
                (name.lower(),),
            )
            code = {
                "id": cursor.lastrowid,
                "code": name,
                **cleaned,
                "ruleset_id": 0,
                "usage_count": 0,
            }
            code["ruleset_id"] = rulesets.insert(call.store, conn, DISCOUNT_APP, _backing(code))[
                "id"
            ]
            code = {k: code[k] for k in _FIELDS}
            _save(conn, code)
            created.append(code)
    return web.Response(201, web.envelope("Discount codes created", {"discount_codes": created}))


def get_code(call: web.Context) -> web.Response:
    """GET P/discount_codes/{id} or P/discount_codes/rulesets/{ruleset_id}."""
    with call.store.transaction() as conn:
        return _one("Discount code retrieved", _find(conn, call))


def update_code(call: web.Context) -> web.Response:
    """PUT P/discount_codes/{id}: every field restated; ``code`` renames (409 when taken)."""
    cleaned = validate.discount_code(rulesets.unwrap(call.request, "discount_code"), create=False)
    with call.store.transaction() as conn:
        current = _find(conn, call)
        new_name = cleaned.pop("code", None) or current["code"]
        row = conn.execute(
            "SELECT id FROM discount_codes WHERE code_key = ? AND id != ?",
            (new_name.lower(), current["id"]),
        ).fetchone()
        if row is not None:
            raise web.HttpError(
                409, f"The discount code {new_name!r} already exists (id {row[0]})."
            )
        code = {**current, **cleaned, "code": new_name}
        code = {k: code[k] for k in _FIELDS}
        _sync_ruleset(call, conn, code)
        _save(conn, code)
    return _one("Discount code updated", code)


def delete_code(call: web.Context) -> web.Response:
    """DELETE P/discount_codes/{id}: the code and its backing ruleset; 204."""
    with call.store.transaction() as conn:
        code = _find(conn, call)
        conn.execute("DELETE FROM discount_codes WHERE id = ?", (code["id"],))
        conn.execute("DELETE FROM rulesets WHERE id = ?", (code["ruleset_id"],))
    return web.Response(204)


def _switch(call: web.Context, *, on: bool) -> web.Response:
    moment = web.now()
    with call.store.transaction() as conn:
        code = _find(conn, call)
        if on:
            code["start_date"] = web.stamp(moment, style="bound")
            expiry = web.parse_instant(code["expiry_date"]) if code["expiry_date"] else None
            if expiry is not None and expiry <= moment:
                code["expiry_date"] = None
        else:
            code["expiry_date"] = web.stamp(moment, style="bound")
        _sync_ruleset(call, conn, code)
        _save(conn, code)
    return _one("Discount code activated" if on else "Discount code deactivated", code)


def activate(call: web.Context) -> web.Response:
    """POST P/discount_codes/{id}/activate: start now, and clear an expiry already past."""
    return _switch(call, on=True)


def deactivate(call: web.Context) -> web.Response:
    """POST P/discount_codes/{id}/deactivate: expire now."""
    return _switch(call, on=False)


def routes() -> list[web.Route]:
    """The discount-code rows of the route table."""
    r, w = "read_discount_codes", "write_discount_codes"
    base = "P/discount_codes"
    return [
        web.Route("GET", base, r, list_codes, listing="discount_codes"),
        web.Route("POST", base, w, create_codes, write=True),
        web.Route("GET", f"{base}/rulesets/{{ruleset_id:int}}", r, get_code),
        web.Route("GET", f"{base}/{{id:int}}", r, get_code),
        web.Route("PUT", f"{base}/{{id:int}}", w, update_code, write=True),
        web.Route("DELETE", f"{base}/{{id:int}}", w, delete_code, write=True),
        web.Route("POST", f"{base}/{{id:int}}/activate", w, activate, write=True),
        web.Route("POST", f"{base}/{{id:int}}/deactivate", w, deactivate, write=True),
    ]
