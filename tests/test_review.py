"""What a plan tells its reviewer: expiries already past, start dates years away."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler import model, state

from .projects import make, ruleset

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("desired", "live", "expected"),
    [
        (
            [ruleset("past", expiry_date="2026-03-31T23:59:59Z")],
            [],
            [
                "ruleset past: expiry_date 2026-03-31T23:59:59Z is already past: it will never apply."
            ],
        ),
        (
            [ruleset("ends", expiry_date="2026-11-01T00:00:00Z")],
            [ruleset("ends")],
            [
                "ruleset ends: expiry_date 2026-11-01T00:00:00Z is already past: it stops applying at once."
            ],
        ),
        (
            [ruleset("old", expiry_date="2026-03-31T23:59:59Z", public_name="x")],
            [ruleset("old", expiry_date="2026-03-31T23:59:59Z")],
            [],
        ),  # expired before: not news
        ([ruleset("soon", start_date="2027-03-01T00:00:00Z")], [], []),
        (
            [ruleset("typo", start_date="2207-03-01T00:00:00Z")],
            [],
            [
                "ruleset typo: start_date 2207-03-01T00:00:00Z is more than two years away: a typo in the year?"
            ],
        ),
        (
            [
                state.discount_code_resource(
                    {
                        "code": "OLD",
                        "action": {"type": "PRICE_ADJUST_PERCENT", "value": -5},
                        "product_selection": {"type": "PRODUCTS_ALL"},
                        "expiry_date": "2025-01-01T00:00:00Z",
                    }
                )
            ],
            [],
            [
                "discount code OLD: expiry_date 2025-01-01T00:00:00Z is already past: it will never apply."
            ],
        ),
    ],
)
def test_review_notes(
    desired: list[model.Resource], live: list[model.Resource], expected: list[str]
) -> None:
    assert list(make(desired, live, now=NOW).notes) == expected
