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


def _nested(prefix: str, error: PricingInputError) -> PricingInputError:
    """``error`` (about a field of a part) re-said from the whole: ``rules[gold].`` + its text.

    Paths are built only when something is wrong, so reading 10,000 good rulesets stays cheap.
    """
    return PricingInputError(f"{prefix}{error}")


def _number(data: Mapping[str, Any], name: str, default: float | None = None) -> Any:
    value = data.get(name)
    if value is None:
        return default
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is not bool and isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    raise PricingInputError(f"{name}: expected a number, got {value!r}")


def _integer(data: Mapping[str, Any], name: str, default: int | None = None) -> Any:
    value = _number(data, name, default)
    if type(value) is float:
        if not value.is_integer():
            raise PricingInputError(f"{name}: expected whole cents, got {value!r}")
        return int(value)
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else str(value)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    """A list of strings (or one comma-separated string, as storefronts send tags)."""
    if value is None:
        return ()
    if type(value) is list:
        return tuple(str(item) for item in value if item is not None)
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return tuple(str(item) for item in value if item is not None)
    raise PricingInputError(f"{name}: expected a list of strings, got {value!r}")


def parse_instant(value: Any, name: str = "at") -> dt.datetime | None:
    """An RFC 3339 string or a datetime → an aware UTC datetime (naive ones are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise PricingInputError(f"{name}: not an RFC 3339 date-time: {value!r}") from None
    else:
        raise PricingInputError(f"{name}: not an RFC 3339 date-time: {value!r}")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if type(value) is dict:  # the common case, without an abstract-class check
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PricingInputError(f"{name}: expected an object, got {value!r}")
    return value


# --- rulesets -----------------------------------------------------------------------------------

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
_FILTER_NAMES = frozenset(FILTERS)
_NO_IDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ProductSelection:
    """Which lines a ruleset prices (§2.2): a type and, for searches, the named facts."""

    type: str
    sku_ids: frozenset[str] = _NO_IDS
    product_ids: frozenset[str] = _NO_IDS
    variant_ids: frozenset[str] = _NO_IDS
    collection_ids: frozenset[str] = _NO_IDS
    vendors: frozenset[str] = _NO_IDS
    titles: frozenset[str] = _NO_IDS
    product_types: frozenset[str] = _NO_IDS

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Self:
        data = _mapping(data, "product_selection")
        lists = {
            name: frozenset(_strings(value, name))
            for name, value in data.items()
            if name in _FILTER_NAMES and value is not None
        }
        return cls(type=str(data.get("type") or ""), **lists)


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a rule (§4); which fields matter depends on ``type``."""

    type: str
    value: Scalar = None
    operator: str = "="
    name: str | None = None
    label: str | None = None
    list: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        data = _mapping(data, "condition")
        value = data.get("value")
        if value is not None and not isinstance(value, str | int | float):
            raise PricingInputError(f"value: expected a scalar, got {value!r}")
        return cls(  # positional: 10,000 rulesets are read per plan side
            str(data.get("type") or ""),
            value,
            str(data.get("operator") or "="),
            _text(data, "name"),
            _text(data, "label"),
            _strings(data.get("list"), "list"),
        )

    def describe(self) -> str:
        """``CART_SUBTOTAL_MIN >= 5000``: the condition as a reader says it."""
        subject = f"{self.type} {self.name}" if self.name else self.type
        if self.list:
            return f"{subject} in [{', '.join(self.list)}]"
        if self.value is None:
            return subject
        return f"{subject} {self.operator} {self.value}"


@dataclass(frozen=True, slots=True)
class Action:
    """One action of a rule (§5)."""

    type: str
    value: int | float | None = None
    limit: int | None = None
    limit_scope: str = "variant"
    case_price: int | float | None = None
    case_size: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        data = _mapping(data, "action")
        if len(data) <= 2 and "limit_scope" not in data:  # the common {type, value}
            return cls(str(data.get("type") or ""), _number(data, "value"))
        return cls(
            type=str(data.get("type") or ""),
            value=_number(data, "value"),
            limit=_integer(data, "limit"),
            limit_scope=str(data.get("limit_scope") or "variant"),
            case_price=_number(data, "case_price"),
            case_size=_integer(data, "case_size"),
        )

    def describe(self) -> str:
        """``FREE_SHIPPING`` or ``SHIPPING_ADJUST_PERCENT -50``."""
        return self.type if self.value is None else f"{self.type} {self.value}"


