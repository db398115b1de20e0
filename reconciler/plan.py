"""The plan: ownership, dependency order, safety rules, checksum and the saved-plan file.

``plan_changes`` is pure: desired resources and live state in, a ``Plan`` out. It decides which
live objects are ours to change (design.md, "Ownership"; with the ownership records read from
the shop, docs/ownership.md) and says why each delete is ours, works out what the project's
record lists after the plan, notes a held apply lock, orders changes so that an order
condition exists before a ruleset refers to it and is deleted after, evaluates the project's
safety limits, and fingerprints every live object a change touches so that a saved plan can
later prove the shop has not moved. Reading and writing the saved-plan file is the only I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import fnmatch
import functools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import (
    __version__,
    atomic,
    config,
    describe,
    diff,
    errors,
    instants,
    kinds,
    lint,
    lock,
    model,
    preview,
    state,
    words,
)
from reconciler import ownership as ownership_module
from reconciler import schedule as calendar

#: Version of the saved-plan and ``--format json`` document; bump on incompatible change.
FORMAT_VERSION = 1

#: Percent limits apply only from this many managed objects up: deleting 1 of 2 is 50% but no
#: cause for alarm (the count limit still holds). The same floor octoDNS uses.
PERCENT_FLOOR = 10


@dataclass(frozen=True)
class Filters:
    """``--only`` / ``--exclude`` globs on ``kind:name`` keys; any filter makes the plan PARTIAL."""

    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """True when some changes may have been left out on purpose."""
        return bool(self.only or self.exclude)

    def admits(self, key: model.Key) -> bool:
        """True when ``key`` passes both lists."""
        text = str(key)
        if self.only and not any(fnmatch.fnmatchcase(text, g) for g in self.only):
            return False
        return not any(fnmatch.fnmatchcase(text, g) for g in self.exclude)

    def _patterns(self) -> Iterator[tuple[str, str]]:
        yield from (("--only", g) for g in self.only)
        yield from (("--exclude", g) for g in self.exclude)

    def kind_problems(self) -> list[str]:
        """Patterns whose kind part names no kind (``rulesets:*``): known before any read."""
        kinds = [k.value for k in model.Kind]
        problems = []
        for flag, glob in self._patterns():
            kind, colon, rest = glob.partition(":")
            if colon and any(fnmatch.fnmatchcase(k, kind) for k in kinds):
                continue
            near = difflib.get_close_matches(kind, kinds, n=1, cutoff=0.6)
            hint = f"; did you mean '{near[0]}:{rest or '*'}'?" if near else ""
            what = f"{kind!r} is not a kind" if colon else "it has no kind: part"
            problems.append(
                f"{flag} {glob!r} matches nothing: {what} (patterns are kind:name, the kinds "
                f"are {', '.join(kinds)}){hint}"
            )
        return problems

    def unmatched(self, keys: Iterable[model.Key]) -> list[str]:
        """Patterns that match no object of the manifests or the shop, one message each."""
        names = sorted({str(key) for key in keys})
        problems = []
        for flag, glob in self._patterns():
            if any(fnmatch.fnmatchcase(name, glob) for name in names):
                continue
            near = difflib.get_close_matches(glob.replace("*", ""), names, n=2, cutoff=0.6)
            hint = f" (objects with a near name: {', '.join(near)})" if near else ""
            problems.append(
                f"{flag} {glob!r} matches no object in the manifests or the shop{hint}; "
                "patterns are kind:name globs, e.g. 'ruleset:spring-*'"
            )
        return problems

    def check(self, keys: Iterable[model.Key] | None = None) -> None:
        """ConfigError naming every pattern that can match nothing (``keys``: every object)."""
        problems = self.kind_problems()
        if not problems and keys is not None:
            problems = self.unmatched(keys)
        if problems:
            raise errors.ConfigError("\n".join(problems))


@dataclass(frozen=True)
class SafetyReport:
    """The safety evaluation shown in every plan: the figures, and what breaks a limit."""

    managed: int
    deletes: int
    updates: int
    delete_percent: float
    update_percent: float
    violations: tuple[str, ...]
    #: Violations that ``--force`` cannot lift (protected objects).
    hard_violations: tuple[str, ...] = ()
    #: Managed live objects by kind (``{"ruleset": 40, ...}``); percent limits apply per kind.
    managed_by_kind: Mapping[str, int] = field(default_factory=dict)
    #: Rulesets the plan would create that already exist under another app (external ids).
    claimed_by_other_apps: tuple[str, ...] = ()
    #: What the price preview's guardrails refuse on the sample carts (``preview``): a broken
    #: ``expect``, a price below a floor, a line moved past max_price_change_percent.
    price_violations: tuple[str, ...] = ()

    @property
    def other_apps_violation(self) -> str:
        """The refusal for ``claimed_by_other_apps`` ("" when there are none)."""
        claimed = self.claimed_by_other_apps
        if not claimed:
            return ""
        names = ", ".join(claimed[:3]) + (
            f" and {len(claimed) - 3} more" if len(claimed) > 3 else ""
        )
        return (
            f"Refusing to create {words.count(len(claimed), 'ruleset')} that already exist under "
            f"another app of this shop ({names}): the token probably belongs to a different app "
            "than the one that created them, so it can neither see nor change them. Use that "
            "app's token; or, to create them under this token's app anyway (both apps' rulesets "
            "would then price the same products), re-run with --create-alongside-other-apps."
        )

    @property
    def ok(self) -> bool:
        """True when no limit is broken."""
        return (
            not self.violations
            and not self.hard_violations
            and not self.claimed_by_other_apps
            and not self.price_violations
        )

    def as_json(self) -> dict[str, Any]:
        """The evaluation as JSON."""
        return {
            "managed": self.managed,
            "managed_by_kind": dict(self.managed_by_kind),
            "deletes": self.deletes,
            "updates": self.updates,
            "delete_percent": round(self.delete_percent, 1),
            "update_percent": round(self.update_percent, 1),
            "violations": list(self.violations),
            "hard_violations": list(self.hard_violations),
            "claimed_by_other_apps": list(self.claimed_by_other_apps),
            "price_violations": list(self.price_violations),
        }


@dataclass(frozen=True)
class Plan:
    """An ordered list of changes for one target, with everything a reviewer or apply needs."""

    target: str
    shop: str
    api_version: str
    changes: tuple[model.Change, ...]
    #: Live fingerprint of every touched object, by ``str(key)``; None: absent when planned.
    fingerprints: Mapping[str, str | None]
    #: What was left alone, by reason: ``{"rulesets of other apps": 12, ...}``.
    left_alone: Mapping[str, int]
    safety: SafetyReport
    filters: Filters = field(default_factory=Filters)
    #: Things a pricing reviewer should see that break no rule (an expiry already past, say).
    notes: tuple[str, ...] = ()
    created_at: str = ""
    tool_version: str = __version__
    #: The project's ownership record now and after this plan (None: not known, as for a plan
    #: rebuilt from an old saved plan before the record is read).
    record: ownership_module.RecordPlan | None = None
    #: The apply lock when some run holds it (``plan`` says so; it never takes it).
    lock_holder: lock.Holder | None = None
    #: The sample carts priced under the live and the planned rules (None: the project has no
    #: carts, or the plan was rebuilt from a saved one).
    preview: preview.Preview | None = None
    #: The instant the plan judges windows at (``--at``; else when it was made): what is live
    #: "now" for the schedule, the lint notes and the price preview's carts without an ``at``.
    at: str = ""
    #: When each change takes effect, by ``str(key)`` (``schedule.effect``).
    schedule: Mapping[str, str] = field(default_factory=dict)
    #: Starts and ends of the planned rulesets and codes within the horizon.
    timeline: tuple[calendar.Boundary, ...] = ()
    #: Lint findings about the changed objects (docs/lint.md); errors refuse the plan.
    findings: tuple[lint.Finding, ...] = ()
    #: The freeze window covering ``at``, if any.
    freeze: calendar.FreezeWindow | None = None

    @property
    def instant(self) -> dt.datetime:
        """``at`` as a datetime: the instant the plan was judged at."""
        found = instants.parse(self.at or self.created_at)
        return found if found is not None else instants.now()

    @property
    def bookkeeping(self) -> tuple[str, ...]:
        """Lines about boldrules' own objects in the shop: the record, the lock (not changes)."""
        lines = []
        if self.record is not None and self.record.note():
            lines.append(self.record.note())
        if self.lock_holder is not None:
            lines.append(lock_line(self.lock_holder, created_at=self.created_at))
        return tuple(lines)

    @property
    def partial(self) -> bool:
        """True when ``--only``/``--exclude`` narrowed the plan."""
        return self.filters.partial

    @property
    def counts(self) -> dict[str, int]:
        """``{"create": n, "update": n, "delete": n}``."""
        tally = Counter(c.action for c in self.changes)
        return {a: tally.get(a, 0) for a in ("create", "update", "delete")}

    @property
    def empty(self) -> bool:
        """True when there is nothing to do."""
        return not self.changes

    @functools.cached_property
    def checksum(self) -> str:
        """sha256 of the canonical JSON of the changes: what a reviewer approved."""
        return model.fingerprint([change_json(c) for c in self.changes])

    def check_safety(self, *, force: bool = False, alongside_other_apps: bool = False) -> None:
        """Raise UnsafePlan unless every limit holds (``force`` lifts all but protection).

        Creating rulesets whose external ids another app holds is lifted only by
        ``alongside_other_apps`` (``--create-alongside-other-apps``), never by ``force``.
        """
        reasons = list(self.safety.hard_violations)
        if not alongside_other_apps and self.safety.other_apps_violation:
            reasons.append(self.safety.other_apps_violation)
        if not force:
            reasons += self.safety.violations
            reasons += self.safety.price_violations
        if reasons:
            raise errors.UnsafePlan(reasons)


