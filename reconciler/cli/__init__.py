"""The ``boldrules`` command line: the one place that prints and picks exit codes.

Each command is a module of this package (``validate``, ``lint``, ``plan``, ``price``, ``show``,
``apply``, ``restore``, ``doctor``, ``export``, ``schema``, ``targets``, ``ownership`` for
``unlock`` and ``ownership show``; ``sandbox`` comes from ``reconciler.sandbox.command``). A
command parses its options, calls the library (``pipeline`` for everything that plans), renders
(``planformat`` for plans), and returns an exit code. What commands share is declared once:
options and settings in ``options.py``, printing helpers in ``terminal.py``, the safeguards of
writing commands in ``safeguards.py``, and the one error boundary, with the exit codes, in
``boundary.py`` (design.md): commands never catch errors just to print them.

Loading, planning and applying live in their modules, never here. Output of a command (a plan,
the problems ``validate`` found) goes to stdout; logs and errors go to stderr. The token is never
printed.
"""

from __future__ import annotations

from pathlib import Path

import click

import reconciler
from reconciler.cli import (
    apply,
    boundary,
    doctor,
    export,
    lint,
    options,
    ownership,
    plan,
    price,
    restore,
    schema,
    show,
    targets,
    validate,
)
from reconciler.sandbox import command as sandbox_command

__all__ = ["main"]


@click.group(cls=boundary.Boldrules, context_settings={"help_option_names": ["-h", "--help"]})
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
    options.configure_logging(verbose, quiet)
    ctx.obj = options.Settings(directory=directory, verbose=verbose, quiet=quiet)


for command in (
    validate.validate,
    lint.lint_command,
    plan.plan_command,
    targets.targets_command,
    price.price_command,
    show.show_command,
    apply.apply_command,
    restore.restore_command,
    doctor.doctor_command,
    export.export_command,
    schema.schema_command,
    ownership.unlock_command,
    ownership.ownership_group,
    sandbox_command.sandbox,
):
    main.add_command(command)
