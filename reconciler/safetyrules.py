"""The safety rules a plan is measured against, and the report every plan shows.

``evaluate_safety`` measures ordered changes against the project's ``safety:`` limits (how many
deletes, what share of each kind deleted or updated, how deep a percent off, protected objects,
the price guardrails that need no carts) and names each broken limit with its figures;
``SafetyReport`` is the result a plan carries and ``Plan.check_safety`` enforces. Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import config, diff, kinds, model, words

#: Percent limits apply only from this many managed objects up: deleting 1 of 2 is 50% but no
#: cause for alarm (the count limit still holds). The same floor octoDNS uses.
PERCENT_FLOOR = 10


@dataclass(frozen=True)
class SafetyReport:
    """The safety evaluation shown in every plan: the figures, and what breaks a limit."""

    managed: int
    deletes: int
    updates: int
    delete_percent: float
    update_percent: float
    violations: tuple[str, ...]
    #: Violations that ``--force`` cannot lift (protected objects).
    hard_violations: tuple[str, ...] = ()
    #: Managed live objects by kind (``{"ruleset": 40, ...}``); percent limits apply per kind.
    managed_by_kind: Mapping[str, int] = field(default_factory=dict)
    #: Rulesets the plan would create that already exist under another app (external ids).
    claimed_by_other_apps: tuple[str, ...] = ()
    #: What the price preview's guardrails refuse on the sample carts (``preview``): a broken
    #: ``expect``, a price below a floor, a line moved past max_price_change_percent.
    price_violations: tuple[str, ...] = ()
    #: Updates that only give objects their external ids (``diff.naming_only``): listed in the
    #: plan, not counted in ``updates`` (they change no price).
    namings: int = 0

    @property
    def other_apps_violation(self) -> str:
        """The refusal for ``claimed_by_other_apps`` ("" when there are none)."""
        claimed = self.claimed_by_other_apps
        if not claimed:
            return ""
        names = ", ".join(claimed[:3]) + (
            f" and {len(claimed) - 3} more" if len(claimed) > 3 else ""
        )
        return (
            f"Refusing to create {words.count(len(claimed), 'ruleset')} that already exist under "
            f"another app of this shop ({names}): the token probably belongs to a different app "
            "than the one that created them, so it can neither see nor change them. Use that "
            "app's token; or, to create them under this token's app anyway (both apps' rulesets "
            "would then price the same products), re-run with --create-alongside-other-apps."
        )

    @property
    def ok(self) -> bool:
        """True when no limit is broken."""
        return (
            not self.violations
            and not self.hard_violations
            and not self.claimed_by_other_apps
            and not self.price_violations
        )

    def as_json(self) -> dict[str, Any]:
        """The evaluation as JSON."""
        return {
            "managed": self.managed,
            "managed_by_kind": dict(self.managed_by_kind),
            "deletes": self.deletes,
            "updates": self.updates,
            "delete_percent": round(self.delete_percent, 1),
            "update_percent": round(self.update_percent, 1),
            "violations": list(self.violations),
            "hard_violations": list(self.hard_violations),
            "claimed_by_other_apps": list(self.claimed_by_other_apps),
            "price_violations": list(self.price_violations),
            "namings": self.namings,
        }


#: Actions whose value is a signed percent off a price (contract §5.2, pricing-engine.md §5):
#: what max_percent_off reads.
PERCENT_OFF_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_PERCENT",
        "PRICE_ADJUST_PERCENT_WITH_LIMIT",
        "CART_ADJUST_PERCENT",
        "CART_LEVEL_DISCOUNT_PERCENT",
    }
)
#: Of those, the ones Bold takes off whatever the value's sign (pricing-engine.md §5: |value|).
UNSIGNED_PERCENT_OFF = frozenset({"CART_LEVEL_DISCOUNT_PERCENT"})


def evaluate_safety(
    changes: Sequence[model.Change],
    *,
    managed: Mapping[model.Kind, int],
    rules: config.Safety,
    claimed_by_other_apps: Iterable[str] = (),
    price_violations: Iterable[str] = (),
) -> SafetyReport:
    """Measure the plan against the project's limits; name each broken one with its figures.

    The count limit is over all kinds; percent limits apply per kind (deleting 3 of 3 order
    conditions is 100% even in a shop with 400 rulesets), from PERCENT_FLOOR objects up. Updates
    that only give objects their external ids (``diff.naming_only``) are not counted.
    """
    deletes = [c for c in changes if isinstance(c, model.Delete)]
    # Giving objects their external ids (adopting an exported shop) changes no price: it is
    # not held to max_update_percent, or onboarding a shop of unnamed rulesets could never pass.
    every_update = [c for c in changes if isinstance(c, model.Update)]
    updates = [c for c in every_update if not diff.naming_only(c)]
    total = sum(managed.values())
    flag = "Re-run with --force if intended."
    violations: list[str] = []
    if len(deletes) > rules.max_deletes:
        violations.append(
            f"Refusing to delete {words.count(len(deletes), 'object')} ({_by_kind(deletes)}; limit "
            f"{rules.max_deletes} by safety.max_deletes). {flag}"
        )
    for kind in model.Kind:
        have = managed.get(kind, 0)
        if have < PERCENT_FLOOR:
            continue
        for verb, found, limit, setting in (
            ("delete", deletes, rules.max_delete_percent, "max_delete_percent"),
            ("update", updates, rules.max_update_percent, "max_update_percent"),
        ):
            n = sum(1 for c in found if c.key.kind is kind)
            if 100.0 * n / have > limit:
                violations.append(
                    f"Refusing to {verb} {n} of {have} {kind.label}s ({100.0 * n / have:.0f}%, "
                    f"limit {limit:g}% by safety.{setting}). {flag}"
                )
    if rules.max_percent_off is not None:
        violations.extend(
            f"Refusing {where} at {-value:g}% off (limit {rules.max_percent_off:g}% by "
            f"safety.max_percent_off): a typo like -90 for -9 costs real money. {flag}"
            for where, value in deep_discounts(changes, rules.max_percent_off)
        )
    # Price guardrails that need no carts: a discount turned surcharge, an amount ×10 (issue 14).
    # They judge updates only: a plan without one never imports the price preview.
    if any(isinstance(c, model.Update) for c in changes):
        from reconciler.preview import guardrails

        violations.extend(guardrails.rule_violations(changes))
    hard = [
        f"Refusing to delete protected {d.key.describe()} (safety.protected matches "
        f"{_matching(d.key, rules.protected)!r}); --force does not lift protection: remove the "
        "pattern from boldrules.yaml first if the delete is really intended."
        for d in deletes
        if _matching(d.key, rules.protected)
    ]
    return SafetyReport(
        managed=total,
        deletes=len(deletes),
        updates=len(updates),
        delete_percent=100.0 * len(deletes) / total if total else 0.0,
        update_percent=100.0 * len(updates) / total if total else 0.0,
        violations=tuple(violations),
        hard_violations=tuple(hard),
        managed_by_kind={k.value: n for k, n in managed.items() if n},
        price_violations=tuple(price_violations),
        namings=len(every_update) - len(updates),
        claimed_by_other_apps=tuple(
            sorted(
                set(claimed_by_other_apps)
                & {
                    c.key.ident[0]
                    for c in changes
                    if isinstance(c, model.Create) and kinds.by_name[c.key.kind].token_scoped
                }
            )
        ),
    )


def deep_discounts(changes: Iterable[model.Change], limit: float) -> Iterator[tuple[str, float]]:
    """New or changed percent-off actions deeper than ``limit``: (where, value)."""
    for change in changes:
        if isinstance(change, model.Delete):
            continue
        spec = kinds.by_name[change.key.kind]
        before = (
            {p.path: p.part for p in spec.priced(change.live.body)}
            if isinstance(change, model.Update)
            else {}
        )
        name = change.key.describe()
        for part in spec.priced(change.desired.body):
            if before.get(part.path) == part.part:
                continue  # unchanged: reviewed and applied before
            for where, action in part.actions:
                if _too_deep(action, limit):
                    yield f"{name} > {where}", -_off(action)


def _off(action: Mapping[str, Any]) -> float:
    """The percent a percent-off action takes off (negative: it adds)."""
    value = action["value"]
    return float(abs(value) if action.get("type") in UNSIGNED_PERCENT_OFF else -value)


def _too_deep(action: Mapping[str, Any], limit: float) -> bool:
    value = action.get("value")
    if action.get("type") not in PERCENT_OFF_ACTIONS:
        return False
    return isinstance(value, int | float) and not isinstance(value, bool) and _off(action) > limit


def _by_kind(changes: Sequence[model.Change]) -> str:
    tally = Counter(c.key.kind for c in changes)
    return ", ".join(words.count(tally[k], k.label) for k in model.Kind if tally[k])


def _matching(key: model.Key, patterns: Iterable[str]) -> str:
    text = str(key)
    return next((p for p in patterns if fnmatch.fnmatchcase(text, p)), "")
