"""``plan`` loads the manifests while the shop's listings are read (issue 16, item 2).

Against a served sandbox that records every request: invalid manifests stop the reads and fail
exactly as they did when the manifests loaded before any call, with no write ever sent; valid
ones give a plan identical, byte for byte, to the plan of manifests loaded first. The reads are
made to have begun before the load ends by a load that waits for the sandbox's first read (a
barrier, no timing).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

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
from reconciler.sandbox import Sandbox, serve
from reconciler.sandbox.app import StartResponse

from ..conftest import APP_TOKEN

pytestmark = pytest.mark.socket

P = "/price_rules/rules/v2/shops/sandbox-shop"
#: Declared rulesets: three pages of the listing, so the creates and deletes are confirmed.
COUNT = 230
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


def ruleset(n: int, *, value: int = -10) -> dict[str, Any]:
    return {
        "external_id": f"rs-{n}",
        "public_name": f"Sale rs-{n}",
        "product_selection": {"type": "PRODUCTS_ALL"},
        "rules": [
            {
                "external_id": "ten-off",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": value}],
            }
        ],
    }


def manifest_lines(n: int, *, value: int = -10) -> list[str]:
    return [
        f"  - external_id: rs-{n}",
        f"    public_name: Sale rs-{n}",
        "    product_selection: {type: PRODUCTS_ALL}",
        "    rules:",
        "      - external_id: ten-off",
        "        type: DISCOUNT",
        "        conditions: []",
        f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: {value}}}]",
    ]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RecordingSandbox, Path]]:
    """A shop holding rs-1 … rs-230 (rs-5 at -20%, rs-7 missing, rs-999 extra) and a project
    declaring rs-1 … rs-230 at -10%: a plan of one create, one update and one delete, read in
    three pages."""
    sandbox = RecordingSandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with httpx.Client(
        transport=httpx.WSGITransport(app=sandbox.wsgi_app),
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {APP_TOKEN}"},
    ) as api:
        for n in [*range(1, COUNT + 1), 999]:
            if n == 7:
                continue
            body = {"ruleset": ruleset(n, value=-20 if n == 5 else -10)}
            assert api.put(f"{P}/rulesets/external/rs-{n}", json=body).status_code == 201
    sandbox.requests.clear()
    sandbox.read.clear()
    root = tmp_path / "shop"
    (root / "pricing").mkdir(parents=True)
    lines = ["rulesets:"]
    for n in range(1, COUNT + 1):
        lines += manifest_lines(n)
    (root / "pricing" / "rulesets.yaml").write_text("\n".join(lines) + "\n")
    with serve(sandbox, port=0) as server:
        (root / "boldrules.yaml").write_text(
            "manifests: [pricing/]\ndefault_target: shop\ntargets:\n  shop:\n"
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n    concurrency: 2\n"
            "safety: {max_deletes: 5, max_delete_percent: 30, max_update_percent: 50}\n"
        )
        yield sandbox, root
    sandbox.close()


def break_manifests(root: Path) -> None:
    (root / "pricing" / "broken.yaml").write_text(
        "rulesets:\n  - external_id: rs-1\n    product_selection: {type: PRODUCTS_ALL}\n"
        "    rules: []\n  - external_id: x\n"
    )


def boldrules(root: Path, *args: str, token: str = APP_TOKEN) -> Result:
    env = {"BOLDRULES_TEST_TOKEN": token, "NO_COLOR": "1", "HOME": os.environ["HOME"]}
    return CliRunner().invoke(cli.main, ["-C", str(root), *args], env=env, catch_exceptions=False)


def test_invalid_manifests_stop_the_reads_and_make_no_write(
    served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, root = served
    break_manifests(root)
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    project = config.load_project(root)
    target = project.target(None)
    with pytest.raises(errors.ManifestInvalid) as alone:
        pipeline.declare(project, target)

    def load_once_reading() -> pipeline.Declared:
        assert sandbox.read.wait(timeout=30), "the shop was never read"
        return pipeline.declare(project, target)

    with pytest.raises(errors.ManifestInvalid) as overlapped:
        pipeline.plan_target(project, target, load_once_reading)
    assert str(overlapped.value) == str(alone.value)
    assert overlapped.value.problems == alone.value.problems
    assert sandbox.requests, "no read began"
    assert sandbox.writes() == []
    # The shop is as it was: rs-7 still absent, rs-999 still there, rs-5 still at -20%.
    assert {entry["ruleset"]["external_id"] for entry in sandbox.dump()["rulesets"]} == {
        *(f"rs-{n}" for n in range(1, COUNT + 1) if n != 7),
        "rs-999",
    }


def test_plan_with_invalid_manifests_fails_as_before_any_call(
    served: tuple[RecordingSandbox, Path],
) -> None:
    sandbox, root = served
    break_manifests(root)
    result = boldrules(root, "plan")
    # The same run with no way to reach the shop at all (its token unset): the manifests fail
    # first there too, so this is the output of a plan that made no call.
    no_call = boldrules(root, "plan", token="")
    assert result.exit_code == no_call.exit_code == 3
    assert result.stdout == no_call.stdout == ""
    assert result.stderr == no_call.stderr
    assert result.stderr.splitlines()[0].startswith("pricing/broken.yaml:5:5: ")
    assert sandbox.writes() == []


def test_the_overlapped_plan_is_the_plan_of_manifests_loaded_first(
    served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, root = served
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    project = config.load_project(root)
    target = project.target(None)
    when = pipeline.When(instants.parse(AT))
    first, _ = pipeline.plan_target(project, target, pipeline.declare(project, target), when=when)

    def load_once_reading() -> pipeline.Declared:
        assert sandbox.read.wait(timeout=30), "the shop was never read"
        return pipeline.declare(project, target)

    sandbox.read.clear()
    overlapped, _ = pipeline.plan_target(project, target, load_once_reading, when=when)
    assert sandbox.writes() == []
    assert [str(c.key) for c in first.changes] == ["ruleset:rs-5", "ruleset:rs-7", "ruleset:rs-999"]
    # Made a second apart at most: the stamp of when is all that may differ.
    same_second = dataclasses.replace(overlapped, created_at=first.created_at)
    for output in ("text", "markdown", "json"):
        assert planformat.render(same_second, output) == planformat.render(first, output)
    assert same_second.checksum == first.checksum


def test_a_halted_client_sends_nothing(served: tuple[RecordingSandbox, Path]) -> None:
    sandbox, root = served
    project = config.load_project(root)
    settings = client.ClientSettings.from_target(project.target(None))
    with client.BoldClient(settings, token=APP_TOKEN) as bold:
        assert len(bold.list_rulesets()) == COUNT
        before = len(sandbox.requests)
        bold.halt()
        with pytest.raises(Exception) as caught:
            bold.list_rulesets()
        assert not isinstance(caught.value, errors.BoldrulesError)
    assert len(sandbox.requests) == before


def test_lint_runs_only_for_a_plan_that_creates_or_updates(
    served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, root = served
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    project = config.load_project(root)
    target = project.target(None)
    declared = pipeline.declare(project, target)
    with pipeline.open_client(project, target) as bold:
        live = pipeline.read_shop(bold, project, declared.objects)
    runs: list[int] = []

    def find() -> list[lint.Finding]:
        runs.append(1)
        return list(declared.findings)

    unchanged = [r for r in declared.objects if r.key.ident[0] not in {"rs-5", "rs-7"}]
    nothing = pipeline.Declared(unchanged, pipeline.steps.Findings(find))
    only = plan.Filters(only=tuple(f"ruleset:{r.key.ident[0]}" for r in unchanged))
    quiet = pipeline.compare(project, target, nothing, live, filters=only)
    assert quiet.changes == () and quiet.findings == ()
    assert runs == []
    changing = pipeline.Declared(declared.objects, pipeline.steps.Findings(find))
    busy = pipeline.compare(project, target, changing, live)
    assert runs == [1]
    assert busy.findings == pipeline.compare(project, target, declared, live).findings


def test_the_collector_runs_again_after_a_plan_even_a_failed_one(
    served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, root = served
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    project = config.load_project(root)
    target = project.target(None)
    assert gc.isenabled()
    pipeline.plan_target(project, target, functools.partial(pipeline.declare, project, target))
    assert gc.isenabled()
    break_manifests(root)
    with pytest.raises(errors.ManifestInvalid):
        pipeline.plan_target(project, target, functools.partial(pipeline.declare, project, target))
    assert gc.isenabled()


def test_manifests_saved_while_planning_are_not_linted_as_the_plan(
    served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, root = served
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    project = config.load_project(root)
    target = project.target(None)
    declared = pipeline.declare(project, target)
    with pipeline.open_client(project, target) as bold:
        live = pipeline.read_shop(bold, project, declared.objects)
    # Saved between the load and the plan's lint: the findings would be another project's.
    manifest = root / "pricing" / "rulesets.yaml"
    manifest.write_text(manifest.read_text().replace("value: -10}", "value: -15}", 1))
    with pytest.raises(errors.ManifestsMoved) as caught:
        pipeline.compare(project, target, declared, live)
    assert caught.value.exit_code == 1
    assert str(caught.value) == (
        "the manifests changed while the plan was being made (they were read again for lint); "
        "run the command again once they are saved"
    )


def test_a_listing_keeps_its_objects_normalised_not_their_raw_json(
    served: tuple[RecordingSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, root = served
    monkeypatch.setenv("BOLDRULES_TEST_TOKEN", APP_TOKEN)
    project = config.load_project(root)
    target = project.target(None)
    with pipeline.open_client(project, target) as bold:
        listing = state._read(kinds.by_name[model.Kind.RULESET], bold)
        raw = {r["external_id"]: r for r in bold.list_rulesets()}
    assert listing.pages == 3 and len(listing.items) == COUNT
    for item in listing.items:
        assert isinstance(item, kinds.base.Normalised)
        assert set(item) <= {"id", "created_at", "updated_at", "external_id"}
        again = state.ruleset_resource(raw[item["external_id"]])
        made = item.resource
        assert (made.key, made.body, made.handles) == (again.key, again.body, again.handles)
