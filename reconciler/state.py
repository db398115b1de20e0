"""Live JSON ↔ model: the only module that knows the API's field quirks.

Both sides of a diff pass through the same ``normalise_*`` functions, so a manifest and the
live object it produced compare equal (contract §7.3): defaults filled (``active: true``,
names ``""``, ``priority: 0``, ``meta: {}``), instants in canonical UTC rather than the strings
the API happened to send, id lists and field sets as sorted sets, rules keyed by
``external_id``, server-assigned fields moved out of the compared body into ``handles``.

The ``to_api_*`` functions go the other way, producing request bodies. ``fetch_live`` reads a
shop with list calls only. This module does not decide ownership or order (``plan.py``) and does
not talk HTTP itself (``client.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from reconciler import model

if TYPE_CHECKING:
    from reconciler import client as client_module

#: Ruleset fields and the defaults the API fills in when they are absent (contract §5.1).
#: ``priority`` defaulting to 0 is an assumption ([I] in the contract).
RULESET_DEFAULTS: Mapping[str, Any] = {
    "internal_name": "",
    "public_name": "",
    "active": True,
    "priority": 0,
    "start_date": None,
    "expiry_date": None,
}

#: Rule defaults (contract §5.2). ``stack_order`` defaulting to 0 is an assumption: the contract
#: gives no default; the sandbox fills 0 and so, we believe, does Bold.
RULE_DEFAULTS: Mapping[str, Any] = {"meta": {}, "priority": 0, "stack_order": 0}

#: Order condition constants (contract §5.4): the only operator and type Bold documents.
ORDER_CONDITION_DEFAULTS: Mapping[str, Any] = {"operator": "ONE_OF", "type": "FIELD_SET"}

#: Prefix of the external id given to a live rule that has none; the rule's server id follows,
#: so the name stays stable for as long as the rule exists (see docs/export.md).
GENERATED_RULE_PREFIX = "bold-rule-"


# --- small normalisers ----------------------------------------------------------------------


def normalise_instant(value: Any) -> str | None:
    """An RFC 3339 date-time in any offset or precision → ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    Bold may answer ``Z`` or ``+00:00``, with or without fractional seconds; comparing strings
    would diff forever, so both sides become the same instant in one spelling.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        # A date-time without an offset is read as UTC, which is what the contract mandates.
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        stamp += f".{moment.microsecond:06d}".rstrip("0")
    return stamp + "Z"


def normalise_number(value: Any) -> Any:
    """``10.0`` → ``10`` so a float the API echoes equals the integer a manifest wrote."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sorted_set(items: Iterable[Any]) -> list[Any]:
    """Distinct items in one fixed order: a list whose order means nothing.

    Strings (ids, emails) sort as themselves; anything else by its canonical JSON. Both sides of
    a diff go through here, so the order only has to be the same, not meaningful.
    """
    listed = list(items)
    if len(listed) <= 1:
        return listed
    if all(type(item) is str for item in listed):
        return sorted(set(listed))
    unique = {model.canonical_json(item): item for item in listed}
    return [unique[k] for k in sorted(unique)]


def _clean(mapping: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Keep the fields the manifest format knows, drop absent (``None``) ones, fix numbers.

    Bold may answer with fields the contract does not list (§1: clients ignore them). A field
    no manifest can state could only ever differ, so it is never compared.
    """
    return {k: normalise_number(v) for k, v in mapping.items() if v is not None and k in known}


@functools.cache
def format_fields() -> Mapping[str, frozenset[str]]:
    """The fields of each object of the manifest format, read from its schema (one source)."""
    text = resources.files("reconciler.schemas").joinpath("manifest.schema.json").read_text("utf-8")
    definitions = json.loads(text)["$defs"]
    return {name: frozenset(spec.get("properties", {})) for name, spec in definitions.items()}


def normalise_selection(selection: Mapping[str, Any] | None) -> dict[str, Any]:
    """Product selection: the type as sent; each filter a sorted set of strings, empty ones gone."""
    selection = selection or {}
    result: dict[str, Any] = {}
    for field_name, value in selection.items():
        if value is None:
            continue
        if field_name in model.SELECTION_FILTERS:
            ids = _sorted_set(str(item) for item in value)
            if ids:
                result[field_name] = ids
        elif field_name in format_fields()["product_selection"]:
            result[field_name] = normalise_number(value)
    return result


