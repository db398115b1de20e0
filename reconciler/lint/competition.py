"""Rules that compete and lose for good: ``priority-shadow`` (layers with the rule-priority
filter), ``never-wins`` and ``overlap`` (the competitive layer 2 inside one app).

No pairwise scan of all rulesets: rules are filed by what their product selection names (the
evaluator's ``selection_keys``; "all products" apart, meeting every other), each list sorted by
priority; a rule is compared only with the rules sharing one of its keys whose priority is lower
(or equal), found by bisection, at most ``SCAN_LIMIT`` a list; customer groups, conditions and
windows are checked on those few. The layer table, which layers filter by rule priority and
which compete come from the evaluator (``pricing.LAYERS``, ``engine.NO_PRIORITY_FILTER``,
``engine.COMPETITIVE``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from reconciler import pricing
from reconciler.lint import findings
from reconciler.lint.subjects import QUOTED, SAMPLE_PRICES, Priced, Shop, money, overlapping
from reconciler.pricing import engine, selection

#: The most earlier rules one rule is compared with in one bucket: keeps a bucket of thousands of
#: rulesets that all name the same product linear (the first few shadowing rules are enough).
SCAN_LIMIT = 64

_ALL = ("*", "")


@dataclass(frozen=True)
class _Entry:
    priced: Priced
    index: int
    rule: pricing.Rule
    audience: frozenset[str] | None  # customer groups, any of which admits; None: everyone
    rest: frozenset[pricing.Condition]  # its conditions but the one ``audience`` reads
    conditions: frozenset[pricing.Condition]  # all of them
    orders: tuple[tuple[str, str], ...]  # ORDER_CONDITION name = value it requires
    codes: frozenset[str]  # DISCOUNT_CODE values it requires
    order: int  # declaration order among the entries
    name: str  # its ruleset's key as kind:name
    prices: tuple[int, ...]  # its price at each of SAMPLE_PRICES

    @property
    def rule_id(self) -> str:
        return self.rule.external_id or f"#{self.index + 1}"


def _keys(ps: pricing.ProductSelection) -> list[tuple[str, str]]:
    if ps.type in selection.SEARCH_TYPES:
        return sorted(set(selection.selection_keys(ps)))
    if ps.type in selection.ALL_TYPES or ps.type in selection.EXCEPT_TYPES:
        return [_ALL]
    return []  # matches nothing (assumptions.ASSUME_UNKNOWN_SELECTION_MATCHES_NOTHING)


def _audience(rule: pricing.Rule) -> tuple[frozenset[str] | None, frozenset[pricing.Condition]]:
    """The customer groups one of ``rule``'s conditions admits (None: everyone), and the rule's
    other conditions."""
    for c in rule.conditions:
        if c.operator != "=":
            continue
        if c.type == "CUSTOMER_GROUP" and c.value is not None and str(c.value) != "default":
            return frozenset({str(c.value)}), frozenset(d for d in rule.conditions if d is not c)
        if c.type == "CUSTOMER_IN_ANY_GROUP_FROM_LIST" and c.list:
            return frozenset(c.list), frozenset(d for d in rule.conditions if d is not c)
    return None, frozenset(rule.conditions)


def _entry(shop: Shop, priced: Priced, index: int, rule: pricing.Rule, order: int) -> _Entry:
    orders = tuple(
        (c.name, str(c.value))
        for c in rule.conditions
        if c.type == "ORDER_CONDITION" and c.operator == "=" and c.name and c.value is not None
    )
    codes = frozenset(
        str(c.value).lower()
        for c in rule.conditions
        if c.type == "DISCOUNT_CODE" and c.operator == "=" and c.value is not None
    )
    name = priced.subject.name
    audience, rest = _audience(rule)
    return _Entry(
        priced,
        index,
        rule,
        audience,
        rest,
        frozenset(rule.conditions),
        orders,
        codes,
        order,
        name,
        shop.prices(rule),
    )


def _compatible(a: _Entry, b: _Entry) -> bool:
    """Can one customer's line meet both rules' conditions (as far as lint can tell)?"""
    if a.audience is not None and b.audience is not None and not (a.audience & b.audience):
        return False
    if a.codes and b.codes and not (a.codes & b.codes):
        return False
    wanted = dict(a.orders)
    return all(wanted.get(name, value) == value for name, value in b.orders)


def _shared(a: _Entry, b: _Entry) -> frozenset[str] | None:
    """The customers two compatible entries both admit (None: everyone)."""
    if a.audience is None:
        return b.audience
    if b.audience is None:
        return a.audience
    return a.audience & b.audience


def _where(key: tuple[str, str]) -> str:
    return "every product" if key == _ALL else f"{key[0]} {key[1]}"


def _who(audience: frozenset[str] | None) -> str:
    if audience is None:
        return "every customer"
    return "customers in " + " or ".join(sorted(audience))


class _Index:
    """Entries filed by product key (the "all products" ones apart), each list sorted by a
    priority, so one entry's competitors with a lower (or the same) priority are found by
    bisection, never by a scan of every ruleset."""

    def __init__(self, entries: Sequence[_Entry], priority: Callable[[_Entry], float]) -> None:
        self.priority = priority
        self.by_key: dict[tuple[str, str], list[_Entry]] = {}
        self.everywhere: list[_Entry] = []
        self.keys: dict[int, list[tuple[str, str]]] = {}
        for e in entries:
            keys = _keys(e.priced.ruleset.product_selection)
            self.keys[id(e)] = keys
            if keys == [_ALL]:
                self.everywhere.append(e)
            else:
                for key in keys:
                    self.by_key.setdefault(key, []).append(e)
        self.specific = [e for e in entries if self.keys[id(e)] != [_ALL]]
        self._sorted: dict[int, tuple[list[_Entry], list[float]]] = {}

    def ordered(self, found: list[_Entry]) -> tuple[list[_Entry], list[float]]:
        """``found`` sorted by priority (then declaration), with the priorities, once."""
        cached = self._sorted.get(id(found))
        if cached is None:
            found.sort(key=lambda e: (self.priority(e), e.order))
            cached = (found, [self.priority(e) for e in found])
            self._sorted[id(found)] = cached
        return cached

    def rivals(self, entry: _Entry) -> Iterator[tuple[tuple[str, str], list[_Entry]]]:
        """(where, list) pairs holding every entry that may price a line ``entry`` prices."""
        keys = self.keys[id(entry)]
        if keys == [_ALL]:
            yield (_ALL, self.everywhere)
            yield (_ALL, self.specific)  # it meets each on that one's products
            return
        for key in keys:
            yield (key, self.by_key[key])
        if keys:  # a selection naming nothing meets nobody
            yield (keys[0], self.everywhere)

    def below(self, found: list[_Entry], limit: float) -> Iterator[_Entry]:
        """The entries of ``found`` with a priority under ``limit``, lowest first, at most
        ``SCAN_LIMIT``."""
        ordered, priorities = self.ordered(found)
        end = min(bisect.bisect_left(priorities, limit), SCAN_LIMIT)
        return iter(ordered[:end])

    def level(self, found: list[_Entry], value: float) -> Iterator[_Entry]:
        """The entries of ``found`` with priority ``value``, in declaration order, at most
        ``SCAN_LIMIT``."""
        ordered, priorities = self.ordered(found)
        start = bisect.bisect_left(priorities, value)
        end = min(bisect.bisect_right(priorities, value), start + SCAN_LIMIT)
        return iter(ordered[start:end])


def _where_of(index: _Index, key: tuple[str, str], other: _Entry) -> tuple[str, str]:
    """Where two entries meet: ``key``, or the other's first key when ``key`` is every product."""
    if key == _ALL:
        keys = index.keys[id(other)]
        return keys[0] if keys else _ALL
    return key


