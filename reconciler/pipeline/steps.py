"""One target's plan, step by step: manifests → desired objects → live state → a Plan.

Each step is usable alone (tests and benchmarks call them one at a time); ``plan_shop`` runs
them on an open client and ``plan_target`` on the target's own. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from reconciler import (
    carts,
    client,
    config,
    connect,
    instants,
    lint,
    manifest,
    model,
    plan,
    preview,
    schedule,
    state,
)
from reconciler.targets import Target


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


def findings(
    project: config.Project, loaded: manifest.Manifests, at: dt.datetime | None
) -> list[lint.Finding]:
    """Lint's findings about the declared objects, judged at ``at`` (default now)."""
    now = at or instants.now()
    return lint.run([lint.Subject.of(d) for d in loaded.objects], project.lint, now=now)


def declare(project: config.Project, target: Target, *, at: dt.datetime | None = None) -> Declared:
    """The target's manifests, rendered with its ``vars``, as the objects a plan compares, and
    lint's findings about them at ``at``."""
    loaded = manifest.load_manifests(project, target)
    return Declared(_objects(loaded), findings(project, loaded, at))


def desired(project: config.Project, target: Target) -> list[model.Resource]:
    """The target's manifests, rendered with its ``vars``, as the objects a plan compares."""
    return _objects(manifest.load_manifests(project, target))


def _objects(loaded: manifest.Manifests) -> list[model.Resource]:
    return [state.resource(d.key, d.data, d.origin) for d in loaded.objects]


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
    live = read_shop(bold, project, declared.objects, filters=filters)
    result = compare(project, target, declared, live, filters=filters, when=when)
    if samples is not None and samples.carts:
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

    ``declared`` may be a callable: it is called once, before the shop is read, so that a bad
    manifest fails before any API call. (Loading while the first pages arrive is the scale
    work's to add here; callers need not change.)"""
    wanted = declared() if callable(declared) else declared
    with (
        open_client(project, target) as bold,
        watch(bold) if watch is not None else contextlib.nullcontext(),
    ):
        result = plan_shop(
            bold, project, target, wanted, filters=filters, samples=samples, when=when
        )
        return result, bold.stats.rate_limited
