"""One target's plan, step by step: manifests → desired objects → live state → a Plan.

Each step is usable alone (tests and benchmarks call them one at a time); ``plan_shop`` runs
them on an open client and ``plan_target`` on the target's own. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, overload

from reconciler import (
    atomic,
    carts,
    client,
    config,
    connect,
    errors,
    instants,
    lifetime,
    lint,
    model,
    pagination,
    plan,
    schedule,
    state,
)
from reconciler.targets import Target

if TYPE_CHECKING:
    # Imported where manifests load: for a target over the network, on this thread while the
    # shop's first listings are already being read.
    from reconciler import manifest


@dataclass(frozen=True)
class When:
    """``--at`` and ``--horizon``: the instant a plan is judged at and how far it looks."""

    at: dt.datetime | None = None
    horizon: dt.timedelta = schedule.DEFAULT_HORIZON


@dataclass(frozen=True)
class Declared:
    """What a target's manifests declare: the objects a plan compares, and lint's findings."""

    objects: Sequence[model.Resource]
    findings: Sequence[lint.Finding] = ()


#: A target's declared objects, or what loads them when called (see ``plan_target``).
Source = Declared | Callable[[], Declared]


class Findings(Sequence[lint.Finding]):
    """Lint's findings, found the first time they are read.

    A plan reads them only when it creates or updates something (``plan.lint_review``): a
    plan with nothing to do pays nothing for lint, neither its CPU nor the positions of the
    fields it points at. What ``find`` holds (the loaded manifests) is let go once it ran.
    """

    def __init__(self, find: Callable[[], Sequence[lint.Finding]]) -> None:
        self._find: Callable[[], Sequence[lint.Finding]] | None = find
        self._found: tuple[lint.Finding, ...] | None = None
        self._lock = threading.Lock()  # shops planned on threads may share one

    def _all(self) -> tuple[lint.Finding, ...]:
        with self._lock:
            if self._found is None:
                assert self._find is not None
                self._found = tuple(self._find())
                self._find = None
            return self._found

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> lint.Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[lint.Finding]: ...
    def __getitem__(self, index: int | slice) -> lint.Finding | Sequence[lint.Finding]:
        return self._all()[index]

    def __iter__(self) -> Iterator[lint.Finding]:
        return iter(self._all())

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        # Crossing to a worker process (``plan --all-targets``): still unfound, they are found
        # there, and only if a shop's plan shows them; the worker's read cache makes the load
        # that takes cheap.
        with self._lock:
            if self._found is None and self._find is not None:
                return (Findings, (self._find,))
        return (tuple, (self._all(),))


def findings(
    project: config.Project, loaded: manifest.Manifests, at: dt.datetime | None
) -> list[lint.Finding]:
    """Lint's findings about the declared objects, judged at ``at`` (default now)."""
    now = at or instants.now()
    return lint.run([lint.Subject.of(d) for d in loaded.objects], project.lint, now=now)


def declare(
    project: config.Project,
    target: Target,
    *,
    at: dt.datetime | None = None,
) -> Declared:
    """The target's manifests, rendered with its ``vars``, as the objects a plan compares, and
    lint's findings about them at ``at`` (default now).

    The findings are found when first read (``Findings``), from the manifests loaded again (the
    read cache makes that cheap), so that a plan holds only its objects while it reads the shop,
    not the manifests' data as well (about 100 MB at 10,000 rulesets), and a plan with nothing
    to do, in this process or a worker's, never lints."""
    from reconciler import manifest

    loaded = manifest.load_manifests(project, target)
    now = at or instants.now()
    objects = _objects(loaded, consume=True)
    del loaded
    return Declared(objects, Findings(functools.partial(_relint, project, target, now, objects)))


def _relint(
    project: config.Project,
    target: Target,
    now: dt.datetime,
    objects: Sequence[model.Resource],
) -> list[lint.Finding]:
    """Lint's findings, the manifests loaded again; they must still declare ``objects``."""
    from reconciler import manifest

    loaded = manifest.load_manifests(project, target)
    again = _objects(loaded)
    if len(again) != len(objects) or any(
        a.key != b.key or a.body != b.body for a, b in zip(again, objects, strict=True)
    ):
        raise errors.ManifestsMoved()
    return findings(project, loaded, now)


def desired(project: config.Project, target: Target) -> list[model.Resource]:
    """The target's manifests, rendered with its ``vars``, as the objects a plan compares."""
    from reconciler import manifest

    return _objects(manifest.load_manifests(project, target))


