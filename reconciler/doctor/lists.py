"""The list routes' checks: the envelope, pagination fields, limit clamping, RFC 3339 dates,
fields the contract does not list, and each whole list read (kept for the checks after it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import kinds, pagination, state, words
from reconciler.doctor.recording import Doctor, Failed

#: The pagination fields the contract lists (§3); boldrules needs only ``total_pages`` (else it
#: walks page by page) and ``total`` (else the count of other apps' rulesets is unknown).
PAGINATION_FIELDS = (
    "total",
    "count",
    "per_page",
    "current_page",
    "total_pages",
    "next_url",
    "previous_url",
)
#: Fields the contract lists per object (§5), by list: anything else is reported as ignored.
KNOWN_FIELDS: Mapping[str, frozenset[str]] = {
    spec.list_name: spec.live_fields for spec in kinds.in_dependency_order
}
_DATE_FIELDS = ("start_date", "expiry_date", "created_at", "updated_at")


def checks(checker: Doctor) -> None:
    """Every list route: envelope, pagination, limit clamping, dates, unknown fields, whole."""
    for kind, route, key, params in (
        ("rulesets", "list_rulesets", "rulesets", {}),
        ("order_conditions", "list_order_conditions", "order_conditions", {"deep": "true"}),
        ("discount_codes", "list_discount_codes", "discount_codes", {}),
    ):
        _one_list(checker, kind, route, key, params)


def _one_list(checker: Doctor, kind: str, route: str, key: str, params: Mapping[str, str]) -> None:
    bold = checker.bold
    query: dict[str, str | int] = {**params, "limit": 250, "page": 1}

    def first_page() -> str:
        body = bold.request(route, params=query).body
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            raise Failed('the body is not the envelope {"message", "data", "pagination"}')
        data = body.get("data")
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise Failed(f"the body has no data.{key} list: boldrules reads data.{key}")
        notes = [f"envelope ok, data.{key}: {len(items)} on page 1"]
        meta = body.get("pagination")
        meta = meta if isinstance(meta, dict) else {}
        missing = [f for f in PAGINATION_FIELDS if f not in meta]
        if missing:
            notes.append(
                f"pagination lacks {', '.join(missing)}"
                + ("; boldrules walks page by page" if "total_pages" in missing else "")
            )
        per_page = meta.get("per_page")
        if len(items) > pagination.PAGE_LIMIT:
            raise Failed(f"limit=250 answered {len(items)} items: the limit is not clamped to 100")
        notes.append(
            f"limit=250 clamped to per_page {per_page}" if per_page is not None else "no per_page"
        )
        bad_dates = [
            f"{f}={item[f]!r}"
            for item in items
            for f in _DATE_FIELDS
            if item.get(f) not in (None, "") and _unparsable(item[f])
        ]
        if bad_dates:
            raise Failed(f"dates that are not RFC 3339: {', '.join(bad_dates[:3])}")
        unknown = sorted(
            {k for item in items if isinstance(item, dict) for k in item} - KNOWN_FIELDS[kind]
        )
        if unknown:
            notes.append(f"fields the contract does not list (ignored): {', '.join(unknown[:8])}")
        return "; ".join(notes)

    checker.check(
        f"{route}: envelope, pagination, dates", route, first_page, params=query, fixable=False
    )

    def whole() -> str:
        listing = bold.read_list(route, key, params=params or None)
        checker.seen[kind] = listing.items
        noun = kind.replace("_", " ")
        count = len(listing.items)
        return f"{words.count(count, noun[:-1])} in {words.count(listing.pages, 'page')}"

    checker.check(
        f"{route}: the whole list", route, whole, params={**params, "limit": 100}, fixable=False
    )


def _unparsable(value: Any) -> bool:
    try:
        state.normalise_instant(value)
    except (TypeError, ValueError):
        return True
    return False
