"""The evaluator's inputs: plain frozen dataclasses, and their constructors from plain dicts.

Every ``from_api`` takes a mapping in the API's (and the manifest's) field names, as live JSON,
a normalised manifest body or the sandbox's stored JSON has them, ignores fields it does not
read, and raises ``PricingInputError`` naming the field when one it reads is unusable. Ids
become strings (pricing-engine.md §2: ids compare as strings); instants become aware UTC
datetimes. This module does no I/O and imports nothing else of reconciler.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

#: The app that owns the rulesets backing discount codes (contract §5.5; the sandbox's name).
DISCOUNT_CODE_APP = "bold-discount-codes"

#: A condition's or action's value as the API carries it.
Scalar = str | int | float | bool | None


class PricingInputError(ValueError):
    """An input the evaluator cannot read; the message names the object and field."""


def _where(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _number(data: Mapping[str, Any], name: str, path: str, default: float | None = None) -> Any:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                return int(number) if number.is_integer() else number
        raise PricingInputError(f"{_where(path, name)}: expected a number, got {value!r}")
    return value


def _integer(data: Mapping[str, Any], name: str, path: str, default: int | None = None) -> Any:
    value = _number(data, name, path, default)
    if value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise PricingInputError(f"{_where(path, name)}: expected whole cents, got {value!r}")
        return int(value)
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else str(value)


def _strings(value: Any, path: str) -> tuple[str, ...]:
    """A list of strings (or one comma-separated string, as storefronts send tags)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return tuple(str(item) for item in value if item is not None)
    raise PricingInputError(f"{path}: expected a list of strings, got {value!r}")


