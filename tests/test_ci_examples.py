"""The CI examples, the pre-commit hook and their guides: every ``boldrules`` command they show exists.

Owns the check that reads the GitHub workflows, the GitLab pipeline, ``.pre-commit-hooks.yaml``
and the CI guides, finds every ``boldrules ...`` command line in them (shell ``run:`` /
``script:`` blocks; in the Markdown, shell fences, inline code, and the ``run:``/``script:`` text
and pre-commit hooks of YAML fences), parsed as bash parses them (tree-sitter's Bash grammar),
and checks each against the real click command tree of ``reconciler.cli.main``: the subcommand
exists, every option exists on the command it is given to, choices are valid, values are
present. It also checks the shape of the workflows a user relies on (triggers, permissions,
concurrency; the install lines are checked by ``tests/test_install_lines.py``) and that the
example projects work as copied (``tests/test_gitlab_helper.py`` runs the GitLab helper script).

It must not reach any network beyond loopback and must not change the examples.
``tests/test_pr_flow.py`` imports ``workflow_command`` and ``load_workflow`` from here to run the
workflows' own command lines against the sandbox.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import tree_sitter
import tree_sitter_bash
import yaml
from click.testing import CliRunner

from reconciler import cli, config

ROOT = Path(__file__).parent.parent
GITHUB = ROOT / "examples" / "github-actions"
GITLAB = ROOT / "examples" / "gitlab-ci"
WORKFLOWS = sorted((GITHUB / ".github" / "workflows").glob("*.yml"))
GITLAB_CI = GITLAB / ".gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
GUIDES = [
    ROOT / "docs" / "ci.md",
    ROOT / "docs" / "pre-commit.md",
    GITHUB / "README.md",
    GITLAB / "README.md",
]

#: Stands in for a GitHub expression ``${{ ... }}`` that is not a matrix value we can resolve.
EXPRESSION = "GITHUB_EXPRESSION"

#: The only actions the workflows may use: well known, maintained by GitHub.
ALLOWED_ACTIONS = {
    "actions/checkout",
    "actions/setup-python",
    "actions/upload-artifact",
    "github/codeql-action/upload-sarif",
    "actions/github-script",
}


# --------------------------------------------------------------------------------------------
# Finding command lines
# --------------------------------------------------------------------------------------------

#: tree-sitter's Bash grammar: the shell as bash reads it (quotes, continuations, comments,
#: redirections, pipelines, ``if``/``case``, ``$( )``), so no shell parsing is written here.
_BASH = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def invocations(script: str, *, substitutions: dict[str, str] | None = None) -> list[list[str]]:
    """Every ``boldrules`` command line in a shell script, as argv without the program name.

    GitHub's ``${{ matrix.x }}`` (filled in before the shell runs) and ``$VAR`` are replaced from
    ``substitutions`` where given, any other ``${{ }}`` by a placeholder. Commands are found
    wherever bash would run them (after ``&&``, in pipelines, ``if`` bodies, ``$( )``); words are
    unquoted as bash would; redirections are not arguments. A script bash cannot parse fails.
    """
    substitutions = substitutions or {}
    text = re.sub(
        r"\$\{\{\s*([^}]*?)\s*\}\}",
        lambda m: substitutions.get(m.group(1), EXPRESSION),
        script,
    )
    tree = _BASH.parse(text.encode())
    if tree.root_node.has_error:
        raise AssertionError(f"not a shell script bash can parse:\n{script}")
    variables = {k: v for k, v in substitutions.items() if not k.startswith("matrix.")}
    found: list[list[str]] = []
    nodes = [tree.root_node]
    while nodes:
        node = nodes.pop(0)
        nodes[:0] = node.children
        name = node.child_by_field_name("name") if node.type == "command" else None
        if name is not None and _word(name, variables) == "boldrules":
            found.append([_word(a, variables) for a in node.children_by_field_name("argument")])
    return found


def _word(node: tree_sitter.Node, variables: dict[str, str]) -> str:
    """One word of a command, its variables filled in and its quotes removed as bash would."""
    text = (node.text or b"").decode()
    for name, value in variables.items():
        text = re.sub(rf"\$\{{?{name}\b\}}?", value, text)
    words = shlex.split(text)
    return words[0] if len(words) == 1 else text


def _param_for(command: click.Command, name: str) -> click.Parameter | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def check_invocation(argv: list[str]) -> list[str]:
    """Problems with one ``boldrules`` command line, judged against the real click tree."""
    problems: list[str] = []
    command: click.Command = cli.main
    path = "boldrules"
    positionals: list[str] = []
    args = list(argv)
    eager = False
    while args:
        arg = args.pop(0)
        if arg.startswith("-") and arg != "-":
            name, has_value, value = arg.partition("=")
            option = _param_for(command, name)
            if option is None and not arg.startswith("--") and len(arg) > 2:
                # Short options together: `-vv`, or a short option with its value glued: `-Cdir`.
                first = _param_for(command, arg[:2])
                if first is not None and (first.is_flag or first.count):  # type: ignore[attr-defined]
                    args[:0] = [f"-{c}" for c in arg[1:]]
                    continue
                if first is not None:
                    option, has_value, value = first, "=", arg[2:]
            if option is None and name in {"-h", "--help"}:
                eager = True  # click adds the help option itself; it ends the command line
                continue
            if option is None:
                problems.append(f"`{path}` has no option {name}")
                continue
            assert isinstance(option, click.Option)
            eager = eager or option.is_eager
            if option.is_flag or option.count:
                if has_value:
                    problems.append(f"`{path} {name}` is a flag and takes no value")
                continue
            if not has_value:
                if not args or (args[0].startswith("-") and args[0] != "-"):
                    problems.append(f"`{path} {name}` needs a value")
                    continue
                value = args.pop(0)
            choices = getattr(option.type, "choices", None)
            if choices is not None and value != EXPRESSION and value not in choices:
                problems.append(f"`{path} {name}` takes one of {list(choices)}, not {value!r}")
        elif isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), arg)  # lazily imported commands
            if sub is None:
                problems.append(f"`{path}` has no command {arg!r}")
                return problems
            command = sub
            path = f"{path} {arg}"
        else:
            positionals.append(arg)
    if isinstance(command, click.Group) and not eager:  # `boldrules --version` is complete
        problems.append(f"`{path}` needs a command")
        return problems
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    room = sum(max(p.nargs, 1) for p in arguments)
    if len(positionals) > room:
        problems.append(f"`{path}` takes {room} argument(s), given {positionals}")
    return problems


# --------------------------------------------------------------------------------------------
# Reading the workflow files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """One shell script from a CI file, with where it came from and the targets it runs for."""

    where: str
    text: str
    targets: tuple[str, ...]
    substitutions_key: str
    """How the script names the target: ``matrix.target`` (GitHub) or ``BOLDRULES_TARGET``."""

    def invocations(self) -> list[list[str]]:
        """Its boldrules command lines, once per target it runs for."""
        found: list[list[str]] = []
        for target in self.targets or ("",):
            found += invocations(self.text, substitutions={self.substitutions_key: target})
        return found


def load_workflow(path: Path) -> dict[str, Any]:
    """A workflow as data; PyYAML reads GitHub's ``on:`` key as True, so put the name back."""
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def github_targets(job: dict[str, Any]) -> tuple[str, ...]:
    matrix = job.get("strategy", {}).get("matrix", {})
    targets = list(matrix.get("target", []))
    targets += [entry["target"] for entry in matrix.get("include", []) if "target" in entry]
    return tuple(targets)


