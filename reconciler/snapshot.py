"""Snapshots of what an apply is about to change, and the plan that puts them back (``restore``).

Before its first write, ``apply`` saves the live state of every object its plan touches: the
body an update or delete will replace, or "absent" for an object it creates. The file (JSON, in
``.boldrules/snapshots/<target>-<UTC time>.json`` unless ``--snapshot FILE``) is written before
any call, so it exists even when the apply fails halfway or is interrupted.

``restore_plan`` turns a snapshot and the shop's live state into an ordinary ``plan.Plan``
restricted to the snapshot's objects: an object the apply created is deleted, one it changed is
put back, one it deleted is created again; objects already as the snapshot holds them are left
alone, so restoring twice, or after a half-failed apply, does only what is left. It goes through
the usual preview, safety rules and confirmation like any plan.

Not restorable, and said so in the plan's notes: objects known only by a server id (a ruleset
without an external id that the apply deleted, or a duplicate copy it removed): the API cannot
re-create an object under a server id. Giving an adopted ruleset its external id changes no price
and is not undone; its rules and fields are.

Owns the snapshot format and the restore plan; it does no I/O but reading and writing the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import (
    __version__,
    atomic,
    config,
    diff,
    errors,
    instants,
    model,
    plan,
    safetyrules,
    state,
    words,
)
from reconciler.targets import Target

#: Version of the snapshot document; bump on an incompatible change.
FORMAT_VERSION = 1
#: Where snapshots go, relative to the project folder, when ``--snapshot`` is not given.
FOLDER = Path(".boldrules") / "snapshots"


@dataclass(frozen=True)
class Entry:
    """One object as it was before the apply: its body, or None when it did not exist."""

    key: model.Key
    before: Mapping[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        """The entry in the snapshot file."""
        return {"key": self.key.as_json(), "id": str(self.key), "before": self.before}


@dataclass(frozen=True)
class Approval:
    """The plan a run was approved to apply: what a re-run after an interruption is judged by."""

    #: ``str(key)`` → ``action`` and the desired body's fingerprint (None for a delete).
    changes: Mapping[str, tuple[str, str | None]]
    #: The approved plan broke no soft limit, or ``--force`` lifted them.
    cleared: bool
    forced: bool = False

    def covers(self, result: plan.Plan) -> bool:
        """Whether every change of ``result`` is one this approval already approved, unchanged."""
        return all(self.changes.get(str(c.key)) == _signature(c) for c in result.changes)

    def as_json(self) -> dict[str, Any]:
        """The approval in the snapshot file."""
        return {
            "cleared": self.cleared,
            "forced": self.forced,
            "changes": {k: list(v) for k, v in sorted(self.changes.items())},
        }


def _signature(change: model.Change) -> tuple[str, str | None]:
    if isinstance(change, model.Delete):
        return (change.action, None)
    return (change.action, change.desired.fingerprint())


@dataclass(frozen=True)
class Snapshot:
    """The live state of every object one plan touches, taken before it was applied."""

    target: str
    shop: str
    taken_at: str
    entries: tuple[Entry, ...]
    plan_checksum: str = ""
    tool_version: str = __version__
    path: Path | None = None
    approval: Approval | None = None
    #: False until the apply that wrote it ends with every call done.
    finished: bool = False

    def as_json(self) -> dict[str, Any]:
        """The snapshot file's document."""
        return {
            "boldrules_snapshot": FORMAT_VERSION,
            "target": self.target,
            "shop": self.shop,
            "taken_at": self.taken_at,
            "tool_version": self.tool_version,
            "plan_checksum": self.plan_checksum,
            "finished": self.finished,
            "approved": self.approval.as_json() if self.approval is not None else None,
            "objects": [entry.as_json() for entry in self.entries],
        }


def take(
    result: plan.Plan,
    *,
    forced: bool = False,
    resumes: Snapshot | None = None,
    now: dt.datetime | None = None,
) -> Snapshot:
    """The live state of every object ``result`` touches, from the plan itself (no call).

    ``resumes``: the interrupted run's snapshot this run finishes; its states (the shop before
    that run) and its approval are kept, so a restore undoes both runs together.
    """
    entries: list[Entry] = []
    for change in result.changes:
        if isinstance(change, model.Create):
            entries.append(Entry(change.key, None))
            continue
        body = dict(change.live.body)
        if change.live.key != change.key and change.key.kind is model.Kind.RULESET:
            # An adoption: the ruleset keeps the name it is given; its prices are put back.
            body["external_id"] = change.key.ident[0]
        entries.append(Entry(change.key, body))
    moment = now or instants.now()
    approval = Approval(
        {str(c.key): _signature(c) for c in result.changes},
        cleared=forced or result.safety.ok,
        forced=forced,
    )
    if resumes is not None:
        earlier = {str(e.key) for e in resumes.entries}
        entries = [*resumes.entries, *(e for e in entries if str(e.key) not in earlier)]
        approval = resumes.approval or approval
    return Snapshot(
        target=result.target,
        shop=result.shop,
        taken_at=instants.stamp(moment),
        entries=tuple(entries),
        plan_checksum=result.checksum,
        approval=approval,
    )


