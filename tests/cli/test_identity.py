"""Real shops over real HTTP: rulesets and rules without an external id are adopted in place,
and duplicates the shop holds are shown and removed (issues 11 §2 and 12 #9).

A served sandbox is seeded by hand over HTTP, the way scripts and older tools fill real shops;
the command line is driven as a user would drive it; the shop is read afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler import cli
from reconciler.sandbox import CONTROL_TOKEN, Sandbox, serve
from reconciler.sandbox.app import StartResponse

from ..conftest import APP_TOKEN, OTHER_TOKEN

pytestmark = pytest.mark.socket

SHOP = "sandbox-shop"


class RecordingSandbox(Sandbox):
    """The sandbox, remembering the raw path of every request it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self.paths.append(str(environ.get("RAW_URI") or environ.get("PATH_INFO", "")))
        return super().__call__(environ, start_response)


@dataclass
class Served:
    root: Path
    sandbox: RecordingSandbox
    url: str

    @property
    def api(self) -> str:
        return f"{self.url}/price_rules/rules/v2/shops/{SHOP}"

    def call(self, method: str, path: str, body: Any = None, token: str = APP_TOKEN) -> Any:
        response = httpx.request(
            method,
            self.api + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def rulesets(self, token: str = APP_TOKEN) -> list[dict[str, Any]]:
        """The app's rulesets, less boldrules' own bookkeeping (ownership record, lock)."""
        listed = self.call("GET", "/rulesets?limit=100", token=token)["data"]["rulesets"]
        return [r for r in listed if not str(r.get("external_id") or "").startswith("boldrules.")]

    def boldrules(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli.main,
            ["-C", str(self.root), *args],
            env={"BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1"},
            catch_exceptions=False,
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    sandbox = RecordingSandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    sandbox.add_token(OTHER_TOKEN, app="someone-else")
    with serve(sandbox, port=0) as server:
        root = tmp_path / "shop"
        (root / "pricing").mkdir(parents=True)
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: local\ntargets:\n  local:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 100\n"
            "ownership: {discount_code_prefixes: [SPRING]}\n"
        )
        yield Served(root, sandbox, server.url)


def rule(value: int, external_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "DISCOUNT",
        "conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}],
        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": value}],
    }
    if external_id is not None:
        data["external_id"] = external_id
    return data


def seed_unnamed(served: Served, *, count: int = 40, every: int = 8) -> None:
    """``count`` rulesets, every ``every``-th without an external id, each with an unnamed rule."""
    for i in range(count):
        body: dict[str, Any] = {
            "public_name": f"Promo {i}!",
            "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": [f"SKU-{i}"]},
            "rules": [rule(-10), rule(-5, "named")],
        }
        if i % every:
            body["external_id"] = f"rs-{i}"
        served.call("POST", "/rulesets", {"ruleset": body})
    for _ in range(3):  # another app's, without external ids too: never ours to touch
        served.call(
            "POST",
            "/rulesets",
            {"ruleset": {"product_selection": {"type": "PRODUCTS_ALL"}, "rules": [rule(-1)]}},
            token=OTHER_TOKEN,
        )


def adopt_export(served: Served) -> Result:
    exported = served.boldrules("export", "--out", "pricing", "--force")
    assert exported.exit_code == 0, exported.stderr
    return exported


