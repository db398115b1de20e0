"""Conditions (pricing-engine.md §4): does one condition hold for one line of one cart?

``judge`` answers ``HOLDS``, ``FAILS`` or ``ASSUMED`` (a condition only checkout can judge,
which the storefront engine takes as met and a preview must list). ``Situation`` carries what
conditions look at beyond the line: the customer, the discount code, the order-condition map and
the cart's quantity totals. ``order_condition_map`` builds that map from the shop's order
conditions and the shipping address.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from reconciler.pricing import inputs

HOLDS: Final = 1
FAILS: Final = 0
ASSUMED: Final = 2

#: Conditions the storefront engine takes as met because checkout evaluates them (§4).
CHECKOUT_ONLY = frozenset(
    {"CART_SUBTOTAL_MIN", "QTY_ON_CART", "CUSTOMER_COUNTRY", "SHIPPING_RATE_RANGE", "CURRENCY"}
)
#: Conditions false on a single-product price call, judged in a cart (§4 "cart context only").
CART_CONTEXT_ONLY = frozenset(
    {"QTY_BY_LINE", "QTY_BY_PRODUCT", "QTY_BY_MIX_AND_MATCH", "DISCOUNT_CODE"}
)
#: Every condition type the evaluator judges (anything else fails:
#: ``assumptions.ASSUME_UNKNOWN_CONDITION_FAILS``).
KNOWN = (
    CHECKOUT_ONLY
    | CART_CONTEXT_ONLY
    | {
        "CUSTOMER_GROUP",
        "CUSTOMER_IN_ANY_GROUP_FROM_LIST",
        "CUSTOMER_PROVINCE",
        "QTY_BY_VARIANT",
        "LINE_ITEM_PROPERTY",
        "ORDER_CONDITION",
    }
)

OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def compare(left: object, op: str, right: object) -> bool:
    """``left op right``: numbers as numbers (§4); otherwise strings, for ``=``/``!=`` only
    (``assumptions.ASSUME_NON_NUMERIC_ORDERING_FALSE``)."""
    test = OPERATORS.get(op)
    if test is None:
        return False
    a, b = _as_number(left), _as_number(right)
    if a is not None and b is not None:
        return test(a, b)
    if op in ("=", "!="):
        return test(str(left), str(right))
    return False


def _membership(member: bool, op: str) -> int:
    # assumptions.ASSUME_MEMBERSHIP_OPERATORS_EQ_NE
    if op == "=":
        return HOLDS if member else FAILS
    if op == "!=":
        return FAILS if member else HOLDS
    return FAILS


def order_condition_map(
    conditions: Iterable[inputs.OrderCondition], shipping: inputs.Shipping
) -> dict[str, str]:
    """Name → value of the order conditions the address satisfies (§4 ``ORDER_CONDITION``).

    A (name, value) holds when every field of at least one field set equals the address's
    (exact strings); the first value of a name that holds wins it
    (``assumptions.ASSUME_ORDER_CONDITION_FIRST_MATCH``).
    """
    found: dict[str, str] = {}
    for condition in conditions:
        if condition.name in found:
            continue
        for field_set in condition.field_sets:
            if field_set and all(shipping.field(k) == v for k, v in field_set.items()):
                found[condition.name] = condition.value
                break
    return found


@dataclass(slots=True)
class Situation:
    """Everything beyond a rule that its conditions may read, for one line of one cart."""

    line: inputs.LineItem
    cart_context: bool
    tags: frozenset[str]
    province: str | None
    discount_code: str | None  # lower-cased
    order_conditions: Mapping[str, str]
    variant_quantity: int
    product_quantity: int
    mix_and_match: Callable[[int], int]  # ruleset position → quantity its selection matches


def judge(condition: inputs.Condition, where: Situation, ruleset: int) -> int:
    """``HOLDS``, ``FAILS`` or ``ASSUMED`` for ``condition`` of a rule of ruleset ``ruleset``."""
    kind = condition.type
    op = condition.operator
    value = condition.value
    if kind in CHECKOUT_ONLY:
        return ASSUMED
    if kind in CART_CONTEXT_ONLY and not where.cart_context:
        return FAILS
    if kind == "CUSTOMER_GROUP":
        if value is None:
            member = not where.tags
        else:
            # assumptions.ASSUME_TAGS_CASE_SENSITIVE
            member = str(value) == "default" or str(value) in where.tags
        return _membership(member, op)
    if kind == "CUSTOMER_IN_ANY_GROUP_FROM_LIST":
        wanted: Iterable[str] = condition.list
        if not condition.list and isinstance(value, str):
            wanted = (part.strip() for part in value.split(","))
        return _membership(not where.tags.isdisjoint(wanted), op)
    if kind == "DISCOUNT_CODE":
        code = where.discount_code
        member = code is not None and value is not None and code == str(value).lower()
        return _membership(member, op)
    # From here on, a comparison of one fact; an absent fact fails
    # (assumptions.ASSUME_ABSENT_FACT_FAILS).
    fact: object
    if kind == "QTY_BY_LINE":
        fact = where.line.quantity
    elif kind == "QTY_BY_VARIANT":
        fact = where.variant_quantity
    elif kind == "QTY_BY_PRODUCT":
        fact = where.product_quantity
    elif kind == "QTY_BY_MIX_AND_MATCH":
        # assumptions.ASSUME_MIX_AND_MATCH_LABEL_UNUSED
        fact = where.mix_and_match(ruleset)
    elif kind == "CUSTOMER_PROVINCE":
        fact = where.province
    elif kind == "LINE_ITEM_PROPERTY":
        fact = where.line.properties.get(condition.name) if condition.name is not None else None
    elif kind == "ORDER_CONDITION":
        fact = where.order_conditions.get(condition.name) if condition.name is not None else None
    else:
        return FAILS  # assumptions.ASSUME_UNKNOWN_CONDITION_FAILS
    if fact is None or value is None:
        return FAILS
    return HOLDS if compare(fact, op, value) else FAILS
