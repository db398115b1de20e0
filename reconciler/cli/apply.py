"""``boldrules apply``: converge the shop to the manifests, or apply a saved plan.

The order is the safety: the freeze is checked, the apply lock taken, the plan made (or a saved
plan checked for staleness) under the lock, its safety limits judged, the user asked, the
snapshot saved, and only then the first write (safeguards.py holds each step's refusals).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import click

from reconciler import (
    apply,
    carts,
    config,
    errors,
    pipeline,
    plan,
    planformat,
    progress,
    redact,
    savedplan,
    snapshot,
    words,
)
from reconciler.cli import boundary, options, safeguards, terminal


@click.command("apply")
@options.project_option
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@options.target_option
@options.yes_option
@click.option("--force", is_flag=True, help="Apply even if the plan breaks a safety limit.")
@click.option(
    "--reason",
    metavar="TEXT",
    help="Why this apply runs during a freeze window (with --force); written to the ledger.",
)
@options.allow_delete_option
@options.writes_options
@options.snapshot_option
@options.format_option(
    ["text", "json"],
    "json: the plan goes to stderr and stdout gets a result object (per object: done, "
    "failed, skipped or not attempted, with its calls and statuses).",
)
@options.filter_options
@click.pass_context
def apply_command(
    ctx: click.Context,
    plan_file: Path | None,
    target_name: str | None,
    yes: bool,
    force: bool,
    reason: str | None,
    allow_delete: bool,
    ledger: Path | None,
    lock_timeout: float,
    snapshot_file: Path | None,
    output: str,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    alongside_other_apps: bool,
) -> int:
    """Converge the shop to the manifests, or apply a saved plan after checking it is not stale."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    saved = savedplan.read_plan(plan_file) if plan_file is not None else None
    if saved is not None:
        if target_name is not None and target_name != saved.target:
            raise errors.PlanFileInvalid(
                f"{plan_file} was made for target {saved.target!r}, not {target_name!r}"
            )
        if only or exclude:
            raise errors.PlanFileInvalid(
                "--only/--exclude cannot narrow a saved plan: make a new plan with them instead"
            )
        target_name = saved.target
    target = project.target(target_name)
    plan.Filters(only=only, exclude=exclude).check()
    freeze = safeguards.check_freeze(project, force=force, reason=reason)
    declared = pipeline.declare(project, target) if saved is None else None
    samples = carts.load_carts(project) if saved is None else None
    stop = threading.Event()
    with safeguards.locked(project, target, timeout=lock_timeout, stop=stop) as (bold, held):
        # Planned only once the lock is held: a saved plan's staleness check and a fresh plan
        # both read the shop as no other apply can change it any more.
        if saved is not None:
            result = apply.check_saved_plan(bold, saved, project=project, target=target)
        else:
            assert declared is not None
            filters = plan.Filters(only=only, exclude=exclude)
            result = pipeline.plan_shop(
                bold, project, target, declared, filters=filters, samples=samples
            )
        if result.lock_holder is not None and result.lock_holder.token == held.token:
            result = dataclasses.replace(result, lock_holder=None)  # our own lock
        resumed = safeguards.resumes(result, project, snapshot_file)
        # A re-run of an interrupted apply is judged by the plan that was approved then, not by
        # what is left of it (the remainder of 300 forced updates still breaks the limit).
        waived = bool(
            resumed is not None
            and resumed.approval is not None
            and resumed.approval.cleared
            and not result.safety.ok
        )
        if resumed is not None and not settings.quiet:
            approved = len(resumed.approval.changes) if resumed.approval else 0
            click.echo(
                f"Resuming the apply of {resumed.taken_at} that did not finish: "
                f"{len(result.changes)} of its {approved} approved changes are left, judged "
                "against that plan"
                + (
                    " (approved with --force)"
                    if resumed.approval and resumed.approval.forced
                    else ""
                )
                + ".",
                err=True,
            )
        shown = planformat.text.render_text(
            result,
            color=terminal.colour() and output == "text",
            forced=force or waived,
            overridden_by="--force"
            if force or resumed is None
            else f"the approval of the apply of {resumed.taken_at}",
        )
        if output == "json":
            if not settings.quiet:
                click.echo(redact.scrub(shown), nl=False, err=True)
        else:
            terminal.show(shown, quiet=settings.quiet)
        if result.empty:
            if result.record is not None:
                safeguards.recorded(
                    result.record, apply.write_record(bold, result.record), quiet=settings.quiet
                )
            if output == "json":
                terminal.echo_json(apply.result_json(result, []))
            return boundary.OK
        try:
            result.check_safety(force=force or waived, alongside_other_apps=alongside_other_apps)
            safeguards.confirm(result, yes=yes, allow_delete=allow_delete)
        except errors.BoldrulesError as exc:
            if output == "json":  # refused before any call: every object not attempted
                terminal.echo_json(apply.result_json(result, [], error=exc))
            raise
        taken, taken_to = safeguards.take_snapshot(
            result, project, snapshot_file, quiet=settings.quiet, forced=force, resumes=resumed
        )
        stream = None if settings.quiet else terminal.Stderr()
        with apply.open_ledger(ledger) as ledger_file:
            calls = apply.Progress(stream=stream, ledger=ledger_file)  # type: ignore[arg-type]
            if reason:
                calls.log(safeguards.override_entry(freeze, reason, force=force))

            def poll() -> progress.Snapshot:
                stats = bold.stats
                return progress.Snapshot(
                    calls.count, calls.total or None, stats.requests, stats.rate_limited
                )

            heading = f"Applying to shop {result.shop} (target {target.name})"
            try:
                with terminal.watch(heading, "calls", poll):
                    report, listed = apply.execute_recorded(bold, result, progress=calls, stop=stop)
            except errors.BoldrulesError as exc:
                if output == "json":
                    terminal.echo_json(apply.result_json(result, calls.outcomes, error=exc))
                raise
            if output == "json":
                terminal.echo_json(apply.result_json(result, calls.outcomes))
        absorbed = (
            f", {terminal.absorbed(bold.stats.rate_limited)}" if bold.stats.rate_limited else ""
        )
        if calls.requests != report.done:
            # A call may take several requests (a rename by id is a PATCH and a PUT): the
            # ledger lists each request, and the summary says both so the two agree.
            absorbed = f" ({calls.requests} API requests, as the ledger lists){absorbed}"
        snapshot.write(dataclasses.replace(taken, finished=True), taken_to)
    if result.record is not None:
        safeguards.recorded(result.record, listed, quiet=settings.quiet)
    if not settings.quiet:
        click.echo(
            f"Apply complete: {words.count(report.done, 'call')} succeeded{absorbed}.",
            err=True,
        )
    return boundary.OK
