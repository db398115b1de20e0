"""Live JSON ↔ model: the only module that knows the API's field quirks.

Both sides of a diff pass through the same ``normalise_*`` functions, so a manifest and the
live object it produced compare equal (contract §7.3): defaults filled (the manifest schema's
``default`` keywords), instants in canonical UTC (``instants.canonical``) rather than the strings
the API happened to send, id lists and field sets as sorted sets, rules keyed by
``external_id``, server-assigned fields moved out of the compared body into ``handles``.

The ``to_api_*`` functions go the other way, producing request bodies. ``fetch_live`` reads a
shop with list calls, and makes sure a plan is not built on a read that tore while the shop
changed (see its docstring and docs/client.md, "Pagination"). This module does not decide
ownership or order (``plan.py``) and does not talk HTTP itself (``client.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler import errors, instants, model, pagination, schema

if TYPE_CHECKING:
    from reconciler.client import BoldClient

log = logging.getLogger("reconciler.state")

# The defaults the API fills in when a field is absent are the ``default`` keywords of
# schemas/manifest.schema.json, read with ``schema.defaults``: rulesets (contract §5.1; a
# ``priority`` of 0 is an assumption, [I] in the contract), rules (§5.2; a ``stack_order`` of 0
# is an assumption: the contract gives none, the sandbox fills 0 and so, we believe, does Bold)
# and order conditions (§5.4: ONE_OF and FIELD_SET, the only operator and type Bold documents).


# --- small normalisers ----------------------------------------------------------------------


def normalise_instant(value: Any) -> str | None:
    """An RFC 3339 date-time in any offset or precision → ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    Bold may answer ``Z`` or ``+00:00``, with or without fractional seconds; comparing strings
    would diff forever, so both sides become the same instant in one spelling. A date-time
    without an offset is read as UTC, which is what the contract mandates.
    """
    if value is None or value == "":
        return None
    moment = instants.parse(value if isinstance(value, dt.datetime) else str(value))
    if moment is None:
        raise ValueError(f"not a date-time: {value!r}")
    return instants.canonical(moment)


def normalise_number(value: Any) -> Any:
    """``10.0`` → ``10`` so a float the API echoes equals the integer a manifest wrote."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sorted_set(items: Iterable[Any]) -> list[Any]:
    """The items in one fixed order: a list whose order means nothing.

    Strings (ids, emails) sort as themselves; anything else by its canonical JSON. Both sides of
    a diff go through here, so the order only has to be the same, not meaningful. Repeats are
    kept: a live list holding an item twice (overlapping applies leave such copies) must differ
    from the manifest that holds it once, so the plan shows the copy and apply removes it.
    """
    listed = list(items)
    if len(listed) <= 1:
        return listed
    if all(type(item) is str for item in listed):
        return sorted(listed)
    return sorted(listed, key=model.canonical_json)


