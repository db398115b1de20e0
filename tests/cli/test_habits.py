"""Terraform's habits: `show` a saved plan, one question naming the deletes, `apply --format
json`, global options after the command, `--template` only with Markdown, paths from the
repository root, and a .gitignore in every example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler import cli

from .conftest import EXAMPLES, PROJECT_FILE, Run
from .test_terminal import _read_until


def test_show_renders_a_saved_plan_as_plan_printed_it(run: Run, project: Path) -> None:
    saved = project / "plan.json"
    planned = run("plan", "--out", str(saved))
    shown = run("show", str(saved))
    assert shown.exit_code == 0, shown.output
    bookkeeping = ("Ownership record",)
    assert shown.stdout.splitlines() == [
        line for line in planned.stdout.splitlines() if not line.startswith(bookkeeping)
    ]
    markdown = run("show", str(saved), "--format", "markdown")
    assert markdown.stdout.startswith("<!-- boldrules-plan target=sandbox -->")
    assert "+ discount code SP•••• (8) (" in markdown.stdout
    assert json.loads(run("show", str(saved), "--format", "json").stdout) == json.loads(
        saved.read_text()
    )


def test_show_of_a_plan_that_deletes_names_what_each_delete_removes(
    run: Run, project: Path
) -> None:
    assert run("apply", "--yes").exit_code == 0
    (project / "pricing" / "discount-codes.yaml").unlink()
    saved = project / "plan.json"
    run("plan", "--out", str(saved))
    lines = run("show", str(saved)).stdout.splitlines()
    assert lines[1] == (
        "Deletes 2 objects: discount code SPRING15, discount code SPRING15-NEWSLETTER."
    )
    assert lines[3].startswith("- discount code SPRING15 (−15% on all products; cart ≥ 50.00;")
    assert lines[3].endswith(") — no longer declared; recorded as managed by this project")


def test_template_without_markdown_is_an_error(run: Run, project: Path) -> None:
    template = project / "t.md.j2"
    template.write_text("{{ summary }}\n")
    for args in (("plan",), ("show", str(project / "plan.json"))):
        result = run(*args, "--template", str(template))
        assert result.exit_code == 1
        assert result.stderr.splitlines()[-1] == (
            "Error: --template renders Markdown: add --format markdown"
        )
    assert run("plan", "--format", "markdown", "--template", str(template)).stdout == (
        "Plan: 7 to create, 0 to update, 0 to delete.\n"
    )


def test_apply_format_json_prints_a_result_per_object(run: Run) -> None:
    result = run("apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["result"] == "applied"
    assert document["summary"] == {"done": 7, "failed": 0, "skipped": 0, "not attempted": 0}
    first = document["objects"][0]
    assert first == {
        "object": "discount_code:SPRING15",
        "action": "create",
        "outcome": "done",
        "operation": "create_discount_codes",
        "calls": [
            {
                "operation": "create_discount_codes",
                "method": "POST",
                "path": "/price_rules/rules/v2/shops/sandbox-shop/discount_codes",
                "status": 201,
                "attempts": 1,
            }
        ],
    }
    assert "Plan: 7 to create, 0 to update, 0 to delete." in result.stderr
    again = json.loads(run("apply", "--yes", "--format", "json").stdout)
    assert (again["result"], again["objects"]) == ("no changes", [])


def test_apply_format_json_reports_a_refusal_too(run: Run, project: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    (project / "pricing" / "discount-codes.yaml").unlink()
    refused = run("apply", "--yes", "--format", "json")
    assert refused.exit_code == 4
    document = json.loads(refused.stdout)
    assert document["result"] == "refused (exit 4)"
    assert document["summary"] == {"done": 0, "failed": 0, "skipped": 0, "not attempted": 2}
    assert refused.stderr.splitlines()[-1].startswith("error: Refusing to delete 2 objects")


def test_global_options_are_accepted_after_the_command(run: Run, project: Path) -> None:
    quiet = run("apply", "--yes", "-q")
    assert quiet.exit_code == 0, quiet.output
    assert (quiet.stdout, quiet.stderr) == ("", "")
    # -v configures logging, which a real process shows (CliRunner keeps the first stream).
    loud = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "-v", "-C", str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert loud.returncode == 0, loud.stderr
    assert "GET /shops/v1/info → 200 in " in loud.stderr


def test_validate_prints_paths_from_where_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "shop"
    (shop / "pricing").mkdir(parents=True)
    (shop / "boldrules.yaml").write_text(PROJECT_FILE)
    (shop / "pricing" / "a.yaml").write_text("rulesets: [{external_id: x}]\n")
    monkeypatch.chdir(tmp_path)  # the repository root, as the pre-commit hook runs it
    result = CliRunner().invoke(cli.main, ["-C", "shop", "validate"])
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0].startswith("shop/pricing/a.yaml:1:12: ruleset x")
    monkeypatch.chdir(shop)
    inside = CliRunner().invoke(cli.main, ["validate"])
    assert inside.stdout.splitlines()[0].startswith("pricing/a.yaml:1:12: ruleset x")


def test_every_example_ignores_what_boldrules_writes() -> None:
    for example in sorted(p for p in EXAMPLES.iterdir() if (p / "boldrules.yaml").exists()):
        ignored = (example / ".gitignore").read_text().splitlines()
        assert ".boldrules/" in ignored, example.name


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_a_saved_plan_asks_once_on_a_terminal_naming_the_deletes(run: Run, project: Path) -> None:
    import pty

    assert run("apply", "--yes").exit_code == 0
    (project / "pricing" / "discount-codes.yaml").unlink()
    saved = project / "plan.json"
    run("plan", "--out", str(saved))
    main, secondary = pty.openpty()
    process: Any = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(project), "apply", str(saved)],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
        close_fds=True,
    )
    os.close(secondary)
    try:
        screen = _read_until(main, "[y/N]:")
        os.write(main, b"y\n")
        screen += _read_until(main, "\x00", timeout=20.0)
        code = process.wait(timeout=30)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
    assert code == 0, screen
    assert screen.count("[y/N]:") == 1
    assert (
        "Deletes 2 objects: discount code SPRING15, discount code SPRING15-NEWSLETTER. Apply "
        "these changes to shop sandbox-shop (target sandbox)? [y/N]:"
    ) in " ".join(screen.split())
    assert "Apply complete: 2 calls succeeded." in screen
    shutil.rmtree(project / ".boldrules", ignore_errors=True)