# --- building a plan ------------------------------------------------------------------------


#: What ``left_alone`` calls rulesets without an external id that nothing adopts.
UNNAMED_LEFT_ALONE = "rulesets without external_id (see ownership.unnamed_rulesets)"

#: Why an owned object that no manifest declares any more is deleted, by what made it ours.
GONE = kinds.GONE
RECORDED = kinds.RECORDED
BY_GROUP_SETTING = kinds.BY_GROUP_SETTING
BY_PREFIX_SETTING = kinds.BY_PREFIX_SETTING


def owned(
    live: Iterable[model.Resource],
    *,
    desired_keys: set[model.Key],
    ownership: config.Ownership,
    recorded: Iterable[model.Key] = (),
    others: Mapping[str, Iterable[model.Key]] | None = None,
    unreadable: Iterable[str] = (),
    adopted_ids: frozenset[Any] = frozenset(),
) -> tuple[list[model.Resource], Counter[str], dict[ownership_module.Match, str]]:
    """Split live objects into ours, a tally of what was left alone, and why each is ours.

    An object a manifest declares is ours. Of the rest, an object another project's ownership
    record lists is that project's and left alone; otherwise rulesets are ours when the token
    lists them (the listing is the app's own); order conditions and discount codes when this
    project's record lists them (it managed them before), when their group is declared or
    listed in ``ownership.order_conditions``, or when their name starts with a listed prefix.
    The reasons (``match`` → why) are what a plan shows beside a delete. While another
    project's record is ``unreadable`` (damaged), a ruleset neither declared nor recorded here
    may be that project's, so it is left alone rather than deleted.

    Objects keyed by their server id: a ruleset without an external id is ours only when a
    manifest adopts it (``adopted_ids``) or ``ownership.unnamed_rulesets`` is ``delete``; an
    extra copy of a code is ours when the code it copies is (the renderer says why it goes).
    """
    unknown = ", ".join(repr(name) for name in sorted(unreadable))
    desired = {k.match for k in desired_keys}
    scope = kinds.Scope(
        declared=frozenset(desired_keys),
        listed_groups=frozenset(ownership.order_condition_names),
        prefixes=tuple(p.casefold() for p in ownership.discount_code_prefixes),
    )
    mine_recorded = {k.match for k in recorded}
    claimed = {k.match: name for name, keys in sorted((others or {}).items()) for k in keys}
    mine: list[model.Resource] = []
    reasons: dict[ownership_module.Match, str] = {}
    unmanaged: dict[str, set[str]] = {}
    left: Counter[str] = Counter()
    for resource in live:
        key = resource.key
        spec = kinds.by_name[key.kind]
        if key.server_id is not None and spec.token_scoped:
            # No external id: ours only when adopted, or when the project deletes such objects.
            if ownership.unnamed_rulesets == "delete" or resource.handles.get("id") in adopted_ids:
                mine.append(resource)
            else:
                left[UNNAMED_LEFT_ALONE] += 1
            continue
        if key.server_id is not None:
            # An extra copy: ours when the object it copies is.
            copied = model.Key(key.kind, key.ident[:-1])
            if (
                copied.match in desired
                or copied.match in mine_recorded
                or spec.claim(copied, scope) is not None
            ):
                mine.append(resource)
            else:
                left[f"{key.kind.label}s not managed here"] += 1
            continue
        if key.match in desired:
            mine.append(resource)
            continue
        if key.match in claimed:
            left[f"{key.kind.label}s recorded by project {claimed[key.match]!r}"] += 1
            continue
        if spec.token_scoped and unknown and key.match not in mine_recorded:
            left[
                f"{key.kind.label}s perhaps of project {unknown} (its ownership record is damaged)"
            ] += 1
            continue
        reason = spec.claim(key, scope) if spec.token_scoped else None
        if reason is None and key.match in mine_recorded:
            reason = RECORDED
        if reason is None:
            reason = spec.claim(key, scope)
        if reason is None:
            unmanaged.setdefault(spec.unmanaged, set()).add(spec.unmanaged_unit(key))
            continue
        reasons[key.match] = reason
        mine.append(resource)
    for label, units in unmanaged.items():
        left[label] += len(units)
    return mine, left, reasons


