"""Outcomes told as they happened: the terminal, the exit code and the ledger agree, and a run
stops at the first sign that nothing further can succeed (a refused token, an unreachable API).

Every test drives real parts: the sandbox in process (through a transport that changes its
mind mid-run where a test needs that), or served on 127.0.0.1 behind the real command line.
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler import (
    apply,
    cli,
    client,
    clientsettings,
    config,
    errors,
    model,
    pipeline,
    plan,
    state,
)
from reconciler.sandbox import ALL_SCOPES, Sandbox
from reconciler.transport import IN_PROCESS_URL, InProcessTransport

from ..client.conftest import FakeClock
from ..conftest import APP_TOKEN, OTHER_TOKEN, build_client, make_bold_client
from ..sandbox import bodies

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHOP = "sandbox-shop"
P = f"/price_rules/rules/v2/shops/{SHOP}"
READ_ONLY = [s for s in ALL_SCOPES if s.startswith("read_")]


def ruleset_yaml(*eids: str) -> str:
    lines = ["rulesets:"]
    for eid in eids:
        lines += [
            f"  - external_id: {eid}",
            "    product_selection: {type: PRODUCTS_ALL}",
            "    rules:",
            "      - external_id: r",
            "        type: DISCOUNT",
            "        conditions: []",
            "        actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]",
        ]
    return "\n".join(lines) + "\n"


def make_project(root: Path, target: str, *eids: str, extra: str = "") -> Path:
    (root / "pricing").mkdir(parents=True, exist_ok=True)
    (root / "pricing" / "rulesets.yaml").write_text(ruleset_yaml(*eids))
    (root / "boldrules.yaml").write_text(
        f"manifests: [pricing/]\ndefault_target: t\ntargets:\n  t:\n{target}{extra}"
    )
    return root


EMBEDDED = "    sandbox: .boldrules/sandbox.sqlite\n    rate: 1000\n    burst: 1000\n"


def remote(url: str) -> str:
    return f"    api_url: {url}\n    token_env: OUTCOMES_TOKEN\n    rate: 1000\n    burst: 1000\n"


def boldrules(root: Path, *args: str, token: str = APP_TOKEN) -> Result:
    return CliRunner().invoke(
        cli.main,
        ["-C", str(root), *args],
        env={"OUTCOMES_TOKEN": token, "NO_COLOR": "1"},
        catch_exceptions=False,
    )


def progress_lines(stderr: str) -> list[str]:
    """Progress lines with their timings blanked, so they compare whole."""
    return [
        re.sub(r" \d+ ms", " N ms", line) for line in stderr.splitlines() if line.startswith("[")
    ]


def ledger(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def statuses(sandbox: Sandbox, method: str) -> dict[str, int]:
    """Answers by status to every API request of one method."""
    found: dict[str, int] = {}
    for route, by_status in sandbox.stats()["by_route"].items():
        if route.startswith(method + " "):
            for status, count in by_status.items():
                found[status] = found.get(status, 0) + count
    return found


# --- 1. a DELETE answered 404 ---------------------------------------------------------------


def test_a_delete_answered_404_while_the_ruleset_stays_is_a_failure_everywhere(
    tmp_path: Path,
) -> None:
    # A wrong delete route (an override, or an identity the API does not know) answers 404.
    wrong = (
        "routes:\n  delete_ruleset: /price_rules/rules/v2/shops/{shop_identifier}/rulesets/"
        "external/{external_id}-typo\n"
    )
    root = make_project(tmp_path / "p", EMBEDDED, "keep", "drop", extra=wrong)
    assert boldrules(root, "apply", "--yes").exit_code == 0
    (root / "pricing" / "rulesets.yaml").write_text(ruleset_yaml("keep"))
    result = boldrules(
        root, "apply", "--yes", "--allow-delete", "--ledger", str(tmp_path / "l.jsonl")
    )
    assert result.exit_code == 5
    assert progress_lines(result.stderr) == [
        f"[1/1] delete ruleset drop … failed N ms: DELETE {P}/rulesets/external/drop-typo → 404: "
        "No ruleset with external_id 'drop-typo'. — yet the ruleset is still there when read "
        "back: nothing was "
        "deleted (check routes: delete_ruleset in boldrules.yaml, or how the object is "
        "identified)"
    ]
    assert "Apply complete" not in result.stderr
    assert "Apply partly failed: 0 done, 1 failed." in result.stderr
    lines = ledger(tmp_path / "l.jsonl")
    assert [(e["method"], e["status"], e["outcome"]) for e in lines] == [
        ("DELETE", 404, "failed"),
        ("GET", 200, "failed"),  # the read that found it still there
    ]
    assert lines[1]["path"] == f"{P}/rulesets/external/drop"
    plan_after = boldrules(root, "plan")
    assert "- ruleset drop" in plan_after.stdout  # still there, and still planned


def test_a_delete_of_an_object_already_gone_is_ok_in_the_ledger_too(sandbox: Sandbox) -> None:
    with make_bold_client(sandbox) as bold:
        bold.upsert_ruleset("gone", state.ruleset_to_api(_ruleset("gone").body))
        changes = [model.Delete(state.ruleset_resource(bold.get_ruleset("gone") or {}))]
        bold.delete_ruleset("gone")  # someone else deletes it between plan and apply
        out, book = io.StringIO(), io.StringIO()
        report = apply.execute(bold, changes, progress=apply.Progress(stream=out, ledger=book))
    assert (report.done, report.failed) == (1, 0)
    assert progress_lines(out.getvalue()) == ["[1/1] delete ruleset gone … ok N ms"]
    lines = [json.loads(line) for line in book.getvalue().splitlines()]
    assert [(e["method"], e["status"], e["outcome"], e.get("note")) for e in lines] == [
        ("DELETE", 404, "ok", "404: read back to check it is gone"),
        ("GET", 404, "ok", "not there"),
    ]


def _ruleset(eid: str) -> model.Resource:
    rule = bodies.rule("r", -5, conditions=[])
    body = bodies.ruleset(eid, rule, product_selection={"type": "PRODUCTS_ALL"})
    return state.ruleset_resource(body["ruleset"])


def test_a_bulk_rule_delete_meeting_one_gone_rule_deletes_the_rest(sandbox: Sandbox) -> None:
    rules = [{**_ruleset("x").body["rules"]["r"], "external_id": n} for n in ("a", "b", "c")]
    with make_bold_client(sandbox) as bold:
        made = bold.upsert_ruleset(
            "x", {"external_id": "x", "product_selection": {"type": "PRODUCTS_ALL"}, "rules": rules}
        )
        ids = {r["external_id"]: r["id"] for r in made["rules"]}
        bold.delete_rules("x", [ids["a"]])  # someone removes one first
        bold.delete_rules("x", [ids["a"], ids["b"]])  # the API deletes nothing: 404
        assert [r["external_id"] for r in (bold.get_ruleset("x") or {})["rules"]] == ["c"]


# --- 2. a token that may not write, or stops being accepted ---------------------------------


def test_a_read_only_token_meets_one_403_and_apply_exits_7(
    tmp_path: Path, served: tuple[Sandbox, str]
) -> None:
    sandbox, url = served
    sandbox.add_token("read-only-token-0123", app="boldrules-test", scopes=READ_ONLY)
    eids = [f"r{i:02}" for i in range(28)]
    root = make_project(tmp_path / "p", remote(url), *eids)
    book = str(root / "l.jsonl")
    result = boldrules(root, "apply", "--yes", "--ledger", book, token="read-only-token-0123")
    assert result.exit_code == 7
    # The apply lock is the run's first write (a ruleset of the token's app): its one 403 stops
    # the run before any change is attempted, naming the missing scope.
    assert statuses(sandbox, "POST") == {"403": 1}
    assert statuses(sandbox, "PUT") == {}
    assert result.stderr.splitlines()[-1] == (
        f"error: POST {P}/rulesets → 403: This token lacks the write_price_rulesets scope for "
        "this call. — apply keeps its lock and the ownership record as rulesets of the token's "
        "app, so the token needs the write_price_rulesets scope (docs/ownership.md)"
    )
    assert not (root / "l.jsonl").exists() or ledger(root / "l.jsonl") == []
    assert "read-only-token-0123" not in result.stdout + result.stderr


def test_a_token_without_the_code_scope_meets_one_403_and_writes_no_other_code(
    tmp_path: Path, served: tuple[Sandbox, str]
) -> None:
    sandbox, url = served
    scopes = [*READ_ONLY, "write_price_rulesets"]
    sandbox.add_token("rulesets-only-token-0123", app="boldrules-test", scopes=scopes)
    root = make_project(tmp_path / "p", remote(url), "a", "b")
    codes = "\n".join(
        f"  - codes: [CODE{i}]\n    action: {{type: PRICE_ADJUST_PERCENT, value: -{5 + i}}}\n"
        "    product_selection: {type: PRODUCTS_ALL}"
        for i in range(5)
    )
    (root / "pricing" / "codes.yaml").write_text(f"discount_codes:\n{codes}\n")
    result = boldrules(root, "apply", "--yes", token="rulesets-only-token-0123")
    assert result.exit_code == 7
    # Five codes of five configurations are five creates. The first goes alone, as a scout; its
    # 403 stops the run: no other code is tried, and the rulesets written before it stay done.
    assert statuses(sandbox, "POST").get("403") == 1
    assert "write_discount_codes" in result.stderr
    assert result.stderr.splitlines()[-1] == "2 done, 1 failed, 4 not attempted."
    assert "rulesets-only-token-0123" not in result.stdout + result.stderr


class Revoking(httpx.BaseTransport):
    """The sandbox in process, whose token is revoked as the ``after``-th write arrives."""

    def __init__(self, sandbox: Sandbox, *, after: int) -> None:
        self.inner = InProcessTransport(sandbox.wsgi_app)
        self.sandbox = sandbox
        self.after = after
        self.writes = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            with self.lock:
                self.writes += 1
                if self.writes == self.after:
                    self.sandbox.revoke_token(APP_TOKEN)
        return self.inner.handle_request(request)


def test_a_token_revoked_mid_run_stops_at_the_first_401(sandbox: Sandbox) -> None:
    desired = [_ruleset(f"r{i:03}") for i in range(120)]
    transport = Revoking(sandbox, after=10)
    with over(transport) as bold:
        changes = [model.Create(r) for r in desired]
        book = io.StringIO()
        with pytest.raises(errors.ApplyStopped) as caught:
            apply.execute(bold, changes, progress=apply.Progress(stream=None, ledger=book))
    stopped = caught.value
    report = stopped.report
    assert stopped.exit_code == 7
    assert report.done == 9
    # Calls in flight when the token went finish (at most the concurrency of 4); none start after.
    assert 1 <= report.failed <= bold.concurrency
    assert report.done + report.failed + report.not_attempted == 120
    assert transport.writes == report.done + report.failed
    assert str(stopped).splitlines()[1:] == [
        "It was revoked or expired during the run: get a valid token and run apply again. It "
        "converges from where this run stopped.",
        f"9 done, {report.failed} failed, {report.not_attempted} not attempted.",
    ]
    lines = [json.loads(line) for line in book.getvalue().splitlines()]
    by_outcome = {
        o: len({e["object"][0] for e in lines if e["outcome"] == o})
        for o in ("ok", "failed", "not attempted")
    }
    assert by_outcome == {"ok": 9, "failed": report.failed, "not attempted": report.not_attempted}
    assert all(e["status"] == 401 for e in lines if e["outcome"] == "failed")


class Unreachable(httpx.BaseTransport):
    """The sandbox in process, until the network goes away after the ``after``-th write."""

    def __init__(self, sandbox: Sandbox, *, after: int) -> None:
        self.inner = InProcessTransport(sandbox.wsgi_app)
        self.after = after
        self.writes = 0
        self.refused = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            if request.method != "GET":
                self.writes += 1
            if self.writes >= self.after:
                self.refused += 1
                raise httpx.ConnectError("[Errno 111] Connection refused")
        return self.inner.handle_request(request)


def test_an_api_that_goes_away_stops_apply_with_exit_8(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    transport = Unreachable(sandbox, after=5)
    caplog.set_level("WARNING", logger="reconciler.client")
    with over(transport, clock=clock.time, sleep=clock.sleep, concurrency=1) as bold:
        changes = [model.Create(_ruleset(f"r{i:02}")) for i in range(30)]
        with pytest.raises(errors.ApplyStopped) as caught:
            apply.execute(bold, changes)
    report = caught.value.report
    assert caught.value.exit_code == 8
    assert (report.done, report.failed, report.not_attempted) == (4, 1, 25)
    assert transport.refused == 6  # one call's attempts, then nothing more
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 5
    assert retries[0] == (
        f"PUT {P}/rulesets/external/r04: no answer (ConnectError: [Errno 111] Connection "
        "refused); attempt 2 of 6 in 1.0 s"
    )
    assert str(caught.value).startswith(
        f"Apply stopped: the API could not be reached (PUT {P}/rulesets/external/r04 → no response"
    )


# --- 3. network failure: its own exit code --------------------------------------------------


def test_an_unreachable_api_url_is_exit_8_with_each_retry_said() -> None:
    assert errors.ConnectionFailed(method="GET", path="/", status=None).exit_code == 8
    clock = FakeClock()
    messages: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    bold = client.BoldClient(
        clientsettings.ClientSettings(base_url="http://127.0.0.1:9", shop_identifier=SHOP),
        token=APP_TOKEN,
        transport=httpx.MockTransport(refuse),
        clock=clock.time,
        sleep=clock.sleep,
        rng=random.Random(7),
    )
    handler = _Collect(messages)
    logger = logging.getLogger("reconciler.client")
    logger.addHandler(handler)
    try:
        with pytest.raises(errors.ConnectionFailed) as caught:
            bold.list_rulesets()
    finally:
        logger.removeHandler(handler)
        bold.close()
    assert str(caught.value) == (
        f"GET {P}/rulesets → no response — could not connect to 127.0.0.1:9 (ConnectError: "
        "[Errno 111] Connection refused) (after 6 attempts)"
    )
    assert len(messages) == 5
    assert all(
        m.startswith(
            f"WARNING GET {P}/rulesets?limit=100&page=1: no answer (could not connect to "
            "127.0.0.1:9 (ConnectError"
        )
        for m in messages
    )
    assert [m.rsplit("; ", 1)[1].split(" in ")[0] for m in messages] == [
        f"attempt {n} of 6" for n in range(2, 7)
    ]


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.levelname} {record.getMessage()}")


# --- 4. a token of another app --------------------------------------------------------------


def seed_other_app(root: Path, *eids: str) -> None:
    """Another app of the embedded shop owns rulesets with these external ids."""
    shop = Sandbox.embedded(root / ".boldrules" / "sandbox.sqlite")
    shop.add_token(OTHER_TOKEN, app="the-app-that-manages-this-shop")
    try:
        with make_bold_client(shop, OTHER_TOKEN) as other:
            for eid in eids:
                other.upsert_ruleset(eid, state.ruleset_to_api(_ruleset(eid).body))
    finally:
        shop.close()


def test_a_token_of_another_app_is_refused_with_what_happened_and_how_to_go_on(
    tmp_path: Path,
) -> None:
    eids = [f"sale-{i:03}" for i in range(12)]
    root = make_project(tmp_path / "p", EMBEDDED, *eids)
    seed_other_app(root, *eids)
    result = boldrules(root, "plan")
    assert result.exit_code == 4
    assert result.stderr.splitlines() == [
        "error: Refusing to create 12 rulesets that already exist under another app of this "
        "shop (sale-000, sale-001, sale-002 and 9 more): the token probably belongs to a "
        "different app than the one that created them, so it can neither see nor change them. "
        "Use that app's token; or, to create them under this token's app anyway (both apps' "
        "rulesets would then price the same products), re-run with "
        "--create-alongside-other-apps."
    ]
    assert "Plan: 12 to create, 0 to update, 0 to delete." in result.stdout
    assert boldrules(root, "plan", "--force").exit_code == 4  # --force does not lift it
    assert boldrules(root, "apply", "--yes").exit_code == 4
    saved = str(tmp_path / "plan.json")
    assert boldrules(root, "plan", "--out", saved).exit_code == 4
    from_file = boldrules(root, "apply", saved, "--yes")  # a saved plan cannot dodge it
    assert from_file.exit_code == 4
    assert from_file.stderr.splitlines()[-1].startswith("error: Refusing to create 12 rulesets")
    on_purpose = boldrules(root, "apply", "--yes", "--create-alongside-other-apps")
    assert on_purpose.exit_code == 0, on_purpose.stderr
    assert boldrules(root, "plan").stdout.splitlines()[-1] == "No changes."


class Counting(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self.inner = InProcessTransport(sandbox.wsgi_app)
        self.all_apps_pages = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("include_all_apps") and request.url.params.get("limit") != "1":
            self.all_apps_pages += 1
        return self.inner.handle_request(request)


@pytest.mark.parametrize(
    ("ours", "theirs", "expected", "pages", "claimed"),
    [
        ([], [], ["a", "b"], 0, ()),  # no other app has anything: the count says so, no listing
        (["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c", "d"], 0, ()),  # most are ours
        ([], ["a", "b", "x"], ["a", "b", "c"], 1, ("a", "b")),  # most missing: one listing
        (["a"], ["b", "c"], ["a", "b", "c"], 1, ("b", "c")),
    ],
)
def test_the_all_apps_listing_is_read_only_when_most_rulesets_are_missing(
    sandbox: Sandbox,
    tmp_path: Path,
    ours: list[str],
    theirs: list[str],
    expected: list[str],
    pages: int,
    claimed: tuple[str, ...],
) -> None:
    with make_bold_client(sandbox) as mine, make_bold_client(sandbox, OTHER_TOKEN) as other:
        for eid in ours:
            mine.upsert_ruleset(eid, state.ruleset_to_api(_ruleset(eid).body))
        for eid in theirs:
            other.upsert_ruleset(eid, state.ruleset_to_api(_ruleset(eid).body))
    project = config.load_project(make_project(tmp_path / "p", EMBEDDED, *expected))
    desired = [_ruleset(eid) for eid in expected]
    counting = Counting(sandbox)
    with over(counting) as bold:
        live = state.fetch_live(bold)
        first = plan.plan_changes(desired, live, target=project.target(None), project=project)
        checked = plan.with_other_apps(first, desired, find=bold.rulesets_of_other_apps)
    assert (counting.all_apps_pages, checked.safety.claimed_by_other_apps) == (pages, claimed)
    # Never a source of changes: the plan is the same, only refused when something is claimed.
    assert checked.changes == first.changes


# --- 5. a token with whitespace -------------------------------------------------------------


def test_whitespace_inside_a_token_is_exit_7_without_the_token(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", remote("http://127.0.0.1:9"), "a")
    result = boldrules(root, "plan", token="tok-FIRST-half tok-SECOND-half")
    assert result.exit_code == 7
    assert result.stderr.splitlines() == [
        "error: target 't': the token in $OUTCOMES_TOKEN has whitespace (a space, tab or line "
        "break) inside it: a token is one word of visible ASCII characters; check how it was "
        "exported (two values pasted together, a line-wrapped copy?)"
    ]
    assert "FIRST" not in result.stderr and "SECOND" not in result.stderr


def test_a_trailing_newline_around_a_token_is_harmless(
    tmp_path: Path, served: tuple[Sandbox, str]
) -> None:
    _, url = served
    root = make_project(tmp_path / "p", remote(url), "a")
    result = boldrules(root, "plan", token=f"  {APP_TOKEN}\r\n")
    assert result.exit_code == 0, result.stderr
    assert "+ ruleset a" in result.stdout


# --- 6. garbage answers ---------------------------------------------------------------------


def quick_client(sandbox: Sandbox, clock: FakeClock, **options: Any) -> client.BoldClient:
    return make_bold_client(
        sandbox, clock=clock.time, sleep=clock.sleep, shop_identifier=SHOP, **options
    )


def over(transport: httpx.BaseTransport, **options: Any) -> client.BoldClient:
    """Our app's client on the sandbox behind ``transport``, fast (no real pacing)."""
    settings: dict[str, Any] = {"rate": 10_000.0, "burst": 10_000, "concurrency": 4}
    settings.update(options)
    return build_client(base_url=IN_PROCESS_URL, token=APP_TOKEN, transport=transport, **settings)


