"""Identity: objects keyed by server id, adoption hints, duplicates, and the path guard.

Pure planning over live JSON where the sandbox cannot hold the shape (discount codes differing
only in case: it refuses them, as Bold should), the in-process sandbox everywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler import (
    calls,
    cli,
    client,
    clientsettings,
    config,
    errors,
    export,
    model,
    pipeline,
    plan,
    planformat,
    savedplan,
    state,
)

from ..conftest import APP_TOKEN
from ..projects import project

SHOP = "sandbox-shop"


def live_state(*resources: model.Resource) -> state.LiveState:
    return state.LiveState(tuple(resources), 0, SHOP)


def api_ruleset(eid: str | None, ident: int, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": ident,
        "external_id": eid,
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": rules,
    }


def api_rule(ident: int, eid: str | None = None, value: int = -5) -> dict[str, Any]:
    return {
        "id": ident,
        "external_id": eid,
        "type": "DISCOUNT",
        "conditions": [],
        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": value}],
    }


def declared(eid: str, rules: list[str], adopt: dict[str, Any] | None = None) -> model.Resource:
    data: dict[str, Any] = {
        "external_id": eid,
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": name,
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -5}],
            }
            for name in rules
        ],
    }
    if adopt is not None:
        data["adopt"] = adopt
    return state.ruleset_resource(data, model.Origin("pricing/a.yaml", 1, 3))


def text(result: plan.Plan) -> list[str]:
    return planformat.text.render_text(result).splitlines()


def test_unnamed_rulesets_are_never_folded_together() -> None:
    live = live_state(
        *(state.ruleset_resource(api_ruleset(None, i, [api_rule(100 + i)])) for i in (3, 12, 4))
    )
    result = plan.plan_changes(
        [],
        live,
        target=project().targets["sandbox"],
        project=project(ownership=config.Ownership(unnamed_rulesets="delete")),
    )
    assert [c.key.describe() for c in result.changes] == [
        "ruleset #3 (no external_id)",
        "ruleset #4 (no external_id)",
        "ruleset #12 (no external_id)",
    ]
    assert [call.operation for call in calls.calls_for(result.changes)] == [
        "delete_ruleset_by_id"
    ] * 3


def test_an_adopt_hint_for_another_shop_is_ignored() -> None:
    live = live_state(state.ruleset_resource(api_ruleset(None, 7, [api_rule(70)])))
    desired = [declared("promo-7", ["discount-70"], {"shop": "another-shop", "id": 7})]
    result = plan.plan_changes(
        desired, live, target=project().targets["sandbox"], project=project()
    )
    assert [(c.action, str(c.key)) for c in result.changes] == [("create", "ruleset:promo-7")]
    assert result.left_alone == {plan.UNNAMED_LEFT_ALONE: 1}


def test_adoption_renames_an_unclaimed_named_ruleset_by_id() -> None:
    # The manifest renamed an adopted ruleset: PUT by id, not a delete and a create.
    live = live_state(state.ruleset_resource(api_ruleset("promo-7", 7, [api_rule(70, "r")])))
    desired = [declared("summer", ["r"], {"shop": SHOP, "id": 7})]
    result = plan.plan_changes(
        desired, live, target=project().targets["sandbox"], project=project()
    )
    assert text(result)[2:4] == [
        "~ ruleset summer (adopts ruleset promo-7)",
        '    external_id: "promo-7" → "summer"',
    ]
    assert [call.operation for call in calls.calls_for(result.changes)] == ["replace_ruleset_by_id"]


def test_discount_codes_differing_only_in_case_are_both_seen() -> None:
    def code(ident: int, name: str) -> model.Resource:
        return state.discount_code_resource(
            {
                "id": ident,
                "code": name,
                "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
                "product_selection": {"type": "PRODUCTS_ALL"},
            }
        )

    live = live_state(*state.distinct_codes([code(9, "spring15"), code(4, "SPRING15")]))
    desired = [code(0, "SPRING15")]
    desired = [model.Resource(d.key, d.body, model.Origin("pricing/c.yaml", 2, 5)) for d in desired]
    result = plan.plan_changes(
        desired,
        live,
        target=project().targets["sandbox"],
        project=project(ownership=config.Ownership(discount_code_prefixes=("SPRING",))),
    )
    assert text(result)[1] == "Deletes 1 object: discount code spring15 #9."
    assert text(result)[3] == (
        "- discount code spring15 #9 (−15% on all products) — a duplicate of spring15"
    )
    assert result.counts == {"create": 0, "update": 0, "delete": 1}
    markdown = planformat.markdown.render_markdown(result)
    assert "spring15" not in markdown.casefold()
    assert (
        "- discount code sp•••• (8) #9 (−15% on all products) — a duplicate of sp•••• (8)"
    ) in markdown
    assert "**Deletes 1 object**: discount code sp•••• (8) #9." in markdown
    # Deleted by its own id, through the client, never by name.
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(204)

    with client.BoldClient(
        clientsettings.ClientSettings(base_url="http://127.0.0.1", shop_identifier=SHOP),
        token=APP_TOKEN,
        transport=httpx.MockTransport(handler),
    ) as bold:
        for call in calls.calls_for(result.changes):
            call.run(bold)
    assert sent == [f"DELETE /price_rules/rules/v2/shops/{SHOP}/discount_codes/9"]


@pytest.mark.parametrize("value", [None, "", "  "])
def test_the_client_never_sends_a_path_with_an_empty_identity(
    bold: Any, sandbox: Any, value: Any
) -> None:
    with pytest.raises(errors.Unaddressable) as caught:
        bold.delete_ruleset(value)
    assert str(caught.value) == (
        "DELETE /price_rules/rules/v2/shops/…/rulesets/external/{external_id}: refused before "
        "sending — path parameter external_id of delete_ruleset is empty or None; an object "
        "without an external id is addressed by its server id"
    )
    with pytest.raises(errors.Unaddressable):
        bold.patch_ruleset_by_id(value, {"rules": []})
    assert sandbox.stats()["total"] == 0


def test_a_saved_plan_that_adopts_is_applied_by_id(bold: Any, tmp_path: Path) -> None:
    made = bold.request(
        "create_ruleset",
        json={
            "ruleset": {
                "product_selection": {"type": "PRODUCTS_ALL"},
                "rules": [{k: v for k, v in api_rule(0).items() if k not in ("id", "external_id")}],
            }
        },
    ).data["ruleset"]
    rule_id = made["rules"][0]["id"]
    desired = [
        declared(
            "adopted",
            [f"discount-{rule_id}"],
            {"shop": SHOP, "id": made["id"], "rules": {f"discount-{rule_id}": rule_id}},
        )
    ]
    target = project().targets["sandbox"]
    planned = pipeline.plan_shop(bold, project(), target, pipeline.Declared(desired))
    path = tmp_path / "plan.json"
    savedplan.write_plan(planned, path)
    from reconciler import apply

    changes = apply.changes_from_saved(bold, savedplan.read_plan(path))
    apply.execute(bold, changes)
    (after,) = bold.list_rulesets()
    assert (after["id"], after["external_id"]) == (made["id"], "adopted")
    assert [(r["id"], r["external_id"]) for r in after["rules"]] == [
        (rule_id, f"discount-{rule_id}")
    ]
    again = pipeline.plan_shop(bold, project(), target, pipeline.Declared(desired))
    assert again.empty


ADOPT_PROBLEMS = """\
rulesets:
  - external_id: a
    adopt: {shop: s, id: 4, rules: {ghost: 9}}
    product_selection: {type: PRODUCTS_ALL}
    rules: []
  - external_id: b
    adopt: {shop: s, id: 4}
    product_selection: {type: PRODUCTS_ALL}
    rules: []
