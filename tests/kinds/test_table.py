"""The table: every kind has its module, in the dependency order apply and the plan use."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import calls, kinds, model, plan
from reconciler.kinds import fields

CONDITION = kinds.by_name[model.Kind.ORDER_CONDITION].resource(
    {"name": "ZONE", "value": "x", "field_sets": [{"customer.shipping.country_code": "CA"}]}
)
RULESET = kinds.by_name[model.Kind.RULESET].resource(
    {
        "external_id": "r",
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": "a",
                "type": "DISCOUNT",
                "conditions": [{"type": "ORDER_CONDITION", "name": "ZONE", "value": "x"}],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -5}],
            }
        ],
    }
)
CODE = kinds.by_name[model.Kind.DISCOUNT_CODE].resource(
    {"code": "C1", "action": {"type": "PRICE_ADJUST_PERCENT", "value": -5}, "id": 3}
)


def test_every_kind_has_a_spec_in_the_order_of_model_kind() -> None:
    assert [spec.kind for spec in kinds.in_dependency_order] == list(model.Kind)
    assert [spec.list_name for spec in kinds.in_dependency_order] == [
        "order_conditions",
        "rulesets",
        "discount_codes",
    ]


def test_apply_runs_in_the_table_order_creates_first_deletes_reversed() -> None:
    creates: list[model.Change] = [model.Create(r) for r in (CODE, RULESET, CONDITION)]
    deletes: list[model.Change] = [model.Delete(r) for r in (CONDITION, CODE, RULESET)]
    made = calls.calls_for([*deletes, *creates])
    order = [(c.verb, c.change.key.kind) for c in made]
    kinds_in_order = [spec.kind for spec in kinds.in_dependency_order]
    assert order == [
        *(("create", k) for k in kinds_in_order),
        *(("delete", k) for k in reversed(kinds_in_order)),
    ]
    assert [c.phase for c in made] == [0, 1, 2, 3, 4, 5]
    # The plan lists changes in the same order apply runs them.
    assert [c.key for c in plan.order_changes([*deletes, *creates])] == [c.change.key for c in made]


def test_a_ruleset_waits_for_the_condition_it_uses_and_outlives_its_delete() -> None:
    made = {
        (c.verb, c.change.key.kind): c
        for c in calls.calls_for([model.Create(RULESET), model.Create(CONDITION)])
    }
    assert made["create", model.Kind.RULESET].after == {CONDITION.key}
    live_rs = kinds.by_name[model.Kind.RULESET].resource({**RULESET.body, "rules": []})
    gone = calls.calls_for([model.Delete(CONDITION), model.Update(live_rs, RULESET, ())])
    [delete] = [c for c in gone if c.verb == "delete"]
    assert delete.after == {RULESET.key}


@pytest.mark.parametrize("field", ["sku_ids", "conditions", "field_sets", "limits"])
def test_set_fields_sort_and_keep_repeats(field: str) -> None:
    assert fields.as_set(field, ["b", "a", "b"]) == ["a", "b", "b"]


def test_a_list_not_declared_a_set_cannot_be_sorted_as_one() -> None:
    with pytest.raises(ValueError, match="'actions' is not a set-like field"):
        fields.as_set("actions", [2, 1])


def test_the_state_names_are_the_kinds_own(bold: Any) -> None:
    from reconciler import state

    assert state.ruleset_resource == kinds.by_name[model.Kind.RULESET].resource
    assert state.read_one(bold, RULESET.key) is None
