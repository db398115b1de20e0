"""A pull request is untrusted input: nothing it commits may leak the token or an outside file,
reach outside the project, or keep validate and plan from finishing (issue 12, items 1-3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler import cli, redact, templating

TOKEN = "tok-7f3a9c1e5b2d8f4a6c0e"
BOLD_TOKEN = "bold-9e8d7c6b5a4f3e2d1c0b"
SECRET_LINE = "outside-secret-line:x:0:0:do-not-print"

GOOD = """\
rulesets:
  - external_id: spring
    product_selection: {type: PRODUCTS_ALL}
    rules: []
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TOKEN", TOKEN)
    monkeypatch.setenv("BOLD_API_TOKEN", BOLD_TOKEN)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the project holding a token and a secret line, as /proc or /etc would."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "environ").write_text(f"FAKE_TOKEN={TOKEN}\nPATH=/usr/bin\n", encoding="utf-8")
    (folder / "passwd").write_text(f"{SECRET_LINE}\nother:x:1:1\n", encoding="utf-8")
    (folder / "x.yaml").write_text(GOOD.replace("spring", "outsider"), encoding="utf-8")
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pricing").mkdir(parents=True)
    (root / "boldrules.yaml").write_text("manifests: [pricing/]\n", encoding="utf-8")
    return root


def assert_nothing_leaked(result: Result) -> None:
    for text in (result.stdout, result.stderr):
        assert TOKEN not in text
        assert TOKEN[:12] not in text
        assert BOLD_TOKEN[:12] not in text
        assert SECRET_LINE not in text
        assert "outside-secret" not in text


LEAKING_TEMPLATE = """\
rulesets:
  - external_id: leak-1
    product_selection: {type: PRODUCTS_ALL}
    rules: []
    priority: {% set e %}{% include "pricing/_env.j2" %}{% endset %}{{ e[0:60] }}
"""


@pytest.mark.parametrize("command", [["validate"], ["plan"]])
def test_a_link_to_the_environment_is_refused_not_followed(
    project: Path, outside: Path, command: list[str]
) -> None:
    (project / "pricing" / "_env.j2").symlink_to("../../outside/environ")
    (project / "pricing" / "a.yaml.j2").write_text(LEAKING_TEMPLATE, encoding="utf-8")
    result = run("-C", str(project), *command)
    assert result.exit_code == 3
    lines = (result.stdout + result.stderr).splitlines()
    assert lines[0] == (
        "pricing/a.yaml.j2:5:1: template: cannot include 'pricing/_env.j2': it is a link to "
        "'../../outside/environ', outside the project folder: boldrules reads only files inside "
        "the folder holding boldrules.yaml; copy the file in instead"
    )
    assert_nothing_leaked(result)


def test_a_link_to_proc_self_environ_is_refused(project: Path) -> None:
    (project / "pricing" / "_env.j2").symlink_to("/proc/self/environ")
    (project / "pricing" / "a.yaml.j2").write_text(LEAKING_TEMPLATE, encoding="utf-8")
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0].startswith(
        "pricing/a.yaml.j2:5:1: template: cannot include 'pricing/_env.j2': it is a link to "
        "'/proc/self/environ', outside the project folder"
    )
    assert_nothing_leaked(result)


def test_a_manifest_linked_to_an_outside_file_is_a_located_error(
    project: Path, outside: Path
) -> None:
    (project / "pricing" / "shared.yaml").symlink_to("../../outside/passwd")
    (project / "pricing" / "etc.yaml").symlink_to("/etc/passwd")
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "pricing/etc.yaml:1:1: is a link to '/etc/passwd', outside the project folder: boldrules "
        "reads only files inside the folder holding boldrules.yaml; copy the file in instead",
        "pricing/shared.yaml:1:1: is a link to '../../outside/passwd', outside the project "
        "folder: boldrules reads only files inside the folder holding boldrules.yaml; copy the "
        "file in instead",
        "2 problems in 2 files",
    ]
    assert_nothing_leaked(result)
    assert "root:" not in result.stdout


