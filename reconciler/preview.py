"""The price preview: the project's sample carts priced under the live and the planned rules.

Owns building the two sides the evaluator (``reconciler.pricing``) prices with, from what a plan
already holds (the live state, its changes) and one read-only listing of every app's rulesets
(``include_all_apps``, never used to decide ownership or a delete: contract §7.4); pricing every
cart on both sides; what changed, for the plan to show; and the price guardrails (issue 14):

* on the carts, under the planned rules: a broken ``expect``, a line sold below its ``floor``,
  a line price moved by more than ``safety.max_price_change_percent``;
* on the changes alone (no carts needed, ``rule_violations``, called by
  ``safetyrules.evaluate_safety``): a percent or relative adjustment that took off and now adds (a
  ``DISCOUNT``/``DISCOUNT_CODE`` turned surcharge; any rule type but the additions), and an
  absolute price or relative amount changed by a factor of 10 or more (the ``1799 → 17`` typo).

Which app a ruleset belongs to decides the competitive choice (pricing-engine.md §3), and the
listing does not say. Assumption (named ``ASSUME_APPS_FROM_LISTINGS``): the rulesets this token's
own listing holds are one app (``OWN_APP``); the rulesets backing discount codes (their
``ruleset_id``, or rulesets of ``DISCOUNT_CODE`` rules on the shop's codes) are Bold's
discount-code app, priced from the codes themselves
(``pricing.Ruleset.from_discount_code``) so that planned code changes show; every other ruleset
of the all-apps listing belongs to one further app, ``OTHER_APPS``: inside it ruleset priority
beats price, as it does inside any one app. A shop with several other pricing apps may get a
lower price than the preview says (Bold would compare those apps by price);
``boldrules price --live --check`` shows where.

It must not print, pick exit codes or talk HTTP: the caller hands it the listing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler import carts, config, kinds, model, pricing, state, words

#: The app of this token's own rulesets, as the preview names it.
OWN_APP = "this app"
#: Every other app's rulesets but the discount-code app's (ASSUME_APPS_FROM_LISTINGS).
OTHER_APPS = "other apps"
#: [I] The all-apps listing names no app: see the module docstring.
ASSUME_APPS_FROM_LISTINGS: Final = True

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


# --- the two sides --------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """Everything one side prices with: rulesets of every app, the shop's order conditions.

    ``positions`` maps an own ruleset's or a code's ``Key.match`` to its place in ``rulesets``,
    so that the planned side can put a changed ruleset where the live one was (``Engine(...,
    reuse=...)`` shares what did not change).
    """

    rulesets: tuple[pricing.Ruleset, ...]
    order_conditions: tuple[pricing.OrderCondition, ...]
    positions: Mapping[Any, int]
    other_apps: int
    """How many rulesets of other apps this side holds."""
    skipped: tuple[str, ...] = ()
    """Rulesets the evaluator could not read (other apps', or a live one of this app whose
    data Bold let through), each said why: left out of the pricing."""


def _ruleset(resource: model.Resource, *, app: str) -> pricing.Ruleset:
    """An own ruleset or a discount code (normalised Resource) as the evaluator's ruleset."""
    if resource.key.kind is model.Kind.DISCOUNT_CODE:
        return pricing.Ruleset.from_discount_code(
            resource.body, code=resource.key.ident[0], id=resource.handles.get("ruleset_id")
        )
    body = resource.body
    rules = body.get("rules")
    if isinstance(rules, Mapping) and any(state.is_unnamed_rule(str(k)) for k in rules):
        # A live rule without an external id is keyed by its server id (``#456``) in the
        # normalised form: priced, and named, by that id, with no external id of its own.
        ids = resource.handles.get("rule_ids") or {}
        repeats = resource.handles.get("duplicate_rules") or {}
        body = {
            **body,
            "rules": [
                {
                    **rule,
                    "external_id": repeats.get(k) if state.is_unnamed_rule(str(k)) else k,
                    "id": ids.get(k),
                }
                for k, rule in rules.items()
            ],
        }
    return pricing.Ruleset.from_api(body, app=app, id=resource.handles.get("id"))


