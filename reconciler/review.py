"""What a plan tells its reviewer besides the changes: review notes and bookkeeping lines.

Pricing facts a reviewer should not have to work out (an expiry already past, a start date
years away), objects another project's record also lists, rulesets without an external id left
alone, lint's findings about what changes, the line about a held apply lock, and what the
project's ownership record lists before and after the plan (``record_plan``). None of these
refuses a plan (the safety rules, ``safetyrules.py``, do). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence

from reconciler import instants, kinds, lint, lock, model, ownership, words


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
    if not claims:
        return
    for key in sorted((k for k in desired_keys if k.match in claims), key=lambda k: k.sort_key):
        yield (
            f"{key.describe()} is also recorded by project {claims[key.match]!r}: both "
            "projects change it now; declare it in one of them only (docs/ownership.md)."
        )


def record_plan(
    name: str,
    current: ownership.Record | ownership.Damaged | None,
    *,
    desired_keys: Iterable[model.Key],
    live: Iterable[model.Resource],
    others: Mapping[str, Iterable[model.Key]],
    deletes: Iterable[model.Key],
) -> ownership.RecordPlan:
    """What the project's record lists now and after the plan (see ``RecordPlan``).

    Members no manifest declares any more are forgotten when they are gone from the shop or
    another project's record lists them (it took them over); the rest stay until deleted.
    """
    declared = frozenset(desired_keys)
    if not isinstance(current, ownership.Record):
        damaged = current.reason if isinstance(current, ownership.Damaged) else ""
        return ownership.RecordPlan(
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
    return ownership.RecordPlan(
        name, current.members, declared, dropped=dropped, deletes=frozenset(deletes)
    )


#: At most this many server ids are named in the note about unnamed rulesets.
NAMED_IDS = 10


def unnamed_notes(live: Iterable[model.Resource], mine: Sequence[model.Resource]) -> Iterator[str]:
    """Rulesets without an external id that the plan leaves alone, by id, and how to adopt them."""
    unnamed = {r.key: n for r in live if (n := r.key.server_id) is not None and not r.key.ident[0]}
    ours = {r.key for r in mine if r.key.server_id is not None} if unnamed else set()
    ids = [f"#{n}" for n in sorted(n for k, n in unnamed.items() if k not in ours)]
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
