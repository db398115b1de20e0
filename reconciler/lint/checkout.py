"""Where a rule acts, and where it does not: conditions that hold only in a cart, so product
pages never show the rule's price (``cart-only-condition``: a warning when one unit already
meets the condition, the rule then being meant for every purchase; a note for a quantity break),
actions Bold leaves to checkout (``checkout-only-action``), and ``CHARM_PRICE`` reached with a
price under 100 (``charm-under-100``).

Which conditions need a cart is asked of the evaluator itself: a condition is cart-only when its
compiled test holds for some quantity in a cart and fails for the same line on a single-product
price call. Which actions wait for checkout is ``pricing.actions.AT_CHECKOUT``; what a rule's
actions leave before its charm comes from the evaluator's action functions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from reconciler import pricing
from reconciler.lint import findings
from reconciler.lint.subjects import SAMPLE_PRICES, Priced, Shop, money, rule_name
from reconciler.pricing import actions, conditions

_QUANTITIES = (1, 2, 5, 10, 12, 25, 50, 100, 1000)


def _situation(condition: pricing.Condition, quantity: int, cart: bool) -> conditions.Situation:
    value = "" if condition.value is None else str(condition.value)
    line = pricing.LineItem(
        price=SAMPLE_PRICES[0],
        quantity=quantity,
        sku="sku",
        product_id="product",
        variant_id="variant",
        properties={condition.name: value} if condition.name else {},
    )
    return conditions.Situation(
        line=line,
        cart_context=cart,
        tags=frozenset({value, *condition.list}),
        province=value,
        discount_code=value.lower(),
        order_conditions={condition.name: value} if condition.name else {},
        variant_quantity=quantity,
        product_quantity=quantity,
        mix_and_match=lambda position: quantity,
    )


@functools.lru_cache(maxsize=4096)
def cart_only(condition: pricing.Condition) -> tuple[bool, bool]:
    """(does it hold only in a cart, does one unit in a cart already meet it), per the
    evaluator's own test of the condition."""
    test = conditions.compile_test(condition)
    if test is None:
        return (False, False)
    only = False
    for quantity in _QUANTITIES:
        if test(_situation(condition, quantity, True), 0) and not test(
            _situation(condition, quantity, False), 0
        ):
            only = True
            break
    return (only, only and test(_situation(condition, 1, True), 0))


def check(shop: Shop) -> Iterator[findings.Finding]:
    # What each rule (by identity: a shop's equal rules are one object) gives to say: its
    # cart-only conditions, and whether an action may be worth a word; None: nothing.
    said: dict[int, tuple[list[tuple[int, pricing.Condition, bool]], bool] | None] = {}
    for priced in shop.rulesets:
        for i, rule in enumerate(priced.ruleset.rules):
            found = said.get(id(rule), _UNREAD)
            if found is _UNREAD:
                found = said[id(rule)] = _worth(rule)
            if found is None:
                continue
            carts, acts = found
            if carts:
                yield from _conditions(priced, i, rule, carts)
            if acts:
                yield from _actions(shop, priced, i, rule)


_UNREAD: Any = object()


def _worth(rule: pricing.Rule) -> tuple[list[tuple[int, pricing.Condition, bool]], bool] | None:
    """``rule``'s cart-only conditions (position, condition, one unit meets it) and whether its
    actions need a look (checkout-only, or a charm after other actions), or None for neither."""
    if pricing.why_never_prices(rule) is not None:
        return None
    carts = []
    if pricing.LAYERS[rule.type] != 4:  # cart-level discounts act on carts only anyway
        for j, condition in enumerate(rule.conditions):
            # A discount code is typed in the cart: that it needs one is no news.
            only, at_one = cart_only(condition)
            if only and condition.type != "DISCOUNT_CODE":
                carts.append((j, condition, at_one))
    acts = any(
        a.type in actions.AT_CHECKOUT or (a.type == "CHARM_PRICE" and j > 0)
        for j, a in enumerate(rule.actions)
    )
    return (carts, acts) if carts or acts else None


def _conditions(
    priced: Priced, i: int, rule: pricing.Rule, carts: list[tuple[int, pricing.Condition, bool]]
) -> Iterator[findings.Finding]:
    subject = priced.subject
    for j, condition, at_one in carts:
        if at_one:
            # One unit already meets it: the rule was meant for every purchase.
            yield findings.Finding(
                "cart-only-condition",
                "warning",
                *subject.at("rules", i, "conditions", j),
                (subject.name,),
                f"{rule_name(priced, i)} needs {condition.describe()}, which holds only in a "
                "cart: product pages (Bold's single-product price) show the full price although "
                "a cart of one gets this price.",
            )
        else:
            # A quantity break in a cart-only form: right for carts, invisible on product
            # pages, where QTY_BY_VARIANT would be judged (pricing-engine.md §4).
            yield findings.Finding(
                "cart-only-condition",
                "info",
                *subject.at("rules", i, "conditions", j),
                (subject.name,),
                f"{rule_name(priced, i)} needs {condition.describe()}, which holds only in a "
                "cart: product pages (Bold's single-product price) never show this price, only "
                "the cart does (QTY_BY_VARIANT is judged on product pages too).",
            )


def _actions(shop: Shop, priced: Priced, i: int, rule: pricing.Rule) -> Iterator[findings.Finding]:
    subject = priced.subject
    for j, action in enumerate(rule.actions):
        if action.type in actions.AT_CHECKOUT:
            yield findings.Finding(
                "checkout-only-action",
                "warning",
                *subject.at("rules", i, "actions", j),
                (subject.name,),
                f"{rule_name(priced, i)} uses {action.type}, which changes no item price and "
                "outside a discount code does nothing for the customer, yet as a "
                f"{rule.type} rule it can still win its layer over a real discount.",
            )
        elif action.type == "CHARM_PRICE" and j > 0:
            before = pricing.Rule(type=rule.type, actions=rule.actions[:j])
            prices = shop.prices(before)
            low = [(s, p) for s, p in zip(SAMPLE_PRICES, prices, strict=True) if 0 <= p < 100]
            if low:
                sample, price = low[0]
                yield findings.Finding(
                    "charm-under-100",
                    "warning",
                    *subject.at("rules", i, "actions", j),
                    (subject.name,),
                    f"{rule_name(priced, i)} charms a price already under 1.00 (a "
                    f"{money(sample)} item is at {money(price)} when CHARM_PRICE runs), and "
                    "Bold leaves such a price as it is: customers see no charm price.",
                )
