"""Apply over a real socket against a flaky sandbox: converges, never duplicates, resumes."""

from __future__ import annotations

import io
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler import apply, client, clientsettings, config, errors, model, pipeline, plan
from reconciler.sandbox import Sandbox

from ..conftest import APP_TOKEN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.socket


def connect(url: str) -> client.BoldClient:
    """A client that retries quickly: the test checks behaviour, not Bold's timings."""
    return client.BoldClient(
        clientsettings.ClientSettings(
            base_url=url,
            rate=2000.0,
            burst=100,
            concurrency=4,
            timeout=5.0,
            max_attempts=12,
            max_retry_seconds=30.0,
            backoff_base=0.01,
            backoff_cap=0.05,
        ),
        token=APP_TOKEN,
    )


def desired_from(*examples: str) -> tuple[list[model.Resource], config.Project]:
    resources: list[model.Resource] = []
    project: config.Project | None = None
    for name in examples:
        project = config.load_project(EXAMPLES / name)
        resources += pipeline.desired(project, project.target(None))
    assert project is not None
    return resources, project


def make_plan(
    bold: client.BoldClient, desired: list[model.Resource], project: config.Project
) -> plan.Plan:
    return pipeline.plan_shop(bold, project, project.target(None), pipeline.Declared(desired))


def every_ruleset(sandbox: Sandbox) -> list[tuple[Any, ...]]:
    """(app, external_id) of every ruleset in the shop, whoever owns it."""
    return [(r["app"], r["ruleset"]["external_id"]) for r in sandbox.dump()["rulesets"]]


def test_flaky_server_converges_with_nothing_duplicated(served: tuple[Sandbox, str]) -> None:
    sandbox, url = served
    desired, project = desired_from("b2b-tiers", "quickstart")
    sandbox.set_faults(
        p500=0.07,
        p502=0.06,
        p503=0.07,
        burst429=0.03,
        burst429_length=3,
        drop_after_commit=0.08,
        seed=1234,
    )
    with connect(url) as bold:
        first = make_plan(bold, desired, project)
        report = apply.execute(bold, first.changes)
        assert report.failed == 0 and report.skipped == 0
        assert bold.stats.retries > 0  # the faults really happened
    sandbox.set_faults(p500=0, p502=0, p503=0, burst429=0, drop_after_commit=0)
    with connect(url) as bold:
        assert make_plan(bold, desired, project).empty
        codes = [d["code"] for d in bold.list_discount_codes()]
        conditions = [(c["name"], c["value"]) for c in bold.list_order_conditions()]
        rulesets = [r["external_id"] for r in bold.list_rulesets()]
    assert len(codes) == len(set(codes)) == 2
    assert len(conditions) == len(set(conditions)) == 2
    assert len(rulesets) == len(set(rulesets)) == 63
    everything = every_ruleset(sandbox)  # our 63 and the codes' own 2, all apps included
    assert len(everything) == len(set(everything)) == 65


def test_a_dropped_create_is_read_back_not_repeated(served: tuple[Sandbox, str]) -> None:
    sandbox, url = served
    desired, project = desired_from("quickstart")
    codes_only = [r for r in desired if r.key.kind is model.Kind.DISCOUNT_CODE]
    sandbox.set_faults(drop_after_commit=1.0)
    with connect(url) as bold:
        apply.execute(bold, make_plan(bold, codes_only, project).changes)
        posts = {k: v for k, v in bold.stats.calls.items() if k[0] == "POST"}
    assert posts == {("POST", "create_discount_codes"): 1}  # sent once; the read-back found both
    sandbox.set_faults(drop_after_commit=0)
    with connect(url) as bold:
        assert sorted(d["code"] for d in bold.list_discount_codes()) == [
            "SPRING15",
            "SPRING15-NEWSLETTER",
        ]
        assert make_plan(bold, codes_only, project).empty


class StopAfter(io.StringIO):
    """A progress stream that asks the run to stop once it has shown ``lines`` outcomes, as a
    user pressing Ctrl-C after reading them would: after a count of outcomes, never a delay."""

    def __init__(self, lines: int, stop: threading.Event) -> None:
        super().__init__()
        self.lines = lines
        self.stop = stop

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.getvalue().count("\n") >= self.lines:
            self.stop.set()
        return written


def test_a_run_stopped_halfway_resumes_and_converges(served: tuple[Sandbox, str]) -> None:
    _, url = served
    desired, project = desired_from("b2b-tiers")
    stop = threading.Event()
    with connect(url) as bold:
        changes = make_plan(bold, desired, project).changes
        shown = StopAfter(10, stop)
        with pytest.raises(errors.ApplyFailed) as caught:
            apply.execute(
                bold, changes, progress=apply.Progress(stream=shown, ledger=None), stop=stop
            )
        report = caught.value.report
        # The ten shown, and at most the calls already in flight then; nothing started after.
        assert 10 <= report.done <= 10 + bold.concurrency
        assert report.done < len(changes)
        assert report.done + report.not_attempted == len(changes)
        # Run again: only what is left is planned, and it converges.
        rest = make_plan(bold, desired, project)
        assert Counter(c.action for c in rest.changes) == Counter(
            {"create": len(changes) - report.done}
        )
        apply.execute(bold, rest.changes)
        assert make_plan(bold, desired, project).empty
