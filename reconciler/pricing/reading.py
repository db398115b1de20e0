"""Reading plain dicts: the small parsers every ``from_api`` of the pricing package shares.

Each names the field it could not read; a caller re-says the error from the whole object with
``nested`` (``ruleset spring > rules[gold].actions[0].value: …``), so paths are built only when
something is wrong and reading 10,000 good rulesets stays cheap. No I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any


class PricingInputError(ValueError):
    """An input the evaluator cannot read; the message names the object and field."""


def nested(prefix: str, error: PricingInputError) -> PricingInputError:
    """``error`` (about a field of a part) re-said from the whole: ``rules[gold].`` + its text.

    Paths are built only when something is wrong, so reading 10,000 good rulesets stays cheap.
    """
    return PricingInputError(f"{prefix}{error}")


def number(data: Mapping[str, Any], name: str, default: float | None = None) -> Any:
    """``data[name]`` as a number (numeric strings too), or ``default`` when absent."""
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


def integer(data: Mapping[str, Any], name: str, default: int | None = None) -> Any:
    """``data[name]`` as a whole number (cents, counts, ids), or ``default`` when absent."""
    value = number(data, name, default)
    if type(value) is float:
        if not value.is_integer():
            raise PricingInputError(f"{name}: expected whole cents, got {value!r}")
        return int(value)
    return value


def text(data: Mapping[str, Any], name: str) -> str | None:
    """``data[name]`` as a string (ids are strings, §2), or None when absent."""
    value = data.get(name)
    return None if value is None else str(value)


def strings(value: Any, name: str) -> tuple[str, ...]:
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


def mapping(value: Any, name: str) -> Mapping[str, Any]:
    """``value`` as an object; None reads as an empty one."""
    if type(value) is dict:  # the common case, without an abstract-class check
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PricingInputError(f"{name}: expected an object, got {value!r}")
    return value