def _parts(kind: type[Condition] | type[Action], items: Any, name: str) -> tuple[Any, ...]:
    if not items:
        return ()
    if type(items) is not list and (
        isinstance(items, str | Mapping) or not isinstance(items, Iterable)
    ):
        raise PricingInputError(f"{name}: expected a list, got {items!r}")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(kind.from_api(item))
        except PricingInputError as exc:
            raise _nested(f"{name}[{i}].", exc) from None
    return tuple(out)


@dataclass(frozen=True, slots=True)
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
    def from_api(cls, data: Mapping[str, Any], external_id: str | None = None) -> Self:
        data = _mapping(data, "rule")
        return cls(
            str(data.get("type") or ""),
            _parts(Condition, data.get("conditions"), "conditions"),
            _parts(Action, data.get("actions"), "actions"),
            external_id if external_id is not None else _text(data, "external_id"),
            _integer(data, "id"),
            _number(data, "priority", 0),
            _number(data, "stack_order"),
        )


def _rules(raw: Any) -> tuple[Rule, ...]:
    """A list of rules, or the normalised form's mapping external id → rule."""
    if not raw:
        return ()
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        pairs = ((key, rule) for key, rule in raw.items())
    elif isinstance(raw, list | tuple):
        pairs = ((None, rule) for rule in raw)
    else:
        raise PricingInputError(f"rules: expected a list, got {raw!r}")
    out = []
    for i, (key, rule) in enumerate(pairs):
        try:
            out.append(Rule.from_api(rule, None if key is None else str(key)))
        except PricingInputError as exc:
            named = key if key is not None else (_text(rule, "external_id") or i)
            raise _nested(f"rules[{named}].", exc) from None
    return tuple(out)


@dataclass(frozen=True, slots=True)
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
        try:
            active = data.get("active")
            return cls(
                app if app is not None else str(data.get("app") or ""),
                _selection(data.get("product_selection")),
                _rules(data.get("rules")),
                _text(data, "external_id"),
                id if id is not None else _integer(data, "id"),
                str(data.get("public_name") or ""),
                _number(data, "priority", 0),
                True if active is None else bool(active),
                parse_instant(data.get("start_date"), "start_date"),
                parse_instant(data.get("expiry_date"), "expiry_date"),
            )
        except PricingInputError as exc:
            name = data.get("external_id") or data.get("id") or ""
            raise _nested(f"ruleset {name} > ".replace("  ", " "), exc) from None

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
        try:
            conditions = (
                Condition(type="DISCOUNT_CODE", value=code),
                *_parts(Condition, data.get("conditions"), "conditions"),
            )
            raw_action = _mapping(data.get("action"), "action")
            try:
                action = Action.from_api(raw_action)
            except PricingInputError as exc:
                raise _nested("action.", exc) from None
            rule = Rule(
                type="DISCOUNT_CODE",
                conditions=conditions,
                actions=(action,),
                external_id="discount-code",
            )
            return cls(
                app=app,
                product_selection=_selection(data.get("product_selection")),
                rules=(rule,),
                external_id=f"discount-code-{code}",
                id=id if id is not None else _integer(data, "ruleset_id"),
                public_name=code,
                start_date=parse_instant(data.get("start_date"), "start_date"),
                expiry_date=parse_instant(data.get("expiry_date"), "expiry_date"),
            )
        except PricingInputError as exc:
            raise _nested(f"discount code {code} > ", exc) from None


def _selection(data: Any) -> ProductSelection:
    try:
        return ProductSelection.from_api(data)
    except PricingInputError as exc:
        raise _nested("product_selection.", exc) from None


