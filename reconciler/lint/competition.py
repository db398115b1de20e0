"""Rules that compete and lose for good: ``priority-shadow`` (layers with the rule-priority
filter), ``never-wins`` and ``overlap`` (the competitive layer 2 inside one app).

No pairwise scan of all rulesets: a ruleset sharing no product key and customer group with
another of its layer competes with nobody and is left out (``_contested``, counted per key and
group); the others' rules are filed by what their product selection names (the evaluator's
``selection_keys``; "all products" apart, meeting every other) and, in the competitive layers, by
customer group, each list sorted by priority; a rule is compared only with the rules sharing one
of its keys (and groups) whose priority is lower (or equal), found by bisection, at most
``SCAN_LIMIT`` a list; conditions and windows are checked on those few. The layer table, which
layers filter by rule priority and which compete come from the evaluator (``pricing.LAYERS``,
``engine.NO_PRIORITY_FILTER``, ``engine.COMPETITIVE``).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import pricing
from reconciler.lint import findings
from reconciler.lint.subjects import QUOTED, SAMPLE_PRICES, Priced, Shop, money, overlapping
from reconciler.pricing import engine, selection

#: The most earlier rules one rule is compared with in one bucket: keeps a bucket of thousands of
#: rulesets that all name the same product linear (the first few shadowing rules are enough).
SCAN_LIMIT = 64

_ALL = ("*", "")
_RULE_RANK = operator.attrgetter("rule_rank")
_SET_RANK = operator.attrgetter("set_rank")
#: The group of ``_Index.by_key`` holding every entry of a key, whatever its customers.
_ANYONE = "\0anyone"


@dataclass(slots=True, eq=False)
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
    rule_rank: tuple[float, int]  # (its rule priority, order): how the priority filter sorts
    set_rank: tuple[float, int]  # (its ruleset priority, order): how the competition sorts

    @property
    def rule_id(self) -> str:
        return self.rule.external_id or f"#{self.index + 1}"


@functools.lru_cache(maxsize=65536)
def _keys(ps: pricing.ProductSelection) -> list[tuple[str, str]]:
    """The product keys a selection is filed under (shared by equal selections: not to be
    changed)."""
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


def _entry(
    shop: Shop,
    priced: Priced,
    index: int,
    rule: pricing.Rule,
    order: int,
    read: tuple[frozenset[str] | None, frozenset[pricing.Condition]],
) -> _Entry:
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
    audience, rest = read
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
        (float(rule.priority), order),
        (float(priced.ruleset.priority), order),
    )


def _compatible(a: _Entry, b: _Entry) -> bool:
    """Can one customer's line meet both rules' conditions (as far as lint can tell)?"""
    if a.audience is not None and b.audience is not None and not (a.audience & b.audience):
        return False
    if a.codes and b.codes and not (a.codes & b.codes):
        return False
    if not a.orders or not b.orders:
        return True
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


class _Bucket:
    """Entries sorted by priority (then declaration), with their priorities beside."""

    __slots__ = ("entries", "only", "orders", "priorities")

    def __init__(self, entries: list[_Entry], rank: Callable[[_Entry], tuple[float, int]]) -> None:
        entries.sort(key=rank)
        self.entries = entries
        self.priorities = [rank(e)[0] for e in entries]
        self.orders = [e.order for e in entries]
        #: The one ruleset all the entries belong to (by id), if they all belong to one.
        rulesets = {id(e.priced) for e in entries}
        self.only = next(iter(rulesets)) if len(rulesets) == 1 else None

    def below(self, limit: float) -> list[_Entry]:
        """The entries with a priority under ``limit``, at most ``SCAN_LIMIT``."""
        return self.entries[: min(bisect.bisect_left(self.priorities, limit), SCAN_LIMIT)]

    def level(self, value: float, before: int) -> list[_Entry]:
        """The entries with priority ``value`` declared before entry number ``before``, at most
        ``SCAN_LIMIT``."""
        start = bisect.bisect_left(self.priorities, value)
        end = bisect.bisect_right(self.priorities, value, start)
        end = min(bisect.bisect_left(self.orders, before, start, end), start + SCAN_LIMIT)
        return self.entries[start:end]


class _Index:
    """Entries filed by product key (the "all products" ones apart) and, for the competitive
    layers, by customer group too, in buckets sorted by a priority: one entry's competitors with
    a lower (or the same) priority are found by bisection, never by a scan of every ruleset, and
    an entry for gold customers never looks at the rules for silver ones."""

    def __init__(
        self,
        entries: Sequence[_Entry],
        rank: Callable[[_Entry], tuple[float, int]],
        *,
        by_audience: bool = False,
    ) -> None:
        self.rank = rank
        self.by_audience = by_audience
        #: (key, group) → entries; group None holds every entry of the key when not
        #: ``by_audience``, else those for every customer, beside one list per group.
        filed: dict[tuple[tuple[str, str], str | None], list[_Entry]] = {}
        self.keys: dict[int, list[tuple[str, str]]] = {}  # by id(priced): a ruleset's keys
        specific: list[_Entry] = []
        for e in entries:
            keys = self.keys.get(id(e.priced))
            if keys is None:
                keys = self.keys[id(e.priced)] = _keys(e.priced.ruleset.product_selection)
            if keys != [_ALL]:
                specific.append(e)
            groups: Iterable[str | None] = (
                e.audience if by_audience and e.audience is not None else (None,)
            )
            for key in keys:
                for group in groups:
                    filed.setdefault((key, group), []).append(e)
                if by_audience:
                    filed.setdefault((key, _ANYONE), []).append(e)
        self.by_key = {where: _Bucket(found, rank) for where, found in filed.items()}
        self.specific = [_Bucket(specific, rank)]
        self._rivals: dict[
            tuple[int, frozenset[str] | None], list[tuple[tuple[str, str], list[_Bucket]]]
        ] = {}

    def _buckets(self, key: tuple[str, str], entry: _Entry) -> list[_Bucket]:
        """The buckets filed under ``key`` whose entries ``entry``'s customers may meet."""
        if not self.by_audience:
            found = self.by_key.get((key, None))
            return [found] if found is not None else []
        if entry.audience is None:
            found = self.by_key.get((key, _ANYONE))
            return [found] if found is not None else []
        groups = (*sorted(entry.audience), None)
        return [found for g in groups if (found := self.by_key.get((key, g))) is not None]

    def rivals(self, entry: _Entry) -> list[tuple[tuple[str, str], list[_Bucket]]]:
        """(where, buckets) pairs holding every entry of another ruleset that may price a line
        ``entry`` prices (the same for every rule of a ruleset with the same customers: worked
        out once; a bucket holding only ``entry``'s own ruleset is left out)."""
        memo = (id(entry.priced), entry.audience if self.by_audience else None)
        found = self._rivals.get(memo)
        if found is None:
            own = id(entry.priced)
            found = self._rivals[memo] = [
                (where, others)
                for where, buckets in self._find_rivals(entry)
                if (others := [b for b in buckets if b.only != own])
            ]
        return found

    def _find_rivals(self, entry: _Entry) -> Iterator[tuple[tuple[str, str], list[_Bucket]]]:
        keys = self.keys[id(entry.priced)]
        if keys == [_ALL]:
            yield (_ALL, self._buckets(_ALL, entry))
            yield (_ALL, self.specific)  # it meets each on that one's products
            return
        for key in keys:
            yield (key, self._buckets(key, entry))
        if keys:  # a selection naming nothing meets nobody
            yield (keys[0], self._buckets(_ALL, entry))

    def below(self, buckets: list[_Bucket], limit: float) -> Iterable[_Entry]:
        """The entries of ``buckets`` with a priority under ``limit``, lowest first, at most
        ``SCAN_LIMIT``."""
        return self._merged([b.below(limit) for b in buckets])

    def level(self, buckets: list[_Bucket], value: float, before: int) -> Iterable[_Entry]:
        """The entries of ``buckets`` with priority ``value`` declared before entry number
        ``before``, in declaration order, at most ``SCAN_LIMIT``."""
        return self._merged([b.level(value, before) for b in buckets])

    def _merged(self, parts: list[list[_Entry]]) -> Iterable[_Entry]:
        if len(parts) == 1:
            return parts[0]
        parts = [part for part in parts if part]
        if len(parts) <= 1:
            return parts[0] if parts else ()
        return sorted(itertools.chain.from_iterable(parts), key=self.rank)[:SCAN_LIMIT]