def interrupted(
    root: Path, target: str, shop: str, *, explicit: Path | None = None
) -> Snapshot | None:
    """The snapshot of this target's last apply if it did not finish (``explicit``: that file).

    Only the newest snapshot of the target is considered: an older unfinished one was followed
    by another apply, which planned from the shop as it then was.
    """
    if explicit is not None:
        candidates = [explicit] if explicit.exists() else []
    else:
        folder = root / FOLDER
        candidates = sorted(folder.glob(f"{target}-*.json"), key=lambda p: p.stat().st_mtime)[-1:]
    for path in candidates:
        try:
            found = read(path)
        except errors.PlanFileInvalid:
            return None
        if not found.finished and found.shop == shop and found.target == target:
            return found
    return None


def default_path(root: Path, target: str, taken_at: str) -> Path:
    """``<root>/.boldrules/snapshots/<target>-<20270301T101500Z>.json``."""
    stamp = taken_at.replace("-", "").replace(":", "")
    return root / FOLDER / f"{target}-{stamp}.json"


def free_path(path: Path) -> Path:
    """``path``, or ``<stem>-2.json``, ``-3``… when a snapshot of the same second is there."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def write(snapshot: Snapshot, path: Path) -> Path:
    """Write the snapshot atomically, folders made as needed; PlanFileInvalid if it cannot."""
    text = json.dumps(snapshot.as_json(), indent=2, ensure_ascii=False) + "\n"
    try:
        atomic.write_text(path, text, make_folders=True)
    except OSError as exc:
        raise errors.PlanFileInvalid(
            f"{path}: cannot write the snapshot ({exc.strerror}); nothing was applied"
        ) from None
    return path


def read(path: Path) -> Snapshot:
    """Read a snapshot file; PlanFileInvalid naming the file and what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise errors.PlanFileInvalid(f"{path}: no such snapshot file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.PlanFileInvalid(f"{path}: not a readable snapshot file ({exc})") from None
    if not isinstance(document, dict) or document.get("boldrules_snapshot") != FORMAT_VERSION:
        raise errors.PlanFileInvalid(
            f"{path}: not a boldrules snapshot (apply writes them to {FOLDER}/)"
        )
    try:
        entries = tuple(
            Entry(model.Key.from_json(item["key"]), _body(item["before"]))
            for item in document["objects"]
        )
        approved = document.get("approved")
        approval = (
            Approval(
                {str(k): (str(v[0]), v[1]) for k, v in approved["changes"].items()},
                cleared=bool(approved["cleared"]),
                forced=bool(approved.get("forced")),
            )
            if isinstance(approved, dict)
            else None
        )
        return Snapshot(
            approval=approval,
            finished=bool(document.get("finished", True)),
            target=str(document["target"]),
            shop=str(document["shop"]),
            taken_at=str(document["taken_at"]),
            entries=entries,
            plan_checksum=str(document.get("plan_checksum", "")),
            tool_version=str(document.get("tool_version", "")),
            path=path,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.PlanFileInvalid(f"{path}: damaged snapshot (missing or bad {exc})") from None


def _body(value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("before")
    return value


def restore_plan(
    snapshot: Snapshot,
    live: state.LiveState,
    *,
    target: Target,
    project: config.Project,
    now: dt.datetime | None = None,
) -> plan.Plan:
    """The plan that brings the snapshot's objects back to how it holds them (pure)."""
    if live.shop != snapshot.shop:
        raise errors.PlanFileInvalid(
            f"{snapshot.path}: the snapshot is of shop {snapshot.shop}, but target "
            f"{target.name} is shop {live.shop}: restore it with the target it was taken on"
        )
    restorable = [e for e in snapshot.entries if e.key.server_id is None]
    skipped = [e for e in snapshot.entries if e.key.server_id is not None]
    wanted = {e.key.match for e in restorable}
    desired = [model.Resource(e.key, e.before) for e in restorable if e.before is not None]
    current = [r for r in live.resources if r.key.match in wanted]
    changes: Sequence[model.Change] = plan.order_changes(
        diff.diff_resources(desired, current, shop=live.shop)
    )
    changes = [
        dataclasses.replace(c, reason=f"created after the snapshot of {snapshot.taken_at}")
        if isinstance(c, model.Delete)
        else c
        for c in changes
    ]
    fingerprints: dict[str, str | None] = {}
    for change in changes:
        have = None if isinstance(change, model.Create) else change.live
        fingerprints[str(change.key)] = have.fingerprint() if have is not None else None
    managed = Counter(r.key.kind for r in live.resources)
    moment = now or instants.now()
    notes = [
        f"Restores snapshot {snapshot.path or ''} of shop {snapshot.shop} taken at "
        f"{snapshot.taken_at}: {words.count(len(restorable), 'object')}, "
        "only those."
    ]
    if skipped:
        names = ", ".join(e.key.describe() for e in skipped[:5])
        notes.append(
            f"Not restorable (known only by a server id, which the API cannot re-create): {names}."
        )
    return plan.Plan(
        target=target.name,
        shop=live.shop,
        api_version=target.api_version,
        changes=tuple(changes),
        fingerprints=fingerprints,
        left_alone={},
        safety=safetyrules.evaluate_safety(changes, managed=managed, rules=project.safety),
        created_at=instants.stamp(moment),
        notes=tuple(notes),
    )
