"""The price preview through the real CLI: carts in every plan, price guardrails, ``price``."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler import config, sandbox
from reconciler.transport import IN_PROCESS_URL, InProcessTransport

from .conftest import Run

YEAR = dt.date.today().year + 1
AT = f"{YEAR}-03-10T12:00:00Z"

CARTS = f"""\
carts:
  - name: gold-member
    at: {AT}
    customer: {{tags: [gold]}}
    items:
      - {{sku: SKU-100, product_id: "100", variant_id: "1001", price: 2500, quantity: 2}}
  - name: silver-with-code
    at: {AT}
    customer: {{tags: [silver]}}
    discount_code: SPRING15
    items:
      - {{sku: SKU-200, price: 4000, quantity: 2}}
      - {{sku: MUG-1, price: 1500}}
  - name: guest
    at: {AT}
    items:
      - {{sku: MUG-1, price: 1500}}
"""


def schema(name: str) -> jsonschema.Draft202012Validator:
    text = resources.files("reconciler.schemas").joinpath(name).read_text()
    return jsonschema.Draft202012Validator(
        json.loads(text), format_checker=jsonschema.FormatChecker()
    )


@pytest.fixture
def with_carts(project: Path) -> Path:
    (project / "carts").mkdir()
    (project / "carts" / "shop.yaml").write_text(CARTS)
    return project


def edit(project: Path, old: str, new: str, file: str = "pricing/rulesets.yaml") -> None:
    path = project / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_first_plan_previews_the_carts_that_change(run: Run, with_carts: Path) -> None:
    result = run("plan")
    assert result.exit_code == 0, result.stderr
    assert (
        "Price preview: 3 carts, 2 changed, 1 unchanged; priced with 0 rulesets of other apps "
        "(0 applied to a cart line).\n"
        "  ~ cart gold-member: 50.00 → 25.00, -25.00 (-50.0%)\n"
        "      SKU-100 ×2: 25.00 → 12.50 by [this app] spring-sale-2027 > gold-half-off\n"
        "  ~ cart silver-with-code: 95.00 → 72.75, -22.25 (-23.4%)\n"
        "      SKU-200 ×2: 40.00 → 30.00 by [this app] spring-sale-2027 > silver-quarter-off\n"
        "      MUG-1 ×1: 15.00 → 12.75 by code SPRING15\n"
    ) in result.stdout


def test_after_apply_nothing_changes_and_the_preview_says_so(run: Run, with_carts: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    result = run("plan")
    assert result.exit_code == 0
    assert (
        "Price preview: 3 carts, 0 changed, 3 unchanged; priced with 0 rulesets of other apps "
        "(0 applied to a cart line).\n"
    ) in result.stdout
    assert "~ cart" not in result.stdout


def test_a_plan_without_carts_shows_no_preview(run: Run, project: Path) -> None:
    result = run("plan", "--format", "json")
    assert json.loads(result.stdout)["preview"] is None
    assert "Price preview" not in run("plan").stdout


def test_markdown_shows_a_table_with_codes_masked(run: Run, with_carts: Path) -> None:
    result = run("plan", "--format", "markdown")
    assert "| cart | before | after | change | why |" in result.stdout
    assert (
        "| `gold-member` | 50.00 | 25.00 | -25.00 (-50.0%) | SKU-100 ×2: 25.00 → 12.50 by "
        "[this app] spring-sale-2027 > gold-half-off |"
    ) in result.stdout
    assert "MUG-1 ×1: 15.00 → 12.75 by code SP•••• (8) |" in result.stdout
    assert "SPRING15" not in result.stdout.split("| cart |")[1]


def test_json_preview_matches_the_plan_schema(run: Run, with_carts: Path) -> None:
    document = json.loads(run("plan", "--format", "json").stdout)
    schema("plan.schema.json").validate(document)
    preview = document["preview"]
    assert (preview["carts"], preview["unchanged"]) == (3, 1)
    assert preview["changed"][0] == {
        "name": "gold-member",
        "origin": "carts/shop.yaml:2",
        "before": 5000,
        "after": 2500,
        "lines": [
            {
                "index": 0,
                "sku": "SKU-100",
                "quantity": 2,
                "before": 2500,
                "after": 1250,
                "why_before": "no rule",
                "why_after": "[this app] spring-sale-2027 > gold-half-off",
            }
        ],
    }


# --- guardrails -----------------------------------------------------------------------------


def test_a_discount_turned_surcharge_is_refused_without_carts(run: Run, project: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    edit(project, "value: -25}", "value: 25}")
    result = run("plan")
    assert result.exit_code == 4
    line = (
        "Refusing ruleset spring-sale-2027 > rules[silver-quarter-off].actions[0]: "
        "PRICE_ADJUST_PERCENT -25 → 25 turns a DISCOUNT of 25% off into a surcharge of 25%: a "
        "sign typo charges customers more. Re-run with --force if intended."
    )
    assert f"  ! {line}" in result.stdout
    assert line in result.stderr
    assert run("apply", "--yes").exit_code == 4
    assert run("plan", "--force").exit_code == 0


def test_an_amount_changed_tenfold_is_refused(run: Run, project: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    edit(project, "value: 1799}", "value: 17}")
    result = run("plan")
    assert result.exit_code == 4
    assert (
        "Refusing ruleset bulk-coffee > rules[ten-or-more].actions[0]: PRICE_ADJUST_ABSOLUTE "
        "1799 → 17 changes the amount by a factor of 106: a typo like a missing or extra digit? "
        "Re-run with --force if intended."
    ) in result.stderr


def test_a_relative_amount_turned_surcharge_is_refused(run: Run, project: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    edit(project, "value: -400}", "value: 400}")
    result = run("plan")
    assert result.exit_code == 4
    assert (
        "Refusing ruleset bulk-coffee > rules[fifty-or-more].actions[1]: PRICE_ADJUST_RELATIVE "
        "-400 → 400 turns a"
    ) in result.stderr
    assert "of 400 cents off into a surcharge of 400 cents" in result.stderr


def test_a_percent_code_turned_surcharge_is_refused(run: Run, project: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    edit(project, "value: -15}", "value: 15}", file="pricing/discount-codes.yaml")
    result = run("plan")
    assert result.exit_code == 4
    assert (
        "Refusing discount code SPRING15 > action: PRICE_ADJUST_PERCENT -15 → 15 turns a "
        "DISCOUNT_CODE of 15% off into a surcharge of 15%"
    ) in result.stderr


def test_a_price_below_the_floor_is_refused(run: Run, with_carts: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    edit(
        with_carts,
        "price: 2500, quantity: 2}",
        "price: 2500, quantity: 2, floor: 1100}",
        file="carts/shop.yaml",
    )
    assert run("plan").exit_code == 0  # 12.50 is above 11.00
    edit(with_carts, "value: -50}", "value: -60}")
    result = run("plan")
    assert result.exit_code == 4
    line = (
        "Refusing: cart gold-member (carts/shop.yaml:2) would sell SKU-100 at 10.00, below its "
        "floor 11.00 (by [this app] spring-sale-2027 > gold-half-off). Re-run with --force if "
        "intended."
    )
    assert line in result.stderr
    document = json.loads(run("plan", "--format", "json").stdout)
    assert document["safety"]["price_violations"] == [line]
    assert run("plan", "--force").exit_code == 0


def test_expect_assertions_hold_or_refuse(run: Run, with_carts: Path) -> None:
    edit(
        with_carts,
        '      - {sku: SKU-100, product_id: "100", variant_id: "1001", price: 2500, quantity: 2}\n',
        '      - {sku: SKU-100, product_id: "100", variant_id: "1001", price: 2500, quantity: 2}\n'
        "    expect: {total: 2500, total_between: [2000, 3000], max_percent_off: 50}\n",
        file="carts/shop.yaml",
    )
    assert run("plan").exit_code == 0
    edit(with_carts, "value: -50}", "value: -55}")
    result = run("plan")
    assert result.exit_code == 4
    assert (
        "Refusing: cart gold-member (carts/shop.yaml:2) breaks its expect under the planned "
        "rules: total is 22.50, expected exactly 25.00 (SKU-100 ×2 at 11.25 by [this app] "
        "spring-sale-2027 > gold-half-off). Re-run with --force if intended."
    ) in result.stderr
    assert (
        "breaks its expect under the planned rules: total is 22.50, 55.0% off the items' prices "
        "(50.00); expected at most 50% off (SKU-100 ×2"
    ) in result.stderr
    # The saved plan carries the refusal to apply.
    saved = with_carts / "plan.json"
    assert run("plan", "--out", str(saved)).exit_code == 4
    assert run("apply", str(saved), "--yes").exit_code == 4
    assert run("apply", str(saved), "--yes", "--force").exit_code == 0


def test_max_price_change_percent_refuses_a_big_move(run: Run, with_carts: Path) -> None:
    assert run("apply", "--yes").exit_code == 0
    edit(
        with_carts,
        "max_update_percent: 50}",
        "max_update_percent: 50, max_price_change_percent: 30}",
        file="boldrules.yaml",
    )
    edit(with_carts, "value: -50}", "value: -60}")
    assert run("plan").exit_code == 0  # 12.50 → 10.00 is -20%
    edit(with_carts, "value: -60}", "value: -90}")
    result = run("plan")
    assert result.exit_code == 4
    assert (
        "Refusing: cart gold-member (carts/shop.yaml:2): SKU-100 moves 12.50 → 2.50 (-80.0%; "
        "limit 30% by safety.max_price_change_percent) by [this app] spring-sale-2027 > "
        "gold-half-off. Re-run with --force if intended."
    ) in result.stderr


# --- carts files ----------------------------------------------------------------------------


def test_a_bad_cart_is_a_located_validate_problem(run: Run, with_carts: Path) -> None:
    edit(
        with_carts,
        "price: 2500, quantity: 2}",
        "price: 25.5, quantity: 2, colour: red}",
        file="carts/shop.yaml",
    )
    result = run("validate")
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines == [
        "carts/shop.yaml:6:70: cart gold-member > items[0].price: expected a whole number, got "
        "25.5",
        "carts/shop.yaml:6:89: cart gold-member > items[0]: unknown field 'colour'",
        "2 problems in 1 file",
    ]
    assert run("plan").exit_code == 3


def test_validate_counts_the_carts(run: Run, with_carts: Path) -> None:
    result = run("validate")
    assert result.exit_code == 0
    assert result.stdout == (
        "4 files valid (target sandbox): 2 order conditions, 3 rulesets, 2 discount codes, "
        "3 carts\n"
    )


def test_validate_json_lists_the_cart_files_and_names(run: Run, with_carts: Path) -> None:
    document = json.loads(run("validate", "--format", "json").stdout)
    assert "carts/shop.yaml" in document["files"]
    assert document["carts"] == ["gold-member", "silver-with-code", "guest"]


def test_price_without_carts_says_how_to_add_them(run: Run, project: Path) -> None:
    result = run("price")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no sample carts: add cart files to carts/ (or list them under `carts:` in "
        "boldrules.yaml); see docs/pricing.md\n"
    )


def test_a_carts_entry_leading_out_of_the_project_is_refused(run: Run, project: Path) -> None:
    edit(
        project,
        "manifests: [pricing/]",
        "manifests: [pricing/]\ncarts: [../elsewhere/]",
        file="boldrules.yaml",
    )
    result = run("validate")
    assert result.exit_code == 3
    assert "carts[0]" in result.stdout and "outside the project folder" in result.stdout


def test_two_carts_of_one_name_are_refused(run: Run, with_carts: Path) -> None:
    (with_carts / "carts" / "more.yaml").write_text(
        "carts:\n  - name: guest\n    items: [{sku: A, price: 100}]\n"
    )
    result = run("validate")
    assert result.exit_code == 3
    assert result.stdout == (
        "carts/shop.yaml:14:11: cart guest > name: is also the name of the cart at "
        "carts/more.yaml:2: give each cart its own name\n1 problem in 1 file\n"
    )


# --- boldrules price ------------------------------------------------------------------------


def test_price_json_matches_its_schema_and_names_the_winner(run: Run, with_carts: Path) -> None:
    result = run("price", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    schema("price.schema.json").validate(document)
    assert document["rules"] == "planned"
    gold, silver, guest = document["carts"]
    assert (gold["name"], gold["total"]) == ("gold-member", 2500)
    line = gold["lines"][0]
    assert (line["unit_price"], line["line_total"]) == (1250, 2500)
    assert (line["ruleset"], line["rule"], line["discount_code"]) == (
        "spring-sale-2027",
        "gold-half-off",
        None,
    )
    mug = silver["lines"][1]
    assert (mug["unit_price"], mug["ruleset"], mug["rule"], mug["discount_code"]) == (
        1275,
        None,
        None,
        "SPRING15",
    )
    assert mug["assumed"] == [
        {
            "ruleset": "discount-code-SPRING15",
            "rule": "discount-code",
            "condition": "CART_SUBTOTAL_MIN = 5000",
        }
    ]
    assert guest["total"] == 1500


def test_price_live_prices_the_shop_as_it_is(run: Run, with_carts: Path) -> None:
    document = json.loads(
        run("price", "--live", "--format", "json", "--cart", "gold-member").stdout
    )
    assert [c["total"] for c in document["carts"]] == [5000]
    assert document["rules"] == "live"
    run("apply", "--yes")
    document = json.loads(
        run("price", "--live", "--format", "json", "--cart", "gold-member").stdout
    )
    assert [c["total"] for c in document["carts"]] == [2500]


def test_price_at_another_instant_and_offline(run: Run, with_carts: Path) -> None:
    after = run("price", "--cart", "gold-member", "--at", f"{YEAR}-05-01T00:00:00Z", "--offline")
    assert after.exit_code == 0, after.stderr
    assert after.stdout.splitlines()[:3] == [
        "Prices under the manifests alone (no shop read: other apps' rulesets and the shop's "
        "discount codes not included); 0 rulesets of other apps took part.",
        f"cart gold-member (carts/shop.yaml:2) at {YEAR}-05-01T00:00:00Z: total 50.00 (items at "
        "their own prices 50.00)",
        "  SKU-100 ×2: 25.00 → 25.00 each, 50.00 (no rule applies)",
    ]


def test_price_of_an_unknown_cart_says_which_exist(run: Run, with_carts: Path) -> None:
    result = run("price", "--cart", "nope")
    assert result.exit_code == 1
    assert (
        "error: no cart 'nope' in the project's carts (carts: gold-member, silver-with-code, guest)"
    ) in result.stderr


def test_other_apps_rulesets_price_too_and_are_counted(run: Run, with_carts: Path) -> None:
    """Another app's ruleset takes part (read with include_all_apps), never planned or deleted."""
    target = config.load_project(with_carts).target(None)
    assert target.sandbox is not None
    from reconciler import client, clientsettings

    shop = sandbox.Sandbox.embedded(target.sandbox)
    shop.add_token("other-app-token", app="wholesale-app")
    with client.BoldClient(
        clientsettings.ClientSettings(base_url=IN_PROCESS_URL, rate=1000.0, burst=1000),
        token="other-app-token",
        transport=InProcessTransport(shop.wsgi_app),
    ) as other:
        other.create_ruleset(
            {
                "external_id": "mugs-cheap",
                "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["MUG-1"]},
                "rules": [
                    {
                        "external_id": "mug-900",
                        "type": "DISCOUNT",
                        "conditions": [],
                        "actions": [{"type": "PRICE_ADJUST_ABSOLUTE", "value": 900}],
                    }
                ],
            }
        )
    shop.close()
    result = run("plan")
    assert result.exit_code == 0, result.stderr
    assert (
        "Price preview: 3 carts, 2 changed, 1 unchanged; priced with 1 ruleset of other apps "
        "(1 applied to a cart line).\n"
    ) in result.stdout
    # The other app's 9.00 beats the code's 12.75 on both sides: the mug line does not move.
    assert "MUG-1" not in result.stdout
    assert "mugs-cheap" not in result.stdout.split("Price preview")[0]
    priced = json.loads(run("price", "--format", "json", "--cart", "guest").stdout)
    assert priced["other_app_rulesets"] == 1
    assert priced["carts"][0]["lines"][0]["unit_price"] == 900
    assert priced["carts"][0]["lines"][0]["app"] == "other apps"
    assert priced["carts"][0]["lines"][0]["ruleset"] == "mugs-cheap"


