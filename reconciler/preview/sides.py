"""The two sides a preview prices with: the shop's rules as they are, and as a plan leaves them.

Built from what a plan already holds (the live state, its changes) and one read-only listing of
every app's rulesets (``include_all_apps``, never used to decide ownership or a delete: contract
§7.4); ``boldrules price --offline`` prices the manifests alone (``manifest_side``).

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler import carts, model, pricing, state

#: The app of this token's own rulesets, as the preview names it.
OWN_APP = "this app"
#: Every other app's rulesets but the discount-code app's (ASSUME_APPS_FROM_LISTINGS).
OTHER_APPS = "other apps"
#: [I] The all-apps listing names no app: see the module docstring.
ASSUME_APPS_FROM_LISTINGS: Final = True


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
    backed = pricing.backed_codes(body)
    return backed is not None and backed <= codes


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
