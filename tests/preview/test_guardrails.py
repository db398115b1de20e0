"""The price guardrails on the changes alone: sign flips and ×10 typos, refused by name."""

from __future__ import annotations

from typing import Any

from reconciler import model, plan, state
from reconciler.preview import guardrails

from .build import declared, project


def update(body: dict[str, Any], new: dict[str, Any]) -> model.Update:
    live = state.ruleset_resource({**body, "id": 1})
    wanted = declared(new)
    (change,) = [
        c
        for c in plan.plan_changes(
            [wanted],
            state.LiveState((live,), 0, "shop"),
            target=project().target(None),
            project=project(),
        ).changes
    ]
    assert isinstance(change, model.Update)
    return change


def rule(kind: str, action: str, value: int) -> dict[str, Any]:
    return {
        "external_id": "r",
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": "x",
                "type": kind,
                "conditions": [],
                "actions": [{"type": action, "value": value}],
            }
        ],
    }


def violations(kind: str, action: str, old: int, new: int) -> list[str]:
    change = update(rule(kind, action, old), rule(kind, action, new))
    return list(guardrails.rule_violations([change]))


def test_rule_guardrails_flag_flips_and_tenfold_changes_only() -> None:
    assert violations("DISCOUNT", "PRICE_ADJUST_PERCENT", -25, 25) == [
        "Refusing ruleset r > rules[x].actions[0]: PRICE_ADJUST_PERCENT -25 → 25 turns a "
        "DISCOUNT of 25% off into a surcharge of 25%: a sign typo charges customers more. "
        "Re-run with --force if intended."
    ]
    assert violations("STACKABLE_DISCOUNT", "PRICE_ADJUST_RELATIVE", -400, 400) != []
    assert violations("DISCOUNT", "PRICE_ADJUST_RELATIVE", -400, -40) == [
        "Refusing ruleset r > rules[x].actions[0]: PRICE_ADJUST_RELATIVE -400 → -40 changes the "
        "amount by a factor of 10: a typo like a missing or extra digit? Re-run with --force if "
        "intended."
    ]
    assert violations("DISCOUNT", "PRICE_ADJUST_ABSOLUTE", 1799, 0)[0].endswith(
        "changes the amount to 0: a typo like a missing or extra digit? Re-run with --force if "
        "intended."
    )
    # Not flagged: an addition made larger, a modest change, a percent ×10, from 0.
    assert violations("ADDITION", "PRICE_ADJUST_RELATIVE", -100, 100) == []
    assert violations("DISCOUNT", "PRICE_ADJUST_ABSOLUTE", 1799, 1599) == []
    assert violations("DISCOUNT", "PRICE_ADJUST_PERCENT", -2, -20) == []
    assert violations("DISCOUNT", "PRICE_ADJUST_RELATIVE", 0, -500) == []
