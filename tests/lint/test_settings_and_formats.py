"""Silencing and promoting findings in the project file, its located errors, the three output
formats (SARIF validated), the example projects linting clean, and the checks a manifest cannot
reach yet (CHARM_PRICE) driven through ``lint.run`` on parsed, located YAML."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from reconciler import cli, config, lint, manifest, model, sources

from .conftest import Lint

OVERLAPPING = """\
    rulesets:
      - external_id: a
        product_selection: {type: PRODUCT_SEARCH, sku_ids: [S-1]}
        rules:
          - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
      - external_id: b
        product_selection: {type: PRODUCT_SEARCH, sku_ids: [S-1]}
        rules:
          - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -20}]}
    """

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_text_format_prints_one_located_line_per_finding_and_a_summary(lint: Lint) -> None:
    linted = lint(OVERLAPPING, fmt="text")
    assert linted.stdout.splitlines() == [
        "pricing/rules.yaml:7:5: info overlap: ruleset b and ruleset a (both priority 0) compete "
        "on sku_ids S-1 for every customer: only the lowest price applies, ruleset b's "
        "(100.00 → 80.00) over ruleset a's (90.00).",
        "lint (target sandbox): 0 errors, 0 warnings, 1 info",
    ]
    assert linted.exit_code == 0


def test_a_finding_silenced_with_a_reason_is_gone(lint: Lint) -> None:
    project = """\
        lint:
          ignore:
            - {id: overlap, object: "ruleset:b", reason: the lowest price is what we want}
        """
    assert lint(OVERLAPPING, project=project).findings == []
    other = """\
        lint:
          ignore:
            - {id: overlap, object: "ruleset:a*", reason: only a}
        """
    assert [f["objects"][0] for f in lint(OVERLAPPING, project=other).findings] == ["ruleset:b"]


def test_a_promoted_id_is_an_error_and_exits_3(lint: Lint) -> None:
    linted = lint(OVERLAPPING, project="lint: {error: [overlap]}\n")
    assert [f["severity"] for f in linted.findings] == ["error"]
    assert linted.exit_code == 3


def test_an_ignore_without_reason_or_with_an_unknown_id_is_a_located_project_error(
    lint: Lint,
) -> None:
    project = """\
        lint:
          ignore:
            - {id: overlap, object: "ruleset:b"}
            - {id: overlapping, object: "ruleset:b", reason: typo}
          error: [never-win]
        """
    linted = lint(OVERLAPPING, project=project)
    assert linted.exit_code == 3
    lines = linted.stderr.splitlines()
    assert lines[0].startswith("boldrules.yaml:7:7: lint.ignore[0]: ")
    assert "reason" in lines[0]
    assert lines[1].startswith(
        "boldrules.yaml:8:12: lint.ignore[1].id: 'overlapping' is not a lint check: use one of "
    )
    assert lines[2].startswith("boldrules.yaml:9:11: lint.error[0]: 'never-win' is not a lint")


def sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 schema (OASIS, sarif-spec: sarif-2.1/schema/
    sarif-schema-2.1.0.json) when ``SARIF_SCHEMA`` names a copy; else the structure GitHub code
    scanning requires of an upload, written out here."""
    path = os.environ.get("SARIF_SCHEMA")
    if path:
        loaded: dict[str, Any] = json.loads(Path(path).read_text())
        return loaded
    location = {
        "type": "object",
        "required": ["physicalLocation"],
        "properties": {
            "physicalLocation": {
                "type": "object",
                "required": ["artifactLocation", "region"],
                "properties": {
                    "artifactLocation": {
                        "type": "object",
                        "required": ["uri"],
                        "properties": {"uri": {"type": "string", "minLength": 1}},
                    },
                    "region": {
                        "type": "object",
                        "required": ["startLine", "startColumn"],
                        "properties": {
                            "startLine": {"type": "integer", "minimum": 1},
                            "startColumn": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            }
        },
    }
    result = {
        "type": "object",
        "required": ["ruleId", "level", "message", "locations"],
        "properties": {
            "ruleId": {"type": "string"},
            "ruleIndex": {"type": "integer", "minimum": 0},
            "level": {"enum": ["none", "note", "warning", "error"]},
            "message": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string"}},
            },
            "locations": {"type": "array", "minItems": 1, "items": location},
        },
    }
    rule = {
        "type": "object",
        "required": ["id", "shortDescription"],
        "properties": {"id": {"type": "string"}},
    }
    return {
        "type": "object",
        "required": ["version", "runs"],
        "properties": {
            "version": {"const": "2.1.0"},
            "$schema": {"type": "string", "format": "uri"},
            "runs": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["tool", "results"],
                    "properties": {
                        "tool": {
                            "type": "object",
                            "required": ["driver"],
                            "properties": {
                                "driver": {
                                    "type": "object",
                                    "required": ["name", "rules"],
                                    "properties": {
                                        "name": {"const": "boldrules"},
                                        "rules": {"type": "array", "items": rule},
                                    },
                                }
                            },
                        },
                        "results": {"type": "array", "items": result},
                    },
                },
            },
        },
    }