def _live(shop: Shop) -> Iterator[Priced]:
    now = shop.now.timestamp()
    for priced in shop.rulesets:
        if priced.ruleset.active and priced.window[1] > now:
            yield priced


def check(shop: Shop) -> Iterator[findings.Finding]:
    filtered: list[_Entry] = []
    competing: dict[int, list[_Entry]] = {}  # by layer: only a layer's own rules compete
    order = 0
    for priced in _live(shop):
        for i, rule in enumerate(priced.ruleset.rules):
            if pricing.why_never_prices(rule) is not None:
                continue
            layer = pricing.LAYERS[rule.type]
            entry = _entry(shop, priced, i, rule, order)
            order += 1
            if layer in engine.COMPETITIVE:
                competing.setdefault(layer, []).append(entry)
            if layer not in engine.NO_PRIORITY_FILTER:
                filtered.append(entry)  # layer 0 is in both
    yield from _shadows(filtered)
    for layer in sorted(competing):
        yield from _contests(shop, competing[layer])


def _shadows(entries: Sequence[_Entry]) -> Iterator[findings.Finding]:
    """Layers 0, 1 and 3: the lowest rule priority among a line's rules of a layer shuts out
    the others, before any condition is judged (pricing-engine.md §3)."""
    by_layer: dict[int, list[_Entry]] = {}
    for e in entries:
        by_layer.setdefault(pricing.LAYERS[e.rule.type], []).append(e)
    for layer, found in by_layer.items():
        index = _Index(found, lambda e: float(e.rule.priority))
        for shut in found:
            top = next(
                (
                    (key, top)
                    for key, rivals in index.rivals(shut)
                    for top in index.below(rivals, float(shut.rule.priority))
                    if top is not shut and overlapping(top.priced.window, shut.priced.window)
                ),
                None,
            )
            if top is not None:
                key, winner = top
                yield _shadow(_where_of(index, key, winner), layer, winner, shut)


def _shadow(key: tuple[str, str], layer: int, top: _Entry, shut: _Entry) -> findings.Finding:
    subject = shut.priced.subject
    same = top.priced is shut.priced
    by = f"rule {top.rule_id}" + ("" if same else f" of {top.priced.subject.described}")
    how = "even when its own conditions fail" if top.rule.conditions else "always"
    return findings.Finding(
        "priority-shadow",
        "warning",
        *subject.at("rules", shut.index, "priority"),
        (shut.name, *(() if same else (top.name,))),
        f"rule {shut.rule_id} of {subject.described} ({shut.rule.type}, priority "
        f"{shut.rule.priority:g}) never applies on {_where(key)}: {by} (priority "
        f"{top.rule.priority:g}) in the same layer {layer} shuts it out {how}, so customers "
        "never get its price there.",
    )


