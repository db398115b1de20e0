"""The probe order condition through every order condition route apply uses: created, a field
set added and deleted by id, replaced, deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import kinds, model, state
from reconciler.doctor.recording import Failed
from reconciler.probes.session import Leftover, Session


def _delete_leftover(bold: kinds.Shop, listed: Mapping[str, Any]) -> bool:
    bold.delete_order_condition(str(listed.get("name") or ""), str(listed.get("value")))
    return True


#: A killed run's probe order condition, named by its name (its value is ``probe``).
LEFTOVER = Leftover(model.Kind.ORDER_CONDITION, "name", _delete_leftover)


def checks(session: Session) -> None:
    """Every order condition route on the probe condition, which ends deleted."""
    bold, name, value = session.bold, session.name, "probe"

    def body(*codes: str) -> Mapping[str, Any]:
        return state.order_condition_resource(
            {
                "name": name,
                "value": value,
                "field_sets": [{"customer.shipping.country_code": c} for c in codes],
            }
        ).body

    def read() -> model.Resource:
        data = bold.get_order_condition(name, value)
        if data is None:
            raise Failed("the probe order condition is not there when read back")
        return state.order_condition_resource(data)

    def create() -> str:
        bold.create_order_condition(state.order_condition_to_api(body("ZZ")))
        session.probes.condition = (name, value)
        session.expect(body("ZZ"), read().body, "the created order condition")
        return f"created {name}={value}; GET reads it back equal"

    if (
        not session.check("create_order_condition", "create_order_condition", create)
        and session.probes.condition is None
    ):
        session.skip("the other order condition routes", "the probe could not be created")
        return

    def add() -> str:
        bold.add_field_sets(name, value, [{"customer.shipping.country_code": "ZY"}])
        session.expect(body("ZZ", "ZY"), read().body, "after adding a field set")
        return "field set added"

    session.check("add_field_sets", "add_field_sets", add)

    def remove() -> str:
        ids = read().handles.get("field_set_ids") or {}
        target = ids.get(model.canonical_json({"customer.shipping.country_code": "ZY"}))
        if target is None:
            raise Failed("no field set ZY to delete (the add check failed)")
        bold.delete_field_sets(name, value, [int(target)])
        session.expect(body("ZZ"), read().body, "after deleting a field set")
        return "field set deleted by id"

    session.check("delete_field_sets", "delete_field_sets", remove)

    def replace() -> str:
        bold.replace_order_condition(name, value, state.order_condition_to_api(body("ZX")))
        session.expect(body("ZX"), read().body, "after a PUT")
        return "replaced; GET reads it back equal"

    session.check("replace_order_condition", "replace_order_condition", replace)

    def delete() -> str:
        with bold.observe() as seen:
            bold.delete_order_condition(name, value)
        if bold.get_order_condition(name, value) is not None:
            raise Failed("the probe order condition is still there")
        session.probes.condition = None
        status = next((e.status for e in seen if e.route == "delete_order_condition"), None)
        return f"deleted (answers {status}); GET then answers 404"

    session.check("delete_order_condition", "delete_order_condition", delete)
