"""The ``boldrules`` command line: the one place that prints and picks exit codes.

Each command parses its options, calls one library function, prints, and returns an exit code
(design.md): 0 ok; 1 error; 2 changes pending (``--detailed-exitcode``); 3 invalid manifests;
4 refused by a safety rule; 5 apply partly failed; 6 stale plan; 7 authentication or permission
refused; 8 the API could not be reached; 9 another run holds the apply lock.

``Boldrules.invoke`` is the single error boundary: an ``errors.BoldrulesError`` becomes
``error: <message>`` on stderr and its exit code; anything else is a bug and says so in one line
(with the traceback only under ``-vv``). Commands never catch errors just to print them.

This module must hold no logic of its own beyond choosing what to print: loading, planning and
applying live in their modules. Output of a command (a plan, the problems ``validate`` found) goes
to stdout; logs and errors go to stderr. The token is never printed.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click

import reconciler
from reconciler import (
    apply,
    client,
    config,
    errors,
    export,
    lint,
    lock,
    manifest,
    model,
    ownership,
    plan,
    redact,
    render,
    schedule,
    sources,
    state,
)
from reconciler.sandbox import command as sandbox_command

OK = 0
ERROR = 1
INVALID = 3


@dataclass(frozen=True)
class Settings:
    """The global options every command sees."""

    directory: Path
    """The project folder (``-C``)."""
    verbose: int
    """How many ``-v`` were given."""
    quiet: bool
    """``-q``: print only problems and errors."""


class Boldrules(click.Group):
    """A click group whose ``invoke`` is the error boundary and turns return values into exits."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.exit_code = ERROR  # 2 means "changes pending" here, never "bad usage"
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = ERROR
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except errors.BoldrulesError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # the boundary: nothing unexpected reaches a user as a traceback
            detail = redact.printable(errors.cut(redact.scrub(str(exc)), 200))
            click.echo(
                f"error: internal error ({type(exc).__name__}: {detail}). "
                f"This is a bug in boldrules {reconciler.__version__}: please report it with the "
                "command you ran (add -vv to see the traceback).",
                err=True,
            )
            if ctx.params.get("verbose", 0) >= 2:
                click.echo(redact.printable(traceback.format_exc().rstrip(), lines=True), err=True)
            ctx.exit(ERROR)
        ctx.exit(result if isinstance(result, int) else OK)


def report_error(exc: errors.BoldrulesError, *, context: str = "") -> None:
    """Print an expected error to stderr: its problems one a line, or ``error: message``.

    Every line goes through ``redact.printable``: no secret of the environment, and no control
    character from a quoted value, reaches the terminal or the CI log.
    """
    problems = getattr(exc, "problems", None)
    if isinstance(exc, errors.ManifestInvalid | errors.ProjectFileInvalid) and problems:
        for problem in problems:
            click.echo(redact.printable(str(problem)), err=True)
        click.echo(f"error: {context}{summary(problems)}", err=True)
    else:
        click.echo(redact.printable(f"error: {context}{exc}", lines=True), err=True)


def summary(problems: list[errors.Problem]) -> str:
    """``2 problems in 1 file``."""
    files = len({problem.file for problem in problems})
    count = len(problems)
    return f"{count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"


@click.group(cls=Boldrules, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run in this project folder (the one holding boldrules.yaml).",
)
@click.option("-v", "--verbose", count=True, help="More detail on stderr; -vv for tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and errors.")
@click.version_option(reconciler.__version__, "--version", prog_name="boldrules")
@click.pass_context
def main(ctx: click.Context, directory: Path, verbose: int, quiet: bool) -> None:
    """Keep a Bold Commerce shop's price rules in git: validate, plan, apply, export."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=logging.ERROR if quiet else level, format="%(message)s")
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # basicConfig's own, not a test's capture
            handler.setFormatter(_LevelPrefix())
    # Our client logs every call once, redacted; httpx's own lines would repeat them unredacted
    # (full URLs) and httpcore's are wire noise.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = Settings(directory=directory, verbose=verbose, quiet=quiet)


class _LevelPrefix(logging.Formatter):
    """``warning: …`` for warnings (a retry said as it happens), the bare message otherwise."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return f"warning: {text}" if record.levelno == logging.WARNING else text


