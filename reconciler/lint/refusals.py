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
    # Rules found to price (by identity: a shop's equal rules are one object, ``Shop``).
    fine: set[int] = set()
    for priced in shop.rulesets:
        subject = priced.subject
        for i, rule in enumerate(priced.ruleset.rules):
            if id(rule) in fine:
                continue
            if pricing.why_never_prices(rule) is not None:
                who = rule_name(priced, i)
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
                fine.add(id(rule))
                continue
            prices = shop.prices(rule)
            if all(p < 0 for p in prices):
                yield findings.Finding(
                    "price-below-zero",
                    "error",
                    *subject.at("rules", i, "actions"),
                    (subject.name,),
                    f"{rule_name(priced, i)} takes every price below zero ({SAMPLE_PRICES[0]} "
                    f"cents become {prices[0]}), and Bold drops such a price: customers never "
                    "get it.",
                )
            else:
                fine.add(id(rule))
