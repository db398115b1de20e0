"""What stands between a command and the shop's prices: the lock, the freeze, the question,
and the snapshot taken before the first write (``apply`` and ``restore`` share them).

Each refusal is an ``errors.UnsafePlan`` (exit 4) saying how to proceed; the boundary prints it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from reconciler import (
    client,
    config,
    errors,
    instants,
    lock,
    ownership,
    pipeline,
    plan,
    planformat,
    schedule,
    snapshot,
    words,
)
from reconciler.cli import terminal
from reconciler.targets import Target


@contextlib.contextmanager
def locked(
    project: config.Project, target: Target, *, timeout: float, stop: threading.Event
) -> Iterator[tuple[client.BoldClient, lock.ApplyLock]]:
    """The target's client, with the project's apply lock held on the shop for the block."""
    with (
        pipeline.open_client(project, target) as bold,
        lock.held(
            lock.ApplyLock(bold, project.ownership.record, notify=terminal.warn),
            timeout=timeout,
            stop=stop,
        ) as held,
    ):
        yield bold, held


def take_snapshot(
    result: plan.Plan,
    project: config.Project,
    path: Path | None,
    *,
    quiet: bool,
    forced: bool = False,
    resumes: snapshot.Snapshot | None = None,
) -> tuple[snapshot.Snapshot, Path]:
    """Save what the plan is about to change, before the first write; say where."""
    taken = snapshot.take(result, forced=forced, resumes=resumes)
    where = path or (resumes.path if resumes is not None else None)
    where = where or snapshot.free_path(
        snapshot.default_path(project.root, result.target, taken.taken_at)
    )
    snapshot.write(taken, where)
    if not quiet:
        count = len(taken.entries)
        shown = terminal.relative(where)
        click.echo(
            f"Saved the state of the {words.count(count, 'object')} this run changes "
            f"to {shown}; `boldrules restore {shown}` puts them back.",
            err=True,
        )
    return taken, where


def resumes(
    result: plan.Plan, project: config.Project, path: Path | None
) -> snapshot.Snapshot | None:
    """The interrupted apply this plan finishes: every change one that run approved."""
    found = snapshot.interrupted(project.root, result.target, result.shop, explicit=path)
    if found is None or found.approval is None or not found.approval.covers(result):
        return None
    return found


def check_freeze(
    project: config.Project, *, force: bool, reason: str | None
) -> schedule.FreezeWindow | None:
    """Refuse (exit 4) during a freeze window unless ``--force`` with ``--reason``."""
    if reason is not None and not reason.strip():
        raise click.BadParameter("--reason needs some text saying why", param_hint="--reason")
    now = instants.now()
    freeze = schedule.freeze_at(project.freeze, now)
    if freeze is None:
        return None
    if not (force and reason):
        raise errors.UnsafePlan(
            [
                f"Refusing to apply during freeze window {freeze.describe()}. Wait until "
                f"{instants.stamp(freeze.end)}, or re-run with --force --reason TEXT "
                "(the reason goes in the ledger)."
            ]
        )
    terminal.warn(f"Applying during freeze window {freeze.name} (--force): {reason}")
    return freeze


def override_entry(
    freeze: schedule.FreezeWindow | None, reason: str, *, force: bool
) -> dict[str, Any]:
    """The ledger line saying why this apply overrode a freeze (or was forced)."""
    return {
        "time": instants.stamp(instants.now()),
        "event": "freeze-override" if freeze is not None else "forced",
        "freeze": freeze.name if freeze is not None else None,
        "force": force,
        "reason": reason,
        "user": ownership.whoami(),
    }


def recorded(record: ownership.RecordPlan, listed: int | None, *, quiet: bool) -> None:
    """Say how many objects the ownership record lists now (if it was written)."""
    if listed is not None and not quiet:
        click.echo(
            f"Ownership record {record.external_id} now lists {words.count(listed, 'object')}.",
            err=True,
        )


def confirm(result: plan.Plan, *, yes: bool, allow_delete: bool) -> None:
    """Ask on a terminal; without one, insist on --yes, and on --allow-delete for deletes."""
    deletes = result.counts["delete"]
    if yes or not terminal.interactive():
        if not yes:
            raise errors.UnsafePlan(
                [
                    "Refusing to apply without confirmation: no terminal to ask on. Re-run "
                    "with --yes (and --allow-delete if the plan deletes) to apply unattended."
                ]
            )
        if deletes and not allow_delete:
            raise errors.UnsafePlan(
                [
                    f"Refusing to delete {words.count(deletes, 'object')} in an "
                    "unattended run. Re-run with --allow-delete if intended."
                ]
            )
        return
    question = f"Apply these changes to shop {result.shop} (target {result.target})?"
    if deletes:  # asked once, with what goes: the line a reviewer must not miss
        question = f"{planformat.pieces.deletes_line(result)} {question}"
    if not click.confirm(question, default=False, err=True):
        raise click.Abort()
