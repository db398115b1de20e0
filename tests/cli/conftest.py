"""A quick-start project in a temporary folder, driven through the real command line."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler import cli, config, connect

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PROJECT_FILE = """\
manifests: [pricing/]
default_target: sandbox
targets:
  sandbox:
    sandbox: .boldrules/sandbox.sqlite
    rate: 1000
    burst: 1000
safety: {max_deletes: 5, max_delete_percent: 30, max_update_percent: 50}
ownership: {discount_code_prefixes: [SPRING]}
"""

Run = Callable[..., Result]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The quick start's manifests under a project whose sandbox pacing never slows a test."""
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "quickstart" / "pricing", root / "pricing")
    # The example's sale is next spring; keep it next spring whatever year the tests run in,
    # so no "already past" note ever enters the exact outputs below.
    year = dt.date.today().year + 1
    for manifest in (root / "pricing").glob("*.yaml"):
        manifest.write_text(
            re.sub(r"\b2027-(0[1-9]|1[0-2])-", rf"{year}-\1-", manifest.read_text())
        )
    (root / "boldrules.yaml").write_text(PROJECT_FILE)
    return root


@pytest.fixture
def run(project: Path) -> Run:
    """Run ``boldrules -C project ARGS``; stdout and stderr kept apart."""

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli.main, ["-C", str(project), *args], env=env, input=input, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def shop(project: Path) -> Iterator[Any]:
    """A client of our app on the project's embedded sandbox, to change the shop behind the tool's back."""
    target = config.load_project(project).target(None)
    with connect.connect(target) as bold:
        yield bold