def lock_line(holder: lock.Holder, *, created_at: str) -> str:
    """The line a plan shows while a run holds the apply lock."""
    now = instants.parse(created_at)
    if now is not None and holder.expired(now):
        return (
            f"Apply lock {lock.lock_id(holder.project)}: left by {holder.describe()} (expired; "
            "the next apply takes it over)."
        )
    return (
        f"Apply lock {lock.lock_id(holder.project)}: held by {holder.describe()}: an apply is "
        "running, and this plan may be out of date when it ends."
    )


def decisive_keys(
    desired: Sequence[model.Resource],
    live: state.LiveState,
    *,
    project: config.Project,
    filters: Filters | None = None,
) -> set[model.Key]:
    """The keys a plan of ``desired`` on ``live`` would create or delete: what it takes the
    listing's word for (absent, or present), which ``state.fetch_live`` confirms."""
    filters = filters or Filters()
    mine, _, _ = owned(
        live.resources, desired_keys={r.key for r in desired}, ownership=project.ownership
    )
    have = {r.key.match for r in mine}
    want = {r.key.match for r in desired}
    creates = [r.key for r in desired if r.key.match not in have]
    deletes = [r.key for r in mine if r.key.match not in want]
    return {key for key in (*creates, *deletes) if filters.admits(key)}


