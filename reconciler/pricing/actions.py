"""Actions (pricing-engine.md §5): a rule's actions applied, in order, to one unit's price.

``compile_actions`` turns a rule's actions into one function giving the new unit price, the
limited units it would use up (committed by the engine only when the rule is applied) and the
actions left to checkout. ``apply_to_subtotal`` runs the
layer-4 cart-level discounts. Arithmetic is JavaScript's (``jsmath``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from reconciler.pricing import inputs, jsmath

#: Actions checkout applies; a preview lists them as "applied at checkout" (§5).
AT_CHECKOUT: Final = frozenset(
    {
        "FREE_SHIPPING",
        "SHIPPING_ADJUST_RELATIVE",
        "SHIPPING_ADJUST_PERCENT",
        "SHIPPING_ADJUST_ABSOLUTE",
        "CART_ADJUST_RELATIVE",
        "CART_ADJUST_PERCENT",
        "CART_ADJUST_ABSOLUTE",
    }
)
#: The layer-4 actions, which act on the cart subtotal, not on a unit price.
CART_LEVEL: Final = frozenset({"CART_LEVEL_DISCOUNT_RELATIVE", "CART_LEVEL_DISCOUNT_PERCENT"})
#: The price actions: percent, relative, absolute, and each with a limit (§5).
_ADJUST: Final = ("PRICE_ADJUST_PERCENT", "PRICE_ADJUST_RELATIVE", "PRICE_ADJUST_ABSOLUTE")
_LIMITED: Final = {f"{kind}_WITH_LIMIT": kind for kind in _ADJUST}

#: Where limited units are counted: (rule identity, action index, scope key).
LimitKey = tuple[object, int, tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Unit:
    """What an action may read of the line besides the running price."""

    index: int  # the line's position in the cart
    quantity: int
    variant_key: str
    product_key: str


def _adjust(kind: str, price: int, value: float) -> int:
    if kind == "PRICE_ADJUST_PERCENT":
        # price + Math.round(price * value / 100): 1005 at -10 → 1005 + round(-100.5) = 905
        return price + jsmath.js_round(price * value / 100)
    if kind == "PRICE_ADJUST_RELATIVE":
        return jsmath.whole(price + value)
    return jsmath.whole(value)  # PRICE_ADJUST_ABSOLUTE


def _scope_key(scope: str, unit: Unit) -> tuple[str, str]:
    if scope == "product":
        return ("product", unit.product_key)
    if scope == "lineitem":
        return ("lineitem", str(unit.index))
    return ("variant", unit.variant_key)


#: What a rule's actions give: the new unit price, the limited units they would use up, the
#: actions left to checkout.
Outcome = tuple[int, Sequence[tuple[LimitKey, int]], tuple[inputs.Action, ...]]
#: A rule's actions compiled: (running price, the line, units used so far) → ``Outcome``.
Apply = Callable[[int, Unit, Mapping[LimitKey, int]], Outcome]
_NOTHING: tuple[tuple[LimitKey, int], ...] = ()


def compile_actions(
    rule: inputs.Rule, rule_key: object, shared: dict[tuple[inputs.Action, ...], Apply]
) -> Apply:
    """``rule``'s actions as one function of the running unit price (§5, in list order).

    ``rule_key`` names the rule where limited units are counted. A rule of plain
    percent/relative/absolute adjustments (most rules) gets a short path; the rest the full one.
    Functions that count no limited units are the same for equal action lists: ``shared`` keeps
    them, so 10,000 rulesets of a few kinds of discount compile a few functions.
    """
    found = shared.get(rule.actions)
    if found is not None:
        return found
    deferred = tuple(a for a in rule.actions if a.type in AT_CHECKOUT)
    steps = [a for a in rule.actions if a.type not in AT_CHECKOUT]
    if not any(a.type in _LIMITED for a in steps):
        compiled = _compile(steps, None, deferred)
        shared[rule.actions] = compiled
        return compiled
    return _compile(steps, rule_key, deferred)


def _compile(
    steps: list[inputs.Action], rule_key: object, deferred: tuple[inputs.Action, ...]
) -> Apply:
    if all(a.type in _ADJUST for a in steps):
        adjust = [(a.type, a.value) for a in steps if a.value is not None]
        if len(adjust) == 1 and adjust[0][0] == "PRICE_ADJUST_PERCENT":
            percent = adjust[0][1]

            def one_percent(price: int, unit: Unit, used: Mapping[LimitKey, int]) -> Outcome:
                # price + Math.round(price × value / 100), jsmath.js_round inlined: most rules
                change = price * percent / 100
                floor = math.floor(change)
                return price + (floor + 1 if change - floor >= 0.5 else floor), _NOTHING, deferred

            return one_percent

        def adjustments(price: int, unit: Unit, used: Mapping[LimitKey, int]) -> Outcome:
            for kind, value in adjust:
                price = _adjust(kind, price, value)
            return price, _NOTHING, deferred

        return adjustments

    def general(price: int, unit: Unit, used: Mapping[LimitKey, int]) -> Outcome:
        return _apply(steps, rule_key, price, unit, used, deferred)

    return general


def _apply(
    steps: Sequence[inputs.Action],
    rule_key: object,
    price: int,
    unit: Unit,
    used: Mapping[LimitKey, int],
    deferred: tuple[inputs.Action, ...],
) -> Outcome:
    """Every price action in order; ``used`` counts the limited units earlier lines took."""
    taken: list[tuple[LimitKey, int]] = []
    quantity = unit.quantity
    for i, action in enumerate(steps):
        kind = action.type
        value = action.value
        if kind in _ADJUST:
            if value is not None:
                price = _adjust(kind, price, value)
        elif kind in _LIMITED:
            if value is None:
                continue
            adjusted = _adjust(_LIMITED[kind], price, value)
            # assumptions.ASSUME_LIMITS_PER_RULE_ACTION
            key: LimitKey = (rule_key, i, _scope_key(action.limit_scope, unit))
            if action.limit is None:
                n = quantity
            else:
                n = min(quantity, max(0, action.limit - used.get(key, 0)))
            taken.append((key, n))
            if n == quantity:
                price = adjusted
            elif n > 0:
                # 1000, absolute 500, limit 2, quantity 3: round((500×2 + 1000×1) / 3) = 667
                price = jsmath.js_round((adjusted * n + price * (quantity - n)) / quantity)
        elif kind == "CHARM_PRICE":
            if price >= 100:
                # 1234 with 99: 1200 + 99 = 1299
                price = jsmath.whole(price - price % 100 + (value or 0))
        elif kind == "CASE_PRICING":
            size = action.case_size
            # assumptions.ASSUME_CASE_SIZE_POSITIVE
            if size is not None and size > 0 and action.case_price is not None and quantity >= size:
                cases, rest = divmod(quantity, size)
                price = jsmath.js_round((cases * action.case_price + rest * price) / quantity)
        # else: CART_LEVEL_* (layer 4 only) or unknown: no effect on the unit price
        # (assumptions.ASSUME_UNKNOWN_ACTION_NO_EFFECT)
    return price, taken, deferred


def apply_to_subtotal(action: inputs.Action, subtotal: int) -> int:
    """A layer-4 action on the cart subtotal (§5); an ignored one leaves it unchanged."""
    if action.value is None:
        return subtotal
    amount = abs(action.value)
    if action.type == "CART_LEVEL_DISCOUNT_RELATIVE":
        result = jsmath.whole(subtotal - amount)
        return result if result > 0 else subtotal
    if action.type == "CART_LEVEL_DISCOUNT_PERCENT":
        if amount >= 100:
            return subtotal
        # subtotal − Math.round(subtotal × |value| / 100): 1005 at 10% → 1005 − 101 = 904
        return subtotal - jsmath.js_round(subtotal * amount / 100)
    return subtotal
