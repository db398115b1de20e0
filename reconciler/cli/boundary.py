"""The error boundary: the one place errors become lines on stderr and exit codes.

Exit codes (README, stable): 0 ok; 1 error; 2 changes pending (``--detailed-exitcode``);
3 invalid manifests; 4 refused by a safety rule; 5 apply partly failed; 6 stale plan;
7 authentication or permission refused; 8 the API could not be reached; 9 another run holds the
apply lock. Each ``errors.BoldrulesError`` carries its own; the constants here are the ones a
command returns itself.

``Boldrules.invoke`` is the single boundary: an ``errors.BoldrulesError`` becomes
``error: <message>`` on stderr and its exit code; anything else is a bug and says so in one line
(with the traceback only under ``-vv``). Commands never catch errors just to print them, and
never print an error themselves: they raise, or hand it to ``report_error``.
"""

from __future__ import annotations

import dataclasses
import traceback
from typing import IO, Any

import click

import reconciler
from reconciler import errors, redact, words
from reconciler.cli import options

OK = 0
ERROR = 1
#: ``plan --detailed-exitcode``: changes are pending.
PENDING = 2
INVALID = 3


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
        except BrokenPipeError:
            raise  # the reader of the output went away (``| head``): click ends quietly, exit 1
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
            if ctx.params.get("verbose", 0) + ctx.meta.get(options.VERBOSE_KEY, 0) >= 2:
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


def printable(problem: errors.Problem) -> errors.Problem:
    """A problem safe to print: secrets blanked, control characters escaped (a manifest, or a
    shop's value, may hold terminal escapes)."""
    return dataclasses.replace(
        problem,
        file=redact.printable(problem.file),
        path=redact.printable(problem.path),
        message=redact.printable(problem.message),
    )


def summary(problems: list[errors.Problem]) -> str:
    """``2 problems in 1 file``."""
    files = len({problem.file for problem in problems})
    count = len(problems)
    return words.problems_in_files(count, files)