def settings(ctx: click.Context) -> Settings:
    """The global options, with a ``-C`` given after the command name taking precedence."""
    found = ctx.find_object(Settings)
    assert found is not None, "commands run under main"
    directory = ctx.meta.get(_DIRECTORY_KEY)
    return found if directory is None else dataclasses.replace(found, directory=directory)


_DIRECTORY_KEY = "boldrules.directory"


def _remember_directory(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[_DIRECTORY_KEY] = value


#: ``-C DIR`` accepted after the command name too (``boldrules validate -C examples/x``), as
#: people type it both ways; every command takes it with ``@project_option``.
#: ``--target``/``-t``: which target of the project file a command works on.
target_option = click.option(
    "--target",
    "-t",
    "target_name",
    metavar="NAME",
    help="The project file's target to use (default: default_target).",
)

project_option = click.option(
    "-C",
    "directory",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    expose_value=False,
    callback=_remember_directory,
    help="Run in this project folder (the one holding boldrules.yaml).",
)


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


@main.command()
@project_option
@target_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints the problems for tools.",
)
@click.pass_context
def validate(ctx: click.Context, target_name: str | None, output: Literal["text", "json"]) -> int:
    """Check every manifest offline (no token, no network): every problem at once."""
    options = settings(ctx)
    try:
        project = config.load_project(options.directory)
        target = project.target(target_name)
        loaded = manifest.load_manifests(project, target)
    except (errors.ManifestInvalid, errors.ProjectFileInvalid) as exc:
        # These are validate's findings, its output proper: stdout, not the error stream.
        problems = [_printable(problem) for problem in exc.problems]
        if output == "json":
            click.echo(json.dumps(_json_report(problems), indent=2))
        else:
            for problem in problems:
                click.echo(str(problem))
            click.echo(summary(problems))
        return INVALID
    if output == "json":
        click.echo(json.dumps(_json_report([], loaded=loaded, target=target.name), indent=2))
    elif not options.quiet:
        counts = _counts(loaded)
        click.echo(
            f"{len(loaded.files)} file{'s' if len(loaded.files) != 1 else ''} valid "
            f"(target {target.name}): {counts}"
        )
    return OK


def _printable(problem: errors.Problem) -> errors.Problem:
    """A problem safe to print: secrets blanked, control characters escaped."""
    return dataclasses.replace(
        problem,
        file=redact.printable(problem.file),
        path=redact.printable(problem.path),
        message=redact.printable(problem.message),
    )


def _counts(loaded: manifest.Manifests) -> str:
    by_kind: dict[str, int] = {}
    for declared in loaded.objects:
        by_kind[declared.key.kind.label] = by_kind.get(declared.key.kind.label, 0) + 1
    parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in by_kind.items()]
    return ", ".join(parts) or "nothing declared"


def _json_report(
    problems: list[errors.Problem],
    *,
    loaded: manifest.Manifests | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "valid": not problems,
        "summary": summary(problems) if problems else "no problems",
        "problems": [problem.as_json() for problem in problems],
    }
    if loaded is not None:
        report["target"] = target
        report["files"] = list(loaded.files)
        report["objects"] = [str(declared.key) for declared in loaded.objects]
    return report


