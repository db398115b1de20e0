"""The route search's candidates: the spellings a moved route is tried under, in order."""

from __future__ import annotations

import pytest

from reconciler import routes
from reconciler.doctor import routesearch

S = "/price_rules/rules/v2/shops/{shop_identifier}"


@pytest.mark.parametrize(
    ("route", "status", "tried"),
    [
        (
            "get_ruleset_by_id",
            404,
            [f"{S}/ruleset/{{id}}", f"{S}/rulesets/{{id}}/"],
        ),
        (
            "patch_ruleset",
            405,
            [
                f"{S}/ruleset/external/{{external_id}}",
                f"{S}/rulesets/external_id/{{external_id}}",
                f"{S}/rulesets/external-id/{{external_id}}",
                f"{S}/rulesets/by-external-id/{{external_id}}",
                f"{S}/rulesets/by_external_id/{{external_id}}",
                f"{S}/rulesets/ext/{{external_id}}",
                f"{S}/rulesets/eid/{{external_id}}",
                f"{S}/rulesets/external/{{external_id}}/",
                # a 405 also tries the contract's path under the other methods
                f"POST {S}/rulesets/external/{{external_id}}",
                f"PUT {S}/rulesets/external/{{external_id}}",
            ],
        ),
    ],
)
def test_a_route_is_tried_under_its_likely_spellings(
    route: str, status: int, tried: list[str]
) -> None:
    assert routesearch.alternatives(route, routes.ROUTES[route][1], status) == tried


def test_an_override_in_the_project_file_is_itself_doubted() -> None:
    """A project's own override that answers 404 may be the problem: the contract's path is
    tried last."""
    moved = f"{S}/rule-sets/{{id}}"
    assert routesearch.alternatives("get_ruleset_by_id", moved, 404) == [
        f"{S}/rule-sets/{{id}}/",
        routes.ROUTES["get_ruleset_by_id"][1],
    ]