def github_scripts(path: Path) -> list[Script]:
    scripts = []
    for job_name, job in load_workflow(path)["jobs"].items():
        for index, step in enumerate(job["steps"]):
            if "run" in step:
                scripts.append(
                    Script(
                        f"{path.name} job {job_name} step {step.get('name', index)}",
                        step["run"],
                        github_targets(job),
                        "matrix.target",
                    )
                )
    return scripts


_GITLAB_RESERVED = {"workflow", "stages", "default", "variables", "include", "image", "services"}


def gitlab_jobs() -> dict[str, dict[str, Any]]:
    """The pipeline's jobs, with ``extends`` merged in (one level, as this file uses it)."""
    data = yaml.safe_load(GITLAB_CI.read_text(encoding="utf-8"))
    jobs = {}
    for name, job in data.items():
        if name in _GITLAB_RESERVED or name.startswith("."):
            continue
        merged = dict(data.get(job.get("extends", ""), {})) if "extends" in job else {}
        merged.update(job)
        jobs[name] = merged
    return jobs


def gitlab_scripts() -> list[Script]:
    data = yaml.safe_load(GITLAB_CI.read_text(encoding="utf-8"))
    scripts = [
        Script(
            "default before_script",
            "\n".join(data["default"]["before_script"]),
            (),
            "BOLDRULES_TARGET",
        )
    ]
    for name, job in gitlab_jobs().items():
        matrix = job.get("parallel", {}).get("matrix", [{}])
        targets = tuple(t for entry in matrix for t in entry.get("BOLDRULES_TARGET", []))
        for key in ("before_script", "script", "after_script"):
            if key in job:
                scripts.append(
                    Script(f"{name} {key}", "\n".join(job[key]), targets, "BOLDRULES_TARGET")
                )
    return scripts


