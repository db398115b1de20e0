"""The ownership record's format and arithmetic: split into rules of bounded size, read back
exactly, damage detected, and what an apply leaves in it (docs/ownership.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reconciler import errors, model, ownership, state

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def code(name: str) -> model.Key:
    return model.discount_code_key(name)


def zone(name: str, value: str) -> model.Key:
    return model.order_condition_key(name, value)


def as_resource(body: dict[str, Any]) -> model.Resource:
    """The record as a plan sees it after a round trip through the API's JSON."""
    return state.ruleset_resource(state.ruleset_to_api(body))


def test_a_record_reads_back_exactly_what_was_written() -> None:
    members = {code("SPRING15"), zone("ZONE", "prairies"), model.ruleset_key("vip")}
    body = ownership.encode("shop-a", members, by="alice@box", now=NOW)
    record = ownership.decode(as_resource(body))
    assert record == ownership.Record(
        project="shop-a",
        members=frozenset(members),
        updated_at="2026-12-01T10:00:00Z",
        updated_by="alice@box",
        tool_version=record.tool_version if isinstance(record, ownership.Record) else "",
        chunks=1,
    )


def test_the_record_ruleset_cannot_change_a_price() -> None:
    body = ownership.encode("default", {code("A")}, by="x", now=NOW)
    assert body["active"] is False
    assert body["product_selection"] == {
        "type": "PRODUCT_SEARCH",
        "sku_ids": [ownership.NO_PRODUCT],
    }
    assert body["internal_name"] == "boldrules ownership record (default) — do not edit"
    for rule in body["rules"].values():
        assert rule["actions"] == [{"type": "PRICE_ADJUST_PERCENT", "value": 0}]
        assert rule["conditions"] == [{"type": "CUSTOMER_GROUP", "value": ownership.NO_GROUP}]


@pytest.mark.parametrize(
    ("members", "rules"),
    [
        (0, 1),  # header only
        (1, 2),
        (300, 3),
        (10_000, 40),
    ],
)
def test_large_records_are_split_into_rules_each_within_the_limit(members: int, rules: int) -> None:
    keys = {code(f"CODE-{i:05d}") for i in range(members)}
    body = ownership.encode("big", keys, by="x", now=NOW)
    assert len(body["rules"]) == rules
    for rule in body["rules"].values():
        assert len(model.canonical_json(rule["meta"])) <= ownership.CHUNK_CHARS
    decoded = ownership.decode(as_resource(body))
    assert isinstance(decoded, ownership.Record) and decoded.members == keys


def test_the_longest_members_still_fit_a_chunk() -> None:
    longest = {zone("Z" * 255, f"{i:03d}" + "v" * 252) for i in range(40)}
    parts = ownership.chunks(longest)
    assert sum(len(p) for p in parts) == 40
    assert all(len(model.canonical_json({"members": p})) <= ownership.CHUNK_CHARS for p in parts)
    assert all(len(p) >= 14 for p in parts[:-1])


def test_discount_codes_are_one_member_whatever_their_case() -> None:
    plan = ownership.RecordPlan("p", frozenset({code("spring15")}), frozenset({code("SPRING15")}))
    assert plan.action == ""
    assert [k.name for k in plan.final] == ["SPRING15"]


def edited(body: dict[str, Any], change: Any) -> model.Resource:
    api = state.ruleset_to_api(body)
    change(api)
    return state.ruleset_resource(api)


def _drop_chunk(api: dict[str, Any]) -> None:
    api["rules"] = api["rules"][:-1]


def _edit_member(api: dict[str, Any]) -> None:
    api["rules"][-1]["meta"]["members"][0] = ["discount_code", "SOMEONE-ELSES"]


def _garbage_member(api: dict[str, Any]) -> None:
    api["rules"][-1]["meta"]["members"].append(["widget", "x"])


def _no_header(api: dict[str, Any]) -> None:
    api["rules"] = [r for r in api["rules"] if r["external_id"] != ownership.HEADER_RULE]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_drop_chunk, "the header lists 1 member rules, found 0"),
        (_edit_member, "the member list does not match the header's count and checksum"),
        (_garbage_member, "rule boldrules.members.0001: 'widget' is not a valid Kind"),
        (_no_header, "its rule boldrules.header is missing or not a record header"),
    ],
)
def test_a_record_edited_by_hand_is_damaged_not_believed(change: Any, reason: str) -> None:
    body = ownership.encode("p", {code("A"), code("B")}, by="x", now=NOW)
    assert ownership.decode(edited(body, change)) == ownership.Damaged("p", reason)


def test_a_record_of_a_later_format_is_refused_not_overwritten() -> None:
    body = ownership.encode("p", {code("A")}, by="x", now=NOW)

    def newer(api: dict[str, Any]) -> None:
        api["rules"][0]["meta"]["format"] = 2

    with pytest.raises(errors.RecordUnreadable, match="has format 2, written by a newer boldrules"):
        ownership.decode(edited(body, newer))


A, B, C, D = code("A"), code("B"), code("C"), code("D")


@pytest.mark.parametrize(
    ("before", "declared", "dropped", "deletes", "intended", "final", "action"),
    [
        # first apply (no record): what the manifests name
        (None, {A, B}, set(), set(), {A, B}, {A, B}, "create"),
        # nothing new
        ({A, B}, {A, B}, set(), set(), {A, B}, {A, B}, ""),
        # a newly declared object is recorded before the calls run
        ({A}, {A, B}, set(), set(), {A, B}, {A, B}, "update"),
        # a delete leaves the record only once it has happened
        ({A, B}, {A}, set(), {B}, {A, B}, {A}, "update"),
        # gone from the shop, or taken over by another project: forgotten without a delete
        ({A, B, C}, {A}, {B, C}, set(), {A}, {A}, "update"),
        # excluded by --only/--exclude: neither deleted nor forgotten
        ({A, B, D}, {A}, set(), {B}, {A, B, D}, {A, D}, "update"),
    ],
)
def test_what_an_apply_leaves_in_the_record(
    before: set[model.Key] | None,
    declared: set[model.Key],
    dropped: set[model.Key],
    deletes: set[model.Key],
    intended: set[model.Key],
    final: set[model.Key],
    action: str,
) -> None:
    plan = ownership.RecordPlan(
        "p",
        frozenset(before) if before is not None else None,
        frozenset(declared),
        dropped=frozenset(dropped),
        deletes=frozenset(deletes),
    )
    assert (set(plan.intended()), set(plan.final), plan.action) == (intended, final, action)


def test_a_failed_delete_stays_recorded() -> None:
    plan = ownership.RecordPlan(
        "p", frozenset({A, B, C}), frozenset({A}), deletes=frozenset({B, C})
    )
    assert plan.after([B]) == {A, C}


def test_a_big_record_goes_through_the_api_and_back(bold: Any) -> None:
    keys = {code(f"CODE-{i:05d}") for i in range(3_000)} | {zone("ZONE", "west")}
    ownership.write(bold, "big", keys, now=NOW)
    live = state.fetch_live(bold)
    assert live.resources == ()  # bookkeeping is never a managed object
    records = ownership.read_records(live.reserved)
    assert set(records) == {"big"}
    record = records["big"]
    assert isinstance(record, ownership.Record)
    assert (record.members, record.chunks) == (frozenset(keys), 12)
    shown = list(ownership.show_lines(record, "big"))
    assert shown[0].startswith(
        "Ownership record boldrules.ownership.big: 3001 objects, in 12 member rules; written 2026-12-01T10:00:00Z by "
    )
    assert shown[1:3] == ["  order_condition:ZONE=west", "  discount_code:CODE-00000"]
