"""Rules that compete and lose for good: ``priority-shadow`` (layers with the rule-priority
filter), ``never-wins`` and ``overlap`` (the competitive layer 2 inside one app).

No pairwise scan of all rulesets: rules are filed by what their product selection names (the
evaluator's ``selection_keys``; "all products" in a bucket of its own that meets every other)
and, for layer 2, by customer group; only rules sharing a bucket are compared, and windows are
checked last. The layer table, which layers filter by rule priority and which compete, come from
the evaluator (``pricing.LAYERS``, ``engine.NO_PRIORITY_FILTER``, ``engine.COMPETITIVE``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    orders: tuple[tuple[str, str], ...]  # ORDER_CONDITION name = value it requires
    codes: frozenset[str]  # DISCOUNT_CODE values it requires

    @property
    def name(self) -> str:
        return self.priced.subject.name

    @property
    def rule_id(self) -> str:
        return self.rule.external_id or f"#{self.index + 1}"


def _keys(ps: pricing.ProductSelection) -> list[tuple[str, str]]:
    if ps.type in selection.SEARCH_TYPES:
        return sorted(set(selection.selection_keys(ps)))
    if ps.type in selection.ALL_TYPES or ps.type in selection.EXCEPT_TYPES:
        return [_ALL]
    return []  # matches nothing (assumptions.ASSUME_UNKNOWN_SELECTION_MATCHES_NOTHING)


def _audience(rule: pricing.Rule) -> frozenset[str] | None:
    for c in rule.conditions:
        if c.operator != "=":
            continue
        if c.type == "CUSTOMER_GROUP" and c.value is not None and str(c.value) != "default":
            return frozenset({str(c.value)})
        if c.type == "CUSTOMER_IN_ANY_GROUP_FROM_LIST" and c.list:
            return frozenset(c.list)
    return None


def _entry(priced: Priced, index: int, rule: pricing.Rule) -> _Entry:
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
    return _Entry(priced, index, rule, _audience(rule), orders, codes)


def _compatible(a: _Entry, b: _Entry) -> bool:
    """Can one customer's line meet both rules' conditions (as far as lint can tell)?"""
    if a.audience is not None and b.audience is not None and not (a.audience & b.audience):
        return False
    if a.codes and b.codes and not (a.codes & b.codes):
        return False
    wanted = dict(a.orders)
    return all(wanted.get(name, value) == value for name, value in b.orders)


def _where(key: tuple[str, str]) -> str:
    return "every product" if key == _ALL else f"{key[0]} {key[1]}"


def _who(audience: frozenset[str] | None) -> str:
    if audience is None:
        return "every customer"
    return "customers in " + " or ".join(sorted(audience))


def _buckets(entries: Sequence[_Entry]) -> dict[tuple[str, str], list[_Entry]]:
    """Entries by product key; the "all products" ones joined to every bucket."""
    by_key: dict[tuple[str, str], list[_Entry]] = {}
    everywhere: list[_Entry] = []
    for e in entries:
        keys = _keys(e.priced.ruleset.product_selection)
        if keys == [_ALL]:
            everywhere.append(e)
        for key in keys:
            by_key.setdefault(key, []).append(e)
    for key, found in by_key.items():
        if key != _ALL:
            found.extend(everywhere)
    return by_key


def _live(shop: Shop) -> Iterator[Priced]:
    now = shop.now.timestamp()
    for priced in shop.rulesets:
        if priced.ruleset.active and priced.window[1] > now:
            yield priced


def check(shop: Shop) -> Iterator[findings.Finding]:
    filtered: list[_Entry] = []
    competing: list[_Entry] = []
    for priced in _live(shop):
        for i, rule in enumerate(priced.ruleset.rules):
            if pricing.why_never_prices(rule) is not None:
                continue
            layer = pricing.LAYERS[rule.type]
            if layer in engine.COMPETITIVE and layer not in engine.NO_PRIORITY_FILTER:
                filtered.append(_entry(priced, i, rule))  # layer 0: both
                competing.append(_entry(priced, i, rule))
            elif layer in engine.COMPETITIVE:
                competing.append(_entry(priced, i, rule))
            elif layer not in engine.NO_PRIORITY_FILTER:
                filtered.append(_entry(priced, i, rule))
    yield from findings.unique(_shadows(filtered))
    yield from findings.unique(_contests(shop, competing))


def _shadows(entries: Sequence[_Entry]) -> Iterator[findings.Finding]:
    """Layers 0, 1 and 3: the lowest rule priority among a line's rules of a layer shuts out
    the others, before any condition is judged (pricing-engine.md §3)."""
    reported: set[tuple[str, int]] = set()
    for key, bucket in _buckets(entries).items():
        by_layer: dict[int, list[_Entry]] = {}
        for e in bucket:
            by_layer.setdefault(pricing.LAYERS[e.rule.type], []).append(e)
        for layer, found in by_layer.items():
            found.sort(key=lambda e: e.rule.priority)
            for n, shut in enumerate(found):
                if (shut.name, shut.index) in reported:
                    continue
                for top in found[: min(n, SCAN_LIMIT)]:
                    if top.rule.priority >= shut.rule.priority:
                        break
                    if not overlapping(top.priced.window, shut.priced.window):
                        continue
                    reported.add((shut.name, shut.index))
                    yield _shadow(key, layer, top, shut)
                    break


def _shadow(key: tuple[str, str], layer: int, top: _Entry, shut: _Entry) -> findings.Finding:
    subject = shut.priced.subject
    same = top.priced is shut.priced
    by = f"rule {top.rule_id}" + ("" if same else f" of {top.priced.subject.key.describe()}")
    how = "even when its own conditions fail" if top.rule.conditions else "always"
    return findings.Finding(
        "priority-shadow",
        "warning",
        *subject.at("rules", shut.index, "priority"),
        (shut.name, *(() if same else (top.name,))),
        f"rule {shut.rule_id} of {subject.key.describe()} ({shut.rule.type}, priority "
        f"{shut.rule.priority:g}) never applies on {_where(key)}: {by} (priority "
        f"{top.rule.priority:g}) in the same layer {layer} shuts it out {how}, so customers "
        "never get its price there.",
    )


def _contests(shop: Shop, entries: Sequence[_Entry]) -> Iterator[findings.Finding]:
    """Layer 2 inside one app: the lowest ruleset priority wins whatever the price; equal
    priorities give the lowest price (pricing-engine.md §3, the competitive choice)."""
    losers: set[tuple[str, int]] = set()
    pairs: set[str] = set()
    for key, bucket in _buckets(entries).items():
        groups: dict[str, list[_Entry]] = {}
        anyone: list[_Entry] = []
        for e in bucket:
            if e.audience is None:
                anyone.append(e)
            else:
                for tag in e.audience:
                    groups.setdefault(tag, []).append(e)
        cells = [anyone] + [[*members, *anyone] for members in groups.values()]
        for cell in cells:
            if len(cell) < 2:
                continue
            cell.sort(key=lambda e: (e.priced.ruleset.priority, e.priced.subject.origin.line))
            yield from _never_wins(shop, key, cell, losers)
            yield from _overlaps(shop, key, cell, pairs)


def _deeper(shop: Shop, winner: _Entry, loser: _Entry) -> int | None:
    """The sample price at which ``loser`` would give less than ``winner`` while both discount,
    if any (the quoted one first)."""
    won, lost = shop.prices(winner.rule), shop.prices(loser.rule)
    order = sorted(range(len(SAMPLE_PRICES)), key=lambda i: SAMPLE_PRICES[i] != QUOTED)
    for i in order:
        # Only where both discount: an absolute 1799 is no discount on a 10.00 item.
        if 0 <= lost[i] < won[i] <= SAMPLE_PRICES[i]:
            return i
    return None


def _never_wins(
    shop: Shop, key: tuple[str, str], cell: Sequence[_Entry], reported: set[tuple[str, int]]
) -> Iterator[findings.Finding]:
    for n, loser in enumerate(cell):
        if (loser.name, loser.index) in reported:
            continue
        for winner in cell[max(0, n - SCAN_LIMIT) : n]:
            if winner.priced.ruleset.priority >= loser.priced.ruleset.priority:
                continue
            if winner.priced is loser.priced or not _compatible(winner, loser):
                continue
            if not overlapping(winner.priced.window, loser.priced.window):
                continue
            sample = _deeper(shop, winner, loser)
            if sample is None:
                continue
            reported.add((loser.name, loser.index))
            subject = loser.priced.subject
            price = SAMPLE_PRICES[sample]
            audience = loser.audience if loser.audience is not None else winner.audience
            yield findings.Finding(
                "never-wins",
                "warning",
                *subject.at("priority"),
                (loser.name, winner.name),
                f"{subject.key.describe()} (priority {loser.priced.ruleset.priority:g}) never "
                f"wins on {_where(key)} for {_who(audience)}: "
                f"{winner.priced.subject.key.describe()} has the lower priority number "
                f"{winner.priced.ruleset.priority:g}, so a {money(price)} item costs "
                f"{money(shop.prices(winner.rule)[sample])} instead of the deeper "
                f"{money(shop.prices(loser.rule)[sample])} of rule {loser.rule_id}.",
            )
            break


def _overlaps(
    shop: Shop, key: tuple[str, str], cell: Sequence[_Entry], reported: set[str]
) -> Iterator[findings.Finding]:
    by_priority: dict[float, list[_Entry]] = {}
    for e in cell:
        by_priority.setdefault(float(e.priced.ruleset.priority), []).append(e)
    at = SAMPLE_PRICES.index(QUOTED)
    for priority, group in by_priority.items():
        for n, b in enumerate(group):
            if b.name in reported:
                continue  # one finding per ruleset: with the first it competes with
            for a in group[max(0, n - SCAN_LIMIT) : n]:
                if a.priced is b.priced:
                    continue
                if not _compatible(a, b) or not overlapping(a.priced.window, b.priced.window):
                    continue
                reported.add(b.name)
                pa, pb = shop.prices(a.rule)[at], shop.prices(b.rule)[at]
                best, other = (a, b) if pa <= pb else (b, a)
                subject = b.priced.subject
                audience = b.audience if b.audience is not None else a.audience
                yield findings.Finding(
                    "overlap",
                    "info",
                    *subject.at("product_selection"),
                    (b.name, a.name),
                    f"{subject.key.describe()} and {a.priced.subject.key.describe()} (both "
                    f"priority {priority:g}) compete on {_where(key)} for {_who(audience)}: "
                    f"only the lowest price applies, {best.priced.subject.key.describe()}'s "
                    f"({money(QUOTED)} → {money(min(pa, pb))}) over "
                    f"{other.priced.subject.key.describe()}'s ({money(max(pa, pb))}).",
                )
                break
