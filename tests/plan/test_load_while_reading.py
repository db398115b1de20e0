"""``plan`` loads the manifests while the shop's listings are read (issue 16, item 2).

Against a served sandbox that records every request: invalid manifests stop the reads and fail
exactly as they did when the manifests loaded before any call, with no write ever sent; valid
ones give a plan identical, byte for byte, to the plan of manifests loaded first. The reads are
made to have begun before the load ends by a load that waits for the sandbox's first read (a
barrier, no timing). Beside the overlap, what a plan no longer pays for: lint when nothing is
created or updated (and manifests saved meanwhile are not linted as the plan's), the garbage
collector while it is built, and the raw JSON of the listings.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import os
import pickle
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler import (
    cli,
    client,
    config,
    errors,
    instants,
    kinds,
    lint,
    model,
    pipeline,
    plan,
    planformat,
    state,
)
from reconciler.clientsettings import ClientSettings
from reconciler.sandbox import Sandbox, serve
from reconciler.sandbox.app import StartResponse
from reconciler.targets import Target

from ..conftest import APP_TOKEN
from . import test_torn_reads as torn

pytestmark = pytest.mark.socket

#: Declared rulesets (test_torn_reads' project): three pages of the listing, so the plan's
#: creates and deletes are confirmed by targeted reads.
COUNT = torn.COUNT
AT = "2026-06-01T00:00:00Z"


class RecordingSandbox(Sandbox):
    """A sandbox that records every API request (method and path) and signals the first read."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str]] = []
        self.read = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if not path.startswith("/__sandbox__"):
            with self._lock:
                self.requests.append((environ["REQUEST_METHOD"], path))
            if environ["REQUEST_METHOD"] == "GET":
                self.read.set()
        return super().__call__(environ, start_response)

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(method, path) for method, path in self.requests if method != "GET"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RecordingSandbox, Path]]:
    """The torn-reads project (rs-1 … rs-250 at -10%) against a shop where rs-5 is at -20%,
    rs-7 is missing and rs-999 is extra: a plan of one update, one create and one delete."""
    sandbox = RecordingSandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    torn.seed(sandbox)
    deeper = torn.ruleset("rs-5")
    deeper["rules"][0]["actions"][0]["value"] = -20
    with torn.admin(sandbox) as api:
        assert api.delete(f"{torn.P}/rulesets/external/rs-7").status_code == 204
        for name, body in (("rs-5", deeper), ("rs-999", torn.ruleset("rs-999"))):
            answer = api.put(f"{torn.P}/rulesets/external/{name}", json={"ruleset": body})
            assert answer.status_code in (200, 201), answer.text
    sandbox.requests.clear()
    sandbox.read.clear()
    with serve(sandbox, port=0) as server:
        target = (
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n    concurrency: 2\n"
        )
        yield sandbox, torn.write_project(tmp_path / "shop", target=target)
    sandbox.close()


#: A loaded project and its target, as ``pipeline`` takes them.
Planned = tuple[config.Project, Target]


@pytest.fixture
def project(served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch) -> Planned:
    """The served project loaded, its token in the environment."""
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    loaded = config.load_project(served[1])
    return loaded, loaded.target(None)


def declared_and_live(project: Planned) -> tuple[pipeline.Declared, state.LiveState]:
    """The manifests loaded first, then the shop read: what a plan compares."""
    loaded, target = project
    declared = pipeline.declare(loaded, target)
    with pipeline.open_client(loaded, target) as bold:
        return declared, pipeline.read_shop(bold, loaded, declared.objects)


def break_manifests(root: Path) -> None:
    (root / "pricing" / "broken.yaml").write_text(
        "rulesets:\n  - external_id: rs-1\n    product_selection: {type: PRODUCTS_ALL}\n"
        "    rules: []\n  - external_id: x\n"
    )


def loaded_once_reading(sandbox: RecordingSandbox, project: Planned) -> pipeline.Declared:
    """``declare``, once the sandbox has served a read: the reads began before the load ended."""
    assert sandbox.read.wait(timeout=30), "the shop was never read"
    return pipeline.declare(*project)


def test_invalid_manifests_stop_the_reads_and_make_no_write(
    served: tuple[RecordingSandbox, Path], project: Planned
) -> None:
    sandbox, root = served
    break_manifests(root)
    with pytest.raises(errors.ManifestInvalid) as alone:
        pipeline.declare(*project)
    load = functools.partial(loaded_once_reading, sandbox, project)
    with pytest.raises(errors.ManifestInvalid) as overlapped:
        pipeline.plan_target(*project, load)
    assert str(overlapped.value) == str(alone.value)
    assert overlapped.value.problems == alone.value.problems
    assert sandbox.requests, "no read began"
    assert sandbox.writes() == []
    # The shop is as it was: rs-7 still absent, rs-999 still there.
    assert {entry["ruleset"]["external_id"] for entry in sandbox.dump()["rulesets"]} == {
        *(f"rs-{n}" for n in range(1, COUNT + 1) if n != 7),
        "rs-999",
    }


