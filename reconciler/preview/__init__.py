"""The price preview: the project's sample carts priced under the live and the planned rules.

``preview`` is what ``plan`` runs when the project has sample carts: it builds the two sides
(``sides``: the live shop with every app's rulesets, and the shop as the plan leaves it), prices
every cart on both, keeps what changed (``differences``) and what the price guardrails refuse
(``guardrails``), and returns it as a ``Preview`` for the plan to show. The package's modules:

* ``sides``: the rulesets and order conditions each side prices with (which app owns what);
* ``differences``: the cart lines and carts whose price differs between the sides;
* ``guardrails``: the safety of prices (floors, ``expect``, the largest move allowed, and the
  sign flips and ×10 typos a change alone shows);
* ``naming``: how a priced line is named in every output (its sku, and why its price);
* ``priceformat``: ``boldrules price``'s output forms (lines, JSON);
* ``crosscheck``: ``price --check``, the carts asked of Bold's storefront and compared.

What prices is ``reconciler.pricing``'s (a new condition or action type goes there); the plan's
text, Markdown and JSON are ``planformat``'s. It must not print, pick exit codes or talk HTTP:
the caller hands it the all-apps listing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import carts, config, model, pricing, state, words
from reconciler.preview import differences, guardrails, sides


@dataclass(frozen=True)
class Preview:
    """A plan's price preview: the carts that change, how many did not, and what it refuses."""

    carts: int
    changed: tuple[differences.CartChange, ...]
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


def _applied_other(prices: Iterable[pricing.CartPrice]) -> set[Any]:
    return {
        (step.source.ruleset_id, step.source.ruleset)
        for cart in prices
        for line in cart.lines
        for step in line.steps
        if step.source.app == sides.OTHER_APPS
    } | {
        (step.source.ruleset_id, step.source.ruleset)
        for cart in prices
        for step in cart.cart_steps
        if step.source.app == sides.OTHER_APPS
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
    others, skipped = sides.other_app_rulesets(listing, live)
    before_side = sides.live_side(live, others, skipped)
    after_side = sides.planned_side(before_side, live, changes)
    before_engine = sides.engine(before_side)
    after_engine = sides.engine(after_side, reuse=before_engine)
    before = sides.price_all(samples.carts, before_engine, at=now)
    after = sides.price_all(samples.carts, after_engine, at=now)
    changed = differences.compare(samples.carts, before, after)
    violations = tuple(guardrails.cart_violations(samples.carts, after, changed, safety=safety))
    return Preview(
        carts=len(samples.carts),
        changed=tuple(changed),
        other_app_rulesets=before_side.other_apps,
        other_app_rulesets_applied=len(_applied_other(before) | _applied_other(after)),
        violations=violations,
        skipped=after_side.skipped,
    )
