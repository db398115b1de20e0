"""The plan as JSON for tools: the document of ``schemas/plan.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping

from reconciler import plan, savedplan
from reconciler.planformat import base
from reconciler.planformat.pieces import totals


def render_json(result: plan.Plan) -> str:
    """The plan document of ``schemas/plan.schema.json``."""
    return json.dumps(savedplan.plan_json(result), indent=2, ensure_ascii=False) + "\n"


def render(result: plan.Plan, style: base.Style) -> str:
    """``--format json``: the same document whatever the style."""
    return render_json(result)


def render_many(outcomes: Mapping[str, base.Outcome], style: base.Style) -> str:
    """Every target's plan document (or its error and exit code), and the summed counts."""
    document = {
        "targets": {
            name: savedplan.plan_json(o)
            if isinstance(o, plan.Plan)
            else {"error": str(o), "exit_code": o.exit_code}
            for name, o in outcomes.items()
        },
        "summary": dict(totals(outcomes)),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


FORMAT = base.Format("json", "json for tools", render, render_many)
