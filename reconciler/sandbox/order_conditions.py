"""Order conditions and their field sets: the handlers behind ``P/order_conditions…`` (§5.4).

Owns identity by (name, value), case-sensitive and unique in the shop; integer field-set ids
(kept across a PUT for field sets whose content did not change); the group operations (delete a
group, delete a field from a group, validate a group). Order conditions are shop-wide: every
token with the scope sees them all. It must not validate shapes (``validate`` does).

Choices where the contract is silent (documented in docs/sandbox.md):
- Bodies are unwrapped both ways: the created condition is ``data.order_condition``.
- Listing without ``deep=true`` omits ``field_sets`` and gives ``field_set_count`` instead.
- Deleting answers 200 with an envelope; deleting a field from a group drops field sets left
  empty.
- ``fields``, ``field_sets`` and ``validate`` are route words: a condition named ``fields`` or
  ``field_sets``, or valued ``validate``, cannot be reached by its path.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reconciler.sandbox import validate, web
from reconciler.sandbox.store import Store


def _key(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in body.items() if k != "id"))


def with_ids(
    store: Store, given: list[dict[str, str]], existing: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Field sets with ids: an unchanged field set keeps its id, others get new ones."""
    known = {_key(fs): fs["id"] for fs in existing}
    return [{"id": known.get(_key(fs)) or store.next_id("field_set"), **fs} for fs in given]


def _get(conn: sqlite3.Connection, name: str, value: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT body FROM order_conditions WHERE name = ? AND value = ?", (name, value)
    ).fetchone()
    if row is None:
        raise web.HttpError(404, f"No order condition named {name!r} with value {value!r}.")
    return dict(json.loads(row[0]))


def _group(conn: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT body FROM order_conditions WHERE name = ? ORDER BY seq", (name,)
    ).fetchall()
    if not rows:
        raise web.HttpError(404, f"No order conditions named {name!r}.")
    return [json.loads(row[0]) for row in rows]


def _save(conn: sqlite3.Connection, body: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE order_conditions SET body = ? WHERE name = ? AND value = ?",
        (web.dumps(body), body["name"], body["value"]),
    )


def _one(message: str, body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status, web.envelope(message, {"order_condition": body}))


def list_conditions(call: web.Context) -> web.Response:
    """GET P/order_conditions: paginated; ``deep=true`` includes the field sets."""
    page, limit = web.page_params(call.request)
    deep = call.request.flag("deep")
    with call.store.transaction() as conn:
        total = conn.execute("SELECT COUNT(*) FROM order_conditions").fetchone()[0]
        rows = conn.execute(
            f"SELECT body FROM order_conditions ORDER BY {call.order_by('seq')} LIMIT ? OFFSET ?",
            (limit, (page - 1) * limit),
        ).fetchall()
    items = [json.loads(row[0]) for row in rows]
    if not deep:
        for item in items:
            item["field_set_count"] = len(item.pop("field_sets"))
    meta = web.pagination(call.request, total=total, count=len(items), page=page, limit=limit)
    return web.Response(
        200, web.envelope("Order conditions retrieved", {"order_conditions": items}, meta)
    )


def create_condition(call: web.Context) -> web.Response:
    """POST P/order_conditions: 201, or 409 when (name, value) exists."""
    cleaned = validate.order_condition(call.request.json_object())
    with call.store.transaction() as conn:
        exists = conn.execute(
            "SELECT 1 FROM order_conditions WHERE name = ? AND value = ?",
            (cleaned["name"], cleaned["value"]),
        ).fetchone()
        if exists:
            raise web.HttpError(
                409,
                f"An order condition named {cleaned['name']!r} with value "
                f"{cleaned['value']!r} already exists.",
            )
        cleaned["field_sets"] = with_ids(call.store, cleaned["field_sets"], [])
        conn.execute(
            "INSERT INTO order_conditions(name, value, body) VALUES (?, ?, ?)",
            (cleaned["name"], cleaned["value"], web.dumps(cleaned)),
        )
    return _one("Order condition created", cleaned, 201)


def get_condition(call: web.Context) -> web.Response:
    """GET P/order_conditions/{name}/{value}."""
    with call.store.transaction() as conn:
        return _one(
            "Order condition retrieved", _get(conn, call.params["name"], call.params["value"])
        )


def replace_condition(call: web.Context) -> web.Response:
    """PUT P/order_conditions/{name}/{value}: the full body; name and value must match the path."""
    name, value = call.params["name"], call.params["value"]
    raw = call.request.json_object()
    cleaned = validate.order_condition({"name": name, "value": value, **raw})
    for key, expected in (("name", name), ("value", value)):
        if cleaned[key] != expected:
            raise web.field_error(
                key, f"must match the path ({expected!r}); create a new one to rename"
            )
    with call.store.transaction() as conn:
        current = _get(conn, name, value)
        cleaned["field_sets"] = with_ids(call.store, cleaned["field_sets"], current["field_sets"])
        _save(conn, cleaned)
    return _one("Order condition updated", cleaned)


def delete_condition(call: web.Context) -> web.Response:
    """DELETE P/order_conditions/{name}/{value}."""
    with call.store.transaction() as conn:
        _get(conn, call.params["name"], call.params["value"])
        conn.execute(
            "DELETE FROM order_conditions WHERE name = ? AND value = ?",
            (call.params["name"], call.params["value"]),
        )
    return web.Response(200, web.envelope("Order condition deleted", {}))


def delete_group(call: web.Context) -> web.Response:
    """DELETE P/order_conditions/{name}: every condition with that name."""
    with call.store.transaction() as conn:
        group = _group(conn, call.params["name"])
        conn.execute("DELETE FROM order_conditions WHERE name = ?", (call.params["name"],))
    return web.Response(
        200, web.envelope(f"{len(group)} order conditions deleted", {"count": len(group)})
    )


