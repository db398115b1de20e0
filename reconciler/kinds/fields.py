"""The API's field quirks every kind shares: defaults, instants, numbers, id sets, conditions.

Both sides of a diff pass through these normalisers (by way of each kind's ``resource``), so a
manifest and the live object it produced compare equal (contract §7.3): defaults filled (the
manifest schema's ``default`` keywords, ``schema.defaults``: ``with_defaults`` fills them,
``without_defaults`` leaves them out again), instants in canonical UTC (``instants.canonical``)
rather than the strings the API happened to send, unordered lists as sorted sets, fields the
manifest format does not know dropped. Pure: no I/O but reading the manifest schema once.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler import instants, model, schema

# --- small normalisers ----------------------------------------------------------------------


def normalise_instant(value: object) -> str | None:
    """An RFC 3339 date-time in any offset or precision → ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    Bold may answer ``Z`` or ``+00:00``, with or without fractional seconds; comparing strings
    would diff forever, so both sides become the same instant in one spelling. A date-time
    without an offset is read as UTC, which is what the contract mandates.
    """
    if value is None or value == "":
        return None
    return _instant_text(value.isoformat() if isinstance(value, dt.datetime) else str(value))


@functools.lru_cache(maxsize=4096)
def _instant_text(value: str) -> str:
    # Remembered: a shop's thousands of windows repeat a few instants.
    moment = instants.parse(value)
    if moment is None:
        raise ValueError(f"not a date-time: {value!r}")
    return sys.intern(instants.canonical(moment))


def shared(value: Any) -> Any:
    """``value``, a string made one object with every equal string (``sys.intern``), a number
    fixed (``normalise_number``).

    A shop's bodies repeat a few words thousands of times (condition types, operators, customer
    groups, rule names, dates); read from pages, each copy was an object of its own: 17 MB of
    strings at 10,000 rulesets, now a few hundred objects shared by the shop and the manifests.
    """
    if type(value) is str:
        return _intern(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_intern = sys.intern


def normalise_number(value: Any) -> Any:
    """``10.0`` → ``10`` so a float the API echoes equals the integer a manifest wrote."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: CUSTOMER_IN_ANY_GROUP_FROM_LIST's ``list``: any one group qualifies, so it is stored sorted
#: too; the diff never reaches it on its own (it sits inside a set of conditions).
GROUP_LIST = "list"


def as_set(field: str, items: Iterable[Any]) -> list[Any]:
    """The items of the set-like ``field`` (one of ``model.SET_FIELDS``) in one fixed order.

    Strings (ids, emails) sort as themselves; anything else by its canonical JSON. Both sides of
    a diff go through here, so the order only has to be the same, not meaningful. Repeats are
    kept: a live list holding an item twice (overlapping applies leave such copies) must differ
    from the manifest that holds it once, so the plan shows the copy and apply removes it.
    ``field`` names which list this is, so that ``model.SET_FIELDS`` stays the one list of them.
    """
    if field not in model.SET_FIELDS and field != GROUP_LIST:
        raise ValueError(f"{field!r} is not a set-like field (model.SET_FIELDS)")
    listed = list(items)
    if len(listed) <= 1:
        return listed
    if all(type(item) is str for item in listed):
        return sorted(listed)
    return sorted(listed, key=model.canonical_json)


def clean(mapping: Mapping[str, Any], definition: str) -> dict[str, Any]:
    """The fields of the manifest format's ``definition`` that ``mapping`` states, in the
    schema's order, absent (``None``) ones dropped, numbers fixed.

    Bold may answer with fields the contract does not list (§1: clients ignore them). A field
    no manifest can state could only ever differ, so it is never compared. The schema's order,
    not the mapping's, so that a condition the API sends as ``type, value, operator`` and the
    manifest's ``type, operator, value`` come out alike, down to their bytes (``Resource.exact``
    then settles an unchanged object without fingerprints).

    A flat mapping (a condition, an action, a field set) is cleaned once per distinct content
    (``_cleaned``) and copied after that: a shop repeats a few conditions and actions thousands
    of times, and cleaning each anew was a third of the CPU of reading 10,000 rulesets.
    """
    try:
        shape = (definition, tuple(mapping.items()), tuple(map(type, mapping.values())))
        known = _cleaned.get(shape)
    except TypeError:  # a list or a mapping among the values: cleaned every time
        return _clean(mapping, definition)
    if known is None:
        known = _clean(mapping, definition)
        if len(_cleaned) < _CLEANED_LIMIT:
            _cleaned[shape] = known.copy()  # the copy a caller is given may be changed
        return known
    return known.copy()


