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
import datetime as dt
import json
import logging
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import click

import reconciler
from reconciler import (
    apply,
    carts,
    client,
    config,
    doctor,
    errors,
    export,
    lint,
    lock,
    manifest,
    ownership,
    plan,
    preview,
    probes,
    progress,
    redact,
    render,
    schedule,
    shops,
    show,
    snapshot,
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


class UsageFailed(click.UsageError):
    """A usage error that exits 1: 2 means "changes pending" here, never "bad usage".

    Shown exactly as click shows the error it wraps (the hint, "Did you mean", the help).
    """

    exit_code = ERROR

    def __init__(self, cause: click.UsageError) -> None:
        super().__init__(cause.message, cause.ctx)
        self.cause = cause

    def show(self, file: IO[Any] | None = None) -> None:
        self.cause.show(file)


class Boldrules(click.Group):
    """A click group whose ``invoke`` is the error boundary and turns return values into exits."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except UsageFailed:
            raise
        except click.UsageError as exc:
            raise UsageFailed(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
        except UsageFailed:
            raise
        except click.UsageError as exc:
            raise UsageFailed(exc) from exc
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
            if ctx.params.get("verbose", 0) + ctx.meta.get(_VERBOSE_KEY, 0) >= 2:
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
    _configure_logging(verbose, quiet)
    ctx.obj = Settings(directory=directory, verbose=verbose, quiet=quiet)


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    level = logging.ERROR if quiet else level
    logging.basicConfig(level=level, format="%(message)s")
    logging.getLogger().setLevel(level)  # again when -v/-q come after the command
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # basicConfig's own, not a test's capture
            handler.setFormatter(_LevelPrefix())
    # Our client logs every call once, redacted; httpx's own lines would repeat them unredacted
    # (full URLs) and httpcore's are wire noise.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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
    found = found if directory is None else dataclasses.replace(found, directory=directory)
    return dataclasses.replace(
        found,
        verbose=found.verbose + ctx.meta.get(_VERBOSE_KEY, 0),
        quiet=found.quiet or ctx.meta.get(_QUIET_KEY, False),
    )


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

_VERBOSE_KEY = "boldrules.verbose"
_QUIET_KEY = "boldrules.quiet"


def _remember_verbosity(ctx: click.Context, parameter: click.Parameter, value: Any) -> None:
    if not value:
        return
    ctx.meta[_VERBOSE_KEY if parameter.name == "verbose" else _QUIET_KEY] = value
    found = ctx.find_object(Settings)
    if found is not None:
        _configure_logging(
            found.verbose + ctx.meta.get(_VERBOSE_KEY, 0),
            found.quiet or ctx.meta.get(_QUIET_KEY, False),
        )


def project_option(command: Any) -> Any:
    """``-C DIR``, ``-v`` and ``-q``, accepted after the command name as before it."""
    command = click.option(
        "-q",
        "--quiet",
        "quiet",
        is_flag=True,
        expose_value=False,
        callback=_remember_verbosity,
        help="Print only problems and errors (also accepted before the command).",
    )(command)
    command = click.option(
        "-v",
        "--verbose",
        "verbose",
        count=True,
        expose_value=False,
        callback=_remember_verbosity,
        help="More detail on stderr; -vv for tracebacks (also accepted before the command).",
    )(command)
    return click.option(
        "-C",
        "directory",
        default=None,
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember_directory,
        help="Run in this project folder (the one holding boldrules.yaml).",
    )(command)


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
        problems_found: list[errors.Problem] = []
        loaded: manifest.Manifests | None = None
        samples: carts.Carts | None = None
        try:
            loaded = manifest.load_manifests(project, target)
        except errors.ManifestInvalid as exc:
            problems_found += exc.problems
        try:
            samples = carts.load_carts(project)
        except errors.ManifestInvalid as exc:
            problems_found += exc.problems
        if problems_found:
            raise errors.ManifestInvalid(problems_found)
        assert loaded is not None and samples is not None
    except (errors.ManifestInvalid, errors.ProjectFileInvalid) as exc:
        # These are validate's findings, its output proper: stdout, not the error stream.
        # Paths from where the command runs: the pre-commit hook runs at the repository root
        # with -C shop, and `shop/pricing/a.yaml:3:5` is what an editor or a terminal opens.
        prefix = _from_cwd(options.directory)
        problems = [
            _printable(dataclasses.replace(problem, file=prefix + problem.file))
            for problem in exc.problems
        ]
        if output == "json":
            click.echo(json.dumps(_json_report(problems), indent=2))
        else:
            for problem in problems:
                click.echo(str(problem))
            click.echo(summary(problems))
        return INVALID
    if output == "json":
        report = _json_report([], loaded=loaded, target=target.name, samples=samples)
        click.echo(json.dumps(report, indent=2))
    elif not options.quiet:
        counts = _counts(loaded)
        if samples.carts:
            counts += f", {len(samples.carts)} cart{'s' if len(samples.carts) != 1 else ''}"
        files = len(loaded.files) + len(samples.files)
        click.echo(
            f"{files} file{'s' if files != 1 else ''} valid (target {target.name}): {counts}"
        )
    return OK


def _from_cwd(directory: Path) -> str:
    """``shop/`` when the project is a folder below the working directory, else ``""``."""
    try:
        inside = directory.resolve().relative_to(Path.cwd().resolve())
    except (OSError, ValueError):
        return ""
    return "" if str(inside) == "." else f"{inside.as_posix()}/"


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
    samples: carts.Carts | None = None,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "valid": not problems,
        "summary": summary(problems) if problems else "no problems",
        "problems": [problem.as_json() for problem in problems],
    }
    if loaded is not None:
        report["target"] = target
        report["files"] = list(loaded.files) + list(samples.files if samples else ())
        report["objects"] = [str(declared.key) for declared in loaded.objects]
        report["carts"] = [sample.name for sample in samples.carts] if samples else []
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


#: ``--format`` of the commands that print a plan (``plan``, ``show``).
plan_format_option = click.option(
    "--format",
    "output",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools.",
)

#: ``--show-codes``: discount code names whole in Markdown (masked otherwise).
show_codes_option = click.option(
    "--show-codes", is_flag=True, help="Show discount code names whole in Markdown."
)


at_option = click.option(
    "--at",
    "at",
    metavar="INSTANT",
    callback=_instant,
    help="Judge windows as of this RFC 3339 instant instead of now (e.g. 2026-11-27T00:00:00Z).",
)


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
    ctx: click.Context, target_name: str | None, output: str, at: dt.datetime | None
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


#: One target's desired objects and one target's plan live in shops.py, with --all-targets.
When = shops.When
_findings = shops.findings
_declared = shops.declared
_desired = shops.desired
make_plan = shops.make_plan


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
@plan_format_option
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
@show_codes_option
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
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --all-targets: plan in at most N worker processes (default: the CPU count; "
    "capped so the shops in flight fit in memory).",
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
    at: dt.datetime | None,
    horizon: int,
    all_targets: bool,
    jobs: int | None,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    alongside_other_apps: bool,
) -> int:
    """Compare the manifests with the shop and print what would change (writes nothing to it)."""
    options = settings(ctx)
    _markdown_only(template, output)
    project = config.load_project(options.directory)
    if out is not None:
        plan.check_destination(out, folder=all_targets)
    filters = plan.Filters(only=only, exclude=exclude)
    filters.check()  # a pattern naming no kind fails before the shop is read
    when = When(at, dt.timedelta(days=horizon))
    if all_targets:
        if target_name is not None:
            raise click.UsageError("--all-targets and --target exclude each other")
        return _plan_all(
            options,
            project,
            filters,
            out,
            output,
            detailed_exitcode,
            template,
            show_codes,
            force,
            jobs=jobs,
            alongside_other_apps=alongside_other_apps,
            when=when,
        )
    if jobs is not None:
        raise click.UsageError("--jobs plans several targets at once: add --all-targets")
    result = _plan_one(project, target_name, filters, when)
    text = render.render(
        result,
        output,
        color=_colour(),
        template=template,
        show_codes=show_codes,
        forced=force,
    )
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
    samples = carts.load_carts(project)
    result, absorbed = shops.plan_target(
        project,
        target,
        filters,
        desired,
        samples,
        when=when,
        findings=findings,
        watch=_watch_reading(target.name),
    )
    if absorbed:
        click.echo(f"target {target.name}: {_absorbed(absorbed)} while reading the shop.", err=True)
    return result


def _watch_reading(name: str) -> Any:
    """The live progress of reading a shop (progress.py): objects listed of those announced."""

    def watch(bold: client.BoldClient) -> progress.Watch:
        def poll() -> progress.Snapshot:
            stats = bold.stats
            return progress.Snapshot(
                stats.listed, stats.announced or None, stats.requests, stats.rate_limited
            )

        return _watch(f"Reading shop {bold.shop_identifier} (target {name})", "objects", poll)

    return watch


def _watch(label: str, unit: str, poll: Any) -> progress.Watch:
    quiet = logging.getLogger().getEffectiveLevel() >= logging.ERROR  # -q
    return progress.Watch(
        label, unit, poll, stream=None if quiet else sys.stderr, terminal=sys.stderr.isatty()
    )


class _Stderr:
    """``sys.stderr`` as it is at each write: while a live progress line shows, rich redirects
    it so that apply's lines printed meanwhile appear above the line, not through it. (The live
    line itself is given the real stderr: given this, it would write to itself.)"""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def _absorbed(count: int) -> str:
    """``2 rate-limit answers absorbed``: 429s held and retried, never an error (docs/client.md)."""
    return f"{count} rate-limit answer{'s' if count != 1 else ''} absorbed"


def _plan_all(
    options: Settings,
    project: config.Project,
    filters: plan.Filters,
    out: Path | None,
    output: str,
    detailed_exitcode: bool,
    template: Path | None,
    show_codes: bool,
    force: bool,
    *,
    jobs: int | None,
    alongside_other_apps: bool = False,
    when: When | None = None,
) -> int:
    """Every target at once, in worker processes (shops.py); one combined report."""
    quiet = options.quiet
    handler = next(iter(logging.getLogger().handlers), None)
    planned = shops.plan_all(
        project,
        filters,
        jobs=jobs or shops.default_jobs(),
        log_level=logging.getLogger().getEffectiveLevel(),
        formatter=_LevelPrefix("%(message)s") if type(handler) is logging.StreamHandler else None,
        when=when,
    )
    for done in planned:
        if done.rate_limited:
            click.echo(
                f"target {done.target}: {_absorbed(done.rate_limited)} while reading the shop.",
                err=True,
            )
    outcomes = {done.target: done.outcome for done in planned}
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
# targets
# --------------------------------------------------------------------------------------------


@main.command("targets")
@project_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help='json prints {"target": [...]}: a GitHub Actions `matrix`, and the list a GitLab '
    "`parallel:matrix` takes (docs/ci.md).",
)
@click.pass_context
def targets_command(ctx: click.Context, output: str) -> int:
    """List the project's targets (one a line), or as a CI matrix: one job per shop."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    names = sorted(project.targets)
    if output == "json":
        click.echo(json.dumps({"target": names}))
    else:
        for name in names:
            click.echo(name)
    return OK


