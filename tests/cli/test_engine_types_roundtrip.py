"""Every rule, action, condition and selection type of Bold's engine (pricing-engine.md §3-§5)
can be written in a manifest, applied, re-planned to ``No changes.`` and exported back as it was.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler import cli, config, manifest, model, state
from reconciler.sandbox import Sandbox

PROJECT = """\
manifests: [pricing/]
default_target: sandbox
targets:
  sandbox:
    sandbox: .boldrules/sandbox.sqlite
    rate: 1000
    burst: 1000
"""

#: A rule, action, condition or selection of each type and field the engine reads, new in the
#: manifest format with it (the older ones are exercised by the quick start's round trip).
ENGINE_TYPES = """\
rulesets:
  - external_id: every-type
    public_name: Every type
    product_selection: {type: PRODUCTS_EXCEPT, sku_ids: [GIFT-CARD]}
    rules:
      - external_id: base
        type: BASE_PRICE
        conditions: [{type: CUSTOMER_IN_ANY_GROUP_FROM_LIST, list: [wholesale, trade]}]
        actions:
          - {type: PRICE_ADJUST_ABSOLUTE_WITH_LIMIT, value: 500, limit: 2, limit_scope: product}
      - external_id: relative-limited
        type: DISCOUNT
        conditions: [{type: QTY_BY_MIX_AND_MATCH, label: mugs, operator: ">=", value: 3}]
        actions:
          - {type: PRICE_ADJUST_RELATIVE_WITH_LIMIT, value: -100, limit: 5, limit_scope: lineitem}
      - external_id: percent-limited
        type: DISCOUNT
        conditions: [{type: LINE_ITEM_PROPERTY, name: engraving, operator: "!=", value: "yes"}]
        actions: [{type: PRICE_ADJUST_PERCENT_WITH_LIMIT, value: -10, limit: 1}]
      - external_id: charm
        type: ROUNDING
        conditions: []
        actions: [{type: CHARM_PRICE, value: 99}]
      - external_id: cases
        type: ADDITION
        conditions:
          - {type: CART_SUBTOTAL_MIN, operator: ">=", value: 5000}
          - {type: QTY_ON_CART, operator: ">=", value: 2}
        actions: [{type: CASE_PRICING, case_price: 5000, case_size: 6}]
      - external_id: cart-off
        type: CART_LEVEL_DISCOUNT
        conditions: [{type: CUSTOMER_COUNTRY, value: CA}, {type: CURRENCY, value: CAD}]
        actions:
          - {type: CART_LEVEL_DISCOUNT_RELATIVE, value: -500}
          - {type: CART_LEVEL_DISCOUNT_PERCENT, value: -5}
      - external_id: checkout
        type: STACKABLE_DISCOUNT
        conditions: [{type: SHIPPING_RATE_RANGE, value: "0-1000"}]
        actions: [{type: SHIPPING_ADJUST_ABSOLUTE, value: 0}, {type: CART_ADJUST_ABSOLUTE, value: 100}]
  - external_id: shopify-all
    product_selection: {type: SHOPIFY_PRODUCTS_ALL}
    rules:
      - external_id: extra
        type: DISCOUNTABLE_ADDITION
        conditions: [{type: CUSTOMER_GROUP, value: default}]
        actions: [{type: PRICE_ADJUST_RELATIVE, value: 250, name: Engraving}]
discount_codes:
  - codes: [TRADE10]
    action: {type: PRICE_ADJUST_PERCENT, value: -10}
    product_selection: {type: PRODUCTS_ALL}
    conditions: [{type: CUSTOMER_IN_ANY_GROUP_FROM_LIST, list: [trade, wholesale]}]
