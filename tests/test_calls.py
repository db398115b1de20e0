"""calls.py: a set of changes becomes the fewest API calls, in dependency order, and a write whose
answer was lost is read back and finished, never sent twice.

The shop is the in-process sandbox; each call is run by ``calls.run_settled`` as apply runs it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reconciler import calls, client, config
from reconciler.sandbox import Sandbox

from .projects import plan_for, seed_code, seed_ruleset, seed_zone, spring_manifest, write_project

PROJECT_FILE = (
    "manifests: [pricing/]\n"
    "safety: {max_deletes: 100, max_delete_percent: 100, max_update_percent: 100}\n"
    "ownership: {order_conditions: [ZONE], discount_code_prefixes: [SPRING, OLD]}\n"
)


def seed(bold: client.BoldClient) -> None:
    """The shop before: two zones, a ruleset on each of them, and a code."""
    seed_zone(bold, "east", "NS")
    seed_zone(bold, "west", "AB")
    seed_ruleset(bold, "spring", -50)
    seed_ruleset(bold, "old", -5, {"type": "ORDER_CONDITION", "name": "ZONE", "value": "east"})
    seed_code(bold, "OLD10", -10)


#: The shop after: `old` and the east zone gone, a field set added to west, a new zone with a
#: ruleset on it, `spring` at -40, two new codes sharing one configuration, OLD10 gone.
MANIFESTS = {
    "pricing/zones.yaml": """\
order_conditions:
  - name: ZONE
    value: west
    field_sets:
      - {customer.shipping.country_code: CA, customer.shipping.province_code: AB}
      - {customer.shipping.country_code: CA, customer.shipping.province_code: BC}
  - name: ZONE
    value: north
    field_sets:
      - {customer.shipping.country_code: CA, customer.shipping.province_code: YT}
""",
    "pricing/rulesets.yaml": spring_manifest(-40)
    + """\
  - external_id: summer
    product_selection: {type: PRODUCTS_ALL}
    rules:
      - {external_id: north, type: DISCOUNT, conditions: [{type: ORDER_CONDITION, name: ZONE, value: north}],
         actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
""",
    "pricing/codes.yaml": (
        "discount_codes:\n"
        "  - {codes: [SPRING15, SPRING15-NEWS], action: {type: PRICE_ADJUST_PERCENT, value: -15},\n"
        "     product_selection: {type: PRODUCTS_ALL}}\n"
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> config.Project:
    return write_project(tmp_path, MANIFESTS, project_file=PROJECT_FILE)


def writes(bold: client.BoldClient) -> Counter[str]:
    """The writes the client has sent, by operation."""
    return Counter({op: n for (method, op), n in bold.stats.calls.items() if method != "GET"})


def test_changes_become_the_fewest_calls_in_dependency_order(
    bold: client.BoldClient, project: config.Project
) -> None:
    seed(bold)
    made = calls.calls_for(plan_for(bold, project).changes)
    assert [(c.label(), c.operation, sorted(k.name for k in c.after)) for c in made] == [
        ("create order condition ZONE=north", "create_order_condition", []),
        ("update order condition ZONE=west", "add_field_sets", []),
        ("update ruleset spring", "patch_ruleset", []),
        ("create ruleset summer", "upsert_ruleset", ["ZONE=north"]),
        ("create discount codes SPRING15, SPRING15-NEWS", "create_discount_codes", []),
        ("delete discount code OLD10", "delete_discount_code", []),
        ("delete ruleset old", "delete_ruleset", []),
        ("delete order condition ZONE=east", "delete_order_condition", ["old"]),
    ]
    # Phases: conditions first on the way in, last on the way out.
    assert [c.phase for c in made] == sorted(c.phase for c in made)


def test_running_the_calls_once_each_leaves_nothing_to_change(
    bold: client.BoldClient, project: config.Project
) -> None:
    seed(bold)
    made = calls.calls_for(plan_for(bold, project).changes)
    before = writes(bold)
    for call in made:
        calls.run_settled(bold, call)
    assert writes(bold) - before == Counter(
        {
            "create_order_condition": 1,
            "add_field_sets": 1,
            "upsert_ruleset": 1,
            "patch_ruleset": 1,
            "create_discount_codes": 1,
            "delete_discount_code": 1,
            "delete_ruleset": 1,
            "delete_order_condition": 1,
        }
    )
    assert plan_for(bold, project).empty


@pytest.mark.parametrize(
    "operation", ["create_order_condition", "add_field_sets", "create_discount_codes"]
)
def test_a_write_whose_answer_is_spoiled_is_read_back_not_sent_again(
    sandbox: Sandbox, bold: client.BoldClient, project: config.Project, operation: str
) -> None:
    seed(bold)
    made = {c.operation: c for c in calls.calls_for(plan_for(bold, project).changes)}
    before = writes(bold)
    # The shop takes the write; the answer that comes back cannot be read.
    sandbox.set_faults(truncated_body=1.0, body_faults_on="writes", body_faults_limit=1)
    calls.run_settled(bold, made[operation])
    assert writes(bold) - before == Counter({operation: 1})
    assert sandbox.stats()["events"]["truncated_body"] == 1
    # What the call was to change now reads as the plan wants it: it is no longer planned.
    after = {c.operation for c in calls.calls_for(plan_for(bold, project).changes)}
    assert operation not in after
    assert len(after) == len(made) - 1


def test_a_ruleset_waits_only_for_the_conditions_that_change(
    bold: client.BoldClient, tmp_path: Path
) -> None:
    seed_zone(bold, "north", "YT")
    north = """\
order_conditions:
  - name: ZONE
    value: north
    field_sets:
      - {customer.shipping.country_code: CA, customer.shipping.province_code: YT}
"""
    manifests = {
        "pricing/zones.yaml": north,
        "pricing/rulesets.yaml": MANIFESTS["pricing/rulesets.yaml"],
    }
    project = write_project(tmp_path, manifests, project_file=PROJECT_FILE)
    made = calls.calls_for(plan_for(bold, project).changes)
    assert [(c.label(), sorted(k.name for k in c.after)) for c in made] == [
        ("create ruleset spring", []),
        ("create ruleset summer", []),
    ]
