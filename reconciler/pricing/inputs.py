"""The evaluator's inputs about the shop: rulesets (rules, conditions, actions, product
selections) and order conditions, as plain frozen dataclasses with constructors from plain dicts.

Every ``from_api`` takes a mapping in the API's (and the manifest's) field names, as live JSON,
a normalised manifest body or the sandbox's stored JSON has them, ignores fields it does not
read, and raises ``reading.PricingInputError`` naming the field when one it reads is unusable.
Ids become strings (pricing-engine.md §2: ids compare as strings); instants become aware UTC
datetimes. The cart side is ``carts``. No I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from reconciler.pricing.reading import (
    PricingInputError,
    integer,
    mapping,
    nested,
    number,
    parse_instant,
    strings,
    text,
)

#: The app that owns the rulesets backing discount codes (contract §5.5; the sandbox's name).
DISCOUNT_CODE_APP = "bold-discount-codes"

#: A condition's or action's value as the API carries it.
Scalar = str | int | float | bool | None


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
        data = mapping(data, "product_selection")
        lists = {
            name: frozenset(strings(value, name))
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
        data = mapping(data, "condition")
        value = data.get("value")
        if value is not None and not isinstance(value, str | int | float):
            raise PricingInputError(f"value: expected a scalar, got {value!r}")
        return cls(  # positional: 10,000 rulesets are read per plan side
            str(data.get("type") or ""),
            value,
            str(data.get("operator") or "="),
            text(data, "name"),
            text(data, "label"),
            strings(data.get("list"), "list"),
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
        data = mapping(data, "action")
        if len(data) <= 2 and "limit_scope" not in data:  # the common {type, value}
            return cls(str(data.get("type") or ""), number(data, "value"))
        return cls(
            type=str(data.get("type") or ""),
            value=number(data, "value"),
            limit=integer(data, "limit"),
            limit_scope=str(data.get("limit_scope") or "variant"),
            case_price=number(data, "case_price"),
            case_size=integer(data, "case_size"),
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
            raise nested(f"{name}[{i}].", exc) from None
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
        data = mapping(data, "rule")
        return cls(
            str(data.get("type") or ""),
            _parts(Condition, data.get("conditions"), "conditions"),
            _parts(Action, data.get("actions"), "actions"),
            external_id if external_id is not None else text(data, "external_id"),
            integer(data, "id"),
            number(data, "priority", 0),
            number(data, "stack_order"),
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
            named = key if key is not None else (text(rule, "external_id") or i)
            raise nested(f"rules[{named}].", exc) from None
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
        data = mapping(data, "ruleset")
        try:
            active = data.get("active")
            return cls(
                app if app is not None else str(data.get("app") or ""),
                _selection(data.get("product_selection")),
                _rules(data.get("rules")),
                text(data, "external_id"),
                id if id is not None else integer(data, "id"),
                str(data.get("public_name") or ""),
                number(data, "priority", 0),
                True if active is None else bool(active),
                parse_instant(data.get("start_date"), "start_date"),
                parse_instant(data.get("expiry_date"), "expiry_date"),
            )
        except PricingInputError as exc:
            name = data.get("external_id") or data.get("id") or ""
            raise nested(f"ruleset {name} > ".replace("  ", " "), exc) from None

    @classmethod
    def from_discount_code(
        cls,
        data: Mapping[str, Any],
        *,
        code: str | None = None,
        app: str = DISCOUNT_CODE_APP,
        id: int | None = None,
    ) -> Self:
        """The ruleset Bold stands a discount code on (contract §5.5): one ``DISCOUNT_CODE`` rule
        whose conditions are ``DISCOUNT_CODE = code`` and the code's own, its action the code's.

        ``data`` is one code as the API returns it (with ``code``), or a planned configuration
        (a normalised body, whose code is its identity, or a manifest entry, one call per name
        of its ``codes``) with ``code`` given.
        Its ``limits`` and ``restrict_by_emails`` are left to checkout
        (``assumptions.ASSUME_DISCOUNT_CODE_USABLE``).
        """
        data = mapping(data, "discount_code")
        code = code if code is not None else str(data.get("code") or "")
        try:
            conditions = (
                Condition(type="DISCOUNT_CODE", value=code),
                *_parts(Condition, data.get("conditions"), "conditions"),
            )
            raw_action = mapping(data.get("action"), "action")
            try:
                action = Action.from_api(raw_action)
            except PricingInputError as exc:
                raise nested("action.", exc) from None
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
                id=id if id is not None else integer(data, "ruleset_id"),
                public_name=code,
                start_date=parse_instant(data.get("start_date"), "start_date"),
                expiry_date=parse_instant(data.get("expiry_date"), "expiry_date"),
            )
        except PricingInputError as exc:
            raise nested(f"discount code {code} > ", exc) from None


def backed_codes(data: Mapping[str, Any]) -> frozenset[str] | None:
    """The codes (case-folded) a ruleset as the API lists it stands for, when it has the shape
    Bold gives a discount code's ruleset (contract §5.5, ``Ruleset.from_discount_code``): every
    rule a ``DISCOUNT_CODE`` rule naming its code in a ``DISCOUNT_CODE`` condition. None for
    any other ruleset. Reads what it needs only, never raises."""
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        return None
    found: set[str] = set()
    for rule in rules:
        if not isinstance(rule, Mapping) or rule.get("type") != "DISCOUNT_CODE":
            return None
        named = [
            str(c.get("value", "")).casefold()
            for c in rule.get("conditions") or []
            if isinstance(c, Mapping) and c.get("type") == "DISCOUNT_CODE"
        ]
        if not named:
            return None
        found.update(named)
    return frozenset(found)


def _selection(data: Any) -> ProductSelection:
    try:
        return ProductSelection.from_api(data)
    except PricingInputError as exc:
        raise nested("product_selection.", exc) from None


@dataclass(frozen=True, slots=True)
class OrderCondition:
    """A shop's order condition (contract §5.4): (name, value) holds when the shipping address
    matches every field of at least one field set."""

    name: str
    value: str
    field_sets: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        data = mapping(data, "order_condition")
        sets = []
        for i, fs in enumerate(data.get("field_sets") or []):
            try:
                fs = mapping(fs, f"field_sets[{i}]")
            except PricingInputError as exc:
                raise nested(
                    f"order condition {data.get('name')}={data.get('value')} > ", exc
                ) from None
            sets.append({str(k): str(v) for k, v in fs.items() if k != "id" and v is not None})
        return cls(
            name=str(data.get("name") or ""),
            value=str(data.get("value") or ""),
            field_sets=tuple(sets),
        )