# --------------------------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------------------------


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--at``: an RFC 3339 date-time, taken as the current instant."""
    if value is None:
        return None
    found = sources.parse_instant(value)
    if found is None:
        raise click.BadParameter(
            f"{value!r} is not an RFC 3339 date-time such as 2027-03-01T00:00:00Z"
        )
    return found


at_option = click.option(
    "--at",
    "at",
    metavar="INSTANT",
    callback=_instant,
    help="Judge windows as of this RFC 3339 instant instead of now (e.g. 2026-11-27T00:00:00Z).",
)


def _findings(
    project: config.Project, loaded: manifest.Manifests, at: datetime.datetime | None
) -> list[lint.Finding]:
    now = at or datetime.datetime.now(datetime.UTC)
    return lint.run([lint.Subject.of(d) for d in loaded.objects], project.lint, now=now)


def _repository_prefix(root: Path) -> str:
    """The project folder relative to the git work tree holding it (``examples/shop/``)."""
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            relative = root.relative_to(folder).as_posix()
            return "" if relative == "." else relative + "/"
    return ""


@main.command("lint")
@project_option
@target_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="json for tools, sarif (2.1.0) for GitHub code scanning.",
)
@at_option
@click.pass_context
def lint_command(
    ctx: click.Context, target_name: str | None, output: str, at: datetime.datetime | None
) -> int:
    """Find rules that will not do what they say in Bold's engine (offline, no token)."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    target = project.target(target_name)
    found = _findings(project, manifest.load_manifests(project, target), at)
    # Findings quote the manifests: the whole output is scrubbed once (per finding, reading the
    # secrets again each time, would cost seconds on a big shop).
    if output == "json":
        report = {"findings": [f.as_json() for f in found], "summary": lint.counts(found)}
        click.echo(redact.scrub(json.dumps(report, indent=2, ensure_ascii=False)))
    elif output == "sarif":
        prefix = _repository_prefix(project.root)
        log = lint.sarif.document(found, version=reconciler.__version__, prefix=prefix)
        click.echo(redact.scrub(json.dumps(log, indent=2, ensure_ascii=False)))
    else:
        lines = [str(finding).replace("\n", "\\n") for finding in found]  # one line each
        if found or not options.quiet:
            lines.append(f"lint (target {target.name}): {lint.summary(found)}")
        if lines:
            click.echo(redact.printable("\n".join(lines), lines=True))
    return INVALID if any(f.severity == "error" for f in found) else OK


# --------------------------------------------------------------------------------------------
# plan
# --------------------------------------------------------------------------------------------

PENDING = 2


def _open_client(project: config.Project, target: config.Target) -> client.BoldClient:
    return client.BoldClient.for_target(target, routes=project.routes)


def _desired(project: config.Project, target: config.Target) -> list[model.Resource]:
    return _declared(project, target, None)[0]


@dataclass(frozen=True)
class When:
    """``--at`` and ``--horizon``: the instant a plan is judged at and how far it looks."""

    at: datetime.datetime | None = None
    horizon: datetime.timedelta = schedule.DEFAULT_HORIZON


def _declared(
    project: config.Project, target: config.Target, at: datetime.datetime | None
) -> tuple[list[model.Resource], list[lint.Finding]]:
    """The desired objects, and lint's findings about them at ``at`` (default now)."""
    loaded = manifest.load_manifests(project, target)
    desired = [state.resource(d.key, d.data, d.origin) for d in loaded.objects]
    return desired, _findings(project, loaded, at)


def make_plan(
    project: config.Project,
    target: config.Target,
    bold: client.BoldClient,
    filters: plan.Filters,
    desired: list[model.Resource],
    *,
    when: When | None = None,
    findings: list[lint.Finding] | None = None,
) -> plan.Plan:
    """Desired objects and the shop's live state → a Plan."""
    when = when or When()
    live = state.fetch_live(
        bold,
        decisive=lambda seen: plan.decisive_keys(desired, seen, project=project, filters=filters),
    )
    return plan.plan_changes(
        desired,
        live,
        target=target,
        project=project,
        filters=filters,
        at=when.at,
        findings=findings or (),
        horizon=when.horizon,
    )


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def filter_options(command: Any) -> Any:
    """``--only``, ``--exclude`` and ``--create-alongside-other-apps``: plan and apply both."""
    command = click.option(
        "--create-alongside-other-apps",
        "alongside_other_apps",
        is_flag=True,
        help="Create rulesets even where another app of the shop has the same external ids "
        "(by default refused: the token is probably another app's).",
    )(command)
    command = click.option(
        "--exclude",
        multiple=True,
        metavar="GLOB",
        help="Leave out objects whose kind:name matches (e.g. 'discount_code:*'); repeatable.",
    )(command)
    return click.option(
        "--only",
        multiple=True,
        metavar="GLOB",
        help="Compare only objects whose kind:name matches (e.g. 'ruleset:spring-*'); repeatable.",
    )(command)