def _where_of(index: _Index, key: tuple[str, str], other: _Entry) -> tuple[str, str]:
    """Where two entries meet: ``key``, or the other's first key when ``key`` is every product."""
    if key == _ALL:
        keys = index.keys[id(other.priced)]
        return keys[0] if keys else _ALL
    return key


def _live(shop: Shop) -> Iterator[Priced]:
    now = shop.now.timestamp()
    for priced in shop.rulesets:
        if priced.ruleset.active and priced.window[1] > now:
            yield priced


def check(shop: Shop) -> Iterator[findings.Finding]:
    rules = [
        (priced, i, rule, pricing.LAYERS[rule.type], _audience(rule))
        for priced in _live(shop)
        for i, rule in enumerate(priced.ruleset.rules)
        if pricing.why_never_prices(rule) is None
    ]
    contested = _contested(rules)
    filtered: list[_Entry] = []
    competing: dict[int, list[_Entry]] = {}  # by layer: only a layer's own rules compete
    for order, (priced, i, rule, layer, read) in enumerate(rules):
        competes = layer in engine.COMPETITIVE and (id(priced), layer) in contested
        filters = layer not in engine.NO_PRIORITY_FILTER  # layer 0 does both
        if competes or filters:
            entry = _entry(shop, priced, i, rule, order, read)
            if competes:
                competing.setdefault(layer, []).append(entry)
            if filters:
                filtered.append(entry)
    yield from _shadows(filtered)
    for layer in sorted(competing):
        yield from _contests(shop, competing[layer])