def _readable(resource: model.Resource, skipped: list[str]) -> pricing.Ruleset:
    """``_ruleset``, or, for one the evaluator cannot read, an inactive stand-in (it keeps its
    place, prices nothing) and a line in ``skipped`` saying which and why."""
    try:
        return _ruleset(resource, app=OWN_APP)
    except pricing.PricingInputError as exc:
        text = str(exc)
        skipped.append(text if resource.key.name in text else f"{resource.key.describe()}: {text}")
        return pricing.Ruleset(
            OWN_APP, pricing.ProductSelection(""), (), resource.key.name, active=False
        )


def _backs_a_code(body: Mapping[str, Any], codes: set[str]) -> bool:
    """Whether a listed ruleset is a known code's own, though no code names its ``ruleset_id``
    (a listing without it): every rule a ``DISCOUNT_CODE`` rule on one of ``codes``. Such a
    ruleset is priced from the code itself, never twice."""
    rules = body.get("rules")
    if not isinstance(rules, list) or not rules:
        return False
    for rule in rules:
        if not isinstance(rule, Mapping) or rule.get("type") != "DISCOUNT_CODE":
            return False
        named = [
            str(c.get("value", "")).casefold()
            for c in rule.get("conditions") or []
            if isinstance(c, Mapping) and c.get("type") == "DISCOUNT_CODE"
        ]
        if not named or not set(named) <= codes:
            return False
    return True


def other_app_rulesets(
    listing: Iterable[Mapping[str, Any]], live: state.LiveState
) -> tuple[list[pricing.Ruleset], list[str]]:
    """The rulesets of the all-apps listing that are neither this app's nor a code's.

    Returns the readable ones (as ``OTHER_APPS``' rulesets) and, for each the evaluator cannot
    read, one line saying which and why (it is left out of the preview, and the plan says so).
    """
    own = {
        r.handles.get("id")
        for r in (*live.resources, *live.reserved)
        if r.key.kind is model.Kind.RULESET
    }
    backing = {
        r.handles.get("ruleset_id")
        for r in live.resources
        if r.key.kind is model.Kind.DISCOUNT_CODE
    }
    codes = {
        r.key.ident[0].casefold() for r in live.resources if r.key.kind is model.Kind.DISCOUNT_CODE
    }
    found: list[pricing.Ruleset] = []
    skipped: list[str] = []
    for body in listing:
        ident = body.get("id")
        if ident in own or ident in backing or _backs_a_code(body, codes):
            continue
        if str(body.get("external_id") or "").startswith(model.RESERVED_PREFIX):
            continue  # another project's or app's bookkeeping: prices nothing
        try:
            found.append(pricing.Ruleset.from_api(body, app=OTHER_APPS))
        except pricing.PricingInputError as exc:
            skipped.append(f"another app's {exc}")
    return found, skipped


def live_side(
    live: state.LiveState,
    others: Sequence[pricing.Ruleset],
    skipped: Sequence[str] = (),
) -> Side:
    """The shop as it is: other apps' rulesets, then codes, then this app's rulesets."""
    rulesets: list[pricing.Ruleset] = list(others)
    positions: dict[Any, int] = {}
    unread = list(skipped)
    for resource in live.resources:
        kind = resource.key.kind
        if kind is model.Kind.ORDER_CONDITION:
            continue
        positions[resource.key.match] = len(rulesets)
        rulesets.append(_readable(resource, unread))
    conditions = tuple(
        pricing.OrderCondition.from_api(r.body)
        for r in live.resources
        if r.key.kind is model.Kind.ORDER_CONDITION
    )
    return Side(tuple(rulesets), conditions, positions, len(others), tuple(unread))