def all_scripts() -> list[Script]:
    return [s for path in WORKFLOWS for s in github_scripts(path)] + gitlab_scripts()


def workflow_command(workflow: str, step_name: str, *, target: str = "sandbox") -> list[str]:
    """The one boldrules command of a named GitHub workflow step, for ``target``."""
    path = GITHUB / ".github" / "workflows" / workflow
    for job in load_workflow(path)["jobs"].values():
        for step in job["steps"]:
            if step.get("name") == step_name and "run" in step:
                found = invocations(step["run"], substitutions={"matrix.target": target})
                assert len(found) == 1, found
                return found[0]
    raise AssertionError(f"{workflow} has no step named {step_name!r}")


# --------------------------------------------------------------------------------------------
# Reading the guides
# --------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```(\S*)\s*$")
#: Fences whose text is shell (a leading ``$ `` prompt is dropped), and those holding YAML.
_SHELL_FENCES = {"", "sh", "bash", "shell", "console"}
_YAML_FENCES = {"yaml", "yml"}
#: Where CI YAML holds shell: GitHub's ``run:``, GitLab's script lists.
_SHELL_KEYS = {"run", "script", "before_script", "after_script"}


def guide_snippets(path: Path) -> list[str]:
    """Shell text shown in a Markdown guide: shell fences, inline ``boldrules …`` code, and in
    YAML fences the ``run:``/``script:`` text and the command each pre-commit hook entry runs."""
    snippets: list[str] = []
    fence: tuple[str, list[str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        opening = _FENCE.match(line.strip())
        if fence is None and opening:
            fence = (opening.group(1), [])
        elif fence is not None and line.strip() == "```":
            language, lines = fence
            if language in _SHELL_FENCES:
                snippets.append("\n".join(re.sub(r"^\s*\$ ", "", text) for text in lines))
            elif language in _YAML_FENCES:
                snippets += _yaml_shell(yaml.safe_load(textwrap.dedent("\n".join(lines))))
            fence = None
        elif fence is not None:
            fence[1].append(line)
        else:
            snippets += [
                code for code in re.findall(r"`([^`]+)`", line) if code.startswith("boldrules ")
            ]
    return snippets


def _yaml_shell(data: Any) -> list[str]:
    """The shell text a piece of CI or pre-commit YAML runs."""
    hooks = {hook["id"]: hook for hook in _hooks()}
    found: list[str] = []
    if isinstance(data, dict):
        if data.get("id") in hooks:
            argv = shlex.split(hooks[data["id"]]["entry"]) + [str(a) for a in data.get("args", [])]
            found.append(shlex.join(argv))
        for key, value in data.items():
            if key in _SHELL_KEYS and isinstance(value, str):
                found.append(value)
            elif key in _SHELL_KEYS and isinstance(value, list):
                found.append("\n".join(map(str, value)))
            else:
                found += _yaml_shell(value)
    elif isinstance(data, list):
        for item in data:
            found += _yaml_shell(item)
    return found


# --------------------------------------------------------------------------------------------
# The command-line checker itself
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("boldrules validate", [["validate"]]),
        (
            "boldrules plan --target ${{ matrix.target }} --format markdown \\\n  --out plan.json > plan.md",
            [["plan", "--target", "shop", "--format", "markdown", "--out", "plan.json"]],
        ),
        (
            "code=0; boldrules apply plan.json --yes > apply.txt 2>&1 || code=$?",
            [["apply", "plan.json", "--yes"]],
        ),
        ("boldrules plan 2>&1 | tee plan.txt", [["plan"]]),
        ('boldrules validate --target "$BOLDRULES_TARGET"', [["validate", "--target", "shop"]]),
        ("pip install boldrules==0.1.0", []),
        ("echo 'boldrules plan --nope'  # boldrules apply --nope", []),
        ("boldrules validate && boldrules plan", [["validate"], ["plan"]]),
        ("if x; then boldrules plan --out ${{ env.X }}; fi", [["plan", "--out", EXPRESSION]]),
        (
            'echo "matrix=$(boldrules targets --format json)" >> "$GITHUB_OUTPUT"',
            [["targets", "--format", "json"]],
        ),
        ('case "$CODE" in\n  0|2) boldrules plan ;;\n  *) exit 1 ;;\nesac', [["plan"]]),
        (
            "boldrules plan --out 'my plan.json'  # boldrules apply",
            [["plan", "--out", "my plan.json"]],
        ),
        ('boldrules plan --target="$BOLDRULES_TARGET" <<< x', [["plan", "--target=shop"]]),
    ],
)
def test_command_lines_are_found_in_shell_text(script: str, expected: list[list[str]]) -> None:
    substitutions = {"matrix.target": "shop", "BOLDRULES_TARGET": "shop"}
    assert invocations(script, substitutions=substitutions) == expected


