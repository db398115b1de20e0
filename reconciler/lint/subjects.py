"""What lint reads: each declared object with where it is written (``Subject``), and the project
as the price evaluator sees it (``Shop``): our rulesets and discount codes as
``pricing.Ruleset``, the order conditions, the instant taken as "now".

A subject's ``at(path)`` gives the ``file:line:col`` of one field, so a finding points at the
field to fix (a rule's ``stack_order``), not only at the object. The prices a rule gives at a
few sample prices (``prices``) come from the evaluator's own action functions.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler import instants, model, pricing, sources
from reconciler.pricing import actions

#: The app every ruleset of the project belongs to (all of a project's rulesets share its token's
#: app); discount codes belong to ``pricing.DISCOUNT_CODE_APP``.
PROJECT_APP = "this project"

#: Unit prices (cents) at which rules are compared when a check needs "how deep": 10, 50, 100
#: and 500 in the shop's currency.
SAMPLE_PRICES = (1000, 5000, 10000, 50000)
#: The sample price quoted in messages.
QUOTED = 10000

_UNIT = actions.Unit(0, 1, "variant", "product")


class Declared(Protocol):
    """What ``manifest.Declared`` gives (duck-typed: lint sits below the manifest layer)."""

    @property
    def key(self) -> model.Key: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def origin(self) -> model.Origin: ...
    @property
    def locate(self) -> Callable[[tuple[sources.PathPart, ...]], tuple[int, int]] | None: ...


@dataclass(frozen=True)
class Subject:
    """One declared object: its key, its data as written (API field names), where it is."""

    key: model.Key
    data: Mapping[str, Any]
    origin: model.Origin
    locate: Callable[[tuple[sources.PathPart, ...]], tuple[int, int]] | None = None

    @classmethod
    def of(cls, declared: Declared) -> Subject:
        return cls(declared.key, declared.data, declared.origin, declared.locate)

    @functools.cached_property
    def name(self) -> str:
        """``ruleset:spring-sale``: the key as ``--only`` globs and ``lint.ignore`` match it."""
        return str(self.key)

    @functools.cached_property
    def described(self) -> str:
        """``ruleset spring-sale``, for messages."""
        return self.key.describe()

    def at(self, *path: sources.PathPart) -> tuple[str, int, int]:
        """File, line and column of the field at ``path`` (its key), or of its nearest parent;
        the object's own origin when its positions are unknown."""
        if self.locate is None or not path:
            return (self.origin.file, self.origin.line, self.origin.column)
        line, column = self.locate(tuple(path))
        return (self.origin.file, line, column)


@dataclass(frozen=True)
class Priced:
    """A ruleset (or the ruleset behind a discount code) as the evaluator reads it."""

    subject: Subject
    ruleset: pricing.Ruleset
    #: When it prices, as POSIX seconds; (-inf, inf) when undated.
    window: tuple[float, float]
    is_code: bool = False


@dataclass
class Shop:
    """The project as lint checks it."""

    rulesets: list[Priced]
    codes: list[Priced]
    order_conditions: list[tuple[Subject, pricing.OrderCondition]]
    now: dt.datetime
    _prices: dict[pricing.Rule, tuple[int, ...]] = field(default_factory=dict)
    _by_id: dict[int, tuple[pricing.Rule, tuple[int, ...]]] = field(default_factory=dict)
    _compiled: dict[tuple[pricing.Action, ...], actions.Apply] = field(default_factory=dict)

    def prices(self, rule: pricing.Rule) -> tuple[int, ...]:
        """The unit price ``rule``'s actions give at each of ``SAMPLE_PRICES``."""
        # By identity: the rules of ``rulesets`` live as long as the shop, and hashing a rule
        # (every condition and action) costs more than pricing it.
        found = self._by_id.get(id(rule))
        if found is not None and found[0] is rule:
            return found[1]
        prices = self._prices.get(rule)
        if prices is None:
            apply = actions.compile_actions(rule, rule, self._compiled)
            prices = tuple(apply(p, _UNIT, {})[0] for p in SAMPLE_PRICES)
            self._prices[rule] = prices
        self._by_id[id(rule)] = (rule, prices)
        return prices


def _window(ruleset: pricing.Ruleset) -> tuple[float, float]:
    start = ruleset.start_date.timestamp() if ruleset.start_date else -math.inf
    end = ruleset.expiry_date.timestamp() if ruleset.expiry_date else math.inf
    return (start, end)


def shop(subjects: Iterable[Subject], now: dt.datetime) -> Shop:
    """Read every subject for the evaluator; one it cannot read is left to validate."""
    rulesets: list[Priced] = []
    codes: list[Priced] = []
    conditions: list[tuple[Subject, pricing.OrderCondition]] = []
    for subject in subjects:
        kind = subject.key.kind
        try:
            if kind is model.Kind.RULESET:
                rs = pricing.Ruleset.from_api(subject.data, app=PROJECT_APP)
                rulesets.append(Priced(subject, rs, _window(rs)))
            elif kind is model.Kind.DISCOUNT_CODE:
                rs = pricing.Ruleset.from_discount_code(subject.data, code=subject.key.ident[0])
                codes.append(Priced(subject, rs, _window(rs), is_code=True))
            else:
                conditions.append((subject, pricing.OrderCondition.from_api(subject.data)))
        except pricing.PricingInputError:
            continue
    return Shop(rulesets, codes, conditions, now)


def overlapping(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Do two windows [start, end) share an instant?"""
    return a[0] < b[1] and b[0] < a[1]


def day(instant: float | dt.datetime) -> str:
    """``2027-03-01`` (UTC)."""
    if isinstance(instant, float):
        instant = dt.datetime.fromtimestamp(instant, dt.UTC)
    return instants.day(instant)


def money(cents: int) -> str:
    """``1799`` → ``17.99``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def rule_name(priced: Priced, index: int) -> str:
    """``rule gold-half-off of ruleset spring-sale``."""
    rule = priced.ruleset.rules[index]
    eid = rule.external_id or f"#{index + 1}"
    return f"rule {eid} of {priced.subject.described}"


def first(items: Sequence[Any]) -> Any:
    return items[0] if items else None