def order_changes(changes: Iterable[model.Change]) -> list[model.Change]:
    """Creates and updates in dependency order, then deletes in reverse dependency order.

    Order conditions come before the rulesets and codes that may refer to them, and their
    deletes come last, after whatever referred to them is gone.
    """

    def rank(change: model.Change) -> tuple[int, tuple[Any, ...]]:
        # Natural order within a kind, as a reader expects: bulk-2 before bulk-10.
        name = tuple(describe.natural(part) for part in change.key.sort_key[1])
        return (kinds.phase(change), name)

    return sorted(changes, key=rank)


#: Actions whose value is a signed percent off a price (contract §5.2, pricing-engine.md §5):
#: what max_percent_off reads.
PERCENT_OFF_ACTIONS = frozenset(
    {
        "PRICE_ADJUST_PERCENT",
        "PRICE_ADJUST_PERCENT_WITH_LIMIT",
        "CART_ADJUST_PERCENT",
        "CART_LEVEL_DISCOUNT_PERCENT",
    }
)
#: Of those, the ones Bold takes off whatever the value's sign (pricing-engine.md §5: |value|).
UNSIGNED_PERCENT_OFF = frozenset({"CART_LEVEL_DISCOUNT_PERCENT"})


def evaluate_safety(
    changes: Sequence[model.Change],
    *,
    managed: Mapping[model.Kind, int],
    rules: config.Safety,
    claimed_by_other_apps: Iterable[str] = (),
    price_violations: Iterable[str] = (),
) -> SafetyReport:
    """Measure the plan against the project's limits; name each broken one with its figures.

    The count limit is over all kinds; percent limits apply per kind (deleting 3 of 3 order
    conditions is 100% even in a shop with 400 rulesets), from PERCENT_FLOOR objects up. Updates
    that only give objects their external ids (``diff.naming_only``) are not counted.
    """
    deletes = [c for c in changes if isinstance(c, model.Delete)]
    # Giving objects their external ids (adopting an exported shop) changes no price: it is
    # not held to max_update_percent, or onboarding a shop of unnamed rulesets could never pass.
    updates = [c for c in changes if isinstance(c, model.Update) and not diff.naming_only(c)]
    total = sum(managed.values())
    flag = "Re-run with --force if intended."
    violations: list[str] = []
    if len(deletes) > rules.max_deletes:
        violations.append(
            f"Refusing to delete {words.count(len(deletes), 'object')} ({_by_kind(deletes)}; limit "
            f"{rules.max_deletes} by safety.max_deletes). {flag}"
        )
    for kind in model.Kind:
        have = managed.get(kind, 0)
        if have < PERCENT_FLOOR:
            continue
        for verb, found, limit, setting in (
            ("delete", deletes, rules.max_delete_percent, "max_delete_percent"),
            ("update", updates, rules.max_update_percent, "max_update_percent"),
        ):
            n = sum(1 for c in found if c.key.kind is kind)
            if 100.0 * n / have > limit:
                violations.append(
                    f"Refusing to {verb} {n} of {have} {kind.label}s ({100.0 * n / have:.0f}%, "
                    f"limit {limit:g}% by safety.{setting}). {flag}"
                )
    if rules.max_percent_off is not None:
        violations.extend(
            f"Refusing {where} at {-value:g}% off (limit {rules.max_percent_off:g}% by "
            f"safety.max_percent_off): a typo like -90 for -9 costs real money. {flag}"
            for where, value in deep_discounts(changes, rules.max_percent_off)
        )
    # Price guardrails that need no carts: a discount turned surcharge, an amount ×10 (issue 14).
    violations.extend(preview.rule_violations(changes))
    hard = [
        f"Refusing to delete protected {d.key.describe()} (safety.protected matches "
        f"{_matching(d.key, rules.protected)!r}); --force does not lift protection: remove the "
        "pattern from boldrules.yaml first if the delete is really intended."
        for d in deletes
        if _matching(d.key, rules.protected)
    ]
    return SafetyReport(
        managed=total,
        deletes=len(deletes),
        updates=len(updates),
        delete_percent=100.0 * len(deletes) / total if total else 0.0,
        update_percent=100.0 * len(updates) / total if total else 0.0,
        violations=tuple(violations),
        hard_violations=tuple(hard),
        managed_by_kind={k.value: n for k, n in managed.items() if n},
        price_violations=tuple(price_violations),
        claimed_by_other_apps=tuple(
            sorted(
                set(claimed_by_other_apps)
                & {
                    c.key.ident[0]
                    for c in changes
                    if isinstance(c, model.Create) and kinds.by_name[c.key.kind].token_scoped
                }
            )
        ),
    )


