"""``boldrules validate``: every manifest and sample cart checked offline, every problem at once."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

import click

from reconciler import carts, config, errors, manifest, words
from reconciler.cli import boundary, options


@click.command("validate")
@options.project_option
@options.target_option
@options.format_option(["text", "json"], "json prints the problems for tools.")
@click.pass_context
def validate(ctx: click.Context, target_name: str | None, output: Literal["text", "json"]) -> int:
    """Check every manifest offline (no token, no network): every problem at once."""
    settings = options.settings(ctx)
    try:
        project = config.load_project(settings.directory)
        target = project.target(target_name)
        problems_found: list[errors.Problem] = []
        loaded: manifest.Manifests | None = None
        samples: carts.Carts | None = None
        try:
            loaded = manifest.load_manifests(project, target)
        except errors.ManifestInvalid as exc:
            problems_found += exc.problems
        try:
            samples = carts.load_carts(project)
        except errors.ManifestInvalid as exc:
            problems_found += exc.problems
        if problems_found:
            raise errors.ManifestInvalid(problems_found)
        assert loaded is not None and samples is not None
    except (errors.ManifestInvalid, errors.ProjectFileInvalid) as exc:
        # These are validate's findings, its output proper: stdout, not the error stream.
        # Paths from where the command runs: the pre-commit hook runs at the repository root
        # with -C shop, and `shop/pricing/a.yaml:3:5` is what an editor or a terminal opens.
        prefix = _from_cwd(settings.directory)
        problems = [
            boundary.printable(dataclasses.replace(problem, file=prefix + problem.file))
            for problem in exc.problems
        ]
        if output == "json":
            click.echo(json.dumps(_json_report(problems), indent=2))
        else:
            for problem in problems:
                click.echo(str(problem))
            click.echo(boundary.summary(problems))
        return boundary.INVALID
    if output == "json":
        report = _json_report([], loaded=loaded, target=target.name, samples=samples)
        click.echo(json.dumps(report, indent=2))
    elif not settings.quiet:
        counts = _counts(loaded)
        if samples.carts:
            counts += f", {words.count(len(samples.carts), 'cart')}"
        files = len(loaded.files) + len(samples.files)
        click.echo(f"{words.count(files, 'file')} valid (target {target.name}): {counts}")
    return boundary.OK


def _from_cwd(directory: Path) -> str:
    """``shop/`` when the project is a folder below the working directory, else ``""``."""
    try:
        inside = directory.resolve().relative_to(Path.cwd().resolve())
    except (OSError, ValueError):
        return ""
    return "" if str(inside) == "." else f"{inside.as_posix()}/"


def _counts(loaded: manifest.Manifests) -> str:
    by_kind: dict[str, int] = {}
    for declared in loaded.objects:
        by_kind[declared.key.kind.label] = by_kind.get(declared.key.kind.label, 0) + 1
    parts = [words.count(n, kind) for kind, n in by_kind.items()]
    return ", ".join(parts) or "nothing declared"


def _json_report(
    problems: list[errors.Problem],
    *,
    loaded: manifest.Manifests | None = None,
    target: str | None = None,
    samples: carts.Carts | None = None,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "valid": not problems,
        "summary": boundary.summary(problems) if problems else "no problems",
        "problems": [problem.as_json() for problem in problems],
    }
    if loaded is not None:
        report["target"] = target
        report["files"] = list(loaded.files) + list(samples.files if samples else ())
        report["objects"] = [str(declared.key) for declared in loaded.objects]
        report["carts"] = [sample.name for sample in samples.carts] if samples else []
    return report
