"""The plan as JSON for tools: the document of the plan schema."""

from __future__ import annotations

import json

from reconciler import plan, sources
from reconciler.planformat import jsonformat


def test_json_is_the_plan_document_of_the_schema(small_plan: plan.Plan) -> None:
    document = json.loads(jsonformat.render_json(small_plan))
    assert list(sources.validator_for("plan.schema.json").iter_errors(document)) == []
    assert document["summary"] == {"create": 1, "update": 1, "delete": 1}
    assert document["created_at"] == "2027-02-01T09:30:00Z"
    assert [(c["action"], c["id"]) for c in document["changes"]] == [
        ("update", "ruleset:spring"),
        ("create", "discount_code:SPRING15"),
        ("delete", "discount_code:OLD10"),
    ]
