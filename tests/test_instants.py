"""reconciler.instants: every date-time boldrules reads goes through one reader, and every one it
writes comes out in one of a few spellings, the same in plans, records, locks and ledgers."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler import instants

UTC = dt.UTC
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-03-01T00:00:00Z", dt.datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01t00:00:00z", dt.datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T02:00:00+02:00", dt.datetime(2026, 3, 1, 2, tzinfo=PLUS_TWO)),
        ("2026-03-01T00:00:00.1234567Z", dt.datetime(2026, 3, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T00:00:00", dt.datetime(2026, 3, 1, tzinfo=UTC)),  # no offset: UTC
        ("2026-03-01", dt.datetime(2026, 3, 1, tzinfo=UTC)),  # a plan timeline's midnight
        (" 2026-03-01T00:00:00Z ", dt.datetime(2026, 3, 1, tzinfo=UTC)),
        (dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-02-30T00:00:00Z", None),
        ("next tuesday", None),
        ("", None),
        ("Z", None),
        (None, None),
        (20260301, None),
    ],
)
def test_parse_reads_what_the_api_plans_and_locks_write(given: object, expected: object) -> None:
    assert instants.parse(given) == expected


def test_parse_keeps_the_offset_it_was_given() -> None:
    found = instants.parse("2026-03-01T02:00:00+02:00")
    assert found is not None and found.utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ("2026-03-01T00:00:00Z", True),
        ("2026-03-01T00:00:00.5+05:30", True),
        ("2026-03-01t00:00:00z", True),
        ("2026-03-01T00:00:00", False),  # a manifest must say which zone
        ("2026-03-01", False),
        ("2026-03-01 00:00:00Z", False),
        ("2026-13-01T00:00:00Z", False),
        ("٢٠٢٦-03-01T00:00:00Z", False),  # digits other than ASCII are not RFC 3339's
    ],
)
def test_parse_strict_takes_only_rfc_3339_with_an_offset(given: str, accepted: bool) -> None:
    found = instants.parse_strict(given)
    assert (found is not None) is accepted
    if accepted:
        assert found == instants.parse(given)


MOMENT = dt.datetime(2026, 12, 1, 11, 0, 0, 123456, tzinfo=PLUS_TWO)


def test_the_spellings_boldrules_writes() -> None:
    assert instants.stamp(MOMENT) == "2026-12-01T09:00:00Z"
    assert instants.stamp_ms(MOMENT) == "2026-12-01T09:00:00.123Z"
    assert instants.canonical(MOMENT) == "2026-12-01T09:00:00.123456Z"
    assert instants.canonical(MOMENT.replace(microsecond=250000)) == "2026-12-01T09:00:00.25Z"
    assert instants.canonical(MOMENT.replace(microsecond=0)) == "2026-12-01T09:00:00Z"
    assert instants.day(dt.datetime(2027, 3, 1, 1, tzinfo=PLUS_TWO)) == "2027-02-28"


def test_what_is_written_reads_back_as_the_same_instant() -> None:
    for text in (
        instants.stamp(MOMENT),
        instants.stamp_ms(MOMENT),
        instants.canonical(MOMENT),
        instants.day(MOMENT),
    ):
        found = instants.parse_strict(text) or instants.parse(text)
        assert found is not None and abs(found - MOMENT) < dt.timedelta(days=1), text
    assert instants.parse_strict(instants.canonical(MOMENT)) == MOMENT


def test_now_is_aware_and_in_utc() -> None:
    assert instants.now().utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T09:59:59Z", True),
        ("2026-12-01T09:59:59.999999Z", True),
        ("2026-12-01t09:59:59z", None),  # lowercase: a parse decides
        ("2026-12-01T10:00:00Z", None),  # the same second: a parse decides
        ("2026-12-01T10:00:00.5Z", None),
        ("2026-12-01T11:00:00Z", None),
        ("2026-12-01T09:59:59.692697+00:00", True),
        ("2026-12-01T09:00:00+01:00", None),  # another offset: a parse decides
        ("2026-12-01T09:00:00", None),
        ("not a date at all, Z", None),
        (None, None),
    ],
)
def test_earlier_reads_a_utc_spelling_without_parsing(text: object, expected: bool | None) -> None:
    moment = dt.datetime(2026, 12, 1, 10, 0, 0, tzinfo=dt.UTC)
    assert instants.earlier(text, moment) is expected
    if expected:
        parsed = instants.parse(text)
        assert parsed is not None and parsed < moment


def test_earlier_compares_in_utc() -> None:
    # The first page's Date may carry another offset: the comparison is in UTC.
    moment = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert instants.earlier("2026-12-01T09:59:59Z", moment) is True
    assert instants.earlier("2026-12-01T10:00:01Z", moment) is None