def normalise_condition(condition: Mapping[str, Any], *, kind: str = "condition") -> dict[str, Any]:
    """A rule condition (or, with ``kind="discount_code_condition"``, a discount code's)."""
    result = _clean(condition, format_fields()[kind])
    if "buy_product_selection" in result:
        result["buy_product_selection"] = normalise_selection(result["buy_product_selection"])
    return result


def normalise_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action, optional fields dropped when absent."""
    return _clean(action, format_fields()["action"])


def normalise_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule without its identity: type, conditions (a set: all must hold), actions, order."""
    body: dict[str, Any] = {
        "type": rule["type"],
        # Conditions are ANDed, so their order means nothing; actions keep theirs.
        "conditions": _sorted_set(normalise_condition(c) for c in rule.get("conditions") or []),
        "actions": [normalise_action(a) for a in rule.get("actions") or []],
    }
    for field_name, default in RULE_DEFAULTS.items():
        value = rule.get(field_name)
        body[field_name] = default if value is None else normalise_number(value)
    return body


def rule_key(rule: Mapping[str, Any]) -> str:
    """A rule's identity: its ``external_id``, or a stable name made from its server id."""
    external_id = rule.get("external_id")
    if external_id:
        return str(external_id)
    return f"{GENERATED_RULE_PREFIX}{rule.get('id')}"


# --- resources ------------------------------------------------------------------------------


def ruleset_resource(data: Mapping[str, Any], origin: model.Origin | None = None) -> model.Resource:
    """A ruleset as written in a manifest or returned by the API → a normalised Resource."""
    body: dict[str, Any] = {"external_id": str(data["external_id"])}
    for field_name, default in RULESET_DEFAULTS.items():
        value = data.get(field_name)
        body[field_name] = default if value is None else normalise_number(value)
    body["start_date"] = normalise_instant(data.get("start_date"))
    body["expiry_date"] = normalise_instant(data.get("expiry_date"))
    body["product_selection"] = normalise_selection(data.get("product_selection"))
    rules: dict[str, Any] = {}
    rule_ids: dict[str, int] = {}
    for rule in data.get("rules") or []:
        key = rule_key(rule)
        if key in rules and rule.get("id") is not None:
            # Two live rules under one external id: keep the second visible under its server id,
            # so the plan shows it (and removes it) instead of silently folding it away.
            key = f"{GENERATED_RULE_PREFIX}{rule['id']}"
        rules[key] = normalise_rule(rule)
        if rule.get("id") is not None:
            rule_ids[key] = rule["id"]
    body["rules"] = rules
    handles: dict[str, Any] = {"rule_ids": rule_ids}
    if data.get("id") is not None:
        handles["id"] = data["id"]
    return model.Resource(model.ruleset_key(body["external_id"]), body, origin, handles)


def normalise_field_set(field_set: Mapping[str, Any]) -> dict[str, str]:
    """A field set without its server id (or any field Bold added): field name → string."""
    known = format_fields()["field_set"]
    return {str(k): str(v) for k, v in field_set.items() if k in known and v is not None}


def order_condition_resource(
    data: Mapping[str, Any], origin: model.Origin | None = None
) -> model.Resource:
    """An order condition → a Resource whose field sets are a sorted set."""
    body: dict[str, Any] = {"name": str(data["name"]), "value": str(data["value"])}
    for field_name, default in ORDER_CONDITION_DEFAULTS.items():
        body[field_name] = data.get(field_name) or default
    field_sets = data.get("field_sets") or []
    body["field_sets"] = _sorted_set(normalise_field_set(fs) for fs in field_sets)
    ids = {
        model.canonical_json(normalise_field_set(fs)): fs["id"]
        for fs in field_sets
        if fs.get("id") is not None
    }
    handles = {"field_set_ids": ids}
    key = model.order_condition_key(body["name"], body["value"])
    return model.Resource(key, body, origin, handles)


def discount_code_resource(
    data: Mapping[str, Any], origin: model.Origin | None = None
) -> model.Resource:
    """One discount code (one name) → a Resource; its identity is the code name."""
    body: dict[str, Any] = {
        "action": normalise_action(data.get("action") or {}),
        "product_selection": normalise_selection(data.get("product_selection")),
        "conditions": _sorted_set(
            normalise_condition(c, kind="discount_code_condition")
            for c in data.get("conditions") or []
        ),
        "limits": _sorted_set(
            _clean(limit, format_fields()["limit"]) for limit in data.get("limits") or []
        ),
        "restrict_by_emails": _sorted_set(str(e) for e in data.get("restrict_by_emails") or []),
        "start_date": normalise_instant(data.get("start_date")),
        "expiry_date": normalise_instant(data.get("expiry_date")),
    }
    handles = {k: data[k] for k in ("id", "ruleset_id", "usage_count") if data.get(k) is not None}
    return model.Resource(model.discount_code_key(str(data["code"])), body, origin, handles)


