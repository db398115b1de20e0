"""The price guardrails (issue 14): the safety of prices, refused before apply unless ``--force``.

* on the carts, under the planned rules (``cart_violations``): a broken ``expect``, a line sold
  below its ``floor``, a line price moved by more than ``safety.max_price_change_percent``;
* on the changes alone (no carts needed, ``rule_violations``, called by
  ``safetyrules.evaluate_safety``): a percent or relative adjustment that took off and now adds (a
  ``DISCOUNT``/``DISCOUNT_CODE`` turned surcharge; any rule type but the additions), and an
  absolute price or relative amount changed by a factor of 10 or more (the ``1799 → 17`` typo).

Each refusal is one whole line naming the cart or object, what moved and the flag that overrides
it. It must not print or pick exit codes: the plan carries the refusals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from reconciler import carts, config, kinds, model, pricing
from reconciler.preview import differences, naming

#: Actions whose value is a signed adjustment: negative takes off, positive adds (§5).
SIGNED_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_PERCENT",
        "PRICE_ADJUST_RELATIVE",
        "PRICE_ADJUST_PERCENT_WITH_LIMIT",
        "PRICE_ADJUST_RELATIVE_WITH_LIMIT",
    }
)
#: Actions whose value is an amount of money: a change by ×10 is most likely a typo.
AMOUNT_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_ABSOLUTE",
        "PRICE_ADJUST_RELATIVE",
        "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT",
        "PRICE_ADJUST_RELATIVE_WITH_LIMIT",
    }
)
#: Rule types whose adjustments are surcharges by design: a sign change there is no flip.
ADDITION_TYPES = frozenset({"ADDITION", "DISCOUNTABLE_ADDITION"})
#: A change of an amount by this factor or more is refused (issue 14).
TYPO_FACTOR = 10

FLAG = "Re-run with --force if intended."


#: At most this many lines of a cart are named in a refusal.
NAMED_LINES = 5


def _priced_lines(priced: pricing.CartPrice) -> str:
    """``SKU-100 ×2 at 11.25 by [this app] sale > gold; …``: what set each line's price."""
    shown = [
        f"{naming.sku(line)} ×{line.item.quantity} at {carts.money(line.unit_price)} "
        f"by {naming.why(line)}"
        for line in priced.lines[:NAMED_LINES]
    ]
    more = len(priced.lines) - NAMED_LINES
    cart_level = [
        f"cart-level {s.source}: {carts.money(s.before - s.after)} off" for s in priced.cart_steps
    ]
    return "; ".join(shown + cart_level + ([f"{more} more lines"] if more > 0 else []))


def cart_violations(
    samples: Sequence[carts.SampleCart],
    planned: Sequence[pricing.CartPrice],
    changed: Sequence[differences.CartChange],
    *,
    safety: config.Safety,
) -> Iterator[str]:
    """The price guardrails on the carts, under the planned rules: each refusal, said whole."""
    for sample, priced in zip(samples, planned, strict=True):
        if sample.expect is not None:
            for failure in sample.expect.failures(priced.total, sample.list_total):
                yield (
                    f"Refusing: cart {sample.name} ({sample.origin}) breaks its expect under the "
                    f"planned rules: {failure} ({_priced_lines(priced)}). {FLAG}"
                )
        for line, floor in zip(priced.lines, sample.floors, strict=True):
            if floor is not None and line.unit_price < floor:
                yield (
                    f"Refusing: cart {sample.name} ({sample.origin}) would sell "
                    f"{naming.sku(line)} at {carts.money(line.unit_price)}, "
                    f"below its floor {carts.money(floor)} (by {naming.why(line)}). {FLAG}"
                )
    limit = safety.max_price_change_percent
    if limit is None:
        return
    for cart in changed:
        for moved in cart.lines:
            percent = moved.percent
            if percent is None or abs(percent) > limit:
                figure = "from 0.00" if percent is None else f"{percent:+.1f}%"
                yield (
                    f"Refusing: cart {cart.name} ({cart.origin}): {moved.sku} moves "
                    f"{carts.money(moved.before)} → {carts.money(moved.after)} ({figure}; limit "
                    f"{limit:g}% by safety.max_price_change_percent) by {moved.why_after}. "
                    f"{FLAG}"
                )


# --- guardrails on the changes alone ----------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _action_problems(
    where: str, rule_type: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[str]:
    kind = new.get("type")
    if kind != old.get("type"):
        return
    a, b = _number(old.get("value")), _number(new.get("value"))
    if a is None or b is None or a == b:
        return
    shown = f"{kind} {old.get('value')} → {new.get('value')}"
    if rule_type not in ADDITION_TYPES and kind in SIGNED_ACTIONS and a < 0 < b:
        unit = "%" if "PERCENT" in str(kind) else " cents"
        yield (
            f"Refusing {where}: {shown} turns a {rule_type} of {-a:g}{unit} off into a surcharge "
            f"of {b:g}{unit}: a sign typo charges customers more. {FLAG}"
        )
        return
    if kind in AMOUNT_ACTIONS and a != 0:
        small, large = sorted((abs(a), abs(b)))
        if small == 0 or large / small >= TYPO_FACTOR:
            factor = "to 0" if small == 0 else f"by a factor of {large / small:.0f}"
            yield (
                f"Refusing {where}: {shown} changes the amount {factor}: a typo like a missing "
                f"or extra digit? {FLAG}"
            )


def rule_violations(changes: Iterable[model.Change]) -> Iterator[str]:
    """Updates that flip a discount into a surcharge, or change an amount ×10 or more.

    Actions are compared by position within the same rule (by external id); an action whose
    type changed is a different action and is not compared.
    """
    for change in changes:
        if not isinstance(change, model.Update):
            continue
        name = change.key.describe()
        spec = kinds.by_name[change.key.kind]
        before = {p.path: p for p in spec.priced(change.live.body)}
        for part in spec.priced(change.desired.body):
            old = before.get(part.path)
            if old is None or not isinstance(old.part, Mapping) or old.part == part.part:
                continue
            for (where, now), (_, was) in zip(part.actions, old.actions, strict=False):
                yield from _action_problems(f"{name} > {where}", part.type, was, now)
