"""How calls address the API: the routes table (the contract's §6) and the version date.

This module owns two facts and their checks: which HTTP method and path template each API
operation uses, and what a valid ``Bold-API-Version-Date`` is. The project file's ``routes:``
section may replace a route's method and path by route name, so a user can correct an inferred
([I]) path without touching code; ``override_problems`` and ``version_problem`` say what is wrong
with an override or a version date, so that ``config.py`` reports them as located problems of the
project file (``validate``, exit 3) and ``client.py`` refuses the same values when built directly.
``client.py`` fills the ``{placeholders}`` (each value URL-quoted).

It sits below ``config`` and ``client`` and must import nothing of ``reconciler`` but ``errors``.

Placeholders: ``shop_identifier``, ``id``, ``external_id``, ``name``, ``value``.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Literal, cast, get_args

from reconciler import errors

_P = "/price_rules/rules/v2/shops/{shop_identifier}"
_S = "/price_rules/storefront/v2/shops/{shop_identifier}"

#: An HTTP method a route may use.
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
#: The methods an override may name.
METHODS: tuple[Method, ...] = get_args(Method)

#: Route name → (HTTP method, path template). Tags are the contract's: [C] confirmed, [I] inferred.
#: Only the routes boldrules calls (and the two it refuses to, so an override can name them);
#: the contract's other operations are left out until a command needs one.
ROUTES: Mapping[str, tuple[Method, str]] = MappingProxyType(
    {
        # shop and health
        "shop_info": ("GET", "/shops/v1/info"),  # [C]
        "ping": ("GET", "/price_rules/rules/v2/ping"),  # [I]
        # rulesets
        "list_rulesets": ("GET", f"{_P}/rulesets"),  # [C]
        "create_ruleset": ("POST", f"{_P}/rulesets"),  # [C]
        "get_ruleset_by_id": ("GET", f"{_P}/rulesets/{{id}}"),  # [C]
        "replace_ruleset_by_id": ("PUT", f"{_P}/rulesets/{{id}}"),  # [C]
        "patch_ruleset_by_id": ("PATCH", f"{_P}/rulesets/{{id}}"),  # [I]
        "delete_ruleset_by_id": ("DELETE", f"{_P}/rulesets/{{id}}"),  # [C]
        "get_ruleset": ("GET", f"{_P}/rulesets/external/{{external_id}}"),  # [I]
        "upsert_ruleset": ("PUT", f"{_P}/rulesets/external/{{external_id}}"),  # [I]
        "patch_ruleset": ("PATCH", f"{_P}/rulesets/external/{{external_id}}"),  # [I]
        "delete_ruleset": ("DELETE", f"{_P}/rulesets/external/{{external_id}}"),  # [I]
        "activate_all_rulesets": ("POST", f"{_P}/rulesets/activate"),  # [I] never called
        "deactivate_all_rulesets": ("POST", f"{_P}/rulesets/deactivate"),  # [I] never called
        # rules inside a ruleset
        "delete_rules_by_id": ("DELETE", f"{_P}/rulesets/{{id}}/rules"),  # [I]
        "delete_rules": ("DELETE", f"{_P}/rulesets/external/{{external_id}}/rules"),  # [I]
        "list_rules": ("GET", f"{_P}/rulesets/external/{{external_id}}/rules"),  # [I]
        # order conditions
        "list_order_conditions": ("GET", f"{_P}/order_conditions"),  # [I]
        "create_order_condition": ("POST", f"{_P}/order_conditions"),  # [I]
        "get_order_condition": ("GET", f"{_P}/order_conditions/{{name}}/{{value}}"),  # [I]
        "replace_order_condition": ("PUT", f"{_P}/order_conditions/{{name}}/{{value}}"),  # [I]
        "delete_order_condition": ("DELETE", f"{_P}/order_conditions/{{name}}/{{value}}"),  # [I]
        "add_field_sets": ("POST", f"{_P}/order_conditions/field_sets"),  # [I]
        "delete_field_sets": ("DELETE", f"{_P}/order_conditions/field_sets"),  # [I]
        # discount codes
        "list_discount_codes": ("GET", f"{_P}/discount_codes"),  # [I]
        "create_discount_codes": ("POST", f"{_P}/discount_codes"),  # [I]
        "get_discount_code": ("GET", f"{_P}/discount_codes/{{id}}"),  # [I]
        "update_discount_code": ("PUT", f"{_P}/discount_codes/{{id}}"),  # [I]
        "delete_discount_code": ("DELETE", f"{_P}/discount_codes/{{id}}"),  # [I]
        # storefront
        "storefront_price": ("POST", f"{_S}/price"),  # [C]
    }
)

_R, _W = "read_price_rulesets", "write_price_rulesets"
_OR, _OW = "read_price_order_conditions", "write_price_order_conditions"
_DR, _DW = "read_discount_codes", "write_discount_codes"

#: Route name → the scope a token needs for it (contract §2 and the scope column of §6), so a 403
#: can name what is missing. Routes absent here need none (shop info, ping, storefront calls).
SCOPES: Mapping[str, str] = MappingProxyType(
    {
        name: scope
        for names, scope in (
            (("list_rulesets", "get_ruleset_by_id", "get_ruleset", "list_rules"), _R),
            (
                (
                    "create_ruleset",
                    "replace_ruleset_by_id",
                    "patch_ruleset_by_id",
                    "delete_ruleset_by_id",
                    "upsert_ruleset",
                    "patch_ruleset",
                    "delete_ruleset",
                    "activate_all_rulesets",
                    "deactivate_all_rulesets",
                    "delete_rules_by_id",
                    "delete_rules",
                ),
                _W,
            ),
            (
                (
                    "list_order_conditions",
                    "get_order_condition",
                ),
                _OR,
            ),
            (
                (
                    "create_order_condition",
                    "replace_order_condition",
                    "delete_order_condition",
                    "add_field_sets",
                    "delete_field_sets",
                ),
                _OW,
            ),
            (("list_discount_codes", "get_discount_code"), _DR),
            (
                (
                    "create_discount_codes",
                    "update_discount_code",
                    "delete_discount_code",
                ),
                _DW,
            ),
        )
        for name in names
    }
)

#: Routes that reach every app's rulesets at once (contract §7.4): listed for completeness so an
#: override can name them, but the client refuses to send them.
NEVER_CALLED: frozenset[str] = frozenset({"activate_all_rulesets", "deactivate_all_rulesets"})


_VERSION_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a path template fills; ValueError for unbalanced braces."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def parse_override(name: str, text: str) -> tuple[Method, str] | str:
    """``(method, path)`` for one ``routes:`` entry, or what is wrong with it.

    An override is a path template (``/price_rules/.../{external_id}``) or a method and a path
    (``PATCH /price_rules/...``). It may use only the placeholders of the route it replaces.
    """
    method, template = ROUTES[name]
    parts = text.split()
    if len(parts) == 2:
        if parts[0].upper() not in METHODS:
            return f"{parts[0]!r} is not an HTTP method: use one of {', '.join(METHODS)}"
        method, path = cast(Method, parts[0].upper()), parts[1]
    elif len(parts) == 1:
        path = parts[0]
    else:
        return f"{text!r} is not a path template or 'METHOD /path'"
    if not path.startswith("/"):
        return f"{path!r} must start with '/'"
    try:
        fields = list(string.Formatter().parse(path))
    except ValueError:
        return f"{path!r} has unbalanced braces"
    allowed = placeholders(template)
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in allowed:
            fills = ", ".join(sorted(allowed)) or "none"
            return f"unknown placeholder {{{field}}} in {path!r} (route {name} can fill: {fills})"
        if spec or conversion:
            return f"placeholder {{{field}}} in {path!r} takes no format: write {{{field}}}"
    return method, path


def override_problems(overrides: Mapping[str, str]) -> Iterator[tuple[str, bool, str]]:
    """``(route name, about the name?, message)`` for every bad ``routes:`` override."""
    for name, text in overrides.items():
        if name not in ROUTES:
            near = difflib.get_close_matches(name, ROUTES, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            yield name, True, f"{name!r} is not a route of the API{hint}"
            continue
        parsed = parse_override(name, str(text))
        if isinstance(parsed, str):
            yield name, False, parsed


def resolve(overrides: Mapping[str, str] | None = None) -> dict[str, tuple[Method, str]]:
    """The routes table with ``overrides`` applied; ConfigError naming the first bad one."""
    overrides = overrides or {}
    for name, about_name, message in override_problems(overrides):
        where = "routes" if about_name else f"routes: {name}"
        raise errors.ConfigError(f"{where}: {message}")
    table = dict(ROUTES)
    for name, text in overrides.items():
        parsed = parse_override(name, str(text))
        assert not isinstance(parsed, str)  # override_problems found none
        table[name] = parsed
    return table


def version_problem(
    value: str, *, allow_future: bool = False, today: date | None = None
) -> str | None:
    """What is wrong with an ``api_version`` (a sentence starting with the value), or None.

    It must be a real ``YYYY-MM-DD`` date, not after today (UTC) unless ``allow_future``: Bold
    says never to send a future date to production (contract §1).
    """
    if not _VERSION_DATE.fullmatch(value):
        return f"{value!r} is not a date in the form YYYY-MM-DD (for example 2022-10-14)"
    try:
        pinned = date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a real calendar date"
    today = today or datetime.now(UTC).date()
    if pinned > today and not allow_future:
        return (
            f"{value} is in the future (today is {today.isoformat()} UTC); pin a released date, "
            "or set allow_future_api_version: true on the target if intended"
        )
    return None


def check_api_version(value: str, *, allow_future: bool = False, today: date | None = None) -> str:
    """Return ``value`` if it is a valid version date; ConfigError saying why not."""
    problem = version_problem(value, allow_future=allow_future, today=today)
    if problem is not None:
        raise errors.ConfigError(f"api_version {problem}")
    return value