def _show(text: str, *, quiet: bool) -> None:
    if not quiet:
        # A plan quotes what the manifests and the shop hold: never a secret of the environment.
        click.echo(redact.scrub(text), nl=False)


@main.command("plan")
@project_option
@target_option
@click.option(
    "--out",
    # Not dir_okay=False: with --all-targets it is a folder; check_destination says which.
    type=click.Path(path_type=Path),
    help="Also save the plan as JSON for `boldrules apply FILE` (a folder with --all-targets).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when changes are pending, 0 when there are none.",
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A Jinja2 template to render the Markdown with instead of the shipped one.",
)
@click.option("--show-codes", is_flag=True, help="Show discount code names whole in Markdown.")
@click.option("--force", is_flag=True, help="Do not fail on broken safety limits.")
@at_option
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
@filter_options
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
    at: datetime.datetime | None,
    horizon: int,
    all_targets: bool,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    alongside_other_apps: bool,
) -> int:
    """Compare the manifests with the shop and print what would change (writes nothing to it)."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    if out is not None:
        plan.check_destination(out, folder=all_targets)
    filters = plan.Filters(only=only, exclude=exclude)
    when = When(at, datetime.timedelta(days=horizon))
    if all_targets:
        if target_name is not None:
            raise click.UsageError("--all-targets and --target exclude each other")
        return _plan_all(
            project,
            filters,
            out,
            output,
            detailed_exitcode,
            template,
            show_codes,
            force,
            quiet=options.quiet,
            alongside_other_apps=alongside_other_apps,
            when=when,
        )
    result = _plan_one(project, target_name, filters, when)
    text = render.render(result, output, color=_colour(), template=template, show_codes=show_codes)
    _show(text, quiet=options.quiet and output == "text")
    if out is not None:
        plan.write_plan(result, out)
        click.echo(f"Saved the plan to {out} (checksum {result.checksum[:12]}).", err=True)
    result.check_safety(force=force, alongside_other_apps=alongside_other_apps)
    if detailed_exitcode and not result.empty:
        return PENDING
    return OK


def _plan_one(
    project: config.Project, name: str | None, filters: plan.Filters, when: When | None = None
) -> plan.Plan:
    """One target's plan; a bad manifest fails before any API call."""
    target = project.target(name)
    when = when or When()
    desired, findings = _declared(project, target, when.at)
    with _open_client(project, target) as bold:
        result = make_plan(project, target, bold, filters, desired, when=when, findings=findings)
        return plan.with_other_apps(result, desired, find=bold.rulesets_of_other_apps)


