"""Synthetic shops for the benchmarks: deterministic manifests of any size, and their 1% variant.

Owns what a benchmark shop holds (issue 8): ``size`` rulesets of five rules each, 50 order
conditions in 5 groups and 500 discount codes (50 configurations of 10 codes, so creating them
is 50 calls, as apply groups codes that share a configuration), and the "1% changed" variant a
pull request would bring: some rulesets updated (one rule's discount moves), some added, some
removed (so the baseline's missed deletions show). Everything is a pure function of its
arguments: the same size gives byte-identical shops in every process and on every run.

It builds desired ``model.Resource`` objects through ``reconciler.state`` exactly as the
manifest loader does; it must not talk to a shop, time anything or print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import model, state

RULES_PER_RULESET = 5
CONDITION_GROUPS = 5
CONDITIONS_PER_GROUP = 10
CODE_CONFIGS = 50
CODES_PER_CONFIG = 10
#: Share of rulesets the "1% changed" variant touches.
CHANGE_FRACTION = 0.01

_PROVINCES = ("AB", "BC", "MB", "NB", "NL", "NS", "ON", "PE", "QC", "SK")
_TIERS = ("bronze", "silver", "gold", "platinum", "staff")


@dataclass(frozen=True)
class Shop:
    """A shop's manifests: every object in the form a manifest file declares it."""

    rulesets: tuple[dict[str, Any], ...]
    order_conditions: tuple[dict[str, Any], ...]
    discount_codes: tuple[dict[str, Any], ...]
    """One entry per code name (``code``), the form ``state.discount_code_resource`` takes."""

    def resources(self) -> list[model.Resource]:
        """The desired resources, normalised as ``plan`` sees manifests."""
        return [
            *(state.order_condition_resource(c) for c in self.order_conditions),
            *(state.ruleset_resource(r) for r in self.rulesets),
            *(state.discount_code_resource(d) for d in self.discount_codes),
        ]

    @property
    def ruleset_ids(self) -> frozenset[str]:
        """The external ids of every declared ruleset."""
        return frozenset(r["external_id"] for r in self.rulesets)


@dataclass(frozen=True)
class ChangeSet:
    """What the 1% variant does to the base shop's rulesets, by external id."""

    updated: tuple[str, ...]
    created: tuple[str, ...]
    deleted: tuple[str, ...]

    @property
    def total(self) -> int:
        """Rulesets touched."""
        return len(self.updated) + len(self.created) + len(self.deleted)

    def as_json(self) -> dict[str, int]:
        """Counts by action."""
        return {
            "updated": len(self.updated),
            "created": len(self.created),
            "deleted": len(self.deleted),
        }


def ruleset_id(index: int) -> str:
    """The external id of the base shop's ruleset number ``index``."""
    return f"bench-rs-{index:05d}"


def condition_ref(index: int) -> tuple[str, str]:
    """The (name, value) of order condition number ``index`` (0..49)."""
    group, member = divmod(index % (CONDITION_GROUPS * CONDITIONS_PER_GROUP), CONDITIONS_PER_GROUP)
    return f"BENCH_ZONE_{group}", f"zone-{member}"