def delete_group_field(call: web.Context) -> web.Response:
    """DELETE P/order_conditions/{name}/fields/{field}: drop a field from every field set."""
    field = call.params["field"]
    if field not in validate.FIELD_SET_FIELDS:
        raise web.field_error(
            "field", f"{field!r} is not one of {', '.join(validate.FIELD_SET_FIELDS)}"
        )
    with call.store.transaction() as conn:
        group = _group(conn, call.params["name"])
        for body in group:
            trimmed = [{k: v for k, v in fs.items() if k != field} for fs in body["field_sets"]]
            body["field_sets"] = [fs for fs in trimmed if set(fs) - {"id"}]
            _save(conn, body)
    return web.Response(200, web.envelope("Field removed", {"order_conditions": group}))


def list_fields(call: web.Context) -> web.Response:
    """GET P/order_conditions/fields: the five field names."""
    return web.Response(
        200, web.envelope("Fields retrieved", {"fields": list(validate.FIELD_SET_FIELDS)})
    )


def _target(call: web.Context) -> tuple[str, str, dict[str, Any]]:
    body = call.request.json_object()
    c = validate.Checker()
    name = c.string(body, "name", "name", max_len=validate.NAME_MAX, required=True)
    value = c.string(body, "value", "value", max_len=validate.NAME_MAX, required=True)
    c.done()
    return str(name), str(value), body


def add_field_sets(call: web.Context) -> web.Response:
    """POST P/order_conditions/field_sets: ``{"name", "value", "field_sets": [...]}``."""
    name, value, body = _target(call)
    c = validate.Checker()
    given = validate.field_sets(c, body.get("field_sets"), "field_sets")
    if not given and not c.errors:
        c.add("field_sets", "must hold at least one field set")
    c.done()
    with call.store.transaction() as conn:
        current = _get(conn, name, value)
        current["field_sets"] = [
            *current["field_sets"],
            *with_ids(call.store, given, []),
        ]
        _save(conn, current)
    return _one("Field sets added", current)


def delete_field_sets(call: web.Context) -> web.Response:
    """DELETE P/order_conditions/field_sets: ``{"name", "value", "field_set_ids": [...]}``."""
    name, value, body = _target(call)
    ids = body.get("field_set_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise web.field_error("field_set_ids", "must be a non-empty list of field set ids")
    with call.store.transaction() as conn:
        current = _get(conn, name, value)
        present = {fs["id"] for fs in current["field_sets"]}
        missing = [i for i in ids if i not in present]
        if missing:
            raise web.HttpError(404, f"No field set {missing[0]} in {name!r}/{value!r}.")
        current["field_sets"] = [fs for fs in current["field_sets"] if fs["id"] not in set(ids)]
        _save(conn, current)
    return _one("Field sets deleted", current)


def list_field_sets(call: web.Context) -> web.Response:
    """GET P/order_conditions/{name}/{value}/field_sets: paginated."""
    page, limit = web.page_params(call.request)
    with call.store.transaction() as conn:
        sets = _get(conn, call.params["name"], call.params["value"])["field_sets"]
    chunk = sets[(page - 1) * limit : page * limit]
    meta = web.pagination(call.request, total=len(sets), count=len(chunk), page=page, limit=limit)
    return web.Response(200, web.envelope("Field sets retrieved", {"field_sets": chunk}, meta))


def validate_group(call: web.Context) -> web.Response:
    """GET P/order_conditions/{name}/validate: report field sets testing different fields."""
    name = call.params["name"]
    with call.store.transaction() as conn:
        group = _group(conn, name)
    shapes: dict[tuple[str, ...], list[str]] = {}
    for body in group:
        for fs in body["field_sets"]:
            shape = tuple(sorted(set(fs) - {"id"}))
            if body["value"] not in shapes.setdefault(shape, []):
                shapes[shape].append(body["value"])
    if len(shapes) <= 1:
        message = f"All order conditions named {name!r} test the same fields."
    else:
        parts = [
            f"{', '.join(values)} test{'s' if len(values) == 1 else ''} {', '.join(shape)}"
            for shape, values in shapes.items()
        ]
        message = f"Order conditions named {name!r} test different fields: " + "; ".join(parts)
    return web.Response(200, web.envelope(message, []))


def routes() -> list[web.Route]:
    """The order-condition rows of the route table (static words first)."""
    r, w = "read_price_order_conditions", "write_price_order_conditions"
    base = "P/order_conditions"
    return [
        web.Route("GET", base, r, list_conditions, listing="order_conditions"),
        web.Route("POST", base, w, create_condition, write=True),
        web.Route("GET", f"{base}/fields", r, list_fields),
        web.Route("POST", f"{base}/field_sets", w, add_field_sets, write=True),
        web.Route("DELETE", f"{base}/field_sets", w, delete_field_sets, write=True),
        web.Route("GET", f"{base}/{{name}}/validate", r, validate_group),
        web.Route("DELETE", f"{base}/{{name}}/fields/{{field}}", w, delete_group_field, write=True),
        web.Route("GET", f"{base}/{{name}}/{{value}}/field_sets", r, list_field_sets),
        web.Route("GET", f"{base}/{{name}}/{{value}}", r, get_condition),
        web.Route("PUT", f"{base}/{{name}}/{{value}}", w, replace_condition, write=True),
        web.Route("DELETE", f"{base}/{{name}}/{{value}}", w, delete_condition, write=True),
        web.Route("DELETE", f"{base}/{{name}}", w, delete_group, write=True),
    ]
