"""The ownership record through the real CLI: what a project managed is deleted once it is no
longer declared; what people or other projects made is never touched (docs/ownership.md)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler import cli, config, connect, ownership

RULESETS = """\
rulesets:
  - external_id: {name}-vip
    product_selection: {{type: PRODUCTS_ALL}}
    rules:
      - external_id: gold
        type: DISCOUNT
        conditions: [{{type: CUSTOMER_GROUP, value: gold}}]
        actions: [{{type: PRICE_ADJUST_PERCENT, value: -10}}]
"""

CODES = """\
discount_codes:
  - codes: [{codes}]
    action: {{type: PRICE_ADJUST_PERCENT, value: -10}}
    product_selection: {{type: PRODUCTS_ALL}}
"""

ZONES = """\
order_conditions:
  - name: {group}
    value: west
    field_sets:
      - {{customer.shipping.country_code: CA, customer.shipping.province_code: BC}}
"""

Run = Callable[..., Result]


def make_project(
    root: Path, shop_file: Path, *, name: str, codes: str, group: str, record: str | None
) -> Path:
    """A project with one ruleset, two codes and one order condition; no ownership settings."""
    (root / "pricing").mkdir(parents=True)
    (root / "pricing" / "rulesets.yaml").write_text(RULESETS.format(name=name))
    (root / "pricing" / "codes.yaml").write_text(CODES.format(codes=codes))
    (root / "pricing" / "zones.yaml").write_text(ZONES.format(group=group))
    text = f"targets:\n  sandbox:\n    sandbox: {shop_file}\n    rate: 1000\n    burst: 1000\n"
    if record is not None:
        text += f"ownership: {{record: {record}}}\n"
    (root / "boldrules.yaml").write_text(text)
    return root


def runner_for(root: Path) -> Run:
    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            cli.main, ["-C", str(root), *args], input=input, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    return tmp_path / "shared-shop.sqlite"


@pytest.fixture
def project(tmp_path: Path, shop_file: Path) -> Path:
    return make_project(
        tmp_path / "a",
        shop_file,
        name="a",
        codes="WELCOME10, FRIENDS10",
        group="REGION",
        record=None,
    )


@pytest.fixture
def run(project: Path) -> Run:
    return runner_for(project)


@pytest.fixture
def shop(project: Path) -> Iterator[Any]:
    """Our app's client on the same shop, to act behind the tool's back."""
    target = config.load_project(project).target(None)
    with connect.connect(target) as bold:
        yield bold


def hand_made_code(shop: Any, name: str) -> None:
    shop.create_discount_codes(
        {
            "codes": [name],
            "action": {"type": "PRICE_ADJUST_PERCENT", "value": -5},
            "product_selection": {"type": "PRODUCTS_ALL"},
        }
    )


def codes_in(shop: Any) -> list[str]:
    return sorted(d["code"] for d in shop.list_discount_codes())


def body(result: Result) -> list[str]:
    """The plan's lines after its heading (and the line naming its deletes)."""
    lines = result.stdout.splitlines()
    return lines[3:] if lines[1].startswith("Deletes ") else lines[2:]


def test_a_code_removed_from_the_manifests_is_deleted_and_a_hand_made_one_stays(
    run: Run, project: Path, shop: Any
) -> None:
    assert run("apply", "--yes").exit_code == 0
    hand_made_code(shop, "STAFF5")
    (project / "pricing" / "codes.yaml").unlink()
    (project / "pricing" / "zones.yaml").unlink()
    planned = run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.stderr
    assert body(planned) == [
        "- discount code FRIENDS10 (−10% on all products) — no longer declared; recorded as managed by this project",
        "    when: ends the live discount code at apply",
        "- discount code WELCOME10 (−10% on all products) — no longer declared; recorded as managed by this project",
        "    when: ends the live discount code at apply",
        "- order condition REGION=west (1 field set: CA/BC) — no longer declared; recorded as managed by this project",
        "",
        "Ownership record boldrules.ownership.default will be updated: +0 −3, listing 1 object (not a pricing change).",
        "Left alone: 1 discount code not managed here.",
        "Safety: 3 deletes and 0 updates of 4 managed objects (75% / 0%): within limits.",
        "Plan: 0 to create, 0 to update, 3 to delete.",
    ]
    applied = run("apply", "--yes", "--allow-delete")
    assert applied.exit_code == 0, applied.stderr
    assert "Ownership record boldrules.ownership.default now lists 1 object." in applied.stderr
    assert codes_in(shop) == ["STAFF5"]
    assert shop.list_order_conditions() == []
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0
    assert body(again) == [
        "Left alone: 1 discount code not managed here.",
        "Safety: 0 deletes and 0 updates of 1 managed object (0% / 0%): within limits.",
        "No changes.",
    ]


