"""Every assumption the evaluator makes where pricing-engine.md marks a fact [I] or unknown (§8).

One place for each: the code that relies on an assumption reads the constant named here, so a
reader (and docs/pricing.md) can list them, and a shop whose storefront answers differently
(``boldrules price --live --check``) points at the one line to revisit. Each constant's comment
gives the spec section and what the evaluator does.
"""

from __future__ import annotations

from typing import Final

# --- §2 candidates ----------------------------------------------------------------------------

#: [I] §2.1: a ruleset is live from ``start_date`` inclusive ...
ASSUME_START_INCLUSIVE: Final = True
#: [I] §2.1: ... to ``expiry_date`` exclusive (at the very instant of expiry it no longer prices).
ASSUME_EXPIRY_EXCLUSIVE: Final = True
#: [I] §2.2: ``collection_ids``, ``vendors``, ``titles`` and ``product_types`` entries match a
#: line when equal (as strings, case-sensitive) to the line's catalogue fact.
ASSUME_SEARCH_FILTERS_EXACT: Final = True
#: [I] §2.2: a product selection type the spec does not list matches no line.
ASSUME_UNKNOWN_SELECTION_MATCHES_NOTHING: Final = True
#: [I] §2.3: "already applied" is judged when a layer starts: a ruleset applied in an earlier
#: layer is no candidate in later ones, while several rules of one ruleset in one stacked layer
#: all stack.
ASSUME_APPLIED_CHECKED_PER_LAYER: Final = True

# --- §3 layers --------------------------------------------------------------------------------

#: [I] §3 ties, §8: among equal prices the competitive choice keeps the first by (ruleset
#: priority, ruleset id, rule order); rulesets without a server id (planned, not yet created)
#: come after those with one, in the order given.
ASSUME_TIES_BY_PRIORITY_ID_ORDER: Final = True
#: [I] §8: a missing ``stack_order`` sorts as 0; equal ones keep list order (ruleset order as
#: given, then rule order).
ASSUME_MISSING_STACK_ORDER_IS_ZERO: Final = True
#: [I] §3: the API (and boldrules' normalised form) fills ``stack_order: 0`` on every rule, so a
#: ``DISCOUNT``/``DISCOUNT_CODE`` rule counts as "carrying" a stack_order (and is refused by the
#: engine) only when it is non-zero.
ASSUME_ZERO_STACK_ORDER_IS_ABSENT: Final = True
#: [I] §3 stacked layers: a rule that would take the running price below 0 is skipped, as a
#: competitive candidate below 0 is dropped.
ASSUME_STACKED_BELOW_ZERO_SKIPPED: Final = True
#: [I] §3 layer 4: a ``CART_LEVEL_DISCOUNT`` rule is considered once per cart, when its ruleset
#: is a candidate for at least one line and its conditions hold for one such line; on a
#: single-product price call (no cart) layer 4 does not run.
ASSUME_CART_LEVEL_ONCE_PER_CART: Final = True

# --- §4 conditions ----------------------------------------------------------------------------

#: [I] §4: tests of membership (``CUSTOMER_GROUP``, ``CUSTOMER_IN_ANY_GROUP_FROM_LIST``,
#: ``DISCOUNT_CODE``) honour ``=`` and ``!=`` (its negation); any other operator does not hold.
ASSUME_MEMBERSHIP_OPERATORS_EQ_NE: Final = True
#: [I] §4: values that are not both numbers compare as strings for ``=``/``!=``; an ordering
#: operator between non-numbers, or an unknown operator, does not hold.
ASSUME_NON_NUMERIC_ORDERING_FALSE: Final = True
#: [I] §4: customer tags are compared exactly (case-sensitive).
ASSUME_TAGS_CASE_SENSITIVE: Final = True
#: [I] §4: a condition on something the cart does not state (a line property, a province, an
#: order condition name) does not hold, whatever the operator.
ASSUME_ABSENT_FACT_FAILS: Final = True
#: [I] §4 ``ORDER_CONDITION``: each field of a field set equals the shipping field exactly (as
#: strings); a field set with no fields matches nobody; when several values of one name match,
#: the first in the order given wins the name (as Bold's eligible-conditions call answers one
#: value per name).
ASSUME_ORDER_CONDITION_FIRST_MATCH: Final = True
#: [I] §4: a condition type the spec's table does not list (``REF_URL``, ``SUBSCRIPTION_*``,
#: ``BUY_X_GET_Y``...) does not hold: the evaluator cannot judge it, and a rule it cannot judge
#: is safer left out than assumed.
ASSUME_UNKNOWN_CONDITION_FAILS: Final = True
#: [I] §4 ``QTY_BY_VARIANT``/``QTY_BY_PRODUCT`` and §5 limit scopes: a line without a variant id
#: counts as its own variant by sku; a line without a product id as its own product.
ASSUME_MISSING_IDS_FALL_BACK: Final = True
#: [I] §4 ``QTY_BY_MIX_AND_MATCH``: ``label`` does not change the count (the lines matching the
#: condition's own ruleset's selection).
ASSUME_MIX_AND_MATCH_LABEL_UNUSED: Final = True

# --- §5 actions -------------------------------------------------------------------------------

#: [I] §8: an action that would leave a fraction of a cent (a non-integer value) is rounded with
#: JavaScript's ``Math.round`` right after it.
ASSUME_FRACTIONS_ROUNDED_PER_ACTION: Final = True
#: [I] §5: an action type the spec does not list changes nothing.
ASSUME_UNKNOWN_ACTION_NO_EFFECT: Final = True
#: [I] §5 limits: the units are counted per rule and action across the cart, in line order; only
#: a rule that is applied (wins its layer, or stacks) uses them up.
ASSUME_LIMITS_PER_RULE_ACTION: Final = True
#: [I] §5 ``CASE_PRICING``: a missing or non-positive ``case_size`` changes nothing.
ASSUME_CASE_SIZE_POSITIVE: Final = True
#: [I] §5: a discount code's ``limits`` (uses per shop or customer) and ``restrict_by_emails``
#: are checkout's business: the preview assumes the code is usable.
ASSUME_DISCOUNT_CODE_USABLE: Final = True

# --- §8 what else is unknown ------------------------------------------------------------------

#: [I] §8: prices are in the shop's currency and stay there: the evaluator converts nothing (the
#: storefront floors ``price × rate`` for other currencies, after pricing).
ASSUME_NO_CURRENCY_CONVERSION: Final = True
#: [I] §1, §8: Bold's server engine prices as its storefront script does, and the catalogue facts
#: a search selection tests (collections, vendor, title, type) are the cart line's, as given.
ASSUME_SERVER_IS_STOREFRONT_ENGINE: Final = True
