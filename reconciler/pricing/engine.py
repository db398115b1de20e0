"""The evaluator (pricing-engine.md §2-§5): rulesets and a cart in, each line's price and why out.

``Engine`` indexes the rulesets once, compiles each (``rules``) when a line first needs it, and
prices any number of carts against them. For each line: the candidate rulesets (live at the
instant, picked by their selection, not yet applied), then layers 0-3 in order, each from the
price the previous left: the rule-priority filter (layers 0, 1, 3), then either the competitive
choice (0, 2: per app and ruleset priority the lowest price, inside one app the lowest ruleset
priority, across apps the lowest price) or stacking by ``stack_order`` (1, 3). Layer 4 then
takes cart-level discounts off the subtotal. No I/O; every [I] choice is a constant of
``assumptions``, the broadest two being ``ASSUME_SERVER_IS_STOREFRONT_ENGINE`` and
``ASSUME_NO_CURRENCY_CONVERSION`` (prices in, prices out, in the shop's currency).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

from reconciler.pricing import (
    actions,
    assumptions,
    carts,
    conditions,
    inputs,
    reading,
    results,
    rules,
    selection,
)

#: Layers decided by the competitive choice; the others stack.
COMPETITIVE = frozenset({0, 2})
#: Layers without the rule-priority filter.
NO_PRIORITY_FILTER = frozenset({2, 4})


#: A rule whose conditions held, with the price its actions give:
#: (price, the rule, the limited units it would take, the actions left to checkout).
_Candidate = tuple[
    int, rules.Compiled, Sequence[tuple[actions.LimitKey, int]], tuple[inputs.Action, ...]
]


def _window(ruleset: inputs.Ruleset) -> tuple[float, float] | None:
    """When a dated ruleset prices, as POSIX instants; None when it has no dates."""
    if ruleset.start_date is None and ruleset.expiry_date is None:
        return None
    start = ruleset.start_date.timestamp() if ruleset.start_date else -math.inf
    expiry = ruleset.expiry_date.timestamp() if ruleset.expiry_date else math.inf
    return (start, expiry)


def _live(window: tuple[float, float], at: float) -> bool:
    """§2.1: ``at`` within [start, expiry)."""
    start, expiry = window
    inclusive = assumptions.ASSUME_START_INCLUSIVE
    started = start <= at if inclusive else start < at
    if assumptions.ASSUME_EXPIRY_EXCLUSIVE:
        return started and at < expiry
    return started and at <= expiry  # pragma: no cover


def _compete(
    contenders: Sequence[rules.Compiled],
    price: int,
    unit: actions.Unit,
    where: conditions.Situation,
    used: Mapping[actions.LimitKey, int],
) -> _Candidate | None:
    """The competitive choice (§3) among ``contenders`` applied to copies of ``price``.

    Candidates are the rules whose conditions hold and whose price stays at 0 or above. Per
    app, the lowest ruleset priority wins, then in that group the lowest price: the least
    (ruleset priority, price, tie). Across apps, the lowest price: the least (price, tie).
    Ties go by ``tie`` (assumptions.ASSUME_TIES_BY_PRIORITY_ID_ORDER). Written for speed: it
    runs for nearly every rule of every line.
    """
    best: dict[str, _Candidate] = {}
    for rule in contenders:
        for test in rule.tests:
            if not test(where, rule.position):
                break
        else:
            new, taken, deferred = rule.apply(price, unit, used)
            if new < 0:  # §3: a candidate below 0 is dropped
                continue
            held = best.get(rule.app)
            if held is not None:
                other = held[1]
                if rule.ruleset_priority > other.ruleset_priority:
                    continue
                if rule.ruleset_priority == other.ruleset_priority and (
                    new > held[0] or (new == held[0] and rule.tie > other.tie)
                ):
                    continue
            best[rule.app] = (new, rule, taken, deferred)
    if len(best) <= 1:
        return next(iter(best.values()), None)
    return min(best.values(), key=lambda c: (c[0], c[1].tie))


class Engine:
    """Prices carts against a fixed list of rulesets (any apps') and the shop's order conditions."""

    def __init__(
        self,
        rulesets: Iterable[inputs.Ruleset],
        order_conditions: Iterable[inputs.OrderCondition] = (),
        *,
        reuse: Engine | None = None,
    ) -> None:
        """Index ``rulesets``; each is compiled when a line first finds it a candidate.

        ``reuse``: an engine over mostly the same rulesets (the live side of a plan, when this
        one is the planned side) whose compiled rulesets are taken over where the very same
        ``Ruleset`` object sits at the same position.
        """
        self.rulesets: tuple[inputs.Ruleset, ...] = tuple(rulesets)
        self.order_conditions: tuple[inputs.OrderCondition, ...] = tuple(order_conditions)
        self._shared: rules.Shared = reuse._shared if reuse is not None else rules.Shared()
        self._reuse = reuse
        self._compiled: list[rules.CompiledRuleset | None] = [None] * len(self.rulesets)
        self._windows = [_window(rs) for rs in self.rulesets]
        # An inactive ruleset is never a candidate (§2.1): it stays out of the index.
        self._index = selection.SelectionIndex(
            [rs.product_selection if rs.active else None for rs in self.rulesets]
        )

    def _ruleset(self, position: int) -> rules.CompiledRuleset:
        """The ruleset at ``position``, compiled (once, and shared with ``reuse`` if the same)."""
        compiled = self._compiled[position]
        if compiled is None:
            ruleset = self.rulesets[position]
            other = self._reuse
            if (
                other is not None
                and position < len(other.rulesets)
                and other.rulesets[position] is ruleset
            ):
                compiled = other._ruleset(position)
            else:
                compiled = rules.compile_ruleset(position, ruleset, self._shared)
            self._compiled[position] = compiled
        return compiled

    def never_prices(self) -> list[tuple[results.RuleRef, str]]:
        """Every rule the engine refuses, with the reason (for lint and previews)."""
        found = []
        for ruleset in self.rulesets:
            for rule in ruleset.rules:
                reason = rules.why_never_prices(rule)
                if reason is not None:
                    ref = results.RuleRef(
                        ruleset.app,
                        ruleset.external_id,
                        rule.external_id,
                        rule.type,
                        ruleset.public_name,
                        ruleset.id,
                        rule.id,
                    )
                    found.append((ref, reason))
        return found

    def candidates(self, item: carts.LineItem, at: dt.datetime) -> list[inputs.Ruleset]:
        """The rulesets live at ``at`` whose selection picks ``item`` (§2.1-2), in list order."""
        return [self.rulesets[p] for p in self._candidates(item, at.timestamp())]

    def _candidates(self, item: carts.LineItem, moment: float) -> list[int]:
        windows = self._windows
        return [
            p
            for p in self._index.candidates(item)
            if (window := windows[p]) is None or _live(window, moment)
        ]

    def price(
        self,
        cart: carts.Cart,
        *,
        at: dt.datetime | None = None,
        cart_context: bool = True,
    ) -> results.CartPrice:
        """Price ``cart`` at ``cart.at`` if it names an instant, else at ``at``.

        ``cart_context=False`` prices the items as a single-product price call does (§4: the
        "cart context only" conditions are false, and no cart-level discount applies).
        """
        instant = cart.at or at
        if instant is None:
            raise reading.PricingInputError(
                f"{f'cart {cart.name}' if cart.name else 'cart'}: no instant to price at "
                "(give the cart an `at`)"
            )
        when = reading.parse_instant(instant)
        assert when is not None
        moment = when.timestamp()
        items = cart.items
        customer = cart.customer
        order_map = conditions.order_condition_map(self.order_conditions, customer.shipping)
        code = cart.discount_code.lower() if cart.discount_code else None

        # assumptions.ASSUME_MISSING_IDS_FALL_BACK
        units: list[actions.Unit] = []
        variant_qty: dict[str, int] = {}
        product_qty: dict[str, int] = {}
        for i, item in enumerate(items):
            variant = item.variant_id or (f"sku:{item.sku}" if item.sku else f"line:{i}")
            product = item.product_id or f"variant:{variant}"
            units.append(actions.Unit(i, item.quantity, variant, product))
            variant_qty[variant] = variant_qty.get(variant, 0) + item.quantity
            product_qty[product] = product_qty.get(product, 0) + item.quantity

        candidates = [self._candidates(item, moment) for item in items]
        candidate_sets: list[frozenset[int]] = []
        mix: dict[int, int] = {}

        def mix_and_match(position: int) -> int:
            if position not in mix:
                if not candidate_sets:
                    candidate_sets.extend(frozenset(c) for c in candidates)
                mix[position] = sum(
                    item.quantity
                    for item, found in zip(items, candidate_sets, strict=True)
                    if position in found
                )
            return mix[position]

        used: dict[actions.LimitKey, int] = {}
        situations: list[conditions.Situation] = []
        lines: list[results.LinePrice] = []
        for i, item in enumerate(items):
            unit = units[i]
            where = conditions.Situation(
                line=item,
                cart_context=cart_context,
                tags=customer.tags,
                province=customer.province,
                discount_code=code,
                order_conditions=order_map,
                variant_quantity=variant_qty[unit.variant_key],
                product_quantity=product_qty[unit.product_key],
                mix_and_match=mix_and_match,
            )
            situations.append(where)
            lines.append(self._price_line(i, item, unit, candidates[i], where, used))

        subtotal = sum(line.line_total for line in lines)
        cart_steps: tuple[results.Step, ...] = ()
        if cart_context:
            cart_steps = self._cart_level(subtotal, candidates, situations)
        return results.CartPrice(tuple(lines), subtotal, cart_steps, cart.name)

    def _price_line(
        self,
        index: int,
        item: carts.LineItem,
        unit: actions.Unit,
        candidates: Sequence[int],
        where: conditions.Situation,
        used: dict[actions.LimitKey, int],
    ) -> results.LinePrice:
        by_layer: list[list[rules.Compiled]] = [[], [], [], []]
        discounts = by_layer[2]
        compiled = self._compiled
        for position in candidates:
            entry = compiled[position] or self._ruleset(position)
            discounts.extend(entry.discounts)
            for rule in entry.others:
                by_layer[rule.layer].append(rule)
        price = item.price
        applied: set[int] = set()
        steps: list[results.Step] = []
        for layer, layer_rules in enumerate(by_layer):
            if not layer_rules:
                continue
            # §2.3, assumptions.ASSUME_APPLIED_CHECKED_PER_LAYER
            contenders = (
                [r for r in layer_rules if r.position not in applied] if applied else layer_rules
            )
            if layer not in NO_PRIORITY_FILTER and contenders:
                # §3: before conditions: a failing priority-0 rule still shuts out priority 1.
                top = min(r.priority for r in contenders)
                contenders = [r for r in contenders if r.priority == top]
            if layer in COMPETITIVE:
                best = _compete(contenders, price, unit, where, used)
                if best is None:
                    continue
                steps.append(_step(best, price))
                price = best[0]
                applied.add(best[1].position)
                _commit(used, best[2])
            else:
                newly: list[int] = []
                # Stable sort: equal stack orders keep ruleset then rule order (§8).
                stacking = sorted(contenders, key=_stack_order)
                for rule in stacking:
                    if rule.tests and not rule.holds(where):
                        continue
                    new, taken, deferred = rule.apply(price, unit, used)
                    if new < 0:  # assumptions.ASSUME_STACKED_BELOW_ZERO_SKIPPED
                        continue
                    steps.append(_step((new, rule, taken, deferred), price))
                    price = new
                    newly.append(rule.position)
                    _commit(used, taken)
                applied.update(newly)
        return results.LinePrice(index, item, price, tuple(steps))

    def _cart_level(
        self,
        subtotal: int,
        candidates: Sequence[Sequence[int]],
        situations: Sequence[conditions.Situation],
    ) -> tuple[results.Step, ...]:
        """Layer 4 (§3, §5): ``CART_LEVEL_DISCOUNT`` rules stacked on the subtotal, once per cart
        (assumptions.ASSUME_CART_LEVEL_ONCE_PER_CART)."""
        compiled = self._compiled
        lines_of: dict[int, list[int]] = {}
        for line, found in enumerate(candidates):
            for position in found:
                if (compiled[position] or self._ruleset(position)).cart_rules:
                    lines_of.setdefault(position, []).append(line)
        if not lines_of:
            return ()
        held: list[rules.Compiled] = []
        for position in sorted(lines_of):
            for rule in self._ruleset(position).cart_rules:
                if any(rule.holds(situations[line]) for line in lines_of[position]):
                    held.append(rule)
        total = subtotal
        steps: list[results.Step] = []
        for rule in sorted(held, key=_stack_order):
            before = total
            deferred = []
            for action in rule.rule.actions:
                if action.type in actions.CART_LEVEL:
                    total = actions.apply_to_subtotal(action, total)
                elif action.type in actions.AT_CHECKOUT:
                    deferred.append(action)
            steps.append(
                results.Step(4, rule.source(), before, total, rule.assumed, tuple(deferred))
            )
        return tuple(steps)


def _step(chosen: _Candidate, before: int) -> results.Step:
    price, rule, _, deferred = chosen
    return results.Step(
        layer=rule.layer,
        source=rule.source(),
        before=before,
        after=price,
        assumed=rule.assumed,
        at_checkout=deferred,
        discount_code=rule.discount_code,
    )


def _stack_order(rule: rules.Compiled) -> float:
    return rule.stack_order


def _commit(
    used: dict[actions.LimitKey, int], taken: Sequence[tuple[actions.LimitKey, int]]
) -> None:
    for key, n in taken:
        used[key] = used.get(key, 0) + n
