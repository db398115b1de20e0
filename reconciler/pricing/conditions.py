"""Conditions (pricing-engine.md §4): does one condition hold for one line of one cart?

``compile_test`` turns a condition into a fast test, decided once per rule when an engine is
built; it answers None for a condition only checkout can judge (``CHECKOUT_ONLY``), which the
storefront engine takes as met and a preview must list as assumed. ``Situation`` carries what
conditions look at beyond the rule: the line, the customer, the discount code, the
order-condition map and the cart's quantity totals. ``order_condition_map`` builds that map from
the shop's order conditions and the shipping address.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.pricing import carts, inputs

#: Conditions the storefront engine takes as met because checkout evaluates them (§4).
CHECKOUT_ONLY = frozenset(
    {"CART_SUBTOTAL_MIN", "QTY_ON_CART", "CUSTOMER_COUNTRY", "SHIPPING_RATE_RANGE", "CURRENCY"}
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


def order_condition_map(
    conditions: Iterable[inputs.OrderCondition], shipping: carts.Shipping
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

    line: carts.LineItem
    cart_context: bool
    tags: frozenset[str]
    province: str | None
    discount_code: str | None  # lower-cased
    order_conditions: Mapping[str, str]
    variant_quantity: int
    product_quantity: int
    mix_and_match: Callable[[int], int]  # ruleset position → quantity its selection matches


#: A compiled condition: does it hold for this line (``Situation``) and ruleset position?
Test = Callable[[Situation, int], bool]


def _never(where: Situation, ruleset: int) -> bool:
    return False


def _comparator(op: str, value: object) -> Callable[[object], bool]:
    """``fact op value`` as a one-argument test, with ``compare``'s rules, decided up front."""
    test = OPERATORS.get(op)
    if test is None or value is None:
        return lambda fact: False
    number = _as_number(value)
    text = str(value)

    def check(fact: object) -> bool:
        if fact is None:  # assumptions.ASSUME_ABSENT_FACT_FAILS
            return False
        if number is not None:
            kind = type(fact)
            if kind is int or kind is float:
                return test(fact, number)
            as_number = _as_number(fact)
            if as_number is not None:
                return test(as_number, number)
        if op == "=":
            return str(fact) == text
        if op == "!=":
            return str(fact) != text
        return False  # assumptions.ASSUME_NON_NUMERIC_ORDERING_FALSE

    return check


def compile_test(condition: inputs.Condition) -> Test | None:
    """``condition`` as a fast test; None for a checkout-only one (always met, and assumed)."""
    kind = condition.type
    op = condition.operator
    value = condition.value
    if kind in CHECKOUT_ONLY:
        return None
    if kind == "CUSTOMER_GROUP":
        if value is None:
            return _membership(lambda w, r: not w.tags, op)
        if str(value) == "default":
            return _membership(lambda w, r: True, op)
        tag = str(value)  # assumptions.ASSUME_TAGS_CASE_SENSITIVE
        return _membership(lambda w, r: tag in w.tags, op)
    if kind == "CUSTOMER_IN_ANY_GROUP_FROM_LIST":
        wanted = frozenset(condition.list)
        if not wanted and isinstance(value, str):
            wanted = frozenset(part.strip() for part in value.split(","))
        return _membership(lambda w, r: not w.tags.isdisjoint(wanted), op)
    if kind == "DISCOUNT_CODE":
        code = None if value is None else str(value).lower()
        member = _membership(lambda w, r: code is not None and w.discount_code == code, op)
        # cart context only: false on a single-product call, whatever the operator
        return lambda w, r: w.cart_context and member(w, r)
    name = condition.name
    number = _as_number(value)
    test = OPERATORS.get(op)
    if kind in _QUANTITIES and test is not None and number is not None:
        # The short path of the hottest tests: a quantity (always an int) against a number.
        if kind == "QTY_BY_VARIANT":
            return lambda w, r: test(w.variant_quantity, number)
        if kind == "QTY_BY_LINE":
            return lambda w, r: w.cart_context and test(w.line.quantity, number)
        if kind == "QTY_BY_PRODUCT":
            return lambda w, r: w.cart_context and test(w.product_quantity, number)
    check = _comparator(op, value)
    if kind == "QTY_BY_LINE":
        return lambda w, r: w.cart_context and check(w.line.quantity)
    if kind == "QTY_BY_VARIANT":
        return lambda w, r: check(w.variant_quantity)
    if kind == "QTY_BY_PRODUCT":
        return lambda w, r: w.cart_context and check(w.product_quantity)
    if kind == "QTY_BY_MIX_AND_MATCH":
        # assumptions.ASSUME_MIX_AND_MATCH_LABEL_UNUSED
        return lambda w, r: w.cart_context and check(w.mix_and_match(r))
    if kind == "CUSTOMER_PROVINCE":
        return lambda w, r: check(w.province)
    if kind == "LINE_ITEM_PROPERTY" and name is not None:
        return lambda w, r: check(w.line.properties.get(name))
    if kind == "ORDER_CONDITION" and name is not None:
        return lambda w, r: check(w.order_conditions.get(name))
    return _never  # assumptions.ASSUME_UNKNOWN_CONDITION_FAILS


_QUANTITIES = frozenset({"QTY_BY_VARIANT", "QTY_BY_LINE", "QTY_BY_PRODUCT"})


def _membership(member: Test, op: str) -> Test:
    """A test of membership under ``=`` (as is) or ``!=`` (negated); any other operator fails
    (assumptions.ASSUME_MEMBERSHIP_OPERATORS_EQ_NE)."""
    if op == "=":
        return member
    if op == "!=":
        return lambda w, r: not member(w, r)
    return _never