def test_a_script_bash_cannot_parse_fails_instead_of_hiding_its_commands() -> None:
    with pytest.raises(AssertionError, match="not a shell script bash can parse"):
        invocations("boldrules validate && (boldrules plan --nope")


def test_guides_show_shell_fences_inline_code_and_the_shell_inside_yaml(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(
        "Run `boldrules validate` first, then `echo boldrules`.\n"
        "```sh\n$ boldrules plan --out plan.json\n```\n"
        "```text\nboldrules nope\n```\n"
        "```yaml\n"
        "steps:\n  - run: boldrules apply plan.json --yes\n"
        "hooks:\n  - id: boldrules-validate\n    name: boldrules validate (ca)\n"
        "    args: [--target, shop-ca]\n"
        "```\n"
    )
    assert guide_snippets(guide) == [
        "boldrules validate",
        "boldrules plan --out plan.json",
        "boldrules apply plan.json --yes",
        "boldrules validate --target shop-ca",
    ]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["plna"], "`boldrules` has no command 'plna'"),
        (["plan", "--detailed-exit-code"], "`boldrules plan` has no option --detailed-exit-code"),
        (["apply", "--colour", "never"], "`boldrules apply` has no option --colour"),
        (
            ["plan", "--format", "html"],
            "`boldrules plan --format` takes one of ['text', 'markdown', 'json'], not 'html'",
        ),
        (["plan", "--out"], "`boldrules plan --out` needs a value"),
        (["apply", "--yes=1"], "`boldrules apply --yes` is a flag and takes no value"),
        (
            ["apply", "a.json", "b.json"],
            "`boldrules apply` takes 1 argument(s), given ['a.json', 'b.json']",
        ),
        (["sandbox"], "`boldrules sandbox` needs a command"),
        ([], "`boldrules` needs a command"),
    ],
)
def test_the_checker_reports_commands_that_do_not_exist(argv: list[str], problem: str) -> None:
    assert check_invocation(argv) == [problem]


@pytest.mark.parametrize(
    "argv",
    [
        ["-C", "shop", "-vv", "plan", "--target=x", "--only", "ruleset:*", "--detailed-exitcode"],
        ["-q", "apply", "plan.json", "-y", "--allow-delete", "--ledger", "l.jsonl"],
        ["validate", "-C", "examples/quickstart", "-t", "sandbox", "--format", "json"],
        ["sandbox", "serve", "--port", "9000", "--rate", "0"],
        ["--version"],
        ["plan", "--help"],
    ],
)
def test_the_checker_accepts_real_commands(argv: list[str]) -> None:
    assert check_invocation(argv) == []