"""


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli.main, ["-C", str(root), *args], catch_exceptions=False)


def declared(root: Path) -> dict[model.Key, model.Resource]:
    project = config.load_project(root)
    loaded = manifest.load_manifests(project, project.target(None))
    return {d.key: state.resource(d.key, d.data) for d in loaded.objects}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "engine.yaml").write_text(ENGINE_TYPES, encoding="utf-8")
    (tmp_path / "boldrules.yaml").write_text(PROJECT, encoding="utf-8")
    return tmp_path


def test_every_engine_type_plans_applies_and_exports_back(root: Path) -> None:
    assert run(root, "validate").stdout == (
        "1 file valid (target sandbox): 2 rulesets, 1 discount code\n"
    )
    planned = run(root, "plan")
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.splitlines()[2:8] == [
        "+ ruleset every-type (7 rules: customer_in_any_group_from_list in trade, wholesale "
        "price 5.00 (limit 2, limit_scope product), currency = CAD and customer_country = CA "
        "cart −5.00 and cart −5%, cart_subtotal_min ≥ 5000 and qty_on_cart ≥ 2 case of 6 at "
        "50.00 +4 more; all products except GIFT-CARD; pricing/engine.yaml:2:5)",
        "    when: goes live on merge",
        "+ ruleset shopify-all (1 rule: default +2.50; all products; pricing/engine.yaml:40:5)",
        "    when: goes live on merge",
        "+ discount code TRADE10 (−10% on all products; customer_in_any_group_from_list in "
        "trade, wholesale; pricing/engine.yaml:48:13)",
        "    when: goes live on merge",
    ]
    applied = run(root, "apply", "--yes")
    assert applied.exit_code == 0, applied.output
    again = run(root, "plan", "--detailed-exitcode")
    assert (again.exit_code, again.stdout.splitlines()[-1]) == (0, "No changes."), again.stdout

    exported = run(root, "export", "--out", "exported", "--all-codes")
    assert exported.exit_code == 0, exported.output
    before = declared(root)
    (root / "boldrules.yaml").write_text(PROJECT.replace("[pricing/]", "[exported/]"))
    after = declared(root)
    assert {k: r.body for k, r in after.items()} == {k: r.body for k, r in before.items()}
    text = "\n".join(p.read_text() for p in sorted((root / "exported").glob("*.yaml")))
    for written in ("type: PRODUCTS_EXCEPT", "label: mugs", "limit_scope: lineitem"):
        assert written in text
    final = run(root, "plan", "--detailed-exitcode")
    assert (final.exit_code, final.stdout.splitlines()[-1]) == (0, "No changes."), final.stdout


def test_the_shop_prices_what_was_applied(root: Path) -> None:
    """The applied rulesets price in the sandbox's storefront: layer 1 adds, layer 3 stacks
    (the case and checkout rules, whose conditions only checkout judges, change nothing here)."""
    assert run(root, "apply", "--yes").exit_code == 0
    sandbox = Sandbox(root / ".boldrules" / "sandbox.sqlite")
    try:
        with httpx.Client(
            transport=httpx.WSGITransport(app=sandbox.wsgi_app), base_url="http://sandbox"
        ) as shop:
            answer = shop.post(
                "/price_rules/storefront/v2/shops/sandbox-shop/price",
                json={"items": [{"id": "MUG", "price": 1234}]},
            ).json()
    finally:
        sandbox.close()
    line = answer["actions"][0]
    # 1234 + 250 (DISCOUNTABLE_ADDITION, customer group "default") = 1484, charmed to 1499
    assert line["value"] == 1499
    assert [r["rule_set_eid"] + " > " + r["eid"] for r in line["rule"]] == [
        "shopify-all > extra",
        "every-type > cases",
        "every-type > charm",
        "every-type > checkout",
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{type: CASE_PRICING, case_price: 5000}", "case_size"),
        ("{type: PRICE_ADJUST_PERCENT_WITH_LIMIT, value: -10}", "limit"),
        ("{type: CHARM_PRICE, value: 150}", "150"),
        ("{type: PRICE_ADJUST_ABSOLUTE_WITH_LIMIT, value: 5, limit: 1, limit_scope: shop}", "shop"),
        ("{type: PRICE_ADJUST_PERCENT_WITH_LIMIT, value: -150, limit: 1}", "-150"),
    ],
)
def test_what_bold_refuses_is_refused_with_exit_3(root: Path, bad: str, message: str) -> None:
    text = ENGINE_TYPES.replace("[{type: CHARM_PRICE, value: 99}]", f"[{bad}]")
    (root / "pricing" / "engine.yaml").write_text(text, encoding="utf-8")
    result = run(root, "validate")
    assert result.exit_code == 3
    first = result.stdout.splitlines()[0]
    assert first.startswith("pricing/engine.yaml:23:")
    assert "rules[charm] > actions[0]" in first and message in first, first


def test_a_group_list_in_another_order_is_no_change(root: Path) -> None:
    assert run(root, "apply", "--yes").exit_code == 0
    manifest_file = root / "pricing" / "engine.yaml"
    manifest_file.write_text(
        ENGINE_TYPES.replace("list: [wholesale, trade]", "list: [trade, wholesale]"),
        encoding="utf-8",
    )
    result = run(root, "plan", "--detailed-exitcode")
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "No changes."), result.stdout
