"""Property: whatever valid state is written through the client, the same state declared in
manifests plans to nothing. No phantom changes, ever."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import config, pipeline
from reconciler.sandbox import Sandbox

from ..conftest import APP_TOKEN, make_bold_client

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda s: s[0].isalnum()
)
# Distinct ids: a live list holding an id twice is a duplicate the plan shows and removes
# (tests/plan/test_identity.py), not a state that plans to nothing.
skus = st.lists(
    st.sampled_from(["SKU-1", "SKU-2", "SKU-3", "SKU-10", "41234"]), max_size=5, unique=True
)


@st.composite
def instants(draw: st.DrawFn) -> str | None:
    """A date-time in one of the spellings Bold or a person may use, or none."""
    moment = draw(
        st.none()
        | st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1))
    )
    if moment is None:
        return None
    moment = moment.replace(microsecond=0, tzinfo=dt.UTC)
    style = draw(st.sampled_from(["Z", "+00:00", "-05:00", ".000Z"]))
    if style == "-05:00":
        return moment.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()
    if style == ".000Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + style


conditions = st.one_of(
    st.builds(lambda v: {"type": "CUSTOMER_GROUP", "value": v}, names),
    st.builds(
        lambda n: {"type": "QTY_BY_PRODUCT", "operator": ">=", "value": n}, st.integers(1, 500)
    ),
)
actions = st.one_of(
    st.builds(lambda v: {"type": "PRICE_ADJUST_PERCENT", "value": v}, st.integers(-100, 0)),
    st.builds(lambda v: {"type": "PRICE_ADJUST_ABSOLUTE", "value": v}, st.integers(0, 100_000)),
    st.builds(lambda v: {"type": "PRICE_ADJUST_RELATIVE", "value": v}, st.integers(-5000, 5000)),
)


@st.composite
def rulesets(draw: st.DrawFn, external_id: str) -> dict[str, Any]:
    rule_ids = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    start = draw(instants())
    data: dict[str, Any] = {
        "external_id": external_id,
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": draw(skus)}
        if draw(st.booleans())
        else {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": rid,
                "type": draw(st.sampled_from(["DISCOUNT", "QTY_BY_PRODUCT", "CUSTOMER_GROUP"])),
                "conditions": draw(
                    st.lists(conditions, max_size=3, unique_by=lambda c: (c["type"], c["value"]))
                ),
                "actions": draw(st.lists(actions, min_size=1, max_size=2)),
                **({"priority": draw(st.integers(0, 5))} if draw(st.booleans()) else {}),
            }
            for rid in rule_ids
        ],
    }
    optional = {
        "public_name": st.text(max_size=20),
        "internal_name": st.text(max_size=20),
        "priority": st.integers(0, 100),
        "active": st.booleans(),
    }
    for field_name, strategy in optional.items():
        if draw(st.booleans()):
            data[field_name] = draw(strategy)
    if start is not None:
        data["start_date"] = start
        if draw(st.booleans()):
            data["expiry_date"] = (
                dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
                + dt.timedelta(days=draw(st.integers(1, 90)))
            ).isoformat()
    return data


@st.composite
def shops(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    provinces = draw(
        st.lists(
            st.sampled_from(["MB", "SK", "AB", "NS", "NB"]), min_size=1, max_size=3, unique=True
        )
    )
    codes = draw(
        st.lists(st.sampled_from(["SAVE5", "SAVE10", "VIP", "WELCOME"]), max_size=3, unique=True)
    )
    return {
        "rulesets": [draw(rulesets(i)) for i in ids],
        "order_conditions": [
            {
                "name": "ZONE",
                "value": "west",
                "field_sets": [
                    {"customer.shipping.country_code": "CA", "customer.shipping.province_code": p}
                    for p in provinces
                ],
            }
        ],
        "discount_codes": [
            {
                "codes": [c],
                "action": {"type": "PRICE_ADJUST_PERCENT", "value": -draw(st.integers(1, 50))},
                "product_selection": {"type": "PRODUCTS_ALL"},
            }
            for c in codes
        ],
    }


def _project(root: Path) -> config.Project:
    (root / "boldrules.yaml").write_text("manifests: [pricing/]\n")
    return config.load_project(root)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shop=shops())
def test_state_written_through_the_client_plans_to_nothing(
    tmp_path_factory: Any, shop: dict[str, Any]
) -> None:
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with make_bold_client(sandbox) as bold:
        # The shop, written the way another tool or a person in the admin would.
        for ruleset in shop["rulesets"]:
            bold.upsert_ruleset(ruleset["external_id"], ruleset)
        for condition in shop["order_conditions"]:
            bold.create_order_condition({**condition, "operator": "ONE_OF", "type": "FIELD_SET"})
        for code in shop["discount_codes"]:
            bold.create_discount_codes({"discount_code": code})
        # The same state, declared in a manifest (field sets and ids in another order).
        root = tmp_path_factory.mktemp("shop")
        (root / "pricing").mkdir()
        declared = {
            **shop,
            # The same ids in another order.
            "rulesets": [
                {
                    **r,
                    "product_selection": {
                        **r["product_selection"],
                        **(
                            {
                                "sku_ids": sorted(
                                    set(r["product_selection"]["sku_ids"]), reverse=True
                                )
                            }
                            if "sku_ids" in r["product_selection"]
                            else {}
                        ),
                    },
                }
                for r in shop["rulesets"]
            ],
            "order_conditions": [
                {**c, "field_sets": list(reversed(c["field_sets"]))}
                for c in shop["order_conditions"]
            ],
        }
        (root / "pricing" / "shop.yaml").write_text(yaml.safe_dump(declared, sort_keys=True))
        project = _project(root)
        target = project.target(None)
        result = pipeline.plan_shop(bold, project, target, pipeline.declare(project, target))
    assert [str(c.key) for c in result.changes] == []