def test_a_link_inside_the_project_is_followed(project: Path) -> None:
    (project / "shared").mkdir()
    (project / "shared" / "spring.yaml").write_text(GOOD, encoding="utf-8")
    (project / "shared" / "_part.j2").write_text("PRODUCTS_ALL", encoding="utf-8")
    (project / "pricing" / "spring.yaml").symlink_to(project / "shared" / "spring.yaml")
    (project / "pricing" / "_part.j2").symlink_to("../shared/_part.j2")
    (project / "pricing" / "b.yaml.j2").write_text(
        GOOD.replace("spring", "b").replace("PRODUCTS_ALL", '{% include "pricing/_part.j2" %}'),
        encoding="utf-8",
    )
    result = run("-C", str(project), "validate")
    assert (result.exit_code, result.stdout) == (
        0,
        "2 files valid (target sandbox): 2 rulesets\n",
    )


def test_git_files_are_not_read_even_inside_the_project(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text(
        f'[http]\n\textraheader = "AUTHORIZATION: basic {SECRET_LINE}"\n', encoding="utf-8"
    )
    (project / "pricing" / "a.yaml.j2").write_text(
        LEAKING_TEMPLATE.replace("pricing/_env.j2", ".git/config"), encoding="utf-8"
    )
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "pricing/a.yaml.j2:5:1: template: cannot include '.git/config': it is inside .git: "
        "boldrules does not read git's own files"
    )
    assert_nothing_leaked(result)


@pytest.mark.parametrize(
    ("entry", "column"),
    [("../outside/", 23), ("/", 23), ("/etc", 23)],
)
def test_manifest_paths_outside_the_project_are_project_file_errors(
    project: Path, outside: Path, entry: str, column: int
) -> None:
    (project / "pricing" / "a.yaml").write_text(GOOD, encoding="utf-8")
    (project / "boldrules.yaml").write_text(f"manifests: [pricing/, {entry}]\n", encoding="utf-8")
    for command in (["validate"], ["plan"]):
        result = run("-C", str(project), *command)
        assert result.exit_code == 3, result.output
        output = result.stdout + result.stderr
        assert output.splitlines()[0] == (
            f"boldrules.yaml:1:{column}: manifests[1]: '{entry}' is outside the project folder: "
            "boldrules reads only files inside the folder holding boldrules.yaml"
        )
        assert "outsider" not in output
        assert "internal error" not in output


def test_a_manifest_folder_linked_outside_is_refused(project: Path, outside: Path) -> None:
    (project / "pricing").rmdir()
    (project / "pricing").symlink_to("../outside")
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "boldrules.yaml:1:13: manifests[0]: 'pricing/' is a link to '../outside', outside the "
        "project folder: list only files and folders inside the project folder"
    )


def test_a_project_file_linked_outside_is_refused(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "linked"
    root.mkdir()
    (root / "boldrules.yaml").symlink_to("../outside/passwd")
    result = run("-C", str(root), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0].startswith(
        "boldrules.yaml:1:1: is a link to '../outside/passwd', outside the project folder"
    )
    assert_nothing_leaked(result)


# --- templates that would never finish, or fill the memory -------------------------------------

SLOW = "the template takes more than 2,000,000 steps (loop iterations, calls and filters): "


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            SLOW + "refused; make its loops smaller",
        ),
        (
            "{% for i in range(100000) recursive %}{{ loop(range(100000)) }}{% endfor %}",
            "calls nest too deep (a macro or recursive loop that never stops?)",
        ),
        (
            "{% set l = range(100000)|list %}{% for i in range(100000) %}"
            "{% if i in l %}{% endif %}{% endfor %}",
            SLOW + "refused; make its loops smaller",
        ),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            SLOW + "refused; make its loops smaller",
        ),
        (
            '{{ "x" * 1000000000 }}',
            "the * operator would build a value over 1,000,000 long: refused",
        ),
        ("{{ 9 ** 9 ** 9 }}", "the ** operator would build a number over 64 bits: refused"),
        (
            '{{ "x".ljust(1000000000) }}',
            "calling ljust is given 1000000000, over the limit of 1,000,000: refused",
        ),
        (
            '{{ "x"|center(1000000000) }}',
            "the center filter is given 1000000000, over the limit of 1,000,000: refused",
        ),
        (
            '{{ "%999999999d" % 1 }}',
            "the % operator: a width of 999999999 is over 1,000,000: refused",
        ),
        (
            '{{ "{:>999999999}".format(1) }}',
            "calling format: a width of 999999999 is over 1,000,000: refused",
        ),
        (
            '{% set s %}{% for i in range(100000) %}{{ "y" * 900000 }}{% endfor %}{% endset %}',
            "the template produces more than 20,000,000 characters: refused",
        ),
        ("{{ lipsum(1000000) }}", "'lipsum' is undefined (target 'sandbox' has vars: none)"),
        (
            '{{ ("\t" * 1000000).expandtabs(1000000) }}',
            "calling expandtabs is not allowed in a template",
        ),
        (
            '{% set big = "x" * 900000 %}{{ [big] * 1000 }}',
            "{{ … }} would print a value over 1,000,000 long: refused",
        ),
        (
            '{% set big = "x" * 900000 %}{{ "%s" % ([big] * 1000,) }}',
            "the % operator would print a value over 1,000,000 long: refused",
        ),
        (
            '{% set big = "x" * 900000 %}{{ ([big] * 1000) | map("string") | join }}',
            SLOW + "refused; make its loops smaller",
        ),
        (
            "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}"
            "{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}",
            "a value nests deeper than 100 levels: refused",
        ),
    ],
)
def test_a_runaway_template_is_stopped_with_a_located_error(
    project: Path, template: str, message: str
) -> None:
    (project / "pricing" / "big.yaml.j2").write_text(
        f"rulesets: []\n{template}\n", encoding="utf-8"
    )
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == f"pricing/big.yaml.j2:2:1: template: {message}"