def deep_discounts(changes: Iterable[model.Change], limit: float) -> Iterator[tuple[str, float]]:
    """New or changed percent-off actions deeper than ``limit``: (where, value)."""
    for change in changes:
        if isinstance(change, model.Delete):
            continue
        spec = kinds.by_name[change.key.kind]
        before = (
            {p.path: p.part for p in spec.priced(change.live.body)}
            if isinstance(change, model.Update)
            else {}
        )
        name = change.key.describe()
        for part in spec.priced(change.desired.body):
            if before.get(part.path) == part.part:
                continue  # unchanged: reviewed and applied before
            for where, action in part.actions:
                if _too_deep(action, limit):
                    yield f"{name} > {where}", -_off(action)


def _off(action: Mapping[str, Any]) -> float:
    """The percent a percent-off action takes off (negative: it adds)."""
    value = action["value"]
    return float(abs(value) if action.get("type") in UNSIGNED_PERCENT_OFF else -value)


def _too_deep(action: Mapping[str, Any], limit: float) -> bool:
    value = action.get("value")
    if action.get("type") not in PERCENT_OFF_ACTIONS:
        return False
    return isinstance(value, int | float) and not isinstance(value, bool) and _off(action) > limit


def _by_kind(changes: Sequence[model.Change]) -> str:
    tally = Counter(c.key.kind for c in changes)
    return ", ".join(words.count(tally[k], k.label) for k in model.Kind if tally[k])


def _matching(key: model.Key, patterns: Iterable[str]) -> str:
    text = str(key)
    return next((p for p in patterns if fnmatch.fnmatchcase(text, p)), "")


#: The ``left_alone`` reason under which other apps' rulesets are counted.
OTHER_APPS = "rulesets of other apps (not visible to this token)"


def with_other_apps(
    result: Plan,
    desired: Sequence[model.Resource],
    *,
    find: Callable[[list[str]], Iterable[str]],
) -> Plan:
    """The plan, with the rulesets it would create that another app already holds (if any).

    Rulesets belong to the app whose token created them, so a token of another app than the
    one that manages the shop sees none of them and plans to create them all again. When most
    of the manifests' rulesets are planned as new and other apps do hold rulesets, ``find``
    (one listing of every app's rulesets) is asked which of the new ones another app holds;
    they become a safety refusal that only ``--create-alongside-other-apps`` lifts. Otherwise
    ``find`` is never called: the usual plan costs no extra read.
    """
    wanted = {r.key.ident[0] for r in desired if kinds.by_name[r.key.kind].token_scoped}
    new = [
        c.key.ident[0]
        for c in result.changes
        if isinstance(c, model.Create) and kinds.by_name[c.key.kind].token_scoped
    ]
    if not new or 2 * len(new) <= len(wanted) or not result.left_alone.get(OTHER_APPS):
        return result
    claimed = tuple(sorted(set(find(new)) & set(new)))
    if not claimed:
        return result
    safety = dataclasses.replace(result.safety, claimed_by_other_apps=claimed)
    return dataclasses.replace(result, safety=safety)


def with_preview(result: Plan, found: preview.Preview) -> Plan:
    """The plan with its price preview, and the preview's refusals among its safety report."""
    safety = dataclasses.replace(result.safety, price_violations=found.violations)
    return dataclasses.replace(result, preview=found, safety=safety)


