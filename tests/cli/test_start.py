"""A command's start: what a fresh ``boldrules`` process imports before it does its work.

Every module imported is time before the first API call (issue 16). These tests read the
imports of a real process (``python -X importtime``: one line per module, as it finishes loading,
on the same stderr as the ``-v`` call log), so that an import moved back to a module's top (Jinja2
in the Markdown plan, jsonschema in the schema checks, the price evaluator in the preview...)
fails here, whatever the machine's speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler import cli
from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN

#: Never imported by ``plan``, ``validate`` or ``apply`` on a project without templates over the
#: network: the other commands' modules, the sandbox server and what only they need.
NEVER = {
    "jinja2",  # only for *.yaml.j2 manifests and a Markdown plan
    "jsonschema",  # only to word the problems of a file that fails the quick check
    "waitress",  # only for `sandbox serve`
    "rich",  # only for the live progress line, after 2 s on a terminal
    "pygments",  # httpx's own command line, never loaded
    "multiprocessing",  # only for plan --all-targets
    "reconciler.sandbox",  # only for an embedded sandbox target and `sandbox serve`
    "reconciler.templating",
    "reconciler.export",
    "reconciler.doctor",
    "reconciler.probes",
    "reconciler.cli.doctor",
    "reconciler.cli.export",
}
#: Imported by a plan with an update, but only once the shop has been read: never before the
#: first API call.
LATER = {
    "deepdiff",  # an action list that differs
    "reconciler.preview",  # the price guardrails judge updates
    "reconciler.pricing",
    "reconciler.lint.competition",  # lint's findings about what the plan changes
}


def imported(lines: list[str]) -> set[str]:
    """The modules named by ``python -X importtime`` among ``lines``."""
    return {
        line.split("|")[2].strip()
        for line in lines
        if line.startswith("import time:") and "cumulative" not in line
    }


def resolved(command: str) -> set[str]:
    """The modules a fresh process holds once ``boldrules COMMAND --help`` has run."""
    script = (
        "import sys\n"
        "from reconciler import cli\n"
        f"try:\n    cli.main([{command!r}, '--help'], prog_name='boldrules')\n"
        "except SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.startswith(f"Usage: boldrules {command} [OPTIONS]")
    return set(done.stderr.split())


@pytest.mark.parametrize(
    ("command", "own", "others"),
    [
        ("plan", {"reconciler.cli.plan"}, {"reconciler.apply", "reconciler.manifest"}),
        (
            "validate",  # offline: neither the client nor the plan
            {"reconciler.manifest"},
            {"reconciler.apply", "httpx", "reconciler.client", "reconciler.plan"},
        ),
        ("apply", {"reconciler.apply"}, {"reconciler.cli.plan", "reconciler.manifest"}),
    ],
)
def test_a_command_imports_its_own_modules_and_no_optional_layer(
    command: str, own: set[str], others: set[str]
) -> None:
    modules = resolved(command)
    assert sorted(own - modules) == []
    assert sorted((NEVER | LATER | others) & modules) == []


@pytest.fixture
def served(project: Path) -> Iterator[Path]:
    """The quick start applied to a served sandbox, then one action changed in the manifests."""
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with serve(sandbox, port=0) as server:
        (project / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: shop\ntargets:\n  shop:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "ownership: {discount_code_prefixes: [SPRING]}\n"
        )
        applied = CliRunner().invoke(
            cli.main,
            ["-C", str(project), "apply", "--yes"],
            env={"BOLDRULES_TEST_TOKEN": APP_TOKEN},
        )
        assert applied.exit_code == 0, applied.output
        rulesets = project / "pricing" / "rulesets.yaml"
        text = rulesets.read_text()
        assert text.count("value: -50}") == 1
        rulesets.write_text(text.replace("value: -50}", "value: -45}"))
        yield project


@pytest.mark.socket
def test_a_plan_reaches_the_shop_before_importing_what_only_its_end_needs(served: Path) -> None:
    env = {**os.environ, "BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "-C", str(served), "-v", "plan"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "Plan: 0 to create, 1 to update, 0 to delete."
    lines = done.stderr.splitlines()
    # The call log's first line, written as the first answer arrives.
    first = next(i for i, line in enumerate(lines) if line.startswith("GET /price_rules/"))
    before, whole = imported(lines[:first]), imported(lines)
    assert sorted(NEVER & whole) == []
    assert sorted(LATER - whole) == []  # imported by this run: their absence below means something
    assert sorted(LATER & before) == []
