"""Every target of a project planned at once (``--all-targets``), in worker processes.

An agency's project has tens to hundreds of targets, each its own shop with its own token and its
own rate limit, so shops are independent work. ``plan_targets`` plans them so:

* the manifests are loaded once per distinct set of target ``vars`` (and the sample carts once),
  in the calling process, before any API call: an invalid manifest fails its targets up front,
  and the loading's CPU is never paid once per shop;
* the shops are planned in worker processes, forked from this one once the manifests are
  loaded (each starts in milliseconds; no GIL is shared between them). Where forking is not
  safe (another thread runs here) they come from a fork server that imported boldrules once,
  started while the manifests load, and are spawned where the platform has neither. A worker
  plans from its chunk of work alone (pickled to it). At most ``jobs`` processes, each
  planning its share of the shops on threads, since a shop's plan is mostly waiting for its own
  rate limit. A shop that fails (a bad token, an unreachable API, a bug) fails alone: its outcome
  is the error, the other shops' plans are unaffected, and a worker process that dies outright
  fails only the shops it held;
* memory stays bounded: at most ``SHOPS_PER_PROCESS`` shops are in flight in each process, and
  the number of processes is capped so that the shops in flight fit in half the memory the
  machine has available (``memory_cap``).

Only the outcome of each shop crosses back to the caller (a ``Plan``, or an ``errors.ShopFailed``
carrying a worker's error as its message and exit code), in the project's target order. Each
shop is planned by ``steps.plan_target``, as one target alone is. Nothing here prints.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import carts, config, errors, plan, redact
from reconciler.pipeline.steps import Declared, When, collector_paused, declare, plan_target
from reconciler.targets import Target

if TYPE_CHECKING:
    # Worker processes are for --all-targets only: one target's plan never imports them.
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor

#: Shops one worker process plans at once, on threads (each waits on its own rate limit).
SHOPS_PER_PROCESS = 8

#: What one shop in flight is assumed to hold in memory: a base for the client, the sandbox or
#: the HTTP pool, plus this much per declared object (its live copy, its diff, its plan line).
#: Measured: a 10,000-ruleset plan peaks at about 270 MB whole, manifests included.
SHOP_BASE_BYTES = 40 * 1024 * 1024
OBJECT_BYTES = 24 * 1024


@dataclass(frozen=True)
class Planned:
    """One shop's outcome as it comes back from a worker."""

    target: str
    #: A worker's failure comes back as ``errors.ShopFailed``; a manifest load's is the error.
    outcome: plan.Plan | errors.BoldrulesError
    #: 429s the client absorbed while reading the shop (held and retried, never an error).
    rate_limited: int = 0


@dataclass(frozen=True)
class _Chunk:
    """The shops one worker process plans, with what they need (pickled once per process)."""

    directory: Path
    targets: tuple[str, ...]
    #: What the manifests declare (objects and lint's findings) by ``vars`` group.
    declared: Mapping[str, Declared]
    when: When
    group_of: Mapping[str, str]
    samples: carts.Carts
    filters: plan.Filters
    threads: int
    log_level: int
    formatter: logging.Formatter | None


def vars_group(target: Target) -> str:
    """The key under which targets with the same ``vars`` share one manifest load."""
    return json.dumps(target.vars, sort_keys=True, default=str)