# --------------------------------------------------------------------------------------------
# price
# --------------------------------------------------------------------------------------------

#: ``price --check`` found lines where Bold's storefront and the evaluator disagree.
DISAGREE = 1


@main.command("price")
@project_option
@target_option
@click.option("--cart", "cart_name", metavar="NAME", help="Price only this cart (default: all).")
@click.option(
    "--at",
    "instant",
    metavar="INSTANT",
    help="Price at this instant (e.g. 2027-03-10T12:00:00Z) instead of each cart's `at` or now.",
)
@click.option("--live", is_flag=True, help="Price under the shop's rules as they are now.")
@click.option(
    "--offline",
    is_flag=True,
    help="Price under the manifests alone: no shop read, no other app's rulesets.",
)
@click.option(
    "--check",
    "check_bold",
    is_flag=True,
    help="With --live: ask the shop's storefront (POST S/price) for the same items and report "
    "every line where its answer and boldrules' evaluation differ (exit 1 when some do).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json is a stable interface (schemas/price.schema.json).",
)
@click.pass_context
def price_command(
    ctx: click.Context,
    target_name: str | None,
    cart_name: str | None,
    instant: str | None,
    live: bool,
    offline: bool,
    check_bold: bool,
    output: str,
) -> int:
    """Price the sample carts and explain each line (default: under the rules after apply)."""
    options = settings(ctx)
    if offline and (live or check_bold):
        raise click.UsageError("--offline prices the manifests alone: not with --live or --check")
    if check_bold and not live:
        raise click.UsageError("--check compares the shop's own prices: add --live")
    if check_bold and instant is not None:
        raise click.UsageError("--check prices now, as the storefront does: drop --at")
    project = config.load_project(options.directory)
    target = project.target(target_name)
    samples = carts.load_carts(project)
    chosen = [samples.named(cart_name)] if cart_name is not None else list(samples.carts)
    if not chosen:
        raise errors.ConfigError(
            "no sample carts: add cart files to carts/ (or list them under `carts:` in "
            f"{project.file.name}); see docs/pricing.md"
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if instant is not None or check_bold:
        moment = now if instant is None else _instant_option(instant)
        chosen = [dataclasses.replace(s, cart=dataclasses.replace(s.cart, at=None)) for s in chosen]
    else:
        moment = now
    desired = _desired(project, target) if not live else []
    answers: list[dict[str, Any]] = []
    if offline:
        side, rules = preview.manifest_side(desired), "manifests"
    else:
        with _open_client(project, target) as bold:
            seen = state.fetch_live(
                bold,
                decisive=None
                if live
                else lambda s: plan.decisive_keys(desired, s, project=project),
            )
            others, skipped = preview.other_app_rulesets(bold.list_rulesets_all_apps(), seen)
            side = preview.live_side(seen, others, skipped)
            rules = "live"
            if not live:
                result = plan.plan_changes(desired, seen, target=target, project=project, now=now)
                side, rules = preview.planned_side(side, seen, result.changes), "planned"
            if check_bold:
                answers = [bold.storefront_price(preview.storefront_request(s)) for s in chosen]
    evaluator = preview.engine(side)
    priced = preview.price_all(chosen, evaluator, at=moment)
    stamp = ownership.stamp(moment)
    mismatches: list[preview.Mismatch] = []
    for sample, answer in zip(chosen, answers, strict=False):
        single = evaluator.price(sample.cart, at=moment, cart_context=False)
        mismatches += preview.check(sample, single, answer)
    if output == "json":
        document: dict[str, Any] = {
            "rules": rules,
            "target": target.name,
            "other_app_rulesets": side.other_apps,
            "carts": [
                preview.cart_json(s, p, at=ownership.stamp(s.cart.at) if s.cart.at else stamp)
                for s, p in zip(chosen, priced, strict=True)
            ],
        }
        if check_bold:
            document["check"] = {
                "lines": sum(len(s.cart.items) for s in chosen),
                "mismatches": [m.as_json() for m in mismatches],
            }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        where = {
            "manifests": "the manifests alone (no shop read: other apps' rulesets and the "
            "shop's discount codes not included)",
            "live": f"the live rules of target {target.name}",
            "planned": f"the rules of target {target.name} after apply",
        }[rules]
        lines = [f"Prices under {where}; {side.other_apps} rulesets of other apps took part."]
        lines += [f"  (not priced: {reason})" for reason in side.skipped]
        for sample, cart_price in zip(chosen, priced, strict=True):
            at = ownership.stamp(sample.cart.at) if sample.cart.at else stamp
            lines += preview.cart_lines(sample, cart_price, at=at)
        if check_bold:
            total = sum(len(s.cart.items) for s in chosen)
            lines += [f"! {m.text()}" for m in mismatches]
            lines.append(
                "Check against the storefront (POST S/price, a single-product price call: no "
                "discount code, no cart-only condition, no cart-level discount, priced now): "
                f"{len(mismatches)} of {total} line"
                f"{'s' if total != 1 else ''} differ"
                + (
                    ": boldrules' preview cannot be trusted for those here (docs/pricing.md)."
                    if mismatches
                    else "; Bold and boldrules agree."
                )
            )
        _show("\n".join(lines) + "\n", quiet=False)
    return DISAGREE if mismatches else OK


def _instant_option(text: str) -> dt.datetime:
    parsed = sources.parse_instant(text)
    if parsed is None or parsed.tzinfo is None:
        raise click.BadParameter(
            f"{text!r} is not an instant with a zone, e.g. 2027-03-10T12:00:00Z", param_hint="--at"
        )
    return parsed


# --------------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------------


@main.command("show")
@project_option
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@plan_format_option
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A Jinja2 template to render the Markdown with (only with --format markdown).",
)
@show_codes_option
@click.pass_context
def show_command(
    ctx: click.Context, plan_file: Path, output: str, template: Path | None, show_codes: bool
) -> int:
    """Print a saved plan (from `plan --out`) without reading the shop."""
    _markdown_only(template, output)
    saved = plan.read_plan(plan_file)
    if output == "json":
        click.echo(redact.scrub(json.dumps(saved.document, indent=2, ensure_ascii=False)))
        return OK
    result = show.saved_plan(saved)
    text = render.render(result, output, color=_colour(), template=template, show_codes=show_codes)
    click.echo(redact.scrub(text), nl=False)
    return OK


