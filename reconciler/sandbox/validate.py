"""Body validation for the sandbox: every rule of the contract's §5, every problem at once.

Owns the enums, the limits and the defaults, and turns a request body into the cleaned dict the
API stores (unknown keys dropped, defaults filled, dates normalised to UTC). Problems collect in
a ``Checker`` and leave as one 422 whose ``errors`` list names each field
(``rules[0].actions``). It must not touch storage or assign ids: that is the handlers' job.
"""

from __future__ import annotations

import math
from typing import Any

from reconciler.sandbox import web

RULE_TYPES = frozenset(
    [
        "BASE_PRICE",
        "CART_LEVEL_DISCOUNT",
        "DISCOUNT",
        "DISCOUNT_CODE",
        "DISCOUNTABLE_ADDITION",
        "ADDITION",
        "STACKABLE_DISCOUNT",
        "ROUNDING",
        "DISPLAY",
        "SETTING",
        "BUNDLE",
        "REF_URL",
        "LINE_ITEM_PROPERTY",
        "CUSTOMER_PROVINCE",
        "CUSTOMER_GROUP",
        "QTY_BY_MIX_AND_MATCH",
        "QTY_BY_PRODUCT",
        "QTY_BY_VARIANT",
        "QTY_BY_LINE",
        "SUBSCRIPTION_GROUP",
        "SUBSCRIPTION_INTERVAL",
    ]
)
ACTION_TYPES = frozenset(
    [
        "PRICE_ADJUST_PERCENT",
        "PRICE_ADJUST_ABSOLUTE",
        "PRICE_ADJUST_RELATIVE",
        "PRICE_ADJUST_PERCENT_WITH_LIMIT",
        "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT",
        "PRICE_ADJUST_RELATIVE_WITH_LIMIT",
        "CHARM_PRICE",
        "CASE_PRICING",
        "CART_LEVEL_DISCOUNT_PERCENT",
        "CART_LEVEL_DISCOUNT_RELATIVE",
        "FREE_SHIPPING",
        "SHIPPING_ADJUST_RELATIVE",
        "SHIPPING_ADJUST_PERCENT",
        "SHIPPING_ADJUST_ABSOLUTE",
        "CART_ADJUST_RELATIVE",
        "CART_ADJUST_PERCENT",
        "CART_ADJUST_ABSOLUTE",
    ]
)
PERCENT_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_PERCENT",
        "PRICE_ADJUST_PERCENT_WITH_LIMIT",
        "CART_LEVEL_DISCOUNT_PERCENT",
        "SHIPPING_ADJUST_PERCENT",
        "CART_ADJUST_PERCENT",
    }
)
ABSOLUTE_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_ABSOLUTE",
        "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT",
        "SHIPPING_ADJUST_ABSOLUTE",
        "CART_ADJUST_ABSOLUTE",
    }
)
LIMITED_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_PERCENT_WITH_LIMIT",
        "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT",
        "PRICE_ADJUST_RELATIVE_WITH_LIMIT",
    }
)
#: Actions without a ``value``: free shipping, and case pricing (``case_price``/``case_size``).
VALUELESS_ACTIONS = frozenset({"FREE_SHIPPING", "CASE_PRICING"})
LIMIT_SCOPES = frozenset({"variant", "product", "lineitem"})
#: CHARM_PRICE's value: the cents a price ends on. Assumption (the contract is silent): 0-99.
CHARM_CENTS = (0, 99)
PRODUCT_SELECTION_TYPES = frozenset(
    {
        "PRODUCTS_ALL",
        "SHOPIFY_PRODUCTS_ALL",
        "PRODUCT_SEARCH",
        "PRODUCTS_SEARCH",
        "SHOPIFY_PRODUCT_SEARCH",
        "PRODUCTS_EXCEPT",
    }
)
PRODUCT_FILTERS = (
    "sku_ids",
    "product_ids",
    "variant_ids",
    "collection_ids",
    "vendors",
    "titles",
    "product_types",
)
OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<="})
FIELD_SET_FIELDS = (
    "customer.shipping.country",
    "customer.shipping.country_code",
    "customer.shipping.postal_code",
    "customer.shipping.province",
    "customer.shipping.province_code",
)
DISCOUNT_CONDITION_TYPES = frozenset(
    {
        "CART_SUBTOTAL_MIN",
        "QTY_ON_CART",
        "CUSTOMER_IN_ANY_GROUP_FROM_LIST",
        "CUSTOMER_COUNTRY",
        "SHIPPING_RATE_RANGE",
        "BUY_X_GET_Y_DISCOUNT_CODE",
    }
)
LIMIT_TYPES = frozenset({"per_shop", "per_customer"})