def test_the_first_apply_after_upgrading_records_what_the_manifests_name(
    run: Run, project: Path, shop: Any
) -> None:
    # A shop brought to the manifests by a boldrules that kept no record: same objects, no record.
    assert run("apply", "--yes").exit_code == 0
    shop.delete_ruleset(ownership.record_id("default"))
    planned = run("plan", "--detailed-exitcode")
    assert planned.exit_code == 0  # the record is bookkeeping, not a pending change
    assert body(planned) == [
        "Ownership record boldrules.ownership.default will be created, listing 4 objects (not a pricing change).",
        "Safety: 0 deletes and 0 updates of 4 managed objects (0% / 0%): within limits.",
        "No changes.",
    ]
    markdown = run("plan", "--format", "markdown")
    assert (
        "Ownership record boldrules.ownership.default will be created, listing 4 objects (not a "
        "pricing change).\n"
    ) in markdown.stdout
    applied = run("apply", "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert applied.stderr == "Ownership record boldrules.ownership.default now lists 4 objects.\n"
    shown = run("ownership", "show")
    assert shown.stdout.splitlines()[1:] == [
        "  order_condition:REGION=west",
        "  ruleset:a-vip",
        "  discount_code:FRIENDS10",
        "  discount_code:WELCOME10",
    ]
    assert shown.stdout.startswith(
        "Ownership record boldrules.ownership.default: 4 objects, in 1 member rule; written "
    )
    (project / "pricing" / "codes.yaml").unlink()
    assert run("apply", "--yes", "--allow-delete").exit_code == 0
    assert codes_in(shop) == []


def test_a_record_deleted_by_hand_is_rebuilt_and_what_was_dropped_meanwhile_stays(
    run: Run, project: Path, shop: Any
) -> None:
    assert run("apply", "--yes").exit_code == 0
    shop.delete_ruleset(ownership.record_id("default"))
    (project / "pricing" / "codes.yaml").unlink()
    planned = run("plan")
    assert body(planned) == [
        "Ownership record boldrules.ownership.default will be created, listing 2 objects (not a pricing change).",
        "Left alone: 2 discount codes not managed here.",
        "Safety: 0 deletes and 0 updates of 2 managed objects (0% / 0%): within limits.",
        "No changes.",
    ]
    assert run("apply", "--yes").exit_code == 0
    assert codes_in(shop) == ["FRIENDS10", "WELCOME10"]  # remove by hand, as docs/ownership.md says
    shown = run("ownership", "show", "--format", "json")
    assert '"members": [\n    [\n      "order_condition"' in shown.stdout


def test_a_damaged_record_is_ignored_and_rewritten(run: Run, project: Path, shop: Any) -> None:
    assert run("apply", "--yes").exit_code == 0
    record = shop.get_ruleset(ownership.record_id("default"))
    record["rules"] = [r for r in record["rules"] if r["external_id"] == ownership.HEADER_RULE]
    shop.upsert_ruleset(ownership.record_id("default"), record)
    planned = run("plan")
    assert body(planned)[0] == (
        "Ownership record boldrules.ownership.default will be created (the shop's copy is "
        "damaged: the header lists 1 member rules, found 0), listing 4 objects (not a pricing change)."
    )
    assert run("ownership", "show").stdout.splitlines()[0] == (
        "Ownership record boldrules.ownership.default is damaged: the header lists 1 member "
        "rules, found 0."
    )
    assert run("apply", "--yes").exit_code == 0
    assert run("plan").stdout.splitlines()[-1] == "No changes."
    assert "4 objects" in run("ownership", "show").stdout.splitlines()[0]


def test_two_projects_in_one_shop_keep_their_own_records(
    tmp_path: Path, shop_file: Path, project: Path, run: Run, shop: Any
) -> None:
    other = make_project(
        tmp_path / "b", shop_file, name="b", codes="B2B20", group="B2B", record="wholesale"
    )
    run_b = runner_for(other)
    assert run("apply", "--yes").exit_code == 0
    planned_b = run_b("plan")
    assert body(planned_b)[-4:] == [
        "Ownership record boldrules.ownership.wholesale will be created, listing 3 objects (not a pricing change).",
        "Left alone: 2 discount codes recorded by project 'default'; 1 order condition recorded by project 'default'; 1 ruleset recorded by project 'default'.",
        "Safety: 0 deletes and 0 updates of 0 managed objects (0% / 0%): within limits.",
        "Plan: 3 to create, 0 to update, 0 to delete.",
    ]
    assert run_b("apply", "--yes").exit_code == 0
    again = run("plan")
    assert body(again) == [
        "Left alone: 1 discount code recorded by project 'wholesale'; 1 order condition recorded by project 'wholesale'; 1 ruleset recorded by project 'wholesale'.",
        "Safety: 0 deletes and 0 updates of 4 managed objects (0% / 0%): within limits.",
        "No changes.",
    ]
    # Project a drops everything it declared; b's objects are not a's to delete.
    for manifest in (project / "pricing").iterdir():
        manifest.write_text("{}\n")
    dropped = run("apply", "--yes", "--allow-delete")
    assert dropped.exit_code == 0, dropped.stderr
    assert codes_in(shop) == ["B2B20"]
    assert sorted(r["external_id"] for r in shop.list_rulesets()) == [
        "b-vip",
        "boldrules.ownership.default",
        "boldrules.ownership.wholesale",
    ]
    assert run_b("plan").stdout.splitlines()[-1] == "No changes."


def test_reserved_external_ids_are_a_located_validate_error(run: Run, project: Path) -> None:
    (project / "pricing" / "rulesets.yaml").write_text(
        RULESETS.format(name="x").replace("x-vip", "boldrules.lock.default")
    )
    result = run("validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "pricing/rulesets.yaml:2:18: ruleset boldrules.lock.default > external_id: external ids "
        "starting with 'boldrules.' are reserved for boldrules' own bookkeeping in the shop "
        "(ownership record, apply lock): choose another external_id",
        "1 problem in 1 file",
    ]


def test_bookkeeping_rulesets_are_never_planned_changed_or_exported(
    run: Run, project: Path, shop: Any
) -> None:
    assert run("apply", "--yes").exit_code == 0
    for manifest in (project / "pricing").iterdir():
        manifest.write_text("{}\n")
    planned = run("plan")
    assert "boldrules." not in "".join(
        line for line in planned.stdout.splitlines() if line.startswith(("+", "-", "~"))
    )
    assert "Plan: 0 to create, 0 to update, 4 to delete." in planned.stdout
    exported = run("export", "--out", "exported", "--all-codes")
    assert exported.exit_code == 0, exported.stderr
    written = "".join(p.read_text() for p in (project / "exported").rglob("*.yaml"))
    assert "a-vip" in written
    assert "boldrules." not in written


def test_export_writes_what_the_record_lists_and_plans_back_to_no_changes(
    run: Run, project: Path, shop: Any
) -> None:
    assert run("apply", "--yes").exit_code == 0
    hand_made_code(shop, "STAFF5")
    exported = run("export", "--out", "exported")
    assert exported.exit_code == 0, exported.stderr
    assert "Wrote 3 files to " in exported.stderr
    assert "Left out, not owned by this project: 1 discount code." in exported.stderr
    written = "".join(p.read_text() for p in (project / "exported").rglob("*.yaml"))
    assert "WELCOME10" in written and "FRIENDS10" in written and "STAFF5" not in written
    shutil.rmtree(project / "pricing")
    (project / "exported").rename(project / "pricing")
    assert run("plan").stdout.splitlines()[-1] == "No changes."


def test_a_saved_plan_deletes_recorded_codes_and_updates_the_record(
    run: Run, project: Path, shop: Any
) -> None:
    assert run("apply", "--yes").exit_code == 0
    (project / "pricing" / "codes.yaml").unlink()
    saved = project / "plan.json"
    planned = run("plan", "--out", str(saved))
    assert "Plan: 0 to create, 0 to update, 2 to delete." in planned.stdout
    applied = run("apply", str(saved), "--yes", "--allow-delete")
    assert applied.exit_code == 0, applied.stderr
    assert (
        "- discount code FRIENDS10 (−10% on all products) — no longer declared; recorded as "
        "managed by this project"
    ) in applied.stdout.splitlines()
    assert "Ownership record boldrules.ownership.default now lists 2 objects." in applied.stderr
    assert codes_in(shop) == []
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_an_object_two_projects_declare_is_pointed_out(
    tmp_path: Path, shop_file: Path, run: Run
) -> None:
    other = make_project(
        tmp_path / "b", shop_file, name="b", codes="WELCOME10", group="B2B", record="wholesale"
    )
    assert run("apply", "--yes").exit_code == 0
    planned = runner_for(other)("plan")
    assert (
        "Note: discount code WELCOME10 is also recorded by project 'default': both projects "
        "change it now; declare it in one of them only (docs/ownership.md)."
    ) in planned.stdout.splitlines()


def test_while_another_projects_record_is_damaged_unrecorded_rulesets_are_left_alone(
    tmp_path: Path, shop_file: Path, project: Path, run: Run, shop: Any
) -> None:
    other = make_project(
        tmp_path / "b", shop_file, name="b", codes="B2B20", group="B2B", record="wholesale"
    )
    assert runner_for(other)("apply", "--yes").exit_code == 0
    damaged = shop.get_ruleset(ownership.record_id("wholesale"))
    damaged["rules"] = damaged["rules"][:1]
    shop.upsert_ruleset(ownership.record_id("wholesale"), damaged)
    planned = run("plan")
    assert (
        "Left alone: 1 discount code not managed here; 1 order condition group not managed "
        "here; 1 ruleset perhaps of project 'wholesale' (its ownership record is damaged)."
    ) in planned.stdout.splitlines()
    assert "b-vip" not in planned.stdout