@pytest.mark.parametrize("kind", ["truncated_body", "empty_body"])
def test_a_garbage_answer_to_a_read_is_retried(sandbox: Sandbox, kind: str) -> None:
    clock = FakeClock()
    with quick_client(sandbox, clock) as bold:
        bold.upsert_ruleset("a", state.ruleset_to_api(_ruleset("a").body))
        sandbox.set_faults(**{kind: 1.0}, body_faults_on="reads", body_faults_limit=3)
        live = state.fetch_live(bold)
        assert [r.key.ident[0] for r in live.resources] == ["a"]
        assert bold.stats.retries == 3
    assert sandbox.stats()["events"][kind] == 3


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("truncated_body", r"the answer's body was truncated JSON \(it breaks off at byte \d+\)"),
        ("empty_body", "the answer's body was empty"),
    ],
)
def test_a_read_that_stays_garbage_says_what_was_wrong(
    sandbox: Sandbox, kind: str, says: str
) -> None:
    clock = FakeClock()
    sandbox.set_faults(**{kind: 1.0}, body_faults_on="reads")
    with quick_client(sandbox, clock) as bold, pytest.raises(errors.BadResponse) as caught:
        bold.list_rulesets()
    assert re.fullmatch(rf"GET {P}/rulesets → 200 — {says} \(after 6 attempts\)", str(caught.value))