def test_a_shop_of_unnamed_rulesets_and_rules_is_adopted_in_place(served: Served) -> None:
    seed_unnamed(served)
    before = {r["id"]: [x["id"] for x in r["rules"]] for r in served.rulesets()}
    foreign = served.rulesets(OTHER_TOKEN)

    exported = adopt_export(served)
    assert "Wrote 1 file to" in exported.stderr
    assert "Named 40 rulesets holding objects without an external_id" in exported.stderr
    text = (served.root / "pricing" / "rulesets.yaml").read_text()
    assert "None" not in text
    unnamed = min(i for i in before)  # ruleset 1 was made without an external id
    rule_id = before[unnamed][0]
    assert (
        f"- external_id: promo-0-{unnamed}\n  adopt:\n    shop: {SHOP}\n    id: {unnamed}\n"
        f"    rules:\n      discount-{rule_id}: {rule_id}\n  public_name: Promo 0!\n"
    ) in text

    validated = served.boldrules("validate")
    assert validated.exit_code == 0, validated.output
    planned = served.boldrules("plan")
    assert planned.exit_code == 0, planned.output
    lines = planned.stdout.splitlines()
    heading = f"~ ruleset promo-0-{unnamed} (adopts ruleset #{unnamed} (no external_id))"
    at = lines.index(heading)
    assert lines[at + 1 : at + 3] == [
        f'    external_id: + "promo-0-{unnamed}"',
        f'    rules[discount-{rule_id}].external_id: + "discount-{rule_id}"',
    ]
    assert "~ ruleset rs-1" in lines
    assert not [line for line in lines if line.startswith(("+ ", "- "))]
    assert "None" not in planned.stdout
    assert lines[-2:] == [
        # The 40 updates only give objects their names: listed, and said not to count.
        "Safety: 0 deletes and 0 updates of 40 managed objects (0% / 0%), not counting 40"
        " updates that only name objects: within limits.",
        "Plan: 0 to create, 40 to update, 0 to delete.",
    ]
    saved = served.root / "adopting.json"
    assert served.boldrules("plan", "--out", str(saved)).exit_code == 0
    shown = served.boldrules("show", str(saved))
    assert lines[-2] in shown.stdout.splitlines()  # a saved plan says it alike

    ledger = served.root / "ledger.jsonl"
    applied = served.boldrules("apply", "--yes", "--ledger", str(ledger))
    assert applied.exit_code == 0, applied.output
    # A ruleset with unnamed rules is named in two requests (PATCH, then PUT): the summary
    # counts both, as the ledger lists them.
    requests = len(ledger.read_text().splitlines())
    assert requests > 40
    assert (
        f"Apply complete: 40 calls succeeded ({requests} API requests, as the ledger lists)."
        in applied.stderr
    )
    again = served.boldrules("plan", "--detailed-exitcode")
    assert (again.exit_code, again.stdout.splitlines()[-1]) == (0, "No changes.")

    # Every object named in place: the same ruleset and rule ids, nothing deleted or re-created.
    after = served.rulesets()
    assert {r["id"]: [x["id"] for x in r["rules"]] for r in after} == before
    assert all(r["external_id"] and all(x["external_id"] for x in r["rules"]) for r in after)
    assert served.rulesets(OTHER_TOKEN) == foreign
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert {e["outcome"] for e in entries} == {"ok"}
    assert {(e["method"], e["operation"]) for e in entries} == {
        ("PATCH", "patch_ruleset"),
        ("PATCH", "patch_ruleset_by_id"),
        ("PUT", "replace_ruleset_by_id"),
    }
    assert any("/rulesets/" in p for p in served.sandbox.paths)
    assert not [p for p in served.sandbox.paths if "None" in p or "//" in p]


def test_unnamed_rulesets_no_manifest_adopts_are_left_alone_unless_asked(
    served: Served,
) -> None:
    seed_unnamed(served, count=10, every=4)
    (served.root / "pricing" / "none.yaml").write_text("rulesets: []\n")
    planned = served.boldrules("plan")
    assert planned.exit_code == 4  # 7 named rulesets would go: the safety rules hold them
    assert "- ruleset #1 (no external_id)" not in planned.stdout
    assert (
        "Note: 3 rulesets without an external_id left alone (#1, #5, #9): `boldrules export` "
        "names them for adoption; ownership.unnamed_rulesets: ignore silences this, delete "
        "removes them."
    ) in planned.stdout.splitlines()
    assert "3 rulesets without external_id (see ownership.unnamed_rulesets)" in planned.stdout

    project = served.root / "boldrules.yaml"
    project.write_text(
        project.read_text().replace(
            "ownership: {discount_code_prefixes: [SPRING]}",
            "ownership: {unnamed_rulesets: delete}\n"
            "safety: {max_deletes: 20, max_delete_percent: 100}",
        )
    )
    planned = served.boldrules("plan")
    assert (
        "- ruleset #1 (no external_id) (2 rules: gold −10%, gold −5%; SKU-0) — no manifest "
        "adopts it; ownership.unnamed_rulesets: delete"
    ) in planned.stdout.splitlines()
    applied = served.boldrules("apply", "--yes", "--allow-delete")
    assert applied.exit_code == 0, applied.output
    assert "delete ruleset #1 (no external_id) … ok" in applied.stderr
    assert served.rulesets() == []
    assert len(served.rulesets(OTHER_TOKEN)) == 3
    assert served.boldrules("plan").stdout.splitlines()[-1] == "No changes."
    assert not [p for p in served.sandbox.paths if "None" in p]