@dataclass(frozen=True, slots=True)
class OrderCondition:
    """A shop's order condition (contract §5.4): (name, value) holds when the shipping address
    matches every field of at least one field set."""

    name: str
    value: str
    field_sets: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        data = _mapping(data, "order_condition")
        sets = []
        for i, fs in enumerate(data.get("field_sets") or []):
            try:
                fs = _mapping(fs, f"field_sets[{i}]")
            except PricingInputError as exc:
                raise _nested(
                    f"order condition {data.get('name')}={data.get('value')} > ", exc
                ) from None
            sets.append({str(k): str(v) for k, v in fs.items() if k != "id" and v is not None})
        return cls(
            name=str(data.get("name") or ""),
            value=str(data.get("value") or ""),
            field_sets=tuple(sets),
        )


# --- carts --------------------------------------------------------------------------------------


#: The shipping fields an order condition's field set may test (contract §5.4).
SHIPPING_FIELDS = ("country", "country_code", "province", "province_code", "postal_code")


@dataclass(frozen=True, slots=True)
class Shipping:
    """The customer's shipping address, in the fields order conditions test."""

    country: str | None = None
    country_code: str | None = None
    province: str | None = None
    province_code: str | None = None
    postal_code: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Self:
        data = _mapping(data, "shipping")
        return cls(**{name: _text(data, name) for name in SHIPPING_FIELDS})

    def field(self, name: str) -> str | None:
        """The value of an order-condition field name (``customer.shipping.country_code``)."""
        prefix = "customer.shipping."
        if not name.startswith(prefix) or name[len(prefix) :] not in SHIPPING_FIELDS:
            return None
        value: str | None = getattr(self, name[len(prefix) :])
        return value


@dataclass(frozen=True, slots=True)
class Customer:
    """Who buys: tags (customer groups), province, shipping address."""

    tags: frozenset[str] = frozenset()
    province: str | None = None
    shipping: Shipping = field(default_factory=Shipping)

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Self:
        data = _mapping(data, "customer")
        try:
            shipping = Shipping.from_api(data.get("shipping"))
        except PricingInputError as exc:
            raise _nested("shipping.", exc) from None
        return cls(
            tags=frozenset(_strings(data.get("tags"), "tags")),
            province=_text(data, "province"),
            shipping=shipping,
        )


@dataclass(frozen=True, slots=True)
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
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        data = _mapping(data, "item")
        price = _integer(data, "price")
        if price is None or price < 0:
            raise PricingInputError(f"price: expected cents ≥ 0, got {price!r}")
        quantity = _integer(data, "quantity", 1)
        if quantity < 1:
            raise PricingInputError(f"quantity: expected ≥ 1, got {quantity!r}")
        properties = _mapping(data.get("properties"), "properties")
        return cls(
            price=price,
            quantity=quantity,
            sku=_text(data, "sku"),
            product_id=_text(data, "product_id"),
            variant_id=_text(data, "variant_id"),
            collection_ids=frozenset(_strings(data.get("collection_ids"), "collection_ids")),
            vendor=_text(data, "vendor"),
            title=_text(data, "title"),
            product_type=_text(data, "product_type"),
            properties={str(k): str(v) for k, v in properties.items() if v is not None},
        )


@dataclass(frozen=True, slots=True)
class Cart:
    """Lines, a customer, an optional discount code and an optional instant to price at."""

    items: tuple[LineItem, ...]
    customer: Customer = field(default_factory=Customer)
    discount_code: str | None = None
    at: dt.datetime | None = None
    name: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """A cart ``{name?, at?, customer?, discount_code?, items}``; errors name the cart."""
        data = _mapping(data, "cart")
        name = _text(data, "name")
        where = f"cart {name} > " if name else "cart > "
        try:
            customer = Customer.from_api(data.get("customer"))
        except PricingInputError as exc:
            raise _nested(f"{where}customer.", exc) from None
        items = []
        for i, item in enumerate(data.get("items") or []):
            try:
                items.append(LineItem.from_api(item))
            except PricingInputError as exc:
                raise _nested(f"{where}items[{i}].", exc) from None
        try:
            at = parse_instant(data.get("at"), "at")
        except PricingInputError as exc:
            raise _nested(where, exc) from None
        return cls(
            items=tuple(items),
            customer=customer,
            discount_code=_text(data, "discount_code") or None,
            at=at,
            name=name,
        )
