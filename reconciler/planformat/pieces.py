"""The pieces every plan format is built from: what a change, the safety, the summary say.

A change as a ``Block`` (a heading and its field lines, a rule's change in words), a discount
code's name masked, the summary, left-alone, deletes, PARTIAL and safety lines, and the row of
the all-targets table. Each format (``text.py``, ``markdown.py``, ``jsonformat.py``) lays these
out its own way; none of them reaches the network or the shop.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import describe, errors, kinds, model, plan, schedule, words

#: A value longer than this is shortened in field lines; the saved plan keeps it whole.
VALUE_LIMIT = 160

SIGNS = {"create": "+", "update": "~", "delete": "-"}


#: A masked code shows at most this many leading characters, then ``MASK_DOTS`` and its length.
MASK_PREFIX = 2
MASK_DOTS = "••••"


def mask_code(code: str) -> str:
    """``SPRING15`` → ``SP•••• (8)``: recognisable in review, never usable.

    At most ``MASK_PREFIX`` characters show, and never more than a third of the code, so a short
    code is never half given away; the dots are always four, whatever the length.
    """
    shown = min(MASK_PREFIX, len(code) // 3)
    return f"{code[:shown]}{MASK_DOTS} ({len(code)})"


def show_key(key: model.Key, *, show_codes: bool = True) -> str:
    """``ruleset spring-sale``; a discount code's name masked unless ``show_codes``."""
    if kinds.by_name[key.kind].secret_name and not show_codes:
        copy = f" #{key.server_id}" if key.server_id is not None else ""
        return f"{key.kind.label} {mask_code(key.ident[0])}{copy}"
    return key.describe()


def show_value(value: Any) -> str:
    """A value as compact JSON, shortened past VALUE_LIMIT characters."""
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def field_line(change: model.FieldChange) -> str:
    """``rules[gold].actions[0].value: -50 → -40``, ``sku_ids: + "SKU-3"``."""
    if change.op == "added":
        return f"{change.path}: + {show_value(change.new)}"
    if change.op == "removed":
        return f"{change.path}: - {show_value(change.old)}"
    if change.op == "duplicate":
        return f"{change.path}: duplicate {show_value(change.old)} removed"
    return f"{change.path}: {show_value(change.old)} → {show_value(change.new)}"


def summary_line(result: plan.Plan) -> str:
    """``Plan: 2 to create, 1 to update, 0 to delete.`` or ``No changes.``."""
    if result.empty:
        return "No changes."
    n = result.counts
    return f"Plan: {n['create']} to create, {n['update']} to update, {n['delete']} to delete."


def summary_note(resource: model.Resource) -> str:
    """What an object does, in words (``describe.py``), and where it is declared."""
    body = resource.body
    if not body:  # a live object an older saved plan did not keep
        text = "as the shop held it when planned"
    else:
        text = kinds.by_name[resource.key.kind].summary(body)
    if resource.origin is not None:
        text += f"; {resource.origin}"
    return text


def create_note(change: model.Create) -> str:
    """A new object at a glance, with where it is declared."""
    return summary_note(change.desired)


def left_alone_line(result: plan.Plan) -> str:
    """``Left alone: 12 rulesets of other apps …; 3 order condition groups not managed here.``."""
    if not result.left_alone:
        return ""
    return (
        "Left alone: "
        + "; ".join(
            f"{n} {_one(what) if n == 1 else what}" for what, n in result.left_alone.items()
        )
        + "."
    )


_PLURAL_NOUN = re.compile(r"\b(rulesets|discount codes|order condition groups|order conditions)\b")


def _one(reason: str) -> str:
    """A left-alone reason said of one object: ``discount code not managed here``."""
    return _PLURAL_NOUN.sub(lambda m: m.group(1)[:-1], reason, count=1)