def _objects(loaded: manifest.Manifests, *, consume: bool = False) -> list[model.Resource]:
    """The declared objects, each with its exact form (``Resource.settled``): found here, as the
    shop's pages are awaited, the comparison after the last page is a lookup.

    ``consume``: each object's manifest data is emptied once its Resource is made (``loaded``
    is of no use afterwards), so the data and the objects are not both held whole: a plan's
    peak memory, when this load overlaps the shop's pages (a first read, whose cache a child
    has just filled), was 30-40 MB higher for it at 10,000 rulesets."""
    made = []
    for declared in loaded.objects:
        made.append(state.resource(declared.key, declared.data, declared.origin).settled())
        if consume and isinstance(declared.data, dict):
            declared.data.clear()
    return made


def open_client(project: config.Project, target: Target) -> client.BoldClient:
    """The target's client, with the project's route overrides: every command's way in."""
    return connect.connect(target, routes=project.routes)


def read_shop(
    bold: client.BoldClient,
    project: config.Project,
    desired: Sequence[model.Resource] | None,
    *,
    filters: plan.Filters | None = None,
) -> state.LiveState:
    """The shop's live state; the creates and deletes a plan of ``desired`` would make are
    confirmed by targeted reads (none with ``desired=None``: the shop as it is, nothing planned)."""
    if desired is None:
        return state.fetch_live(bold)
    return state.fetch_live(
        bold,
        decisive=lambda seen: plan.decisive_keys(desired, seen, project=project, filters=filters),
    )


def compare(
    project: config.Project,
    target: Target,
    declared: Declared,
    live: state.LiveState,
    *,
    filters: plan.Filters | None = None,
    when: When | None = None,
    now: dt.datetime | None = None,
) -> plan.Plan:
    """Desired against live → a Plan, judged at ``when.at`` (default ``now``, default the
    current second)."""
    when = when or When()
    return plan.plan_changes(
        declared.objects,
        live,
        target=target,
        project=project,
        filters=filters,
        now=now or instants.now().replace(microsecond=0),
        at=when.at,
        findings=declared.findings,
        horizon=when.horizon,
    )


def plan_shop(
    bold: client.BoldClient,
    project: config.Project,
    target: Target,
    declared: Declared,
    *,
    filters: plan.Filters | None = None,
    samples: carts.Carts | None = None,
    when: When | None = None,
) -> plan.Plan:
    """Declared objects and the shop's live state → a Plan, on an open client; with sample
    carts, its price preview (one more read: every app's rulesets; none without carts); and the
    rulesets it would create that another app already holds (read only when that is likely)."""
    plans = _Plans(functools.partial(compare, project, target, filters=filters, when=when))
    live = state.fetch_live(bold, decisive=lambda seen: plans.decisive(declared, seen))
    return _finish(bold, project, target, declared, live, filters, samples, when, plans)


class _Plans:
    """The plan of each live state a read is confirmed against, the last one kept.

    A read confirms what a plan would create or delete (``state.fetch_live``'s ``decisive``);
    the plan itself names those keys, with the project's whole ownership (records, adoptions),
    and once the read holds together the plan of its last live state is the plan: it is made
    once, not once for the keys and again after the read (0.1-0.15 s at 10,000 rulesets).
    """

    def __init__(self, make: Callable[[Declared, state.LiveState], plan.Plan]) -> None:
        self._make = make
        self._last: tuple[state.LiveState, plan.Plan] | None = None

    def decisive(self, declared: Declared, seen: state.LiveState) -> set[model.Key]:
        made = self._make(declared, seen)
        self._last = (seen, made)
        return {c.key for c in made.changes if isinstance(c, model.Create | model.Delete)}

    def of(self, live: state.LiveState) -> plan.Plan | None:
        """The plan made of ``live`` itself, if one was."""
        return self._last[1] if self._last is not None and self._last[0] is live else None


def _finish(
    bold: client.BoldClient,
    project: config.Project,
    target: Target,
    declared: Declared,
    live: state.LiveState,
    filters: plan.Filters | None,
    samples: carts.Carts | None,
    when: When | None,
    plans: _Plans | None = None,
) -> plan.Plan:
    """``plan_shop`` once the shop is read."""
    made = plans.of(live) if plans is not None else None
    result = made or compare(project, target, declared, live, filters=filters, when=when)
    if samples is not None and samples.carts:
        from reconciler import preview  # the price evaluator: only for sample carts

        # Carts without an ``at`` are priced at the plan's instant (``--at``, else now).
        found = preview.preview(
            samples,
            live,
            result.changes,
            bold.list_rulesets_all_apps(),
            safety=project.safety,
            now=result.instant,
        )
        result = plan.with_preview(result, found)
    return plan.with_other_apps(result, declared.objects, find=bold.rulesets_of_other_apps)


