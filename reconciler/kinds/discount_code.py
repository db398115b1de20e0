"""Discount codes (contract §5.5): one object per code name, backed by a Bold ruleset.

Owns the quirks: a code's identity is its name, which Bold keeps unique regardless of case
(``model.Key.match``); two live codes differing only in case (or the same name twice) are told
apart by server id (``distinct``); the ``{"discount_code": {...}}`` body, where an update never
sends ``code`` (the API reads it as a rename); codes sharing one configuration written as one
manifest entry with a ``codes`` list. A code is ours when its name starts with a prefix listed
in ``ownership.discount_code_prefixes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from reconciler import describe, model, pagination
from reconciler.kinds import base, fields


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


class DiscountCode(base.KindSpec):
    """One discount code (one name)."""

    kind: ClassVar[model.Kind] = model.Kind.DISCOUNT_CODE
    list_name: ClassVar[str] = "discount_codes"
    dated: ClassVar[bool] = True
    secret_name: ClassVar[bool] = True
    unmanaged: ClassVar[str] = "discount codes not managed here"

    def resource(self, data: base.LiveJson, origin: model.Origin | None = None) -> model.Resource:
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
                (
                    fields.clean(limit, fields.format_fields()["limit"])
                    for limit in data.get("limits") or []
                ),
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

    def live(self, items: Iterable[base.LiveJson]) -> list[model.Resource]:
        """Codes, extra copies of one name keyed by their server id (``distinct``)."""
        return distinct(self.resource(item) for item in items)

    def read(self, reader: base.Reader) -> pagination.Listing:
        """Every discount code."""
        return reader.read_discount_codes()

    def read_one(self, reader: base.Reader, key: model.Key) -> model.Resource | None:
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
