"""Discount codes (contract §5.5): one object per code name, backed by a Bold ruleset.

Owns the quirks: a code's identity is its name, which Bold keeps unique regardless of case
(``model.Key.match``); two live codes differing only in case (or the same name twice) are told
apart by server id (``distinct``); the ``{"discount_code": {...}}`` body, where an update never
sends ``code`` (the API reads it as a rename); codes sharing one configuration written as one
manifest entry with a ``codes`` list. A code is ours when its name starts with a prefix listed
in ``ownership.discount_code_prefixes``.

Its call mapping (the whole table is in docs/apply.md):

====================================================  =========================================
change                                                calls
====================================================  =========================================
create discount codes sharing one configuration       one POST discount_codes
update discount code                                  PUT discount_codes/{id}
delete discount code                                  DELETE discount_codes/{id}
====================================================  =========================================
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from reconciler import describe, model, pagination
from reconciler.kinds import base, fields, shop


def to_api(body: Mapping[str, Any], *, codes: list[str] | None = None) -> dict[str, Any]:
    """A normalised code → ``{"discount_code": {...}}``: a create with ``codes``, else an update.

    An update restates every field and never sends ``code``, which the API reads as a rename.
    """
    inner: dict[str, Any] = dict(body)
    if codes is not None:
        inner = {"codes": list(codes), **inner}
    return {"discount_code": inner}


def distinct(codes: Iterable[model.Resource]) -> list[model.Resource]:
    """Discount codes with no two sharing a key: extra copies keyed by their server id.

    Bold keeps code names unique regardless of case, yet overlapping creates can leave
    ``SPRING15`` beside ``spring15`` (or the same name twice). The oldest (lowest id) keeps the
    name's key; each other one gets ``model.by_server_id`` so the plan shows it and, if it is
    owned, deletes it, instead of one silently hiding the other.
    """
    kept: dict[Any, model.Resource] = {}
    out: list[model.Resource] = []
    for code in sorted(codes, key=lambda r: fields.server_id_order(r.handles)):
        if code.key.match in kept and code.handles.get("id") is not None:
            key = model.by_server_id(code.key, code.handles["id"])
            out.append(model.Resource(key, code.body, code.origin, code.handles))
            continue
        kept[code.key.match] = code
        out.append(code)
    return out


# --- the call mapping -----------------------------------------------------------------------


def _calls(changes: Sequence[model.Change]) -> list[shop.Call]:
    """Creates sharing one configuration become one POST; updates and deletes one call each."""
    calls: list[shop.Call] = []
    groups: dict[str, list[model.Create]] = {}
    for change in changes:
        if isinstance(change, model.Create):
            groups.setdefault(change.desired.fingerprint(), []).append(change)
        elif isinstance(change, model.Update):
            code_id = change.live.handles["id"]
            # No ``code``: the contract reserves it for renames, and identity never changes here.
            body = to_api(change.desired.body)
            update = functools.partial(_update, code_id, body)
            calls.append(shop.call(change, "update", "update_discount_code", update))
        else:
            delete = functools.partial(_delete, change.live.handles["id"])
            calls.append(shop.call(change, "delete", "delete_discount_code", delete))
    for group in groups.values():
        first = group[0]
        codes = [g.key.ident[0] for g in group]
        create = functools.partial(_create, first.desired.body, codes)
        made = shop.call(first, "create", "create_discount_codes", create)
        made.extra_keys = tuple(g.key for g in group[1:])
        calls.append(made)
    return calls


def _update(code_id: int, body: Mapping[str, Any], client: shop.Shop) -> None:
    client.update_discount_code(code_id, body)


def _delete(code_id: int, client: shop.Shop) -> None:
    client.delete_discount_code(code_id)


def _create(desired: Mapping[str, Any], codes: list[str], client: shop.Shop) -> None:
    pending = list(codes)

    def settled() -> bool:
        pending[:] = [code for code in pending if not _exists(client, code)]
        return not pending

    shop.settle(
        client, lambda: client.create_discount_codes(to_api(desired, codes=pending)), settled
    )


def _exists(client: shop.Shop, code: str) -> bool:
    wanted = model.discount_code_key(code).match
    return any(
        model.discount_code_key(str(d.get("code", ""))).match == wanted
        for d in client.list_discount_codes(name=code)
    )


class DiscountCode(base.KindSpec):
    """One discount code (one name)."""

    kind: ClassVar[model.Kind] = model.Kind.DISCOUNT_CODE
    list_name: ClassVar[str] = "discount_codes"
    live_fields: ClassVar[frozenset[str]] = fields.live_fields(
        "discount_code", server={"id", "code", "ruleset_id", "usage_count"}, manifest_only={"codes"}
    )
    dated: ClassVar[bool] = True
    secret_name: ClassVar[bool] = True
    unmanaged: ClassVar[str] = "discount codes not managed here"

    def resource(self, data: shop.LiveJson, origin: model.Origin | None = None) -> model.Resource:
        """One discount code (one name) → a Resource; its identity is the code name."""
        body: dict[str, Any] = {
            "action": fields.normalise_action(data.get("action") or {}),
            "product_selection": fields.normalise_selection(data.get("product_selection")),
            "conditions": fields.as_set(
                "conditions",
                (
                    fields.normalise_condition(c, kind="discount_code_condition")
                    for c in data.get("conditions") or []
                ),
            ),
            "limits": fields.as_set(
                "limits",
                (fields.clean(limit, "limit") for limit in data.get("limits") or []),
            ),
            "restrict_by_emails": fields.as_set(
                "restrict_by_emails", (str(e) for e in data.get("restrict_by_emails") or [])
            ),
            "start_date": fields.normalise_instant(data.get("start_date")),
            "expiry_date": fields.normalise_instant(data.get("expiry_date")),
        }
        handles = {
            k: data[k] for k in ("id", "ruleset_id", "usage_count") if data.get(k) is not None
        }
        return model.Resource(model.discount_code_key(str(data["code"])), body, origin, handles)

    def to_api(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body of an update: every field restated, ``code`` never sent."""
        return to_api(body)

    def live(self, items: Iterable[shop.LiveJson]) -> list[model.Resource]:
        """Codes, extra copies of one name keyed by their server id (``distinct``)."""
        return distinct(self.made(item) for item in items)

    def read(self, reader: shop.Shop) -> pagination.Listing:
        """Every discount code."""
        return reader.read_discount_codes()

    def read_one(self, reader: shop.Shop, key: model.Key) -> model.Resource | None:
        """A code by server id (an extra copy), else by name (any case)."""
        if key.server_id is not None:
            data = reader.get_discount_code(key.server_id)
            if data is None:
                return None
            found = self.resource(data)
            return model.Resource(key, found.body, None, found.handles)
        codes = self.live(reader.list_discount_codes(name=key.ident[0]))
        found_codes = [c for c in codes if c.key.match == key.match]
        return found_codes[0] if found_codes else None

    def calls(self, changes: Sequence[model.Change]) -> list[shop.Call]:
        """Creates sharing one configuration become one POST; updates and deletes one each."""
        return _calls(changes)

    def priced(self, body: Mapping[str, Any]) -> list[base.Priced]:
        """The code's one action."""
        action = body.get("action", {})
        return [base.Priced("action", action, "DISCOUNT_CODE", (("action", action),))]

    def summary(self, body: Mapping[str, Any]) -> str:
        """``−15% on all products; cart ≥ 50.00; 1 per customer; 2027-03-01 → 03-31``."""
        return describe.code(body)

    def claim(self, key: model.Key, scope: base.Scope) -> str | None:
        """Ours when its name starts with a listed prefix (or export takes every code)."""
        if scope.all_codes or key.ident[0].casefold().startswith(scope.prefixes):
            return base.BY_PREFIX_SETTING
        return None

    def manifests(self, resources: Sequence[model.Resource]) -> list[tuple[str, dict[str, Any]]]:
        """Codes sharing one configuration become one entry with a ``codes`` list."""
        groups: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
        for resource in resources:
            entry = groups.setdefault(resource.fingerprint(), (resource.body, []))
            entry[1].append(resource.key.ident[0])
        out: list[tuple[str, dict[str, Any]]] = []
        for body, codes in sorted(groups.values(), key=lambda g: sorted(g[1])):
            data: dict[str, Any] = {"codes": sorted(codes)}
            for name, value in body.items():
                if value in (None, [], {}):
                    continue
                data[name] = fields.distinct(value, name)
            out.append((data["codes"][0], data))
        return out


#: The discount code kind (also in ``kinds.by_name``).
DISCOUNT_CODE = DiscountCode()