def test_ignore_leaves_unnamed_rulesets_out_of_the_export(served: Served) -> None:
    seed_unnamed(served, count=4, every=2)
    project = served.root / "boldrules.yaml"
    project.write_text(
        project.read_text().replace(
            "ownership: {discount_code_prefixes: [SPRING]}", "ownership: {unnamed_rulesets: ignore}"
        )
    )
    exported = adopt_export(served)
    assert (
        "Left out: 2 rulesets without an external_id (ownership.unnamed_rulesets: ignore)."
        in exported.stderr
    )
    text = (served.root / "pricing" / "rulesets.yaml").read_text()
    assert "id: 1\n" not in text and "external_id: rs-1\n" in text
    applied = served.boldrules("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    planned = served.boldrules("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "Note:" not in planned.stdout
    assert sorted(str(r["external_id"]) for r in served.rulesets()) == [
        "None",
        "None",
        "rs-1",
        "rs-3",
    ]


# --- duplicates ------------------------------------------------------------------------------

FIELD_SET = {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "MB"}


def seed_duplicates(served: Served) -> None:
    """What overlapping applies leave: a field set twice, a rule twice, an id twice."""
    project = served.root / "boldrules.yaml"
    project.write_text(
        project.read_text().replace(
            "ownership: {discount_code_prefixes: [SPRING]}", "ownership: {order_conditions: [ZONE]}"
        )
    )
    served.call(
        "PUT",
        "/rulesets/external/spring",
        {
            "ruleset": {
                "product_selection": {
                    "type": "PRODUCT_SEARCH",
                    "sku_ids": ["SKU-1", "SKU-1", "SKU-2"],
                },
                "rules": [rule(-20, "gold")],
            }
        },
    )
    served.call(
        "POST",
        "/order_conditions",
        {"name": "ZONE", "value": "prairies", "field_sets": [FIELD_SET]},
    )
    served.call(
        "POST",
        "/order_conditions/field_sets",
        {"name": "ZONE", "value": "prairies", "field_sets": [FIELD_SET]},
    )
    # Bold refuses a second rule under one external id; a race does not ask. Seeded directly.
    control = {"Authorization": f"Bearer {CONTROL_TOKEN}"}
    dump = httpx.get(f"{served.url}/__sandbox__/dump", headers=control).json()
    ruleset = dump["rulesets"][0]["ruleset"]
    copy = {**ruleset["rules"][0], "id": 900, "actions": [rule(-90)["actions"][0]]}
    ruleset["rules"].append(copy)
    dump["sequences"]["rule"] = 901
    httpx.post(f"{served.url}/__sandbox__/load", json=dump, headers=control).raise_for_status()


def test_duplicates_are_shown_and_removed_after_an_export(served: Served) -> None:
    seed_duplicates(served)
    exported = adopt_export(served)
    assert (
        "Wrote duplicated items once (2 objects held copies: field sets, rules, ids or "
        "conditions); the plan shows each copy and apply removes it."
    ) in exported.stderr
    written = "\n".join(p.read_text() for p in sorted((served.root / "pricing").glob("*.yaml")))
    assert written.count("customer.shipping.province_code: MB") == 1
    assert written.count("- SKU-1\n") == 1
    assert written.count("external_id: gold") == 1 and "-90" not in written

    planned = served.boldrules("plan")
    assert planned.stdout.splitlines()[2:9] == [
        "~ order condition ZONE=prairies",
        '    field_sets: duplicate {"customer.shipping.country_code": "CA", '
        '"customer.shipping.province_code": "MB"} removed',
        "~ ruleset spring",
        '    product_selection.sku_ids: duplicate "SKU-1" removed',
        '    rules[gold]: duplicate {"actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -90}], '
        '"conditions": [{"type": "CUSTOMER_GROUP", "value": "gold"}], "meta": {}, "priority": 0, '
        '"stack_or… removed',
        "    when: changes the live ruleset spring at apply",
        "",
    ]
    applied = served.boldrules("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    again = served.boldrules("plan", "--detailed-exitcode")
    assert (again.exit_code, again.stdout.splitlines()[-1]) == (0, "No changes.")

    (condition,) = served.call("GET", "/order_conditions?deep=true")["data"]["order_conditions"]
    assert [{k: v for k, v in fs.items() if k != "id"} for fs in condition["field_sets"]] == [
        FIELD_SET
    ]
    assert condition["field_sets"][0]["id"] == 1  # the first copy stays, the second went
    (spring,) = served.rulesets()
    assert spring["product_selection"]["sku_ids"] == ["SKU-1", "SKU-2"]
    assert [(r["id"], r["external_id"], r["actions"][0]["value"]) for r in spring["rules"]] == [
        (1, "gold", -20)
    ]


def test_a_field_set_added_twice_is_removed_by_its_own_id(served: Served) -> None:
    seed_duplicates(served)
    (served.root / "pricing" / "zone.yaml").write_text(
        "order_conditions:\n  - name: ZONE\n    value: prairies\n    field_sets:\n"
        "      - {customer.shipping.country_code: CA, customer.shipping.province_code: MB}\n"
    )
    applied = served.boldrules("apply", "--yes", "--only", "order_condition:*")
    assert applied.exit_code == 0, applied.output
    assert "[1/1] update order condition ZONE=prairies … ok" in applied.stderr
    assert served.sandbox.stats()["by_route"]["DELETE P/order_conditions/field_sets"] == {"200": 1}
    (condition,) = served.call("GET", "/order_conditions?deep=true")["data"]["order_conditions"]
    assert [fs["id"] for fs in condition["field_sets"]] == [1]


def test_an_export_of_values_the_manifest_format_refuses_says_where_they_are(
    served: Served,
) -> None:
    # Another client stored a quantity condition whose value is `true` (the contract says an
    # integer; the server took it). Export writes what the shop holds, and says at once that
    # the file will not validate, located, rather than leaving it to the first plan.
    served.call(
        "POST",
        "/rulesets",
        {
            "ruleset": {
                "external_id": "bulk",
                "product_selection": {"type": "PRODUCTS_ALL"},
                "rules": [
                    {
                        "external_id": "tier",
                        "type": "DISCOUNT",
                        "conditions": [{"type": "QTY_BY_PRODUCT", "operator": ">=", "value": True}],
                        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -10}],
                    }
                ],
            }
        },
    )
    served.call("POST", "/rulesets", {"ruleset": named_ruleset("fine")})
    exported = served.boldrules("export", "--out", "pricing", "--force")
    assert exported.exit_code == 0, exported.stderr
    warnings = [line for line in exported.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: pricing/rulesets.yaml:13:14: ruleset bulk > rules[tier] > conditions[0].value:"
        " expected a whole number, got true"
    ]
    assert "The shop holds 1 value the manifest format does not accept" in exported.stderr
    assert "then `boldrules plan` shows" not in exported.stderr
    validated = served.boldrules("validate")
    assert validated.exit_code == 3
    assert warnings[0].removeprefix("warning: ") in validated.stdout


