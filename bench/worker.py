"""``python -m bench.worker``: one benchmark job in a fresh process, so peak memory is its own.

Reads ``{"job", "size", "setting", "url"}`` as JSON on stdin, runs ``cases.run_job`` and writes
the rows as one JSON line on stdout. Imports happen before anything is measured, as they would
in a command already started. It must not prepare the sandbox (the parent does) nor print
anything else on stdout.
"""

from __future__ import annotations

import json
import sys

from bench import cases


def main() -> None:
    """Run the job described on stdin; print its rows."""
    job = json.loads(sys.stdin.read())
    rows = cases.run_job(job["job"], int(job["size"]), job["setting"], job["url"])
    sys.stdout.write(json.dumps(rows) + "\n")


if __name__ == "__main__":
    main()