#: ``clean``'s results by definition and content: the mapping's items in their order, and the
#: type of each value, so that ``True``, ``1`` and ``1.0`` (equal, and equal in hash) stay
#: three keys, as they are three values to the API. Bounded, for a shop whose conditions are
#: all distinct: past the bound, a mapping is cleaned every time, as before.
_cleaned: dict[tuple[str, tuple[Any, ...], tuple[type, ...]], dict[str, Any]] = {}
_CLEANED_LIMIT = 16384


def _clean(mapping: Mapping[str, Any], definition: str) -> dict[str, Any]:
    present = _present.get((definition, tuple(mapping)))
    if present is None:
        present = _present_fields(definition, mapping)
    return {name: shared(value) for name in present if (value := mapping[name]) is not None}


#: The fields ``clean`` keeps from a mapping, in the schema's order, by definition and the
#: mapping's keys in their order: a condition states 2 or 3 of the 11 fields the schema knows,
#: and ``_clean`` visits those. Bounded, for a shop whose objects carry ever new extra fields.
_present: dict[tuple[str, tuple[Any, ...]], tuple[str, ...]] = {}
_PRESENT_LIMIT = 4096


def _present_fields(definition: str, mapping: Mapping[str, Any]) -> tuple[str, ...]:
    keys = tuple(mapping)
    present = tuple(name for name in field_order()[definition] if name in mapping)
    if len(_present) < _PRESENT_LIMIT:
        _present[(definition, keys)] = present
    return present


@functools.cache
def field_order() -> Mapping[str, tuple[str, ...]]:
    """The fields of each object of the manifest format, in its schema's order (one source)."""
    definitions = schema.document(schema.MANIFEST)["$defs"]
    return {name: tuple(spec.get("properties", {})) for name, spec in definitions.items()}


@functools.cache
def format_fields() -> Mapping[str, frozenset[str]]:
    """The fields of each object of the manifest format, as a set (``field_order`` unordered)."""
    return {name: frozenset(order) for name, order in field_order().items()}


def live_fields(
    definition: str, *, server: Iterable[str], manifest_only: Iterable[str] = ()
) -> frozenset[str]:
    """The fields the contract lists for an object as the API sends it (§5): those the manifest
    schema's ``definition`` states (but ``manifest_only``, which only a manifest writes) and the
    ``server``-assigned ones."""
    return (format_fields()[definition] - frozenset(manifest_only)) | frozenset(server)


def normalise_selection(selection: Mapping[str, Any] | None) -> dict[str, Any]:
    """Product selection: the type as sent; each filter a sorted set of strings, empty ones gone."""
    selection = selection or {}
    result: dict[str, Any] = {}
    for field_name, value in clean(selection, "product_selection").items():
        if field_name in model.SELECTION_FILTERS:
            ids = as_set(field_name, (str(item) for item in value))
            if ids:
                result[field_name] = ids
        else:
            result[field_name] = value
    return result


def normalise_condition(condition: Mapping[str, Any], *, kind: str = "condition") -> dict[str, Any]:
    """A rule condition (or, with ``kind="discount_code_condition"``, a discount code's)."""
    result = clean(condition, kind)
    if isinstance(result.get(GROUP_LIST), list):
        result[GROUP_LIST] = as_set(GROUP_LIST, result[GROUP_LIST])
    if "buy_product_selection" in result:
        result["buy_product_selection"] = normalise_selection(result["buy_product_selection"])
    return result


def normalise_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action, optional fields dropped when absent."""
    return clean(action, "action")


def has_identity(value: object) -> bool:
    """Whether an ``external_id`` the API returned names anything (Bold allows none, §5.2)."""
    return value is not None and str(value).strip() != ""


def server_id_order(item: Mapping[str, Any]) -> tuple[int, Any]:
    """Objects with an integer server ``id`` first, by id (the oldest first); the rest after."""
    ident = item.get("id")
    return (0, ident) if isinstance(ident, int) and not isinstance(ident, bool) else (1, 0)


def distinct(value: Any, name: str = "") -> Any:
    """Each list whose order means nothing (``model.SET_FIELDS``) with every item once."""
    if isinstance(value, Mapping):
        return {k: distinct(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        items = [distinct(v) for v in value]
        if name in model.SET_FIELDS:
            unique = {model.canonical_json(item): item for item in reversed(items)}
            items = [unique[k] for k in dict.fromkeys(model.canonical_json(i) for i in items)]
        return items
    return value


def with_defaults(data: Mapping[str, Any], definition: str) -> dict[str, Any]:
    """The fields of the schema's ``definition`` that have a default, absent ones filled."""
    return {
        name: default if (value := data.get(name)) is None else shared(value)
        for name, default in schema.defaults(definition).items()
    }


def without_defaults(body: Mapping[str, Any], definition: str) -> dict[str, Any]:
    """The fields of ``definition`` whose value in ``body`` differs from its default (export)."""
    return {
        name: body[name]
        for name, default in schema.defaults(definition).items()
        if body.get(name) != default
    }
