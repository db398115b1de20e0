"""The ``boldrules`` command line: the one place that prints and picks exit codes.

Each command parses its options, calls one library function, prints, and returns an exit code
(design.md): 0 ok; 1 error; 2 changes pending (``--detailed-exitcode``); 3 invalid manifests;
4 refused by a safety rule; 5 apply partly failed; 6 stale plan; 7 authentication.

``Boldrules.invoke`` is the single error boundary: an ``errors.BoldrulesError`` becomes
``error: <message>`` on stderr and its exit code; anything else is a bug and says so in one line
(with the traceback only under ``-vv``). Commands never catch errors just to print them.

This module must hold no logic of its own beyond choosing what to print: loading, planning and
applying live in their modules. Output of a command (a plan, the problems ``validate`` found) goes
to stdout; logs and errors go to stderr. The token is never printed.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click

import reconciler
from reconciler import config, errors, manifest

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
            click.echo(
                f"error: internal error ({type(exc).__name__}: {errors.cut(str(exc), 200)}). "
                f"This is a bug in boldrules {reconciler.__version__}: please report it with the "
                "command you ran (add -vv to see the traceback).",
                err=True,
            )
            if ctx.params.get("verbose", 0) >= 2:
                click.echo(traceback.format_exc().rstrip(), err=True)
            ctx.exit(ERROR)
        ctx.exit(result if isinstance(result, int) else OK)


def report_error(exc: errors.BoldrulesError) -> None:
    """Print an expected error to stderr: its problems one a line, or ``error: message``."""
    problems = getattr(exc, "problems", None)
    if isinstance(exc, errors.ManifestInvalid | errors.ProjectFileInvalid) and problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"error: {summary(problems)}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)


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
    ctx.obj = Settings(directory=directory, verbose=verbose, quiet=quiet)


def settings(ctx: click.Context) -> Settings:
    """The global options, as ``main`` stored them."""
    found = ctx.find_object(Settings)
    assert found is not None, "commands run under main"
    return found


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


@main.command()
@click.option("--target", "-t", "target_name", help="Render templates with this target's vars.")
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
        problems = exc.problems
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


# The lead adds `plan`, `apply`, `export` and `sandbox` below, each as a @main.command()
# function that returns an exit code; the boundary above handles their errors.
