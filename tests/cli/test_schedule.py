"""Schedule-aware plans and freeze windows, through the real command line: what goes live on
merge, later or ends at apply, judged at a fixed ``--at``; the Markdown timeline; a freeze that
refuses apply unless ``--force --reason``, the reason in the ledger."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from .conftest import Run


def sale_year(project: Path) -> int:
    """The year the project fixture moved the quick start's spring sale to."""
    text = (project / "pricing" / "rulesets.yaml").read_text()
    return int(text.split("start_date: ")[1][:4])


def whens(stdout: str) -> dict[str, str]:
    """Each change's heading (up to its first parenthesis) → its ``when:`` line."""
    found: dict[str, str] = {}
    heading = ""
    for line in stdout.splitlines():
        if line[:2] in ("+ ", "~ ", "- "):
            heading = line.split(" (")[0]
        elif line.startswith("    when: "):
            found[heading] = line.removeprefix("    when: ")
    return found


def test_a_plan_at_a_fixed_instant_names_what_goes_live_on_merge(run: Run, project: Path) -> None:
    year = sale_year(project)
    at = dt.datetime(year, 3, 5, tzinfo=dt.UTC)
    planned = run("plan", "--at", at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert planned.exit_code == 0, planned.stderr
    assert whens(planned.stdout) == {
        "+ ruleset bulk-coffee": "goes live on merge",
        "+ ruleset prairies-free-shipping": "goes live on merge",
        "+ ruleset spring-sale-2027": f"goes live on merge, until {year}-03-31T23:59:59Z (in 26 days)",
        "+ discount code SPRING15": f"goes live on merge, until {year}-03-31T23:59:59Z (in 26 days)",
        "+ discount code SPRING15-NEWSLETTER": (
            f"goes live on merge, until {year}-03-31T23:59:59Z (in 26 days)"
        ),
    }


def test_before_the_window_the_sale_goes_live_later(run: Run, project: Path) -> None:
    year = sale_year(project)
    at = dt.datetime(year - 1, 12, 1, tzinfo=dt.UTC)
    days = (dt.datetime(year, 3, 1, tzinfo=dt.UTC) - at).days
    planned = run("plan", "--at", f"{year - 1}-12-01T00:00:00Z", "--format", "json")
    document = json.loads(planned.stdout)
    schema = json.loads(resources.files("schemas").joinpath("plan.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["at"] == f"{year - 1}-12-01T00:00:00Z"
    assert document["schedule"]["ruleset:spring-sale-2027"] == (
        f"goes live {year}-03-01, in {days} days"
    )
    assert document["schedule"]["ruleset:bulk-coffee"] == "goes live on merge"
    assert document["timeline"] == []  # nothing starts or ends in the 60 days after Dec 1


def test_the_markdown_timeline_lists_the_boundaries_within_the_horizon(
    run: Run, project: Path
) -> None:
    year = sale_year(project)
    planned = run(
        "plan", "--at", f"{year}-02-15T00:00:00Z", "--horizon", "30", "--format", "markdown"
    )
    text = planned.stdout
    assert (
        f"<details><summary>Timeline: 3 boundaries after {year}-02-15T00:00:00Z</summary>" in text
    )
    assert f"\n{year}-03-01  ruleset spring-sale-2027 starts\n" in text
    assert f"\n{year}-03-01  discount code SP•••• (8) starts\n" in text  # names masked
    assert "ends" not in text.split("Timeline")[1].split("</details>")[0]
    wider = run("plan", "--at", f"{year}-02-15T00:00:00Z", "--format", "markdown").stdout
    assert f"\n{year}-03-31T23:59:59Z  ruleset spring-sale-2027 ends\n" in wider


def test_show_reads_back_a_saved_plan_whose_timeline_has_a_midnight(
    run: Run, project: Path
) -> None:
    # The timeline writes a midnight as a date alone; show must read it back as that instant.
    year = sale_year(project)
    saved = project / "plan.json"
    at = f"{year}-02-15T00:00:00Z"
    planned = run("plan", "--at", at, "--horizon", "30", "--out", str(saved))
    assert planned.exit_code == 0, planned.stderr
    assert json.loads(saved.read_text())["timeline"][0]["at"] == f"{year}-03-01"
    shown = run("show", str(saved), "--format", "markdown")
    assert shown.exit_code == 0, shown.stderr
    assert f"\n{year}-03-01  ruleset spring-sale-2027 starts\n" in shown.stdout
    assert f"<details><summary>Timeline: 3 boundaries after {at}</summary>" in shown.stdout


def test_removing_a_live_sale_ends_it_at_apply(run: Run, project: Path) -> None:
    year = sale_year(project)
    assert run("apply", "--yes").exit_code == 0
    rulesets = project / "pricing" / "rulesets.yaml"
    text = rulesets.read_text()
    start = text.index("  # Customer-group pricing")
    end = text.index("  # Volume pricing")
    rulesets.write_text(text[:start] + text[end:])
    planned = run("plan", "--at", f"{year}-03-10T00:00:00Z")
    assert whens(planned.stdout) == {
        "- ruleset spring-sale-2027": "ends the live ruleset spring-sale-2027 at apply"
    }
    before = run("plan", "--at", f"{year}-01-10T00:00:00Z")
    assert whens(before.stdout) == {
        "- ruleset spring-sale-2027": (
            f"cancels the ruleset spring-sale-2027, due to go live {year}-03-01, in 50 days"
        )
    }


def freeze(project: Path, start: str, end: str) -> None:
    with (project / "boldrules.yaml").open("a") as file:
        file.write(
            "freeze:\n"
            f"  - {{name: peak, start: '{start}', end: '{end}', reason: holiday traffic}}\n"
        )


def test_apply_refuses_during_a_freeze(run: Run, project: Path, shop: Any) -> None:
    freeze(project, "2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z")
    refused = run("apply", "--yes")
    assert refused.exit_code == 4
    assert (
        "Refusing to apply during freeze window peak (2000-01-01 to 2999-01-01: holiday "
        "traffic). Wait until 2999-01-01T00:00:00Z, or re-run with --force --reason TEXT "
        "(the reason goes in the ledger)."
    ) in refused.stderr
    assert shop.list_rulesets() == []
    forced_without_reason = run("apply", "--yes", "--force")
    assert forced_without_reason.exit_code == 4


def test_force_with_a_reason_applies_and_the_ledger_keeps_the_reason(
    run: Run, project: Path, shop: Any, tmp_path: Path
) -> None:
    freeze(project, "2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z")
    ledger = tmp_path / "ledger.jsonl"
    applied = run(
        "apply",
        "--yes",
        "--force",
        "--reason",
        "price typo fix, approved by ops",
        "--ledger",
        str(ledger),
    )
    assert applied.exit_code == 0, applied.stderr
    first = json.loads(ledger.read_text().splitlines()[0])
    assert (first["event"], first["freeze"], first["reason"]) == (
        "freeze-override",
        "peak",
        "price typo fix, approved by ops",
    )
    assert {r["external_id"] for r in shop.list_rulesets()} >= {
        "spring-sale-2027",
        "bulk-coffee",
        "prairies-free-shipping",
    }


def test_plan_says_it_was_made_during_a_freeze_and_what_lands_in_one(
    run: Run, project: Path
) -> None:
    year = sale_year(project)
    freeze(project, f"{year}-02-25T00:00:00Z", f"{year}-03-03T00:00:00Z")
    inside = run("plan", "--at", f"{year}-02-26T00:00:00Z")
    assert (
        f"Note: Planned during freeze window peak ({year}-02-25 to {year}-03-03: holiday "
        f"traffic): apply refuses until {year}-03-03 unless run with --force --reason TEXT."
    ) in inside.stdout
    assert (
        f"Note: ruleset spring-sale-2027 goes live {year}-03-01, inside freeze window peak "
        f"({year}-02-25 to {year}-03-03: holiday traffic)."
    ) in inside.stdout
    before = run("plan", "--at", f"{year}-01-01T00:00:00Z", "--format", "json")
    assert json.loads(before.stdout)["freeze"] is None


def test_a_freeze_that_ends_before_it_starts_is_a_located_project_error(
    run: Run, project: Path
) -> None:
    freeze(project, "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z")
    result = run("validate")
    assert result.exit_code == 3
    assert "boldrules.yaml:11:" in result.stdout
    assert "freeze[0].end: end 2026-01-01T00:00:00Z is not after start 2026-02-01T00:00:00Z" in (
        result.stdout
    )