def plan_target(
    project: config.Project,
    target: Target,
    declared: Source,
    *,
    filters: plan.Filters | None = None,
    samples: carts.Carts | None = None,
    when: When | None = None,
    watch: Callable[[client.BoldClient], AbstractContextManager[object]] | None = None,
) -> tuple[plan.Plan, int]:
    """One target's whole plan on its own client, and the 429s the client absorbed;
    ``watch(client)`` is entered while the shop is read (the command's live progress).

    ``declared`` may be a callable that loads the manifests: for a target over the network it
    is called while the shop's listings are read on another thread (``read_while_loading``),
    so the load costs no time beside the rate limit's floor. Only reads go out before the
    manifests are valid; if they are not, the reads stop and the load's error is raised, as if
    nothing had been read (an embedded ``sandbox:`` target loads first: nothing to wait for)."""
    with collector_paused():
        if callable(declared) and target.sandbox is not None:
            # The embedded sandbox answers in this process: no network wait to hide the load
            # behind, and invalid manifests then open no shop at all.
            declared = declared()
        if callable(declared):
            declared = _after(_warming(project, target), declared)
        try:
            bold = open_client(project, target)
        except errors.BoldrulesError:
            if callable(declared):
                declared()  # invalid manifests are reported first, as when they loaded first
            raise
        plans = _Plans(functools.partial(compare, project, target, filters=filters, when=when))
        bold.expected_pages = _remembered_pages(project, target)
        with bold:
            if callable(declared):
                wanted, reading = read_while_loading(
                    bold, project, declared, filters=filters, judge=plans.decisive
                )
            else:
                known = wanted = declared
                reading = functools.partial(
                    state.fetch_live, bold, decisive=lambda seen: plans.decisive(known, seen)
                )
            # Entered once the manifests are valid: nothing of the reads shows before.
            with watch(bold) if watch is not None else contextlib.nullcontext():
                live = reading()
                result = _finish(bold, project, target, wanted, live, filters, samples, when, plans)
            _remember_pages(project, target, bold.pages_read)
            lifetime.keep(live, wanted)  # freed with the process, not before the plan shows
            return result, bold.stats.rate_limited