def test_plan_stops_a_runaway_template_before_any_call(project: Path) -> None:
    (project / "pricing" / "big.yaml.j2").write_text(
        "rulesets: []\n"
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
        encoding="utf-8",
    )
    result = run("-C", str(project), "plan")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"pricing/big.yaml.j2:2:1: template: {SLOW}refused; make its loops smaller",
        "error: 1 problem in 1 file",
    ]
    assert not (project / ".boldrules").exists()


def test_the_budget_counts_the_steps_of_includes_too(project: Path) -> None:
    (project / "pricing" / "_loop.j2").write_text(
        "{% for j in range(100000) %}{% endfor %}", encoding="utf-8"
    )
    (project / "pricing" / "a.yaml.j2").write_text(
        'rulesets: []\n{% for i in range(100) %}{% include "pricing/_loop.j2" %}{% endfor %}\n',
        encoding="utf-8",
    )
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        f"pricing/_loop.j2:1:1: template: {SLOW}refused; make its loops smaller"
    )


def test_an_ordinary_template_is_well_within_the_budget(project: Path) -> None:
    (project / "pricing" / "many.yaml.j2").write_text(
        "rulesets:\n"
        "{% for i in range(300) %}\n"
        "  - external_id: r-{{ i }}\n"
        "    public_name: {{ ('Sale ' ~ i) | upper | tojson }}\n"
        "    product_selection: {type: PRODUCTS_ALL}\n"
        "    rules: []\n"
        "{% endfor %}\n",
        encoding="utf-8",
    )
    result = run("-C", str(project), "validate")
    assert (result.exit_code, result.stdout) == (
        0,
        "1 file valid (target sandbox): 300 rulesets\n",
    )


def test_the_limits_are_the_documented_ones() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "manifest-format.md").read_text("utf-8")
    for figure in (templating.MAX_STEPS, templating.MAX_CHARS, templating.MAX_VALUE):
        assert f"{figure:,}" in docs


# --- what messages may quote ------------------------------------------------------------------


def test_a_token_written_into_a_field_is_blanked_in_every_message(project: Path) -> None:
    (project / "pricing" / "a.yaml").write_text(
        GOOD.replace("rules: []", f"rules: []\n    priority: 'FAKE_TOKEN={TOKEN}'"),
        encoding="utf-8",
    )
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "pricing/a.yaml:5:15: ruleset spring > priority: expected a whole number, "
        "got 'FAKE_TOKEN=***'"
    )
    result = run("-C", str(project), "validate", "--format", "json")
    assert TOKEN[:8] not in result.stdout
    result = run("-C", str(project), "plan")
    assert result.exit_code == 3
    assert_nothing_leaked(result)


def test_a_long_value_is_quoted_short_and_escaped(project: Path) -> None:
    value = "\\e[31mred\\nsecond line " + "x" * 100
    (project / "pricing" / "a.yaml").write_text(
        GOOD.replace("rules: []", f'rules: []\n    priority: "{value}"'), encoding="utf-8"
    )
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "pricing/a.yaml:5:15: ruleset spring > priority: expected a whole number, "
        "got '\\x1b[31mred\\nsecond line xxxxxxxxxxxxxxxxxxx…'"
    )
    assert "\x1b" not in result.stdout