# --------------------------------------------------------------------------------------------
# Every command the CI files and the guides show exists
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*WORKFLOWS, GITLAB_CI, HOOKS], ids=lambda p: p.name)
def test_ci_files_parse_as_yaml(path: Path) -> None:
    assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict | list)


def test_the_three_github_workflows_are_there() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "boldrules-apply.yml",
        "boldrules-drift.yml",
        "boldrules-plan.yml",
    ]


@pytest.mark.parametrize("script", all_scripts(), ids=lambda s: s.where)
def test_every_boldrules_command_in_ci_exists(script: Script) -> None:
    problems = [p for argv in script.invocations() for p in check_invocation(argv)]
    assert problems == [], f"{script.where}: {problems}"


def test_ci_files_use_boldrules_for_validate_lint_plan_and_apply() -> None:
    used = {argv[0] for script in all_scripts() for argv in script.invocations()}
    assert used == {"validate", "lint", "plan", "apply"}


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_boldrules_command_in_the_guides_exists(path: Path) -> None:
    found = [argv for text in guide_snippets(path) for argv in invocations(text)]
    problems = [p for argv in found if argv for p in check_invocation(argv)]
    assert problems == []
    assert found, f"{path} shows no boldrules command"


def test_every_target_a_workflow_runs_for_is_in_its_project() -> None:
    for project_dir, scripts in [
        (GITHUB, [s for p in WORKFLOWS for s in github_scripts(p)]),
        (GITLAB, gitlab_scripts()),
    ]:
        project = config.load_project(project_dir)
        targets = {t for s in scripts for t in s.targets}
        assert targets, project_dir
        assert targets <= set(project.targets), (project_dir, targets)


# --------------------------------------------------------------------------------------------
# What the GitHub workflows promise
# --------------------------------------------------------------------------------------------


def _steps(workflow: str) -> list[dict[str, Any]]:
    jobs = load_workflow(GITHUB / ".github" / "workflows" / workflow)["jobs"]
    assert len(jobs) == 1
    steps: list[dict[str, Any]] = next(iter(jobs.values()))["steps"]
    return steps


def _job(workflow: str) -> dict[str, Any]:
    job: dict[str, Any] = next(
        iter(load_workflow(GITHUB / ".github" / "workflows" / workflow)["jobs"].values())
    )
    return job


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_use_only_well_known_actions_pinned_to_a_major_version(path: Path) -> None:
    uses = [
        step["uses"]
        for job in load_workflow(path)["jobs"].values()
        for step in job["steps"]
        if "uses" in step
    ]
    assert uses
    for action in uses:
        name, _, version = action.partition("@")
        assert name in ALLOWED_ACTIONS, action
        assert re.fullmatch(r"v\d+", version), action


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_ask_for_least_privilege(path: Path) -> None:
    workflow = load_workflow(path)
    permissions = workflow["permissions"]
    assert permissions["contents"] == "read"
    writes = {scope for scope, level in permissions.items() if level == "write"}
    # security-events: the lint findings' upload to code scanning (SARIF), nothing else.
    assert writes <= {"pull-requests", "issues", "security-events"}
    assert "pull_request_target" not in workflow["on"]  # it would hand secrets to fork code


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_the_steps_that_call_the_shop_see_its_token(path: Path) -> None:
    """Not pip, not validate, not the comment script: the token sits on plan and apply only."""
    job = _job(path.name)
    assert "BOLD_API_TOKEN" not in job.get("env", {})
    holders = [s["name"] for s in job["steps"] if "BOLD_API_TOKEN" in s.get("env", {})]
    assert holders and set(holders) <= {"Plan", "Apply"}
    for step in job["steps"]:
        if "BOLD_API_TOKEN" not in step.get("env", {}):
            commands = invocations(step.get("run", ""))
            assert not [argv for argv in commands if argv[:1] in (["plan"], ["apply"])]
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False