def test_a_garbage_answer_to_writes_is_read_back_not_a_crash(sandbox: Sandbox) -> None:
    project = config.load_project(EXAMPLES / "quickstart")
    desired = pipeline.desired(project, project.target(None))
    clock = FakeClock()
    # The first write of each kind goes alone; each is answered 2xx with a spoiled body.
    sandbox.set_faults(truncated_body=1.0, body_faults_on="writes", body_faults_limit=3)
    book = io.StringIO()
    with quick_client(sandbox, clock) as bold:
        live = state.fetch_live(bold)
        first = plan.plan_changes(desired, live, target=project.target(None), project=project)
        report = apply.execute(
            bold, first.changes, progress=apply.Progress(stream=None, ledger=book)
        )
        writes = {k: v for k, v in bold.stats.calls.items() if k[0] != "GET"}
        again = pipeline.plan_shop(bold, project, project.target(None), pipeline.Declared(desired))
    assert (report.done, report.failed) == (len(first.changes) - 1, 0)  # two codes: one POST
    assert again.empty
    # Nothing was sent twice: each spoiled answer was settled by reading the object back.
    assert writes == {
        ("POST", "create_order_condition"): 2,
        ("PUT", "upsert_ruleset"): 3,
        ("POST", "create_discount_codes"): 1,
    }
    notes = [json.loads(line).get("note") for line in book.getvalue().splitlines()]
    assert notes.count("outcome unknown: read back") == 3
    assert sandbox.stats()["events"]["truncated_body"] == 3


