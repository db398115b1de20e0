"""Post boldrules' reports to GitLab from a CI job: a sticky merge-request note, an issue.

Used by .gitlab-ci.yml beside this folder; standard library only, so it runs in any image with
Python (the boldrules job image has it anyway). It never prints the API token.

    python ci/gitlab_api.py note plan.md
        Post plan.md on the merge request, or edit the note posted before: the note is found
        by the file's first line (boldrules' `<!-- boldrules-plan target=NAME -->`).
    python ci/gitlab_api.py issue --title TITLE --label LABEL report.md
        Open an issue with that title and label, or comment on the one already open.
    python ci/gitlab_api.py close --title TITLE --label LABEL --message TEXT
        Comment on and close the open issue with that title and label, if there is one.

It reads GitLab's predefined CI variables (CI_API_V4_URL, CI_PROJECT_ID,
CI_MERGE_REQUEST_PROJECT_ID, CI_MERGE_REQUEST_IID) and GITLAB_API_TOKEN: a project access token
with the `api` scope and the Reporter role (enough for notes and issues, nothing more). Without
that token it says so and exits 0: the plan is still in the job log and the MR's artifacts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and do what it asks; returns the exit code."""
    parser = argparse.ArgumentParser(prog="gitlab_api.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    note = commands.add_parser("note", help="post or update the sticky merge-request note")
    note.add_argument("file")
    issue = commands.add_parser("issue", help="open an issue, or comment on the open one")
    issue.add_argument("--title", required=True)
    issue.add_argument("--label", required=True)
    issue.add_argument("file")
    close = commands.add_parser("close", help="comment on and close the open issue")
    close.add_argument("--title", required=True)
    close.add_argument("--label", required=True)
    close.add_argument("--message", required=True)
    args = parser.parse_args(argv)

    token = os.environ.get("GITLAB_API_TOKEN", "")
    if not token:
        print(
            f"gitlab_api.py {args.command}: skipped, GITLAB_API_TOKEN is not set", file=sys.stderr
        )
        return 0
    api = Api(os.environ["CI_API_V4_URL"], token)
    project = urllib.parse.quote(os.environ["CI_PROJECT_ID"], safe="")
    try:
        if args.command == "note":
            return post_note(api, read(args.file))
        if args.command == "issue":
            return open_issue(
                api, project, title=args.title, label=args.label, body=read(args.file)
            )
        return close_issue(api, project, title=args.title, label=args.label, message=args.message)
    except ApiError as exc:
        print(f"gitlab_api.py {args.command}: {exc}", file=sys.stderr)
        return 1


class ApiError(Exception):
    """GitLab refused or could not be reached; the message names the call."""


class Api:
    """The few GitLab REST calls this needs, authenticated with a PRIVATE-TOKEN header."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call; returns the decoded JSON body. Errors name the call, never the token."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("PRIVATE-TOKEN", self._token)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:256]
            raise ApiError(f"{method} {path.split('?')[0]} answered {exc.code}: {detail}") from None
        except urllib.error.URLError as exc:
            raise ApiError(f"{method} {path.split('?')[0]} failed: {exc.reason}") from None
        return json.loads(text) if text else None

    def pages(self, path: str) -> list[Any]:
        """Every item of a paginated list (GitLab pages with page and per_page)."""
        items: list[Any] = []
        page = 1
        while True:
            sep = "&" if "?" in path else "?"
            batch = self.call("GET", f"{path}{sep}per_page=100&page={page}")
            items.extend(batch)
            if len(batch) < 100:
                return items
            page += 1


def read(path: str) -> str:
    """The whole text of a report file."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def post_note(api: Api, body: str) -> int:
    """Edit the merge request's note that starts with the body's first line, or post it."""
    project = urllib.parse.quote(
        os.environ.get("CI_MERGE_REQUEST_PROJECT_ID") or os.environ["CI_PROJECT_ID"], safe=""
    )
    notes_path = f"/projects/{project}/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
    marker = body.split("\n", 1)[0]
    mine = [n for n in api.pages(notes_path) if str(n.get("body", "")).startswith(marker)]
    if mine:
        api.call("PUT", f"{notes_path}/{mine[0]['id']}", {"body": body})
        print(f"Updated note {mine[0]['id']} on the merge request.")
    else:
        created = api.call("POST", notes_path, {"body": body})
        print(f"Posted note {created['id']} on the merge request.")
    return 0


def _open_issue(api: Api, project: str, *, title: str, label: str) -> dict[str, Any] | None:
    query = urllib.parse.urlencode({"state": "opened", "labels": label})
    found = [i for i in api.pages(f"/projects/{project}/issues?{query}") if i["title"] == title]
    return found[0] if found else None


def open_issue(api: Api, project: str, *, title: str, label: str, body: str) -> int:
    """Comment on the open issue with this title and label, or open one."""
    existing = _open_issue(api, project, title=title, label=label)
    if existing is not None:
        api.call("POST", f"/projects/{project}/issues/{existing['iid']}/notes", {"body": body})
        print(f"Commented on issue #{existing['iid']}.")
    else:
        created = api.call(
            "POST",
            f"/projects/{project}/issues",
            {"title": title, "labels": label, "description": body},
        )
        print(f"Opened issue #{created['iid']}.")
    return 0


def close_issue(api: Api, project: str, *, title: str, label: str, message: str) -> int:
    """Comment on and close the open issue with this title and label, if there is one."""
    existing = _open_issue(api, project, title=title, label=label)
    if existing is not None:
        path = f"/projects/{project}/issues/{existing['iid']}"
        api.call("POST", f"{path}/notes", {"body": message})
        api.call("PUT", path, {"state_event": "close"})
        print(f"Closed issue #{existing['iid']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
