"""``boldrules targets``: the project's targets, one a line or as a CI matrix."""

from __future__ import annotations

import json

import click

from reconciler import config
from reconciler.cli import boundary, options


@click.command("targets")
@options.project_option
@options.format_option(
    ["text", "json"],
    'json prints {"target": [...]}: a GitHub Actions `matrix`, and the list a GitLab '
    "`parallel:matrix` takes (docs/ci.md).",
)
@click.pass_context
def targets_command(ctx: click.Context, output: str) -> int:
    """List the project's targets (one a line), or as a CI matrix: one job per shop."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    names = sorted(project.targets)
    if output == "json":
        click.echo(json.dumps({"target": names}))
    else:
        for name in names:
            click.echo(name)
    return boundary.OK