def safety_lines(
    result: plan.Plan, *, forced: bool = False, overridden_by: str = "--force"
) -> list[str]:
    """The safety evaluation: the figures, then each broken limit (``forced``: as overridden).

    ``overridden_by`` names what lifted the limits: ``--force``, or the approval of an
    interrupted apply that this run resumes.
    """
    s = result.safety
    head = (
        f"Safety: {words.count(s.deletes, 'delete')} and {words.count(s.updates, 'update')} "
        f"of {words.count(s.managed, 'managed object')} "
        f"({s.delete_percent:.0f}% / {s.update_percent:.0f}%)"
    )
    if s.namings:
        # Listed in the plan, but they only give objects their external ids: no price moves.
        head += f", not counting {words.count(s.namings, 'update')} that only name objects"
    if s.ok:
        return [head + ": within limits."]
    refused = (*s.hard_violations, *filter(None, [s.other_apps_violation]))
    if forced:
        lines = [f"  ! {v}" for v in refused]
        lines += [
            f"  ! overridden by {overridden_by}: {_overridden(v)}"
            for v in (*s.violations, *s.price_violations)
        ]
        tail = ":" if refused else f": limits broken, overridden by {overridden_by}:"
        return [head + tail, *lines]
    return [head + ":", *(f"  ! {v}" for v in (*refused, *s.violations, *s.price_violations))]


def _overridden(violation: str) -> str:
    """``Refusing to delete 12 of 40 rulesets (…). Re-run with --force…`` → ``12 of 40 … (…)``."""
    text = violation.split(" Re-run with", 1)[0]
    return text.removeprefix("Refusing to ").removeprefix("Refusing ")


@dataclass(frozen=True)
class Block:
    """One change, ready to print: a heading line and its detail lines."""

    action: str
    heading: str
    details: tuple[str, ...]


def blocks(result: plan.Plan, *, show_codes: bool = True) -> Iterator[Block]:
    """Each change as a Block in plan order, with when it takes effect last."""
    for block, change in zip(_blocks(result, show_codes=show_codes), result.changes, strict=True):
        when = result.schedule.get(str(change.key))
        if when and kinds.by_name[change.key.kind].dated:
            block = Block(block.action, block.heading, (*block.details, f"when: {when}"))
        yield block


def timeline_lines(result: plan.Plan, *, show_codes: bool = True) -> list[str]:
    """``2027-03-01  ruleset spring-sale starts``: the next boundaries of the planned state."""
    return [
        f"{schedule.stamp(b.at)}  {show_key(b.key, show_codes=show_codes)} {b.event}"
        for b in result.timeline
    ]


def _blocks(result: plan.Plan, *, show_codes: bool = True) -> Iterator[Block]:
    for change in result.changes:
        name = show_key(change.key, show_codes=show_codes)
        if isinstance(change, model.Create):
            yield Block("create", f"{name} ({create_note(change)})", ())
        elif isinstance(change, model.Update):
            if change.live.key != change.key:  # adopted: the live object is keyed by its id
                name += f" (adopts {show_key(change.live.key, show_codes=show_codes)})"
            yield Block("update", name, tuple(update_lines(change)))
        else:
            why = change.reason or _why_gone(change, show_codes=show_codes)
            yield Block("delete", f"{name} ({summary_note(change.live)}) — {why}", ())


_RULE_PATH = re.compile(r"^rules\[(?P<name>[^\]]+)\](?P<rest>.*)$")


def update_lines(change: model.Update) -> Iterator[str]:
    """An update's field lines; a rule that changed what it does first says so in words.

    ``rules[gold]: gold −50% → gold −40%`` replaces the rule's condition and action lines; a
    rule added or removed whole reads ``rules[gold]: + gold −20%`` rather than its JSON. Other
    fields (priority, meta, type) keep their own lines.
    """
    old_rules = change.live.body.get("rules") or {}
    new_rules = change.desired.body.get("rules") or {}
    said: set[str] = set()
    for field in change.fields:
        found = _RULE_PATH.match(field.path)
        if found is None or field.op == "duplicate":
            yield field_line(field)
            continue
        name, rest = found["name"], found["rest"]
        old, new = old_rules.get(name), new_rules.get(name)
        if not rest and field.op in ("added", "removed"):
            body = field.new if field.op == "added" else field.old
            words = describe.rule(body) if isinstance(body, Mapping) else show_value(body)
            yield f"rules[{name}]: {'+' if field.op == 'added' else '-'} {words}"
            continue
        if old is not None and new is not None and rest.startswith((".actions", ".conditions")):
            before, after = describe.rule(old), describe.rule(new)
            if before != after:
                if name not in said:
                    said.add(name)
                    yield f"rules[{name}]: {before} → {after}"
                continue
        yield field_line(field)


