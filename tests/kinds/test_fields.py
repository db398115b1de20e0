"""The field quirks every kind shares (``kinds/fields.py``): cleaning, instants, numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.kinds import fields


def test_clean_keeps_true_one_and_one_point_zero_apart_whatever_came_before() -> None:
    # Equal in Python and equal in hash, but three values to the API: a condition cleaned
    # once must not stand in for another that only looks equal.
    seen = [
        fields.clean({"type": "QTY_BY_PRODUCT", "value": given}, "condition")["value"]
        for given in (1, True, 1.0, 1.5, True, 1)
    ]
    assert [(type(v), v) for v in seen] == [
        (int, 1),
        (bool, True),
        (int, 1),  # a float the API echoes equals the integer a manifest wrote
        (float, 1.5),
        (bool, True),
        (int, 1),
    ]


def test_clean_gives_each_caller_a_mapping_of_its_own() -> None:
    condition = {"value": "gold", "type": "CUSTOMER_GROUP", "extra": "dropped"}
    first = fields.clean(condition, "condition")
    first["value"] = "changed by its caller"
    again = fields.clean(condition, "condition")
    assert again == {"type": "CUSTOMER_GROUP", "value": "gold"}
    assert list(again) == ["type", "value"]  # the schema's order, not the mapping's


def test_clean_reads_a_mapping_holding_lists_every_time() -> None:
    listed = {"type": "CUSTOMER_IN_ANY_GROUP_FROM_LIST", "list": ["b", "a"]}
    assert fields.normalise_condition(listed) == {
        "type": "CUSTOMER_IN_ANY_GROUP_FROM_LIST",
        "list": ["a", "b"],
    }
    assert listed["list"] == ["b", "a"]  # the input is left as it was


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2027-03-01T00:00:00Z", "2027-03-01T00:00:00Z"),
        ("2027-03-01T01:00:00+01:00", "2027-03-01T00:00:00Z"),
        ("2027-03-01T00:00:00.500000+00:00", "2027-03-01T00:00:00.5Z"),
        ("2027-03-01T00:00:00", "2027-03-01T00:00:00Z"),  # no offset: UTC (the contract)
        (
            dt.datetime(2027, 3, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "2027-03-01T00:00:00Z",
        ),
        (dt.datetime(2027, 3, 1, 0, 0, 0, 250000), "2027-03-01T00:00:00.25Z"),
        (None, None),
        ("", None),
    ],
)
def test_an_instant_in_any_spelling_becomes_one(given: object, expected: str | None) -> None:
    assert fields.normalise_instant(given) == expected
    assert fields.normalise_instant(given) == expected  # and again, remembered


def test_an_unreadable_instant_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="not a date-time: 'next tuesday'"):
            fields.normalise_instant("next tuesday")
