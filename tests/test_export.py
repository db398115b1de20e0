"""export.py: the live shop written as manifests that read like hand-written ones and plan back
to "No changes." — what the project owns only, unnamed objects named so apply adopts them.

The shop is the in-process sandbox, seeded through the API as another tool or a person would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import apply, client, config, errors, export, state

from .projects import plan_for, seed_code, seed_zone, write_project

PROJECT_FILE = (
    "manifests: [exported/]\n"
    "ownership: {order_conditions: [ZONE], discount_code_prefixes: [SPRING]}\n"
)

RULE = {
    "external_id": "gold",
    "type": "DISCOUNT",
    "conditions": [{"type": "ORDER_CONDITION", "name": "ZONE", "value": "west"}],
    "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -20}],
}


def seed(bold: client.BoldClient) -> None:
    seed_zone(bold, "west", "AB")
    bold.upsert_ruleset(
        "spring",
        {
            "external_id": "spring",
            "public_name": "Spring sale",
            "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-2", "SKU-1"]},
            "start_date": "2027-03-01T00:00:00.000Z",
            "rules": [RULE],
        },
    )
    seed_code(bold, "SPRING15", -15)
    seed_code(bold, "WELCOME", -5)


def run_export(
    bold: client.BoldClient, project: config.Project, *, split: bool = False
) -> export.ExportResult:
    """What ``boldrules export`` does with the shop ``bold`` reads."""
    live = state.fetch_live(bold)
    chosen = export.name_unnamed(export.select(live, project.ownership), shop=live.shop)
    return export.write(chosen, project.root / "exported", shop=live.shop, split=split)


@pytest.fixture
def project(tmp_path: Path) -> config.Project:
    return write_project(tmp_path, {"exported/.keep": ""}, project_file=PROJECT_FILE)


def header(shop: str) -> str:
    return export.HEADER.format(shop=shop)


def test_the_export_reads_like_hand_written_manifests_and_plans_back_to_no_changes(
    bold: client.BoldClient, project: config.Project
) -> None:
    seed(bold)
    result = run_export(bold, project)
    folder = project.root / "exported"
    assert result.files == (
        folder / "discount_codes.yaml",
        folder / "order_conditions.yaml",
        folder / "rulesets.yaml",
    )
    assert dict(result.counts) == {"rulesets": 1, "order conditions": 1, "discount codes": 1}
    shop = bold.shop_identifier
    assert (folder / "rulesets.yaml").read_text() == header(shop) + (
        "rulesets:\n"
        "- external_id: spring\n"
        "  public_name: Spring sale\n"
        "  start_date: '2027-03-01T00:00:00Z'\n"
        "  product_selection:\n"
        "    type: PRODUCT_SEARCH\n"
        "    sku_ids:\n"
        "    - SKU-1\n"
        "    - SKU-2\n"
        "  rules:\n"
        "  - external_id: gold\n"
        "    type: DISCOUNT\n"
        "    conditions:\n"
        "    - type: ORDER_CONDITION\n"
        "      value: west\n"
        "      name: ZONE\n"
        "    actions:\n"
        "    - type: PRICE_ADJUST_PERCENT\n"
        "      value: -20\n"
    )
    assert (folder / "discount_codes.yaml").read_text() == header(shop) + (
        "discount_codes:\n"
        "- codes:\n"
        "  - SPRING15\n"
        "  action:\n"
        "    type: PRICE_ADJUST_PERCENT\n"
        "    value: -15\n"
        "  product_selection:\n"
        "    type: PRODUCTS_ALL\n"
    )
    assert plan_for(bold, config.load_project(project.root)).changes == ()


def test_what_the_project_does_not_own_is_left_out_and_said(
    bold: client.BoldClient, other_app: client.BoldClient, project: config.Project
) -> None:
    seed(bold)
    other_app.upsert_ruleset(
        "theirs",
        {"external_id": "theirs", "product_selection": {"type": "PRODUCTS_ALL"}, "rules": [RULE]},
    )
    live = state.fetch_live(bold)
    chosen = export.select(live, project.ownership)
    assert [str(r.key) for r in chosen] == [
        "order_condition:ZONE=west",
        "ruleset:spring",
        "discount_code:SPRING15",
    ]
    assert export.left_out(live, chosen) == "1 discount code"
    assert export.held_back(live, chosen, project.ownership) == []


def test_unnamed_objects_are_named_and_adopted_in_place_by_the_first_apply(
    bold: client.BoldClient, project: config.Project
) -> None:
    made = bold.create_ruleset(
        {
            "public_name": "Summer Sale!",
            "product_selection": {"type": "PRODUCTS_ALL"},
            "rules": [{**RULE, "external_id": None, "conditions": []}],
        }
    )
    ruleset_id, rule_id = made["id"], made["rules"][0]["id"]
    run_export(bold, project)
    assert (project.root / "exported" / "rulesets.yaml").read_text() == header(
        bold.shop_identifier
    ) + (
        "rulesets:\n"
        f"- external_id: summer-sale-{ruleset_id}\n"
        "  adopt:\n"
        f"    shop: {bold.shop_identifier}\n"
        f"    id: {ruleset_id}\n"
        "    rules:\n"
        f"      discount-{rule_id}: {rule_id}\n"
        "  public_name: Summer Sale!\n"
        "  product_selection:\n"
        "    type: PRODUCTS_ALL\n"
        "  rules:\n"
        f"  - external_id: discount-{rule_id}\n"
        "    type: DISCOUNT\n"
        "    conditions: []\n"
        "    actions:\n"
        "    - type: PRICE_ADJUST_PERCENT\n"
        "      value: -20\n"
    )

    reloaded = config.load_project(project.root)
    first = plan_for(bold, reloaded)
    assert [(c.action, str(c.key)) for c in first.changes] == [
        ("update", f"ruleset:summer-sale-{ruleset_id}")
    ]
    apply.execute(bold, first.changes)
    assert plan_for(bold, reloaded).changes == ()
    assert bold.get_ruleset(f"summer-sale-{ruleset_id}") is not None
    adopted = bold.get_ruleset_by_id(ruleset_id)
    assert adopted is not None and adopted["external_id"] == f"summer-sale-{ruleset_id}"


def test_split_writes_a_file_per_object_under_its_kind(
    bold: client.BoldClient, project: config.Project
) -> None:
    seed(bold)
    result = run_export(bold, project, split=True)
    assert [p.relative_to(project.root).as_posix() for p in result.files] == [
        "exported/discount_codes/SPRING15.yaml",
        "exported/order_conditions/ZONE.yaml",
        "exported/rulesets/spring.yaml",
    ]
    assert plan_for(bold, config.load_project(project.root)).changes == ()


def test_an_empty_shop_writes_one_file_that_declares_nothing(
    bold: client.BoldClient, project: config.Project
) -> None:
    result = run_export(bold, project)
    assert result.files == (project.root / "exported" / "rulesets.yaml",)
    assert result.files[0].read_text() == (
        header(bold.shop_identifier) + export.EMPTY_NOTE + "rulesets: []\n"
    )
    assert plan_for(bold, config.load_project(project.root)).empty


def test_files_already_there_are_not_replaced_unless_asked(
    bold: client.BoldClient, project: config.Project
) -> None:
    seed(bold)
    run_export(bold, project)
    with pytest.raises(errors.ConfigError) as refused:
        run_export(bold, project)
    folder = project.root / "exported"
    assert str(refused.value) == (
        f"export would overwrite 3 files ({folder}/discount_codes.yaml, "
        f"{folder}/order_conditions.yaml, {folder}/rulesets.yaml): choose an empty --out "
        "folder, or pass --force to replace them"
    )


def test_an_out_folder_under_a_file_is_refused_before_the_shop_is_read(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(errors.ConfigError) as refused:
        export.check_destination(tmp_path / "notes.txt" / "exported")
    assert str(refused.value) == (
        f"--out {tmp_path}/notes.txt/exported: {tmp_path}/notes.txt is a file, not a folder"
    )
