"""``boldrules`` as a process: the command line run once, then the process ends at once.

``main`` (the click group) is what tests invoke in process; ``run`` is what the ``boldrules``
script and ``python -m reconciler`` call. It owns only how the process ends: once the command
has returned its exit code (or failed with one, through the error boundary), what it printed is
flushed, logging is shut down, and the process exits with that code without tearing down the
objects the command built. A plan of 10,000 rulesets holds a few million of them; freeing them
one by one as the interpreter finalised took 0.1-0.15 s after the output was complete. What a
command is done with before it ends can wait for the same end (``lifetime.keep``).

Nothing is skipped that a command relies on: every command closes its clients, files and
worker processes itself (context managers), and its output is flushed here. A reader that
closed the pipe early (``boldrules plan | head``) ends the output quietly, as ``head`` wants.
"""

from __future__ import annotations

import logging
import os
import sys

from reconciler import lifetime
from reconciler.cli import main


def run() -> None:
    """Run the command line of ``sys.argv`` and end the process with its exit code."""
    lifetime.end_with_process()
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = _code(stop.code)
    code = _flushed(code)
    logging.shutdown()
    os._exit(code)


def _code(given: object) -> int:
    """What ``sys.exit(given)`` would exit with (a message is printed, and is exit 1)."""
    if given is None:
        return 0
    if isinstance(given, int):
        return given
    print(given, file=sys.stderr)
    return 1


def _flushed(code: int) -> int:
    """``code``, once stdout and stderr are flushed; a reader gone away is no error of ours."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            # As Python's own exit does: the rest of the output has nowhere to go.
            return code if code else 1
        except (OSError, ValueError):  # closed, or a stream that cannot flush
            continue
    return code