def make_ruleset(index: int, *, external_id: str | None = None, bump: int = 0) -> dict[str, Any]:
    """Ruleset ``index`` as a manifest declares it; ``bump`` shifts its first rule's discount."""
    rules: list[dict[str, Any]] = []
    for j in range(RULES_PER_RULESET):
        percent = -(5 + (index * 7 + j * 3) % 40)
        if j == 0:
            percent = -(5 + (index + bump) % 60)
        conditions: list[dict[str, Any]] = [
            {"type": "CUSTOMER_GROUP", "value": _TIERS[(index + j) % len(_TIERS)]}
        ]
        if j == 3:
            conditions.append({"type": "QTY_BY_PRODUCT", "operator": ">=", "value": 2 + index % 5})
        if j == 4 and index % 10 == 0:
            # Every tenth ruleset refers to an order condition, as shipping-zone promotions do,
            # so apply's dependency phases are part of what is measured.
            name, value = condition_ref(index // 10)
            conditions.append({"type": "ORDER_CONDITION", "name": name, "value": value})
        rules.append(
            {
                "external_id": f"tier-{j}",
                "type": "DISCOUNT",
                "conditions": conditions,
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": percent}],
            }
        )
    body: dict[str, Any] = {
        "external_id": external_id or ruleset_id(index),
        "public_name": f"Promotion {index}",
        "internal_name": f"bench ruleset {index}",
        "priority": index % 50,
        "start_date": "2026-01-01T00:00:00Z",
        "product_selection": {
            "type": "PRODUCT_SEARCH",
            "sku_ids": [f"SKU-{index * 3 + k:06d}" for k in range(3)],
        },
        "rules": rules,
    }
    if index % 4 == 0:
        body["expiry_date"] = "2027-12-31T23:59:59Z"
    return body


def make_order_conditions() -> tuple[dict[str, Any], ...]:
    """50 order conditions in 5 groups; each group tests the same two fields (contract §5.4)."""
    out = []
    for index in range(CONDITION_GROUPS * CONDITIONS_PER_GROUP):
        name, value = condition_ref(index)
        provinces = [_PROVINCES[(index + k) % len(_PROVINCES)] for k in range(1 + index % 3)]
        out.append(
            {
                "name": name,
                "value": value,
                "field_sets": [
                    {"customer.shipping.country_code": "CA", "customer.shipping.province_code": p}
                    for p in provinces
                ],
            }
        )
    return tuple(out)


def make_discount_codes() -> tuple[dict[str, Any], ...]:
    """500 codes: 50 configurations shared by 10 codes each."""
    out = []
    for config in range(CODE_CONFIGS):
        for member in range(CODES_PER_CONFIG):
            out.append(
                {
                    "code": f"BENCH{config:02d}X{member:02d}",
                    "action": {"type": "PRICE_ADJUST_PERCENT", "value": -(5 + config)},
                    "product_selection": {"type": "PRODUCTS_ALL"},
                    "limits": [{"limit_type": "per_customer", "limit_amount": 1 + config % 3}],
                }
            )
    return tuple(out)


def base_shop(size: int) -> Shop:
    """The shop with ``size`` rulesets, 50 order conditions and 500 discount codes."""
    if size < 1:
        raise ValueError("a shop needs at least one ruleset")
    return Shop(
        rulesets=tuple(make_ruleset(i) for i in range(size)),
        order_conditions=make_order_conditions(),
        discount_codes=make_discount_codes(),
    )


def change_counts(size: int) -> tuple[int, int, int]:
    """(updated, created, deleted) for the 1% variant: 60/20/20 of 1%, at least one of each."""
    touched = max(3, round(size * CHANGE_FRACTION))
    created = max(1, round(touched * 0.2))
    deleted = max(1, round(touched * 0.2))
    return touched - created - deleted, created, deleted


def changed_shop(size: int) -> tuple[Shop, ChangeSet]:
    """The 1% variant of ``base_shop(size)`` and what it changes.

    Touched rulesets are spread evenly over the shop (every k-th), so they land on many list
    pages, as real edits do.
    """
    base = base_shop(size)
    n_updated, n_created, n_deleted = change_counts(size)
    stride = max(1, size // (n_updated + n_deleted))
    picked = [i * stride for i in range(n_updated + n_deleted)]
    updated = set(picked[:n_updated])
    deleted = set(picked[n_updated:])
    rulesets: list[dict[str, Any]] = []
    for index, body in enumerate(base.rulesets):
        if index in deleted:
            continue
        rulesets.append(make_ruleset(index, bump=7) if index in updated else body)
    created_ids = tuple(f"bench-new-{k:05d}" for k in range(n_created))
    rulesets += [make_ruleset(size + k, external_id=eid) for k, eid in enumerate(created_ids)]
    shop = Shop(tuple(rulesets), base.order_conditions, base.discount_codes)
    changes = ChangeSet(
        updated=tuple(ruleset_id(i) for i in sorted(updated)),
        created=created_ids,
        deleted=tuple(ruleset_id(i) for i in sorted(deleted)),
    )
    return shop, changes


def stale(live_ids: Sequence[str], desired: Shop) -> list[str]:
    """Live ruleset ids the manifests no longer declare: what a correct sync deletes."""
    wanted = desired.ruleset_ids
    return sorted(eid for eid in live_ids if eid not in wanted)