#: Whole numbers the sandbox stores. Assumption (the contract is silent): Bold keeps priorities
#: and stack orders in 32-bit signed columns and every other number within JSON's safe-integer
#: range (±2^53); a number outside, or a non-finite one, is refused with 422.
INT32 = (-(2**31), 2**31 - 1)
SAFE_INTEGER = (-(2**53), 2**53)
EXTERNAL_ID_MAX = 128
NAME_MAX = 255
CODE_MAX = 128
EMAILS_MAX = 50


class Checker:
    """Collects field errors; ``done()`` raises them as one 422."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append({"field": path, "message": message})

    def done(self) -> None:
        """Raise a 422 listing every problem, if there is any."""
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise web.HttpError(
                422,
                f"The body is invalid: {first['field']}: {first['message']}{more}.",
                errors=self.errors,
            )

    # Typed getters: each records an error and returns None when the value does not fit.

    def string(
        self, body: dict[str, Any], key: str, path: str, *, max_len: int, required: bool = False
    ) -> str | None:
        value = body.get(key)
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str):
            self.add(path, f"must be a string, got {_kind(value)}")
            return None
        if required and not value:
            self.add(path, "must not be empty")
        if len(value) > max_len:
            self.add(path, f"is {len(value)} characters long; at most {max_len} are allowed")
        return value

    def integer(
        self,
        body: dict[str, Any],
        key: str,
        path: str,
        *,
        default: int,
        bounds: tuple[int, int] = SAFE_INTEGER,
    ) -> int:
        value = body.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be an integer, got {_kind(value)}")
            return default
        return value if self._within(value, path, bounds) else default

    def number(
        self,
        body: dict[str, Any],
        key: str,
        path: str,
        *,
        default: float,
        bounds: tuple[int, int] = SAFE_INTEGER,
    ) -> Any:
        value = body.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a number, got {_kind(value)}")
            return default
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, "must be a finite number")
            return default
        return value if self._within(value, path, bounds) else default

    def _within(self, value: float, path: str, bounds: tuple[int, int]) -> bool:
        low, high = bounds
        if low <= value <= high:
            return True
        self.add(path, f"must be from {low} to {high}")
        return False

    def boolean(self, body: dict[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = body.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(path, f"must be true or false, got {_kind(value)}")
            return default
        return value

    def enum(
        self, body: dict[str, Any], key: str, path: str, allowed: frozenset[str], *, default: str
    ) -> str:
        value = body.get(key, default)
        if value is None or value == "" == default:
            self.add(path, "is required")
            return default
        if value not in allowed:
            choices = ", ".join(sorted(allowed))
            self.add(path, f"{value!r} is not one of {choices}")
            return default
        return str(value)

    def instant(self, body: dict[str, Any], key: str, path: str) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value[-1:] == "z":
            value = value[:-1] + "Z"  # RFC 3339 §5.6: "Z" may be written lowercase
        moment = web.parse_instant(value) if isinstance(value, str) else None
        if moment is None:
            self.add(path, f"must be an RFC 3339 date-time with an offset, got {value!r}")
            return None
        return web.stamp(moment, style="bound")

    def obj(self, value: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(
                path, "is required" if value is None else f"must be an object, got {_kind(value)}"
            )
            return None
        return value

    def array(self, value: Any, path: str, *, required: bool = True) -> list[Any] | None:
        if value is None and not required:
            return None
        if not isinstance(value, list):
            self.add(
                path, "is required" if value is None else f"must be a list, got {_kind(value)}"
            )
            return None
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "an object"
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def product_selection(c: Checker, value: Any, path: str) -> dict[str, Any]:
    """§5.3: a type from the four, and one filter, a list of strings."""
    body = c.obj(value, path)
    if body is None:
        return {}
    out: dict[str, Any] = {
        "type": c.enum(body, "type", _join(path, "type"), PRODUCT_SELECTION_TYPES, default="")
    }
    given = [key for key in PRODUCT_FILTERS if key in body]
    if len(given) > 1:
        names = ", ".join(given[:-1]) + f" and {given[-1]}"
        c.add(path, f"takes one filter; got {names}")
    for key in PRODUCT_FILTERS:
        if key not in body:
            continue
        items = c.array(body[key], _join(path, key))
        if items is None:
            continue
        for i, item in enumerate(items):
            if not isinstance(item, str):
                c.add(f"{_join(path, key)}[{i}]", f"must be a string id, got {_kind(item)}")
        out[key] = items
    return out


def action(c: Checker, value: Any, path: str) -> dict[str, Any]:
    """§5.2 Action: a known type, an integer value within the type's bounds (none for
    FREE_SHIPPING and CASE_PRICING), a limit on _WITH_LIMIT types, a case on CASE_PRICING."""
    body = c.obj(value, path)
    if body is None:
        return {}
    kind = c.enum(body, "type", _join(path, "type"), ACTION_TYPES, default="")
    out: dict[str, Any] = {"type": kind}
    if "value" in body or kind not in VALUELESS_ACTIONS:
        amount = body.get("value")
        if isinstance(amount, bool) or not isinstance(amount, int):
            c.add(_join(path, "value"), f"must be a whole number, got {_kind(amount)}")
        elif not SAFE_INTEGER[0] <= amount <= SAFE_INTEGER[1]:
            c.add(_join(path, "value"), f"must be from {SAFE_INTEGER[0]} to {SAFE_INTEGER[1]}")
        elif kind in PERCENT_ACTIONS and amount < -100:
            c.add(_join(path, "value"), f"{amount} is less than the minimum of -100")
        elif kind in ABSOLUTE_ACTIONS and amount < 0:
            c.add(_join(path, "value"), f"{amount} is a negative price; prices are cents ≥ 0")
        elif kind == "CHARM_PRICE" and not CHARM_CENTS[0] <= amount <= CHARM_CENTS[1]:
            c.add(_join(path, "value"), f"{amount} is not a cents ending from 0 to 99")
        out["value"] = amount
    needed: tuple[str, ...] = ("limit",) if kind in LIMITED_ACTIONS else ()
    if kind == "CASE_PRICING":
        needed = ("case_price", "case_size")
    for key in needed:
        if body.get(key) is None:
            c.add(_join(path, key), f"is required by {kind}")
    for key in ("limit", "qty", "price", "case_price", "case_size"):
        if key in body:
            out[key] = c.number(body, key, _join(path, key), default=0)
    if "limit_scope" in body:
        out["limit_scope"] = c.enum(
            body, "limit_scope", _join(path, "limit_scope"), LIMIT_SCOPES, default="variant"
        )
    if "name" in body:
        out["name"] = c.string(body, "name", _join(path, "name"), max_len=NAME_MAX)
    return out


def condition(c: Checker, value: Any, path: str) -> dict[str, Any]:
    """§5.2 Condition: a type, a value, an optional operator and the buy-x-get-y fields."""
    body = c.obj(value, path)
    if body is None:
        return {}
    out: dict[str, Any] = {
        "type": c.string(body, "type", _join(path, "type"), max_len=64, required=True)
    }
    if "value" in body:
        out["value"] = body["value"]
    if "operator" in body:
        out["operator"] = c.enum(body, "operator", _join(path, "operator"), OPERATORS, default="=")
    for key in ("name", "label"):
        if key in body:
            out[key] = c.string(body, key, _join(path, key), max_len=NAME_MAX)
    if "list" in body:
        out["list"] = group_list(c, body["list"], _join(path, "list"))
    for key in ("buy_quantity", "get_quantity", "uses_per_order_limit"):
        if key in body:
            out[key] = c.integer(body, key, _join(path, key), default=0, bounds=INT32)
    if "priority" in body:  # a number, like a rule's priority (§5.2)
        out["priority"] = c.number(
            body, "priority", _join(path, "priority"), default=0, bounds=INT32
        )
    if "buy_product_selection" in body:
        out["buy_product_selection"] = product_selection(
            c, body["buy_product_selection"], _join(path, "buy_product_selection")
        )
    return out


def group_list(c: Checker, value: Any, path: str) -> list[str]:
    """``CUSTOMER_IN_ANY_GROUP_FROM_LIST``'s ``list``: customer groups, each a string."""
    items = c.array(value, path) or []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            c.add(f"{path}[{i}]", f"must be a customer group name, got {_kind(item)}")
    return items


