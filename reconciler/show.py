"""A saved plan file read back into a ``plan.Plan``, for ``boldrules show`` to render.

Like ``terraform show``: no shop is read and no project file is needed; the file's checksum is
checked (``savedplan.read_plan``) so what is shown is what ``apply`` would run. A plan written
before saved plans carried the live objects (``live``) shows its updates field by field and its
deletes without what they did.

Owns rebuilding the changes, the safety figures and the notes from the document; it renders
nothing itself (``planformat`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import errors, instants, model, plan, safetyrules, savedplan, schedule


def saved_plan(saved: savedplan.SavedPlan) -> plan.Plan:
    """The ``Plan`` a saved file describes, ready for any renderer."""
    document = saved.document
    changes = tuple(_change(item) for item in document["changes"])
    safety = document.get("safety") or {}
    filters = document.get("filters") or {}
    return plan.Plan(
        target=saved.target,
        shop=saved.shop,
        api_version=saved.api_version,
        changes=changes,
        fingerprints=dict(document.get("fingerprints") or {}),
        left_alone=dict(document.get("left_alone") or {}),
        safety=safetyrules.SafetyReport(
            managed=int(safety.get("managed", 0)),
            deletes=int(safety.get("deletes", 0)),
            updates=int(safety.get("updates", 0)),
            delete_percent=float(safety.get("delete_percent", 0.0)),
            update_percent=float(safety.get("update_percent", 0.0)),
            violations=tuple(safety.get("violations") or ()),
            hard_violations=tuple(safety.get("hard_violations") or ()),
            managed_by_kind=dict(safety.get("managed_by_kind") or {}),
            claimed_by_other_apps=tuple(safety.get("claimed_by_other_apps") or ()),
            price_violations=tuple(safety.get("price_violations") or ()),
            namings=int(safety.get("namings", 0)),
        ),
        filters=plan.Filters(
            only=tuple(filters.get("only") or ()), exclude=tuple(filters.get("exclude") or ())
        ),
        notes=tuple(document.get("notes") or ()),
        created_at=str(document.get("created_at", "")),
        tool_version=str(document.get("tool_version", "")),
        at=str(document.get("at") or ""),
        schedule={str(k): str(v) for k, v in (document.get("schedule") or {}).items()},
        timeline=tuple(_boundary(b) for b in document.get("timeline") or ()),
    )


def _boundary(item: Any) -> schedule.Boundary:
    try:
        at = instants.parse(item["at"])
        kind, _, name = str(item["object"]).partition(":")
        if at is None:
            raise ValueError("at")
        parts = model.Kind(kind).parts
        key = model.Key(model.Kind(kind), tuple(name.split("=", parts - 1)))
        return schedule.Boundary(at, key, str(item["event"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.PlanFileInvalid(
            f"damaged timeline entry in the saved plan (missing or bad {exc})"
        ) from None


def _origin(text: Any) -> model.Origin | None:
    if not isinstance(text, str) or text.count(":") < 2:
        return None
    file, line, column = text.rsplit(":", 2)
    try:
        return model.Origin(file, int(line), int(column))
    except ValueError:
        return None


def _change(item: Mapping[str, Any]) -> model.Change:
    key = model.Key.from_json(item["key"])
    live_key = model.Key.from_json(item["live_key"]) if "live_key" in item else key
    live = model.Resource(live_key, (item.get("live") or {}).get("body") or {})
    desired_json = item.get("desired") or {}
    desired = model.Resource(
        key, desired_json.get("body") or {}, _origin(desired_json.get("origin"))
    )
    if item["action"] == "create":
        return model.Create(desired)
    if item["action"] == "update":
        fields = tuple(model.FieldChange.from_json(f) for f in item.get("fields") or ())
        return model.Update(desired, live, fields)
    return model.Delete(live, reason=str(item.get("reason", "")))
