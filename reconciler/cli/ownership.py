"""``boldrules unlock`` and ``boldrules ownership show``: boldrules' own objects in the shop
(the apply lock and the ownership record, docs/ownership.md)."""

from __future__ import annotations

import json
from typing import Any

import click

from reconciler import config, errors, instants, lock, ownership, pipeline
from reconciler.cli import boundary, options, terminal


@click.command("unlock")
@options.project_option
@options.target_option
@options.yes_option
@click.pass_context
def unlock_command(ctx: click.Context, target_name: str | None, yes: bool) -> int:
    """Break the apply lock a crashed or stuck run left behind (asks first)."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    target = project.target(target_name)
    name = project.ownership.record
    with pipeline.open_client(project, target) as bold:
        holder = lock.read_lock(bold, name)
        if holder is None:
            click.echo(
                f"No apply lock {lock.lock_id(name)} on shop {bold.shop_identifier} "
                f"(target {target.name}): nothing to unlock."
            )
            return boundary.OK
        state_text = (
            "it has expired"
            if holder.expired(instants.now())
            else "it has not expired: that run may still be applying"
        )
        click.echo(
            f"The apply lock {lock.lock_id(name)} on shop {bold.shop_identifier} is held by "
            f"{holder.describe()}; {state_text}."
        )
        if not yes:
            if not terminal.interactive():
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
    return boundary.OK


@click.group("ownership")
def ownership_group() -> None:
    """The ownership record: what this project manages in the shop (docs/ownership.md)."""


@ownership_group.command("show")
@options.project_option
@options.target_option
@click.option(
    "--project",
    "record_name",
    metavar="NAME",
    help="Show another project's record (default: this project's ownership.record).",
)
@options.format_option(["text", "json"], "json for tools.")
@click.pass_context
def ownership_show(
    ctx: click.Context, target_name: str | None, record_name: str | None, output: str
) -> int:
    """Print the ownership record: every object this project manages, as the shop holds it."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    target = project.target(target_name)
    name = record_name or project.ownership.record
    with pipeline.open_client(project, target) as bold:
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
    return boundary.OK
