"""Rules compiled for pricing: each rule's layer (§3), conditions and actions made into fast
functions once, and what the competitive choice compares, decided up front.

``compile_ruleset`` turns a ruleset (at its position in an engine's list) into its compiled
rules by layer; ``why_never_prices`` says why the engine refuses a rule. ``engine`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.pricing import actions, conditions, inputs, results

#: Each rule type's layer (§3). Other types (condition names used as rule types) never price.
LAYERS: dict[str, int] = {
    "BASE_PRICE": 0,
    "DISCOUNTABLE_ADDITION": 1,
    "DISCOUNT": 2,
    "DISCOUNT_CODE": 2,
    "ADDITION": 3,
    "STACKABLE_DISCOUNT": 3,
    "ROUNDING": 3,
    "DISPLAY": 3,
    "SETTING": 3,
    "CART_LEVEL_DISCOUNT": 4,
}
#: Rule types the engine refuses when they carry a ``stack_order`` (§3).
NO_STACK_ORDER = frozenset({"DISCOUNT", "DISCOUNT_CODE"})


def why_never_prices(rule: inputs.Rule) -> str | None:
    """Why the engine refuses ``rule`` (§3), or None when it can price."""
    if rule.type not in LAYERS:
        return (
            f"rule type {rule.type} is not one the engine prices with "
            "(a condition name as a rule type never prices: use a DISCOUNT rule with the condition)"
        )
    # assumptions.ASSUME_ZERO_STACK_ORDER_IS_ABSENT: the API fills stack_order 0 on every rule.
    if rule.type in NO_STACK_ORDER and rule.stack_order not in (None, 0):
        return f"a {rule.type} rule must not carry stack_order (not a field of a Discount)"
    return None


@dataclass(slots=True)
class Compiled:
    """A rule ready to price: where it sits, its compiled conditions and actions, and everything
    the choice compares."""

    position: int  # its ruleset's position in the engine's list
    index: int  # its position in its ruleset
    layer: int
    priority: float
    stack_order: float
    app: str
    ruleset_priority: float
    tie: tuple[float, bool, int, int, int]
    tests: tuple[conditions.Test, ...]  # the conditions the evaluator judges
    assumed: tuple[inputs.Condition, ...]  # the checkout-only ones, met when the rest hold
    apply: actions.Apply
    ruleset: inputs.Ruleset
    rule: inputs.Rule
    discount_code: str | None
    ref: results.RuleRef | None = None  # built when first needed

    def source(self) -> results.RuleRef:
        if self.ref is None:
            ruleset, rule = self.ruleset, self.rule
            self.ref = results.RuleRef(
                app=ruleset.app,
                ruleset=ruleset.external_id,
                rule=rule.external_id,
                type=rule.type,
                public_name=ruleset.public_name,
                ruleset_id=ruleset.id,
                rule_id=rule.id,
            )
        return self.ref

    def holds(self, where: conditions.Situation) -> bool:
        """All the judged conditions hold (§4: AND; none at all always holds)."""
        position = self.position
        return all(test(where, position) for test in self.tests)


@dataclass(slots=True)
class CompiledRuleset:
    discounts: tuple[Compiled, ...]  # layer 2, in rule order: nearly every rule of a shop
    others: tuple[Compiled, ...]  # layers 0, 1 and 3, in rule order
    cart_rules: tuple[Compiled, ...]  # layer 4


def _code_of(rule: inputs.Rule) -> str | None:
    if rule.type != "DISCOUNT_CODE":
        return None
    for condition in rule.conditions:
        if condition.type == "DISCOUNT_CODE" and condition.value is not None:
            return str(condition.value)
    return None


@dataclass
class Shared:
    """Compiled conditions and actions shared by the rules that state the same ones."""

    tests: dict[tuple[inputs.Condition, type], conditions.Test | None] = field(default_factory=dict)
    applies: dict[tuple[inputs.Action, ...], actions.Apply] = field(default_factory=dict)


def compile_ruleset(position: int, ruleset: inputs.Ruleset, shared: Shared) -> CompiledRuleset:
    """``ruleset`` ready to price."""
    # assumptions.ASSUME_TIES_BY_PRIORITY_ID_ORDER: rulesets without an id after those with one.
    tie_head = (float(ruleset.priority), ruleset.id is None, ruleset.id or 0, position)
    line_rules: list[Compiled] = []
    cart_rules: list[Compiled] = []
    for index, rule in enumerate(ruleset.rules):
        if why_never_prices(rule) is not None:
            continue
        layer = LAYERS[rule.type]
        tests = []
        assumed = []
        for condition in rule.conditions:
            # keyed with the value's type too: True == 1 for dict keys, not for str()
            key = (condition, type(condition.value))
            try:
                test = shared.tests[key]
            except KeyError:  # the first rule stating this condition
                test = shared.tests[key] = conditions.compile_test(condition)
            if test is None:
                assumed.append(condition)
            else:
                tests.append(test)
        tie = (*tie_head, index)
        compiled = Compiled(
            position,
            index,
            layer,
            float(rule.priority),
            # assumptions.ASSUME_MISSING_STACK_ORDER_IS_ZERO
            float(rule.stack_order or 0),
            ruleset.app,
            float(ruleset.priority),
            tie,
            tuple(tests),
            tuple(assumed),
            actions.compile_actions(rule, tie, shared.applies),
            ruleset,
            rule,
            _code_of(rule),
        )
        (cart_rules if layer == 4 else line_rules).append(compiled)
    return CompiledRuleset(
        tuple(r for r in line_rules if r.layer == 2),
        tuple(r for r in line_rules if r.layer != 2),
        tuple(cart_rules),
    )
