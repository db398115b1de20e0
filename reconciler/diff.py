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
    unique = {
        (c.path, c.op, model.canonical_json(c.old), model.canonical_json(c.new)): c for c in changes
    }
    return tuple(sorted(unique.values(), key=_reading_order))


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
    """Items of a set that went and came: a set's items have no position to name."""
    path = format_path(parts)
    before = {model.canonical_json(item): item for item in old}
    after = {model.canonical_json(item): item for item in new}
    for key in sorted(before.keys() - after.keys()):
        yield model.FieldChange(path, before[key], None, "removed")
    for key in sorted(after.keys() - before.keys()):
        yield model.FieldChange(path, None, after[key], "added")


def _list_changes(
    old: list[Any], new: list[Any], parts: tuple[Any, ...]
) -> Iterator[model.FieldChange]:
    """An ordered list (actions): deepdiff names each changed leaf by its index."""
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


_OP_RANK = {"removed": 0, "changed": 1, "added": 2}


def _reading_order(change: model.FieldChange) -> tuple[str, int, str, str]:
    """By path; within a path what goes before what comes."""
    return (
        change.path,
        _OP_RANK[change.op],
        model.canonical_json(change.old),
        model.canonical_json(change.new),
    )


def diff_resources(
    desired: Iterable[model.Resource], live: Iterable[model.Resource]
) -> list[model.Change]:
    """Creates for desired-only keys, Updates for differing pairs, Deletes for live-only keys."""
    live_by_key = {r.key.match: r for r in live}
    desired_by_key = {r.key.match: r for r in desired}
    changes: list[model.Change] = []
    for match, want in desired_by_key.items():
        have = live_by_key.get(match)
        if have is None:
            changes.append(model.Create(want))
        elif have.fingerprint() != want.fingerprint():
            changes.append(model.Update(want, have, field_changes(have.body, want.body)))
    changes.extend(
        model.Delete(have) for match, have in live_by_key.items() if match not in desired_by_key
    )
    return changes