def _warming(project: config.Project, target: Target) -> Callable[[], None]:
    """A process of its own that reads and checks the target's manifests into the read cache
    while this one starts reading the shop; what waits for it to end.

    Read for the first time (a fresh checkout in CI), 10,000 rulesets cost 5 s of CPU: on a
    thread beside the shop's reads they shared the interpreter with them, and every call left
    late (a 10,000-ruleset plan 2.9 s slower than with the cache warm). In a process of its own
    the reading runs on another core; this process then loads the manifests from the cache
    (a quarter of the CPU). The child says nothing and its outcome is not used: the load that
    follows here reads every file again and reports what is wrong, exactly as without it. A
    new interpreter rather than a fork: it holds none of this one's memory (a forked child
    peaked 70 MB higher). Started only for manifests large enough to be worth it (``WARM_BYTES``)
    and when the cache can keep what the child reads.
    """
    from reconciler import cache, manifest
    from reconciler.manifest import reading

    if reading.read_cache(project.root) is None or not cache.usable():
        return lambda: None
    size = 0
    for path in manifest.manifest_paths(project, []):
        with contextlib.suppress(OSError):
            size += path.stat().st_size
    if size < WARM_BYTES:
        return lambda: None
    child = subprocess.Popen(
        [sys.executable, "-c", _WARM, str(project.root), target.name],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ended() -> None:
        try:
            child.wait()
        except BaseException:
            child.kill()  # interrupted: the child's reading is of no use
            child.wait()
            raise

    return ended


#: Manifests smaller than this are read here at once: a child's start (0.2 s) would not pay.
WARM_BYTES = 1 << 20

#: What the reading child runs: the target's manifests into the read cache, nothing printed.
_WARM = (
    "import sys; from pathlib import Path; from reconciler import config, manifest; "
    "project = config.load_project(Path(sys.argv[1])); "
    "manifest.warm_cache(project, project.target(sys.argv[2]))"
)


#: How many pages each of a target's lists had when last read: ``{target: {route: pages}}``.
PAGES_FILE = Path(".boldrules") / "pages.json"


def _remembered_pages(project: config.Project, target: Target) -> dict[str, int]:
    """The pages each list of ``target`` had when last read; nothing when unknown or unreadable.

    Only a hint (``pagination.read`` asks for a few pages ahead with the first): a wrong one
    costs at most a few calls, and a file a pull request committed can do no more."""
    try:
        known = json.loads((project.root / PAGES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = known.get(target.name) if isinstance(known, dict) else None
    if not isinstance(found, dict):
        return {}
    return {
        str(route): pages
        for route, pages in found.items()
        if type(pages) is int and 1 <= pages <= pagination.MAX_PAGES
    }


def _remember_pages(project: config.Project, target: Target, pages: Mapping[str, int]) -> None:
    """Keep ``pages`` for ``target``'s next plan; a folder it may not write keeps nothing."""
    if not pages or pages == _remembered_pages(project, target):
        return
    path = project.root / PAGES_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    known[target.name] = dict(sorted(pages.items()))
    with contextlib.suppress(OSError):
        atomic.write_text(
            path, json.dumps(known, indent=1, sort_keys=True) + "\n", make_folders=True
        )


def _after(first: Callable[[], None], then: Callable[[], Declared]) -> Callable[[], Declared]:
    def both() -> Declared:
        first()
        return then()

    return both


#: Plans being built now (``collector_paused``), whether the collector runs again after the
#: last, and the lock that guards both.
_building = 0
_resume = False
_building_lock = threading.Lock()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while plans are built (several threads may build
    one each: it resumes when the last ends).

    Loading, reading and comparing a large shop make millions of small objects, and no cycles
    worth collecting (plain dicts, lists and strings), beside the manifests' graph, which every
    collection walked again: measured on a 10,000-ruleset plan, the collector took a quarter of
    its CPU (17.7 s against 12.5 s with it paused); ``gc.freeze`` after loading saved a fifth of
    that. What cycles the run leaves (an exception's frames) are collected once it resumes.

    Before it resumes, everything made meanwhile is moved to the oldest generation
    (``gc.freeze`` then ``gc.unfreeze``, a splice of two lists): left in the youngest, the
    first allocation after ``gc.enable`` walked all of it, 0.2 s at 10,000 rulesets, just as
    the plan was about to be printed. Cycles among those objects are still found, by the next
    full collection.
    """
    global _building, _resume
    with _building_lock:
        if _building == 0:
            _resume = gc.isenabled()
            gc.disable()
        _building += 1
    try:
        yield
    finally:
        with _building_lock:
            _building -= 1
            if _building == 0 and _resume:
                gc.freeze()
                gc.unfreeze()
                gc.enable()


class _LoadFailed(Exception):
    """What the reading thread sees when the manifests loaded beside it were invalid."""


def read_while_loading(
    bold: client.BoldClient,
    project: config.Project,
    load: Callable[[], Declared],
    *,
    filters: plan.Filters | None = None,
    judge: Callable[[Declared, state.LiveState], set[model.Key]] | None = None,
) -> tuple[Declared, Callable[[], state.LiveState]]:
    """``load()`` on this thread while the shop's listings are read on another; the loaded
    objects, and what waits for the shop's live state.

    The reads are lists and their targeted confirmations (``read_shop``): no write goes out
    before the manifests are valid. The confirmations wait for the loaded objects (they are
    what a plan of them would create or delete). If ``load()`` raises (invalid manifests, an
    interrupt), the client is halted, so calls not yet sent never are, the reading thread is
    waited for, its outcome dropped, and ``load()``'s exception raised: the command fails as it
    did when the manifests loaded before any call. ``judge(declared, seen)`` names the keys to
    confirm (default ``plan.decisive_keys``; ``plan_target`` passes its plan's creates and
    deletes).
    """
    loaded: Future[Declared] = Future()

    def decisive(seen: state.LiveState) -> set[model.Key]:
        wanted = loaded.result()  # raises _LoadFailed when the load failed
        if judge is not None:
            return judge(wanted, seen)
        return plan.decisive_keys(wanted.objects, seen, project=project, filters=filters)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read")
    reading = pool.submit(state.fetch_live, bold, decisive=decisive)
    pool.shutdown(wait=False)
    try:
        wanted = load()
    except BaseException:
        loaded.set_exception(_LoadFailed())
        bold.halt()
        wait([reading])
        raise
    loaded.set_result(wanted)

    def live() -> state.LiveState:
        try:
            return reading.result()
        except BaseException:
            bold.halt()  # interrupted while waiting: no more calls
            raise

    return wanted, live
