"""The user's loop through the real CLI: plan, apply, plan again, drift, saved plans, safety."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler import state

from .conftest import Run

#: The quick start's sale runs next spring, whatever year the tests run in (see conftest).
YEAR = dt.date.today().year + 1

CREATES = f"""\
Target sandbox (shop sandbox-shop, API version 2022-10-14)

+ order condition ZONE=maritimes (3 field sets: CA/NB, CA/NS, CA/PE; pricing/zones.yaml:10:5)
+ order condition ZONE=prairies (3 field sets: CA/AB, CA/MB, CA/SK; pricing/zones.yaml:4:5)
+ ruleset bulk-coffee (2 rules: qty ≥ 50 price 17.99 and −4.00, qty ≥ 10 price 17.99; collection 412345678; pricing/rulesets.yaml:21:5)
    when: goes live on merge
+ ruleset prairies-free-shipping (2 rules: ZONE=maritimes −5%, ZONE=prairies −10%; collection 412345679; pricing/rulesets.yaml:36:5)
    when: goes live on merge
+ ruleset spring-sale-2027 (2 rules: gold −50%, silver −25%; SKU-100, SKU-200; {YEAR}-03-01 → 03-31; pricing/rulesets.yaml:4:5)
    when: goes live NEXT-03-01, in N days
+ discount code SPRING15 (−15% on all products; cart ≥ 50.00; 1 per customer; {YEAR}-03-01 → 03-31; pricing/discount-codes.yaml:4:13)
    when: goes live NEXT-03-01, in N days
+ discount code SPRING15-NEWSLETTER (−15% on all products; cart ≥ 50.00; 1 per customer; {YEAR}-03-01 → 03-31; pricing/discount-codes.yaml:4:23)
    when: goes live NEXT-03-01, in N days

Ownership record boldrules.ownership.default will be created, listing 7 objects (not a pricing change).
Safety: 0 deletes and 0 updates of 0 managed objects (0% / 0%): within limits.
Plan: 7 to create, 0 to update, 0 to delete.
"""


def dated(text: str) -> str:
    """``text`` with next spring's date and the day count (both move with the clock) as
    written in ``CREATES``."""
    return re.sub(r"\b\d{4}-03-01, in \d+ days", "NEXT-03-01, in N days", text)


NO_CHANGES = """\
Target sandbox (shop sandbox-shop, API version 2022-10-14)

