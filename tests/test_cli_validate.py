"""``boldrules validate`` and the command frame, by their exact output and exit codes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import reconciler
from reconciler import cli, errors
from reconciler.cli.boundary import Boldrules

FIXTURES = Path(__file__).parent / "fixtures"

GOOD = """\
rulesets:
  - external_id: spring-sale
    product_selection: {type: PRODUCTS_ALL}
    rules:
      - external_id: r
        type: DISCOUNT
        conditions: [{type: ORDER_CONDITION, name: ZONE, value: prairies}]
        actions: [{type: PRICE_ADJUST_PERCENT, value: -20}]
order_conditions:
  - name: ZONE
    value: prairies
    field_sets: [{customer.shipping.province_code: MB}]
discount_codes:
  - codes: [A1, B2]
    action: {type: FREE_SHIPPING}
    product_selection: {type: PRODUCTS_ALL}
"""

BROKEN_LINES = [
    "pricing/codes.yaml.j2:6:1: template: 'welcome_discount' is undefined "
    "(target 'sandbox' has vars: discount)",
    "pricing/empty.yaml:1:1: the file is empty: a manifest holds rulesets, order_conditions "
    "and/or discount_codes",
    "pricing/indent.yaml:3:4: invalid YAML: while parsing a block collection: expected "
    "<block end>, but found '<block mapping start>' (check the indentation)",
    "pricing/latin1.yaml:2:21: not UTF-8 text (byte 0xe9): save the file as UTF-8",
    "pricing/spring.yaml:5:5: ruleset spring-sale: unknown field 'pirority' "
    "(did you mean 'priority'?)",
    "pricing/spring.yaml:7:18: ruleset spring-sale > expiry_date: 2026-02-28T00:00:00Z is not "
    "after start_date 2026-03-01T00:00:00Z",
    "pricing/spring.yaml:15:20: ruleset spring-sale > rules[gold-half-off] > actions[0].value: "
    "-150 is less than the minimum of -100",
    "pricing/spring.yaml:18:22: ruleset spring-sale > rules[atlantic] > conditions[0]: order "
    "condition ZONE=atlantic is not declared in any manifest (ZONE has maritimes, prairies)",
    "pricing/zones.yaml:9:9: order_condition ZONE=maritimes > field_sets[0]: tests country_code, "
    "postal_code but order_condition ZONE=prairies > field_sets[0] (pricing/zones.yaml:5:9) "
    "tests country_code, province_code: every order condition named ZONE must test the same "
    "fields",
]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "all.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "boldrules.yaml").write_text(
        "manifests: [pricing/]\n"
        "default_target: sandbox\n"
        "targets:\n"
        "  sandbox: {sandbox: .boldrules/sandbox.sqlite}\n"
        "  production: {api_url: https://api.boldcommerce.com, token_env: BOLD_TEST_UNSET}\n",
        encoding="utf-8",
    )
    return tmp_path


def test_clean_project(project: Path) -> None:
    result = run("-C", str(project), "validate")
    assert result.exit_code == 0
    assert result.stdout == (
        "1 file valid (target sandbox): 1 order condition, 1 ruleset, 2 discount codes\n"
    )
    assert result.stderr == ""


def test_quiet_clean_project_prints_nothing(project: Path) -> None:
    result = run("-q", "-C", str(project), "validate")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_validate_needs_no_token(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOLD_TEST_UNSET", raising=False)
    result = run("-C", str(project), "validate", "--target", "production")
    assert result.exit_code == 0
    assert result.stdout.startswith("1 file valid (target production):")


def test_runs_in_the_current_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    assert run("validate").exit_code == 0


def test_broken_manifests_one_line_each_then_summary(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "broken", tmp_path / "broken")
    result = run("-C", str(tmp_path / "broken"), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [*BROKEN_LINES, "9 problems in 6 files"]
    assert result.stderr == ""


def test_broken_manifests_as_json(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "broken", tmp_path / "broken")
    result = run("-C", str(tmp_path / "broken"), "validate", "--format", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["summary"] == "9 problems in 6 files"
    assert report["problems"][6] == {
        "file": "pricing/spring.yaml",
        "line": 15,
        "column": 20,
        "path": "ruleset spring-sale > rules[gold-half-off] > actions[0].value",
        "message": "-150 is less than the minimum of -100",
    }
    lines = [
        f"{p['file']}:{p['line']}:{p['column']}: {p['path'] + ': ' if p['path'] else ''}"
        f"{p['message']}"
        for p in report["problems"]
    ]
    assert lines == BROKEN_LINES


def test_clean_project_as_json(project: Path) -> None:
    result = run("-C", str(project), "validate", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "valid": True,
        "summary": "no problems",
        "problems": [],
        "target": "sandbox",
        "files": ["pricing/all.yaml"],
        "objects": [
            "order_condition:ZONE=prairies",
            "ruleset:spring-sale",
            "discount_code:A1",
            "discount_code:B2",
        ],
        "carts": [],
    }


def test_invalid_project_file_is_listed_like_manifest_problems(project: Path) -> None:
    (project / "boldrules.yaml").write_text("manifests: [pricing/]\ndefualt_target: x\n")
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout == (
        "boldrules.yaml:2:1: unknown field 'defualt_target' (did you mean 'default_target'?)\n"
        "1 problem in 1 file\n"
    )


ROUTE_AND_VERSION = (
    "manifests: [pricing/]\n"
    "default_target: sandbox\n"
    "targets:\n"
    "  sandbox: {sandbox: .boldrules/sandbox.sqlite, api_version: 2099-01-01}\n"
    "routes: {list_rulesetz: /x}\n"
)


@pytest.mark.parametrize(
    "command",
    [["validate"], ["plan"], ["plan", "--all-targets"], ["apply", "--yes"], ["export"]],
    ids=" ".join,
)
def test_routes_and_api_version_are_project_file_problems_before_any_call(
    project: Path, command: list[str]
) -> None:
    (project / "boldrules.yaml").write_text(ROUTE_AND_VERSION, encoding="utf-8")
    result = run("-C", str(project), *command)
    assert result.exit_code == 3
    lines = [
        "boldrules.yaml:4:62: targets.sandbox.api_version: 2099-01-01 is in the future (today "
        f"is {dt.datetime.now(dt.UTC).date().isoformat()} UTC); pin a released date, or set "
        "allow_future_api_version: true on the target if intended",
        "boldrules.yaml:5:10: routes: 'list_rulesetz' is not a route of the API; did you mean "
        "'list_rulesets'?",
    ]
    if command == ["validate"]:
        assert result.stdout.splitlines() == [*lines, "2 problems in 1 file"]
    else:
        assert result.stderr.splitlines() == [*lines, "error: 2 problems in 1 file"]
    # Nothing reached the shop: the embedded sandbox's store was never even opened.
    assert not (project / ".boldrules").exists()


def test_missing_project_file(tmp_path: Path) -> None:
    result = run("-C", str(tmp_path), "validate")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: no boldrules.yaml in {tmp_path}: run in the project's folder or pass -C DIR\n"
    )


def test_unknown_target(project: Path) -> None:
    result = run("-C", str(project), "validate", "--target", "prod")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no target 'prod' in boldrules.yaml: use one of production, sandbox\n"
    )


def test_usage_errors_exit_1_not_2(project: Path) -> None:
    # 2 means "changes pending" to CI scripts; a typo must never look like that.
    result = run("-C", str(project), "validate", "--fromat", "json")
    assert result.exit_code == 1
    assert "Error: No such option '--fromat'. Did you mean '--format'?" in result.stderr
    assert run("--nope").exit_code == 1


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"boldrules, version {reconciler.__version__}\n"


# The boundary, seen through commands built the way the lead's plan/apply will be.
boundary = Boldrules("boundary", params=cli.main.params, callback=cli.main.callback)


@boundary.command("refuse")
def _refuse() -> int:
    raise errors.UnsafePlan(["Refusing to delete 12 of 40 rulesets (30%, limit 5)."])


@boundary.command("invalid")
def _invalid() -> int:
    raise errors.ManifestInvalid([errors.Problem("p.yaml", 1, 2, "ruleset a", "broken")])


@boundary.command("crash")
def _crash() -> int:
    raise RuntimeError("kaboom")


@boundary.command("pending")
def _pending() -> int:
    return 2


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (["refuse"], 4, "error: Refusing to delete 12 of 40 rulesets (30%, limit 5).\n"),
        (["invalid"], 3, "p.yaml:1:2: ruleset a: broken\nerror: 1 problem in 1 file\n"),
        (
            ["crash"],
            1,
            f"error: internal error (RuntimeError: kaboom). This is a bug in boldrules "
            f"{reconciler.__version__}: please report it with the command you ran (add -vv to "
            "see the traceback).\n",
        ),
        (["pending"], 2, ""),
    ],
)
def test_boundary_turns_errors_into_lines_and_exit_codes(
    args: list[str], code: int, stderr: str
) -> None:
    result = CliRunner().invoke(boundary, args, catch_exceptions=False)
    assert (result.exit_code, result.stderr) == (code, stderr)
    assert "Traceback" not in result.output


def test_traceback_only_with_vv() -> None:
    result = CliRunner().invoke(boundary, ["-vv", "crash"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: kaboom" in result.stderr


def test_project_folder_may_follow_the_command(project: Path) -> None:
    result = run("validate", "-C", str(project))
    assert result.exit_code == 0
    assert result.stdout.startswith("1 file valid (target sandbox)")
