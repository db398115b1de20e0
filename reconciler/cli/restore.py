"""``boldrules restore``: put back what an apply changed, from the snapshot it saved.

A restore is a plan (snapshot → desired) and an apply of it, under the same safeguards as
``apply``: the lock, the safety limits, the question, and a snapshot of its own.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path

import click

from reconciler import apply, config, errors, pipeline, planformat, snapshot, words
from reconciler.cli import boundary, options, safeguards, terminal


@click.command("restore")
@options.project_option
@click.argument("snapshot_path", type=click.Path(dir_okay=False, path_type=Path))
@options.target_option
@options.yes_option
@click.option("--force", is_flag=True, help="Restore even if the plan breaks a safety limit.")
@options.allow_delete_option
@options.writes_options
@options.snapshot_option
@click.pass_context
def restore_command(
    ctx: click.Context,
    snapshot_path: Path,
    target_name: str | None,
    yes: bool,
    force: bool,
    allow_delete: bool,
    ledger: Path | None,
    lock_timeout: float,
    snapshot_file: Path | None,
) -> int:
    """Put back the objects an apply changed, from the snapshot it saved (a plan, then apply)."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    taken = snapshot.read(snapshot_path)
    if target_name is not None and target_name != taken.target:
        raise errors.PlanFileInvalid(
            f"{snapshot_path} was taken on target {taken.target!r}, not {target_name!r}"
        )
    target = project.target(taken.target)
    stop = threading.Event()
    with safeguards.locked(project, target, timeout=lock_timeout, stop=stop) as (bold, _):
        live = pipeline.read_shop(bold, project, None)
        result = snapshot.restore_plan(taken, live, target=target, project=project)
        terminal.show(
            planformat.text.render_text(result, color=terminal.colour(), forced=force),
            quiet=settings.quiet,
        )
        if result.empty:
            return boundary.OK
        result.check_safety(force=force)
        safeguards.confirm(result, yes=yes, allow_delete=allow_delete)
        taken, taken_to = safeguards.take_snapshot(
            result, project, snapshot_file, quiet=settings.quiet, forced=force
        )
        stream = None if settings.quiet else sys.stderr
        with apply.open_ledger(ledger) as ledger_file:
            progress = apply.Progress(stream=stream, ledger=ledger_file)
            report, _ = apply.execute_recorded(bold, result, progress=progress, stop=stop)
        snapshot.write(dataclasses.replace(taken, finished=True), taken_to)
    if not settings.quiet:
        click.echo(
            f"Restore complete: {words.count(report.done, 'call')} succeeded.",
            err=True,
        )
    return boundary.OK
