"""The engine as a plan uses it: the planned side built over the live one, candidates, many carts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import pricing
from tests.pricing.build import AT, pct, rule, ruleset

ITEMS = [
    {"sku": "A", "product_id": "1", "variant_id": "11", "price": 1000, "quantity": 3},
    {"sku": "B", "product_id": "2", "variant_id": "21", "price": 2500, "quantity": 1},
]
CART = pricing.Cart.from_api({"items": ITEMS, "customer": {"tags": ["gold"]}})


def rulesets(*bodies: dict[str, Any]) -> list[pricing.Ruleset]:
    return [pricing.Ruleset.from_api(b) for b in bodies]


def prices(engine: pricing.Engine) -> list[int]:
    return [line.unit_price for line in engine.price(CART, at=AT).lines]


SALE = ruleset("sale", rule("ten", actions=[pct(-10)]), id=1)
GOLD = ruleset(
    "gold",
    rule("g", conditions=[{"type": "CUSTOMER_GROUP", "value": "gold"}], actions=[pct(-15)]),
    selection={"type": "PRODUCT_SEARCH", "sku_ids": ["A"]},
    id=2,
)
LIMITED = ruleset(
    "limited",
    rule("l", actions=[{"type": "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT", "value": 100, "limit": 1}]),
    id=3,
)


def test_the_planned_side_reuses_the_live_sides_rulesets_and_prices_like_a_fresh_engine() -> None:
    live = rulesets(SALE, GOLD, LIMITED)
    live_engine = pricing.Engine(live)
    assert prices(live_engine) == [700, 100]  # A: (100 + 2 × 1000) / 3 = 700; B: 100
    changed = pricing.Ruleset.from_api({**GOLD, "rules": [rule("g", actions=[pct(-50)])]})
    planned = [live[0], changed, live[2]]
    reused = pricing.Engine(planned, reuse=live_engine)
    fresh = pricing.Engine(
        rulesets(SALE, {**GOLD, "rules": [rule("g", actions=[pct(-50)])]}, LIMITED)
    )
    # A: 1000 - 500 = 500 (the changed rule) beats the limited blend 700; B: 100
    assert prices(reused) == prices(fresh) == [500, 100]
    assert prices(live_engine) == [700, 100]  # the live side is untouched


def test_reuse_never_crosses_positions() -> None:
    live = rulesets(SALE, GOLD)
    live_engine = pricing.Engine(live)
    prices(live_engine)  # compile everything on the live side
    swapped = pricing.Engine([live[1], live[0]], reuse=live_engine)
    fresh = pricing.Engine([live[1], live[0]])
    assert prices(swapped) == prices(fresh)
    assert [
        line.winner.source.ruleset for line in swapped.price(CART, at=AT).lines if line.winner
    ] == [line.winner.source.ruleset for line in fresh.price(CART, at=AT).lines if line.winner]


def test_candidates_are_the_live_rulesets_picking_the_line() -> None:
    expired = ruleset("old", expiry_date="2020-01-01T00:00:00Z")
    engine = pricing.Engine(rulesets(SALE, GOLD, expired))
    names = [r.external_id for r in engine.candidates(CART.items[0], AT)]
    assert names == ["sale", "gold"]
    assert [r.external_id for r in engine.candidates(CART.items[1], AT)] == ["sale"]


def test_an_engine_prices_carts_independently() -> None:
    engine = pricing.Engine(rulesets(LIMITED))
    first = engine.price(CART, at=AT)
    second = engine.price(CART, at=AT)
    # limits are counted per cart, never carried from one cart to the next
    assert [p.unit_price for p in first.lines] == [p.unit_price for p in second.lines] == [700, 100]


BODIES = st.lists(
    st.builds(
        lambda kind, value, priority, app, sku: ruleset(
            f"r{value}{priority}{app}{sku}",
            rule("x", kind, actions=[pct(value)]),
            priority=priority,
            app=app,
            selection={"type": "PRODUCT_SEARCH", "sku_ids": [sku]}
            if sku
            else {"type": "PRODUCTS_ALL"},
        ),
        st.sampled_from(["DISCOUNT", "STACKABLE_DISCOUNT", "BASE_PRICE", "ADDITION"]),
        st.integers(-60, 20),
        st.integers(0, 2),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["", "A", "B"]),
    ),
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(live=BODIES, planned=BODIES)
def test_reuse_gives_what_a_fresh_engine_gives(
    live: list[dict[str, Any]], planned: list[dict[str, Any]]
) -> None:
    live_rulesets = rulesets(*live)
    live_engine = pricing.Engine(live_rulesets)
    prices(live_engine)
    # keep the live objects where the planned list has the same body at the same position
    mixed = [
        live_rulesets[i] if i < len(live) and live[i] == body else pricing.Ruleset.from_api(body)
        for i, body in enumerate(planned)
    ]
    assert prices(pricing.Engine(mixed, reuse=live_engine)) == prices(
        pricing.Engine(rulesets(*planned))
    )