def rule(c: Checker, value: Any, path: str) -> dict[str, Any]:
    """§5.2 Rule with defaults filled; keeps a client-sent integer ``id`` for matching."""
    body = c.obj(value, path)
    if body is None:
        return {}
    out: dict[str, Any] = {}
    if isinstance(body.get("id"), int) and not isinstance(body.get("id"), bool):
        out["id"] = body["id"]
    out["external_id"] = c.string(
        body, "external_id", _join(path, "external_id"), max_len=EXTERNAL_ID_MAX
    )
    out["type"] = c.enum(body, "type", _join(path, "type"), RULE_TYPES, default="")
    conditions = c.array(body.get("conditions"), _join(path, "conditions"))
    out["conditions"] = [
        condition(c, item, f"{_join(path, 'conditions')}[{i}]")
        for i, item in enumerate(conditions or [])
    ]
    actions = c.array(body.get("actions"), _join(path, "actions"))
    if actions is not None and not actions:
        c.add(_join(path, "actions"), "must hold at least one action")
    out["actions"] = [
        action(c, item, f"{_join(path, 'actions')}[{i}]") for i, item in enumerate(actions or [])
    ]
    meta = body.get("meta", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        c.add(_join(path, "meta"), f"must be an object, got {_kind(meta)}")
        meta = {}
    out["meta"] = meta
    for key in ("priority", "stack_order"):
        out[key] = c.number(body, key, _join(path, key), default=0, bounds=INT32)
    return out


def rules(c: Checker, value: Any, path: str, *, non_empty: bool) -> list[dict[str, Any]]:
    """A list of rules whose external ids are unique within it."""
    items = c.array(value, path)
    if items is None:
        return []
    if non_empty and not items:
        c.add(path, "must hold at least one rule")
    cleaned = [rule(c, item, f"{path}[{i}]") for i, item in enumerate(items)]
    seen: set[str] = set()
    for i, item in enumerate(cleaned):
        eid = item.get("external_id")
        if eid is None:
            continue
        if eid in seen:
            c.add(f"{path}[{i}].external_id", f"{eid!r} appears twice in this ruleset")
        seen.add(eid)
    return cleaned


def _bounds(c: Checker, body: dict[str, Any], out: dict[str, Any]) -> None:
    out["start_date"] = c.instant(body, "start_date", "start_date")
    out["expiry_date"] = c.instant(body, "expiry_date", "expiry_date")
    if out["start_date"] and out["expiry_date"]:
        start = web.parse_instant(out["start_date"])
        expiry = web.parse_instant(out["expiry_date"])
        if start and expiry and expiry <= start:
            c.add("expiry_date", "must be later than start_date")


def ruleset(body: dict[str, Any]) -> dict[str, Any]:
    """§5.1: a whole ruleset for create or replace, defaults filled; 422 on any problem."""
    c = Checker()
    out: dict[str, Any] = {
        "external_id": c.string(body, "external_id", "external_id", max_len=EXTERNAL_ID_MAX),
        "internal_name": c.string(body, "internal_name", "internal_name", max_len=NAME_MAX) or "",
        "public_name": c.string(body, "public_name", "public_name", max_len=NAME_MAX) or "",
        "active": c.boolean(body, "active", "active", default=True),
        "priority": c.integer(body, "priority", "priority", default=0, bounds=INT32),
    }
    _bounds(c, body, out)
    out["product_selection"] = product_selection(
        c, body.get("product_selection"), "product_selection"
    )
    out["rules"] = rules(c, body.get("rules"), "rules", non_empty=False)
    c.done()
    return out


PATCHABLE = frozenset({"start_date", "expiry_date", "rules"})


def ruleset_patch(body: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body of §6: optional bounds and a non-empty ``rules`` list, nothing else."""
    c = Checker()
    for key in sorted(set(body) - PATCHABLE - {"id", "external_id"}):
        c.add(key, "cannot be changed by PATCH; use PUT to replace the ruleset")
    out: dict[str, Any] = {}
    for key in ("start_date", "expiry_date"):
        if key in body:
            out[key] = c.instant(body, key, key)
    out["rules"] = rules(c, body.get("rules"), "rules", non_empty=True)
    c.done()
    return out


def order_condition(body: dict[str, Any], *, path: str = "") -> dict[str, Any]:
    """§5.4: name, value, the one operator and type, and field sets of the five fields."""
    c = Checker()
    out: dict[str, Any] = {
        "name": c.string(body, "name", _join(path, "name"), max_len=NAME_MAX, required=True),
        "value": c.string(body, "value", _join(path, "value"), max_len=NAME_MAX, required=True),
        "operator": c.enum(body, "operator", "operator", frozenset({"ONE_OF"}), default="ONE_OF"),
        "type": c.enum(body, "type", "type", frozenset({"FIELD_SET"}), default="FIELD_SET"),
    }
    out["field_sets"] = field_sets(c, body.get("field_sets", []), "field_sets")
    c.done()
    return out


def field_sets(c: Checker, value: Any, path: str) -> list[dict[str, str]]:
    """A list of flat objects mapping some of the five fields to strings."""
    items = c.array(value, path)
    out: list[dict[str, str]] = []
    for i, item in enumerate(items or []):
        where = f"{path}[{i}]"
        body = c.obj(item, where)
        if body is None:
            continue
        body = {k: v for k, v in body.items() if k != "id"}
        if not body:
            c.add(where, "must test at least one field")
        for key, val in body.items():
            if key not in FIELD_SET_FIELDS:
                c.add(f"{where}.{key}", f"is not a field; use one of {', '.join(FIELD_SET_FIELDS)}")
            elif not isinstance(val, str):
                c.add(f"{where}.{key}", f"must be a string, got {_kind(val)}")
        out.append(body)
    return out


def discount_code(body: dict[str, Any], *, create: bool) -> dict[str, Any]:
    """§5.5: the shared configuration, plus ``codes`` (create) or an optional ``code`` (update)."""
    c = Checker()
    out: dict[str, Any] = {}
    if create:
        names = c.array(body.get("codes"), "codes")
        if names is not None and not names:
            c.add("codes", "must hold at least one code")
        seen: set[str] = set()
        for i, name in enumerate(names or []):
            if not isinstance(name, str) or not name:
                c.add(f"codes[{i}]", "must be a non-empty string")
                continue
            if len(name) > CODE_MAX:
                c.add(
                    f"codes[{i}]", f"is {len(name)} characters long; at most {CODE_MAX} are allowed"
                )
            if name.lower() in seen:
                c.add(f"codes[{i}]", f"{name!r} appears twice (codes ignore case)")
            seen.add(name.lower())
        out["codes"] = names or []
    else:
        if "codes" in body:
            c.add("codes", "is for creating; send code to rename this one")
        if "code" in body:
            out["code"] = c.string(body, "code", "code", max_len=CODE_MAX, required=True)
    out["action"] = action(c, body.get("action"), "action")
    out["product_selection"] = product_selection(
        c, body.get("product_selection"), "product_selection"
    )
    conditions = c.array(body.get("conditions", []), "conditions") or []
    out["conditions"] = []
    for i, item in enumerate(conditions):
        cond = c.obj(item, f"conditions[{i}]")
        if cond is None:
            continue
        c.enum(cond, "type", f"conditions[{i}].type", DISCOUNT_CONDITION_TYPES, default="")
        out["conditions"].append(cond)
    out["limits"] = []
    for i, item in enumerate(c.array(body.get("limits", []), "limits") or []):
        limit = c.obj(item, f"limits[{i}]")
        if limit is None:
            continue
        kind = c.enum(limit, "limit_type", f"limits[{i}].limit_type", LIMIT_TYPES, default="")
        amount = c.integer(limit, "limit_amount", f"limits[{i}].limit_amount", default=0)
        if amount < 0:
            c.add(f"limits[{i}].limit_amount", "must not be negative")
        out["limits"].append({"limit_type": kind, "limit_amount": amount})
    emails = c.array(body.get("restrict_by_emails", []), "restrict_by_emails") or []
    if len(emails) > EMAILS_MAX:
        c.add(
            "restrict_by_emails", f"holds {len(emails)} addresses; at most {EMAILS_MAX} are allowed"
        )
    for i, email in enumerate(emails):
        if not isinstance(email, str) or "@" not in email:
            c.add(f"restrict_by_emails[{i}]", "must be an email address")
    out["restrict_by_emails"] = emails
    _bounds(c, body, out)
    c.done()
    return out