Safety: 0 deletes and 0 updates of 7 managed objects (0% / 0%): within limits.
No changes.
"""


def test_first_plan_lists_the_creates_and_exits_2(run: Run) -> None:
    result = run("plan", "--detailed-exitcode")
    assert dated(result.stdout) == CREATES
    assert result.exit_code == 2


def test_apply_then_plan_says_no_changes(run: Run) -> None:
    applied = run("apply", "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert dated(applied.stdout) == CREATES
    assert "[6/6]" in applied.stderr
    assert applied.stderr.rstrip().endswith("Apply complete: 6 calls succeeded.")
    again = run("plan", "--detailed-exitcode")
    assert (again.stdout, again.exit_code) == (NO_CHANGES, 0)
    assert run("apply", "--yes").stdout == NO_CHANGES


def test_a_field_changed_behind_our_back_shows_exactly_that_field(run: Run, shop: Any) -> None:
    run("apply", "--yes")
    live = next(r for r in shop.list_rulesets() if r["external_id"] == "spring-sale-2027")
    live["rules"][0]["actions"][0]["value"] = -60
    shop.upsert_ruleset("spring-sale-2027", live)
    result = run("plan", "--detailed-exitcode")
    assert result.exit_code == 2
    assert result.stdout.splitlines()[2:4] == [
        "~ ruleset spring-sale-2027",
        "    rules[gold-half-off]: gold −60% → gold −50%",
    ]
    assert result.stdout.splitlines()[-1] == "Plan: 0 to create, 1 to update, 0 to delete."


def test_apply_without_a_terminal_or_yes_refuses(run: Run) -> None:
    result = run("apply")
    assert result.exit_code == 4
    assert "no terminal to ask on" in result.stderr
    assert "--yes" in result.stderr


def test_unattended_deletes_need_allow_delete(run: Run, project: Path) -> None:
    run("apply", "--yes")
    (project / "pricing" / "discount-codes.yaml").unlink()
    refused = run("apply", "--yes")
    assert refused.exit_code == 4
    assert (
        "Refusing to delete 2 objects in an unattended run. Re-run with --allow-delete if intended."
        in refused.stderr
    )
    done = run("apply", "--yes", "--allow-delete")
    assert done.exit_code == 0, done.stderr
    assert "- discount code SPRING15" in done.stdout


def test_safety_limits_refuse_with_exit_4_and_force_lifts_them(run: Run, project: Path) -> None:
    run("apply", "--yes")
    (project / "pricing" / "rulesets.yaml").write_text("rulesets: []\n")
    (project / "pricing" / "discount-codes.yaml").unlink()
    (project / "boldrules.yaml").write_text(
        (project / "boldrules.yaml").read_text().replace("max_deletes: 5", "max_deletes: 4")
    )
    # The prairies rulesets referred to the zones; dropping them leaves the zones valid alone.
    planned = run("plan")
    assert planned.exit_code == 4
    assert "Plan: 0 to create, 0 to update, 5 to delete." in planned.stdout
    assert (
        "Refusing to delete 5 objects (3 rulesets, 2 discount codes; limit 4 by safety.max_deletes). Re-run with --force if intended."
        in planned.stderr
    )
    assert run("apply", "--yes", "--allow-delete").exit_code == 4
    forced = run("apply", "--yes", "--allow-delete", "--force")
    assert forced.exit_code == 0, forced.stderr
    # Under --force the broken limit reads as overridden, never as "Re-run with --force".
    assert forced.stdout.splitlines()[-3:-1] == [
        "Safety: 5 deletes and 0 updates of 7 managed objects (71% / 0%): limits broken, "
        "overridden by --force:",
        "  ! overridden by --force: delete 5 objects (3 rulesets, 2 discount codes; limit 4 by "
        "safety.max_deletes).",
    ]
    assert "Re-run with --force" not in forced.output


def test_saved_plan_is_applied_exactly_or_refused_when_stale(
    run: Run, project: Path, shop: Any
) -> None:
    run("apply", "--yes")
    rulesets = project / "pricing" / "rulesets.yaml"
    rulesets.write_text(
        rulesets.read_text().replace("public_name: Spring sale", "public_name: Spring sale!")
    )
    saved = project / "plan.json"
    assert run("plan", "--out", str(saved)).exit_code == 0
    # Someone edits the same ruleset in the Bold admin before the plan is applied.
    live = next(r for r in shop.list_rulesets() if r["external_id"] == "spring-sale-2027")
    shop.upsert_ruleset("spring-sale-2027", {**live, "priority": 99})
    stale = run("apply", str(saved), "--yes")
    assert stale.exit_code == 6
    assert (
        "ruleset spring-sale-2027: changed by someone else since the plan was made" in stale.stderr
    )
    # A fresh plan picks up both the edit and the manifest change, and converges.
    assert run("plan", "--out", str(saved)).exit_code == 0
    applied = run("apply", str(saved), "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_saved_plan_for_another_shop_is_refused(run: Run, project: Path) -> None:
    saved = project / "plan.json"
    run("plan", "--out", str(saved))
    document = json.loads(saved.read_text())
    document["shop"] = "some-other-shop"
    saved.write_text(json.dumps(document))
    result = run("apply", str(saved), "--yes")
    assert result.exit_code == 1
    assert "was made for shop 'some-other-shop'" in result.stderr


def test_json_output_matches_the_plan_schema(run: Run) -> None:
    result = run("plan", "--format", "json")
    document = json.loads(result.stdout)
    schema = json.loads(
        resources.files("reconciler.schemas").joinpath("plan.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        document
    )
    assert document["summary"] == {"create": 7, "update": 0, "delete": 0}


def test_markdown_masks_codes_unless_asked(run: Run) -> None:
    masked = run("plan", "--format", "markdown").stdout
    assert masked.startswith(
        "<!-- boldrules-plan target=sandbox -->\n### 📝 boldrules plan for `sandbox`"
    )
    assert "| ruleset | 3 | 0 | 0 |" in masked
    assert "+ discount code SP•••• (8) (" in masked
    assert "SPRING15" not in masked
    shown = run("plan", "--format", "markdown", "--show-codes").stdout
    assert "+ discount code SPRING15 (" in shown


def test_markdown_stays_under_githubs_comment_limit(run: Run, project: Path) -> None:
    many = "\n".join(
        f"  - external_id: bulk-{i:04}-{'x' * 60}\n    product_selection: {{type: PRODUCTS_ALL}}\n    rules:\n"
        f"      - {{external_id: r, type: DISCOUNT, conditions: [], actions: [{{type: PRICE_ADJUST_PERCENT, value: -1}}]}}"
        for i in range(1500)
    )
    (project / "pricing" / "many.yaml").write_text("rulesets:\n" + many + "\n")
    text = run("plan", "--format", "markdown").stdout
    assert len(text) <= 60_000
    assert "more changes not shown to stay under GitHub's comment limit" in text
    assert "**Plan: 1507 to create, 0 to update, 0 to delete.**" in text


def test_only_and_exclude_make_a_partial_plan(run: Run) -> None:
    result = run("plan", "--only", "ruleset:*", "--exclude", "ruleset:bulk-*")
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "PARTIAL plan: only objects matching --only ruleset:*, less those matching --exclude "
        "ruleset:bulk-*, were compared; other differences are not shown."
    )
    assert [line.split(" (")[0] for line in lines if line.startswith("+")] == [
        "+ ruleset prairies-free-shipping",
        "+ ruleset spring-sale-2027",
    ]
    excluded = run("plan", "--exclude", "discount_code:*").stdout.splitlines()
    assert excluded[1] == (
        "PARTIAL plan: objects matching --exclude discount_code:* were left out; their "
        "differences are not shown."
    )


def test_ledger_records_every_call(run: Run, project: Path) -> None:
    ledger = project / "ledger.jsonl"
    run("apply", "--yes", "--ledger", str(ledger))
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert len(entries) == 6
    assert {e["method"] for e in entries} == {"POST", "PUT"}
    assert all(e["outcome"] == "ok" and e["status"] in (200, 201) for e in entries)
    first = next(e for e in entries if e["operation"] == "upsert_ruleset")
    assert first["path"].startswith("/price_rules/rules/v2/shops/sandbox-shop/rulesets/external/")
    assert set(first) >= {
        "time",
        "object",
        "operation",
        "method",
        "path",
        "status",
        "milliseconds",
        "outcome",
    }


def test_remote_target_without_its_token_is_one_line_exit_7(run: Run, project: Path) -> None:
    (project / "boldrules.yaml").write_text(
        "manifests: [pricing/]\ndefault_target: production\ntargets:\n  production:\n"
        "    api_url: https://api.boldcommerce.com\n    shop_identifier: zp3oafdor9\n    token_env: BOLD_TEST_TOKEN_UNSET\n"
    )
    result = run("plan", env={"BOLD_TEST_TOKEN_UNSET": ""})
    assert result.exit_code == 7
    assert result.stderr.strip().splitlines() == [
        "error: target 'production' reads its token from $BOLD_TEST_TOKEN_UNSET, which is not set: "
        "export BOLD_TEST_TOKEN_UNSET=<your Bold API token> (never put the token in a file)"
    ]


def test_invalid_manifests_stop_plan_before_any_call(run: Run, project: Path) -> None:
    (project / "pricing" / "broken.yaml").write_text("rulesets:\n  - external_id: x\n")
    result = run("plan")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0].startswith("pricing/broken.yaml:2:5: ")
    # No shop was opened: the sandbox was never created (only the read cache may be there).
    assert sorted(p.name for p in (project / ".boldrules").glob("*")) in ([], ["cache"])


@pytest.mark.parametrize("split", [False, True])
def test_export_plans_back_to_no_changes(run: Run, project: Path, shop: Any, split: bool) -> None:
    run("apply", "--yes")
    # A ruleset made by hand in the admin, with a rule that has no external id.
    hand = state.ruleset_to_api(
        state.ruleset_resource(
            {
                "external_id": "by-hand",
                "product_selection": {"type": "PRODUCTS_ALL"},
                "rules": [
                    {
                        "external_id": "x",
                        "type": "DISCOUNT",
                        "conditions": [],
                        "actions": [{"type": "PRICE_ADJUST_RELATIVE", "value": -100}],
                    }
                ],
            }
        ).body
    )
    hand["rules"][0].pop("external_id")
    shop.upsert_ruleset("by-hand", hand)
    shop.upsert_ruleset(
        "no-rules-yet",
        {"external_id": "no-rules-yet", "product_selection": {"type": "PRODUCTS_ALL"}, "rules": []},
    )
    args = ["export", "--out", "exported", "--all-codes"] + (["--split"] if split else [])
    exported = run(*args)
    assert exported.exit_code == 0, exported.stderr
    text = "\n".join(p.read_text() for p in sorted((project / "exported").rglob("*.yaml")))
    rule_id = next(r["id"] for r in shop.get_ruleset("by-hand")["rules"])
    assert f"- external_id: discount-{rule_id}\n" in text
    assert (
        f"  adopt:\n    shop: sandbox-shop\n    rules:\n      discount-{rule_id}: {rule_id}\n"
        in text
    )
    # Adopt the export as the manifests: the plan names the rule in place, then is empty.
    (project / "boldrules.yaml").write_text(
        (project / "boldrules.yaml")
        .read_text()
        .replace("manifests: [pricing/]", "manifests: [exported/]")
    )
    assert run("validate").exit_code == 0
    first = run("plan")
    assert (
        f'~ ruleset by-hand\n    rules[discount-{rule_id}].external_id: + "discount-{rule_id}"\n'
        in (first.stdout)
    )
    assert "Plan: 0 to create, 1 to update, 0 to delete." in first.stdout
    assert run("apply", "--yes").exit_code == 0
    assert [(r["id"], r["external_id"]) for r in shop.get_ruleset("by-hand")["rules"]] == [
        (rule_id, f"discount-{rule_id}")
    ]
    result = run("plan", "--detailed-exitcode")
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "No changes."), result.stdout
    again = run(*args)
    assert again.exit_code == 1 and "--force" in again.stderr


def test_export_says_what_it_left_out(run: Run, project: Path, shop: Any) -> None:
    run("apply", "--yes")
    # Codes made by hand: neither declared, nor recorded by an apply, nor matched by a prefix.
    shop.create_discount_codes(
        {
            "codes": ["STAFF5", "FRIENDS5"],
            "action": {"type": "PRICE_ADJUST_PERCENT", "value": -5},
            "product_selection": {"type": "PRODUCTS_ALL"},
        }
    )
    (project / "boldrules.yaml").write_text(
        (project / "boldrules.yaml")
        .read_text()
        .replace("ownership: {discount_code_prefixes: [SPRING]}\n", "")
    )
    result = run("export", "--out", "exported")
    assert result.exit_code == 0
    assert "Wrote 3 files to" in result.stderr
    # The SPRING codes are exported all the same: the ownership record lists them.
    assert ": 2 order conditions, 3 rulesets, 2 discount codes." in result.stderr
    assert "Left out, not owned by this project: 2 discount codes." in result.stderr


def test_filters_that_match_nothing_are_an_error_naming_the_kinds(run: Run) -> None:
    typo = run("plan", "--only", "rulesets:*")
    assert (typo.exit_code, typo.stdout) == (1, "")
    assert typo.stderr == (
        "error: --only 'rulesets:*' matches nothing: 'rulesets' is not a kind (patterns are "
        "kind:name, the kinds are order_condition, ruleset, discount_code); did you mean "
        "'ruleset:*'?\n"
    )
    missing = run("plan", "--exclude", "ruleset:spring-sale")
    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: --exclude 'ruleset:spring-sale' matches no object in the manifests or the shop "
        "(objects with a near name: ruleset:spring-sale-2027); patterns are kind:name globs, "
        "e.g. 'ruleset:spring-*'\n"
    )
    assert run("apply", "--yes", "--only", "code:*").exit_code == 1
