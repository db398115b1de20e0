"""The plan as a JSON document, and the saved-plan file (``plan --out``, ``apply FILE``, ``show``).

``plan_json`` is the document ``schemas/plan.schema.json`` describes (``--format json`` prints
it, ``plan --out`` saves it); ``read_plan`` checks a saved one (format version, shape, checksum)
into a ``SavedPlan`` that apply re-checks against the shop. Reading and writing the file is the
only I/O. (A change's own JSON form, which the checksum covers, is ``plan.change_json``.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import atomic, errors, instants, lock, model, ownership, plan

#: Version of the saved-plan and ``--format json`` document; bump on incompatible change.
FORMAT_VERSION = 1


def plan_json(result: plan.Plan) -> dict[str, Any]:
    """The whole plan as the JSON document ``schemas/plan.schema.json`` describes."""
    return {
        "format_version": FORMAT_VERSION,
        "tool_version": result.tool_version,
        "created_at": result.created_at,
        "target": result.target,
        "shop": result.shop,
        "api_version": result.api_version,
        "partial": result.partial,
        "filters": {"only": list(result.filters.only), "exclude": list(result.filters.exclude)},
        "summary": result.counts,
        "checksum": result.checksum,
        "safety": result.safety.as_json(),
        "left_alone": dict(result.left_alone),
        "notes": list(result.notes),
        "changes": [plan.change_json(c) for c in result.changes],
        "fingerprints": dict(result.fingerprints),
        "ownership": result.record.as_json() if result.record is not None else None,
        "lock": lock_json(result.lock_holder),
        "preview": result.preview.as_json() if result.preview is not None else None,
        "at": result.at or result.created_at,
        "schedule": dict(result.schedule),
        "timeline": [b.as_json() for b in result.timeline],
        "findings": [f.as_json() for f in result.findings],
        "freeze": (
            {
                "name": result.freeze.name,
                "start": instants.stamp(result.freeze.start),
                "end": instants.stamp(result.freeze.end),
                "reason": result.freeze.reason,
            }
            if result.freeze is not None
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


def write_plan(result: plan.Plan, path: Path) -> None:
    """Write the saved plan atomically (a partial file never replaces a good one)."""
    text = json.dumps(plan_json(result), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
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
        return frozenset(ownership.member_key(item) for item in section["declared"])
    except ValueError as exc:
        raise errors.PlanFileInvalid(f"{saved.path}: damaged ownership section ({exc})") from None