def _plan_all(
    project: config.Project,
    filters: plan.Filters,
    out: Path | None,
    output: str,
    detailed_exitcode: bool,
    template: Path | None,
    show_codes: bool,
    force: bool,
    *,
    quiet: bool,
    alongside_other_apps: bool = False,
    when: When | None = None,
) -> int:
    """Every target at once, each paced by its own client; one combined report."""
    names = sorted(project.targets)
    outcomes: dict[str, plan.Plan | errors.BoldrulesError] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(names)) or 1) as pool:
        futures = {name: pool.submit(_plan_one, project, name, filters, when) for name in names}
        for name, future in futures.items():
            try:
                outcomes[name] = future.result()
            except errors.BoldrulesError as exc:
                outcomes[name] = exc
    text = render.render_many(
        outcomes, output, color=_colour(), template=template, show_codes=show_codes
    )
    _show(text, quiet=quiet and output == "text")
    plans = {n: o for n, o in outcomes.items() if isinstance(o, plan.Plan)}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, result in plans.items():
            plan.write_plan(result, out / f"{name}.json")
        click.echo(f"Saved {len(plans)} plans to {out}/ (one <target>.json each).", err=True)
    failures = [(n, o) for n, o in outcomes.items() if isinstance(o, errors.BoldrulesError)]
    for name, failure in failures:
        report_error(failure, context=f"target {name}: ")
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
        return PENDING
    return OK


# --------------------------------------------------------------------------------------------
# apply
# --------------------------------------------------------------------------------------------


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


