"""Small projects for the module tests: written to a folder as a user writes them, or built in
memory, and the plan of one against a shop.

One place for "a project file and its manifests → the desired state → a plan", so the tests of
calls, export and render read the way a user's run does (the CLI does the same in its pipeline);
and resources built in memory (``ruleset``, ``condition``, ``code``) planned with ``make``, for
the tests of plan, safetyrules and review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler import client, config, model, pipeline, plan, state
from reconciler.targets import Target

from .sandbox import bodies

#: A project file that lets a test change and delete what it likes.
PERMISSIVE = (
    "manifests: [pricing/]\n"
    "safety: {max_deletes: 100, max_delete_percent: 100, max_update_percent: 100}\n"
)


def write_project(
    root: Path, manifests: Mapping[str, str], *, project_file: str = PERMISSIVE
) -> config.Project:
    """Write ``boldrules.yaml`` and the manifests (paths relative to ``root``), then load it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "boldrules.yaml").write_text(project_file, encoding="utf-8")
    for name, text in manifests.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return config.load_project(root)


def desired(project: config.Project) -> list[model.Resource]:
    """What the project's manifests declare for its default target."""
    return pipeline.desired(project, project.target(None))


def plan_for(
    bold: client.BoldClient, project: config.Project, *, now: dt.datetime | None = None
) -> plan.Plan:
    """The project's manifests planned against the shop ``bold`` reads (the pipeline's steps,
    without the confirming reads a CLI plan adds)."""
    target = project.target(None)
    declared = pipeline.declare(project, target, at=now)
    live = pipeline.read_shop(bold, project, None)
    return pipeline.compare(project, target, declared, live, now=now)


def in_memory(
    *,
    target: Target | None = None,
    safety: config.Safety | None = None,
    ownership: config.Ownership | None = None,
) -> config.Project:
    """A project that exists only in memory: one target (the embedded sandbox unless given)."""
    target = target or Target(
        name="sandbox", sandbox=Path("s.sqlite"), api_url=None, shop_identifier=None, token_env=None
    )
    return config.Project(
        root=Path("."),
        file=Path("boldrules.yaml"),
        manifests=(),
        default_target=target.name,
        targets={target.name: target},
        safety=safety or config.Safety(),
        ownership=ownership or config.Ownership(),
        routes={},
    )


# --- a shop seeded through the API, as a person or another tool leaves it --------------------


def seed_ruleset(
    bold: client.BoldClient, eid: str, value: int, *conditions: Mapping[str, str]
) -> None:
    """A ruleset on every product with one rule ``gold``: ``value`` percent off for the gold
    customer group, or under ``conditions`` when given."""
    rule = bodies.rule("gold", value, **({"conditions": list(conditions)} if conditions else {}))
    body = bodies.ruleset(eid, rule, product_selection={"type": "PRODUCTS_ALL"})["ruleset"]
    bold.upsert_ruleset(eid, body)


def seed_zone(bold: client.BoldClient, value: str, *provinces: str) -> None:
    """Order condition ``ZONE=<value>`` holding a field set for each Canadian province."""
    field_sets = [
        {"customer.shipping.country_code": "CA", "customer.shipping.province_code": p}
        for p in provinces
    ]
    bold.create_order_condition(
        bodies.condition("ZONE", value, type="FIELD_SET", operator="ONE_OF", field_sets=field_sets)
    )


def seed_code(bold: client.BoldClient, code: str, value: int) -> None:
    """Discount code ``code``: ``value`` percent off every product."""
    action = {"type": "PRICE_ADJUST_PERCENT", "value": value}
    bold.create_discount_codes(bodies.discount(code, action=action))


def spring_manifest(value: int) -> str:
    """A manifest declaring what ``seed_ruleset(bold, "spring", value)`` leaves in the shop."""
    return (
        "rulesets:\n"
        "  - external_id: spring\n"
        "    product_selection: {type: PRODUCTS_ALL}\n"
        "    rules:\n"
        "      - {external_id: gold, type: DISCOUNT, conditions: [{type: CUSTOMER_GROUP, value: gold}],\n"
        f"         actions: [{{type: PRICE_ADJUST_PERCENT, value: {value}}}]}}\n"
    )


# --- resources in memory, planned without a shop -------------------------------------------


def project(**safety: Any) -> config.Project:
    ownership = safety.pop("ownership", config.Ownership())
    return in_memory(safety=config.Safety(**safety), ownership=ownership)


def ruleset(eid: str, **fields: Any) -> model.Resource:
    rules = fields.pop(
        "rules",
        [
            {
                "external_id": "r",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -5}],
            }
        ],
    )
    return state.ruleset_resource(
        {
            "external_id": eid,
            "product_selection": {"type": "PRODUCTS_ALL"},
            "rules": rules,
            **fields,
        }
    )


def condition(name: str, value: str, province: str = "MB") -> model.Resource:
    return state.order_condition_resource(
        {
            "name": name,
            "value": value,
            "field_sets": [{"customer.shipping.province_code": province}],
        }
    )


def code(name: str, value: int = -15) -> model.Resource:
    return state.discount_code_resource(
        {
            "code": name,
            "action": {"type": "PRICE_ADJUST_PERCENT", "value": value},
            "product_selection": {"type": "PRODUCTS_ALL"},
        }
    )


def make(
    desired: list[model.Resource],
    live: list[model.Resource],
    *,
    foreign: int = 0,
    p: config.Project | None = None,
    **kw: Any,
) -> plan.Plan:
    p = p or project()
    return plan.plan_changes(
        desired,
        state.LiveState(tuple(live), foreign, "shop-1"),
        target=p.target(None),
        project=p,
        **kw,
    )