def _why_gone(change: model.Delete, *, show_codes: bool) -> str:
    """Why an owned live object is to be deleted."""
    key = change.key
    if key.server_id is None:
        return plan.GONE
    if not key.ident[0]:  # no identity of its own: a ruleset without an external_id
        return "no manifest adopts it; ownership.unnamed_rulesets: delete"
    return f"a duplicate of {key.ident[0] if show_codes else mask_code(key.ident[0])}"


def deletes_line(result: plan.Plan, *, show_codes: bool = True) -> str:
    """``Deletes 2 objects: ruleset old-sale, discount code OL•••• (5).``, or ``""``."""
    gone = [c.key for c in result.changes if isinstance(c, model.Delete)]
    if not gone:
        return ""
    names = [show_key(k, show_codes=show_codes) for k in gone]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"Deletes {words.count(len(gone), 'object')}: {shown}."


def partial_line(filters: plan.Filters) -> str:
    """The PARTIAL banner, worded for ``--only``, ``--exclude`` or both."""
    only = " ".join(filters.only)
    exclude = " ".join(filters.exclude)
    if only and exclude:
        what = f"only objects matching --only {only}, less those matching --exclude {exclude}, were"
        return f"PARTIAL plan: {what} compared; other differences are not shown."
    if only:
        return (
            f"PARTIAL plan: only objects matching --only {only} were compared; other "
            "differences are not shown."
        )
    return (
        f"PARTIAL plan: objects matching --exclude {exclude} were left out; their differences "
        "are not shown."
    )


def totals(outcomes: Mapping[str, plan.Plan | errors.BoldrulesError]) -> Counter[str]:
    """Creates, updates and deletes summed over the targets that could be planned."""
    plans = [o for o in outcomes.values() if isinstance(o, plan.Plan)]
    totals = Counter[str]()
    for p in plans:
        totals.update(p.counts)
    return totals


def combined_line(outcomes: Mapping[str, plan.Plan | errors.BoldrulesError]) -> str:
    """``All targets: 1 to create, 0 to update, 0 to delete across 2 targets.``"""
    plans = [o for o in outcomes.values() if isinstance(o, plan.Plan)]
    summed = totals(outcomes)
    failed = [name for name, o in outcomes.items() if not isinstance(o, plan.Plan)]
    return (
        f"All targets: {summed['create']} to create, {summed['update']} to update, "
        f"{summed['delete']} to delete across {words.count(len(plans), 'target')}"
        + (f"; {len(failed)} could not be planned ({', '.join(failed)})" if failed else "")
        + "."
    )


def shop_row(
    name: str, outcome: plan.Plan | errors.BoldrulesError, *, markdown: bool
) -> tuple[str, str, str, str, str, str]:
    """One line of the all-targets table: target, shop, the three counts, and what stands out."""
    if not isinstance(outcome, plan.Plan):
        return (name, "", "", "", "", f"not planned (exit {outcome.exit_code})")
    counts = outcome.counts
    state = "no changes" if outcome.empty else "changes pending"
    if outcome.safety.violations or outcome.safety.hard_violations:
        state = "breaks a safety limit"
    shop = f"`{outcome.shop}`" if markdown else outcome.shop
    return (
        name,
        shop,
        str(counts["create"]),
        str(counts["update"]),
        str(counts["delete"]),
        state,
    )