def _contests(shop: Shop, entries: Sequence[_Entry]) -> Iterator[findings.Finding]:
    """Layer 2 inside one app: the lowest ruleset priority wins whatever the price; equal
    priorities give the lowest price (pricing-engine.md §3, the competitive choice)."""
    index = _Index(entries, lambda e: float(e.priced.ruleset.priority))
    siblings: dict[int, list[_Entry]] = {}  # each ruleset's entries, by id(priced)
    for e in entries:
        siblings.setdefault(id(e.priced), []).append(e)
    overlapped: set[str] = set()
    for loser in entries:
        priority = float(loser.priced.ruleset.priority)
        found = next(
            (
                (key, winner, best, sample)
                for key, rivals in index.rivals(loser)
                for winner in index.below(rivals, priority)
                if _rivals(winner, loser)
                and winner.rest <= loser.conditions
                and (sample := _deeper(best := _sure(siblings, winner, loser), loser)) is not None
            ),
            None,
        )
        if found is not None:
            key, winner, best, sample = found
            yield _never_wins(_where_of(index, key, winner), winner, loser, best, sample)
        if loser.name in overlapped:
            continue
        same = next(
            (
                (key, other)
                for key, rivals in index.rivals(loser)
                for other in index.level(rivals, priority)
                if other.order < loser.order and _rivals(other, loser)
            ),
            None,
        )
        if same is not None:
            overlapped.add(loser.name)
            key, other = same
            yield _overlap(shop, _where_of(index, key, other), other, loser)


def _rivals(a: _Entry, b: _Entry) -> bool:
    return (
        a.priced is not b.priced
        and _compatible(a, b)
        and overlapping(a.priced.window, b.priced.window)
    )


def _sure(siblings: dict[int, list[_Entry]], winner: _Entry, loser: _Entry) -> tuple[int, ...]:
    """What ``winner``'s ruleset charges at each sample price wherever ``loser`` holds (for the
    customers both admit): the lowest price of its rules sure to hold there too (``winner`` is
    one), since the competitive choice keeps a ruleset's lowest candidate."""
    audience = _shared(winner, loser)
    sure = [
        e.prices
        for e in siblings[id(winner.priced)]
        if e.rest <= loser.conditions
        and (e.audience is None or (audience is not None and audience <= e.audience))
    ]
    return tuple(min(prices) for prices in zip(*sure, strict=True))


def _deeper(won: tuple[int, ...], loser: _Entry) -> int | None:
    """The sample price at which ``loser`` would give less than ``won`` while both discount,
    if any (the quoted one first)."""
    lost = loser.prices
    for i in _SAMPLE_ORDER:
        # Only where both discount: an absolute 1799 is no discount on a 10.00 item.
        if 0 <= lost[i] < won[i] <= SAMPLE_PRICES[i]:
            return i
    return None


_SAMPLE_ORDER = sorted(range(len(SAMPLE_PRICES)), key=lambda i: SAMPLE_PRICES[i] != QUOTED)


def _never_wins(
    key: tuple[str, str], winner: _Entry, loser: _Entry, won: tuple[int, ...], sample: int
) -> findings.Finding:
    subject = loser.priced.subject
    price = SAMPLE_PRICES[sample]
    audience = _shared(winner, loser)
    return findings.Finding(
        "never-wins",
        "warning",
        *subject.at("priority"),
        (loser.name, winner.name),
        f"{subject.described} (priority {loser.priced.ruleset.priority:g}) never "
        f"wins on {_where(key)} for {_who(audience)}: "
        f"{winner.priced.subject.described} has the lower priority number "
        f"{winner.priced.ruleset.priority:g}, so a {money(price)} item costs "
        f"{money(won[sample])} instead of the deeper "
        f"{money(loser.prices[sample])} of rule {loser.rule_id}.",
    )


def _overlap(shop: Shop, key: tuple[str, str], a: _Entry, b: _Entry) -> findings.Finding:
    at = SAMPLE_PRICES.index(QUOTED)
    pa, pb = a.prices[at], b.prices[at]
    best, other = (a, b) if pa <= pb else (b, a)
    subject = b.priced.subject
    audience = _shared(a, b)
    return findings.Finding(
        "overlap",
        "info",
        *subject.at("product_selection"),
        (b.name, a.name),
        f"{subject.described} and {a.priced.subject.described} (both priority "
        f"{b.priced.ruleset.priority:g}) compete on {_where(key)} for {_who(audience)}: only "
        f"the lowest price applies, {best.priced.subject.described}'s "
        f"({money(QUOTED)} → {money(min(pa, pb))}) over "
        f"{other.priced.subject.described}'s ({money(max(pa, pb))}).",
    )