"""


def test_validate_checks_adopt_hints(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "a.yaml").write_text(ADOPT_PROBLEMS)
    (tmp_path / "boldrules.yaml").write_text(
        "manifests: [pricing/]\ntargets:\n  sandbox: {sandbox: s.sqlite}\n"
    )
    result = CliRunner().invoke(cli.main, ["-C", str(tmp_path), "validate"])
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "pricing/a.yaml:3:44: ruleset a > adopt.rules.ghost: 'ghost' is not the external_id of "
        "a rule of this ruleset; adopt.rules names rules declared under rules",
        "pricing/a.yaml:7:26: ruleset b > adopt.id: ruleset 4 of shop s is already adopted at "
        "pricing/a.yaml:3:26; one live ruleset can become only one declaration",
        "2 problems in 1 file",
    ]


def test_export_names_are_readable_unique_and_fit_bold() -> None:
    long_name = "Summer Promo (VIP)! " * 20
    live = [
        state.ruleset_resource(
            {**api_ruleset(None, 123, [api_rule(456)]), "public_name": "Summer Promo!"}
        ),
        state.ruleset_resource({**api_ruleset(None, 7, []), "public_name": long_name}),
        state.ruleset_resource(api_ruleset(None, 8, [])),
        # A ruleset a person already called what the generated name would be.
        state.ruleset_resource(api_ruleset("ruleset-9", 1, [])),
        state.ruleset_resource(api_ruleset(None, 9, [])),
    ]
    named = export.name_unnamed(live, shop=SHOP)
    names = [r.key.ident[0] for r in named]
    assert names == [
        "ruleset-8",
        "ruleset-9",
        "ruleset-9-2",
        "summer-promo-123",
        "summer-promo-vip-summer-promo-vip-summer-promo-vip-summer-pr-7",
    ]
    assert all(len(name) <= 128 for name in names)
    promo = next(r for r in named if r.key.ident[0] == "summer-promo-123")
    assert list(promo.body["rules"]) == ["discount-456"]
    assert promo.handles["adopt"] == {"shop": SHOP, "id": 123, "rules": {"discount-456": 456}}
    assert export.name_unnamed(live, shop=SHOP)[3].handles == promo.handles  # stable
