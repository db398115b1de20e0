"""The evaluator's inputs about who buys what: carts, their lines, the customer and their
shipping address, as plain frozen dataclasses with constructors from plain dicts (as ``inputs``
does for rulesets; errors name the cart, the line and the field). No I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from reconciler.pricing.reading import (
    PricingInputError,
    integer,
    mapping,
    nested,
    parse_instant,
    strings,
    text,
)

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
        data = mapping(data, "shipping")
        return cls(**{name: text(data, name) for name in SHIPPING_FIELDS})

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
        data = mapping(data, "customer")
        try:
            shipping = Shipping.from_api(data.get("shipping"))
        except PricingInputError as exc:
            raise nested("shipping.", exc) from None
        return cls(
            tags=frozenset(strings(data.get("tags"), "tags")),
            province=text(data, "province"),
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
        data = mapping(data, "item")
        price = integer(data, "price")
        if price is None or price < 0:
            raise PricingInputError(f"price: expected cents ≥ 0, got {price!r}")
        quantity = integer(data, "quantity", 1)
        if quantity < 1:
            raise PricingInputError(f"quantity: expected ≥ 1, got {quantity!r}")
        properties = mapping(data.get("properties"), "properties")
        return cls(
            price=price,
            quantity=quantity,
            sku=text(data, "sku"),
            product_id=text(data, "product_id"),
            variant_id=text(data, "variant_id"),
            collection_ids=frozenset(strings(data.get("collection_ids"), "collection_ids")),
            vendor=text(data, "vendor"),
            title=text(data, "title"),
            product_type=text(data, "product_type"),
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
        data = mapping(data, "cart")
        name = text(data, "name")
        where = f"cart {name} > " if name else "cart > "
        try:
            customer = Customer.from_api(data.get("customer"))
        except PricingInputError as exc:
            raise nested(f"{where}customer.", exc) from None
        items = []
        for i, item in enumerate(data.get("items") or []):
            try:
                items.append(LineItem.from_api(item))
            except PricingInputError as exc:
                raise nested(f"{where}items[{i}].", exc) from None
        try:
            at = parse_instant(data.get("at"), "at")
        except PricingInputError as exc:
            raise nested(where, exc) from None
        return cls(
            items=tuple(items),
            customer=customer,
            discount_code=text(data, "discount_code") or None,
            at=at,
            name=name,
        )