_RESOURCE_BUILDERS = {
    model.Kind.RULESET: ruleset_resource,
    model.Kind.ORDER_CONDITION: order_condition_resource,
    model.Kind.DISCOUNT_CODE: discount_code_resource,
}


def resource(
    key: model.Key, data: Mapping[str, Any], origin: model.Origin | None = None
) -> model.Resource:
    """A declared or live object of ``key``'s kind → a normalised Resource."""
    return _RESOURCE_BUILDERS[key.kind](data, origin)


# --- request bodies -------------------------------------------------------------------------


def rule_to_api(
    external_id: str, rule: Mapping[str, Any], *, rule_id: int | None = None
) -> dict[str, Any]:
    """A normalised rule → the API's rule object (with ``id`` to replace an unnamed live rule)."""
    body: dict[str, Any] = {"external_id": external_id, **rule}
    if rule_id is not None:
        body["id"] = rule_id
    return body


def ruleset_to_api(body: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised ruleset → the full body of a PUT (replace or upsert), rules included."""
    api = {k: v for k, v in body.items() if k != "rules"}
    api["product_selection"] = dict(body["product_selection"])
    api["rules"] = [rule_to_api(eid, rule) for eid, rule in sorted(body["rules"].items())]
    return api


def order_condition_to_api(body: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised order condition → the unwrapped body POST and PUT take (contract §5.4)."""
    return {**body, "field_sets": [dict(fs) for fs in body["field_sets"]]}


def discount_code_to_api(
    body: Mapping[str, Any], *, codes: list[str] | None = None
) -> dict[str, Any]:
    """A normalised code → ``{"discount_code": {...}}``: a create with ``codes``, else an update.

    An update restates every field and never sends ``code``, which the API reads as a rename.
    """
    inner: dict[str, Any] = dict(body)
    if codes is not None:
        inner = {"codes": list(codes), **inner}
    return {"discount_code": inner}


# --- reading a shop -------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    """Everything one token sees of a shop, normalised; ownership is decided by ``plan.py``."""

    resources: tuple[model.Resource, ...]
    #: Rulesets of other apps this token does not own (discount codes' own rulesets not counted).
    foreign_rulesets: int | None
    shop: str


def fetch_live(client: client_module.BoldClient) -> LiveState:
    """Read the shop with list calls only: own rulesets, order conditions, discount codes.

    The three listings run side by side; the client paces them under one rate limit.
    """
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch") as pool:
        rulesets = pool.submit(client.list_rulesets)
        conditions = pool.submit(client.list_order_conditions)
        codes = pool.submit(client.list_discount_codes)
        all_apps = pool.submit(client.count_rulesets_all_apps)
        own = [ruleset_resource(r) for r in rulesets.result()]
        code_list = [discount_code_resource(d) for d in codes.result()]
        resources = [*own, *(order_condition_resource(c) for c in conditions.result()), *code_list]
        # Each discount code is backed by a ruleset of Bold's discount-code app (contract §5.5);
        # those are the codes themselves, not other apps' rulesets, so they are not counted.
        backing = {r.handles["ruleset_id"] for r in code_list if "ruleset_id" in r.handles}
        everyone = all_apps.result()
        foreign = None if everyone is None else max(0, everyone - len(own) - len(backing))
    resources.sort(key=lambda r: r.key.sort_key)
    return LiveState(tuple(resources), foreign, client.shop_identifier)


def read_one(client: client_module.BoldClient, key: model.Key) -> model.Resource | None:
    """Read one object back by its identity (saved-plan staleness checks, ambiguous writes)."""
    if key.kind is model.Kind.RULESET:
        data = client.get_ruleset(key.ident[0])
        return ruleset_resource(data) if data is not None else None
    if key.kind is model.Kind.ORDER_CONDITION:
        data = client.get_order_condition(key.ident[0], key.ident[1])
        return order_condition_resource(data) if data is not None else None
    found = [
        d
        for d in client.list_discount_codes(name=key.ident[0])
        if model.discount_code_key(str(d.get("code", ""))).match == key.match
    ]
    return discount_code_resource(found[0]) if found else None