def test_plan_with_invalid_manifests_fails_as_before_any_call(
    served: tuple[RecordingSandbox, Path],
) -> None:
    sandbox, root = served
    break_manifests(root)
    result = torn.boldrules(root, "plan")
    # The same run with no way to reach the shop at all (its token unset): the manifests fail
    # first there too, so this is the output of a plan that made no call.
    env = {"BOLDRULES_TEST_TOKEN": "", "NO_COLOR": "1", "HOME": os.environ["HOME"]}
    no_call = CliRunner().invoke(cli.main, ["-C", str(root), "plan"], env=env)
    assert result.exit_code == no_call.exit_code == 3
    assert result.stdout == no_call.stdout == ""
    assert result.stderr == no_call.stderr
    assert result.stderr.splitlines()[0].startswith("pricing/broken.yaml:5:5: ")
    assert sandbox.writes() == []


def test_the_overlapped_plan_is_the_plan_of_manifests_loaded_first(
    served: tuple[RecordingSandbox, Path], project: Planned
) -> None:
    sandbox = served[0]
    when = pipeline.When(instants.parse(AT))
    first, _ = pipeline.plan_target(*project, pipeline.declare(*project), when=when)
    sandbox.read.clear()
    load = functools.partial(loaded_once_reading, sandbox, project)
    overlapped, _ = pipeline.plan_target(*project, load, when=when)
    assert sandbox.writes() == []
    assert [str(c.key) for c in first.changes] == ["ruleset:rs-5", "ruleset:rs-7", "ruleset:rs-999"]
    # Made a second apart at most: the stamp of when is all that may differ.
    same_second = dataclasses.replace(overlapped, created_at=first.created_at)
    for output in ("text", "markdown", "json"):
        assert planformat.render(same_second, output) == planformat.render(first, output)
    assert same_second.checksum == first.checksum


def test_a_halted_client_sends_nothing(
    served: tuple[RecordingSandbox, Path], project: Planned
) -> None:
    sandbox = served[0]
    settings = ClientSettings.from_target(project[1])
    with client.BoldClient(settings, token=APP_TOKEN) as bold:
        assert len(bold.list_rulesets()) == COUNT
        before = len(sandbox.requests)
        bold.halt()
        with pytest.raises(Exception) as caught:
            bold.list_rulesets()
        assert not isinstance(caught.value, errors.BoldrulesError)
    assert len(sandbox.requests) == before


def test_lint_runs_only_for_a_plan_that_creates_or_updates(project: Planned) -> None:
    declared, live = declared_and_live(project)
    runs: list[int] = []

    def find() -> list[lint.Finding]:
        runs.append(1)
        return list(declared.findings)

    unchanged = [r for r in declared.objects if r.key.ident[0] not in {"rs-5", "rs-7"}]
    nothing = pipeline.Declared(unchanged, pipeline.steps.Findings(find))
    only = plan.Filters(only=tuple(f"ruleset:{r.key.ident[0]}" for r in unchanged))
    quiet = pipeline.compare(*project, nothing, live, filters=only)
    assert quiet.changes == () and quiet.findings == ()
    assert runs == []
    changing = pipeline.Declared(declared.objects, pipeline.steps.Findings(find))
    busy = pipeline.compare(*project, changing, live)
    assert runs == [1]
    assert busy.findings == pipeline.compare(*project, declared, live).findings