def parse_instant(value: Any, path: str = "at") -> dt.datetime | None:
    """An RFC 3339 string or a datetime → an aware UTC datetime (naive ones are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise PricingInputError(f"{path}: not an RFC 3339 date-time: {value!r}") from None
    else:
        raise PricingInputError(f"{path}: not an RFC 3339 date-time: {value!r}")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PricingInputError(f"{path}: expected an object, got {value!r}")
    return value


# --- rulesets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductSelection:
    """Which lines a ruleset prices (§2.2): a type and, for searches, the named facts."""

    type: str
    sku_ids: frozenset[str] = frozenset()
    product_ids: frozenset[str] = frozenset()
    variant_ids: frozenset[str] = frozenset()
    collection_ids: frozenset[str] = frozenset()
    vendors: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()
    product_types: frozenset[str] = frozenset()

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None, path: str = "product_selection") -> Self:
        data = _mapping(data, path)
        lists = {name: frozenset(_strings(data.get(name), _where(path, name))) for name in FILTERS}
        return cls(type=str(data.get("type") or ""), **lists)


#: The search filters of a product selection, in the API's names (contract §5.3).
FILTERS = (
    "sku_ids",
    "product_ids",
    "variant_ids",
    "collection_ids",
    "vendors",
    "titles",
    "product_types",
)


@dataclass(frozen=True)
class Condition:
    """One condition of a rule (§4); which fields matter depends on ``type``."""

    type: str
    value: Scalar = None
    operator: str = "="
    name: str | None = None
    label: str | None = None
    list: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any], path: str = "condition") -> Self:
        data = _mapping(data, path)
        value = data.get("value")
        if isinstance(value, Mapping | list):
            raise PricingInputError(f"{_where(path, 'value')}: expected a scalar, got {value!r}")
        return cls(
            type=str(data.get("type") or ""),
            value=value,
            operator=str(data.get("operator") or "="),
            name=_text(data, "name"),
            label=_text(data, "label"),
            list=_strings(data.get("list"), _where(path, "list")),
        )

    def describe(self) -> str:
        """``CART_SUBTOTAL_MIN >= 5000``: the condition as a reader says it."""
        subject = f"{self.type} {self.name}" if self.name else self.type
        if self.list:
            return f"{subject} in [{', '.join(self.list)}]"
        if self.value is None:
            return subject
        return f"{subject} {self.operator} {self.value}"


@dataclass(frozen=True)
class Action:
    """One action of a rule (§5)."""

    type: str
    value: int | float | None = None
    limit: int | None = None
    limit_scope: str = "variant"
    case_price: int | float | None = None
    case_size: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any], path: str = "action") -> Self:
        data = _mapping(data, path)
        return cls(
            type=str(data.get("type") or ""),
            value=_number(data, "value", path),
            limit=_integer(data, "limit", path),
            limit_scope=str(data.get("limit_scope") or "variant"),
            case_price=_number(data, "case_price", path),
            case_size=_integer(data, "case_size", path),
        )

    def describe(self) -> str:
        """``FREE_SHIPPING`` or ``SHIPPING_ADJUST_PERCENT -50``."""
        return self.type if self.value is None else f"{self.type} {self.value}"


@dataclass(frozen=True)
class Rule:
    """A rule of a ruleset: its layer comes from ``type`` (§3)."""

    type: str
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()
    external_id: str | None = None
    id: int | None = None
    priority: int | float = 0
    stack_order: int | float | None = None

    @classmethod
    def from_api(
        cls, data: Mapping[str, Any], path: str = "rule", external_id: str | None = None
    ) -> Self:
        data = _mapping(data, path)
        conditions = data.get("conditions") or []
        actions = data.get("actions") or []
        return cls(
            type=str(data.get("type") or ""),
            conditions=tuple(
                Condition.from_api(c, f"{path}.conditions[{i}]") for i, c in enumerate(conditions)
            ),
            actions=tuple(
                Action.from_api(a, f"{path}.actions[{i}]") for i, a in enumerate(actions)
            ),
            external_id=external_id if external_id is not None else _text(data, "external_id"),
            id=_integer(data, "id", path),
            priority=_number(data, "priority", path, 0),
            stack_order=_number(data, "stack_order", path),
        )


@dataclass(frozen=True)
class Ruleset:
    """A ruleset of some app (§1), with its rules in the order given."""

    app: str
    product_selection: ProductSelection
    rules: tuple[Rule, ...]
    external_id: str | None = None
    id: int | None = None
    public_name: str = ""
    priority: int | float = 0
    active: bool = True
    start_date: dt.datetime | None = None
    expiry_date: dt.datetime | None = None

    @classmethod
    def from_api(
        cls, data: Mapping[str, Any], *, app: str | None = None, id: int | None = None
    ) -> Self:
        """A ruleset as the API returns it, as a manifest states it, or in normalised form.

        ``rules`` may be a list of rules or a mapping external id → rule (the normalised form);
        ``app`` (and ``id``, for a normalised body whose server id sits in its handles) override
        what the body says.
        """
        data = _mapping(data, "ruleset")
        path = f"ruleset {data.get('external_id') or data.get('id') or ''}".rstrip()
        raw_rules = data.get("rules") or []
        if isinstance(raw_rules, Mapping):
            rules = tuple(
                Rule.from_api(r, f"{path} > rules[{k}]", external_id=str(k))
                for k, r in raw_rules.items()
            )
        else:
            rules = tuple(
                Rule.from_api(r, f"{path} > rules[{r.get('external_id') or i}]")
                for i, r in enumerate(raw_rules)
            )
        active = data.get("active")
        return cls(
            app=app if app is not None else str(data.get("app") or ""),
            product_selection=ProductSelection.from_api(
                data.get("product_selection"), f"{path} > product_selection"
            ),
            rules=rules,
            external_id=_text(data, "external_id"),
            id=id if id is not None else _integer(data, "id", path),
            public_name=str(data.get("public_name") or ""),
            priority=_number(data, "priority", path, 0),
            active=True if active is None else bool(active),
            start_date=parse_instant(data.get("start_date"), f"{path} > start_date"),
            expiry_date=parse_instant(data.get("expiry_date"), f"{path} > expiry_date"),
        )

    @classmethod
    def from_discount_code(
        cls, data: Mapping[str, Any], *, app: str = DISCOUNT_CODE_APP, id: int | None = None
    ) -> Self:
        """The ruleset Bold stands a discount code on (contract §5.5): one ``DISCOUNT_CODE`` rule
        whose conditions are ``DISCOUNT_CODE = code`` and the code's own, its action the code's.

        ``data`` is one code as the API returns it (``code``) or as planned (``code`` given).
        Its ``limits`` and ``restrict_by_emails`` are left to checkout
        (``assumptions.ASSUME_DISCOUNT_CODE_USABLE``).
        """
        data = _mapping(data, "discount_code")
        code = str(data.get("code") or "")
        path = f"discount code {code}"
        conditions = [
            Condition(type="DISCOUNT_CODE", value=code),
            *(
                Condition.from_api(c, f"{path} > conditions[{i}]")
                for i, c in enumerate(data.get("conditions") or [])
            ),
        ]
        action = Action.from_api(_mapping(data.get("action"), f"{path} > action"), f"{path}")
        rule = Rule(
            type="DISCOUNT_CODE",
            conditions=tuple(conditions),
            actions=(action,),
            external_id="discount-code",
        )
        return cls(
            app=app,
            product_selection=ProductSelection.from_api(
                data.get("product_selection"), f"{path} > product_selection"
            ),
            rules=(rule,),
            external_id=f"discount-code-{code}",
            id=id if id is not None else _integer(data, "ruleset_id", path),
            public_name=code,
            start_date=parse_instant(data.get("start_date"), f"{path} > start_date"),
            expiry_date=parse_instant(data.get("expiry_date"), f"{path} > expiry_date"),
        )


@dataclass(frozen=True)
class OrderCondition:
    """A shop's order condition (contract §5.4): (name, value) holds when the shipping address
    matches every field of at least one field set."""

    name: str
    value: str
    field_sets: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        data = _mapping(data, "order_condition")
        path = f"order condition {data.get('name')}={data.get('value')}"
        sets = []
        for i, fs in enumerate(data.get("field_sets") or []):
            fs = _mapping(fs, f"{path} > field_sets[{i}]")
            sets.append({str(k): str(v) for k, v in fs.items() if k != "id" and v is not None})
        return cls(
            name=str(data.get("name") or ""),
            value=str(data.get("value") or ""),
            field_sets=tuple(sets),
        )


# --- carts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipping:
    """The customer's shipping address, in the fields order conditions test."""

    country: str | None = None
    country_code: str | None = None
    province: str | None = None
    province_code: str | None = None
    postal_code: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None, path: str = "shipping") -> Self:
        data = _mapping(data, path)
        return cls(**{name: _text(data, name) for name in SHIPPING_FIELDS})

    def field(self, name: str) -> str | None:
        """The value of an order-condition field name (``customer.shipping.country_code``)."""
        prefix = "customer.shipping."
        if not name.startswith(prefix) or name[len(prefix) :] not in SHIPPING_FIELDS:
            return None
        value: str | None = getattr(self, name[len(prefix) :])
        return value