def planned_side(live: Side, live_state: state.LiveState, changes: Iterable[model.Change]) -> Side:
    """The live side with a plan's changes made: updates in place, deletes made inactive in
    place (so every other ruleset keeps its position, and its compiled form), creates last."""
    rulesets = list(live.rulesets)
    positions = dict(live.positions)
    unread = list(live.skipped)
    conditions = {
        r.key.match: r.body
        for r in live_state.resources
        if r.key.kind is model.Kind.ORDER_CONDITION
    }
    for change in changes:
        key = change.key
        if key.kind is model.Kind.ORDER_CONDITION:
            if isinstance(change, model.Delete):
                conditions.pop(change.live.key.match, None)
            else:
                conditions[key.match] = change.desired.body
            continue
        if isinstance(change, model.Delete):
            place = positions.get(change.live.key.match)
            if place is not None:
                rulesets[place] = dataclasses.replace(rulesets[place], active=False)
            continue
        desired = change.desired
        if isinstance(change, model.Update):
            handles = {**desired.handles, **change.live.handles}
            desired = dataclasses.replace(desired, handles=handles)
            place = positions.get(change.live.key.match)
        else:
            place = None
        ruleset = _readable(desired, unread)
        if place is None:
            positions[key.match] = len(rulesets)
            rulesets.append(ruleset)
        else:
            rulesets[place] = ruleset
    return Side(
        tuple(rulesets),
        tuple(pricing.OrderCondition.from_api(body) for body in conditions.values()),
        positions,
        live.other_apps,
        tuple(unread),
    )


def manifest_side(desired: Sequence[model.Resource]) -> Side:
    """The manifests alone (``boldrules price --offline``): no shop, no other app."""
    rulesets: list[pricing.Ruleset] = []
    positions: dict[Any, int] = {}
    unread: list[str] = []
    for resource in desired:
        if resource.key.kind is model.Kind.ORDER_CONDITION:
            continue
        positions[resource.key.match] = len(rulesets)
        rulesets.append(_readable(resource, unread))
    conditions = tuple(
        pricing.OrderCondition.from_api(r.body)
        for r in desired
        if r.key.kind is model.Kind.ORDER_CONDITION
    )
    return Side(tuple(rulesets), conditions, positions, 0, tuple(unread))


def engine(side: Side, *, reuse: pricing.Engine | None = None) -> pricing.Engine:
    """The evaluator over one side."""
    return pricing.Engine(side.rulesets, side.order_conditions, reuse=reuse)


def price_all(
    samples: Sequence[carts.SampleCart], priced_by: pricing.Engine, *, at: dt.datetime
) -> list[pricing.CartPrice]:
    """Every sample cart priced at its own ``at``, else at ``at``."""
    return [priced_by.price(sample.cart, at=at) for sample in samples]


# --- what changed ---------------------------------------------------------------------------


def why(line: pricing.LinePrice) -> str:
    """``[this app] spring-sale > gold-half-off``, ``code SPRING15``, or ``no rule``."""
    steps = [s for s in line.steps if s.after != s.before or s.layer == 2]
    if not steps:
        return "no rule"
    parts = []
    for step in steps:
        if step.discount_code is not None:
            parts.append(f"code {step.discount_code}")
        else:
            parts.append(str(step.source))
    return " + ".join(parts)


@dataclass(frozen=True)
class LineChange:
    """One cart line whose unit price differs between the live and the planned rules."""

    index: int
    sku: str
    quantity: int
    before: int
    after: int
    why_before: str
    why_after: str

    @property
    def percent(self) -> float | None:
        """The change of the unit price in percent of the live one (None from 0)."""
        if self.before == 0:
            return None
        return 100.0 * (self.after - self.before) / self.before

    def text(self) -> str:
        """``SKU-1 ×3: 25.00 → 12.50 by [this app] sale > gold (was [other apps] x > y)``."""
        was = (
            f" (was {self.why_before})"
            if self.why_before not in ("no rule", self.why_after)
            else ""
        )
        return (
            f"{self.sku} ×{self.quantity}: {carts.money(self.before)} → "
            f"{carts.money(self.after)} by {self.why_after}{was}"
        )

    def as_json(self) -> dict[str, Any]:
        """The line as the plan document's ``preview.carts[].lines[]``."""
        return {
            "index": self.index,
            "sku": self.sku,
            "quantity": self.quantity,
            "before": self.before,
            "after": self.after,
            "why_before": self.why_before,
            "why_after": self.why_after,
        }