def _markdown_only(template: Path | None, output: str) -> None:
    if template is not None and output != "markdown":
        raise click.UsageError("--template renders Markdown: add --format markdown")


# --------------------------------------------------------------------------------------------
# apply
# --------------------------------------------------------------------------------------------


#: ``--snapshot FILE``: where apply and restore save the state of what they change.
snapshot_option = click.option(
    "--snapshot",
    "snapshot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the state of the objects this run changes here, before the first write "
    "(default: .boldrules/snapshots/<target>-<time>.json); `boldrules restore FILE` undoes it.",
)


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
@snapshot_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the plan goes to stderr and stdout gets a result object (per object: done, "
    "failed, skipped or not attempted, with its calls and statuses).",
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
    snapshot_file: Path | None,
    output: str,
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
    plan.Filters(only=only, exclude=exclude).check()
    freeze = _check_freeze(project, force=force, reason=reason)
    desired, findings = _declared(project, target, None) if saved is None else ([], [])
    samples = carts.load_carts(project) if saved is None else None
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
            result = make_plan(project, target, bold, filters, desired, samples, findings=findings)
            result = plan.with_other_apps(result, desired, find=bold.rulesets_of_other_apps)
        if result.lock_holder is not None and result.lock_holder.token == held.token:
            result = dataclasses.replace(result, lock_holder=None)  # our own lock
        resumed = _resumes(result, project, snapshot_file)
        # A re-run of an interrupted apply is judged by the plan that was approved then, not by
        # what is left of it (the remainder of 300 forced updates still breaks the limit).
        waived = bool(
            resumed is not None
            and resumed.approval is not None
            and resumed.approval.cleared
            and not result.safety.ok
        )
        if resumed is not None and not options.quiet:
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
        shown = render.render_text(
            result,
            color=_colour() and output == "text",
            forced=force or waived,
            overridden_by="--force"
            if force or resumed is None
            else f"the approval of the apply of {resumed.taken_at}",
        )
        if output == "json":
            if not options.quiet:
                click.echo(redact.scrub(shown), nl=False, err=True)
        else:
            _show(shown, quiet=options.quiet)
        if result.empty:
            if result.record is not None:
                _recorded(result.record, apply.write_record(bold, result.record), options)
            if output == "json":
                _echo_json(apply.result_json(result, []))
            return OK
        try:
            result.check_safety(force=force or waived, alongside_other_apps=alongside_other_apps)
            _confirm(result, yes=yes, allow_delete=allow_delete)
        except errors.BoldrulesError as exc:
            if output == "json":  # refused before any call: every object not attempted
                _echo_json(apply.result_json(result, [], error=exc))
            raise
        taken, taken_to = _snapshot(
            result, project, snapshot_file, options, forced=force, resumes=resumed
        )
        stream = None if options.quiet else _Stderr()
        with apply.open_ledger(ledger) as ledger_file:
            calls = apply.Progress(stream=stream, ledger=ledger_file)  # type: ignore[arg-type]
            if reason:
                calls.log(_override_entry(freeze, reason, force=force))

            def poll() -> progress.Snapshot:
                stats = bold.stats
                return progress.Snapshot(
                    calls.count, calls.total or None, stats.requests, stats.rate_limited
                )

            heading = f"Applying to shop {result.shop} (target {target.name})"
            try:
                with _watch(heading, "calls", poll):
                    report, listed = apply.execute_recorded(bold, result, progress=calls, stop=stop)
            except errors.BoldrulesError as exc:
                if output == "json":
                    _echo_json(apply.result_json(result, calls.outcomes, error=exc))
                raise
            if output == "json":
                _echo_json(apply.result_json(result, calls.outcomes))
        absorbed = f", {_absorbed(bold.stats.rate_limited)}" if bold.stats.rate_limited else ""
        if calls.requests != report.done:
            # A call may take several requests (a rename by id is a PATCH and a PUT): the
            # ledger lists each request, and the summary says both so the two agree.
            absorbed = f" ({calls.requests} API requests, as the ledger lists){absorbed}"
        snapshot.write(dataclasses.replace(taken, finished=True), taken_to)
    if result.record is not None:
        _recorded(result.record, listed, options)
    if not options.quiet:
        click.echo(
            f"Apply complete: {report.done} call{'s' if report.done != 1 else ''} "
            f"succeeded{absorbed}.",
            err=True,
        )
    return OK


def _snapshot(
    result: plan.Plan,
    project: config.Project,
    path: Path | None,
    options: Settings,
    *,
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
    if not options.quiet:
        count = len(taken.entries)
        shown = _relative(where)
        click.echo(
            f"Saved the state of the {count} object{'s' if count != 1 else ''} this run changes "
            f"to {shown}; `boldrules restore {shown}` puts them back.",
            err=True,
        )
    return taken, where


def _resumes(
    result: plan.Plan, project: config.Project, path: Path | None
) -> snapshot.Snapshot | None:
    """The interrupted apply this plan finishes: every change one that run approved."""
    found = snapshot.interrupted(project.root, result.target, result.shop, explicit=path)
    if found is None or found.approval is None or not found.approval.covers(result):
        return None
    return found


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _echo_json(document: Any) -> None:
    click.echo(redact.scrub(json.dumps(document, indent=2, ensure_ascii=False)))


def _check_freeze(
    project: config.Project, *, force: bool, reason: str | None
) -> schedule.FreezeWindow | None:
    """Refuse (exit 4) during a freeze window unless ``--force`` with ``--reason``."""
    if reason is not None and not reason.strip():
        raise click.BadParameter("--reason needs some text saying why", param_hint="--reason")
    now = dt.datetime.now(dt.UTC)
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
        "time": schedule.stamp_exact(dt.datetime.now(dt.UTC)),
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
    if deletes:  # asked once, with what goes: the line a reviewer must not miss
        question = f"{render.deletes_line(result)} {question}"
    if not click.confirm(question, default=False, err=True):
        raise click.Abort()


# --------------------------------------------------------------------------------------------
# restore
# --------------------------------------------------------------------------------------------


@main.command("restore")
@project_option
@click.argument("snapshot_path", type=click.Path(dir_okay=False, path_type=Path))
@target_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Restore even if the plan breaks a safety limit.")
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
@snapshot_option
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
    options = settings(ctx)
    project = config.load_project(options.directory)
    taken = snapshot.read(snapshot_path)
    if target_name is not None and target_name != taken.target:
        raise errors.PlanFileInvalid(
            f"{snapshot_path} was taken on target {taken.target!r}, not {target_name!r}"
        )
    target = project.target(taken.target)
    stop = threading.Event()
    with (
        _open_client(project, target) as bold,
        lock.held(
            lock.ApplyLock(bold, project.ownership.record, notify=_warn),
            timeout=lock_timeout,
            stop=stop,
        ),
    ):
        live = state.fetch_live(bold)
        result = snapshot.restore_plan(taken, live, target=target, project=project)
        _show(render.render_text(result, color=_colour(), forced=force), quiet=options.quiet)
        if result.empty:
            return OK
        result.check_safety(force=force)
        _confirm(result, yes=yes, allow_delete=allow_delete)
        taken, taken_to = _snapshot(result, project, snapshot_file, options, forced=force)
        stream = None if options.quiet else sys.stderr
        with apply.open_ledger(ledger) as ledger_file:
            progress = apply.Progress(stream=stream, ledger=ledger_file)
            report, _ = apply.execute_recorded(bold, result, progress=progress, stop=stop)
        snapshot.write(dataclasses.replace(taken, finished=True), taken_to)
    if not options.quiet:
        click.echo(
            f"Restore complete: {report.done} call{'s' if report.done != 1 else ''} succeeded.",
            err=True,
        )
    return OK


# --------------------------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------------------------


@main.command("doctor")
@project_option
@target_option
@click.option(
    "--write",
    is_flag=True,
    help="Also create, change and delete probe objects (boldrules-doctor-…) through every route "
    "apply uses; they are always deleted again.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json for a report to attach to a bug.",
)
@click.pass_context
def doctor_command(ctx: click.Context, target_name: str | None, write: bool, output: str) -> int:
    """Check every assumption boldrules makes about a target: the first step of going live."""
    options = settings(ctx)
    project = config.load_project(options.directory)
    target = project.target(target_name)
    where = target.api_url or f"embedded sandbox {target.sandbox}"
    report = doctor.Report(target=target.name, api_url=where, write=write)
    token_note = (
        "the embedded sandbox's own token"
        if target.sandbox is not None
        else f"read from ${target.token_env} (never shown)"
    )
    try:
        bold = _open_client(project, target)
    except (errors.TokenMissing, errors.TokenInvalid) as exc:
        report.checks.append(doctor.Check(doctor.FAIL, "token", got=str(exc), cause="auth"))
        report.checks.append(
            doctor.Check(doctor.SKIPPED, "the remaining checks", got="stopped: no usable token")
        )
    else:
        with bold:
            checker = doctor.Doctor(
                bold,
                report=report,
                project=project.ownership.record,
                shop_identifier=target.shop_identifier,
            )
            checker.run(token_note=token_note, write=probes.run if write else None)
    if output == "json":
        click.echo(redact.scrub(json.dumps(report.as_json(), indent=2, ensure_ascii=False)))
    else:
        click.echo(
            f"boldrules doctor: target {target.name} ({where})"
            + (", with --write" if write else ", read-only")
        )
        for check in report.checks:
            for line in check.lines():
                click.echo(redact.printable(line))
        for line in report.summary():
            click.echo(redact.printable(line))
    return report.exit_code


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
