"""``boldrules plan``: what apply would change, for one target or every target at once."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from pathlib import Path

import click

from reconciler import carts, config, errors, pipeline, plan, planformat, savedplan
from reconciler.cli import boundary, options, terminal


@click.command("plan")
@options.project_option
@options.target_option
@click.option(
    "--out",
    # Not dir_okay=False: with --all-targets it is a folder; check_destination says which.
    type=click.Path(path_type=Path),
    help="Also save the plan as JSON for `boldrules apply FILE` (a folder with --all-targets).",
)
@options.plan_format_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when changes are pending, 0 when there are none.",
)
@options.template_option(
    "A Jinja2 template to render the Markdown with instead of the shipped one."
)
@options.show_codes_option
@click.option("--force", is_flag=True, help="Do not fail on broken safety limits.")
@options.at_option
@click.option(
    "--horizon",
    type=click.IntRange(min=1, max=3660),
    default=60,
    show_default=True,
    metavar="DAYS",
    help="How far ahead the Markdown plan's timeline of starts and ends looks.",
)
@click.option(
    "--all-targets",
    is_flag=True,
    help="Plan every target of the project file, in parallel; --out is then a folder.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --all-targets: plan in at most N worker processes (default: the CPU count; "
    "capped so the shops in flight fit in memory).",
)
@options.filter_options
@click.pass_context
def plan_command(
    ctx: click.Context,
    target_name: str | None,
    out: Path | None,
    output: str,
    detailed_exitcode: bool,
    template: Path | None,
    show_codes: bool,
    force: bool,
    at: dt.datetime | None,
    horizon: int,
    all_targets: bool,
    jobs: int | None,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    alongside_other_apps: bool,
) -> int:
    """Compare the manifests with the shop and print what would change (writes nothing to it)."""
    settings = options.settings(ctx)
    options.check_markdown_only(template, output)
    project = config.load_project(settings.directory)
    if out is not None:
        savedplan.check_destination(out, folder=all_targets)
    filters = plan.Filters(only=only, exclude=exclude)
    filters.check()  # a pattern naming no kind fails before the shop is read
    when = pipeline.When(at, dt.timedelta(days=horizon))
    quiet = settings.quiet and output == "text"
    if all_targets:
        if target_name is not None:
            raise click.UsageError("--all-targets and --target exclude each other")
        handler = next(iter(logging.getLogger().handlers), None)
        planned = pipeline.plan_targets(
            project,
            filters,
            jobs=jobs or pipeline.default_jobs(),
            log_level=logging.getLogger().getEffectiveLevel(),
            formatter=options.LevelPrefix("%(message)s")
            if type(handler) is logging.StreamHandler
            else None,
            when=when,
        )
        text = _report_all(planned, output, template=template, show_codes=show_codes)
        terminal.show(text, quiet=quiet)
        return _outcome_all(
            planned,
            out,
            detailed_exitcode=detailed_exitcode,
            force=force,
            alongside_other_apps=alongside_other_apps,
        )
    if jobs is not None:
        raise click.UsageError("--jobs plans several targets at once: add --all-targets")
    result = _plan_one(project, target_name, filters, when)
    text = planformat.render(
        result,
        output,
        color=terminal.colour(),
        template=template,
        show_codes=show_codes,
        forced=force,
    )
    terminal.show(text, quiet=quiet)
    if out is not None:
        savedplan.write_plan(result, out)
        click.echo(f"Saved the plan to {out} (checksum {result.checksum[:12]}).", err=True)
    result.check_safety(force=force, alongside_other_apps=alongside_other_apps)
    if detailed_exitcode and not result.empty:
        return boundary.PENDING
    return boundary.OK


def _plan_one(
    project: config.Project, name: str | None, filters: plan.Filters, when: pipeline.When
) -> plan.Plan:
    """One target's plan; the manifests load while the shop's listings are read, and a bad one
    fails before any write (reads may have started: they stop)."""
    target = project.target(name)
    result, absorbed = pipeline.plan_target(
        project,
        target,
        functools.partial(pipeline.declare, project, target, at=when.at),
        filters=filters,
        samples=carts.load_carts(project),
        when=when,
        watch=terminal.watch_reading(target.name),
    )
    if absorbed:
        click.echo(
            f"target {target.name}: {terminal.absorbed(absorbed)} while reading the shop.", err=True
        )
    return result


def _report_all(
    planned: list[pipeline.Planned], output: str, *, template: Path | None, show_codes: bool
) -> str:
    """Every target's plan (or failure) in one report; the 429s each absorbed on stderr."""
    for done in planned:
        if done.rate_limited:
            click.echo(
                f"target {done.target}: {terminal.absorbed(done.rate_limited)} while reading the "
                "shop.",
                err=True,
            )
    outcomes = {done.target: done.outcome for done in planned}
    return planformat.render_many(
        outcomes, output, color=terminal.colour(), template=template, show_codes=show_codes
    )


def _outcome_all(
    planned: list[pipeline.Planned],
    out: Path | None,
    *,
    detailed_exitcode: bool,
    force: bool,
    alongside_other_apps: bool,
) -> int:
    """Save the plans, report the failures, judge safety: the worst exit code of all targets."""
    outcomes = {done.target: done.outcome for done in planned}
    plans = {n: o for n, o in outcomes.items() if isinstance(o, plan.Plan)}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, result in plans.items():
            savedplan.write_plan(result, out / f"{name}.json")
        click.echo(f"Saved {len(plans)} plans to {out}/ (one <target>.json each).", err=True)
    failures = [(n, o) for n, o in outcomes.items() if isinstance(o, errors.BoldrulesError)]
    for name, failure in failures:
        boundary.report_error(failure, context=f"target {name}: ")
    unsafe: list[str] = []
    for name, result in plans.items():
        try:
            result.check_safety(force=force, alongside_other_apps=alongside_other_apps)
        except errors.UnsafePlan as exc:
            unsafe.extend(f"target {name}: {reason}" for reason in exc.reasons)
    if failures:
        return max(failure.exit_code for _, failure in failures)
    if unsafe:
        raise errors.UnsafePlan(unsafe)
    if detailed_exitcode and any(not p.empty for p in plans.values()):
        return boundary.PENDING
    return boundary.OK