def test_the_scrubber_blanks_a_token_and_any_start_of_one() -> None:
    secrets = [TOKEN]
    assert redact.scrub(f"a {TOKEN} b", secrets=secrets) == "a *** b"
    assert redact.scrub(f"cut: {TOKEN[:15]}…", secrets=secrets) == "cut: ***…"
    assert redact.scrub(f"short: {TOKEN[:7]}", secrets=secrets) == f"short: {TOKEN[:7]}"


def test_a_word_that_merely_begins_like_a_token_is_left_readable() -> None:
    # A token of a well-known shape shares its start with ordinary words of a message: those
    # words run on past the shared part, where a cut quotation stops.
    secrets = ["sandbox-local-token", "other-app-token-22"]
    text = "shop sandbox-shop: re-run with --create-alongside-other-apps"
    assert redact.scrub(text, secrets=secrets) == text
    assert redact.scrub("got 'other-app-tok…'", secrets=secrets) == "got '***…'"
    assert redact.scrub("got 'sandbox-local'", secrets=secrets) == "got '***'"


def test_the_scrubber_knows_which_variables_hold_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", "hunter2-is-long")
    monkeypatch.setenv("MY_PROD_CREDENTIAL", "not-a-secret-name")
    monkeypatch.setenv("SOME_KEY", "short")
    redact.watch(["MY_PROD_CREDENTIAL"])
    values = redact.secret_values()
    assert {TOKEN, BOLD_TOKEN, "hunter2-is-long", "not-a-secret-name"} <= set(values)
    assert "short" not in values
    assert os.environ["PATH"] not in values


def test_a_folder_link_is_followed_inside_the_project_and_refused_outside(
    project: Path, outside: Path
) -> None:
    (project / "shared").mkdir()
    (project / "shared" / "spring.yaml").write_text(GOOD, encoding="utf-8")
    (project / "pricing" / "shared").symlink_to("../shared")
    (project / "pricing" / "loop").symlink_to(".")
    (project / "pricing" / "away").symlink_to("../../outside")
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "pricing/away:1:1: is a link to '../../outside', outside the project folder: boldrules "
        "reads only files inside the folder holding boldrules.yaml; copy the file in instead",
        "1 problem in 1 file",
    ]
    (project / "pricing" / "away").unlink()
    result = run("-C", str(project), "validate")
    assert (result.exit_code, result.stdout) == (0, "1 file valid (target sandbox): 1 ruleset\n")


def test_a_plan_never_prints_a_secret_of_the_environment(project: Path) -> None:
    (project / "pricing" / "a.yaml").write_text(
        GOOD.replace("rules: []", f"rules: []\n    public_name: 'FAKE_TOKEN={TOKEN}'"),
        encoding="utf-8",
    )
    for output in ("text", "markdown", "json"):
        result = run("-C", str(project), "plan", "--format", output)
        assert result.exit_code == 0, result.output
        assert_nothing_leaked(result)
    as_json = run("-C", str(project), "plan", "--format", "json").stdout
    assert '"public_name": "FAKE_TOKEN=***"' in as_json


def test_the_link_that_leads_out_is_the_one_named(project: Path, outside: Path) -> None:
    (project / "shared").mkdir()
    (project / "shared" / "x.yaml").symlink_to("../../outside/passwd")
    (project / "pricing" / "deep").symlink_to("../shared")
    result = run("-C", str(project), "validate")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "pricing/deep/x.yaml:1:1: is a link to '../../outside/passwd', outside the project "
        "folder: boldrules reads only files inside the folder holding boldrules.yaml; copy the "
        "file in instead"
    )
    assert_nothing_leaked(result)


def test_an_error_about_a_path_holding_a_secret_blanks_it(project: Path, tmp_path: Path) -> None:
    (project / "pricing" / "a.yaml").write_text(GOOD, encoding="utf-8")
    out = tmp_path / "missing" / TOKEN / "plan.json"
    result = run("-C", str(project), "plan", "--out", str(out))
    assert result.exit_code != 0
    assert "***" in result.stderr
    assert_nothing_leaked(result)
