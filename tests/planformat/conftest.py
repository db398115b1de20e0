"""The plan the format tests share: one small plan (a create, an update, a delete), made from
manifests on disk against the in-process sandbox at a fixed instant, and the lines every format
shows of it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler import client, plan

from ..projects import plan_for, seed_code, seed_ruleset, spring_manifest, write_project

NOW = dt.datetime(2027, 2, 1, 9, 30, tzinfo=dt.UTC)


PROJECT_FILE = (
    "manifests: [pricing/]\n"
    "safety: {max_deletes: 5, max_delete_percent: 100, max_update_percent: 100}\n"
    "ownership: {discount_code_prefixes: [SPRING, OLD]}\n"
)
MANIFEST = spring_manifest(-40) + (
    "discount_codes:\n"
    "  - {codes: [SPRING15], action: {type: PRICE_ADJUST_PERCENT, value: -15},\n"
    "     product_selection: {type: PRODUCTS_ALL}}\n"
)


@pytest.fixture
def small_plan(bold: client.BoldClient, tmp_path: Path) -> plan.Plan:
    """spring goes from -50% to -40%, SPRING15 is created, OLD10 is deleted."""
    seed_ruleset(bold, "spring", -50)
    seed_code(bold, "OLD10", -10)
    project = write_project(tmp_path, {"pricing/spring.yaml": MANIFEST}, project_file=PROJECT_FILE)
    return plan_for(bold, project, now=NOW)


CHANGES_TEXT = [
    "~ ruleset spring",
    "    rules[gold]: gold −50% → gold −40%",
    "    when: changes the live ruleset spring at apply",
    "+ discount code SPRING15 (−15% on all products; pricing/spring.yaml:8:14)",
    "    when: goes live on merge",
    "- discount code OLD10 (−10% on all products) — no longer declared; its name starts with an "
    "ownership.discount_code_prefixes entry",
    "    when: ends the live discount code at apply",
]
OWNERSHIP = (
    "Ownership record boldrules.ownership.default will be created, listing 2 objects (not a "
    "pricing change)."
)
SAFETY = "Safety: 1 delete and 1 update of 2 managed objects (50% / 50%): within limits."
SUMMARY = "Plan: 1 to create, 1 to update, 1 to delete."
