"""The table of formats: ``render`` dispatches through it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler import cli, plan, planformat


@pytest.mark.parametrize(
    ("fmt", "first_line"),
    [
        ("text", "Target sandbox (shop sandbox-shop, API version 2022-10-14)"),
        ("markdown", "<!-- boldrules-plan target=sandbox -->"),
        ("json", "{"),
    ],
)
def test_render_dispatches_on_the_format(small_plan: plan.Plan, fmt: str, first_line: str) -> None:
    assert planformat.render(small_plan, fmt).splitlines()[0] == first_line


@pytest.mark.parametrize("command", ["plan", "show"])
def test_the_commands_that_print_a_plan_offer_the_formats_of_the_table(command: str) -> None:
    assert list(planformat.FORMATS) == ["text", "markdown", "json"]
    refused = CliRunner().invoke(cli.main, [command, "--format", "xml", "plan.json"])
    assert refused.exit_code == 1  # a usage error (the boundary: 1, never click's 2)
    assert refused.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--format': 'xml' is not one of 'text', 'markdown', 'json'."
    )
    shown = CliRunner().invoke(cli.main, [command, "--help"], terminal_width=200)
    line = next(line for line in shown.stdout.splitlines() if "--format" in line)
    assert " ".join(line.split()) == (
        "--format [text|markdown|json] text for a terminal, markdown for a pull-request comment, "
        "json for tools. [default: text]"
    )
