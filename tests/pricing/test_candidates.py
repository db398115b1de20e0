"""pricing-engine.md §2: which rulesets are candidates for a line (dates, selections, once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import pricing
from reconciler.pricing import assumptions, selection
from tests.pricing.build import AT, ITEM, pct, rule, ruleset, unit, winner

ONE_DAY = dt.timedelta(days=1)


def iso(instant: dt.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- §2.1 active and dates: 1000 at -10 → 900 when the ruleset is live ---------------------------

DATES = [
    ("no dates: open both ways", {}, 900),
    ("inactive", {"active": False}, 1000),
    ("started yesterday", {"start_date": iso(AT - ONE_DAY)}, 900),
    ("starts tomorrow", {"start_date": iso(AT + ONE_DAY)}, 1000),
    ("starts at this very instant (start inclusive)", {"start_date": iso(AT)}, 900),
    ("expires tomorrow", {"expiry_date": iso(AT + ONE_DAY)}, 900),
    ("expired yesterday", {"expiry_date": iso(AT - ONE_DAY)}, 1000),
    ("expires at this very instant (expiry exclusive)", {"expiry_date": iso(AT)}, 1000),
    (
        "within both bounds",
        {"start_date": iso(AT - ONE_DAY), "expiry_date": iso(AT + ONE_DAY)},
        900,
    ),
    ("offset spelling of the same instant", {"expiry_date": "2027-03-10T13:00:00+01:00"}, 1000),
    ("explicit nulls", {"start_date": None, "expiry_date": None, "active": None}, 900),
]


@pytest.mark.parametrize(("fields", "expected"), [c[1:] for c in DATES], ids=[c[0] for c in DATES])
def test_dates_and_active(fields: dict[str, Any], expected: int) -> None:
    assert unit([ruleset("s", **fields)]) == expected


def test_the_date_boundaries_are_the_named_assumptions() -> None:
    assert assumptions.ASSUME_START_INCLUSIVE and assumptions.ASSUME_EXPIRY_EXCLUSIVE


def test_a_cart_at_overrides_the_default_instant() -> None:
    sale = ruleset("s", expiry_date=iso(AT))
    engine = pricing.Engine([pricing.Ruleset.from_api(sale)])
    early = pricing.Cart.from_api({"items": [ITEM], "at": iso(AT - ONE_DAY)})
    assert engine.price(early, at=AT).lines[0].unit_price == 900
    late = pricing.Cart.from_api({"items": [ITEM]})
    assert engine.price(late, at=AT).lines[0].unit_price == 1000


def test_no_instant_at_all_is_an_error_naming_the_cart() -> None:
    engine = pricing.Engine([])
    with pytest.raises(pricing.PricingInputError, match="cart gold: no instant"):
        engine.price(pricing.Cart.from_api({"name": "gold", "items": [ITEM]}))


# --- §2.2 product selections: ITEM is sku SHIRT-1, product 100, variant 1001 ----------------------

FACTS = {
    **ITEM,
    "collection_ids": ["55", "66"],
    "vendor": "Acme",
    "title": "Shirt",
    "product_type": "Tops",
}
SELECTIONS = [
    ("PRODUCTS_ALL", {"type": "PRODUCTS_ALL"}, True),
    ("SHOPIFY_PRODUCTS_ALL", {"type": "SHOPIFY_PRODUCTS_ALL"}, True),
    *[
        (f"{kind} {name} {'hit' if hit else 'miss'}", {"type": kind, name: [value]}, hit)
        for kind in ("PRODUCT_SEARCH", "PRODUCTS_SEARCH", "SHOPIFY_PRODUCT_SEARCH")
        for name, value, hit in [
            ("sku_ids", "SHIRT-1", True),
            ("sku_ids", "SHIRT-2", False),
            ("variant_ids", "1001", True),
            ("variant_ids", "1002", False),
            ("product_ids", "100", True),
            ("product_ids", "101", False),
            ("collection_ids", "66", True),
            ("collection_ids", "77", False),
            ("vendors", "Acme", True),
            ("vendors", "acme", False),  # exact, case-sensitive [I]
            ("titles", "Shirt", True),
            ("titles", "Shirts", False),
            ("product_types", "Tops", True),
            ("product_types", "Bottoms", False),
        ]
    ],
    (
        "ids compare as strings: numeric ids",
        {"type": "PRODUCT_SEARCH", "variant_ids": [1001]},
        True,
    ),
    (
        "a product id matches every variant",
        {"type": "PRODUCT_SEARCH", "product_ids": ["100"], "variant_ids": ["9"]},
        True,
    ),
    (
        "any listed entry matches",
        {"type": "PRODUCT_SEARCH", "sku_ids": ["X", "Y"], "titles": ["Shirt"]},
        True,
    ),
    ("a search naming nothing", {"type": "PRODUCT_SEARCH"}, False),
    ("PRODUCTS_EXCEPT the line", {"type": "PRODUCTS_EXCEPT", "sku_ids": ["SHIRT-1"]}, False),
    (
        "PRODUCTS_EXCEPT its collection",
        {"type": "PRODUCTS_EXCEPT", "collection_ids": ["55"]},
        False,
    ),
    ("PRODUCTS_EXCEPT other lines", {"type": "PRODUCTS_EXCEPT", "sku_ids": ["SHIRT-2"]}, True),
    ("PRODUCTS_EXCEPT nothing", {"type": "PRODUCTS_EXCEPT"}, True),
    ("an unknown selection type matches nothing [I]", {"type": "PRODUCTS_SOME"}, False),
]


@pytest.mark.parametrize(
    ("chosen", "hit"), [c[1:] for c in SELECTIONS], ids=[c[0] for c in SELECTIONS]
)
def test_product_selection(chosen: dict[str, Any], hit: bool) -> None:
    # 1000 at -10 → 900 when the selection picks the line
    assert unit([ruleset("s", selection=chosen)], items=[FACTS]) == (900 if hit else 1000)
    assert (
        selection.matches(
            pricing.ProductSelection.from_api(chosen), pricing.LineItem.from_api(FACTS)
        )
        is hit
    )


def test_a_line_with_only_a_price_is_picked_only_by_all_and_except() -> None:
    bare = {"price": 1000}
    chosen = [
        ruleset("all", rule("a", actions=[pct(-10)])),
        ruleset(
            "except",
            rule("e", actions=[pct(-20)]),
            selection={"type": "PRODUCTS_EXCEPT", "sku_ids": ["X"]},
        ),
        ruleset(
            "search",
            rule("s", actions=[pct(-50)]),
            selection={"type": "PRODUCT_SEARCH", "sku_ids": ["X"]},
        ),
    ]
    assert winner(chosen, items=[bare]) == "except"  # 800, not the search's 500


# --- §2.3 the same ruleset applies once per line ----------------------------------------------


def test_a_ruleset_applied_in_an_earlier_layer_is_no_candidate_later() -> None:
    both = ruleset(
        "both",
        rule("base", "BASE_PRICE", actions=[{"type": "PRICE_ADJUST_ABSOLUTE", "value": 800}]),
        rule("off", "DISCOUNT", actions=[pct(-50)]),
    )
    other = ruleset("other", rule("o", actions=[pct(-10)]))
    priced = unit([both, other])
    # layer 0: 800 (both); layer 2: "both" already applied, so only other: 800 - 80 = 720
    assert priced == 720


def test_rules_of_one_ruleset_in_one_stacked_layer_all_stack() -> None:
    # assumptions.ASSUME_APPLIED_CHECKED_PER_LAYER: 1000 - 100 = 900, then 900 - 45 = 855
    two = ruleset(
        "two",
        rule("ten", "STACKABLE_DISCOUNT", actions=[pct(-10)]),
        rule("five", "STACKABLE_DISCOUNT", actions=[pct(-5)]),
    )
    assert unit([two]) == 855


# --- the index gives exactly what a scan of every ruleset gives --------------------------------

VALUES = st.sampled_from(["1", "2", "3"])
SELECTION = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["PRODUCTS_ALL", "PRODUCT_SEARCH", "PRODUCTS_EXCEPT", "SHOPIFY_PRODUCT_SEARCH", "ODD"]
        )
    },
    optional={name: st.lists(VALUES, max_size=2) for name in pricing.inputs.FILTERS},
)
LINE = st.fixed_dictionaries(
    {"price": st.just(100)},
    optional={
        "sku": VALUES,
        "product_id": VALUES,
        "variant_id": VALUES,
        "vendor": VALUES,
        "title": VALUES,
        "product_type": VALUES,
        "collection_ids": st.lists(VALUES, max_size=2),
    },
)


@settings(max_examples=200, deadline=None)
@given(selections=st.lists(SELECTION, max_size=8), item=LINE)
def test_the_index_agrees_with_a_scan(
    selections: list[dict[str, Any]], item: dict[str, Any]
) -> None:
    chosen = [pricing.ProductSelection.from_api(s) for s in selections]
    line = pricing.LineItem.from_api(item)
    expected = [p for p, s in enumerate(chosen) if selection.matches(s, line)]
    assert selection.SelectionIndex(chosen).candidates(line) == expected