# --- price --live --check -------------------------------------------------------------------

EVERYDAY = """\
rulesets:
  - external_id: everyday-tea
    product_selection: {type: PRODUCT_SEARCH, sku_ids: [TEA-1]}
    rules:
      - external_id: ten-off
        type: DISCOUNT
        conditions: []
        actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
"""


def test_price_check_agrees_with_the_sandbox_storefront(run: Run, with_carts: Path) -> None:
    (with_carts / "pricing" / "everyday.yaml").write_text(EVERYDAY)
    (with_carts / "carts" / "tea.yaml").write_text(
        "carts:\n  - name: tea\n    items: [{sku: TEA-1, price: 1005, quantity: 2}]\n"
    )
    assert run("apply", "--yes").exit_code == 0
    result = run("price", "--live", "--check", "--cart", "tea")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "  TEA-1 ×2: 10.05 → 9.05 each, 18.10" in result.stdout
    assert result.stdout.endswith(
        "Check against the storefront (POST S/price, a single-product price call: no discount "
        "code, no cart-only condition, no cart-level discount, priced now): 0 of 1 line differ; "
        "Bold and boldrules agree.\n"
    )
    document = json.loads(
        run("price", "--live", "--check", "--cart", "tea", "--format", "json").stdout
    )
    schema("price.schema.json").validate(document)
    assert document["check"] == {"lines": 1, "mismatches": []}


