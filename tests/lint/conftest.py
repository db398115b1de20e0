"""Small projects written to a temporary folder and linted through the real command line."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler import cli

#: Every lint in these tests judges windows at this instant (never the wall clock).
AT = "2026-06-01T00:00:00Z"

PROJECT_FILE = """\
manifests: [pricing/]
targets:
  sandbox:
    sandbox: .boldrules/sandbox.sqlite
"""


@dataclass
class Linted:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def findings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self.stdout)["findings"]
        return found

    def only(self, finding_id: str) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["id"] == finding_id]


Lint = Callable[..., Linted]


@pytest.fixture
def lint(tmp_path: Path) -> Lint:
    """``lint(manifest_text, project=..., fmt=...)``: write the project, lint it as of ``AT``."""

    def run(manifest: str, *, project: str = "", fmt: str = "json", at: str = AT) -> Linted:
        root = tmp_path / "shop"
        (root / "pricing").mkdir(parents=True, exist_ok=True)
        (root / "boldrules.yaml").write_text(PROJECT_FILE + textwrap.dedent(project))
        (root / "pricing" / "rules.yaml").write_text(textwrap.dedent(manifest))
        result = CliRunner().invoke(
            cli.main, ["-C", str(root), "lint", "--format", fmt, "--at", at]
        )
        return Linted(result.exit_code, result.stdout, result.stderr)

    return run
