"""What a plan is and how it is built: ownership, dependency order, fingerprints, checksum.

``plan_changes`` is pure: desired resources and live state in, a ``Plan`` out. It decides which
live objects are ours to change (design.md, "Ownership"; with the ownership records read from
the shop, docs/ownership.md) and says why each delete is ours, orders changes so that an order
condition exists before a ruleset refers to it and is deleted after, and fingerprints every
live object a change touches so that a saved plan can later prove the shop has not moved. It
measures the changes against the project's limits with ``safetyrules.py``, and takes the notes it
carries for a reviewer (and what the ownership record lists after it) from ``review.py``; the
plan as a JSON document and the saved-plan file are ``savedplan.py``. No I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import fnmatch
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler import (
    __version__,
    config,
    describe,
    diff,
    errors,
    instants,
    kinds,
    lint,
    lock,
    model,
    state,
)
from reconciler import ownership as ownership_module
from reconciler import schedule as calendar
from reconciler.review import (
    lint_review,
    lock_line,
    record_plan,
    review_notes,
    shared_notes,
    unnamed_notes,
)
from reconciler.safetyrules import SafetyReport, evaluate_safety
from reconciler.targets import Target

if TYPE_CHECKING:
    from reconciler import preview  # priced only for a project with sample carts


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
        if not self.only and not self.exclude:
            return []
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
    target: Target,
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
    hints = [hint for r in desired if (hint := diff.adoption(r))]
    adopted = frozenset(
        h.get("id") for h in hints if h.get("shop") == live.shop and h.get("id") is not None
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


# --- a change as JSON: what the checksum covers ----------------------------------------------


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
