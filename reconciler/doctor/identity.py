"""The reads by identity: a ruleset by external id and by server id, the ``external_ids``
filter, an order condition by name and value, a discount code by id, each on an object the
lists found (skipped when the shop has none: ``--write`` reads its probes).
"""

from __future__ import annotations

from reconciler import errors, model, state
from reconciler.doctor.recording import Doctor, Failed


def checks(checker: Doctor) -> None:
    """Each read by identity, on the first object of each kind the lists found."""
    bold = checker.bold
    mine = [
        r
        for r in checker.seen.get("rulesets", [])
        if state.has_identity(r.get("external_id")) and not model.is_reserved(str(r["external_id"]))
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

        checker.check("get_ruleset", "get_ruleset", by_eid)

        def by_id() -> str:
            got = bold.get_ruleset_by_id(ident)
            if got is None:
                raise errors.NotFound(
                    method="GET",
                    path=bold._path("get_ruleset_by_id", {"id": ident}),
                    status=404,
                )
            return f"ruleset id {ident}"

        checker.check("get_ruleset_by_id", "get_ruleset_by_id", by_id)

        def filtered() -> str:
            rows = bold.list_all("list_rulesets", "rulesets", params={"external_ids": eid})
            others = sorted({str(r.get("external_id")) for r in rows} - {eid})
            if others:
                raise Failed(
                    f"external_ids={eid} also answered {', '.join(others[:3])}: the filter is "
                    "ignored; boldrules then reads each ruleset by path (slower, still right)"
                )
            return f"only {eid}"

        checker.check(
            "list_rulesets external_ids filter",
            "list_rulesets",
            filtered,
            params={"external_ids": eid},
            needed=False,
            fixable=False,
        )
    else:
        checker.skip(
            "get_ruleset, get_ruleset_by_id",
            "no ruleset of this app to read (`--write` uses a probe)",
        )
    conditions = checker.seen.get("order_conditions", [])
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

        checker.check("get_order_condition", "get_order_condition", condition)
    else:
        checker.skip(
            "get_order_condition", "the shop has no order condition (`--write` uses a probe)"
        )
    codes = checker.seen.get("discount_codes", [])
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

        checker.check("get_discount_code", "get_discount_code", code)
    else:
        checker.skip("get_discount_code", "the shop has no discount code (`--write` uses a probe)")
