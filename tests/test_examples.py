"""Every example project validates, for every one of its targets (new examples are found by glob)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler import cli, config, manifest, model, pricing

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*/boldrules.yaml"))


def test_examples_are_found() -> None:
    assert {path.parent.name for path in EXAMPLES} >= {"quickstart", "templated", "b2b-tiers"}


@pytest.mark.parametrize("project_file", EXAMPLES, ids=lambda path: path.parent.name)
def test_example_validates_for_every_target(project_file: Path) -> None:
    project = config.load_project(project_file.parent)
    for target in project.targets:
        result = CliRunner().invoke(
            cli.main, ["validate", "-C", str(project_file.parent), "--target", target]
        )
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{len(manifest_files(project))} file")


def manifest_files(project: config.Project) -> list[Path]:
    """The manifest and sample cart files validate reads."""
    folders = (*project.manifests, *project.carts)
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def kinds(example: str, target: str | None = None) -> dict[model.Kind, list[manifest.Declared]]:
    project = config.load_project(Path(__file__).parent.parent / "examples" / example)
    loaded = manifest.load_manifests(project, project.target(target))
    found: dict[model.Kind, list[manifest.Declared]] = {kind: [] for kind in model.Kind}
    for declared in loaded.objects:
        found[declared.key.kind].append(declared)
    return found


def test_quickstart_shows_each_kind_of_object() -> None:
    found = kinds("quickstart")
    assert len(found[model.Kind.RULESET]) == 3
    assert [d.key.name for d in found[model.Kind.ORDER_CONDITION]] == [
        "ZONE=maritimes",
        "ZONE=prairies",
    ]
    assert len(found[model.Kind.DISCOUNT_CODE]) == 2
    action_types = {
        action["type"]
        for ruleset in found[model.Kind.RULESET]
        for rule in ruleset.data["rules"]
        for action in rule["actions"]
    }
    # The three item-level actions Bold's engine prices with: percent, absolute and relative.
    # (Shipping actions do nothing at item level; lint's checkout-only-action says so.)
    assert action_types == {
        "PRICE_ADJUST_PERCENT",
        "PRICE_ADJUST_ABSOLUTE",
        "PRICE_ADJUST_RELATIVE",
    }
    references = [
        condition
        for ruleset in found[model.Kind.RULESET]
        for rule in ruleset.data["rules"]
        for condition in rule["conditions"]
        if condition["type"] == "ORDER_CONDITION"
    ]
    assert {"type": "ORDER_CONDITION", "name": "ZONE", "value": "prairies"} in references


def test_templated_targets_render_differently() -> None:
    staging = kinds("templated", "staging")[model.Kind.RULESET]
    production = kinds("templated", "production")[model.Kind.RULESET]
    assert [d.key.name for d in staging] == ["clearance-cad", "members-cad"]
    assert [d.key.name for d in production] == ["clearance-usd", "members-usd"]


def test_b2b_tiers_generates_at_least_sixty_rulesets() -> None:
    rulesets = kinds("b2b-tiers")[model.Kind.RULESET]
    assert len(rulesets) >= 60
    groups = {ruleset.data["rules"][0]["conditions"][0]["value"] for ruleset in rulesets}
    assert groups == {"b2b-gold", "b2b-silver", "b2b-bronze"}


@pytest.mark.parametrize("project_file", EXAMPLES, ids=lambda path: path.parent.name)
def test_every_example_rule_prices_under_bolds_engine(project_file: Path) -> None:
    """No rule of an example has a type Bold's engine refuses (a condition name as a rule type,
    pricing-engine.md §3): quantity breaks are DISCOUNT rules with a QTY_BY_* condition."""
    project = config.load_project(project_file.parent)
    refused = []
    for target in project.targets:
        loaded = manifest.load_manifests(project, project.target(target))
        for declared in loaded.objects:
            if declared.key.kind is not model.Kind.RULESET:
                continue
            ruleset = pricing.Ruleset.from_api(declared.data)
            for rule in ruleset.rules:
                reason = pricing.why_never_prices(rule)
                if reason is not None:
                    refused.append(f"{target}: {declared.key.name} > {rule.external_id}: {reason}")
    assert refused == []