def test_large_manifests_read_for_the_first_time_are_read_by_a_child_process(
    served: tuple[RecordingSandbox, Path], project: Planned, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first read of large manifests runs in a process of its own (another core), into the
    # read cache; the plan then loads them from the cache, and is the plan it always was.
    cache = served[1] / ".boldrules" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    expected, _ = pipeline.plan_target(*project, pipeline.declare(*project))
    shutil.rmtree(cache, ignore_errors=True)
    monkeypatch.setattr(pipeline.steps, "WARM_BYTES", 0)  # these manifests count as large
    ended = pipeline.steps._warming(*project)
    ended()
    assert sorted(cache.iterdir()), "the child wrote nothing to the read cache"
    made, _ = pipeline.plan_target(*project, functools.partial(pipeline.declare, *project))
    assert planformat.render(made, "text") == planformat.render(expected, "text")


def test_a_child_reading_invalid_manifests_changes_nothing(
    served: tuple[RecordingSandbox, Path], project: Planned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.steps, "WARM_BYTES", 0)
    break_manifests(served[1])
    with pytest.raises(errors.ManifestInvalid) as caught:
        pipeline.plan_target(*project, functools.partial(pipeline.declare, *project))
    assert caught.value.problems
    assert not any(method != "GET" for method, _ in served[0].requests)


def test_a_plan_remembers_how_many_pages_each_list_had(
    served: tuple[RecordingSandbox, Path], project: Planned
) -> None:
    # The next plan asks for those pages with the first (pagination.read; what a wrong count
    # costs is tested there); the plan is the same whatever the file says, and a count a pull
    # request wrote is checked, then replaced by what the read found.
    memory = served[1] / ".boldrules" / "pages.json"

    def planned() -> str:
        made, _ = pipeline.plan_target(*project, pipeline.declare(*project))
        return planformat.render(made, "text")

    first = planned()
    remembered = json.loads(memory.read_text())["shop"]
    assert remembered == {
        "list_discount_codes": 1,
        "list_order_conditions": 1,
        "list_rulesets": 3,
    }
    for text in (
        None,
        '{"shop": {"list_rulesets": 999999, "list_order_conditions": "x"}}',
        '{"shop": {"list_rulesets": 9}}',
        "not json",
    ):
        if text is not None:
            memory.write_text(text)
        assert planned() == first
        assert json.loads(memory.read_text())["shop"] == remembered


def test_findings_cross_to_a_worker_process_unfound(project: Planned) -> None:
    # ``plan --all-targets`` sends the declared objects to its worker processes: the findings
    # go unfound, are found there only if read, and are the same as found here.
    declared = pipeline.declare(*project)
    sent = pickle.loads(pickle.dumps(declared.findings))
    assert isinstance(sent, pipeline.steps.Findings)
    assert sent._found is None
    assert list(sent) == list(declared.findings)
    assert type(pickle.loads(pickle.dumps(sent))) is tuple  # once found, what crosses is them


def test_the_collector_runs_again_after_a_plan_even_a_failed_one(
    served: tuple[RecordingSandbox, Path], project: Planned
) -> None:
    load = functools.partial(pipeline.declare, *project)
    assert gc.isenabled()
    pipeline.plan_target(*project, load)
    assert gc.isenabled()
    break_manifests(served[1])
    with pytest.raises(errors.ManifestInvalid):
        pipeline.plan_target(*project, load)
    assert gc.isenabled()


def test_the_collector_resumes_with_nothing_young_to_walk(project: Planned) -> None:
    # Everything a plan made while the collector was paused is handed to the oldest generation
    # when it resumes; left young, the first allocation after it would walk all of it (0.2 s
    # at 10,000 rulesets, just before the plan is printed).
    load = functools.partial(pipeline.declare, *project)
    made, _ = pipeline.plan_target(*project, load)
    assert gc.isenabled()
    young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
    assert young < 1_000, young
    assert made.changes  # kept alive to here: the plan's objects are old now


def test_manifests_saved_while_planning_are_not_linted_as_the_plan(
    served: tuple[RecordingSandbox, Path], project: Planned
) -> None:
    declared, live = declared_and_live(project)
    # Saved between the load and the plan's lint: the findings would be another project's.
    manifest = served[1] / "pricing" / "rulesets.yaml"
    manifest.write_text(manifest.read_text().replace("value: -10}", "value: -15}", 1))
    with pytest.raises(errors.ManifestsMoved) as caught:
        pipeline.compare(*project, declared, live)
    assert caught.value.exit_code == 1
    assert str(caught.value) == (
        "the manifests changed while the plan was being made (they were read again for lint); "
        "run the command again once they are saved"
    )


def test_a_listing_keeps_its_objects_normalised_not_their_raw_json(project: Planned) -> None:
    with pipeline.open_client(*project) as bold:
        listing = state._read(kinds.by_name[model.Kind.RULESET], bold)
        raw = {r["external_id"]: r for r in bold.list_rulesets()}
    assert listing.pages == 3 and len(listing.items) == COUNT
    for item in listing.items:
        assert isinstance(item, kinds.base.Normalised)
        assert set(item) <= {"id", "created_at", "updated_at", "external_id"}
        again = state.ruleset_resource(raw[item["external_id"]])
        made = item.resource
        assert (made.key, made.body, made.handles) == (again.key, again.body, again.handles)


@pytest.mark.parametrize(
    "example", sorted(p.name for p in (Path(__file__).parents[2] / "examples").iterdir())
)
def test_the_declared_objects_do_not_depend_on_the_data_they_were_made_of(example: str) -> None:
    # ``declare`` empties each object's manifest data once its Resource is made (a plan's peak
    # memory): the Resources must share nothing with it that the emptying could change.
    root = Path(__file__).parents[2] / "examples" / example
    if not (root / "boldrules.yaml").exists():
        pytest.skip("not a project")
    loaded = config.load_project(root)
    for name in sorted(loaded.targets):
        target = loaded.target(name)
        kept = pipeline.desired(loaded, target)
        made = pipeline.declare(loaded, target).objects
        assert [(r.key, r.body, dict(r.handles), r.origin) for r in made] == [
            (r.key, r.body, dict(r.handles), r.origin) for r in kept
        ]
