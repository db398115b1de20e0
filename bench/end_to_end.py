"""End-to-end cases: manifest files on disk → ``boldrules plan`` as a process, against served
sandboxes, as a user runs it; one shop, and an agency's many shops with ``--all-targets``.

Owns the making of such a project (the bench shop's objects exported as manifest files with our
own exporter, a ``boldrules.yaml`` whose targets point at served sandboxes, each its own shop
with its own 10/s limit, seeded with the same objects so the plan has nothing to do) and the
timing of whole ``boldrules`` processes: wall time, and peak RSS (GNU time's ``%M``: the
largest single process of the run, worker processes included). The floor of
a paced plan is its calls ÷ 10 per second; its calls come from the sandboxes' own counts.

``python -m bench.end_to_end --sizes 1000,10000 --shops 8 --shop-size 500`` prints one JSON
document; bench/README.md quotes its figures. It measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import reconciler
from bench import cases, data, run
from bench.server import BENCH_TOKEN, SHOP, Control, ServerProcess
from reconciler import export

TOKEN_ENV = "BOLDRULES_BENCH_TOKEN"


def write_project(root: Path, size: int, urls: Sequence[str]) -> None:
    """Manifests for the bench shop of ``size`` rulesets, and one target per served sandbox."""
    pricing = root / "pricing"
    pricing.mkdir(parents=True)
    documents = export.documents(data.base_shop(size).resources(), split=False)
    for name, document in documents.items():
        (pricing / name).write_text(export.dump(document), encoding="utf-8")
    targets = "\n".join(
        f"  shop{i}: {{api_url: '{url}', shop_identifier: {SHOP}, token_env: {TOKEN_ENV}, "
        "rate: 10, burst: 10}"
        for i, url in enumerate(urls)
    )
    (root / "boldrules.yaml").write_text(
        "manifests: [pricing/]\n"
        "default_target: shop0\n"
        "safety: {max_deletes: 100000, max_delete_percent: 100, max_update_percent: 100}\n"
        "ownership: {discount_code_prefixes: [BENCH]}\n"
        f"targets:\n{targets}\n",
        encoding="utf-8",
    )


#: GNU time, a small process between this one and the command: a child forked straight from
#: this process would report at least this process's size as its peak (Linux keeps the highest
#: RSS across the fork and the exec), and the benchmark holds whole shops in memory.
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def timed(argv: Sequence[str], *, cwd: Path) -> dict[str, Any]:
    """Run one ``boldrules`` process; its wall time and peak RSS (its largest process, worker
    processes included, as GNU time reports it; None without GNU time)."""
    environment = {**os.environ, TOKEN_ENV: BENCH_TOKEN}
    command = [sys.executable, "-m", "reconciler", *argv]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        if GNU_TIME:
            command = [GNU_TIME, "-f", "%M", "-o", report.name, *command]
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wall = time.perf_counter() - started
        # with --detailed-exitcode, 2 would mean the shop was not "nothing to do"
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"boldrules {' '.join(argv)} exited {done.returncode}:\n{stderr}")
        kilobytes = report.read().strip().splitlines()[-1:] if GNU_TIME else []
    peak = round(int(kilobytes[0]) / 1024, 1) if kilobytes and kilobytes[0].isdigit() else None
    return {"wall_s": round(wall, 3), "peak_rss_mb": peak}


def median_of(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The median-wall sample of repeats, with the spread."""
    walls = [s["wall_s"] for s in samples]
    middle = sorted(samples, key=lambda s: s["wall_s"])[len(samples) // 2]
    return {**middle, "repeats": len(samples), "spread_s": round(max(walls) - min(walls), 3)}


def served(stack: ExitStack, count: int, dump: bytes) -> list[tuple[str, Control]]:
    """``count`` Bold-like sandboxes, each its own shop holding ``dump``."""
    out = []
    for _ in range(count):
        server = stack.enter_context(ServerProcess())
        control = stack.enter_context(Control(server.url))
        control.load(dump)
        cases.SETTINGS["bold"].apply_to(control)
        control.reset(data=False, stats=True, faults=False)
        out.append((server.url, control))
    return out


def fresh(shops: Sequence[tuple[str, Control]]) -> None:
    """Every sandbox's counts and rate windows emptied (its objects kept)."""
    for _, control in shops:
        control.reset(data=False, stats=True, faults=False)


def calls(controls: Sequence[Control]) -> int:
    """Requests the sandboxes answered since their last reset (the floor's numerator)."""
    total = 0
    for control in controls:
        total += int(control.stats()["total"])
    return total


def one_shop(size: int, repeats: int) -> dict[str, Any]:
    """``boldrules plan`` of a ``size``-ruleset project against one Bold-like shop."""
    dump = run.seed_dump(size)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-e2e-") as folder:
        root = Path(folder)
        shops = served(stack, 1, dump)
        write_project(root, size, [url for url, _ in shops])
        samples = []
        for _ in range(repeats):
            fresh(shops)
            sample = timed(["plan", "--target", "shop0", "--detailed-exitcode"], cwd=root)
            sample["calls"] = calls([shops[0][1]])
            samples.append(sample)
        result = median_of(samples)
    floor = result["calls"] / cases.BOLD_RATE
    result.update(case="plan, nothing to do", rulesets=size, floor_s=round(floor, 2))
    result["ratio_to_floor"] = round(result["wall_s"] / floor, 2) if floor else None
    return result


def many_shops(shops: int, size: int, repeats: int, jobs: int | None) -> dict[str, Any]:
    """``plan --target shop0`` beside ``plan --all-targets`` over ``shops`` Bold-like shops."""
    dump = run.seed_dump(size)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-e2e-") as folder:
        root = Path(folder)
        servers = served(stack, shops, dump)
        write_project(root, size, [url for url, _ in servers])
        extra = ["--jobs", str(jobs)] if jobs else []
        single, every = [], []
        for _ in range(repeats):
            # Each run starts with the sandboxes' rate windows empty, as a run a minute after
            # the last would: the calls of the run just before would otherwise draw 429s.
            fresh(servers)
            single.append(timed(["plan", "--target", "shop0", "--detailed-exitcode"], cwd=root))
            fresh(servers)
            every.append(timed(["plan", "--all-targets", "--detailed-exitcode", *extra], cwd=root))
        one, all_ = median_of(single), median_of(every)
    return {
        "case": f"plan --all-targets, {shops} shops x {size} rulesets, each 10/s",
        "one_shop_wall_s": one["wall_s"],
        "all_targets_wall_s": all_["wall_s"],
        "ratio": round(all_["wall_s"] / one["wall_s"], 2),
        "one_shop_peak_rss_mb": one["peak_rss_mb"],
        "all_targets_peak_rss_mb": all_["peak_rss_mb"],
        "repeats": repeats,
        "spread_s": [one["spread_s"], all_["spread_s"]],
        "jobs": jobs or os.cpu_count(),
    }


def compiled() -> None:
    """reconciler's bytecode written, as ``pip install`` writes it for an installed boldrules.

    A checkout run in place (an editable install) compiles every module it imports at each
    start when no bytecode is there yet, and never writes it under ``PYTHONDONTWRITEBYTECODE``
    (set on some machines): each timed process would pay a compilation no user's does (0.3 s
    of a plan's start on the 2-core machine)."""
    package = Path(reconciler.__file__).parent
    compileall.compile_dir(package, quiet=1)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the cases, print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.end_to_end", description=__doc__)
    parser.add_argument("--sizes", default="1000", help="comma list of ruleset counts")
    parser.add_argument("--shops", type=int, default=8, help="shops for --all-targets (0: skip)")
    parser.add_argument("--shop-size", type=int, default=500, help="rulesets in each shop")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for --all-targets")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    compiled()
    results: list[dict[str, Any]] = []
    for size in [int(s) for s in options.sizes.split(",") if s]:
        results.append(one_shop(size, options.repeats))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if options.shops:
        results.append(many_shops(options.shops, options.shop_size, options.repeats, options.jobs))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    document = {"machine": run.machine(), "median_of": options.repeats, "results": results}
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