@dataclass(frozen=True)
class CartChange:
    """One cart whose total or some line differs between the live and the planned rules."""

    name: str
    origin: str
    before: int
    after: int
    lines: tuple[LineChange, ...]

    @property
    def change(self) -> str:
        """``-12.50 (-25.0%)``."""
        diff = self.after - self.before
        text = ("+" if diff > 0 else "") + carts.money(diff)
        if self.before:
            text += f" ({'+' if diff > 0 else ''}{100.0 * diff / self.before:.1f}%)"
        return text

    @property
    def why(self) -> str:
        """Each changed line: ``SKU-1 ×3: 25.00 → 12.50 by [this app] sale > gold``."""
        return "; ".join(line.text() for line in self.lines) or "cart-level discounts changed"

    def as_json(self) -> dict[str, Any]:
        """The cart as the plan document's ``preview.carts[]``."""
        return {
            "name": self.name,
            "origin": self.origin,
            "before": self.before,
            "after": self.after,
            "lines": [line.as_json() for line in self.lines],
        }


@dataclass(frozen=True)
class Preview:
    """A plan's price preview: the carts that change, how many did not, and what it refuses."""

    carts: int
    changed: tuple[CartChange, ...]
    other_app_rulesets: int
    """Rulesets of other apps priced with (present on the live side)."""
    other_app_rulesets_applied: int
    """Of those, how many priced some cart line (on either side)."""
    violations: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    """Rulesets the evaluator could not read (left out of the pricing), each said why."""

    @property
    def unchanged(self) -> int:
        """Carts whose every line and total are the same on both sides."""
        return self.carts - len(self.changed)

    def summary(self) -> str:
        """``Price preview: 3 carts, 1 changes, 2 unchanged; priced with 4 rulesets of other apps
        (1 applied).``"""
        other = (
            f"priced with {words.count(self.other_app_rulesets, 'ruleset')} of other apps "
            f"({self.other_app_rulesets_applied} applied to a cart line)"
        )
        return (
            f"Price preview: {words.count(self.carts, 'cart')}, "
            f"{len(self.changed)} changed, {self.unchanged} unchanged; {other}."
        )

    def as_json(self) -> dict[str, Any]:
        """The plan document's ``preview`` section."""
        return {
            "carts": self.carts,
            "unchanged": self.unchanged,
            "other_app_rulesets": self.other_app_rulesets,
            "other_app_rulesets_applied": self.other_app_rulesets_applied,
            "changed": [c.as_json() for c in self.changed],
            "violations": list(self.violations),
            "skipped": list(self.skipped),
        }


def _sku(line: pricing.LinePrice) -> str:
    item = line.item
    return item.sku or (f"variant {item.variant_id}" if item.variant_id else f"line {line.index}")


def compare(
    samples: Sequence[carts.SampleCart],
    before: Sequence[pricing.CartPrice],
    after: Sequence[pricing.CartPrice],
) -> list[CartChange]:
    """The carts whose total or some line price differs, line by line."""
    changed = []
    for sample, old, new in zip(samples, before, after, strict=True):
        lines = tuple(
            LineChange(
                a.index,
                _sku(a),
                a.item.quantity,
                a.unit_price,
                b.unit_price,
                why(a),
                why(b),
            )
            for a, b in zip(old.lines, new.lines, strict=True)
            if a.unit_price != b.unit_price
        )
        if lines or old.total != new.total:
            changed.append(CartChange(sample.name, sample.origin, old.total, new.total, lines))
    return changed


