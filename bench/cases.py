"""The measured cases: what one benchmark job does against a prepared sandbox, and its figures.

Owns the two sandbox settings (Bold-like and unpaced), the five cases of issue 8 (a plan with
nothing to do, a plan with 1% changed, the apply of that 1%, the apply of a whole new shop, and
the baseline script on the same 1%), and how each is measured: wall time (``perf_counter``),
our CPU time (``process_time``, every thread of this process; the sandbox runs in another
process), peak memory (``ru_maxrss`` of this process, which ``bench.worker`` makes fresh for
every job), calls by kind, 429s and retries (the client's own counts, checked against the
sandbox's), the floor (calls ÷ 10 per second) and our ratio to it. After an apply, the shop is
planned again with pacing off to prove it converged (not part of any figure).

It drives the library directly (``pipeline.read_shop``, ``pipeline.compare``,
``apply.execute``), never the CLI, so it measures our code rather than click. It must not
prepare the sandbox's data (``bench.run`` does, before the job starts) nor write results.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import baseline, data
from bench.server import BENCH_TOKEN, SHOP, Control
from reconciler import apply, calllog, client, clientsettings, config, pipeline, plan
from reconciler.pipeline.steps import collector_paused
from reconciler.targets import Target

#: Bold's documented limit, the physical limit of this job (issue 8).
BOLD_RATE = 10.0


@dataclass(frozen=True)
class Setting:
    """How the served sandbox behaves, and how our client and the baseline pace themselves."""

    name: str
    description: str
    server_rate: float | None
    """Sandbox rate limit per token per second (None: off)."""
    latency_ms: float
    """Least added latency per API call."""
    jitter_ms: float
    """Uniform extra latency on top, so the mean is ``latency_ms + jitter_ms / 2``."""
    client_rate: float
    client_burst: int
    baseline_rate: float | None
    """Calls a second the baseline script allows itself (None: as fast as it can)."""

    def apply_to(self, control: Control) -> None:
        """Put the sandbox into this setting (seeded jitter, so runs repeat)."""
        control.set_rate(self.server_rate, burst=10)
        control.set_faults(latency_ms=self.latency_ms, jitter_ms=self.jitter_ms, seed=8)

    def as_json(self) -> dict[str, Any]:
        """The setting as JSON, for the results file."""
        return {
            "name": self.name,
            "description": self.description,
            "server_rate_per_s": self.server_rate,
            "latency_ms": f"{self.latency_ms + self.jitter_ms / 2:g} ± {self.jitter_ms / 2:g}",
            "client_rate_per_s": self.client_rate,
        }


SETTINGS: Mapping[str, Setting] = {
    # 50 ms ± 20 ms: 30 ms plus a uniform 0..40 ms.
    "bold": Setting(
        "bold",
        "Bold-like: 10 calls/s per token (burst 10), 50 ms ± 20 ms latency",
        server_rate=BOLD_RATE,
        latency_ms=30.0,
        jitter_ms=40.0,
        client_rate=BOLD_RATE,
        client_burst=10,
        baseline_rate=BOLD_RATE,
    ),
    "unpaced": Setting(
        "unpaced",
        "Unpaced: no rate limit, no added latency (exposes our own CPU cost)",
        server_rate=None,
        latency_ms=0.0,
        jitter_ms=0.0,
        client_rate=1_000_000.0,
        client_burst=1_000_000,
        baseline_rate=None,
    ),
}

#: Jobs, in the order a run performs them; each yields the rows named beside it.
JOBS: Mapping[str, tuple[str, ...]] = {
    "plan_noop": ("plan_noop",),
    "change_1pct": ("plan_1pct", "apply_1pct"),
    "apply_all_new": ("apply_all_new",),
    "baseline_1pct": ("baseline_1pct",),
}

#: What each job needs in the shop before it starts: the base shop, or nothing.
STARTS_FROM: Mapping[str, str] = {
    "plan_noop": "base",
    "change_1pct": "base",
    "apply_all_new": "empty",
    "baseline_1pct": "base",
}


@dataclass
class Row:
    """One measured operation: the figures one table row shows."""

    case: str
    size: int
    setting: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    """429s the caller saw."""
    server_429: int = 0
    """429s the sandbox sent (a check on the line above)."""
    retries: int = 0
    peak_rss_mb: float = 0.0
    fetch_wall_s: float | None = None
    fetch_cpu_s: float | None = None
    """Reading the shop alone: its pages fetched, parsed and normalised, the read's checks."""
    cpu_after_fetch_s: float | None = None
    """Diff and plan only, after the shop has been read."""
    changes: dict[str, int] = field(default_factory=dict)
    converged: bool | None = None
    """Planning again after the write found nothing to do."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def calls_total(self) -> int:
        """Logical calls made (retries not included)."""
        return sum(self.calls.values())

    @property
    def floor_s(self) -> float:
        """The least time these calls can take at Bold's 10 a second."""
        return self.calls_total / BOLD_RATE

    def as_json(self) -> dict[str, Any]:
        """The row as JSON; ``ratio`` is wall time over the floor."""
        return {
            "case": self.case,
            "size": self.size,
            "setting": self.setting,
            "wall_s": round(self.wall_s, 4),
            "floor_s": round(self.floor_s, 4),
            "ratio": round(self.wall_s / self.floor_s, 4) if self.floor_s else None,
            "cpu_s": round(self.cpu_s, 4),
            "fetch_wall_s": _round(self.fetch_wall_s),
            "fetch_cpu_s": _round(self.fetch_cpu_s),
            "cpu_after_fetch_s": _round(self.cpu_after_fetch_s),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "calls_total": self.calls_total,
            "calls": dict(sorted(self.calls.items())),
            "rate_limited": self.rate_limited,
            "server_429": self.server_429,
            "retries": self.retries,
            "changes": self.changes,
            "converged": self.converged,
            **self.extra,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class _Span:
    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def measured() -> Iterator[_Span]:
    """Wall and CPU seconds spent inside the block."""
    span = _Span()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield span
    finally:
        span.wall_s = time.perf_counter() - wall
        span.cpu_s = time.process_time() - cpu


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_project() -> tuple[Target, config.Project]:
    """A target and project for the benchmark shop, with safety limits out of the way."""
    target = Target(
        name="bench",
        sandbox=None,
        api_url="http://127.0.0.1",
        shop_identifier=SHOP,
        token_env="BOLDRULES_BENCH_TOKEN",
    )
    project = config.Project(
        root=Path("."),
        file=Path("boldrules.yaml"),
        manifests=(),
        default_target="bench",
        targets={"bench": target},
        safety=config.Safety(max_deletes=10**9, max_delete_percent=100, max_update_percent=100),
        ownership=config.Ownership(),
        routes={},
    )
    return target, project


def make_client(url: str, setting: Setting) -> client.BoldClient:
    """Our client as a target would build it (4 calls in flight), paced for ``setting``."""
    settings = clientsettings.ClientSettings(
        base_url=url,
        shop_identifier=SHOP,
        rate=setting.client_rate,
        burst=setting.client_burst,
        concurrency=4,
    )
    return client.BoldClient(settings, token=BENCH_TOKEN)


def _calls(stats: calllog.ClientStats | baseline.BaselineStats) -> dict[str, int]:
    """Calls by kind: ``"PUT upsert_ruleset"`` for ours, the baseline's own labels for it."""
    return {
        (" ".join(kind) if isinstance(kind, tuple) else kind): n for kind, n in stats.calls.items()
    }


def _server_429(control: Control) -> int:
    return int(control.stats().get("rate_limited", 0))


def _server_429_routes(control: Control) -> dict[str, int]:
    """Which calls the sandbox refused with 429, to say where pacing fell short."""
    by_route = control.stats().get("by_route", {})
    return {route: int(n["429"]) for route, n in sorted(by_route.items()) if "429" in n}


def _fresh_window(control: Control) -> None:
    # Forget the sandbox's counts and refill its buckets, so each measured phase starts as a
    # separate command run would: with an idle token.
    control.reset(data=False, stats=True, faults=False)


def plan_row(
    case: str, size: int, setting: Setting, url: str, control: Control, desired: data.Shop
) -> tuple[Row, plan.Plan]:
    """Fetch the live shop and plan ``desired`` against it: the ``plan`` command's work."""
    target, project = bench_project()
    _fresh_window(control)
    with make_client(url, setting) as bold:
        # Each declared object settled (its exact form found) as it is made, as the plan
        # command's load makes them (``pipeline.steps.declare``), while the pages arrive.
        declared = pipeline.Declared([r.settled() for r in desired.resources()])
        # As the plan command builds a plan: the cyclic garbage collector paused meanwhile
        # (``pipeline.steps.collector_paused``). Left running, it walked the declared shop's
        # graph again and again as the pages' objects were made: 1.3-1.6 s of a 10,000-ruleset
        # read's CPU that no user's plan spends.
        with collector_paused(), measured() as total:
            with measured() as fetch:
                # As the plan command does (pipeline.py): the plan's creates and deletes
                # confirmed by targeted reads when a list spans pages (docs/client.md).
                live = pipeline.read_shop(bold, project, declared.objects)
            with measured() as diffing:
                the_plan = pipeline.compare(project, target, declared, live)
        stats = bold.stats
    row = _row(case, size, setting, total, control, stats, the_plan.counts)
    row.fetch_wall_s = fetch.wall_s
    row.fetch_cpu_s = fetch.cpu_s
    row.cpu_after_fetch_s = diffing.cpu_s
    row.extra["plan_wall_after_fetch_s"] = round(diffing.wall_s, 4)
    row.extra["server_429_by_route"] = _server_429_routes(control)
    return row, the_plan


def _row(
    case: str,
    size: int,
    setting: Setting,
    span: _Span,
    control: Control,
    counts: calllog.ClientStats | baseline.BaselineStats,
    changes: dict[str, Any],
) -> Row:
    """The figures every case shares: time, calls, 429s and retries (ours or the baseline's)."""
    return Row(
        case,
        size,
        setting.name,
        wall_s=span.wall_s,
        cpu_s=span.cpu_s,
        calls=_calls(counts),
        rate_limited=counts.rate_limited,
        server_429=_server_429(control),
        retries=counts.retries,
        peak_rss_mb=peak_rss_mb(),
        changes=changes,
    )


def apply_row(
    case: str,
    size: int,
    setting: Setting,
    url: str,
    control: Control,
    the_plan: plan.Plan,
    desired: data.Shop,
) -> Row:
    """Run a plan's changes: the ``apply`` command's writes (the plan is already made)."""
    _fresh_window(control)
    with make_client(url, setting) as bold:
        with measured() as span:
            apply.execute(bold, the_plan.changes)
        stats = bold.stats
    row = _row(case, size, setting, span, control, stats, the_plan.counts)
    row.extra["server_429_by_route"] = _server_429_routes(control)
    remaining = replan(url, control, desired)
    row.converged = not remaining
    return row


def replan(url: str, control: Control, desired: data.Shop) -> dict[str, int]:
    """Plan ``desired`` again with pacing and latency off; the counts of what is left to do."""
    control.set_rate(None)
    control.set_faults()
    target, project = bench_project()
    with make_client(url, SETTINGS["unpaced"]) as bold:
        again = pipeline.plan_shop(bold, project, target, pipeline.Declared(desired.resources()))
    return {k: v for k, v in again.counts.items() if v}


def live_ruleset_ids(url: str) -> list[str]:
    """The external ids of our app's rulesets in the shop (read unpaced)."""
    with make_client(url, SETTINGS["unpaced"]) as bold:
        return [str(r["external_id"]) for r in bold.list_rulesets()]


def baseline_row(size: int, setting: Setting, url: str, control: Control) -> Row:
    """The baseline script on the 1% variant, and what it got wrong."""
    desired, changes = data.changed_shop(size)
    _fresh_window(control)
    with measured() as span:
        done = baseline.sync(url, BENCH_TOKEN, SHOP, desired.rulesets, rate=setting.baseline_rate)
    row = _row("baseline_1pct", size, setting, span, control, done, changes.as_json())
    control.set_rate(None)
    control.set_faults()
    missed = data.stale(live_ruleset_ids(url), desired)
    remaining = replan(url, control, desired)
    needed = len(changes.updated) + len(changes.created)
    row.converged = not remaining
    row.extra.update(
        {
            "deletions_missed": len(missed),
            "deletions_missed_ids": missed[:10],
            "needless_writes": done.created + done.replaced - needed,
            "failed": len(done.failed),
            "left_to_do_after": remaining,
        }
    )
    return row


def run_job(job: str, size: int, setting_name: str, url: str) -> list[dict[str, Any]]:
    """Run one job against a sandbox the caller has prepared (see ``STARTS_FROM``)."""
    setting = SETTINGS[setting_name]
    with Control(url) as control:
        setting.apply_to(control)
        if job == "plan_noop":
            row, _ = plan_row("plan_noop", size, setting, url, control, data.base_shop(size))
            return [row.as_json()]
        if job == "change_1pct":
            desired, changes = data.changed_shop(size)
            planned, the_plan = plan_row("plan_1pct", size, setting, url, control, desired)
            planned.extra["change_set"] = changes.as_json()
            applied = apply_row("apply_1pct", size, setting, url, control, the_plan, desired)
            # What the user pays for the whole command, to set against the baseline.
            applied.extra["calls_with_plan"] = planned.calls_total + applied.calls_total
            return [planned.as_json(), applied.as_json()]
        if job == "apply_all_new":
            desired = data.base_shop(size)
            planned, the_plan = plan_row("plan_all_new", size, setting, url, control, desired)
            applied = apply_row("apply_all_new", size, setting, url, control, the_plan, desired)
            applied.extra["calls_with_plan"] = planned.calls_total + applied.calls_total
            applied.extra["plan_wall_s"] = round(planned.wall_s, 4)
            return [applied.as_json()]
        if job == "baseline_1pct":
            return [baseline_row(size, setting, url, control).as_json()]
    raise ValueError(f"unknown job {job!r}; known: {', '.join(JOBS)}")
