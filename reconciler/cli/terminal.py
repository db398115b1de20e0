"""How commands print: stdout for output, stderr for what happens meanwhile, never a secret.

Output of a command (a plan, the problems ``validate`` found) goes to stdout; logs, progress and
errors go to stderr. Whatever quotes the manifests or the shop goes through ``redact`` first.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconciler import client, progress, redact, words


def colour() -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def interactive() -> bool:
    """A terminal to ask on (stdin and stdout both)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def show(text: str, *, quiet: bool) -> None:
    """Print ``text`` as is (no newline added) unless ``quiet``."""
    if not quiet:
        # A plan quotes what the manifests and the shop hold: never a secret of the environment.
        click.echo(redact.scrub(text), nl=False)


def echo_json(document: Any) -> None:
    """A JSON document on stdout, secrets scrubbed."""
    click.echo(redact.scrub(json.dumps(document, indent=2, ensure_ascii=False)))


def warn(text: str) -> None:
    """A line on stderr."""
    click.echo(text, err=True)


def relative(path: Path) -> str:
    """``path`` from the working directory when it is below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def absorbed(count: int) -> str:
    """``2 rate-limit answers absorbed``: 429s held and retried, never an error (docs/client.md)."""
    return f"{words.count(count, 'rate-limit answer')} absorbed"


def watch(label: str, unit: str, poll: Callable[[], progress.Snapshot]) -> progress.Watch:
    """A live progress line on stderr (none under ``-q``)."""
    quiet = logging.getLogger().getEffectiveLevel() >= logging.ERROR  # -q
    return progress.Watch(
        label, unit, poll, stream=None if quiet else sys.stderr, terminal=sys.stderr.isatty()
    )


def watch_reading(name: str) -> Callable[[client.BoldClient], progress.Watch]:
    """The live progress of reading a shop (progress.py): objects listed of those announced."""

    def watching(bold: client.BoldClient) -> progress.Watch:
        def poll() -> progress.Snapshot:
            stats = bold.stats
            return progress.Snapshot(
                stats.listed, stats.announced or None, stats.requests, stats.rate_limited
            )

        return watch(f"Reading shop {bold.shop_identifier} (target {name})", "objects", poll)

    return watching


class Stderr:
    """``sys.stderr`` as it is at each write: while a live progress line shows, rich redirects
    it so that apply's lines printed meanwhile appear above the line, not through it. (The live
    line itself is given the real stderr: given this, it would write to itself.)"""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()