def _contested(
    rules: Sequence[tuple[Priced, int, pricing.Rule, int, tuple[frozenset[str] | None, Any]]],
) -> set[tuple[int, int]]:
    """The (ruleset id, layer) pairs whose rules of a competitive layer may meet another
    ruleset's rules of that layer: sharing a product key (or either taking every product) and a
    customer group (or either admitting everyone). Counted per key and group, so linear; the
    other rulesets cannot compete there and are never filed in the index."""
    groups: dict[tuple[int, int], tuple[Priced, set[str | None]]] = {}
    for priced, _, _, layer, (admitted, _) in rules:
        if layer in engine.COMPETITIVE:
            kept = groups.setdefault((id(priced), layer), (priced, set()))[1]
            kept.update((None,) if admitted is None else admitted)
    # Rulesets per (layer, key) and per (layer, key, group); key None: the whole layer.
    totals: dict[tuple[int, tuple[str, str] | None], int] = {}
    counts: dict[tuple[int, tuple[str, str] | None, str | None], int] = {}
    keys: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for where, (priced, audience) in groups.items():
        layer = where[1]
        named = keys[where] = _keys(priced.ruleset.product_selection)
        for key in (*named, None):
            totals[(layer, key)] = totals.get((layer, key), 0) + 1
            for group in audience:
                counts[(layer, key, group)] = counts.get((layer, key, group), 0) + 1

    def meets(layer: int, key: tuple[str, str] | None, audience: set[str | None], own: int) -> bool:
        """Does a ruleset filed under (layer, key), other than the ``own`` one counted there
        (1, or 0), admit one of ``audience``'s customers?"""
        if None in audience:
            return totals.get((layer, key), 0) > own
        if counts.get((layer, key, None), 0) > 0:
            return True
        return any(counts.get((layer, key, group), 0) > own for group in audience)

    out = set()
    for where, (_, audience) in groups.items():
        layer, named = where[1], keys[where]
        if named == [_ALL]:
            hit = meets(layer, None, audience, 1)  # it meets every ruleset of the layer
        else:
            hit = any(meets(layer, key, audience, 1) for key in named) or (
                bool(named) and meets(layer, _ALL, audience, 0)
            )
        if hit:
            out.add(where)
    return out