def test_price_check_needs_live(run: Run, with_carts: Path) -> None:
    result = run("price", "--check")
    assert result.exit_code == 1
    assert "--check compares the shop's own prices: add --live" in result.stderr


def test_price_check_reports_a_storefront_that_disagrees_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop over HTTP whose storefront answers another price than boldrules computes: the
    line is named with both figures, and the command exits 1."""
    import socketserver
    import threading
    import wsgiref.simple_server
    from collections.abc import Iterable

    from click.testing import CliRunner

    from reconciler import cli
    from reconciler.sandbox import Sandbox

    shop = Sandbox()
    shop.add_token("tok-check", app="our-app")

    def storefront_disagrees(environ: dict[str, Any], start: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"].endswith("/price"):
            body = json.dumps(
                {
                    "pre_best_price_log_id": "x",
                    "actions": [
                        {"type": "BEST_ITEM_PRICE", "sku": "TEA-1", "value": 800, "rule": []}
                    ],
                }
            ).encode()
            start("200 OK", [("Content-Type", "application/json")])
            return [body]
        return shop.wsgi_app(environ, start)

    class Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    class Threaded(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
        daemon_threads = True

    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, storefront_disagrees, server_class=Threaded, handler_class=Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = tmp_path / "shop"
        (root / "pricing").mkdir(parents=True)
        (root / "carts").mkdir()
        (root / "pricing" / "tea.yaml").write_text(EVERYDAY)
        (root / "carts" / "tea.yaml").write_text(
            "carts:\n  - name: tea\n    items: [{sku: TEA-1, price: 1005}]\n"
        )
        (root / "boldrules.yaml").write_text(
            "targets:\n  shop:\n    api_url: http://127.0.0.1:"
            f"{server.server_port}\n    token_env: CHECK_TOKEN\n    rate: 1000\n    burst: 1000\n"
        )
        monkeypatch.setenv("CHECK_TOKEN", "tok-check")
        runner = CliRunner()
        applied = runner.invoke(cli.main, ["-C", str(root), "apply", "--yes"])
        assert applied.exit_code == 0, applied.stderr
        result = runner.invoke(cli.main, ["-C", str(root), "price", "--live", "--check"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-2:] == [
        "! cart tea TEA-1: Bold says 8.00, boldrules computes 9.05 (by [this app] everyday-tea > "
        "ten-off; Bold's rule: none)",
        "Check against the storefront (POST S/price, a single-product price call: no discount "
        "code, no cart-only condition, no cart-level discount, priced now): 1 of 1 line differ: "
        "boldrules' preview cannot be trusted for those here (docs/pricing.md).",
    ]
