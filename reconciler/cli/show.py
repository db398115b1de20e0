"""``boldrules show``: a saved plan printed again, without reading the shop."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler import planformat, redact, savedplan, show
from reconciler.cli import boundary, options, terminal


@click.command("show")
@options.project_option
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@options.plan_format_option
@options.template_option(
    "A Jinja2 template to render the Markdown with (only with --format markdown)."
)
@options.show_codes_option
@click.pass_context
def show_command(
    ctx: click.Context, plan_file: Path, output: str, template: Path | None, show_codes: bool
) -> int:
    """Print a saved plan (from `plan --out`) without reading the shop."""
    options.check_markdown_only(template, output)
    saved = savedplan.read_plan(plan_file)
    if output == "json":
        click.echo(redact.scrub(json.dumps(saved.document, indent=2, ensure_ascii=False)))
        return boundary.OK
    result = show.saved_plan(saved)
    text = planformat.render(
        result, output, color=terminal.colour(), template=template, show_codes=show_codes
    )
    click.echo(redact.scrub(text), nl=False)
    return boundary.OK
