"""The preview's two sides over a real (in-process) sandbox: other apps, codes, planned changes."""

from __future__ import annotations

import dataclasses
from typing import Any

from reconciler import model, plan, pricing, state
from reconciler.preview import sides

from ..projects import seed_code
from .build import NOW, declared, discount, project


def test_other_apps_compete_on_price_and_codes_are_priced_from_themselves(
    bold: Any, other_app: Any
) -> None:
    """Our 10% and another app's 30% on the same item: across apps the lowest price wins. The
    discount code's backing ruleset is not counted among other apps' rulesets."""
    bold.create_ruleset(discount("ours", ["MUG"], -10))
    other_app.create_ruleset(discount("theirs", ["MUG"], -30))
    seed_code(bold, "HALF", -50)
    live = state.fetch_live(bold)
    others, skipped = sides.other_app_rulesets(bold.list_rulesets_all_apps(), live)
    assert ([r.external_id for r in others], skipped) == (["theirs"], [])
    side = sides.live_side(live, others)
    engine = sides.engine(side)
    mug = {"sku": "MUG", "price": 1000}
    plain, coded = (
        engine.price(pricing.Cart.from_api({"items": [mug]}), at=NOW),
        engine.price(pricing.Cart.from_api({"items": [mug], "discount_code": "half"}), at=NOW),
    )
    assert (plain.total, str(plain.lines[0].winner.source)) == (  # type: ignore[union-attr]
        700,
        "[other apps] theirs > off",
    )
    assert (coded.total, coded.lines[0].discount_code) == (500, "HALF")


def test_planned_side_updates_deletes_and_creates_in_place(bold: Any) -> None:
    for eid, value in (("a", -10), ("b", -20)):
        bold.create_ruleset(discount(eid, ["X"], value, priority=0))
    live = state.fetch_live(bold)
    desired = [declared(discount("a", ["X"], -15)), declared(discount("c", ["X"], -5))]
    result = plan.plan_changes(desired, live, target=project().target(None), project=project())
    assert result.counts == {"create": 1, "update": 1, "delete": 1}
    before = sides.live_side(live, [])
    after = sides.planned_side(before, live, result.changes)
    # b is deleted in place (inactive), a updated in place, c appended: the others keep their seat.
    assert [(r.external_id, r.active) for r in after.rulesets] == [
        ("a", True),
        ("b", False),
        ("c", True),
    ]
    assert after.rulesets[0].id == before.rulesets[0].id is not None
    cart = pricing.Cart.from_api({"items": [{"sku": "X", "price": 1000}]})
    live_engine = sides.engine(before)
    assert live_engine.price(cart, at=NOW).total == 800
    assert sides.engine(after, reuse=live_engine).price(cart, at=NOW).total == 850


def test_rulesets_the_evaluator_cannot_read_are_left_out_and_said() -> None:
    odd = {
        "id": 5,
        "external_id": "odd",
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": "r",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": "ten"}],
            }
        ],
    }
    live = state.LiveState((state.ruleset_resource(odd),), 1, "shop")
    others, skipped = sides.other_app_rulesets([{**odd, "id": 6, "external_id": "x"}], live)
    side = sides.live_side(live, others, skipped)
    assert [r.active for r in side.rulesets] == [False]
    assert side.skipped == (
        "another app's ruleset x > rules[r].actions[0].value: expected a number, got 'ten'",
        "ruleset odd > rules[r].actions[0].value: expected a number, got 'ten'",
    )
    cart = pricing.Cart.from_api({"items": [{"sku": "X", "price": 1000}]})
    assert sides.engine(side).price(cart, at=NOW).total == 1000


def test_a_codes_ruleset_is_known_by_its_rule_when_the_code_does_not_name_it(bold: Any) -> None:
    seed_code(bold, "HALF", -50)
    live = state.fetch_live(bold)
    blind = dataclasses.replace(
        live,
        resources=tuple(
            dataclasses.replace(r, handles={}) if r.key.kind is model.Kind.DISCOUNT_CODE else r
            for r in live.resources
        ),
    )
    others, _ = sides.other_app_rulesets(bold.list_rulesets_all_apps(), blind)
    assert others == []