def test_sarif_is_valid_2_1_0_and_points_at_the_lines(lint: Lint) -> None:
    linted = lint(OVERLAPPING, fmt="sarif")
    log = json.loads(linted.stdout)
    jsonschema.validate(log, sarif_schema())
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(lint_ids())
    (result,) = run["results"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "overlap"
    assert result["level"] == "note"
    where = result["locations"][0]["physicalLocation"]
    assert where["region"] == {"startLine": 7, "startColumn": 5}
    assert where["artifactLocation"]["uri"].endswith("pricing/rules.yaml")


def lint_ids() -> list[str]:
    return list(lint.CHECKS)


def test_sarif_file_paths_are_relative_to_the_repository_holding_the_project(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo" / "shops" / "main"
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (root / "pricing").mkdir(parents=True)
    (root / "boldrules.yaml").write_text("manifests: [pricing/]\n")
    (root / "pricing" / "r.yaml").write_text(
        "rulesets:\n  - external_id: x\n    product_selection: {type: PRODUCTS_ALL}\n"
        "    rules:\n      - {external_id: r, type: CUSTOMER_GROUP, conditions: [], "
        "actions: [{type: PRICE_ADJUST_PERCENT, value: -1}]}\n"
    )
    result = CliRunner().invoke(cli.main, ["-C", str(root), "lint", "--format", "sarif"])
    (found,) = json.loads(result.stdout)["runs"][0]["results"]
    uri = found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "shops/main/pricing/r.yaml"
    assert result.exit_code == 3


@pytest.mark.parametrize("example", ["b2b-tiers", "github-actions", "gitlab-ci", "templated"])
def test_the_examples_lint_clean(example: str) -> None:
    result = CliRunner().invoke(
        cli.main, ["-C", str(EXAMPLES / example), "lint", "--format", "json"]
    )
    assert (json.loads(result.stdout)["findings"], result.exit_code) == ([], 0)


def test_the_quickstart_lints_clean_but_for_bulk_coffee() -> None:
    """bulk-coffee's rule types are condition names; its rewrite is another change's."""
    result = CliRunner().invoke(
        cli.main, ["-C", str(EXAMPLES / "quickstart"), "lint", "--format", "json"]
    )
    found = json.loads(result.stdout)["findings"]
    assert [f for f in found if f["objects"][0] != "ruleset:bulk-coffee"] == []


def linted_yaml(text: str, tmp_path: Path) -> list[lint.Finding]:
    """``lint.run`` over one manifest text, located as the loader locates it."""
    document = sources.parse_yaml(text)
    subjects = [
        lint.Subject(
            model.ruleset_key(item["external_id"]),
            sources.plain(item),
            model.Origin("pricing/x.yaml", *item.mark),
            functools.partial(sources.locate, item, key=True),
        )
        for item in document["rulesets"]
    ]
    return lint.run(subjects, lint.Settings(), now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


def test_charm_after_an_absolute_price_under_one_dollar_does_nothing(tmp_path: Path) -> None:
    (found,) = linted_yaml(
        "rulesets:\n"
        "  - external_id: cheap\n"
        "    product_selection: {type: PRODUCTS_ALL}\n"
        "    rules:\n"
        "      - external_id: r\n"
        "        type: DISCOUNT\n"
        "        conditions: []\n"
        "        actions:\n"
        "          - {type: PRICE_ADJUST_ABSOLUTE, value: 50}\n"
        "          - {type: CHARM_PRICE, value: 99}\n",
        tmp_path,
    )
    assert (found.id, found.location) == ("charm-under-100", "pricing/x.yaml:10:13")
    assert "at 0.50 when CHARM_PRICE runs" in found.message


def test_a_relative_discount_below_every_price_is_dropped(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: too-much
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: r
                type: DISCOUNT
                conditions: []
                actions: [{type: PRICE_ADJUST_RELATIVE, value: -100000}]
        """)
    (found,) = linted.findings
    assert (found["id"], found["line"], found["column"]) == ("price-below-zero", 8, 9)


def test_declared_objects_locate_their_fields(tmp_path: Path) -> None:
    project = config.load_project(EXAMPLES / "quickstart")
    loaded = manifest.load_manifests(project, project.target(None))
    spring = next(d for d in loaded.objects if d.key == model.ruleset_key("spring-sale-2027"))
    assert spring.locate is not None
    assert spring.locate(("rules", 1, "type")) == (16, 9)


def test_the_lint_speed_bench_generates_a_valid_project_and_times_lint(tmp_path: Path) -> None:
    """Not a benchmark: ``bench.lint_speed`` on 200 rulesets, so it cannot rot."""
    from bench import lint_speed

    root = tmp_path / "project"
    lint_speed.generate(root, 200, 2)
    result = CliRunner().invoke(cli.main, ["-C", str(root), "validate"])
    assert result.exit_code == 0, result.stdout
    assert lint_speed.in_process(root, 1) >= 0


def test_the_json_report_is_json_dumps_indented_to_the_byte() -> None:
    """``lint.report`` writes what ``json.dumps(..., indent=2, ensure_ascii=False)`` writes."""
    import json as json_module

    from reconciler import lint

    found = [
        lint.Finding("overlap", "info", "pricing/a.yaml", 7, 5, ("ruleset:b", "ruleset:a"), "x"),
        lint.Finding("expired", "warning", "p/ü.yaml", 1, 1, (), 'quote " \\ tab\t new\nline é €'),
        lint.Finding("never-wins", "error", "a", 12345, 99, ("ruleset:\u2028",), "\x00\x1f"),
    ]
    for chosen in ([], found[:1], found):
        expected = json_module.dumps(
            {"findings": [f.as_json() for f in chosen], "summary": lint.counts(chosen)},
            indent=2,
            ensure_ascii=False,
        )
        assert lint.report(chosen) == expected