def _shadows(entries: Sequence[_Entry]) -> Iterator[findings.Finding]:
    """Layers 0, 1 and 3: the lowest rule priority among a line's rules of a layer shuts out
    the others, before any condition is judged (pricing-engine.md §3)."""
    by_layer: dict[int, list[_Entry]] = {}
    for e in entries:
        by_layer.setdefault(pricing.LAYERS[e.rule.type], []).append(e)
    for layer, found in by_layer.items():
        index = _Index(found, _RULE_RANK)
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
    priorities give the lowest price (pricing-engine.md §3, the competitive choice). One
    finding of each id per ruleset, against the first rival found."""
    index = _Index(entries, _SET_RANK, by_audience=True)
    siblings: dict[int, list[_Entry]] = {}  # each ruleset's entries, by id(priced)
    for e in entries:
        siblings.setdefault(id(e.priced), []).append(e)
    losing: set[str] = set()
    overlapped: set[str] = set()
    for loser in entries:
        priority = float(loser.priced.ruleset.priority)
        rivals = index.rivals(loser)
        if loser.name not in losing:
            found = _winner(index, rivals, siblings, loser, priority)
            if found is not None:
                losing.add(loser.name)
                key, winner, won, sample = found
                yield _never_wins(_where_of(index, key, winner), winner, loser, won, sample)
        if loser.name in overlapped:
            continue
        same = _first_level(index, rivals, loser, priority)
        if same is not None:
            overlapped.add(loser.name)
            key, other = same
            yield _overlap(shop, _where_of(index, key, other), other, loser)


def _first_level(
    index: _Index,
    rivals: list[tuple[tuple[str, str], list[_Bucket]]],
    loser: _Entry,
    priority: float,
) -> tuple[tuple[str, str], _Entry] | None:
    """The first rule declared before ``loser``, of a ruleset of the same priority, that
    competes with it: (where, that rule)."""
    seen: set[int] = set()  # an entry filed under several of ``loser``'s keys is judged once
    for key, buckets in rivals:
        for other in index.level(buckets, priority, loser.order):
            if id(other) in seen:
                continue
            seen.add(id(other))
            if _rivals(other, loser):
                return key, other
    return None


def _winner(
    index: _Index,
    rivals: list[tuple[tuple[str, str], list[_Bucket]]],
    siblings: dict[int, list[_Entry]],
    loser: _Entry,
    priority: float,
) -> tuple[tuple[str, str], _Entry, tuple[int, ...], int] | None:
    """A rule of a lower-numbered ruleset that holds wherever ``loser`` holds (within the
    customers both admit), its ruleset's price there, and a sample price at which ``loser``
    would be deeper: (where, that rule, its ruleset's prices, the sample's index)."""
    tried: set[tuple[int, frozenset[str] | None]] = set()  # (ruleset, customers) priced
    seen: set[int] = set()  # an entry filed under several of ``loser``'s keys is judged once
    for key, buckets in rivals:
        for winner in index.below(buckets, priority):
            if id(winner) in seen:
                continue
            seen.add(id(winner))
            # Its ruleset's price is at most its own: deeper than that somewhere, or never.
            if (
                not any(map(operator.lt, loser.prices, winner.prices))
                or not winner.rest <= loser.conditions
                or not _rivals(winner, loser)
            ):
                continue
            audience = _shared(winner, loser)
            if (id(winner.priced), audience) in tried:
                continue
            tried.add((id(winner.priced), audience))
            won = _sure(siblings[id(winner.priced)], loser, audience)
            sample = _deeper(won, loser)
            if sample is not None:
                return key, winner, won, sample
    return None


def _rivals(a: _Entry, b: _Entry) -> bool:
    return (
        a.priced is not b.priced
        and _compatible(a, b)
        and overlapping(a.priced.window, b.priced.window)
    )


def _sure(ruleset: list[_Entry], loser: _Entry, audience: frozenset[str] | None) -> tuple[int, ...]:
    """What a ruleset (its entries) charges at each sample price wherever ``loser`` holds, for
    ``audience``: the lowest price of its rules sure to hold there too (the winning rule is
    one), since the competitive choice keeps a ruleset's lowest candidate."""
    sure = [
        e.prices
        for e in ruleset
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
