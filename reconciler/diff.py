"""Desired against live: Create, Update (field by field) and Delete, matched by identity.

Pure: no I/O, no ownership (``plan.py`` decides what may be touched). Bodies are already
normalised by ``state.py``, so equality is equality of canonical JSON, and deepdiff is asked only
to explain a difference, never to find one: an object whose canonical forms match is never an
Update, and one whose forms differ always is, with at least one FieldChange.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reconciler import kinds, model
from reconciler.kinds import rules

#: Lists whose order carries no meaning: changes inside them read as items added and removed.
SET_LIKE = model.SET_FIELDS

#: Mappings whose keys are identities, shown as ``rules[gold-half-off]`` rather than ``.gold``.
KEYED = frozenset({"rules"})


def format_path(parts: Iterable[Any]) -> str:
    """``['rules', 'gold', 'actions', 0, 'value']`` → ``rules[gold].actions[0].value``."""
    text = ""
    previous: Any = None
    for part in parts:
        if isinstance(part, int) or previous in KEYED:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text


def field_changes(
    live: Mapping[str, Any], desired: Mapping[str, Any]
) -> tuple[model.FieldChange, ...]:
    """Every changed field between two normalised bodies, in reading order."""
    if model.canonical_json(live) == model.canonical_json(desired):
        return ()
    changes = list(_walk(live, desired, ()))
    if not changes:  # cannot happen for JSON values; never report an Update with nothing in it
        changes.append(model.FieldChange("(body)", dict(live), dict(desired)))
    return _tidy(changes)


def _tidy(changes: Iterable[model.FieldChange]) -> tuple[model.FieldChange, ...]:
    """Field changes in reading order, each once (a duplicate copy counts per copy)."""
    seen: Counter[tuple[str, str, str, str]] = Counter()
    out: list[model.FieldChange] = []
    for change in changes:
        old, new = model.canonical_json(change.old), model.canonical_json(change.new)
        ident = (change.path, str(change.op), old, new)
        seen[ident] += 1
        if seen[ident] == 1 or change.op == "duplicate":
            out.append(change)
    return tuple(sorted(out, key=_reading_order))


def _walk(old: Any, new: Any, parts: tuple[Any, ...]) -> Iterator[model.FieldChange]:
    """Descend only where the two sides differ, so large equal subtrees cost one comparison."""
    if model.canonical_json(old) == model.canonical_json(new):
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(old.keys() | new.keys(), key=str):
            path = (*parts, key)
            if key not in old:
                yield model.FieldChange(format_path(path), None, new[key], "added")
            elif key not in new:
                yield model.FieldChange(format_path(path), old[key], None, "removed")
            else:
                yield from _walk(old[key], new[key], path)
    elif isinstance(old, list) and isinstance(new, list):
        if parts and parts[-1] in SET_LIKE:
            yield from _set_changes(old, new, parts)
        else:
            yield from _list_changes(old, new, parts)
    else:
        yield model.FieldChange(format_path(parts), old, new, "changed")


def _set_changes(
    old: list[Any], new: list[Any], parts: tuple[Any, ...]
) -> Iterator[model.FieldChange]:
    """Items of a set that went and came, and extra copies: a set's items have no position.

    An item the live list holds more often than the desired one (a field set added twice by
    overlapping applies) reads ``duplicate``: one copy stays, the others go.
    """
    path = format_path(parts)
    items = {model.canonical_json(item): item for item in (*old, *new)}
    before = Counter(model.canonical_json(item) for item in old)
    after = Counter(model.canonical_json(item) for item in new)
    for key in sorted(before):
        if key not in after:
            yield model.FieldChange(path, items[key], None, "removed")
        for _ in range(before[key] - max(after[key], 1)):
            yield model.FieldChange(path, items[key], None, "duplicate")
    for key in sorted(after):
        for _ in range(after[key] - before[key]):
            yield model.FieldChange(path, None, items[key], "added")


def _list_changes(
    old: list[Any], new: list[Any], parts: tuple[Any, ...]
) -> Iterator[model.FieldChange]:
    """An ordered list (actions): deepdiff names each changed leaf by its index."""
    from deepdiff import DeepDiff  # ~35 ms to import: only once a list differs

    found = DeepDiff(old, new, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    for report, levels in found.items():
        for level in levels:
            path = format_path((*parts, *level.path(output_format="list")))
            before = None if _absent(level.t1) else level.t1
            after = None if _absent(level.t2) else level.t2
            if report in ("dictionary_item_added", "iterable_item_added"):
                yield model.FieldChange(path, None, after, "added")
            elif report in ("dictionary_item_removed", "iterable_item_removed"):
                yield model.FieldChange(path, before, None, "removed")
            else:
                yield model.FieldChange(path, before, after, "changed")


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


_OP_RANK = {"duplicate": 0, "removed": 0, "changed": 1, "added": 2}


def _reading_order(change: model.FieldChange) -> tuple[str, int, str, str]:
    """By path; within a path what goes before what comes."""
    return (
        change.path,
        _OP_RANK[change.op],
        model.canonical_json(change.old),
        model.canonical_json(change.new),
    )


# --- identity: adoption of unnamed objects, duplicates -----------------------------------------


#: A ruleset's rules paired with a live ruleset's (``kinds/rules.py``), and its ``adopt`` hints.
RulePairing = rules.RulePairing
pair_rules = rules.pair_rules
adoption = rules.adoption


def compare(desired: model.Resource, live: model.Resource) -> model.Update | None:
    """The Update that turns ``live`` into ``desired`` (matched already), or None if equal.

    Beyond the bodies, a ruleset is also changed when it or its rules must be given their
    external ids (adoption) or when it holds duplicate rules.
    """
    # Identical bodies first (``Resource.exact``, found as the objects were made): a shop with
    # nothing to do compares every object it holds. Equal exact forms mean equal JSON; bodies
    # that differ only in form (keys in another order, a tuple for a list) still match by
    # fingerprint.
    same = (desired.exact is not None and desired.exact == live.exact) or (
        desired.fingerprint() == live.fingerprint()
    )
    if not kinds.by_name[desired.key.kind].adoptable or (
        same and "duplicate_rules" not in live.handles
    ):
        # Equal bodies name the same rules: nothing to adopt, and no copy without duplicates.
        return None if same else model.Update(desired, live, field_changes(live.body, desired.body))
    pairing = pair_rules(desired, live)
    have = {**live.body, "rules": dict(pairing.rules)}
    extra: list[model.FieldChange] = []
    want_id = desired.body.get("external_id")
    if have.get("external_id") != want_id:
        before = have.get("external_id")
        extra.append(
            model.FieldChange(
                "external_id", before, want_id, "added" if before is None else "changed"
            )
        )
        have["external_id"] = want_id
    for name in sorted(pairing.named):
        extra.append(model.FieldChange(f"rules[{name}].external_id", None, name, "added"))
    for repeats, _, body in pairing.duplicates.values():
        extra.append(model.FieldChange(f"rules[{repeats}]", body, None, "duplicate"))
    if not extra and model.canonical_json(have) == model.canonical_json(desired.body):
        return None
    return model.Update(desired, live, _tidy([*extra, *field_changes(have, desired.body)]))


def naming_only(change: model.Change) -> bool:
    """Whether an Update only gives objects their external ids: no price can change by it."""
    return isinstance(change, model.Update) and all(
        f.op == "added" and (f.path == "external_id" or f.path.endswith("].external_id"))
        for f in change.fields
    )


def _for_shop(resource: model.Resource, shop: str | None) -> model.Resource:
    """``resource`` without ``adopt`` hints written for another shop (ids mean nothing there)."""
    hint = adoption(resource)
    if not hint or shop is None or hint.get("shop") == shop:
        return resource
    handles = {k: v for k, v in resource.handles.items() if k != "adopt"}
    return model.Resource(resource.key, resource.body, resource.origin, handles)


def diff_resources(
    desired: Iterable[model.Resource],
    live: Iterable[model.Resource],
    *,
    shop: str | None = None,
) -> list[model.Change]:
    """Creates for desired-only keys, Updates for differing pairs, Deletes for live-only keys.

    A desired ruleset no live one matches by key adopts the live ruleset whose server id its
    ``adopt.id`` names (for ``shop``; hints for another shop are dropped), if no other
    declaration claimed that one by key: the Update then gives it its external id in place.
    """
    live_list = list(live)
    live_by_key = {r.key.match: r for r in live_list}
    pairs: list[tuple[model.Resource, model.Resource]] = []
    unmatched: list[model.Resource] = []
    claimed: set[Any] = set()
    for want in (_for_shop(r, shop) for r in desired):
        have = live_by_key.get(want.key.match)
        if have is None:
            unmatched.append(want)
        else:
            pairs.append((want, have))
            claimed.add(have.key.match)
    by_id = {
        r.handles["id"]: r
        for r in live_list
        if kinds.by_name[r.key.kind].adoptable
        and r.key.match not in claimed
        and r.handles.get("id") is not None
    }
    changes: list[model.Change] = []
    for want in unmatched:
        server_id = adoption(want).get("id") if kinds.by_name[want.key.kind].adoptable else None
        have = by_id.pop(server_id, None) if server_id is not None else None
        if have is None:
            changes.append(model.Create(want))
        else:
            pairs.append((want, have))
            claimed.add(have.key.match)
    for want, have in pairs:
        update = compare(want, have)
        if update is not None:
            changes.append(update)
    changes.extend(model.Delete(have) for have in live_list if have.key.match not in claimed)
    return changes
