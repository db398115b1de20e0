"""Order conditions (contract §5.4): a group (``name``) and ``value`` with sets of fields.

Owns the quirks: the constant ``operator``/``type``, field sets as a sorted set of string
mappings (their server ids kept apart, and further copies of one field set listed for apply to
delete); the unwrapped POST/PUT body; the manifest form. A condition is ours when its group is
declared or listed in ``ownership.order_conditions``.

Its call mapping (the whole table is in docs/apply.md):

====================================================  =========================================
change                                                calls
====================================================  =========================================
create order condition                                POST order_conditions
update order condition: only field sets changed       POST / DELETE order_conditions/field_sets
  (duplicate field sets included)
update order condition: anything else                 PUT order_conditions/{name}/{value}
delete order condition                                DELETE order_conditions/{name}/{value}
====================================================  =========================================

A POST whose outcome is unknown (``AmbiguousWrite``) is read back and finished, never repeated
blindly (``shop.settle``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from reconciler import describe, model, pagination, schema
from reconciler.kinds import base, fields, shop


def normalise_field_set(field_set: Mapping[str, Any]) -> dict[str, str]:
    """A field set without its server id (or any field Bold added): field name → string, in
    the schema's order (``fields.clean``)."""
    return {k: str(v) for k, v in fields.clean(field_set, "field_set").items()}


# --- the call mapping -----------------------------------------------------------------------


def _change_call(change: model.Change) -> shop.Call:
    """The call for one order condition change (see the module docstring)."""
    name, value = change.key.ident
    if isinstance(change, model.Create):
        wanted = change.desired
        return shop.call(change, "create", "create_order_condition", lambda c: _create(c, wanted))
    if isinstance(change, model.Delete):
        return shop.call(
            change,
            "delete",
            "delete_order_condition",
            lambda c: c.delete_order_condition(name, value),
        )
    desired, live = change.desired.body, change.live.body
    want = {model.canonical_json(fs): fs for fs in desired["field_sets"]}
    have = {model.canonical_json(fs): fs for fs in live["field_sets"]}
    ids_by_set = change.live.handles.get("field_set_ids", {})
    copies = change.live.handles.get("duplicate_field_set_ids", {})
    added = [dict(want[k]) for k in sorted(want.keys() - have.keys())]
    gone_keys = sorted(have.keys() - want.keys())
    only_field_sets = all(desired[k] == live.get(k) for k in desired if k != "field_sets")
    if (
        not only_field_sets
        or not (added or gone_keys or copies)
        or any(k not in ids_by_set for k in gone_keys)
    ):
        # Anything beyond field sets, or a field set without a known id: restate it whole.
        body = ORDER_CONDITION.to_api(desired)
        return shop.call(
            change,
            "update",
            "replace_order_condition",
            lambda c: c.replace_order_condition(name, value, body),
        )
    # Gone field sets go with every copy; a field set that stays loses its extra copies.
    gone = [int(ids_by_set[k]) for k in gone_keys]
    gone += [int(i) for k in sorted(copies) for i in copies[k]]
    operations = [
        op for op, needed in (("add_field_sets", added), ("delete_field_sets", gone)) if needed
    ]

    def run(client: shop.Shop) -> None:
        if added:
            _add_field_sets(client, name, value, added)
        if gone:
            client.delete_field_sets(name, value, gone)

    return shop.call(change, "update", "+".join(operations), run)


def _create(client: shop.Shop, desired: model.Resource) -> None:
    name, value = desired.key.ident
    body = ORDER_CONDITION.to_api(desired.body)

    def settled() -> bool:
        found = client.get_order_condition(name, value)
        if found is None:
            return False
        if ORDER_CONDITION.resource(found).fingerprint() != desired.fingerprint():
            client.replace_order_condition(name, value, body)
        return True

    shop.settle(client, lambda: client.create_order_condition(body), settled)


def _add_field_sets(client: shop.Shop, name: str, value: str, added: list[dict[str, Any]]) -> None:
    pending = list(added)

    def settled() -> bool:
        found = client.get_order_condition(name, value) or {"name": name, "value": value}
        present = {
            model.canonical_json(fs) for fs in ORDER_CONDITION.resource(found).body["field_sets"]
        }
        pending[:] = [fs for fs in pending if model.canonical_json(fs) not in present]
        return not pending

    shop.settle(client, lambda: client.add_field_sets(name, value, pending), settled)


class OrderCondition(base.KindSpec):
    """An order condition with its field sets."""

    kind: ClassVar[model.Kind] = model.Kind.ORDER_CONDITION
    list_name: ClassVar[str] = "order_conditions"
    live_fields: ClassVar[frozenset[str]] = fields.live_fields("order_condition", server={"id"})
    unmanaged: ClassVar[str] = "order condition groups not managed here"

    def resource(self, data: shop.LiveJson, origin: model.Origin | None = None) -> model.Resource:
        """An order condition → a Resource whose field sets are a sorted set."""
        body: dict[str, Any] = {"name": str(data["name"]), "value": str(data["value"])}
        # The constant fields (the schema's defaults): an empty one counts as absent.
        for field_name, default in schema.defaults("order_condition").items():
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

    def read(self, reader: shop.Shop) -> pagination.Listing:
        """Every order condition, with its field sets (``deep``)."""
        return reader.read_order_conditions()

    def read_one(self, reader: shop.Shop, key: model.Key) -> model.Resource | None:
        """A condition by name and value."""
        data = reader.get_order_condition(key.ident[0], key.ident[1])
        return self.resource(data) if data is not None else None

    def calls(self, changes: Sequence[model.Change]) -> list[shop.Call]:
        """One call per order condition change (see the module docstring)."""
        return [_change_call(change) for change in changes]

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
    data.update(fields.without_defaults(body, "order_condition"))
    data["field_sets"] = fields.distinct([dict(fs) for fs in body["field_sets"]], "field_sets")
    return data


#: The order condition kind (also in ``kinds.by_name``).
ORDER_CONDITION = OrderCondition()
