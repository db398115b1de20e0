"""``boldrules`` as a process (cli/program.py): it ends at once, and nothing it printed is lost.

Each test runs ``python -m reconciler`` (the same ``run`` as the ``boldrules`` script) as a real
process and compares what it printed and its exit code with the same command run in process
(click's runner), which ends the ordinary way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import weakref
from pathlib import Path

from click.testing import CliRunner

from reconciler import cli, lifetime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def boldrules(
    *args: str, cwd: Path, stdout: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BOLDRULES")}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**environment, "NO_COLOR": "1"},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


def quickstart(tmp_path: Path) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".boldrules"))
    return root


def test_a_plan_prints_all_of_itself_and_exits_with_its_code(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    process = boldrules("plan", "--detailed-exitcode", cwd=root)
    in_process = CliRunner().invoke(cli.main, ["-C", str(root), "plan", "--detailed-exitcode"])
    assert process.returncode == in_process.exit_code == 2, process.stderr
    assert process.stdout == in_process.stdout
    assert process.stdout.rstrip().endswith("to delete.")


def test_a_failure_prints_its_problems_and_exits_with_its_code(tmp_path: Path) -> None:
    root = quickstart(tmp_path)
    broken = root / "pricing" / "broken.yaml"
    broken.write_text("rulesets:\n  - external_id: [not, a, name]\n", encoding="utf-8")
    process = boldrules("validate", cwd=root)
    in_process = CliRunner().invoke(cli.main, ["-C", str(root), "validate"])
    assert process.returncode == in_process.exit_code == 3
    assert (process.stdout, process.stderr) == (in_process.stdout, in_process.stderr)
    assert (
        "pricing/broken.yaml:2:18: rulesets[0] > external_id: expected a string, got a list"
        in process.stdout
    )


def test_version_and_a_usage_error(tmp_path: Path) -> None:
    version = boldrules("--version", cwd=tmp_path)
    assert (version.returncode, version.stderr) == (0, "")
    assert version.stdout.startswith("boldrules, version ")
    wrong = boldrules("plan", "--no-such-option", cwd=tmp_path)
    assert wrong.returncode == 1
    assert wrong.stderr.endswith("Error: No such option '--no-such-option'.\n")


def test_a_reader_that_stops_early_ends_the_output_quietly(tmp_path: Path) -> None:
    # ``boldrules plan | head -1`` of a plan larger than a pipe holds: the process stops writing
    # when the reader is gone, without an "internal error" or a traceback.
    root = tmp_path / "big"
    (root / "pricing").mkdir(parents=True)
    (root / "boldrules.yaml").write_text(
        "manifests: [pricing/]\ndefault_target: sandbox\n"
        "targets:\n  sandbox: {sandbox: .boldrules/sandbox.sqlite}\n",
        encoding="utf-8",
    )
    rulesets = "".join(
        f"  - external_id: ruleset-{n}\n    public_name: Ruleset {n}\n"
        f"    product_selection: {{type: PRODUCT_SEARCH, sku_ids: [SKU-{n}]}}\n"
        "    rules:\n      - external_id: gold\n        type: DISCOUNT\n"
        "        conditions: [{type: CUSTOMER_GROUP, value: gold}]\n"
        "        actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]\n"
        for n in range(1500)
    )
    (root / "pricing" / "rulesets.yaml").write_text(f"rulesets:\n{rulesets}", encoding="utf-8")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        process = boldrules("plan", cwd=root, stdout=write)
    finally:
        os.close(write)
    assert process.returncode == 1
    assert process.stderr == ""


def test_outside_the_process_what_a_command_is_done_with_is_freed_as_usual() -> None:
    # In process (tests, programs using the library) nothing is held back: only ``run``, which
    # ends the process without freeing anything one by one, turns holding on.
    class Shop:
        pass

    done_with = Shop()
    gone = weakref.ref(done_with)
    lifetime.keep(done_with)
    del done_with
    assert gone() is None
