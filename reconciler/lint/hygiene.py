"""Objects still in the shop that can do nothing: a window already ended (``expired``), an
order condition no address can meet (``unmatchable-order-condition``), a product search that
names no product (``empty-selection``).

Address formats are the one fact here the evaluator does not hold: Bold compares each field of a
field set with the shipping address exactly (``assumptions.ASSUME_ORDER_CONDITION_FIRST_MATCH``),
and addresses carry ISO 3166 codes: two capital letters for a country, one to three capital
letters or digits for a province or state (an assumption about Bold's addresses, named here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from reconciler.lint import findings
from reconciler.lint.subjects import Shop, day
from reconciler.pricing import selection

#: Shipping fields whose values are codes, and the form an address gives them (assumption).
CODE_FORMS: Mapping[str, re.Pattern[str]] = {
    "customer.shipping.country_code": re.compile(r"[A-Z]{2}"),
    "customer.shipping.province_code": re.compile(r"[A-Z0-9]{1,3}"),
}
_FORM_TEXT = {
    "customer.shipping.country_code": "a two-letter country code such as CA",
    "customer.shipping.province_code": "a province or state code such as MB",
}


def check(shop: Shop) -> Iterator[findings.Finding]:
    yield from _expired(shop)
    yield from _unmatchable(shop)
    yield from _empty(shop)


def _expired(shop: Shop) -> Iterator[findings.Finding]:
    now = shop.now.timestamp()
    for priced in (*shop.rulesets, *shop.codes):
        end = priced.window[1]
        if end > now:
            continue
        subject = priced.subject
        what = "discount code" if priced.is_code else "ruleset"
        yield findings.Finding(
            "expired",
            "warning",
            *subject.at("expiry_date"),
            (subject.name,),
            f"{subject.described} expired on {day(end)}: it is still in the shop but no "
            f"customer gets its price any more (delete the {what} or move its expiry_date).",
        )


def _unmatchable(shop: Shop) -> Iterator[findings.Finding]:
    users: dict[tuple[str, str], list[str]] = {}
    for priced in shop.rulesets:
        for rule in priced.ruleset.rules:
            for c in rule.conditions:
                if c.type == "ORDER_CONDITION" and c.name and c.value is not None:
                    found = users.setdefault((c.name, str(c.value)), [])
                    if priced.subject.name not in found:
                        found.append(priced.subject.name)
    for subject, condition in shop.order_conditions:
        first_bad: tuple[int, str, str] | None = None
        matchable = False
        for k, field_set in enumerate(condition.field_sets):
            bad = [
                (name, value)
                for name, value in field_set.items()
                if name in CODE_FORMS and not CODE_FORMS[name].fullmatch(value)
            ]
            if not bad and field_set:
                matchable = True
                break
            if bad and first_bad is None:
                first_bad = (k, *bad[0])
        if matchable or first_bad is None:
            continue
        k, name, value = first_bad
        who = users.get((condition.name, condition.value), [])
        effect = (
            f"the rules of {', '.join(who)} that need it never apply"
            if who
            else "any rule that needs it would never apply"
        )
        yield findings.Finding(
            "unmatchable-order-condition",
            "error",
            *subject.at("field_sets", k, name),
            (subject.name, *who),
            f"{subject.described} can match no address: {name} is {value!r} where an "
            f"address gives {_FORM_TEXT[name]}, so {effect} to any customer.",
        )


def _empty(shop: Shop) -> Iterator[findings.Finding]:
    for priced in (*shop.rulesets, *shop.codes):
        ps = priced.ruleset.product_selection
        if ps.type in selection.SEARCH_TYPES and not any(selection.selection_keys(ps)):
            subject = priced.subject
            yield findings.Finding(
                "empty-selection",
                "error",
                *subject.at("product_selection"),
                (subject.name,),
                f"{subject.described} searches for products but lists none: it prices no "
                "product, so no customer ever gets its price.",
            )