def test_an_exported_value_is_warned_of_without_its_terminal_escapes(served: Served) -> None:
    # A terminal title change in a rule's name, stored by a hostile client, beside a value the
    # format refuses: the warning names the rule, escaped.
    body = named_ruleset("bulk")
    body["rules"][0]["external_id"] = "tier\x1b]0;owned\x07"
    body["rules"][0]["conditions"] = [{"type": "QTY_BY_PRODUCT", "operator": ">=", "value": True}]
    served.call("POST", "/rulesets", {"ruleset": body})
    exported = served.boldrules("export", "--out", "pricing", "--force")
    assert exported.exit_code == 0, exported.stderr
    warnings = [line for line in exported.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings and all("\x1b" not in w and "\x07" not in w for w in warnings)
    assert any("conditions[0].value" in w for w in warnings)


def test_an_export_of_values_the_format_accepts_warns_of_nothing(served: Served) -> None:
    served.call("POST", "/rulesets", {"ruleset": named_ruleset("fine")})
    outside = served.root.parent / "elsewhere"  # --out outside the project is read there
    exported = served.boldrules("export", "--out", str(outside))
    assert exported.exit_code == 0, exported.stderr
    assert "warning" not in exported.stderr
    assert "then `boldrules plan` shows No changes." in exported.stderr


def named_ruleset(external_id: str) -> dict[str, Any]:
    """A ruleset the manifest format takes as it is: named, one named rule."""
    return {
        "external_id": external_id,
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [rule(-10, "gold")],
    }
