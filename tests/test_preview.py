"""The price preview over a real (in-process) sandbox: sides, apps, calls, guardrails on changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from reconciler import carts, config, model, pipeline, plan, pricing, savedplan, state
from reconciler import preview as preview_module

from .projects import in_memory, seed_code

NOW = dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC)


def project() -> config.Project:
    return in_memory()


def sample(name: str, *items: dict[str, Any], **extra: Any) -> carts.SampleCart:
    cart = pricing.Cart.from_api({"name": name, "items": list(items), **extra})
    return carts.SampleCart(name, cart, (None,) * len(items), None, f"carts/{name}.yaml:2")


def discount(eid: str, skus: list[str], value: int, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": eid,
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": skus},
        "rules": [
            {
                "external_id": "off",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": value}],
            }
        ],
        **fields,
    }


def declared(body: dict[str, Any]) -> model.Resource:
    return state.ruleset_resource(body, model.Origin("pricing/x.yaml", 1, 1))


def list_calls(client: Any) -> int:
    return sum(n for (_, route), n in client.stats.calls.items() if route == "list_rulesets")


def test_no_carts_means_no_extra_call_and_no_preview(bold: Any) -> None:
    bold.create_ruleset(discount("tea", ["TEA"], -10))
    desired = [declared(discount("tea", ["TEA"], -20))]
    target = project().target(None)
    before = list_calls(bold)
    result = pipeline.plan_shop(
        bold, project(), target, pipeline.Declared(desired), samples=carts.Carts((), ())
    )
    without = list_calls(bold) - before
    assert result.preview is None
    assert savedplan.plan_json(result)["preview"] is None
    before = list_calls(bold)
    samples = carts.Carts(
        (sample("tea", {"sku": "TEA", "price": 1000}, at="2027-03-10T12:00:00Z"),), ()
    )
    result = pipeline.plan_shop(
        bold, project(), target, pipeline.Declared(desired), samples=samples
    )
    assert list_calls(bold) - before == without + 1  # the one all-apps listing
    assert result.preview is not None
    assert [(c.name, c.before, c.after) for c in result.preview.changed] == [("tea", 900, 800)]


def test_other_apps_compete_on_price_and_codes_are_priced_from_themselves(
    bold: Any, other_app: Any
) -> None:
    """Our 10% and another app's 30% on the same item: across apps the lowest price wins. The
    discount code's backing ruleset is not counted among other apps' rulesets."""
    bold.create_ruleset(discount("ours", ["MUG"], -10))
    other_app.create_ruleset(discount("theirs", ["MUG"], -30))
    seed_code(bold, "HALF", -50)
    live = state.fetch_live(bold)
    others, skipped = preview_module.other_app_rulesets(bold.list_rulesets_all_apps(), live)
    assert ([r.external_id for r in others], skipped) == (["theirs"], [])
    side = preview_module.live_side(live, others)
    engine = preview_module.engine(side)
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
    before = preview_module.live_side(live, [])
    after = preview_module.planned_side(before, live, result.changes)
    # b is deleted in place (inactive), a updated in place, c appended: the others keep their seat.
    assert [(r.external_id, r.active) for r in after.rulesets] == [
        ("a", True),
        ("b", False),
        ("c", True),
    ]
    assert after.rulesets[0].id == before.rulesets[0].id is not None
    cart = pricing.Cart.from_api({"items": [{"sku": "X", "price": 1000}]})
    live_engine = preview_module.engine(before)
    assert live_engine.price(cart, at=NOW).total == 800
    assert preview_module.engine(after, reuse=live_engine).price(cart, at=NOW).total == 850


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
    return list(preview_module.rule_violations([change]))


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
    others, skipped = preview_module.other_app_rulesets(
        [{**odd, "id": 6, "external_id": "x"}], live
    )
    side = preview_module.live_side(live, others, skipped)
    assert [r.active for r in side.rulesets] == [False]
    assert side.skipped == (
        "another app's ruleset x > rules[r].actions[0].value: expected a number, got 'ten'",
        "ruleset odd > rules[r].actions[0].value: expected a number, got 'ten'",
    )
    cart = pricing.Cart.from_api({"items": [{"sku": "X", "price": 1000}]})
    assert preview_module.engine(side).price(cart, at=NOW).total == 1000


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
    others, _ = preview_module.other_app_rulesets(bold.list_rulesets_all_apps(), blind)
    assert others == []
