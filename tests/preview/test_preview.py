"""The price preview as plan runs it, over a real (in-process) sandbox: one listing, one result."""

from __future__ import annotations

from typing import Any

from reconciler import carts, pipeline, savedplan

from .build import declared, discount, project, sample


def list_calls(client: Any) -> int:
    return sum(n for (_, route), n in client.stats.calls.items() if route == "list_rulesets")


def test_no_carts_means_no_extra_call_and_no_preview(bold: Any) -> None:
    bold.create_ruleset(discount("tea", ["TEA"], -10))
    desired = [declared(discount("tea", ["TEA"], -20))]
    target = project().target(None)
    before = list_calls(bold)
    result = pipeline.plan_shop(
        bold, project(), target, pipeline.Declared(desired), samples=carts.Carts((), ())
    )
    without = list_calls(bold) - before
    assert result.preview is None
    assert savedplan.plan_json(result)["preview"] is None
    before = list_calls(bold)
    samples = carts.Carts(
        (sample("tea", {"sku": "TEA", "price": 1000}, at="2027-03-10T12:00:00Z"),), ()
    )
    result = pipeline.plan_shop(
        bold, project(), target, pipeline.Declared(desired), samples=samples
    )
    assert list_calls(bold) - before == without + 1  # the one all-apps listing
    assert result.preview is not None
    assert [(c.name, c.before, c.after) for c in result.preview.changed] == [("tea", 900, 800)]
