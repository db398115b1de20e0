"""The probe discount code through every discount code route apply uses: created (its backing
ruleset must not show in this app's listing), updated, deleted. Never redeemable: it starts and
ends in 2099 and discounts no product by 0%.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import kinds, model, ownership, state
from reconciler.doctor.recording import Failed
from reconciler.probes.session import Leftover, Session


def _delete_leftover(bold: kinds.Shop, listed: Mapping[str, Any]) -> bool:
    if listed.get("id") is None:
        return False
    bold.delete_discount_code(listed["id"])
    return True


#: A killed run's probe discount code, named by its code (deleted by its id).
LEFTOVER = Leftover(model.Kind.DISCOUNT_CODE, "code", _delete_leftover)


def checks(session: Session) -> None:
    """Every discount code route on the probe code, which ends deleted."""
    bold, code = session.bold, session.name

    def body(day: int) -> Mapping[str, Any]:
        # Never redeemable: it starts and ends in 2099 and discounts no product by 0%.
        return state.discount_code_resource(
            {
                "code": code,
                "action": {"type": "PRICE_ADJUST_PERCENT", "value": 0},
                "product_selection": {
                    "type": "PRODUCT_SEARCH",
                    "sku_ids": [ownership.NO_PRODUCT],
                },
                "start_date": "2099-01-01T00:00:00Z",
                "expiry_date": f"2099-01-{day:02d}T00:00:00Z",
            }
        ).body

    def read() -> model.Resource:
        data = bold.get_discount_code(session.probes.code_id or 0)
        if data is None:
            raise Failed("the probe discount code is not there when read back")
        return state.discount_code_resource(data)

    def create() -> str:
        made = bold.create_discount_codes(
            state.discount_code_to_api(body(2), codes=[code])["discount_code"]
        )
        mine = [c for c in made if str(c.get("code")) == code] or made
        if not mine or mine[0].get("id") is None:
            listed = bold.list_discount_codes(name=code)
            mine = [c for c in listed if str(c.get("code")) == code]
        if not mine:
            raise Failed("the created code is not there")
        session.probes.code_id, session.probes.code = int(mine[0]["id"]), code
        session.expect(body(2), read().body, "the created discount code")
        backing = mine[0].get("ruleset_id")
        own = {r.get("id") for r in bold.list_rulesets()}
        if backing is not None and backing in own:
            raise Failed(
                f"its backing ruleset {backing} shows in this app's listing: plan would delete it"
            )
        return "created; GET reads it back equal; its backing ruleset is not this app's"

    if (
        not session.check("create_discount_codes", "create_discount_codes", create)
        and session.probes.code_id is None
    ):
        session.skip("the other discount code routes", "the probe could not be created")
        return

    def update() -> str:
        bold.update_discount_code(session.probes.code_id or 0, state.discount_code_to_api(body(3)))
        session.expect(body(3), read().body, "after a PUT")
        return "updated; GET reads it back equal"

    session.check("update_discount_code", "update_discount_code", update)

    def delete() -> str:
        with bold.observe() as seen:
            bold.delete_discount_code(session.probes.code_id or 0)
        if bold.get_discount_code(session.probes.code_id or 0) is not None:
            raise Failed("the probe discount code is still there")
        session.probes.code_id = None
        status = next((e.status for e in seen if e.route == "delete_discount_code"), None)
        return f"deleted (answers {status}); GET then answers 404"

    session.check("delete_discount_code", "delete_discount_code", delete)
