"""examples/gitlab-ci/ci/gitlab_api.py, the GitLab pipeline's helper, against a fake GitLab on
127.0.0.1: the plan note posted once then edited, the drift issue opened, commented and closed,
a quiet skip without a token, and the refused call named without the token."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

GITLAB = Path(__file__).parent.parent / "examples" / "gitlab-ci"


class FakeGitLab:
    """Just enough of GitLab's REST API: merge-request notes and issues, in memory."""

    def __init__(self) -> None:
        self.notes: dict[int, str] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.issue_notes: dict[int, list[str]] = {}
        self.tokens_seen: set[str] = set()

    def handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        route = path.split("?")[0]
        query = dict(p.split("=", 1) for p in path.split("?")[1].split("&")) if "?" in path else {}
        if route == "/api/v4/projects/42/merge_requests/7/notes":
            if method == "GET":
                page = int(query.get("page", "1"))
                items = [{"id": i, "body": b} for i, b in self.notes.items()]
                return 200, items[(page - 1) * 100 : page * 100]
            note_id = len(self.notes) + 100
            self.notes[note_id] = body["body"]
            return 201, {"id": note_id, "body": body["body"]}
        if m := re.fullmatch(r"/api/v4/projects/42/merge_requests/7/notes/(\d+)", route):
            self.notes[int(m.group(1))] = body["body"]
            return 200, {"id": int(m.group(1))}
        if route == "/api/v4/projects/42/issues":
            if method == "GET":
                label = query["labels"].replace("%2C", ",")
                return 200, [
                    i
                    for i in self.issues.values()
                    if i["state"] == "opened" and label in i["labels"]
                ][(int(query["page"]) - 1) * 100 :]
            iid = len(self.issues) + 1
            self.issues[iid] = {
                "iid": iid,
                "title": body["title"],
                "labels": [body["labels"]],
                "state": "opened",
                "description": body["description"],
            }
            return 201, self.issues[iid]
        if m := re.fullmatch(r"/api/v4/projects/42/issues/(\d+)/notes", route):
            self.issue_notes.setdefault(int(m.group(1)), []).append(body["body"])
            return 201, {"id": 1}
        if m := re.fullmatch(r"/api/v4/projects/42/issues/(\d+)", route):
            assert body == {"state_event": "close"}
            self.issues[int(m.group(1))]["state"] = "closed"
            return 200, self.issues[int(m.group(1))]
        return 404, {"message": "404 Not Found"}


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    fake = FakeGitLab()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            fake.tokens_seen.add(self.headers.get("PRIVATE-TOKEN", ""))
            status, answer = fake.handle(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CI_API_V4_URL", f"http://127.0.0.1:{server.server_address[1]}/api/v4")
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("CI_MERGE_REQUEST_PROJECT_ID", "42")
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    monkeypatch.setenv("GITLAB_API_TOKEN", "glpat-test-token")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gitlab_api", GITLAB / "ci" / "gitlab_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gitlab_note_is_posted_once_then_edited_in_place(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    helper = _helper()
    plan = tmp_path / "plan.md"
    plan.write_text("<!-- boldrules-plan target=production -->\nPlan: 1 to create.\n")
    assert helper.main(["note", str(plan)]) == 0
    plan.write_text("<!-- boldrules-plan target=production -->\nNo changes.\n")
    assert helper.main(["note", str(plan)]) == 0
    other = tmp_path / "other.md"
    other.write_text("<!-- boldrules-plan target=staging -->\nPlan: 2 to update.\n")
    assert helper.main(["note", str(other)]) == 0
    assert sorted(gitlab.notes.values()) == [
        "<!-- boldrules-plan target=production -->\nNo changes.\n",
        "<!-- boldrules-plan target=staging -->\nPlan: 2 to update.\n",
    ]
    assert gitlab.tokens_seen == {"glpat-test-token"}


def test_gitlab_issue_is_opened_then_commented_then_closed(
    gitlab: FakeGitLab, tmp_path: Path
) -> None:
    helper = _helper()
    report = tmp_path / "drift.md"
    report.write_text("Plan: 1 to update.")
    args = ["--title", "boldrules drift on production", "--label", "boldrules-drift"]
    assert helper.main(["issue", *args, str(report)]) == 0
    assert helper.main(["issue", *args, str(report)]) == 0
    assert [i["title"] for i in gitlab.issues.values()] == ["boldrules drift on production"]
    assert gitlab.issue_notes == {1: ["Plan: 1 to update."]}
    assert helper.main(["close", *args, "--message", "No drift any more."]) == 0
    assert gitlab.issues[1]["state"] == "closed"
    assert gitlab.issue_notes[1][-1] == "No drift any more."


def test_gitlab_helper_skips_quietly_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("GITLAB_API_TOKEN", raising=False)
    (tmp_path / "plan.md").write_text("x")
    assert _helper().main(["note", str(tmp_path / "plan.md")]) == 0
    assert "skipped, GITLAB_API_TOKEN is not set" in capsys.readouterr().err


def test_gitlab_helper_names_the_call_gitlab_refused(
    gitlab: FakeGitLab,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "8")  # an MR the fake does not know
    (tmp_path / "plan.md").write_text("x")
    assert _helper().main(["note", str(tmp_path / "plan.md")]) == 1
    err = capsys.readouterr().err
    assert "GET /projects/42/merge_requests/8/notes answered 404" in err
    assert "glpat-test-token" not in err
