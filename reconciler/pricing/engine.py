"""The evaluator (pricing-engine.md §2-§5): rulesets and a cart in, each line's price and why out.

``Engine`` compiles the rulesets once (layers, ties, dates, the selection index) and prices any
number of carts against them. For each line: the candidate rulesets (live at the instant, picked
by their selection, not yet applied), then layers 0-3 in order, each from the price the previous
left: the rule-priority filter (layers 0, 1, 3), then either the competitive choice (0, 2: per
app and ruleset priority the lowest price, inside one app the lowest ruleset priority, across apps
the lowest price) or stacking by ``stack_order`` (1, 3). Layer 4 then takes cart-level discounts
off the subtotal. No I/O; every [I] choice is a constant of ``assumptions``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.pricing import actions, assumptions, conditions, inputs, results, selection

#: Each rule type's layer (§3). Other types (condition names used as rule types) never price.
LAYERS: dict[str, int] = {
    "BASE_PRICE": 0,
    "DISCOUNTABLE_ADDITION": 1,
    "DISCOUNT": 2,
    "DISCOUNT_CODE": 2,
    "ADDITION": 3,
    "STACKABLE_DISCOUNT": 3,
    "ROUNDING": 3,
    "DISPLAY": 3,
    "SETTING": 3,
    "CART_LEVEL_DISCOUNT": 4,
}
#: Layers decided by the competitive choice; the others stack.
COMPETITIVE = frozenset({0, 2})
#: Layers without the rule-priority filter.
NO_PRIORITY_FILTER = frozenset({2, 4})
#: Rule types the engine refuses when they carry a ``stack_order`` (§3).
NO_STACK_ORDER = frozenset({"DISCOUNT", "DISCOUNT_CODE"})


def why_never_prices(rule: inputs.Rule) -> str | None:
    """Why the engine refuses ``rule`` (§3), or None when it can price."""
    if rule.type not in LAYERS:
        return (
            f"rule type {rule.type} is not one the engine prices with "
            "(a condition name as a rule type never prices: use a DISCOUNT rule with the condition)"
        )
    # assumptions.ASSUME_ZERO_STACK_ORDER_IS_ABSENT: the API fills stack_order 0 on every rule.
    if rule.type in NO_STACK_ORDER and rule.stack_order not in (None, 0):
        return f"a {rule.type} rule must not carry stack_order (not a field of a Discount)"
    return None


@dataclass(slots=True)
class _Rule:
    """A rule ready to price: where it sits and everything the choice compares."""

    position: int  # its ruleset's position in the engine's list
    layer: int
    priority: float
    stack_order: float
    app: str
    ruleset_priority: float
    tie: tuple[float, bool, int, int, int]
    rule: inputs.Rule
    ref: results.RuleRef
    discount_code: str | None


@dataclass(slots=True)
class _Ruleset:
    active: bool
    start: float
    expiry: float
    line_rules: list[_Rule]  # layers 0-3, in rule order
    cart_rules: list[_Rule]  # layer 4


@dataclass(slots=True)
class _Candidate:
    rule: _Rule
    price: int
    taken: list[tuple[actions.LimitKey, int]]
    assumed: tuple[inputs.Condition, ...]
    deferred: list[inputs.Action]


def _code_of(rule: inputs.Rule) -> str | None:
    if rule.type != "DISCOUNT_CODE":
        return None
    for condition in rule.conditions:
        if condition.type == "DISCOUNT_CODE" and condition.value is not None:
            return str(condition.value)
    return None


def _compile(position: int, ruleset: inputs.Ruleset) -> _Ruleset:
    # assumptions.ASSUME_TIES_BY_PRIORITY_ID_ORDER: rulesets without an id after those with one.
    tie_head = (float(ruleset.priority), ruleset.id is None, ruleset.id or 0, position)
    line_rules: list[_Rule] = []
    cart_rules: list[_Rule] = []
    for index, rule in enumerate(ruleset.rules):
        if why_never_prices(rule) is not None:
            continue
        layer = LAYERS[rule.type]
        compiled = _Rule(
            position=position,
            layer=layer,
            priority=float(rule.priority),
            # assumptions.ASSUME_MISSING_STACK_ORDER_IS_ZERO
            stack_order=float(rule.stack_order or 0),
            app=ruleset.app,
            ruleset_priority=float(ruleset.priority),
            tie=(*tie_head, index),
            rule=rule,
            ref=results.RuleRef(
                app=ruleset.app,
                ruleset=ruleset.external_id,
                rule=rule.external_id,
                type=rule.type,
                public_name=ruleset.public_name,
                ruleset_id=ruleset.id,
                rule_id=rule.id,
            ),
            discount_code=_code_of(rule),
        )
        (cart_rules if layer == 4 else line_rules).append(compiled)
    return _Ruleset(
        active=ruleset.active,
        start=ruleset.start_date.timestamp() if ruleset.start_date else -math.inf,
        expiry=ruleset.expiry_date.timestamp() if ruleset.expiry_date else math.inf,
        line_rules=line_rules,
        cart_rules=cart_rules,
    )


def _live(ruleset: _Ruleset, at: float) -> bool:
    """§2.1: active, and ``at`` within [start, expiry)."""
    if not ruleset.active:
        return False
    inclusive = assumptions.ASSUME_START_INCLUSIVE
    started = ruleset.start <= at if inclusive else ruleset.start < at
    if assumptions.ASSUME_EXPIRY_EXCLUSIVE:
        return started and at < ruleset.expiry
    return started and at <= ruleset.expiry  # pragma: no cover


def _check(rule: _Rule, where: conditions.Situation) -> tuple[inputs.Condition, ...] | None:
    """None when a condition fails; else the conditions assumed met (all must hold, §4)."""
    assumed: list[inputs.Condition] = []
    for condition in rule.rule.conditions:
        verdict = conditions.judge(condition, where, rule.position)
        if verdict == conditions.FAILS:
            return None
        if verdict == conditions.ASSUMED:
            assumed.append(condition)
    return tuple(assumed)


def _choose(candidates: list[_Candidate]) -> _Candidate:
    """The competitive choice (§3): per (app, ruleset priority) the lowest price; per app the
    lowest ruleset priority; across apps the lowest price. Ties: the first by ``tie``."""
    groups: dict[tuple[str, float], _Candidate] = {}
    for c in candidates:
        key = (c.rule.app, c.rule.ruleset_priority)
        best = groups.get(key)
        if best is None or (c.price, c.rule.tie) < (best.price, best.rule.tie):
            groups[key] = c
    per_app: dict[str, _Candidate] = {}
    for (app, priority), c in groups.items():
        best = per_app.get(app)
        if best is None or priority < best.rule.ruleset_priority:
            per_app[app] = c
    return min(per_app.values(), key=lambda c: (c.price, c.rule.tie))


class Engine:
    """Prices carts against a fixed list of rulesets (any apps') and the shop's order conditions."""

    def __init__(
        self,
        rulesets: Iterable[inputs.Ruleset],
        order_conditions: Iterable[inputs.OrderCondition] = (),
    ) -> None:
        self.rulesets: tuple[inputs.Ruleset, ...] = tuple(rulesets)
        self.order_conditions: tuple[inputs.OrderCondition, ...] = tuple(order_conditions)
        self._compiled = [_compile(p, rs) for p, rs in enumerate(self.rulesets)]
        self._index = selection.SelectionIndex([rs.product_selection for rs in self.rulesets])

    def never_prices(self) -> list[tuple[results.RuleRef, str]]:
        """Every rule the engine refuses, with the reason (for lint and previews)."""
        found = []
        for ruleset in self.rulesets:
            for rule in ruleset.rules:
                reason = why_never_prices(rule)
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

    def price(
        self,
        cart: inputs.Cart,
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
            raise inputs.PricingInputError(
                f"{f'cart {cart.name}' if cart.name else 'cart'}: no instant to price at "
                "(give the cart an `at`)"
            )
        when = inputs.parse_instant(instant)
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

        compiled = self._compiled
        candidates = [
            [p for p in self._index.candidates(item) if _live(compiled[p], moment)]
            for item in items
        ]
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
        item: inputs.LineItem,
        unit: actions.Unit,
        candidates: Sequence[int],
        where: conditions.Situation,
        used: dict[actions.LimitKey, int],
    ) -> results.LinePrice:
        by_layer: list[list[_Rule]] = [[], [], [], []]
        compiled = self._compiled
        for position in candidates:
            for rule in compiled[position].line_rules:
                by_layer[rule.layer].append(rule)
        price = item.price
        applied: set[int] = set()
        steps: list[results.Step] = []
        for layer, layer_rules in enumerate(by_layer):
            # §2.3, assumptions.ASSUME_APPLIED_CHECKED_PER_LAYER
            rules = [r for r in layer_rules if r.position not in applied]
            if not rules:
                continue
            if layer not in NO_PRIORITY_FILTER:
                # §3: before conditions: a failing priority-0 rule still shuts out priority 1.
                top = min(r.priority for r in rules)
                rules = [r for r in rules if r.priority == top]
            if layer in COMPETITIVE:
                found: list[_Candidate] = []
                for rule in rules:
                    assumed = _check(rule, where)
                    if assumed is None:
                        continue
                    new, taken, deferred = actions.apply(rule.rule, rule.tie, price, unit, used)
                    if new >= 0:  # §3: a candidate below 0 is dropped
                        found.append(_Candidate(rule, new, taken, assumed, deferred))
                if not found:
                    continue
                best = _choose(found)
                steps.append(self._step(best, price))
                price = best.price
                applied.add(best.rule.position)
                _commit(used, best.taken)
            else:
                newly: set[int] = set()
                # Stable sort: equal stack orders keep ruleset then rule order (§8).
                for rule in sorted(rules, key=_stack_order):
                    assumed = _check(rule, where)
                    if assumed is None:
                        continue
                    new, taken, deferred = actions.apply(rule.rule, rule.tie, price, unit, used)
                    if new < 0:  # assumptions.ASSUME_STACKED_BELOW_ZERO_SKIPPED
                        continue
                    steps.append(self._step(_Candidate(rule, new, taken, assumed, deferred), price))
                    price = new
                    newly.add(rule.position)
                    _commit(used, taken)
                applied |= newly
        return results.LinePrice(index, item, price, tuple(steps))

    @staticmethod
    def _step(chosen: _Candidate, before: int) -> results.Step:
        return results.Step(
            layer=chosen.rule.layer,
            source=chosen.rule.ref,
            before=before,
            after=chosen.price,
            assumed=chosen.assumed,
            at_checkout=tuple(chosen.deferred),
            discount_code=chosen.rule.discount_code,
        )

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
                if compiled[position].cart_rules:
                    lines_of.setdefault(position, []).append(line)
        if not lines_of:
            return ()
        held: list[tuple[_Rule, tuple[inputs.Condition, ...]]] = []
        for position in sorted(lines_of):
            for rule in compiled[position].cart_rules:
                for line in lines_of[position]:
                    assumed = _check(rule, situations[line])
                    if assumed is not None:
                        held.append((rule, assumed))
                        break
        total = subtotal
        steps: list[results.Step] = []
        for rule, assumed in sorted(held, key=lambda pair: pair[0].stack_order):
            before = total
            deferred = []
            for action in rule.rule.actions:
                if action.type in actions.CART_LEVEL:
                    total = actions.apply_to_subtotal(action, total)
                elif action.type in actions.AT_CHECKOUT:
                    deferred.append(action)
            steps.append(results.Step(4, rule.ref, before, total, assumed, tuple(deferred)))
        return tuple(steps)


def _stack_order(rule: _Rule) -> float:
    return rule.stack_order


def _commit(used: dict[actions.LimitKey, int], taken: list[tuple[actions.LimitKey, int]]) -> None:
    for key, n in taken:
        used[key] = used.get(key, 0) + n
