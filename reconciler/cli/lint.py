"""``boldrules lint``: rules that will not do what they say in Bold's engine (offline)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

import reconciler
from reconciler import config, lint, manifest, pipeline, redact
from reconciler.cli import boundary, options


@click.command("lint")
@options.project_option
@options.target_option
@options.format_option(
    ["text", "json", "sarif"], "json for tools, sarif (2.1.0) for GitHub code scanning."
)
@options.at_option
@click.pass_context
def lint_command(
    ctx: click.Context, target_name: str | None, output: str, at: dt.datetime | None
) -> int:
    """Find rules that will not do what they say in Bold's engine (offline, no token)."""
    settings = options.settings(ctx)
    project = config.load_project(settings.directory)
    target = project.target(target_name)
    found = pipeline.findings(project, manifest.load_manifests(project, target), at)
    # Findings quote the manifests: the whole output is scrubbed once (per finding, reading the
    # secrets again each time, would cost seconds on a big shop).
    if output == "json":
        click.echo(redact.scrub(lint.report(found)))
    elif output == "sarif":
        prefix = _repository_prefix(project.root)
        log = lint.sarif.document(found, version=reconciler.__version__, prefix=prefix)
        click.echo(redact.scrub(json.dumps(log, indent=2, ensure_ascii=False)))
    else:
        lines = [str(finding).replace("\n", "\\n") for finding in found]  # one line each
        if found or not settings.quiet:
            lines.append(f"lint (target {target.name}): {lint.summary(found)}")
        if lines:
            click.echo(redact.printable("\n".join(lines), lines=True))
    return boundary.INVALID if any(f.severity == "error" for f in found) else boundary.OK


def _repository_prefix(root: Path) -> str:
    """The project folder relative to the git work tree holding it (``examples/shop/``)."""
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            relative = root.relative_to(folder).as_posix()
            return "" if relative == "." else relative + "/"
    return ""
