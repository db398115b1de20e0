"""Desired against live: Create, Update (field by field) and Delete, matched by identity.

Pure: no I/O, no ownership (``plan.py`` decides what may be touched). Bodies are already
normalised by ``state.py``, so equality is equality of canonical JSON, and deepdiff is asked only
to explain a difference, never to find one: an object whose canonical forms match is never an
Update, and one whose forms differ always is, with at least one FieldChange.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from deepdiff import DeepDiff

from reconciler import model

#: Lists whose order carries no meaning: changes inside them read as items added and removed.
SET_LIKE = frozenset(
    {
        "sku_ids",
        "product_ids",
        "variant_ids",
        "collection_ids",
        "vendors",
        "titles",
        "product_types",
        "conditions",
        "field_sets",
        "limits",
        "restrict_by_emails",
    }
)

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


def _is_set_like(level: Any) -> bool:
    path = level.path(output_format="list")
    return bool(path) and path[-1] in SET_LIKE


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def field_changes(
    live: Mapping[str, Any], desired: Mapping[str, Any]
) -> tuple[model.FieldChange, ...]:
    """Every changed leaf between two normalised bodies, sorted by path."""
    if model.canonical_json(live) == model.canonical_json(desired):
        return ()
    found = DeepDiff(
        live,
        desired,
        ignore_order_func=_is_set_like,
        view="tree",
        verbose_level=2,
        threshold_to_diff_deeper=0,
    )
    changes: list[model.FieldChange] = []
    for report, levels in found.items():
        for level in levels:
            changes.extend(_explain(report, level))
    changes.extend(_set_member_swaps(live, desired, ()))
    if not changes:
        # deepdiff saw no difference where canonical JSON did (a type change deepdiff folds,
        # say): report the whole body rather than an Update with nothing to show.
        changes.append(model.FieldChange("(body)", dict(live), dict(desired)))
    unique = {
        (c.path, c.op, model.canonical_json(c.old), model.canonical_json(c.new)): c for c in changes
    }
    return tuple(sorted(unique.values(), key=_reading_order))


_OP_RANK = {"removed": 0, "changed": 1, "added": 2}


def _reading_order(change: model.FieldChange) -> tuple[str, int, str, str]:
    """By path; within a path what goes before what comes."""
    return (
        change.path,
        _OP_RANK[change.op],
        model.canonical_json(change.old),
        model.canonical_json(change.new),
    )


def _explain(report: str, level: Any) -> Iterator[model.FieldChange]:
    parts = level.path(output_format="list")
    old = None if _absent(level.t1) else level.t1
    new = None if _absent(level.t2) else level.t2
    container = parts[:-1]
    in_set = bool(container) and isinstance(parts[-1], int) and container[-1] in SET_LIKE
    if in_set:
        if isinstance(old, Mapping) or isinstance(new, Mapping):
            return  # objects in a set are compared whole by _set_member_swaps
        # An item of a set changed: say which went and which came, not "item 0 changed".
        path = format_path(container)
        if old is not None:
            yield model.FieldChange(path, old, None, "removed")
        if new is not None:
            yield model.FieldChange(path, None, new, "added")
        return
    if in_set_member(parts):
        # A field inside an object of a set (a field set's province, say): the object as a
        # whole went and came (see _set_member_swaps), since set items have no position to name.
        return
    path = format_path(parts)
    if report in ("dictionary_item_added", "iterable_item_added"):
        yield model.FieldChange(path, None, new, "added")
    elif report in ("dictionary_item_removed", "iterable_item_removed"):
        yield model.FieldChange(path, old, None, "removed")
    else:
        yield model.FieldChange(path, old, new, "changed")


def in_set_member(parts: list[Any]) -> bool:
    """True when ``parts`` points inside an item of a set-like list."""
    return any(
        isinstance(parts[i + 1], int) and parts[i] in SET_LIKE and i + 2 < len(parts)
        for i in range(len(parts) - 1)
    )


def diff_resources(
    desired: Iterable[model.Resource], live: Iterable[model.Resource]
) -> list[model.Change]:
    """Creates for desired-only keys, Updates for differing pairs, Deletes for live-only keys."""
    live_by_key = {r.key: r for r in live}
    desired_by_key = {r.key: r for r in desired}
    changes: list[model.Change] = []
    for key, want in desired_by_key.items():
        have = live_by_key.get(key)
        if have is None:
            changes.append(model.Create(want))
        elif have.fingerprint() != want.fingerprint():
            changes.append(model.Update(want, have, field_changes(have.body, want.body)))
    changes.extend(
        model.Delete(have) for key, have in live_by_key.items() if key not in desired_by_key
    )
    return changes


def _set_member_swaps(
    live: Any, desired: Any, parts: tuple[Any, ...]
) -> Iterator[model.FieldChange]:
    """Walk both bodies; for each set-like list, report items present on one side only."""
    if isinstance(live, Mapping) and isinstance(desired, Mapping):
        for name in live.keys() & desired.keys():
            yield from _set_member_swaps(live[name], desired[name], (*parts, name))
        return
    if not (isinstance(live, list) and isinstance(desired, list)):
        return
    if parts and parts[-1] in SET_LIKE:
        if not any(isinstance(item, Mapping) for item in (*live, *desired)):
            return  # scalar sets are already explained item by item by deepdiff
        live_items = {model.canonical_json(i): i for i in live}
        desired_items = {model.canonical_json(i): i for i in desired}
        path = format_path(parts)
        for key in sorted(live_items.keys() - desired_items.keys()):
            yield model.FieldChange(path, live_items[key], None, "removed")
        for key in sorted(desired_items.keys() - live_items.keys()):
            yield model.FieldChange(path, None, desired_items[key], "added")
        return
    for index, (a, b) in enumerate(zip(live, desired, strict=False)):
        yield from _set_member_swaps(a, b, (*parts, index))
