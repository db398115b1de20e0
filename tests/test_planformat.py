"""The plan renderers: one small plan (a create, an update, a delete) as text for a terminal,
Markdown for a pull-request comment and JSON for tools, compared as whole lines.

The plan is real: manifests on disk planned against the in-process sandbox at a fixed instant.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from reconciler import client, errors, plan, sources
from reconciler import (
    planformat as report_module,  # the one line to change if the module is renamed
)

from .projects import plan_for, seed_code, seed_ruleset, spring_manifest, write_project

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


def test_text_shows_each_object_once_with_its_changed_fields(small_plan: plan.Plan) -> None:
    assert report_module.render_text(small_plan).splitlines() == [
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
    lines = report_module.render_text(small_plan, color=True).splitlines()
    assert lines[1] == "\x1b[31m\x1b[1mDeletes 1 object: discount code OLD10.\x1b[0m"
    assert lines[3] == "\x1b[33m\x1b[1m~ ruleset spring\x1b[0m"
    assert lines[4] == "    rules[gold]: gold −50% → gold −40%"  # details stay plain


def test_markdown_is_a_comment_with_codes_masked(small_plan: plan.Plan) -> None:
    checksum = small_plan.checksum[:12]
    assert report_module.render_markdown(small_plan).splitlines() == [
        "<!-- boldrules-plan target=sandbox -->",
        "### 📝 boldrules plan for `sandbox` (shop `sandbox-shop`)",
        "",
        "> [!IMPORTANT]",
        "> **Deletes 1 object**: discount code O•••• (5).",
        "",
        "| object | create | update | delete |",
        "|---|---:|---:|---:|",
        "| ruleset | 0 | 1 | 0 |",
        "| discount code | 1 | 0 | 1 |",
        "",
        f"**{SUMMARY}**",
        "",
        SAFETY,
        "",
        "<details><summary>Changes (3)</summary>",
        "",
        "```diff",
        "~ ruleset spring",
        "!     rules[gold]: gold −50% → gold −40%",
        "!     when: changes the live ruleset spring at apply",
        "+ discount code SP•••• (8) (−15% on all products; pricing/spring.yaml:8:14)",
        "!     when: goes live on merge",
        "- discount code O•••• (5) (−10% on all products) — no longer declared; its name starts "
        "with an ownership.discount_code_prefixes entry",
        "!     when: ends the live discount code at apply",
        "```",
        "",
        "</details>",
        "",
        OWNERSHIP,
        "",
        f"<sub>checksum <code>{checksum}</code> · API version 2022-10-14 · boldrules 0.1.0 · "
        "planned 2027-02-01T09:30:00Z · discount code names masked</sub>",
    ]


def test_markdown_shows_codes_when_asked(small_plan: plan.Plan) -> None:
    text = report_module.render_markdown(small_plan, show_codes=True)
    assert "> **Deletes 1 object**: discount code OLD10." in text.splitlines()
    assert "•" not in text


def test_markdown_folds_what_does_not_fit_a_comment(small_plan: plan.Plan) -> None:
    whole = report_module.render_markdown(small_plan)
    folded = report_module.render_markdown(small_plan, limit=len(whole) - 1)
    assert len(folded) < len(whole)
    assert "- discount code O•••• (5)" not in folded
    assert "<details><summary>Changes (3)</summary>" in whole.splitlines()


def test_json_is_the_plan_document_of_the_schema(small_plan: plan.Plan) -> None:
    document = json.loads(report_module.render_json(small_plan))
    assert list(sources.validator_for("plan.schema.json").iter_errors(document)) == []
    assert document["summary"] == {"create": 1, "update": 1, "delete": 1}
    assert document["created_at"] == "2027-02-01T09:30:00Z"
    assert [(c["action"], c["id"]) for c in document["changes"]] == [
        ("update", "ruleset:spring"),
        ("create", "discount_code:SPRING15"),
        ("delete", "discount_code:OLD10"),
    ]


@pytest.mark.parametrize(
    ("fmt", "first_line"),
    [
        ("text", "Target sandbox (shop sandbox-shop, API version 2022-10-14)"),
        ("markdown", "<!-- boldrules-plan target=sandbox -->"),
        ("json", "{"),
    ],
)
def test_render_dispatches_on_the_format(small_plan: plan.Plan, fmt: str, first_line: str) -> None:
    assert report_module.render(small_plan, fmt).splitlines()[0] == first_line


def test_a_broken_markdown_template_is_a_located_error(tmp_path: Path) -> None:
    template = tmp_path / "plan.md.j2"
    template.write_text("{{ summary }}\n{% for b in blocks %}\n")
    with pytest.raises(errors.ConfigError) as refused:
        report_module.load_template(template)
    assert str(refused.value) == (
        f"{template}:2: template error: Unexpected end of template. Jinja was looking for the "
        "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."
    )