def plan_changes(
    desired: Sequence[model.Resource],
    live: state.LiveState,
    *,
    target: config.Target,
    project: config.Project,
    filters: Filters | None = None,
    now: dt.datetime | None = None,
    at: dt.datetime | None = None,
    findings: Sequence[lint.Finding] = (),
    horizon: dt.timedelta = calendar.DEFAULT_HORIZON,
) -> Plan:
    """Desired against owned live state → an ordered, safety-evaluated, fingerprinted Plan.

    ``at`` is the instant windows are judged at (default ``now``); ``findings`` are lint's
    findings about the whole planned state, of which the plan keeps those about what changes.
    """
    filters = filters or Filters()
    desired_keys = {r.key for r in desired}
    filters.check([*desired_keys, *(r.key for r in live.resources)])
    adopted = frozenset(
        diff.adoption(r).get("id")
        for r in desired
        if diff.adoption(r).get("shop") == live.shop and diff.adoption(r).get("id") is not None
    )
    name = project.ownership.record
    records = ownership_module.read_records(live.reserved)
    current = records.get(name)
    others = {
        other: record.members
        for other, record in records.items()
        if other != name and isinstance(record, ownership_module.Record)
    }
    recorded = current.members if isinstance(current, ownership_module.Record) else frozenset()
    mine, left, reasons = owned(
        live.resources,
        desired_keys=desired_keys,
        ownership=project.ownership,
        recorded=recorded,
        others=others,
        unreadable=[
            other
            for other, record in records.items()
            if other != name and isinstance(record, ownership_module.Damaged)
        ],
        adopted_ids=adopted,
    )
    if live.foreign_rulesets:
        left[OTHER_APPS] = live.foreign_rulesets
    changes = [
        dataclasses.replace(c, reason=reasons.get(c.key.match, GONE))
        if isinstance(c, model.Delete) and c.key.server_id is None
        else c
        for c in diff.diff_resources(desired, mine, shop=live.shop)
        if filters.admits(c.key)
    ]
    ordered = order_changes(changes)
    record = record_plan(
        name,
        current,
        desired_keys=desired_keys,
        live=live.resources,
        others=others,
        deletes=[c.key for c in ordered if isinstance(c, model.Delete)],
    )
    fingerprints: dict[str, str | None] = {}
    for change in ordered:
        have = None if isinstance(change, model.Create) else change.live
        fingerprints[str(change.key)] = have.fingerprint() if have is not None else None
    managed = Counter(r.key.kind for r in mine)
    safety = evaluate_safety(ordered, managed=managed, rules=project.safety)
    moment = (now or instants.now()).replace(microsecond=0)
    instant = (at or moment).replace(microsecond=0)
    notes = (*review_notes(ordered, now=instant), *shared_notes(desired_keys, others))
    if project.ownership.unnamed_rulesets == "adopt":
        notes += tuple(unnamed_notes(live.resources, mine))
    kept, lint_notes = lint_review(ordered, findings, notes)
    notes += lint_notes
    freeze = calendar.freeze_at(project.freeze, instant)
    if freeze is not None:
        notes += (
            f"Planned during freeze window {freeze.describe()}: apply refuses until "
            f"{calendar.stamp(freeze.end)} unless run with --force --reason TEXT.",
        )
    notes += tuple(calendar.landings(ordered, project.freeze, instant))
    return Plan(
        target=target.name,
        shop=live.shop,
        api_version=target.api_version,
        changes=tuple(ordered),
        fingerprints=fingerprints,
        left_alone=dict(sorted(left.items())),
        safety=safety,
        filters=filters,
        created_at=instants.stamp(moment),
        notes=notes,
        record=record,
        lock_holder=lock.held_locks(live.reserved).get(name),
        at=instants.stamp(instant),
        schedule=calendar.effects(ordered, instant),
        timeline=tuple(calendar.timeline(desired, instant, horizon)),
        findings=kept,
        freeze=freeze,
    )


def lint_review(
    changes: Sequence[model.Change], findings: Sequence[lint.Finding], notes: Sequence[str]
) -> tuple[tuple[lint.Finding, ...], tuple[str, ...]]:
    """Lint's findings about what changes: (kept, as review notes).

    A finding is about a change when its first object is created or updated (a deleted object
    is no longer declared, so lint never sees it). An ``expired`` finding the review notes
    already make (an expiry_date set in the past) is not repeated. Findings never refuse a
    plan, errors included: ``boldrules lint`` (exit 3) is the gate (docs/lint.md says why).
    """
    changed = {str(c.key) for c in changes if not isinstance(c, model.Delete)}
    if not changed:
        return (), ()  # ``findings`` not read: a plan pays for lint only when it shows some
    said = " ".join(notes)
    kept = tuple(
        f
        for f in findings
        if f.objects
        and f.objects[0] in changed
        and not (f.id == "expired" and f"{_describe(f.objects[0])}: expiry_date" in said)
    )
    said_notes = [f"lint {f.severity} {f.id} ({f.location}): {f.message}" for f in kept]
    if len(said_notes) > LINT_NOTES:
        rest = len(said_notes) - LINT_NOTES
        said_notes[LINT_NOTES:] = [
            f"… and {words.count(rest, 'more lint finding')} about changed objects: "
            "run `boldrules lint` to see them all (the JSON plan lists each)."
        ]
    return kept, tuple(said_notes)


#: At most this many lint findings are notes of a plan (the JSON plan lists them all).
LINT_NOTES = 20


def _describe(key_text: str) -> str:
    kind, _, name = key_text.partition(":")
    return f"{kind.replace('_', ' ')} {name}"


def shared_notes(
    desired_keys: Iterable[model.Key], others: Mapping[str, Iterable[model.Key]]
) -> Iterator[str]:
    """Objects this project declares that another project's record lists too."""
    claims = {k.match: name for name, keys in sorted(others.items()) for k in keys}
    for key in sorted(desired_keys, key=lambda k: k.sort_key):
        if key.match in claims:
            yield (
                f"{key.describe()} is also recorded by project {claims[key.match]!r}: both "
                "projects change it now; declare it in one of them only (docs/ownership.md)."
            )


def record_plan(
    name: str,
    current: ownership_module.Record | ownership_module.Damaged | None,
    *,
    desired_keys: Iterable[model.Key],
    live: Iterable[model.Resource],
    others: Mapping[str, Iterable[model.Key]],
    deletes: Iterable[model.Key],
) -> ownership_module.RecordPlan:
    """What the project's record lists now and after the plan (see ``RecordPlan``).

    Members no manifest declares any more are forgotten when they are gone from the shop or
    another project's record lists them (it took them over); the rest stay until deleted.
    """
    declared = frozenset(desired_keys)
    if not isinstance(current, ownership_module.Record):
        damaged = current.reason if isinstance(current, ownership_module.Damaged) else ""
        return ownership_module.RecordPlan(
            name, None, declared, deletes=frozenset(deletes), damaged=damaged
        )
    present = {r.key.match for r in live}
    wanted = {k.match for k in declared}
    claimed = {k.match for keys in others.values() for k in keys}
    dropped = frozenset(
        k
        for k in current.members
        if k.match not in wanted and (k.match not in present or k.match in claimed)
    )
    return ownership_module.RecordPlan(
        name, current.members, declared, dropped=dropped, deletes=frozenset(deletes)
    )