#: The shipping fields an order condition's field set may test (contract §5.4).
SHIPPING_FIELDS = ("country", "country_code", "province", "province_code", "postal_code")


@dataclass(frozen=True)
class Customer:
    """Who buys: tags (customer groups), province, shipping address."""

    tags: frozenset[str] = frozenset()
    province: str | None = None
    shipping: Shipping = field(default_factory=Shipping)

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None, path: str = "customer") -> Self:
        data = _mapping(data, path)
        return cls(
            tags=frozenset(_strings(data.get("tags"), _where(path, "tags"))),
            province=_text(data, "province"),
            shipping=Shipping.from_api(data.get("shipping"), _where(path, "shipping")),
        )


@dataclass(frozen=True)
class LineItem:
    """One cart line: the item's ids and price, and the catalogue facts selections test."""

    price: int
    quantity: int = 1
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    collection_ids: frozenset[str] = frozenset()
    vendor: str | None = None
    title: str | None = None
    product_type: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], path: str = "item") -> Self:
        data = _mapping(data, path)
        price = _integer(data, "price", path)
        if price is None or price < 0:
            raise PricingInputError(f"{_where(path, 'price')}: expected cents ≥ 0, got {price!r}")
        quantity = _integer(data, "quantity", path, 1)
        if quantity < 1:
            raise PricingInputError(f"{_where(path, 'quantity')}: expected ≥ 1, got {quantity!r}")
        properties = _mapping(data.get("properties"), _where(path, "properties"))
        return cls(
            price=price,
            quantity=quantity,
            sku=_text(data, "sku"),
            product_id=_text(data, "product_id"),
            variant_id=_text(data, "variant_id"),
            collection_ids=frozenset(
                _strings(data.get("collection_ids"), _where(path, "collection_ids"))
            ),
            vendor=_text(data, "vendor"),
            title=_text(data, "title"),
            product_type=_text(data, "product_type"),
            properties={str(k): str(v) for k, v in properties.items() if v is not None},
        )


@dataclass(frozen=True)
class Cart:
    """Lines, a customer, an optional discount code and an optional instant to price at."""

    items: tuple[LineItem, ...]
    customer: Customer = field(default_factory=Customer)
    discount_code: str | None = None
    at: dt.datetime | None = None
    name: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any], path: str = "") -> Self:
        data = _mapping(data, path or "cart")
        name = _text(data, "name")
        path = path or (f"cart {name}" if name else "cart")
        items = data.get("items") or []
        return cls(
            items=tuple(
                LineItem.from_api(item, f"{path} > items[{i}]") for i, item in enumerate(items)
            ),
            customer=Customer.from_api(data.get("customer"), f"{path} > customer"),
            discount_code=_text(data, "discount_code") or None,
            at=parse_instant(data.get("at"), f"{path} > at"),
            name=name,
        )
