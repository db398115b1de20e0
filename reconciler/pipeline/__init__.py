"""The pipeline: manifests → desired objects → the shop's live state → a Plan, in one place.

Every caller that plans goes through here: the ``plan``, ``apply`` and ``price`` commands, the
tests and the benchmarks. ``steps.py`` holds one target's steps, each usable alone:

* ``declare(project, target)``: the target's manifests, rendered with its ``vars``, as the
  objects a plan compares and lint's findings about them (a ``Declared``); ``desired()`` is
  the objects alone;
* ``read_shop(bold, project, desired)``: the shop's live state, the plan's decisive creates
  and deletes confirmed by targeted reads (state.py);
* ``compare(project, target, declared, live)``: desired against live → a ``Plan`` (plan.py),
  judged at ``When``;
* ``plan_shop(bold, project, target, declared)``: the three on an open client, with the price
  preview of the sample carts and the rulesets other apps already hold;
* ``plan_target(project, target, declared)``: one target's plan on its own client.
  ``declared`` may be a callable returning a ``Declared``: it is then called while the shop's
  listings are read (``read_while_loading``): only reads go out before the manifests are valid,
  and invalid ones stop the reads and fail as they would have before any call.

``parallel.py`` plans every target of a project at once in worker processes
(``plan_targets``, ``--all-targets``). Nothing in the pipeline prints: the ``cli`` package
renders what it returns.
"""

from reconciler.pipeline.parallel import (
    SHOPS_PER_PROCESS,
    Planned,
    default_jobs,
    memory_cap,
    plan_targets,
)
from reconciler.pipeline.steps import (
    Declared,
    Source,
    When,
    compare,
    declare,
    desired,
    findings,
    open_client,
    plan_shop,
    plan_target,
    read_shop,
)

__all__ = [
    "SHOPS_PER_PROCESS",
    "Declared",
    "Planned",
    "Source",
    "When",
    "compare",
    "declare",
    "default_jobs",
    "desired",
    "findings",
    "memory_cap",
    "open_client",
    "plan_shop",
    "plan_target",
    "plan_targets",
    "read_shop",
]