#: At most this many server ids are named in the note about unnamed rulesets.
NAMED_IDS = 10


def unnamed_notes(live: Iterable[model.Resource], mine: Sequence[model.Resource]) -> Iterator[str]:
    """Rulesets without an external id that the plan leaves alone, by id, and how to adopt them."""
    ours = {r.key for r in mine}
    ids = [
        f"#{n}"
        for n in sorted(
            r.key.server_id
            for r in live
            if r.key.server_id is not None and not r.key.ident[0] and r.key not in ours
        )
    ]
    if ids:
        shown = ", ".join(ids[:NAMED_IDS]) + (", …" if len(ids) > NAMED_IDS else "")
        yield (
            f"{words.count(len(ids), 'ruleset')} without an external_id left alone ({shown}): "
            "`boldrules export` names them for adoption; ownership.unnamed_rulesets: ignore "
            "silences this, delete removes them."
        )


def review_notes(changes: Iterable[model.Change], *, now: dt.datetime) -> Iterator[str]:
    """Pricing facts a reviewer should not have to work out: windows already closed or far off.

    A ruleset or code created or changed with an ``expiry_date`` already past will never apply
    (or stops applying at once); one whose ``start_date`` is more than two years away is most
    likely a typo in the year.
    """
    for change in changes:
        if isinstance(change, model.Delete) or not kinds.by_name[change.key.kind].dated:
            continue
        body = change.desired.body
        before = change.live.body if isinstance(change, model.Update) else {}
        name = change.key.describe()
        expiry = instants.parse(body.get("expiry_date"))
        if (
            expiry is not None
            and expiry <= now
            and before.get("expiry_date") != body["expiry_date"]
        ):
            effect = (
                "will never apply" if isinstance(change, model.Create) else "stops applying at once"
            )
            yield f"{name}: expiry_date {body['expiry_date']} is already past: it {effect}."
        start = instants.parse(body.get("start_date"))
        if (
            start is not None
            and start - now > dt.timedelta(days=731)
            and before.get("start_date") != body["start_date"]
        ):
            when = body["start_date"]
            yield f"{name}: start_date {when} is more than two years away: a typo in the year?"


# --- JSON forms and the saved plan ----------------------------------------------------------


def resource_json(resource: model.Resource) -> dict[str, Any]:
    """A resource's body and origin as JSON (handles are read afresh at apply time)."""
    data: dict[str, Any] = {"body": resource.body}
    if resource.origin is not None:
        data["origin"] = str(resource.origin)
    if diff.adoption(resource):
        data["adopt"] = dict(diff.adoption(resource))
    return data


def change_json(change: model.Change) -> dict[str, Any]:
    """One change as JSON: key, action, the full desired body, the field changes."""
    data: dict[str, Any] = {
        "key": change.key.as_json(),
        "action": change.action,
        "id": str(change.key),
    }
    if isinstance(change, model.Create | model.Update):
        data["desired"] = resource_json(change.desired)
    if isinstance(change, model.Update):
        data["fields"] = [f.as_json() for f in change.fields]
    if isinstance(change, model.Delete | model.Update):
        # What the change replaces, so `boldrules show` can say it without reading the shop.
        data["live"] = {"body": change.live.body}
        data["live_fingerprint"] = change.live.fingerprint()
        if change.live.key != change.key:  # an adoption: the live object has another key
            data["live_key"] = change.live.key.as_json()
    if isinstance(change, model.Delete) and change.reason:
        data["reason"] = change.reason
    return data


def plan_json(plan: Plan) -> dict[str, Any]:
    """The whole plan as the JSON document ``schemas/plan.schema.json`` describes."""
    return {
        "format_version": FORMAT_VERSION,
        "tool_version": plan.tool_version,
        "created_at": plan.created_at,
        "target": plan.target,
        "shop": plan.shop,
        "api_version": plan.api_version,
        "partial": plan.partial,
        "filters": {"only": list(plan.filters.only), "exclude": list(plan.filters.exclude)},
        "summary": plan.counts,
        "checksum": plan.checksum,
        "safety": plan.safety.as_json(),
        "left_alone": dict(plan.left_alone),
        "notes": list(plan.notes),
        "changes": [change_json(c) for c in plan.changes],
        "fingerprints": dict(plan.fingerprints),
        "ownership": plan.record.as_json() if plan.record is not None else None,
        "lock": lock_json(plan.lock_holder),
        "preview": plan.preview.as_json() if plan.preview is not None else None,
        "at": plan.at or plan.created_at,
        "schedule": dict(plan.schedule),
        "timeline": [b.as_json() for b in plan.timeline],
        "findings": [f.as_json() for f in plan.findings],
        "freeze": (
            {
                "name": plan.freeze.name,
                "start": instants.stamp(plan.freeze.start),
                "end": instants.stamp(plan.freeze.end),
                "reason": plan.freeze.reason,
            }
            if plan.freeze is not None
            else None
        ),
    }