@main.command("apply")
@project_option
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@target_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Apply even if the plan breaks a safety limit.")
@click.option(
    "--reason",
    metavar="TEXT",
    help="Why this apply runs during a freeze window (with --force); written to the ledger.",
)
@click.option("--allow-delete", is_flag=True, help="Allow deletes in a run that does not ask (CI).")
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per API call to this file.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another run's apply lock before giving up (exit 9).",
)
@filter_options
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
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    alongside_other_apps: bool,
) -> int:
    """Converge the shop to the manifests, or apply a saved plan after checking it is not stale."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    saved = plan.read_plan(plan_file) if plan_file is not None else None
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
    freeze = _check_freeze(project, force=force, reason=reason)
    desired, findings = _declared(project, target, None) if saved is None else ([], [])
    stop = threading.Event()
    with (
        _open_client(project, target) as bold,
        lock.held(
            lock.ApplyLock(bold, project.ownership.record, notify=_warn),
            timeout=lock_timeout,
            stop=stop,
        ) as held,
    ):
        # Planned only once the lock is held: a saved plan's staleness check and a fresh plan
        # both read the shop as no other apply can change it any more.
        if saved is not None:
            result = apply.check_saved_plan(bold, saved, project=project, target=target)
        else:
            filters = plan.Filters(only=only, exclude=exclude)
            result = make_plan(project, target, bold, filters, desired, findings=findings)
            result = plan.with_other_apps(result, desired, find=bold.rulesets_of_other_apps)
        if result.lock_holder is not None and result.lock_holder.token == held.token:
            result = dataclasses.replace(result, lock_holder=None)  # our own lock
        _show(render.render_text(result, color=_colour()), quiet=options.quiet)
        if result.empty:
            if result.record is not None:
                _recorded(result.record, apply.write_record(bold, result.record), options)
            return OK
        result.check_safety(force=force, alongside_other_apps=alongside_other_apps)
        _confirm(result, yes=yes, allow_delete=allow_delete)
        stream = None if options.quiet else sys.stderr
        with apply.open_ledger(ledger) as ledger_file:
            progress = apply.Progress(stream=stream, ledger=ledger_file)
            if reason:
                progress.log(_override_entry(freeze, reason, force=force))
            report, listed = apply.execute_recorded(bold, result, progress=progress, stop=stop)
    if result.record is not None:
        _recorded(result.record, listed, options)
    click.echo(
        f"Apply complete: {report.done} call{'s' if report.done != 1 else ''} succeeded.",
        err=True,
    )
    return OK


def _check_freeze(
    project: config.Project, *, force: bool, reason: str | None
) -> schedule.FreezeWindow | None:
    """Refuse (exit 4) during a freeze window unless ``--force`` with ``--reason``."""
    if reason is not None and not reason.strip():
        raise click.BadParameter("--reason needs some text saying why", param_hint="--reason")
    now = datetime.datetime.now(datetime.UTC)
    freeze = schedule.freeze_at(project.freeze, now)
    if freeze is None:
        return None
    if not (force and reason):
        raise errors.UnsafePlan(
            [
                f"Refusing to apply during freeze window {freeze.describe()}. Wait until "
                f"{schedule.stamp_exact(freeze.end)}, or re-run with --force --reason TEXT "
                "(the reason goes in the ledger)."
            ]
        )
    _warn(f"Applying during freeze window {freeze.name} (--force): {reason}")
    return freeze


def _override_entry(
    freeze: schedule.FreezeWindow | None, reason: str, *, force: bool
) -> dict[str, Any]:
    """The ledger line saying why this apply overrode a freeze (or was forced)."""
    return {
        "time": schedule.stamp_exact(datetime.datetime.now(datetime.UTC)),
        "event": "freeze-override" if freeze is not None else "forced",
        "freeze": freeze.name if freeze is not None else None,
        "force": force,
        "reason": reason,
        "user": ownership.whoami(),
    }


def _warn(text: str) -> None:
    click.echo(text, err=True)


def _recorded(record: ownership.RecordPlan, listed: int | None, options: Settings) -> None:
    if listed is not None and not options.quiet:
        click.echo(
            f"Ownership record {record.external_id} now lists {listed} "
            f"object{'s' if listed != 1 else ''}.",
            err=True,
        )


def _confirm(result: plan.Plan, *, yes: bool, allow_delete: bool) -> None:
    """Ask on a terminal; without one, insist on --yes, and on --allow-delete for deletes."""
    deletes = result.counts["delete"]
    if yes or not _interactive():
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
                    f"Refusing to delete {deletes} object{'s' if deletes != 1 else ''} in an "
                    "unattended run. Re-run with --allow-delete if intended."
                ]
            )
        return
    question = f"Apply these changes to shop {result.shop} (target {result.target})?"
    if not click.confirm(question, default=False, err=True):
        raise click.Abort()


# --------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------


@main.command("export")
@project_option
@target_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("exported"),
    show_default=True,
    help="Folder to write the manifests to (relative to the project folder).",
)
@click.option("--split", is_flag=True, help="One file per object instead of one per kind.")
@click.option("--all-codes", is_flag=True, help="Export every discount code, not only owned ones.")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
@click.pass_context
def export_command(
    ctx: click.Context,
    target_name: str | None,
    out: Path,
    split: bool,
    all_codes: bool,
    force: bool,
) -> int:
    """Write the shop's live objects as manifests that plan back to "No changes."."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    target = project.target(target_name)
    folder = out if out.is_absolute() else project.root / out
    export.check_destination(folder)
    with _open_client(project, target) as bold:
        live = state.fetch_live(bold)
    selected = export.select(live, project.ownership, all_codes=all_codes)
    chosen = export.name_unnamed(selected, shop=live.shop)
    result = export.write(chosen, folder, shop=live.shop, split=split, overwrite=force)
    counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
    if not options.quiet:
        files = f"{len(result.files)} file{'s' if len(result.files) != 1 else ''}"
        click.echo(f"Wrote {files} to {folder}: {counts}.", err=True)
        adopted = sum(1 for r in chosen if "adopt" in r.handles)
        if adopted:
            click.echo(
                f"Named {adopted} ruleset{'s' if adopted != 1 else ''} holding objects without "
                "an external_id (see `adopt:`); the first apply gives them their names in place.",
                err=True,
            )
        skipped = export.left_out(live, selected)
        if skipped:
            click.echo(
                f"Left out, not owned by this project: {skipped}. See docs/export.md "
                "(--all-codes exports every discount code).",
                err=True,
            )
        for line in export.held_back(live, selected, project.ownership):
            click.echo(line, err=True)
        pending = adopted or export.holding_copies(selected)
        click.echo(
            "Add the folder to `manifests:` in boldrules.yaml, then `boldrules plan` shows "
            + ("what apply will name or remove, then No changes." if pending else "No changes."),
            err=True,
        )
    return OK