#: At most this many lines of a cart are named in a refusal.
NAMED_LINES = 5


def _priced_lines(priced: pricing.CartPrice) -> str:
    """``SKU-100 ×2 at 11.25 by [this app] sale > gold; …``: what set each line's price."""
    shown = [
        f"{_sku(line)} ×{line.item.quantity} at {carts.money(line.unit_price)} by {why(line)}"
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
    changed: Sequence[CartChange],
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
                    f"Refusing: cart {sample.name} ({sample.origin}) would sell {_sku(line)} at "
                    f"{carts.money(line.unit_price)}, below its floor {carts.money(floor)} "
                    f"(by {why(line)}). {FLAG}"
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


def _applied_other(prices: Iterable[pricing.CartPrice]) -> set[Any]:
    return {
        (step.source.ruleset_id, step.source.ruleset)
        for cart in prices
        for line in cart.lines
        for step in line.steps
        if step.source.app == OTHER_APPS
    } | {
        (step.source.ruleset_id, step.source.ruleset)
        for cart in prices
        for step in cart.cart_steps
        if step.source.app == OTHER_APPS
    }


def preview(
    samples: carts.Carts,
    live: state.LiveState,
    changes: Sequence[model.Change],
    listing: Iterable[Mapping[str, Any]],
    *,
    safety: config.Safety,
    now: dt.datetime,
) -> Preview:
    """Price every sample cart under the live and the planned rules; what changes, and what the
    price guardrails refuse."""
    others, skipped = other_app_rulesets(listing, live)
    before_side = live_side(live, others, skipped)
    after_side = planned_side(before_side, live, changes)
    before_engine = engine(before_side)
    after_engine = engine(after_side, reuse=before_engine)
    before = price_all(samples.carts, before_engine, at=now)
    after = price_all(samples.carts, after_engine, at=now)
    changed = compare(samples.carts, before, after)
    violations = tuple(cart_violations(samples.carts, after, changed, safety=safety))
    return Preview(
        carts=len(samples.carts),
        changed=tuple(changed),
        other_app_rulesets=before_side.other_apps,
        other_app_rulesets_applied=len(_applied_other(before) | _applied_other(after)),
        violations=violations,
        skipped=after_side.skipped,
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


# --- boldrules price ----------------------------------------------------------------------------


def _step_text(step: pricing.Step) -> str:
    who = f"code {step.discount_code}" if step.discount_code else str(step.source)
    return f"{step.source.type} {who}: {carts.money(step.before)} → {carts.money(step.after)}"


def cart_lines(sample: carts.SampleCart, priced: pricing.CartPrice, *, at: str) -> list[str]:
    """One priced cart as ``boldrules price`` prints it: the total, then each line and why."""
    head = (
        f"cart {sample.name} ({sample.origin}) at {at}: total {carts.money(priced.total)} "
        f"(items at their own prices {carts.money(sample.list_total)})"
    )
    lines = [head]
    for line in priced.lines:
        item = line.item
        lines.append(
            f"  {_sku(line)} ×{item.quantity}: {carts.money(item.price)} → "
            f"{carts.money(line.unit_price)} each, {carts.money(line.line_total)}"
            + ("" if line.steps else " (no rule applies)")
        )
        lines.extend(f"      {_step_text(step)}" for step in line.steps)
        lines.extend(
            f"      assumed met (checkout judges it): {condition.describe()} ({source})"
            for source, condition in line.assumed
        )
        lines.extend(
            f"      at checkout: {action.describe()} ({source})"
            for source, action in line.at_checkout
        )
    for step in priced.cart_steps:
        lines.append(f"  cart-level {_step_text(step)}")
    return lines


def cart_json(sample: carts.SampleCart, priced: pricing.CartPrice, *, at: str) -> dict[str, Any]:
    """One priced cart as ``schemas/price.schema.json`` describes it."""
    data = priced.as_json()
    return {
        "name": sample.name,
        "origin": sample.origin,
        "at": at,
        "list_total": sample.list_total,
        "subtotal": data["subtotal"],
        "total": data["total"],
        "cart_discounts": data["cart_discounts"],
        "lines": data["lines"],
    }


def storefront_request(sample: carts.SampleCart) -> dict[str, Any]:
    """The ``POST S/price`` body asking Bold for the cart's items (pricing-engine.md §7).

    Ids go by sku (``lineItemIdType: sku``); the product and variant ids, the quantity and the
    line's properties ride along for a server that reads them.
    """
    items = []
    for item in sample.cart.items:
        entry: dict[str, Any] = {
            "id": item.sku or "",
            "price": item.price,
            "quantity": item.quantity,
        }
        if item.product_id is not None:
            entry["product_id"] = item.product_id
        if item.variant_id is not None:
            entry["variant_id"] = item.variant_id
        if item.properties:
            entry["properties"] = dict(item.properties)
        items.append(entry)
    customer: dict[str, Any] = {"tags": sorted(sample.cart.customer.tags)}
    if sample.cart.customer.province:
        customer["province"] = sample.cart.customer.province
    return {"items": items, "lineItemIdType": "sku", "customer": customer}


@dataclass(frozen=True)
class Mismatch:
    """A line where Bold's storefront and the local evaluation of the live rules disagree."""

    cart: str
    sku: str
    bold: int | None
    local: int
    local_why: str
    bold_why: str

    def text(self) -> str:
        """One line for the report."""
        bold = "no answer for this item" if self.bold is None else carts.money(self.bold)
        return (
            f"cart {self.cart} {self.sku}: Bold says {bold}, boldrules computes "
            f"{carts.money(self.local)} (by {self.local_why}; Bold's rule: {self.bold_why})"
        )

    def as_json(self) -> dict[str, Any]:
        """The mismatch as ``price --check --format json`` lists it."""
        return {
            "cart": self.cart,
            "sku": self.sku,
            "bold": self.bold,
            "local": self.local,
            "local_why": self.local_why,
            "bold_why": self.bold_why,
        }


def _bold_why(action: Mapping[str, Any]) -> str:
    found = action.get("rule")
    rules = found if isinstance(found, list) else []
    parts = []
    for rule in rules:
        if isinstance(rule, Mapping):
            ruleset = rule.get("rule_set_eid") or rule.get("rule_set_id") or rule.get("ruleset_id")
            one = rule.get("eid") or rule.get("id") or rule.get("rule_id")
            parts.append(f"{ruleset} > {one}")
    return ", ".join(parts) or "none"


def check(
    sample: carts.SampleCart, local: pricing.CartPrice, answer: Mapping[str, Any]
) -> list[Mismatch]:
    """Every line of ``sample`` whose price Bold's ``answer`` (to ``storefront_request``) and
    the local evaluation ``local`` (a single-product price call: ``cart_context=False``) do not
    agree on. Bold's actions are matched to lines in order, else by sku."""
    actions = [a for a in answer.get("actions", []) if isinstance(a, Mapping)]
    found = []
    for index, line in enumerate(local.lines):
        sku = line.item.sku or ""
        action: Mapping[str, Any] | None = None
        if index < len(actions) and str(actions[index].get("sku", sku)) == sku:
            action = actions[index]
        else:
            action = next((a for a in actions if str(a.get("sku")) == sku), None)
        value = action.get("value") if action is not None else None
        bold = value if isinstance(value, int) and not isinstance(value, bool) else None
        if bold != line.unit_price:
            found.append(
                Mismatch(
                    sample.name,
                    _sku(line),
                    bold,
                    line.unit_price,
                    why(line),
                    _bold_why(action) if action is not None else "none",
                )
            )
    return found
