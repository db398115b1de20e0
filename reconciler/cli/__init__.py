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

import importlib
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import click


class _WithoutHttpxCommandLine:
    """Keeps httpx's package from importing ``httpx._main``, the ``httpx`` command.

    httpx imports its own command line (click, rich and pygments: ~60 ms, a fifth of a
    command's start) whenever those are installed, as rich is here for the live progress line;
    boldrules never runs it. Asked for it while httpx's package is still loading (it has no
    ``main`` yet), this finder answers that it is missing, and httpx takes the fallback it has
    for a missing CLI (``httpx.main`` then only says so). It answers once and steps aside: a
    later ``import httpx._main`` works as ever.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "httpx._main":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        package = sys.modules.get("httpx")
        if package is not None and not hasattr(package, "main"):
            raise ModuleNotFoundError("boldrules does not load httpx's command line", name=fullname)
        return None


if "httpx" not in sys.modules:  # imported by the first command that talks to a shop
    sys.meta_path.insert(0, _WithoutHttpxCommandLine())

import reconciler  # noqa: E402
from reconciler.cli import boundary, options  # noqa: E402

__all__ = ["main"]

#: Every command, by name: the module and the attribute that define it. A command's module is
#: imported only when that command runs (or a help lists it): ``boldrules plan`` never pays for
#: ``apply``, ``doctor`` or the sandbox server.
COMMANDS = {
    "validate": "reconciler.cli.validate:validate",
    "lint": "reconciler.cli.lint:lint_command",
    "plan": "reconciler.cli.plan:plan_command",
    "targets": "reconciler.cli.targets:targets_command",
    "price": "reconciler.cli.price:price_command",
    "show": "reconciler.cli.show:show_command",
    "apply": "reconciler.cli.apply:apply_command",
    "restore": "reconciler.cli.restore:restore_command",
    "doctor": "reconciler.cli.doctor:doctor_command",
    "export": "reconciler.cli.export:export_command",
    "schema": "reconciler.cli.schema:schema_command",
    "unlock": "reconciler.cli.ownership:unlock_command",
    "ownership": "reconciler.cli.ownership:ownership_group",
    "sandbox": "reconciler.sandbox.command:sandbox",
}


class Main(boundary.Boldrules):
    """The ``boldrules`` group: its commands named up front, each imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command), COMMANDS[cmd_name]
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and self.get_command(ctx, args[0]) is None:
            # click's "Did you mean 'plan'?" draws on the commands loaded: load them all.
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
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
