"""The plan as text for a terminal, compared as whole lines."""

from __future__ import annotations

from reconciler import plan
from reconciler.planformat import text

from .conftest import CHANGES_TEXT, OWNERSHIP, SAFETY, SUMMARY


def test_text_shows_each_object_once_with_its_changed_fields(small_plan: plan.Plan) -> None:
    assert text.render_text(small_plan).splitlines() == [
        "Target sandbox (shop sandbox-shop, API version 2022-10-14)",
        "Deletes 1 object: discount code OLD10.",
        "",
        *CHANGES_TEXT,
        "",
        OWNERSHIP,
        SAFETY,
        SUMMARY,
    ]


def test_text_in_colour_paints_each_heading_by_its_action(small_plan: plan.Plan) -> None:
    lines = text.render_text(small_plan, color=True).splitlines()
    assert lines[1] == "\x1b[31m\x1b[1mDeletes 1 object: discount code OLD10.\x1b[0m"
    assert lines[3] == "\x1b[33m\x1b[1m~ ruleset spring\x1b[0m"
    assert lines[4] == "    rules[gold]: gold −50% → gold −40%"  # details stay plain
