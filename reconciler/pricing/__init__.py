"""Bold's price evaluator, as pricing-engine.md §2-§5 specifies it: pure, no I/O.

Rulesets of every app, the shop's order conditions and a cart in; each line's unit price, line
total and why (the winning ruleset and rule, the stacked rules, the conditions assumed met, the
actions left to checkout), and the cart's total after cart-level discounts, out::

    engine = pricing.Engine([pricing.Ruleset.from_api(body, app="my-app") for body in live])
    priced = engine.price(pricing.Cart.from_api(cart), at=now)
    priced.lines[0].unit_price, priced.lines[0].winner, priced.total

The package does no I/O and imports nothing else of ``reconciler``: the sandbox prices with it
as Bold's server runs Bold's engine (the import contracts in pyproject.toml hold it there).
Every assumption where the spec is silent is a constant of ``pricing.assumptions``.

Modules: ``inputs`` (rulesets and order conditions) and ``carts`` (carts, lines, customers),
each with ``from_api`` constructors over ``reading``'s parsers; ``selection`` (product selections
and their index), ``conditions``, ``actions``, ``jsmath`` (JavaScript rounding), ``rules`` (rules
compiled for pricing), ``engine`` (candidates, layers, the competitive choice), ``results`` (what
it answers), ``assumptions`` (every [I] choice, named).
"""

from __future__ import annotations

from reconciler.pricing.carts import Cart, Customer, LineItem, Shipping
from reconciler.pricing.engine import Engine
from reconciler.pricing.inputs import (
    DISCOUNT_CODE_APP,
    Action,
    Condition,
    OrderCondition,
    ProductSelection,
    Rule,
    Ruleset,
    backed_codes,
)
from reconciler.pricing.jsmath import js_round
from reconciler.pricing.reading import PricingInputError
from reconciler.pricing.results import CartPrice, LinePrice, RuleRef, Step
from reconciler.pricing.rules import LAYERS, why_never_prices

__all__ = [
    "DISCOUNT_CODE_APP",
    "LAYERS",
    "Action",
    "Cart",
    "CartPrice",
    "Condition",
    "Customer",
    "Engine",
    "LineItem",
    "LinePrice",
    "OrderCondition",
    "PricingInputError",
    "ProductSelection",
    "Rule",
    "RuleRef",
    "Ruleset",
    "Shipping",
    "Step",
    "backed_codes",
    "js_round",
    "why_never_prices",
]
