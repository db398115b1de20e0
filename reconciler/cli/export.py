"""``boldrules export``: the shop's live objects written as manifests that plan back clean."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import config, export, manifest, pipeline, words
from reconciler.cli import boundary, options


@click.command("export")
@options.project_option
@options.target_option
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
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    target = project.target(target_name)
    folder = out if out.is_absolute() else project.root / out
    export.check_destination(folder)
    with pipeline.open_client(project, target) as bold:
        live = pipeline.read_shop(bold, project, None)
    selected = export.select(live, project.ownership, all_codes=all_codes)
    chosen = export.name_unnamed(selected, shop=live.shop)
    result = export.write(chosen, folder, shop=live.shop, split=split, overwrite=force)
    # The shop may hold what the manifest format refuses (another client wrote it, or a server
    # more lenient than the contract): say so now, located, not at the first plan.
    inside = folder.resolve().is_relative_to(project.root.resolve())
    refused = manifest.check_files(
        project, target, list(result.files), root=None if inside else folder
    )
    counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
    if not settings.quiet:
        files = words.count(len(result.files), "file")
        click.echo(f"Wrote {files} to {folder}: {counts}.", err=True)
    for problem in refused:  # problems: printed under --quiet too
        click.echo(f"warning: {boundary.printable(problem)}", err=True)
    if not settings.quiet:
        adopted = sum(1 for r in chosen if "adopt" in r.handles)
        if adopted:
            click.echo(
                f"Named {words.count(adopted, 'ruleset')} holding objects without "
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
        if refused:
            click.echo(
                f"The shop holds {words.count(len(refused), 'value')} the manifest format does "
                "not accept (the warnings above): correct them in the files (apply then writes "
                "them to the shop) or in the shop, then add the folder to `manifests:` in "
                "boldrules.yaml.",
                err=True,
            )
            return boundary.OK
        click.echo(
            "Add the folder to `manifests:` in boldrules.yaml, then `boldrules plan` shows "
            + ("what apply will name or remove, then No changes." if pending else "No changes."),
            err=True,
        )
    return boundary.OK