def test_plan_runs_on_pull_requests_that_touch_the_manifests() -> None:
    workflow = load_workflow(GITHUB / ".github" / "workflows" / "boldrules-plan.yml")
    paths = workflow["on"]["pull_request"]["paths"]
    project = config.load_project(GITHUB)
    for folder in project.manifests:
        assert f"{folder.relative_to(GITHUB).as_posix()}/**" in paths
    assert "boldrules.yaml" in paths


def test_plan_workflow_validates_plans_comments_uploads_and_fails() -> None:
    steps = _steps("boldrules-plan.yml")
    names = [step.get("name", step.get("uses")) for step in steps]
    assert names.index("Validate") < names.index("Plan")
    plan = workflow_command("boldrules-plan.yml", "Plan")
    assert plan[:1] == ["plan"] and "--out" in plan
    assert plan[plan.index("--format") + 1] == "markdown"
    comment = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))
    assert "<!-- boldrules-plan target=${process.env.TARGET} -->" in comment["with"]["script"]
    assert "updateComment" in comment["with"]["script"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == plan[plan.index("--out") + 1]
    verdict = steps[-1]["run"]
    assert 'exit "$CODE"' in verdict and "4)" in verdict


def test_plan_workflow_never_plans_a_fork_with_a_token() -> None:
    job = _job("boldrules-plan.yml")
    assert "head.repo.full_name != github.repository" in job["env"]["FROM_FORK"]
    plan = next(s for s in job["steps"] if s.get("name") == "Plan")
    assert plan["if"] == "env.FROM_FORK != 'true'"
    assert "READ" in json.dumps(job["strategy"]["matrix"])


def test_apply_workflow_runs_one_at_a_time_on_merge_and_applies_the_merged_plan() -> None:
    workflow = load_workflow(GITHUB / ".github" / "workflows" / "boldrules-apply.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    job = _job("boldrules-apply.yml")
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "${{ matrix.target }}" in job["concurrency"]["group"]
    assert job["environment"] == "${{ matrix.target }}"
    for name in ("Plan", "Apply"):
        step = next(s for s in job["steps"] if s.get("name") == name)
        assert step["env"]["BOLD_API_TOKEN"] == "${{ secrets.BOLD_WRITE_TOKEN }}"
    plan = workflow_command("boldrules-apply.yml", "Plan")
    apply = workflow_command("boldrules-apply.yml", "Apply")
    saved = plan[plan.index("--out") + 1]
    assert apply[:2] == ["apply", saved]
    assert {"--yes", "--allow-delete", "--ledger"} <= set(apply)
    steps = job["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert apply[apply.index("--ledger") + 1] in upload["with"]["path"].split()
    issue = steps[-1]
    assert issue["if"] == "failure()" and "issues.create" in issue["with"]["script"]


def test_drift_workflow_runs_nightly_and_files_an_issue_on_exit_2() -> None:
    workflow = load_workflow(GITHUB / ".github" / "workflows" / "boldrules-drift.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    plan = workflow_command("boldrules-drift.yml", "Plan")
    assert "--detailed-exitcode" in plan
    assert plan[plan.index("--format") + 1] == "markdown"
    issue = _steps("boldrules-drift.yml")[-1]
    assert issue["env"]["DRIFT"] == "${{ steps.plan.outputs.exit_code == '2' }}"
    assert "issues.create" in issue["with"]["script"]


# --------------------------------------------------------------------------------------------
# What the GitLab pipeline promises
# --------------------------------------------------------------------------------------------


def test_gitlab_apply_holds_the_only_write_token_and_runs_one_at_a_time() -> None:
    jobs = gitlab_jobs()
    assert set(jobs) == {"validate", "plan", "apply", "drift"}
    assert jobs["apply"]["resource_group"] == "boldrules-apply-$BOLDRULES_TARGET"
    for name, job in jobs.items():
        token = job.get("variables", {}).get("BOLD_API_TOKEN")
        expected = "$BOLD_WRITE_TOKEN" if name == "apply" else "$BOLD_READ_TOKEN"
        assert token in (None, expected), name
    apply_rules = " ".join(rule["if"] for rule in jobs["apply"]["rules"])
    assert "merge_request_event" not in apply_rules
    assert "CI_DEFAULT_BRANCH" in apply_rules


def test_gitlab_apply_applies_the_plan_it_just_saved() -> None:
    script = "\n".join(gitlab_jobs()["apply"]["script"])
    found = invocations(script, substitutions={"BOLDRULES_TARGET": "sandbox"})
    assert [argv[0] for argv in found] == ["validate", "plan", "apply"]
    plan, apply = found[1], found[2]
    assert apply[:2] == ["apply", plan[plan.index("--out") + 1]]
    assert {"--yes", "--allow-delete", "--ledger"} <= set(apply)


def test_gitlab_drift_runs_on_schedules_only() -> None:
    drift = gitlab_jobs()["drift"]
    assert [rule["if"] for rule in drift["rules"]] == ['$CI_PIPELINE_SOURCE == "schedule"']
    assert "--detailed-exitcode" in " ".join(drift["script"])


# --------------------------------------------------------------------------------------------
# The example projects work as copied, and with production switched on
# --------------------------------------------------------------------------------------------


def _uncomment_production(text: str) -> str:
    lines = text.splitlines()
    start = lines.index("  # production:")
    out = lines[:start]
    for line in lines[start:]:
        if line.startswith("  # "):
            out.append("  " + line[4:])
        elif line.startswith("  #   "):
            out.append(line.replace("  #", "  ", 1))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("example", [GITHUB, GITLAB], ids=lambda p: p.name)
def test_uncommenting_production_gives_a_valid_target(example: Path, tmp_path: Path) -> None:
    shutil.copytree(example, tmp_path / "project")
    project_file = tmp_path / "project" / "boldrules.yaml"
    project_file.write_text(_uncomment_production(project_file.read_text(encoding="utf-8")))
    target = config.load_project(tmp_path / "project").target("production")
    assert target.token_env == "BOLD_API_TOKEN"
    assert target.api_url == "https://api.boldcommerce.com"
    result = CliRunner().invoke(
        cli.main, ["validate", "-C", str(tmp_path / "project"), "--target", "production"]
    )
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------------------------
# The pre-commit hook
# --------------------------------------------------------------------------------------------


def _hooks() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return hooks


def test_pre_commit_hook_declares_what_pre_commit_requires() -> None:
    (hook,) = _hooks()
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["id"] == "boldrules-validate"
    assert hook["language"] == "python"  # pre-commit installs this repository at the pinned rev
    assert hook["pass_filenames"] is False  # validate checks the whole project at once
    argv = shlex.split(hook["entry"]) + list(hook.get("args", []))
    assert argv[0] == "boldrules"
    assert check_invocation(argv[1:]) == []


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("boldrules.yaml", True),
        ("shop/boldrules.yaml", True),
        ("pricing/spring.yaml", True),
        ("pricing/tiers.yml", True),
        ("pricing/tiers.yaml.j2", True),
        ("README.md", False),
        ("reconciler/cli.py", False),
    ],
)
def test_pre_commit_hook_runs_when_pricing_files_change(path: str, runs: bool) -> None:
    (hook,) = _hooks()
    assert bool(re.search(hook["files"], path)) is runs


def test_pre_commit_hook_passes_a_valid_project_and_fails_a_broken_one(tmp_path: Path) -> None:
    (hook,) = _hooks()
    argv = shlex.split(hook["entry"])[1:] + list(hook.get("args", []))
    shutil.copytree(GITHUB, tmp_path / "project")
    project = tmp_path / "project"
    good = CliRunner().invoke(cli.main, ["-C", str(project), *argv])
    assert good.exit_code == 0, good.output
    rulesets = project / "pricing" / "rulesets.yaml"
    rulesets.write_text(rulesets.read_text(encoding="utf-8").replace("value: -20", "value: -150"))
    bad = CliRunner().invoke(cli.main, ["-C", str(project), *argv])
    assert bad.exit_code == 3  # pre-commit shows this output and blocks the commit
    assert "pricing/rulesets.yaml:" in bad.stdout
    assert "-150 is less than the minimum of -100" in bad.stdout