def lock_json(holder: lock.Holder | None) -> dict[str, Any] | None:
    """The apply lock as a plan document shows it (null when nobody holds it)."""
    if holder is None:
        return None
    return {
        "record": lock.lock_id(holder.project),
        "holder": holder.holder,
        "started_at": instants.stamp(holder.started_at) if holder.started_at else None,
        "expires_at": instants.stamp(holder.expires_at) if holder.expires_at else None,
        "damaged": holder.damaged,
    }


@dataclass(frozen=True)
class SavedChange:
    """A change read back from a saved plan: enough to re-check and to apply it."""

    key: model.Key
    action: model.Action
    desired: model.Resource | None
    live_fingerprint: str | None
    #: The live object's key when it differs from ``key`` (a ruleset adopted by id).
    live_key: model.Key | None = None
    reason: str = ""


@dataclass(frozen=True)
class SavedPlan:
    """A plan file as written by ``plan --out``: what the reviewer approved."""

    target: str
    shop: str
    api_version: str
    checksum: str
    changes: tuple[SavedChange, ...]
    document: Mapping[str, Any]
    path: Path = Path("plan.json")


def check_destination(path: Path, *, folder: bool = False) -> None:
    """Refuse a ``--out`` that a plan (``folder``: plans) could not be written to, up front.

    Called before any API call, so a typo in a path costs nothing but one clear line.
    """
    if folder:
        if path.exists() and not path.is_dir():
            raise errors.PlanFileInvalid(f"--out {path}: is a file, not a folder for the plans")
        existing = next(p for p in (path, *path.parents) if p.exists())
    else:
        if path.is_dir():
            raise errors.PlanFileInvalid(f"--out {path}: is a folder; give a file name")
        existing = path.parent
        if not existing.is_dir():
            raise errors.PlanFileInvalid(
                f"--out {path}: no folder {existing}: create it first, or choose another path"
            )
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise errors.PlanFileInvalid(f"--out {path}: cannot write in {existing}")


def write_plan(plan: Plan, path: Path) -> None:
    """Write the saved plan atomically (a partial file never replaces a good one)."""
    text = json.dumps(plan_json(plan), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    try:
        atomic.write_text(path, text)
    except OSError as exc:
        raise errors.PlanFileInvalid(f"{path}: cannot write the plan ({exc.strerror})") from None


def read_plan(path: Path) -> SavedPlan:
    """Read and check a saved plan; any defect is a PlanFileInvalid naming the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise errors.PlanFileInvalid(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.PlanFileInvalid(f"{path}: not a readable plan file ({exc})") from None
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        version = document.get("format_version") if isinstance(document, dict) else None
        raise errors.PlanFileInvalid(
            f"{path}: plan format version {version!r} is not {FORMAT_VERSION}; "
            "make the plan again with this version of boldrules"
        )
    try:
        changes = tuple(_saved_change(c) for c in document["changes"])
        saved = SavedPlan(
            target=str(document["target"]),
            shop=str(document["shop"]),
            api_version=str(document["api_version"]),
            checksum=str(document["checksum"]),
            changes=changes,
            document=document,
            path=path,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.PlanFileInvalid(f"{path}: damaged plan file (missing or bad {exc})") from None
    recomputed = model.fingerprint(list(document["changes"]))
    if recomputed != saved.checksum:
        raise errors.PlanFileInvalid(
            f"{path}: the checksum does not match the changes; the file was edited after "
            "`boldrules plan` wrote it. Make the plan again."
        )
    return saved


def _saved_change(data: Mapping[str, Any]) -> SavedChange:
    key = model.Key.from_json(data["key"])
    desired = None
    if "desired" in data:
        adopt = data["desired"].get("adopt")
        handles = {"adopt": dict(adopt)} if isinstance(adopt, Mapping) else {}
        desired = model.Resource(key, data["desired"]["body"], None, handles)
    action = data["action"]
    if action not in ("create", "update", "delete"):
        raise ValueError(f"action {action!r}")
    live_key = model.Key.from_json(data["live_key"]) if "live_key" in data else None
    return SavedChange(
        key,
        action,
        desired,
        data.get("live_fingerprint"),
        live_key=live_key,
        reason=str(data.get("reason", "")),
    )


def saved_declared(saved: SavedPlan) -> frozenset[model.Key] | None:
    """The keys a saved plan's manifests declared (None for a plan made before records)."""
    section = saved.document.get("ownership")
    if not isinstance(section, Mapping) or not isinstance(section.get("declared"), list):
        return None
    try:
        return frozenset(ownership_module.member_key(item) for item in section["declared"])
    except ValueError as exc:
        raise errors.PlanFileInvalid(f"{saved.path}: damaged ownership section ({exc})") from None
