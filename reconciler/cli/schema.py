"""``boldrules schema``: the JSON Schemas written out for editors' modelines."""

from __future__ import annotations

from pathlib import Path

import click

import reconciler
from reconciler import atomic, errors, schema
from reconciler.cli import boundary, options

#: Where ``boldrules schema`` writes, and where the examples' modelines point.
SCHEMA_FOLDER = Path(".boldrules") / "schemas"


@click.command("schema")
@options.project_option
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
    settings = options.settings(ctx)
    folder = out if out.is_absolute() else settings.directory / out
    texts = schema.texts()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            atomic.write_text(folder / name, text)
    except OSError as exc:
        raise errors.ConfigError(
            f"--out {folder}: cannot write the schemas ({exc.strerror})"
        ) from None
    if not settings.quiet:
        click.echo(
            f"Wrote {len(texts)} JSON Schemas of boldrules {reconciler.__version__} to {folder}: "
            f"{', '.join(texts)}.",
            err=True,
        )
    return boundary.OK
