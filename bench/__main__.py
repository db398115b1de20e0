"""``python -m bench``: run the benchmarks, write results, regenerate the README table, print it.

Owns the command line only: ``--sizes``, ``--settings``, ``--quick`` (100 and 1,000 rulesets),
``--repeats`` and ``--out``. Progress goes to stderr, the table to stdout. bench/README.md is
regenerated only when results go to the default folder, so a scratch run elsewhere never
rewrites the published figures. It must not measure or format anything itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import end_to_end, report, run

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"
README = HERE / "README.md"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma list of whole numbers") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be whole numbers ≥ 1")
    return sizes


def _settings(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in ("bold", "unpaced")]
    if unknown or not names:
        raise argparse.ArgumentTypeError("settings are a comma list of: bold, unpaced")
    return names


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, write, print; the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark plan and apply against the served sandbox, Bold-like and "
        "unpaced, beside the read-and-upsert baseline script.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="comma list of ruleset counts (default 100,1000,10000)",
    )
    parser.add_argument(
        "--settings", type=_settings, default=["bold", "unpaced"], help="bold,unpaced (default)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="sizes 100 and 1,000 only (about 7 minutes)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help=f"runs of each job shorter than {run.LONG_JOB_S:g} s (default 3)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for results JSON")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="instead: manifest files on disk -> `boldrules plan` as a process, at --sizes "
        "(default 1000,10000,30000), and `plan --all-targets` over 8 shops x 500 rulesets "
        "(python -m bench.end_to_end --help for more)",
    )
    options = parser.parse_args(argv)
    if options.end_to_end:
        sizes = options.sizes or [1_000, 10_000, 30_000]
        return end_to_end.main(
            ["--sizes", ",".join(map(str, sizes)), "--repeats", str(options.repeats)]
        )
    if options.sizes is not None:
        sizes = options.sizes
    else:
        sizes = list(run.QUICK_SIZES if options.quick else run.DEFAULT_SIZES)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    run.run(
        sizes=sizes,
        settings=options.settings,
        out=options.out,
        quick=options.quick,
        repeats=options.repeats,
        say=say,
    )
    if options.out.resolve() == DEFAULT_OUT:
        generated = report.update_readme(README, DEFAULT_OUT)
        say(f"updated {README}")
    else:
        generated = report.render(report.load_latest(options.out))
    print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
