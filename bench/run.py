"""A benchmark run: seed shops, prepare the sandbox for each job, run jobs, repeat, aggregate.

Owns the order of a run (for each setting, each size, each job), the seeding of the base shop
(applied once per size to an in-process sandbox with our own apply, then dumped and loaded into
the served sandbox through its control endpoint: seconds, not 10,000 paced calls), the repeat
policy (jobs three times, the median kept and the half-range reported as noise; paced jobs over
``LONG_JOB_S`` and unpaced ones over ``LONG_UNPACED_JOB_S`` once), the merging of same-day runs
and the machine description. Jobs run in ``bench.worker`` subprocesses so each one's peak
memory is its own; the served sandbox runs in ``bench.server``'s process. It must not format
tables (``bench.report``) or decide what a case measures (``bench.cases``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cases, data
from bench.server import BENCH_APP, BENCH_TOKEN, SHOP, Control, ServerProcess
from reconciler import apply, client, clientsettings, plan, state, transport

#: A paced job that took longer than this is not repeated: pacing, not noise, sets its time.
LONG_JOB_S = 15.0
#: Unpaced jobs measure our CPU, where noise matters, so they repeat up to this long.
LONG_UNPACED_JOB_S = 60.0
#: The checkout holding ``bench``: subprocesses start there so ``-m bench.…`` resolves.
REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (100, 1_000)

Runner = Callable[[str, int, str, str], list[dict[str, Any]]]


def seed_dump(size: int) -> bytes:
    """The base shop of ``size`` rulesets as a sandbox dump, made by applying it in process."""
    from reconciler.sandbox import Sandbox

    sandbox = Sandbox(shop_identifier=SHOP)
    sandbox.add_token(BENCH_TOKEN, app=BENCH_APP)
    target, project = cases.bench_project()
    settings = clientsettings.ClientSettings(
        base_url=transport.IN_PROCESS_URL,
        shop_identifier=SHOP,
        rate=1_000_000.0,
        burst=1_000_000,
        concurrency=1,
    )
    bold = client.BoldClient(
        settings, token=BENCH_TOKEN, transport=transport.InProcessTransport(sandbox.wsgi_app)
    )
    with bold:
        live = state.fetch_live(bold)
        the_plan = plan.plan_changes(
            data.base_shop(size).resources(), live, target=target, project=project
        )
        apply.execute(bold, the_plan.changes)
    dump = sandbox.dump()
    sandbox.close()
    return json.dumps(dump, separators=(",", ":")).encode("utf-8")


def in_subprocess(job: str, size: int, setting: str, url: str) -> list[dict[str, Any]]:
    """Run a job in a fresh ``python -m bench.worker``."""
    request = json.dumps({"job": job, "size": size, "setting": setting, "url": url})
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker"],
        input=request,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark job {job} (size {size}, {setting}) failed:\n{done.stderr}")
    rows: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def prepare(control: Control, job: str, size: int, dumps: dict[int, bytes]) -> None:
    """Put the shop a job starts from into the sandbox."""
    if cases.STARTS_FROM[job] == "empty":
        control.reset(data=True, stats=True, faults=False)
        return
    if size not in dumps:
        dumps[size] = seed_dump(size)
    control.load(dumps[size])
    control.reset(data=False, stats=True, faults=False)


def aggregate(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Repeats of one row → the median-wall sample, with the spread as noise."""
    ordered = sorted(samples, key=lambda s: float(s["wall_s"]))
    chosen = dict(ordered[len(ordered) // 2])
    walls = [float(s["wall_s"]) for s in samples]
    cpus = [float(s["cpu_s"]) for s in samples]
    chosen["repeats"] = len(samples)
    chosen["wall_samples_s"] = [round(w, 4) for w in walls]
    chosen["wall_noise_s"] = round((max(walls) - min(walls)) / 2, 4) if len(walls) > 1 else None
    chosen["cpu_noise_s"] = round((max(cpus) - min(cpus)) / 2, 4) if len(cpus) > 1 else None
    chosen["wall_median_s"] = round(statistics.median(walls), 4)
    for key in ("cpu_after_fetch_s", "fetch_cpu_s"):
        spans = [s[key] for s in samples if s.get(key) is not None]
        if len(spans) > 1:
            chosen[key.removesuffix("_s") + "_noise_s"] = round((max(spans) - min(spans)) / 2, 4)
    return chosen


def run_setting(
    url: str,
    setting: str,
    sizes: Iterable[int],
    *,
    dumps: dict[int, bytes],
    repeats: int = 3,
    runner: Runner = in_subprocess,
    say: Callable[[str], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Every job at every size under one setting; the aggregated rows."""
    rows: list[dict[str, Any]] = []
    with Control(url) as control:
        for size in sizes:
            for job in cases.JOBS:
                samples: dict[str, list[dict[str, Any]]] = {}
                for attempt in range(max(1, repeats)):
                    prepare(control, job, size, dumps)
                    started = time.perf_counter()
                    for row in runner(job, size, setting, url):
                        samples.setdefault(row["case"], []).append(row)
                    took = time.perf_counter() - started
                    say(f"  {setting:8} {size:>6} {job:14} run {attempt + 1}: {took:6.1f} s")
                    paced = cases.SETTINGS[setting].server_rate is not None
                    if took > (LONG_JOB_S if paced else LONG_UNPACED_JOB_S):
                        break
                rows += [aggregate(group) for group in samples.values()]
    return rows


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def merge(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """Two runs of one setting on one date → one document; the later run's rows win.

    So ``--quick`` followed by ``--sizes 10000`` leaves one file holding all three sizes.
    """
    if earlier.get("format") != later.get("format"):
        return later
    fresh = {(row["case"], row["size"]) for row in later["rows"]}
    kept = [row for row in earlier["rows"] if (row["case"], row["size"]) not in fresh]
    runs = earlier.get("runs") or [_run_entry(earlier)]
    return {
        **later,
        "duration_s": round(float(earlier["duration_s"]) + float(later["duration_s"]), 1),
        "quick": bool(earlier.get("quick")) and bool(later.get("quick")),
        "sizes": sorted({*earlier["sizes"], *later["sizes"]}),
        "runs": [*runs, _run_entry(later)],
        "rows": sorted(kept + later["rows"], key=lambda row: row["size"]),
    }


def _run_entry(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("started_at", "sizes", "quick", "duration_s")}


def run(
    *,
    sizes: Sequence[int],
    settings: Sequence[str],
    out: Path,
    quick: bool,
    repeats: int = 3,
    say: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """A whole benchmark run: one results file per setting, written to ``out``."""
    unknown = [s for s in settings if s not in cases.SETTINGS]
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}; known: {', '.join(cases.SETTINGS)}")
    out.mkdir(parents=True, exist_ok=True)
    dumps: dict[int, bytes] = {}
    written: list[Path] = []
    started = datetime.now(UTC)
    with ServerProcess() as server:
        say(f"sandbox served at {server.url} (pid {server.pid})")
        for name in settings:
            began = time.perf_counter()
            rows = run_setting(server.url, name, sizes, dumps=dumps, repeats=repeats, say=say)
            document = {
                "format": 1,
                "date": started.date().isoformat(),
                "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "duration_s": round(time.perf_counter() - began, 1),
                "quick": quick,
                "sizes": list(sizes),
                "setting": cases.SETTINGS[name].as_json(),
                "machine": machine(),
                "shop": {
                    "rules_per_ruleset": data.RULES_PER_RULESET,
                    "order_conditions": data.CONDITION_GROUPS * data.CONDITIONS_PER_GROUP,
                    "order_condition_groups": data.CONDITION_GROUPS,
                    "discount_codes": data.CODE_CONFIGS * data.CODES_PER_CONFIG,
                },
                "rows": rows,
            }
            path = out / f"{document['date']}-{name}.json"
            if path.exists():
                document = merge(json.loads(path.read_text(encoding="utf-8")), document)
            path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
            written.append(path)
            say(f"wrote {path}")
    return written
