"""Rules the engine never prices with: refused outright (``why_never_prices``: a condition name as
the rule type, ``stack_order`` on a discount), or whose price is always below zero (a candidate
below 0 is dropped, pricing-engine.md §3).
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler import pricing
from reconciler.lint import findings
from reconciler.lint.subjects import SAMPLE_PRICES, Shop, rule_name


def check(shop: Shop) -> Iterator[findings.Finding]:
    for priced in shop.rulesets:
        subject = priced.subject
        for i, rule in enumerate(priced.ruleset.rules):
            who = rule_name(priced, i)
            if pricing.why_never_prices(rule) is not None:
                if rule.type not in pricing.LAYERS:
                    yield findings.Finding(
                        "condition-as-rule-type",
                        "error",
                        *subject.at("rules", i, "type"),
                        (subject.name,),
                        f"{who} has type {rule.type}, a condition name Bold's engine refuses as "
                        "a rule type: customers never get its price (write a DISCOUNT rule with "
                        f"a {rule.type} condition).",
                    )
                else:
                    yield findings.Finding(
                        "stack-order-on-discount",
                        "error",
                        *subject.at("rules", i, "stack_order"),
                        (subject.name,),
                        f"{who} is a {rule.type} rule with stack_order {rule.stack_order}, which "
                        "Bold's engine refuses as invalid: customers never get its price "
                        "(remove stack_order, or make it a STACKABLE_DISCOUNT).",
                    )
                continue
            if pricing.LAYERS[rule.type] == 4:
                continue
            prices = shop.prices(rule)
            if all(p < 0 for p in prices):
                yield findings.Finding(
                    "price-below-zero",
                    "error",
                    *subject.at("rules", i, "actions"),
                    (subject.name,),
                    f"{who} takes every price below zero ({SAMPLE_PRICES[0]} cents become "
                    f"{prices[0]}), and Bold drops such a price: customers never get it.",
                )