# --------------------------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------------------------

#: Where ``boldrules schema`` writes, and where the examples' modelines point.
SCHEMA_FOLDER = Path(".boldrules") / "schemas"


@main.command("schema")
@project_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=SCHEMA_FOLDER,
    show_default=True,
    help="Folder to write the JSON Schemas to (relative to the project folder).",
)
@click.pass_context
def schema_command(ctx: click.Context, out: Path) -> int:
    """Write the JSON Schemas (manifest, project file, saved plan) for editors' modelines."""
    options = settings(ctx)
    folder = out if out.is_absolute() else options.directory / out
    texts = sources.schema_texts()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            temporary = folder / f".{name}.tmp"
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(folder / name)
    except OSError as exc:
        raise errors.ConfigError(
            f"--out {folder}: cannot write the schemas ({exc.strerror})"
        ) from None
    if not options.quiet:
        click.echo(
            f"Wrote {len(texts)} JSON Schemas of boldrules {reconciler.__version__} to {folder}: "
            f"{', '.join(texts)}.",
            err=True,
        )
    return OK


# --------------------------------------------------------------------------------------------
# unlock and ownership: boldrules' own objects in the shop (docs/ownership.md)
# --------------------------------------------------------------------------------------------


@main.command("unlock")
@project_option
@target_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def unlock_command(ctx: click.Context, target_name: str | None, yes: bool) -> int:
    """Break the apply lock a crashed or stuck run left behind (asks first)."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    target = project.target(target_name)
    name = project.ownership.record
    with _open_client(project, target) as bold:
        holder = lock.read_lock(bold, name)
        if holder is None:
            click.echo(
                f"No apply lock {lock.lock_id(name)} on shop {bold.shop_identifier} "
                f"(target {target.name}): nothing to unlock."
            )
            return OK
        state_text = (
            "it has expired"
            if holder.expired(lock.utc_now())
            else "it has not expired: that run may still be applying"
        )
        click.echo(
            f"The apply lock {lock.lock_id(name)} on shop {bold.shop_identifier} is held by "
            f"{holder.describe()}; {state_text}."
        )
        if not yes:
            if not _interactive():
                raise errors.UnsafePlan(
                    [
                        "Refusing to break the apply lock without confirmation: no terminal to "
                        "ask on. Re-run with --yes once you are sure that run is gone."
                    ]
                )
            question = "Break it? Only if that run is gone: two applies at once corrupt prices"
            if not click.confirm(question, default=False, err=True):
                raise click.Abort()
        lock.break_lock(bold, holder)
    click.echo(f"Broke the apply lock {lock.lock_id(name)}.")
    return OK


@main.group("ownership")
def ownership_group() -> None:
    """The ownership record: what this project manages in the shop (docs/ownership.md)."""


@ownership_group.command("show")
@project_option
@target_option
@click.option(
    "--project",
    "record_name",
    metavar="NAME",
    help="Show another project's record (default: this project's ownership.record).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json for tools.",
)
@click.pass_context
def ownership_show(
    ctx: click.Context, target_name: str | None, record_name: str | None, output: str
) -> int:
    """Print the ownership record: every object this project manages, as the shop holds it."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    target = project.target(target_name)
    name = record_name or project.ownership.record
    with _open_client(project, target) as bold:
        record = ownership.read_record(bold, name)
    if output == "json":
        document: dict[str, Any] = {
            "record": ownership.record_id(name),
            "exists": record is not None,
            "damaged": record.reason if isinstance(record, ownership.Damaged) else "",
        }
        if isinstance(record, ownership.Record):
            document.update(
                updated_at=record.updated_at,
                updated_by=record.updated_by,
                tool_version=record.tool_version,
                members=[ownership.member_json(k) for k in ownership.ordered(record.members)],
            )
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in ownership.show_lines(record, name):
            click.echo(line)
    return OK


main.add_command(sandbox_command.sandbox)