def memory_cap(objects: int, *, available: int | None = None) -> int:
    """How many worker processes fit: each holds up to ``SHOPS_PER_PROCESS`` shops in flight,
    and all of them together stay within half the memory now available."""
    if available is None:
        available = _available_memory()
    per_process = SHOPS_PER_PROCESS * (SHOP_BASE_BYTES + objects * OBJECT_BYTES)
    return max(1, (available // 2) // per_process)


def _available_memory() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not every platform says: assume 4 GiB
        return 4 * 1024**3


def default_jobs() -> int:
    """``--jobs`` when not given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def plan_targets(
    project: config.Project,
    filters: plan.Filters,
    *,
    jobs: int,
    log_level: int = logging.WARNING,
    formatter: logging.Formatter | None = None,
    when: When | None = None,
) -> list[Planned]:
    """Plan every target of the project: one outcome each, in target order; never raises for a
    shop's failure (each failure is that shop's outcome)."""
    with collector_paused():
        # Paused in this process while the manifests load, and in the workers forked from it:
        # they start paused, and their first allocations no longer walk the heap they inherit
        # (0.12 s a worker).
        return _plan_targets(project, filters, jobs, log_level, formatter, when)


def _plan_targets(
    project: config.Project,
    filters: plan.Filters,
    jobs: int,
    log_level: int,
    formatter: logging.Formatter | None,
    when: When | None,
) -> list[Planned]:
    names = sorted(project.targets)
    wanted = max(1, min(jobs, len(names)))
    # Forked once the manifests are loaded, the workers start in milliseconds. Where forking is
    # not safe (another thread is running) or not offered, a fork server starts meanwhile.
    early = None if _can_fork() else _early_pool(wanted)
    try:
        outcomes: dict[str, Planned] = {}
        samples = carts.load_carts(project)
        when = when or When()
        loads: dict[str, Declared | errors.BoldrulesError] = {}
        group_of: dict[str, str] = {}
        for name in names:
            target = project.targets[name]
            group = group_of[name] = vars_group(target)
            if group not in loads:
                try:
                    found = declare(project, target, at=when.at)
                    loads[group] = Declared(tuple(found.objects), found.findings)
                except errors.BoldrulesError as exc:  # an invalid manifest fails its group alone
                    loads[group] = exc
            loaded = loads[group]
            if isinstance(loaded, errors.BoldrulesError):
                outcomes[name] = Planned(name, loaded)
        ready = [n for n in names if n not in outcomes]
        ready_declared = {g: d for g, d in loads.items() if isinstance(d, Declared)}
        largest = max((len(d.objects) for d in ready_declared.values()), default=0)
        processes = max(1, min(wanted, len(ready), memory_cap(largest)))
        chunks = [ready[i::processes] for i in range(processes)]
        work = [
            _Chunk(
                directory=project.root,
                targets=tuple(chunk),
                declared={group_of[n]: ready_declared[group_of[n]] for n in chunk},
                when=when,
                group_of={n: group_of[n] for n in chunk},
                samples=samples,
                filters=filters,
                threads=min(len(chunk), SHOPS_PER_PROCESS),
                log_level=log_level,
                formatter=formatter,
            )
            for chunk in chunks
            if chunk
        ]
        if work:
            if early is None:
                early = _Pool(processes, _fork_context() if _can_fork() else _server_context())
            for planned in _run(early.pool, work):
                outcomes[planned.target] = planned
    finally:
        if early is not None:
            early.close()
    return [outcomes[name] for name in names]


class _Pool:
    """Worker processes; ``warm`` starts them from another thread (the first start of a fork
    server waits for it to import boldrules) while this one goes on."""

    def __init__(self, workers: int, context: multiprocessing.context.BaseContext) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self._warming: list[Future[None]] = []
        self._starter: threading.Thread | None = None

    def warm(self, workers: int) -> None:
        def start() -> None:
            self._warming.extend(self.pool.submit(_warm) for _ in range(workers))

        self._starter = threading.Thread(target=start, name="start-workers", daemon=True)
        self._starter.start()

    def close(self) -> None:
        if self._starter is not None:
            self._starter.join()
        for future in self._warming:
            future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _early_pool(workers: int) -> _Pool:
    early = _Pool(workers, _server_context())
    early.warm(workers)
    return early


def _can_fork() -> bool:
    """Whether worker processes may be forked from this one: the platform forks, and no other
    thread runs (a fork copies locks another thread may hold, never that thread)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _fork_context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    # What this process buffered would be written again by each child as it exits.
    sys.stdout.flush()
    sys.stderr.flush()
    return multiprocessing.get_context("fork")


def _server_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server that imported boldrules once (each then starts in
    milliseconds, not the ~0.6 s of importing boldrules again); spawned where there is none."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return context


def _warm() -> None:
    """Nothing: submitted first so that the worker processes start before they are needed."""


def _run(pool: ProcessPoolExecutor, work: Sequence[_Chunk]) -> list[Planned]:
    """Each chunk in a worker process; a process that dies fails only the shops it held."""
    from concurrent.futures.process import BrokenProcessPool

    found: list[Planned] = []
    futures = [(chunk, pool.submit(_plan_chunk, chunk)) for chunk in work]
    for chunk, future in futures:
        try:
            found += future.result()
        except BrokenProcessPool:
            failure = errors.ShopFailed(
                "the worker process planning it stopped before it finished (killed, or out of "
                "memory?); run `boldrules plan --target NAME` for this shop alone",
                exit_code=1,
            )
            found += [Planned(name, failure) for name in chunk.targets]
    return found


def _plan_chunk(chunk: _Chunk) -> list[Planned]:
    """In a worker process: plan the chunk's shops, ``chunk.threads`` at a time."""
    _configure_logging(chunk.log_level, chunk.formatter)
    _NameTarget.only = chunk.targets[0] if len(chunk.targets) == 1 else None
    project = config.load_project(chunk.directory)

    def one(name: str) -> Planned:
        _planning.target = name
        try:
            target = project.target(name)
            result, absorbed = plan_target(
                project,
                target,
                chunk.declared[chunk.group_of[name]],
                filters=chunk.filters,
                samples=chunk.samples,
                when=chunk.when,
            )
            return Planned(name, result, absorbed)
        except errors.BoldrulesError as exc:
            return Planned(name, errors.ShopFailed.of(exc))
        except Exception as exc:  # a bug planning one shop must not cost the others theirs
            return Planned(name, _internal(exc, chunk.log_level))

    with ThreadPoolExecutor(max_workers=max(1, chunk.threads)) as pool:
        return list(pool.map(one, chunk.targets))


def _internal(exc: Exception, log_level: int) -> errors.ShopFailed:
    detail = redact.printable(errors.cut(redact.scrub(str(exc)), 200))
    text = (
        f"internal error ({type(exc).__name__}: {detail}). This is a bug in boldrules: please "
        "report it with the command you ran (add -vv to see the traceback)."
    )
    if log_level <= logging.DEBUG:
        text += "\n" + redact.printable(traceback.format_exc().rstrip(), lines=True)
    return errors.ShopFailed(text, exit_code=1)


#: The target a worker thread is planning, named in its log lines.
_planning = threading.local()


class _NameTarget(logging.Filter):
    """``target shop-ca: <message>``: several shops log into one stderr at once."""

    #: The one target of this worker process, if it plans only one.
    only: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        # Threads a shop's read starts (its listings) do not inherit the name; a process that
        # plans one shop alone names it in all of them.
        name = getattr(_planning, "target", None) or _NameTarget.only
        if name is not None and not getattr(record, "boldrules_target", None):
            record.msg = f"target {name}: {record.getMessage()}"
            record.args = None
            record.boldrules_target = name
        return True


def _configure_logging(level: int, formatter: logging.Formatter | None) -> None:
    """The worker logs as the command does (a spawned process starts with no handlers)."""
    logging.basicConfig(level=level, format="%(message)s")
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(_NameTarget())
        if formatter is not None:
            handler.setFormatter(formatter)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
