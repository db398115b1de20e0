"""Pricing lint: what validate cannot see, the rules that do not do what their author thinks in
Bold's engine (docs/lint.md lists every check, with an example).

``run`` reads the declared objects (``Subject``: data as written, with where each field is) into
the price evaluator's inputs, runs each family of checks and applies the project's ``lint:``
settings::

    found = lint.run([lint.Subject.of(d) for d in loaded.objects], project.lint, now=at)

Families, one module each: ``refusals`` (rules the engine refuses or drops), ``competition``
(priority shadowing, never-wins, overlaps, by index, never pairwise), ``checkout`` (cart-only
conditions, checkout-only actions, charm prices), ``hygiene`` (expired windows, unmatchable order
conditions, empty selections). ``findings`` holds the catalogue of ids and the settings;
``sarif`` writes SARIF 2.1.0. Facts about the engine are the evaluator's (``reconciler.pricing``),
never restated here. No I/O; lint imports nothing above ``model``, ``sources`` and ``pricing``.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.lint import sarif
from reconciler.lint.findings import (
    CHECKS,
    SEVERITIES,
    Check,
    Finding,
    Ignore,
    Settings,
    counts,
    report,
    settle,
    summary,
)

if TYPE_CHECKING:
    from reconciler.lint.subjects import Subject

__all__ = [
    "CHECKS",
    "SEVERITIES",
    "Check",
    "Finding",
    "Ignore",
    "Settings",
    "Subject",
    "counts",
    "report",
    "run",
    "sarif",
    "summary",
]


if not TYPE_CHECKING:  # for mypy, ``Subject`` is the import above, and no other name is here

    def __getattr__(name: str) -> Any:
        """``Subject``, imported when first used: the catalogue and the settings (``findings``)
        are all the project file and a plan with nothing to review need, and the subjects and
        the checks import the price evaluator."""
        if name == "Subject":
            from reconciler.lint.subjects import Subject

            return Subject
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run(subjects: Iterable[Subject], settings: Settings, *, now: dt.datetime) -> list[Finding]:
    """Every finding about ``subjects`` at the instant ``now``, after ``settings``, sorted.

    The cyclic garbage collector is paused meanwhile (the findings' sorting too): lint builds
    tens of thousands of small objects (and no cycles) beside the manifests' large graph, which
    every collection would walk again (half of lint's time on a 10,000-ruleset project).
    """
    from reconciler.lint import checkout, competition, hygiene, refusals
    from reconciler.lint.subjects import shop

    paused = gc.isenabled()
    gc.disable()
    try:
        seen = shop(subjects, now)
        families = (refusals, competition, checkout, hygiene)
        found = [finding for family in families for finding in family.check(seen)]
        # Sorting builds a key tuple per finding: 10,000 of them would start collections too.
        return settle(found, settings)
    finally:
        if paused:
            gc.enable()
