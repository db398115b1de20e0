"""How the preview names a priced cart line in every output: its sku, and why its price.

``sku`` names the line (its sku, else its variant, else its place); ``why`` names what set its
price (``[this app] spring-sale > gold-half-off``, ``code SPRING15``, ``no rule``). The plan's
preview, the guardrails' refusals, ``boldrules price`` and its ``--check`` all say it this way.
"""

from __future__ import annotations

from reconciler import pricing


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


def sku(line: pricing.LinePrice) -> str:
    """``SKU-1``, else ``variant 5``, else ``line 2``: the line as the preview names it."""
    item = line.item
    return item.sku or (f"variant {item.variant_id}" if item.variant_id else f"line {line.index}")
