"""The plan: ownership, dependency order, safety rules, checksum and the saved-plan file.

``plan_changes`` is pure: desired resources and live state in, a ``Plan`` out. It decides which
live objects are ours to change (design.md, "Ownership"), orders changes so that an order
condition exists before a ruleset refers to it and is deleted after, evaluates the project's
safety limits, and fingerprints every live object a change touches so that a saved plan can
later prove the shop has not moved. Reading and writing the saved-plan file is the only I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import functools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import __version__, config, diff, errors, model, state

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
            f"Refusing to create {_count(len(claimed), 'ruleset')} that already exist under "
            f"another app of this shop ({names}): the token probably belongs to a different app "
            "than the one that created them, so it can neither see nor change them. Use that "
            "app's token; or, to create them under this token's app anyway (both apps' rulesets "
            "would then price the same products), re-run with --create-alongside-other-apps."
        )

    @property
    def ok(self) -> bool:
        """True when no limit is broken."""
        return not self.violations and not self.hard_violations and not self.claimed_by_other_apps

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
        if reasons:
            raise errors.UnsafePlan(reasons)


# --- building a plan ------------------------------------------------------------------------


def owned(
    live: Iterable[model.Resource],
    *,
    desired_keys: set[model.Key],
    ownership: config.Ownership,
) -> tuple[list[model.Resource], Counter[str]]:
    """Split live objects into ours and a tally of what was left alone, by reason.

    Rulesets: every one the token lists (the listing is the app's own). Order conditions: the
    groups the manifests name or the project file lists. Discount codes: the codes the
    manifests name or whose name starts with a listed prefix.
    """
    groups = {k.ident[0] for k in desired_keys if k.kind is model.Kind.ORDER_CONDITION}
    groups |= set(ownership.order_condition_names)
    codes = {k.match for k in desired_keys if k.kind is model.Kind.DISCOUNT_CODE}
    prefixes = tuple(p.casefold() for p in ownership.discount_code_prefixes)
    mine: list[model.Resource] = []
    foreign_groups: set[str] = set()
    left: Counter[str] = Counter()
    for resource in live:
        key = resource.key
        if key.kind is model.Kind.ORDER_CONDITION and key.ident[0] not in groups:
            foreign_groups.add(key.ident[0])
            continue
        if (
            key.kind is model.Kind.DISCOUNT_CODE
            and key.match not in codes
            and not key.ident[0].casefold().startswith(prefixes)
        ):
            left["discount codes not managed here"] += 1
            continue
        mine.append(resource)
    if foreign_groups:
        left["order condition groups not managed here"] = len(foreign_groups)
    return mine, left


def order_changes(changes: Iterable[model.Change]) -> list[model.Change]:
    """Creates and updates in dependency order, then deletes in reverse dependency order.

    Order conditions come before the rulesets and codes that may refer to them, and their
    deletes come last, after whatever referred to them is gone.
    """

    def rank(change: model.Change) -> tuple[int, int, tuple[str, ...]]:
        kind_rank = change.key.kind.rank
        if isinstance(change, model.Delete):
            return (1, -kind_rank, change.key.ident)
        return (0, kind_rank, change.key.ident)

    return sorted(changes, key=rank)


#: Actions whose value is a signed percent off a price (contract §5.2): what max_percent_off reads.
PERCENT_OFF_ACTIONS = frozenset({"PRICE_ADJUST_PERCENT", "CART_ADJUST_PERCENT"})


def evaluate_safety(
    changes: Sequence[model.Change],
    *,
    managed: Mapping[model.Kind, int],
    rules: config.Safety,
    claimed_by_other_apps: Iterable[str] = (),
) -> SafetyReport:
    """Measure the plan against the project's limits; name each broken one with its figures.

    The count limit is over all kinds; percent limits apply per kind (deleting 3 of 3 order
    conditions is 100% even in a shop with 400 rulesets), from PERCENT_FLOOR objects up.
    """
    deletes = [c for c in changes if isinstance(c, model.Delete)]
    updates = [c for c in changes if isinstance(c, model.Update)]
    total = sum(managed.values())
    flag = "Re-run with --force if intended."
    violations: list[str] = []
    if len(deletes) > rules.max_deletes:
        violations.append(
            f"Refusing to delete {_count(len(deletes), 'object')} ({_by_kind(deletes)}; limit "
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
        claimed_by_other_apps=tuple(
            sorted(
                set(claimed_by_other_apps)
                & {
                    c.key.ident[0]
                    for c in changes
                    if isinstance(c, model.Create) and c.key.kind is model.Kind.RULESET
                }
            )
        ),
    )


def deep_discounts(changes: Iterable[model.Change], limit: float) -> Iterator[tuple[str, float]]:
    """New or changed percent-off actions deeper than ``limit``: (where, value)."""
    for change in changes:
        if isinstance(change, model.Delete):
            continue
        body = change.desired.body
        before = change.live.body if isinstance(change, model.Update) else {}
        name = change.key.describe()
        if change.key.kind is model.Kind.RULESET:
            for rule_id, rule in sorted(body.get("rules", {}).items()):
                if before.get("rules", {}).get(rule_id) == rule:
                    continue  # unchanged: reviewed and applied before
                for index, action in enumerate(rule.get("actions", [])):
                    if _too_deep(action, limit):
                        yield f"{name} > rules[{rule_id}].actions[{index}]", action["value"]
        elif change.key.kind is model.Kind.DISCOUNT_CODE:
            action = body.get("action", {})
            if before.get("action") != action and _too_deep(action, limit):
                yield f"{name} > action", action["value"]


def _too_deep(action: Mapping[str, Any], limit: float) -> bool:
    value = action.get("value")
    return (
        action.get("type") in PERCENT_OFF_ACTIONS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and -value > limit
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _by_kind(changes: Sequence[model.Change]) -> str:
    tally = Counter(c.key.kind for c in changes)
    return ", ".join(_count(tally[k], k.label) for k in model.Kind if tally[k])


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
    wanted = {r.key.ident[0] for r in desired if r.key.kind is model.Kind.RULESET}
    new = [
        c.key.ident[0]
        for c in result.changes
        if isinstance(c, model.Create) and c.key.kind is model.Kind.RULESET
    ]
    if not new or 2 * len(new) <= len(wanted) or not result.left_alone.get(OTHER_APPS):
        return result
    claimed = tuple(sorted(set(find(new)) & set(new)))
    if not claimed:
        return result
    safety = dataclasses.replace(result.safety, claimed_by_other_apps=claimed)
    return dataclasses.replace(result, safety=safety)


def plan_changes(
    desired: Sequence[model.Resource],
    live: state.LiveState,
    *,
    target: config.Target,
    project: config.Project,
    filters: Filters | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """Desired against owned live state → an ordered, safety-evaluated, fingerprinted Plan."""
    filters = filters or Filters()
    desired_keys = {r.key for r in desired}
    mine, left = owned(live.resources, desired_keys=desired_keys, ownership=project.ownership)
    if live.foreign_rulesets:
        left["rulesets of other apps (not visible to this token)"] = live.foreign_rulesets
    changes = [c for c in diff.diff_resources(desired, mine) if filters.admits(c.key)]
    ordered = order_changes(changes)
    live_by_key = {r.key.match: r for r in mine}
    fingerprints: dict[str, str | None] = {}
    for change in ordered:
        have = live_by_key.get(change.key.match)
        fingerprints[str(change.key)] = have.fingerprint() if have is not None else None
    managed = Counter(r.key.kind for r in mine)
    safety = evaluate_safety(ordered, managed=managed, rules=project.safety)
    moment = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    notes = tuple(review_notes(ordered, now=moment))
    return Plan(
        target=target.name,
        shop=live.shop,
        api_version=target.api_version,
        changes=tuple(ordered),
        fingerprints=fingerprints,
        left_alone=dict(sorted(left.items())),
        safety=safety,
        filters=filters,
        created_at=moment.isoformat().replace("+00:00", "Z"),
        notes=notes,
    )


def review_notes(changes: Iterable[model.Change], *, now: dt.datetime) -> Iterator[str]:
    """Pricing facts a reviewer should not have to work out: windows already closed or far off.

    A ruleset or code created or changed with an ``expiry_date`` already past will never apply
    (or stops applying at once); one whose ``start_date`` is more than two years away is most
    likely a typo in the year.
    """
    for change in changes:
        if isinstance(change, model.Delete) or change.key.kind is model.Kind.ORDER_CONDITION:
            continue
        body = change.desired.body
        before = change.live.body if isinstance(change, model.Update) else {}
        name = change.key.describe()
        expiry = _instant(body.get("expiry_date"))
        if (
            expiry is not None
            and expiry <= now
            and before.get("expiry_date") != body["expiry_date"]
        ):
            effect = (
                "will never apply" if isinstance(change, model.Create) else "stops applying at once"
            )
            yield f"{name}: expiry_date {body['expiry_date']} is already past: it {effect}."
        start = _instant(body.get("start_date"))
        if (
            start is not None
            and start - now > dt.timedelta(days=731)
            and before.get("start_date") != body["start_date"]
        ):
            when = body["start_date"]
            yield f"{name}: start_date {when} is more than two years away: a typo in the year?"


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- JSON forms and the saved plan ----------------------------------------------------------


def resource_json(resource: model.Resource) -> dict[str, Any]:
    """A resource's body and origin as JSON (handles are read afresh at apply time)."""
    data: dict[str, Any] = {"body": resource.body}
    if resource.origin is not None:
        data["origin"] = str(resource.origin)
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
        data["live_fingerprint"] = change.live.fingerprint()
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
    }


@dataclass(frozen=True)
class SavedChange:
    """A change read back from a saved plan: enough to re-check and to apply it."""

    key: model.Key
    action: model.Action
    desired: model.Resource | None
    live_fingerprint: str | None


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


def write_plan(plan: Plan, path: Path) -> None:
    """Write the saved plan atomically (a partial file never replaces a good one)."""
    text = json.dumps(plan_json(plan), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


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
        desired = model.Resource(key, data["desired"]["body"])
    action = data["action"]
    if action not in ("create", "update", "delete"):
        raise ValueError(f"action {action!r}")
    return SavedChange(key, action, desired, data.get("live_fingerprint"))
