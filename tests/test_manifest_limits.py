"""Numbers the API can hold, one filter per product selection, one message per field (issue 12,
items 4 and 5 and the YAML-boolean double report), by validate's lines and apply's exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler import cli

RULESET = """\
rulesets:
  - external_id: spring
    priority: @PRIORITY@
    product_selection: @SELECTION@
    rules:
      - external_id: gold
        type: DISCOUNT
        priority: @RULE_PRIORITY@
        stack_order: @STACK_ORDER@
        conditions: [{type: CUSTOMER_GROUP, value: @CONDITION_VALUE@}]
        actions: [{type: PRICE_ADJUST_PERCENT, value: @PERCENT@}]
"""
DEFAULTS = {
    "PRIORITY": "10",
    "SELECTION": "{type: PRODUCT_SEARCH, sku_ids: [SKU-1]}",
    "RULE_PRIORITY": "0",
    "STACK_ORDER": "1",
    "CONDITION_VALUE": "gold",
    "PERCENT": "-20",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def project(tmp_path: Path, **values: str) -> Path:
    text = RULESET
    for name, value in {**DEFAULTS, **values}.items():
        text = text.replace(f"@{name}@", value)
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "boldrules.yaml").write_text("manifests: [pricing/]\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (
            {"PRIORITY": ".inf"},
            "pricing/a.yaml:3:15: ruleset spring > priority: .inf is not a number the API can "
            "hold: give a finite number",
        ),
        (
            {"RULE_PRIORITY": "-.inf"},
            "pricing/a.yaml:8:19: ruleset spring > rules[gold] > priority: -.inf is not a number "
            "the API can hold: give a finite number",
        ),
        (
            {"STACK_ORDER": ".nan"},
            "pricing/a.yaml:9:22: ruleset spring > rules[gold] > stack_order: .nan is not a "
            "number the API can hold: give a finite number",
        ),
        (
            {"PRIORITY": "1000000000000000000000000000000"},
            "pricing/a.yaml:3:15: ruleset spring > priority: 1000000000000000000000000000000 is "
            "greater than the maximum of 2147483647",
        ),
        (
            {"STACK_ORDER": "-100000000000000000000000000"},
            "pricing/a.yaml:9:22: ruleset spring > rules[gold] > stack_order: "
            "-100000000000000000000000000 is less than the minimum of -2147483648",
        ),
        (
            {"PERCENT": "-100000000000000000000000000"},
            "pricing/a.yaml:11:55: ruleset spring > rules[gold] > actions[0].value: "
            "-100000000000000000000000000 is less than the minimum of -100",
        ),
        (
            {"PERCENT": "5000"},
            "pricing/a.yaml:11:55: ruleset spring > rules[gold] > actions[0].value: 5000 is "
            "greater than the maximum of 1000",
        ),
        (
            {"SELECTION": "{type: PRODUCT_SEARCH, sku_ids: [SKU-1], vendors: [Acme]}"},
            "pricing/a.yaml:4:74: ruleset spring > product_selection: a product selection takes "
            "one filter; got sku_ids and vendors: keep one",
        ),
        (
            {"CONDITION_VALUE": "yes"},
            "pricing/a.yaml:10:52: ruleset spring > rules[gold] > conditions[0].value: expected "
            "a string, got the boolean true — YAML reads yes as true: quote it",
        ),
    ],
)
def test_each_problem_is_one_located_line(
    tmp_path: Path, values: dict[str, str], line: str
) -> None:
    result = run("-C", str(project(tmp_path, **values)), "validate")
    assert (result.exit_code, result.stdout.splitlines()) == (3, [line, "1 problem in 1 file"])


@pytest.mark.parametrize(
    "values",
    [
        {"PRIORITY": "2147483647", "RULE_PRIORITY": "-2147483648", "STACK_ORDER": "0.5"},
        {"PERCENT": "-100"},
        {"PERCENT": "1000"},
    ],
)
def test_numbers_at_the_edges_of_the_ranges_are_fine(
    tmp_path: Path, values: dict[str, str]
) -> None:
    result = run("-C", str(project(tmp_path, **values)), "validate")
    assert result.exit_code == 0, result.stdout


def test_a_buy_x_get_y_selection_takes_one_filter_too(tmp_path: Path) -> None:
    condition = (
        "{type: CUSTOMER_GROUP, value: gold}, {type: BUY_X_GET_Y, buy_quantity: 2, "
        "buy_product_selection: {type: PRODUCT_SEARCH, titles: [A], product_types: [B]}}"
    )
    root = project(tmp_path)
    path = root / "pricing" / "a.yaml"
    path.write_text(
        path.read_text("utf-8").replace("{type: CUSTOMER_GROUP, value: gold}", condition),
        encoding="utf-8",
    )
    result = run("-C", str(root), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0].endswith(
        "ruleset spring > rules[gold] > conditions[1].buy_product_selection: a product selection "
        "takes one filter; got titles and product_types: keep one"
    )


@pytest.mark.parametrize("command", [["plan"], ["apply", "--yes"]])
def test_an_infinite_priority_stops_before_any_call(tmp_path: Path, command: list[str]) -> None:
    root = project(tmp_path, RULE_PRIORITY=".inf")
    result = run("-C", str(root), *command)
    assert result.exit_code == 3
    assert "internal error" not in result.stderr
    assert result.stderr.splitlines()[0] == (
        "pricing/a.yaml:8:19: ruleset spring > rules[gold] > priority: .inf is not a number the "
        "API can hold: give a finite number"
    )
    assert not (root / ".boldrules").exists()  # the embedded shop was never opened


def test_project_file_numbers_must_be_finite(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "boldrules.yaml").write_text(
        "manifests: [pricing/]\nsafety: {max_delete_percent: .nan}\n", encoding="utf-8"
    )
    result = run("-C", str(root), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "boldrules.yaml:2:30: safety.max_delete_percent: .nan is not a number the API can hold: "
        "give a finite number"
    )


def test_whole_numbers_in_meta_must_fit_json(tmp_path: Path) -> None:
    root = project(tmp_path)
    path = root / "pricing" / "a.yaml"
    path.write_text(
        path.read_text("utf-8").replace(
            "        type: DISCOUNT\n",
            "        type: DISCOUNT\n        meta: {ok: 12, big: [1000000000000000000000000000000]}\n",
        ),
        encoding="utf-8",
    )
    result = run("-C", str(root), "validate")
    assert (result.exit_code, result.stdout.splitlines()) == (
        3,
        [
            "pricing/a.yaml:8:30: ruleset spring > rules[gold] > meta.big[0]: "
            "1000000000000000000000000000000 is too large for the API: whole numbers here lie "
            "within ±9007199254740992 (quote it to keep it as text)",
            "1 problem in 1 file",
        ],
    )
