"""Rules inside a ruleset: the handlers behind ``P/rulesets/{id or external/eid}/rules…``.

Owns listing (``data`` a bare array, §3), bulk add and delete, and updating or deleting one
rule, always through the ruleset lookup of ``rulesets`` (so app scoping is the same). It must
not validate shapes (``validate`` does).

Choices where the contract is silent (documented in docs/sandbox.md): bulk-add answers 201 with
``data.rules`` (the added rules) and ``data.ruleset``; bulk-delete and delete answer 200 with the
updated ruleset; an unknown id in ``rule_ids`` is 404 and deletes nothing.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox import rulesets, validate, web


def list_rules(call: web.Context) -> web.Response:
    """GET …/rules: paginated, ``data`` a bare array (§3)."""
    page, limit = web.page_params(call.request)
    with call.store.transaction() as conn:
        rules = rulesets.find(call, conn, write=False)["rules"]
    chunk = rules[(page - 1) * limit : page * limit]
    meta = web.pagination(call.request, total=len(rules), count=len(chunk), page=page, limit=limit)
    return web.Response(200, web.envelope("Rules retrieved", chunk, meta))


def add_rules(call: web.Context) -> web.Response:
    """POST …/rules: append; 409 when an external_id already exists in the ruleset."""
    body_in = call.request.json_object()
    c = validate.Checker()
    given = validate.rules(c, body_in.get("rules"), "rules", non_empty=True)
    c.done()
    with call.store.transaction() as conn:
        body = rulesets.find(call, conn, write=True)
        added = rulesets.assign_rule_ids(call.store, given, [])
        body["rules"] = [*body["rules"], *added]
        rulesets.refuse_duplicate_rules(body["rules"])
        rulesets.save(conn, body, touch=True)
    return web.Response(201, web.envelope("Rules added", {"rules": added, "ruleset": body}))


def delete_rules(call: web.Context) -> web.Response:
    """DELETE …/rules with ``{"rule_ids": [...]}``: 404 (and nothing deleted) on an unknown id."""
    ids = call.request.json_object().get("rule_ids")
    if not isinstance(ids, list) or not ids:
        raise web.field_error("rule_ids", "must be a non-empty list of rule ids")
    for i, rule_id in enumerate(ids):
        if isinstance(rule_id, bool) or not isinstance(rule_id, int):
            raise web.field_error(f"rule_ids[{i}]", "must be an integer rule id")
    with call.store.transaction() as conn:
        body = rulesets.find(call, conn, write=True)
        present = {rule["id"] for rule in body["rules"]}
        missing = [i for i in ids if i not in present]
        if missing:
            raise web.HttpError(404, f"No rule with id {missing[0]} in ruleset {body['id']}.")
        body["rules"] = [rule for rule in body["rules"] if rule["id"] not in set(ids)]
        rulesets.save(conn, body, touch=True)
    return rulesets.one("Rules deleted", body)


def _rule_index(call: web.Context, body: dict[str, Any]) -> int:
    for index, rule in enumerate(body["rules"]):
        if "rule_id" in call.params and rule["id"] == int(call.params["rule_id"]):
            return index
        if "rule_eid" in call.params and rule.get("external_id") == call.params["rule_eid"]:
            return index
    which = call.params.get("rule_id") or repr(call.params.get("rule_eid"))
    raise web.HttpError(404, f"No rule {which} in ruleset {body['id']}.")


def update_rule(call: web.Context) -> web.Response:
    """PUT …/rules/{rule_id} or …/rules/external/{rule_eid}: replace one rule, keeping its id."""
    raw = rulesets.unwrap(call.request, "rule")
    c = validate.Checker()
    cleaned = validate.rule(c, raw, "rule")
    c.done()
    cleaned.pop("id", None)
    with call.store.transaction() as conn:
        body = rulesets.find(call, conn, write=True)
        index = _rule_index(call, body)
        current = body["rules"][index]
        if cleaned.get("external_id") is None:
            cleaned["external_id"] = current.get("external_id")
        body["rules"][index] = rule = {"id": current["id"], **cleaned}
        rulesets.refuse_duplicate_rules(body["rules"])
        rulesets.save(conn, body, touch=True)
    return web.Response(200, web.envelope("Rule updated", {"rule": rule}))


def delete_rule(call: web.Context) -> web.Response:
    """DELETE …/rules/{rule_id}: 200 with the updated ruleset."""
    with call.store.transaction() as conn:
        body = rulesets.find(call, conn, write=True)
        del body["rules"][_rule_index(call, body)]
        rulesets.save(conn, body, touch=True)
    return rulesets.one("Rule deleted", body)


def routes() -> list[web.Route]:
    """The rule rows of the route table, for both ways of naming the ruleset."""
    r, w = "read_price_rulesets", "write_price_rulesets"
    out = []
    for base in rulesets.BASES:
        out += [
            web.Route("GET", f"{base}/rules", r, list_rules),
            web.Route("POST", f"{base}/rules", w, add_rules, write=True),
            web.Route("DELETE", f"{base}/rules", w, delete_rules, write=True),
            web.Route("PUT", f"{base}/rules/external/{{rule_eid}}", w, update_rule, write=True),
            web.Route("PUT", f"{base}/rules/{{rule_id:int}}", w, update_rule, write=True),
            web.Route("DELETE", f"{base}/rules/{{rule_id:int}}", w, delete_rule, write=True),
        ]
    return out
