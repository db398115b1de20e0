"""The routes table: every path of the contract's §6, as data.

This module owns one fact: which HTTP method and path template each API operation uses. It holds
no logic; ``client.py`` reads it, fills the ``{placeholders}`` (each value URL-quoted) and lets the
project file's ``routes:`` section replace a path template by route name, so a user can correct an
inferred ([I]) path without touching code. It must not import anything of ``reconciler``.

Placeholders: ``shop_identifier``, ``shop_domain``, ``id``, ``external_id``, ``rule_id``,
``rule_external_id``, ``name``, ``value``, ``field_name``, ``ruleset_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_P = "/price_rules/rules/v2/shops/{shop_identifier}"
_S = "/price_rules/storefront/v2/shops/{shop_identifier}"

#: Route name → (HTTP method, path template). Tags are the contract's: [C] confirmed, [I] inferred.
ROUTES: Mapping[str, tuple[str, str]] = MappingProxyType(
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
        "add_rules_by_id": ("POST", f"{_P}/rulesets/{{id}}/rules"),  # [I]
        "add_rules": ("POST", f"{_P}/rulesets/external/{{external_id}}/rules"),  # [I]
        "delete_rules_by_id": ("DELETE", f"{_P}/rulesets/{{id}}/rules"),  # [I]
        "delete_rules": ("DELETE", f"{_P}/rulesets/external/{{external_id}}/rules"),  # [I]
        "list_rules_by_id": ("GET", f"{_P}/rulesets/{{id}}/rules"),  # [I]
        "list_rules": ("GET", f"{_P}/rulesets/external/{{external_id}}/rules"),  # [I]
        "update_rule_by_id": ("PUT", f"{_P}/rulesets/{{id}}/rules/{{rule_id}}"),  # [I]
        "update_rule_by_id_external_rule": (
            "PUT",
            f"{_P}/rulesets/{{id}}/rules/external/{{rule_external_id}}",
        ),  # [I]
        "update_rule": ("PUT", f"{_P}/rulesets/external/{{external_id}}/rules/{{rule_id}}"),  # [I]
        "update_rule_external_rule": (
            "PUT",
            f"{_P}/rulesets/external/{{external_id}}/rules/external/{{rule_external_id}}",
        ),  # [I]
        "delete_rule_by_id": ("DELETE", f"{_P}/rulesets/{{id}}/rules/{{rule_id}}"),  # [I]
        "delete_rule": (
            "DELETE",
            f"{_P}/rulesets/external/{{external_id}}/rules/{{rule_id}}",
        ),  # [I]
        # order conditions
        "list_order_conditions": ("GET", f"{_P}/order_conditions"),  # [I]
        "create_order_condition": ("POST", f"{_P}/order_conditions"),  # [I]
        "get_order_condition": ("GET", f"{_P}/order_conditions/{{name}}/{{value}}"),  # [I]
        "replace_order_condition": ("PUT", f"{_P}/order_conditions/{{name}}/{{value}}"),  # [I]
        "delete_order_condition": ("DELETE", f"{_P}/order_conditions/{{name}}/{{value}}"),  # [I]
        "delete_order_condition_group": ("DELETE", f"{_P}/order_conditions/{{name}}"),  # [I]
        "delete_order_condition_field": (
            "DELETE",
            f"{_P}/order_conditions/{{name}}/fields/{{field_name}}",
        ),  # [I]
        "order_condition_fields": ("GET", f"{_P}/order_conditions/fields"),  # [I]
        "add_field_sets": ("POST", f"{_P}/order_conditions/field_sets"),  # [I]
        "delete_field_sets": ("DELETE", f"{_P}/order_conditions/field_sets"),  # [I]
        "list_matching_field_sets": (
            "GET",
            f"{_P}/order_conditions/{{name}}/{{value}}/field_sets",
        ),  # [I]
        "validate_order_condition_group": (
            "GET",
            f"{_P}/order_conditions/{{name}}/validate",
        ),  # [I]
        "eligible_order_conditions": (
            "POST",
            "/price_rules/storefront/v2/shops/{shop_domain}/order_condition",
        ),  # [C path shape]
        # discount codes
        "list_discount_codes": ("GET", f"{_P}/discount_codes"),  # [I]
        "create_discount_codes": ("POST", f"{_P}/discount_codes"),  # [I]
        "get_discount_code": ("GET", f"{_P}/discount_codes/{{id}}"),  # [I]
        "update_discount_code": ("PUT", f"{_P}/discount_codes/{{id}}"),  # [I]
        "delete_discount_code": ("DELETE", f"{_P}/discount_codes/{{id}}"),  # [I]
        "discount_code_by_ruleset": ("GET", f"{_P}/discount_codes/rulesets/{{ruleset_id}}"),  # [I]
        "activate_discount_code": ("POST", f"{_P}/discount_codes/{{id}}/activate"),  # [I]
        "deactivate_discount_code": ("POST", f"{_P}/discount_codes/{{id}}/deactivate"),  # [I]
        # storefront
        "storefront_price": ("POST", f"{_S}/price"),  # [C]
    }
)

#: Routes that reach every app's rulesets at once (contract §7.4): listed for completeness so an
#: override can name them, but the client refuses to send them.
NEVER_CALLED: frozenset[str] = frozenset({"activate_all_rulesets", "deactivate_all_rulesets"})
