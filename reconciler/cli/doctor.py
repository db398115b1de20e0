"""``boldrules doctor``: every assumption boldrules makes about a target, checked against it."""

from __future__ import annotations

import json

import click

from reconciler import config, doctor, errors, pipeline, probes, redact
from reconciler.cli import options
from reconciler.doctor import recording, results


@click.command("doctor")
@options.project_option
@options.target_option
@click.option(
    "--write",
    is_flag=True,
    help="Also create, change and delete probe objects (boldrules-doctor-…) through every route "
    "apply uses; they are always deleted again.",
)
@options.format_option(["text", "json"], "json for a report to attach to a bug.")
@click.pass_context
def doctor_command(ctx: click.Context, target_name: str | None, write: bool, output: str) -> int:
    """Check every assumption boldrules makes about a target: the first step of going live."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    target = project.target(target_name)
    where = target.api_url or f"embedded sandbox {target.sandbox}"
    report = results.Report(target=target.name, api_url=where, write=write)
    token_note = (
        "the embedded sandbox's own token"
        if target.sandbox is not None
        else f"read from ${target.token_env} (never shown)"
    )
    try:
        bold = pipeline.open_client(project, target)
    except (errors.TokenMissing, errors.TokenInvalid) as exc:
        report.checks.append(results.Check(results.FAIL, "token", got=str(exc), cause="auth"))
        report.checks.append(
            results.Check(results.SKIPPED, "the remaining checks", got="stopped: no usable token")
        )
    else:
        with bold:
            checker = recording.Doctor(
                bold,
                report=report,
                project=project.ownership.record,
                shop_identifier=target.shop_identifier,
            )
            doctor.run(checker, token_note=token_note, write=probes.run if write else None)
    if output == "json":
        click.echo(redact.scrub(json.dumps(report.as_json(), indent=2, ensure_ascii=False)))
    else:
        click.echo(
            f"boldrules doctor: target {target.name} ({where})"
            + (", with --write" if write else ", read-only")
        )
        for check in report.checks:
            for line in check.lines():
                click.echo(redact.printable(line))
        for line in report.summary():
            click.echo(redact.printable(line))
    return report.exit_code