def test_progress_lines_tell_the_wait_for_the_rate_limit_from_the_call(sandbox: Sandbox) -> None:
    clock = FakeClock()  # moves only when the pacing sleeps: the calls themselves take 0 ms
    changes = [model.Create(_ruleset(eid)) for eid in ("a", "b", "c")]
    with make_bold_client(
        sandbox, rate=1.0, burst=1, concurrency=1, clock=clock.time, sleep=clock.sleep
    ) as bold:
        out, book = io.StringIO(), io.StringIO()
        report = apply.execute(bold, changes, progress=apply.Progress(stream=out, ledger=book))
    assert report.done == 3
    assert out.getvalue().splitlines() == [
        "[1/3] create ruleset a … ok 1050 ms waiting for the rate limit + 0 ms",
        "[2/3] create ruleset b … ok 1050 ms waiting for the rate limit + 0 ms",
        "[3/3] create ruleset c … ok 1050 ms waiting for the rate limit + 0 ms",
    ]
    lines = [json.loads(line) for line in book.getvalue().splitlines()]
    # The first create takes two requests (the bucket's one token, then a wait for the next).
    assert [(e["milliseconds"], e["waited_milliseconds"]) for e in lines] == [
        (0, 0),
        (1050, 1050),
        (1050, 1050),
        (1050, 1050),
    ]
