"""What every command shares: the global settings, logging, and the options declared once.

An option two commands take is declared here, once, and applied with its decorator, so its
name, help and checks cannot drift apart between commands. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import instants

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Settings:
    """The global options every command sees."""

    directory: Path
    """The project folder (``-C``)."""
    verbose: int
    """How many ``-v`` were given."""
    quiet: bool
    """``-q``: print only problems and errors."""


def configure_logging(verbose: int, quiet: bool) -> None:
    """Log levels from ``-v``/``-q``: warnings by default, ``warning: `` before each."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    level = logging.ERROR if quiet else level
    logging.basicConfig(level=level, format="%(message)s")
    logging.getLogger().setLevel(level)  # again when -v/-q come after the command
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # basicConfig's own, not a test's capture
            handler.setFormatter(LevelPrefix())
    # Our client logs every call once, redacted; httpx's own lines would repeat them unredacted
    # (full URLs) and httpcore's are wire noise.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class LevelPrefix(logging.Formatter):
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
        verbose=found.verbose + ctx.meta.get(VERBOSE_KEY, 0),
        quiet=found.quiet or ctx.meta.get(_QUIET_KEY, False),
    )


_DIRECTORY_KEY = "boldrules.directory"
VERBOSE_KEY = "boldrules.verbose"
_QUIET_KEY = "boldrules.quiet"


def _remember_directory(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[_DIRECTORY_KEY] = value


def _remember_verbosity(ctx: click.Context, parameter: click.Parameter, value: Any) -> None:
    if not value:
        return
    ctx.meta[VERBOSE_KEY if parameter.name == "verbose" else _QUIET_KEY] = value
    found = ctx.find_object(Settings)
    if found is not None:
        configure_logging(
            found.verbose + ctx.meta.get(VERBOSE_KEY, 0),
            found.quiet or ctx.meta.get(_QUIET_KEY, False),
        )


def project_option(command: F) -> F:
    """``-C DIR``, ``-v`` and ``-q``, accepted after the command name as before it (people type
    ``boldrules validate -C examples/x`` both ways); every command takes them."""
    verbosity = functools.partial(click.option, expose_value=False, callback=_remember_verbosity)
    command = verbosity(
        "-q",
        "--quiet",
        "quiet",
        is_flag=True,
        help="Print only problems and errors (also accepted before the command).",
    )(command)
    command = verbosity(
        "-v",
        "--verbose",
        "verbose",
        count=True,
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


#: ``--target``/``-t``: which target of the project file a command works on.
target_option = click.option(
    "--target",
    "-t",
    "target_name",
    metavar="NAME",
    help="The project file's target to use (default: default_target).",
)


def format_option(choices: Sequence[str], help: str) -> Callable[[F], F]:
    """``--format``, into the ``output`` parameter, ``text`` by default."""
    return click.option(
        "--format",
        "output",
        type=click.Choice(list(choices)),
        default="text",
        show_default=True,
        help=help,
    )


def plan_format_option(command: F) -> F:
    """``--format`` of the commands that print a plan (``plan``, ``show``): the table of formats.

    Read when a command applies it, so that commands printing no plan (``validate``, ``schema``,
    ``--help``...) never import the plan and its formats."""
    from reconciler import planformat

    return format_option(
        list(planformat.FORMATS),
        ", ".join(f.help for f in planformat.FORMATS.values()) + ".",
    )(command)


#: ``--show-codes``: discount code names whole in Markdown (masked otherwise).
show_codes_option = click.option(
    "--show-codes", is_flag=True, help="Show discount code names whole in Markdown."
)


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--at``: an RFC 3339 date-time, taken as the current instant."""
    if value is None:
        return None
    found = instants.parse_strict(value)
    if found is None:
        raise click.BadParameter(
            f"{value!r} is not an RFC 3339 date-time such as 2027-03-01T00:00:00Z"
        )
    return found


#: ``--at`` of ``lint`` and ``plan``: the instant windows are judged at.
at_option = click.option(
    "--at",
    "at",
    metavar="INSTANT",
    callback=_instant,
    help="Judge windows as of this RFC 3339 instant instead of now (e.g. 2026-11-27T00:00:00Z).",
)


def zoned_instant(text: str) -> dt.datetime:
    """``price --at``: an instant with a zone, or a usage error naming the option."""
    parsed = instants.parse_strict(text)
    if parsed is None:
        raise click.BadParameter(
            f"{text!r} is not an instant with a zone, e.g. 2027-03-10T12:00:00Z", param_hint="--at"
        )
    return parsed


def filter_options(command: F) -> F:
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


def template_option(help: str) -> Callable[[F], F]:
    """``--template FILE``: a Jinja2 template for the Markdown plan (``plan``, ``show``)."""
    return click.option("--template", type=click.Path(dir_okay=False, path_type=Path), help=help)


#: ``--yes``/``-y``: do not ask (``apply``, ``restore``, ``unlock``).
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")

#: ``--allow-delete``: deletes in a run without a terminal to ask on (``apply``, ``restore``).
allow_delete_option = click.option(
    "--allow-delete", is_flag=True, help="Allow deletes in a run that does not ask (CI)."
)


def writes_options(command: F) -> F:
    """``--ledger`` and ``--lock-timeout``: the commands that write to the shop."""
    command = click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=0,
        show_default=True,
        metavar="SECONDS",
        help="Wait this long for another run's apply lock before giving up (exit 9).",
    )(command)
    return click.option(
        "--ledger",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Append one JSON line per API call to this file.",
    )(command)


#: ``--snapshot FILE``: where apply and restore save the state of what they change.
snapshot_option = click.option(
    "--snapshot",
    "snapshot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the state of the objects this run changes here, before the first write "
    "(default: .boldrules/snapshots/<target>-<time>.json); `boldrules restore FILE` undoes it.",
)


def check_markdown_only(template: Path | None, output: str) -> None:
    """``--template`` renders Markdown: refuse it with another ``--format``."""
    if template is not None and output != "markdown":
        raise click.UsageError("--template renders Markdown: add --format markdown")
