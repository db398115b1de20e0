"""Order conditions (contract §5.4): a group (``name``) and ``value`` with sets of fields.

Owns the quirks: the constant ``operator``/``type``, field sets as a sorted set of string
mappings (their server ids kept apart, and further copies of one field set listed for apply to
delete); the unwrapped POST/PUT body; the manifest form. A condition is ours when its group is
declared or listed in ``ownership.order_conditions``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from reconciler import describe, model, pagination
from reconciler.kinds import base, fields

#: The constant fields of an order condition (``kinds.fields``).
DEFAULTS = fields.ORDER_CONDITION_DEFAULTS


def normalise_field_set(field_set: Mapping[str, Any]) -> dict[str, str]:
    """A field set without its server id (or any field Bold added): field name → string."""
    known = fields.format_fields()["field_set"]
    return {str(k): str(v) for k, v in field_set.items() if k in known and v is not None}


class OrderCondition(base.KindSpec):
    """An order condition with its field sets."""

    kind: ClassVar[model.Kind] = model.Kind.ORDER_CONDITION
    list_name: ClassVar[str] = "order_conditions"
    unmanaged: ClassVar[str] = "order condition groups not managed here"

    def resource(self, data: base.LiveJson, origin: model.Origin | None = None) -> model.Resource:
        """An order condition → a Resource whose field sets are a sorted set."""
        body: dict[str, Any] = {"name": str(data["name"]), "value": str(data["value"])}
        for field_name, default in DEFAULTS.items():
            body[field_name] = data.get(field_name) or default
        field_sets = data.get("field_sets") or []
        body["field_sets"] = fields.as_set(
            "field_sets", (normalise_field_set(fs) for fs in field_sets)
        )
        # The lowest id of each distinct field set is the one kept; further copies (the same
        # fields and values under another id) are listed apart, for apply to delete.
        ids: dict[str, Any] = {}
        duplicate_ids: dict[str, list[Any]] = {}
        for fs in sorted(field_sets, key=fields.server_id_order):
            if fs.get("id") is None:
                continue
            canonical = model.canonical_json(normalise_field_set(fs))
            if canonical in ids:
                duplicate_ids.setdefault(canonical, []).append(fs["id"])
            else:
                ids[canonical] = fs["id"]
        handles: dict[str, Any] = {"field_set_ids": ids}
        if duplicate_ids:
            handles["duplicate_field_set_ids"] = duplicate_ids
        key = model.order_condition_key(body["name"], body["value"])
        return model.Resource(key, body, origin, handles)

    def to_api(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A normalised order condition → the unwrapped body POST and PUT take (contract §5.4)."""
        return {**body, "field_sets": [dict(fs) for fs in body["field_sets"]]}

    def read(self, reader: base.Reader) -> pagination.Listing:
        """Every order condition, with its field sets (``deep``)."""
        return reader.read_order_conditions()

    def read_one(self, reader: base.Reader, key: model.Key) -> model.Resource | None:
        """A condition by name and value."""
        data = reader.get_order_condition(key.ident[0], key.ident[1])
        return self.resource(data) if data is not None else None

    def summary(self, body: Mapping[str, Any]) -> str:
        """``3 field sets: CA/MB, CA/SK, CA/AB``."""
        return describe.condition_group(body)

    def claim(self, key: model.Key, scope: base.Scope) -> str | None:
        """Ours when the manifests declare (or use) its group, or the project lists it."""
        if key.ident[0] in scope.declared_names.get(self.kind, frozenset()):
            return base.GONE
        if key.ident[0] in scope.listed_groups:
            return base.BY_GROUP_SETTING
        return None

    def unmanaged_unit(self, key: model.Key) -> str:
        """Groups, not conditions, are counted as left alone."""
        return key.ident[0]

    def manifests(self, resources: Sequence[model.Resource]) -> list[tuple[str, dict[str, Any]]]:
        """One entry per condition; split, one file per group."""
        return [(r.key.ident[0], manifest(r.body)) for r in resources]


def manifest(body: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised order condition → its manifest mapping."""
    data: dict[str, Any] = {"name": body["name"], "value": body["value"]}
    data.update(fields.without_defaults(body, DEFAULTS))
    data["field_sets"] = fields.distinct([dict(fs) for fs in body["field_sets"]], "field_sets")
    return data