def _clean(mapping: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Keep the fields the manifest format knows, drop absent (``None``) ones, fix numbers.

    Bold may answer with fields the contract does not list (§1: clients ignore them). A field
    no manifest can state could only ever differ, so it is never compared.
    """
    return {k: normalise_number(v) for k, v in mapping.items() if v is not None and k in known}


@functools.cache
def format_fields() -> Mapping[str, frozenset[str]]:
    """The fields of each object of the manifest format, read from its schema (one source)."""
    definitions = schema.document(schema.MANIFEST)["$defs"]
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
    if isinstance(result.get("list"), list):
        # CUSTOMER_IN_ANY_GROUP_FROM_LIST's groups: any one qualifies, so their order means nothing.
        result["list"] = _sorted_set(result["list"])
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
    for field_name, default in schema.defaults("rule").items():
        value = rule.get(field_name)
        body[field_name] = default if value is None else normalise_number(value)
    return body


def has_identity(value: Any) -> bool:
    """Whether an ``external_id`` the API returned names anything (Bold allows none, §5.2)."""
    return value is not None and str(value).strip() != ""


def is_unnamed_rule(key: str) -> bool:
    """Whether a rule key is a live rule's server id (``#456``), not an external id."""
    return key.startswith(model.UNNAMED_RULE_PREFIX)


def _rule_id_order(rule: Mapping[str, Any]) -> tuple[int, Any]:
    ident = rule.get("id")
    return (0, ident) if isinstance(ident, int) and not isinstance(ident, bool) else (1, 0)


def _live_rules(
    data: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    """A ruleset's rules keyed by identity, their server ids, and which keys are duplicates.

    A rule without an external id is keyed ``#<id>``; so is a rule whose external id an earlier
    rule (lower id) of the ruleset already carries, recorded in the third mapping (key → the
    external id it repeats), so the plan shows the copy and removes it instead of folding it
    away. Manifest rules always have an external id (the schema requires one).
    """
    rules: dict[str, Any] = {}
    rule_ids: dict[str, int] = {}
    duplicates: dict[str, str] = {}
    for rule in sorted(data.get("rules") or [], key=_rule_id_order):
        external_id = rule.get("external_id")
        server_id = rule.get("id")
        if has_identity(external_id) and str(external_id) not in rules:
            key = str(external_id)
        else:
            key = f"{model.UNNAMED_RULE_PREFIX}{server_id}"
            while key in rules:  # only an external id spelt like a server id can collide
                key += "'"
            if has_identity(external_id):
                duplicates[key] = str(external_id)
        rules[key] = normalise_rule(rule)
        if server_id is not None:
            rule_ids[key] = server_id
    return rules, rule_ids, duplicates


# --- resources ------------------------------------------------------------------------------


def ruleset_resource(data: Mapping[str, Any], origin: model.Origin | None = None) -> model.Resource:
    """A ruleset as written in a manifest or returned by the API → a normalised Resource.

    A live ruleset without an ``external_id`` is keyed by its server id
    (``model.unnamed_ruleset_key``) and its body has no ``external_id``. A manifest's ``adopt``
    (written by export, see docs/export.md) goes to ``handles["adopt"]``: never compared.
    """
    body: dict[str, Any] = {}
    named = has_identity(data.get("external_id"))
    if named:
        body["external_id"] = str(data["external_id"])
    for field_name, default in schema.defaults("ruleset").items():
        value = data.get(field_name)
        body[field_name] = default if value is None else normalise_number(value)
    body["start_date"] = normalise_instant(data.get("start_date"))
    body["expiry_date"] = normalise_instant(data.get("expiry_date"))
    body["product_selection"] = normalise_selection(data.get("product_selection"))
    rules, rule_ids, duplicates = _live_rules(data)
    body["rules"] = rules
    handles: dict[str, Any] = {"rule_ids": rule_ids}
    if duplicates:
        handles["duplicate_rules"] = duplicates
    if data.get("id") is not None:
        handles["id"] = data["id"]
    adopt = data.get("adopt")
    if origin is not None and isinstance(adopt, Mapping):
        handles["adopt"] = {
            "shop": str(adopt.get("shop", "")),
            "id": adopt.get("id"),
            "rules": {str(k): v for k, v in (adopt.get("rules") or {}).items()},
        }
    if named:
        key = model.ruleset_key(body["external_id"])
    elif data.get("id") is not None:
        key = model.unnamed_ruleset_key(data["id"])
    else:
        raise ValueError("a ruleset has neither an external_id nor an id")
    return model.Resource(key, body, origin, handles)


def normalise_field_set(field_set: Mapping[str, Any]) -> dict[str, str]:
    """A field set without its server id (or any field Bold added): field name → string."""
    known = format_fields()["field_set"]
    return {str(k): str(v) for k, v in field_set.items() if k in known and v is not None}


def order_condition_resource(
    data: Mapping[str, Any], origin: model.Origin | None = None
) -> model.Resource:
    """An order condition → a Resource whose field sets are a sorted set."""
    body: dict[str, Any] = {"name": str(data["name"]), "value": str(data["value"])}
    for field_name, default in schema.defaults("order_condition").items():
        body[field_name] = data.get(field_name) or default
    field_sets = data.get("field_sets") or []
    body["field_sets"] = _sorted_set(normalise_field_set(fs) for fs in field_sets)
    # The lowest id of each distinct field set is the one kept; further copies (the same fields
    # and values under another id) are listed apart, for apply to delete.
    ids: dict[str, Any] = {}
    duplicate_ids: dict[str, list[Any]] = {}
    for fs in sorted(field_sets, key=_rule_id_order):
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
    #: This app's bookkeeping rulesets (external ids under ``model.RESERVED_PREFIX``: ownership
    #: records, apply locks), kept apart so that nothing plans, diffs or exports them.
    reserved: tuple[model.Resource, ...] = ()


#: Rounds of reading a shop that seems to change under ``fetch_live`` before it gives up.
READ_ROUNDS = 3

# Assumptions about Bold the contract does not state, which the torn-read checks rest on:
# - one list response is built from one state of the shop (a page cannot tear by itself), so a
#   list of one page needs no confirming;
# - the ``Date`` header and the ``created_at``/``updated_at`` stamps come from clocks that agree
#   to within a second (a server stamping ahead of its ``Date`` costs one extra read per change,
#   never a wrong plan: a stamp seen by the previous read is not news);
# - ``external_ids=`` matches external ids exactly; a server that ignores the filter is noticed
#   (it answers with rulesets not asked for) and asked by path instead.

Decisive = Callable[[LiveState], Iterable[model.Key]]


def fetch_live(client: BoldClient, *, decisive: Decisive | None = None) -> LiveState:
    """Read the shop with list calls: own rulesets, order conditions, discount codes.

    The three listings run side by side; the client paces them under one rate limit, and
    re-reads a list whose pages do not hold together. A list read in several pages is then
    checked here for what only its objects can show, at no cost to a quiet shop:

    * an object created or updated at or after the server's clock when the first page was
      served (its ``Date``) may have shifted others across a page edge: that list is read again
      (an object already seen with the same stamps does not count twice);
    * ``decisive(live)`` names the keys the caller will act on because the listing says they
      are absent (a create) or present (a delete). Each of a multi-page kind is confirmed by a
      targeted read (rulesets by ``external_ids=``, 100 a call; a condition by name and value;
      a code by name), so a plan never creates what exists or deletes what went away. Nothing
      to create or delete costs nothing.

    A read that still moves after ``READ_ROUNDS`` rounds raises ``errors.ShopChanging``.
    """
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch") as pool:
        all_apps = pool.submit(client.count_rulesets_all_apps)
        kinds = tuple(_READERS)
        listings = _read_kinds(pool, client, kinds)
        stamps: dict[model.Kind, dict[str, tuple[Any, ...]]] = {}
        reason = ""
        for round_number in range(1, READ_ROUNDS + 1):
            live = _live_state(listings, all_apps.result(), client.shop_identifier)
            doubts = _fresh_objects({k: listings[k] for k in kinds}, stamps)
            if not doubts and decisive is not None:
                doubts = _confirm(client, live, decisive(live), listings)
            if not doubts:
                return live
            reason = next(iter(doubts.values()))
            log.info("read %d of the shop: %s; reading it again", round_number, reason)
            if round_number < READ_ROUNDS:
                kinds = tuple(doubts)
                listings.update(_read_kinds(pool, client, kinds))
    raise errors.ShopChanging(READ_ROUNDS, reason)


_READERS: dict[model.Kind, Callable[[BoldClient], pagination.Listing]] = {
    model.Kind.RULESET: lambda bold: bold.read_rulesets(),
    model.Kind.ORDER_CONDITION: lambda bold: bold.read_order_conditions(),
    model.Kind.DISCOUNT_CODE: lambda bold: bold.read_discount_codes(),
}


def _read_kinds(
    pool: ThreadPoolExecutor, client: BoldClient, kinds: Iterable[model.Kind]
) -> dict[model.Kind, pagination.Listing]:
    futures = {kind: pool.submit(_READERS[kind], client) for kind in kinds}
    return {kind: future.result() for kind, future in futures.items()}


def _live_state(
    listings: Mapping[model.Kind, pagination.Listing], everyone: int | None, shop: str
) -> LiveState:
    own = [ruleset_resource(r) for r in listings[model.Kind.RULESET].items]
    conditions = [order_condition_resource(c) for c in listings[model.Kind.ORDER_CONDITION].items]
    code_list = distinct_codes(
        discount_code_resource(d) for d in listings[model.Kind.DISCOUNT_CODE].items
    )
    resources = [*own, *conditions, *code_list]
    # Each discount code is backed by a ruleset of Bold's discount-code app (contract §5.5);
    # those are the codes themselves, not other apps' rulesets, so they are not counted.
    backing = {r.handles["ruleset_id"] for r in code_list if "ruleset_id" in r.handles}
    foreign = None if everyone is None else max(0, everyone - len(own) - len(backing))
    resources.sort(key=lambda r: r.key.sort_key)
    return _apart(LiveState(tuple(resources), foreign, shop))


def _fresh_objects(
    listings: Mapping[model.Kind, pagination.Listing],
    stamps: dict[model.Kind, dict[str, tuple[Any, ...]]],
) -> dict[model.Kind, str]:
    """Kinds whose multi-page listing holds an object stamped during the read, by reason.

    ``created_at``/``updated_at`` (contract §5.1) at or after the server's ``Date`` of the
    first page: the object changed while the pages were read, or within the second before
    (``Date`` has whole seconds). Stamps already seen by the previous read are not news, so a
    change made just before a read costs one more read, not a refusal.
    """
    doubts: dict[model.Kind, str] = {}
    for kind, listing in listings.items():
        before = stamps.get(kind, {})
        now: dict[str, tuple[Any, ...]] = {}
        stamps[kind] = now
        if listing.pages < 2 or listing.started is None:
            continue
        for item in listing.items:
            marks = (item.get("created_at"), item.get("updated_at"))
            ident = pagination.identity(item)
            now[ident] = marks
            if before.get(ident) == marks or kind in doubts:
                continue
            latest = max((m for m in map(instants.parse, marks) if m is not None), default=None)
            if latest is not None and latest >= listing.started:
                doubts[kind] = (
                    f"{_describe(kind, item)} changed at {normalise_instant(latest)} while the "
                    "list was read"
                )
    return doubts


def _describe(kind: model.Kind, item: Mapping[str, Any]) -> str:
    name = item.get("external_id") or item.get("code") or item.get("name") or item.get("id")
    return f"{kind.value} {name}"


#: Parts of an identity a targeted read can address (a ruleset's external id; a condition's
#: name and value; a code's name). A live object keyed by its server id as well (no identity of
#: its own, or one it shares) is only ever deleted, and the listing saw it: not confirmed.
_ADDRESS_PARTS = {model.Kind.RULESET: 1, model.Kind.ORDER_CONDITION: 2, model.Kind.DISCOUNT_CODE: 1}


def _addressable(key: model.Key) -> bool:
    return len(key.ident) == _ADDRESS_PARTS[key.kind] and all(key.ident)


def _confirm(
    client: BoldClient,
    live: LiveState,
    keys: Iterable[model.Key],
    listings: Mapping[model.Kind, pagination.Listing],
) -> dict[model.Kind, str]:
    """Kinds where a targeted read contradicts the listing about a decisive key, by reason.

    Only kinds read in several pages: one page is one response, one moment of the shop.
    """
    listed = {r.key.match for r in live.resources}
    chosen = sorted(
        {k for k in keys if listings[k.kind].pages > 1 and _addressable(k)},
        key=lambda k: k.sort_key,
    )
    if not chosen:
        return {}
    rulesets = [k for k in chosen if k.kind is model.Kind.RULESET]
    others = [k for k in chosen if k.kind is not model.Kind.RULESET]
    exists: dict[model.Key, bool] = {}
    if rulesets:
        found = {
            str(r.get("external_id")) for r in client.find_rulesets([k.ident[0] for k in rulesets])
        }
        exists.update((k, k.ident[0] in found) for k in rulesets)
    if others:
        with ThreadPoolExecutor(max_workers=max(1, client.concurrency)) as pool:
            answers = pool.map(lambda k: read_one(client, k) is not None, others)
            exists.update(zip(others, answers, strict=True))
    doubts: dict[model.Kind, str] = {}
    for key in chosen:
        if exists[key] == (key.match in listed) or key.kind in doubts:
            continue
        what = f"{key.kind.value} {key.name}"
        doubts[key.kind] = (
            f"{what} exists but the listing missed it"
            if exists[key]
            else f"{what} was listed but is gone"
        )
    return doubts


def distinct_codes(codes: Iterable[model.Resource]) -> list[model.Resource]:
    """Discount codes with no two sharing a key: extra copies keyed by their server id.

    Bold keeps code names unique regardless of case, yet overlapping creates can leave
    ``SPRING15`` beside ``spring15`` (or the same name twice). The oldest (lowest id) keeps the
    name's key; each other one gets ``model.by_server_id`` so the plan shows it and, if it is
    owned, deletes it, instead of one silently hiding the other.
    """
    kept: dict[Any, model.Resource] = {}
    out: list[model.Resource] = []
    for code in sorted(codes, key=lambda r: _rule_id_order(r.handles)):
        if code.key.match in kept and code.handles.get("id") is not None:
            key = model.by_server_id(code.key, code.handles["id"])
            out.append(model.Resource(key, code.body, code.origin, code.handles))
            continue
        kept[code.key.match] = code
        out.append(code)
    return out


def _apart(live: LiveState) -> LiveState:
    """The app's bookkeeping rulesets (``model.RESERVED_PREFIX``) moved out of ``resources``."""
    reserved = tuple(
        r
        for r in live.resources
        if r.key.kind is model.Kind.RULESET and model.is_reserved(r.key.ident[0])
    )
    if not reserved:
        return live
    kept = tuple(r for r in live.resources if not any(r is b for b in reserved))
    return dataclasses.replace(live, resources=kept, reserved=reserved)


def read_one(client: BoldClient, key: model.Key) -> model.Resource | None:
    """Read one object back by its identity (saved-plan staleness checks, ambiguous writes)."""
    if key.kind is model.Kind.RULESET:
        if key.server_id is not None:
            # Named since the plan was made? Its body then holds the name: it reads as moved.
            data = client.get_ruleset_by_id(key.server_id)
        else:
            data = client.get_ruleset(key.ident[0])
        return ruleset_resource(data) if data is not None else None
    if key.kind is model.Kind.ORDER_CONDITION:
        data = client.get_order_condition(key.ident[0], key.ident[1])
        return order_condition_resource(data) if data is not None else None
    if key.server_id is not None:
        data = client.get_discount_code(key.server_id)
        if data is None:
            return None
        found = discount_code_resource(data)
        return model.Resource(key, found.body, None, found.handles)
    codes = distinct_codes(
        discount_code_resource(d) for d in client.list_discount_codes(name=key.ident[0])
    )
    found_codes = [c for c in codes if c.key.match == key.match]
    return found_codes[0] if found_codes else None
