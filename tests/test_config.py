"""The project file: defaults, targets, and the located lines a broken one gets."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from reconciler import config, errors
from reconciler.targets import Target


def write_project(folder: Path, text: str, name: str = "boldrules.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(errors.ProjectFileInvalid) as caught:
        config.load_project(folder)
    assert caught.value.exit_code == 3
    return [str(p) for p in caught.value.problems]


def test_full_project_file_is_read(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        """\
        manifests: [pricing/, extra/one.yaml]
        default_target: production
        targets:
          sandbox:
            sandbox: .boldrules/sandbox.sqlite
          production:
            api_url: https://api.boldcommerce.com/
            shop_identifier: zp3oafdor9
            token_env: BOLD_API_TOKEN
            api_version: "2023-01-01"
            vars: {currency: CAD}
            rate: 5
            burst: 3
            concurrency: 2
            timeout: 12
        safety: {max_deletes: 2, max_delete_percent: 10, max_update_percent: 20,
                 protected: ["ruleset:vip-*"]}
        ownership: {order_conditions: [ZONE], discount_code_prefixes: [SPRING]}
        routes: {list_rulesets: /x/rulesets}
        """,
    )
    project = config.load_project(tmp_path)
    root = tmp_path.resolve()
    assert project.root == root
    assert project.manifests == (root / "pricing", root / "extra" / "one.yaml")
    assert project.default_target == "production"
    production = project.target(None)
    assert production == Target(
        name="production",
        sandbox=None,
        api_url="https://api.boldcommerce.com",
        shop_identifier="zp3oafdor9",
        token_env="BOLD_API_TOKEN",
        api_version="2023-01-01",
        vars={"currency": "CAD"},
        rate=5.0,
        burst=3,
        concurrency=2,
        timeout=12.0,
    )
    assert project.target("sandbox").sandbox == root / ".boldrules" / "sandbox.sqlite"
    assert project.safety == config.Safety(2, 10.0, 20.0, ("ruleset:vip-*",))
    assert project.ownership == config.Ownership(("ZONE",), ("SPRING",))
    assert project.routes == {"list_rulesets": "/x/rulesets"}


def test_empty_project_file_gets_the_embedded_sandbox(tmp_path: Path) -> None:
    write_project(tmp_path, "# nothing yet\n")
    project = config.load_project(tmp_path)
    assert project.default_target == "sandbox"
    assert list(project.targets) == ["sandbox"]
    assert project.target(None).sandbox == tmp_path.resolve() / ".boldrules" / "sandbox.sqlite"
    assert project.manifests == (tmp_path.resolve() / "pricing",)
    assert project.safety == config.Safety()


def test_yml_name_is_found(tmp_path: Path) -> None:
    write_project(tmp_path, "manifests: [rules/]\n", name="boldrules.yml")
    assert config.load_project(tmp_path).manifests == (tmp_path.resolve() / "rules",)


def test_a_single_target_is_the_default(tmp_path: Path) -> None:
    write_project(tmp_path, "targets: {shop: {api_url: 'http://127.0.0.1:8765', token_env: T}}\n")
    assert config.load_project(tmp_path).default_target == "shop"


def test_missing_project_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        config.load_project(tmp_path)
    assert str(caught.value) == (
        f"no boldrules.yaml in {tmp_path}: run in the project's folder or pass -C DIR"
    )
    assert caught.value.exit_code == 1


def test_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match=r"no such folder .*pass -C"):
        config.load_project(tmp_path / "nope")


def test_two_project_files_are_refused(tmp_path: Path) -> None:
    write_project(tmp_path, "{}\n")
    write_project(tmp_path, "{}\n", name="boldrules.yml")
    with pytest.raises(errors.ConfigError, match=r"both boldrules\.yaml and boldrules\.yml"):
        config.load_project(tmp_path)


def test_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        """\
        targets:
          sandbox: {sandbox: a.sqlite}
          production: {api_url: https://api.boldcommerce.com, token_env: BOLD_API_TOKEN}
        """,
    )
    project = config.load_project(tmp_path)
    with pytest.raises(errors.ConfigError) as caught:
        project.target("prod")
    assert str(caught.value) == "no target 'prod' in boldrules.yaml: use one of production, sandbox"


BROKEN = [
    pytest.param(
        "manifests: pricing/\n",
        ["boldrules.yaml:1:12: manifests: expected a list, got 'pricing/'"],
        id="manifests-not-a-list",
    ),
    pytest.param(
        "manifest: [pricing/]\n",
        ["boldrules.yaml:1:1: unknown field 'manifest' (did you mean 'manifests'?)"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        "targets:\n  prod: {api_url: https://api.boldcommerce.com}\n",
        [
            "boldrules.yaml:2:9: targets.prod: missing required field 'token_env' "
            "(needed with 'api_url')"
        ],
        id="api-url-without-token-env",
    ),
    pytest.param(
        "targets:\n  both: {sandbox: a.sqlite, api_url: 'http://127.0.0.1:1', token_env: T}\n",
        ["boldrules.yaml:2:9: targets.both: a target has either 'sandbox' or 'api_url', not both"],
        id="sandbox-and-api-url",
    ),
    pytest.param(
        "targets:\n  nothing: {vars: {a: 1}}\n",
        [
            "boldrules.yaml:2:12: targets.nothing: a target needs either 'sandbox: FILE' "
            "(the embedded sandbox) or 'api_url: URL' with 'token_env'"
        ],
        id="neither-sandbox-nor-api-url",
    ),
    pytest.param(
        "targets:\n  p: {api_url: 'ftp://x', token_env: 1A, api_version: 2022/10/14}\n",
        [
            "boldrules.yaml:2:16: targets.p.api_url: 'ftp://x' must be an http:// or https:// URL",
            "boldrules.yaml:2:38: targets.p.token_env: '1A' must be an environment variable name "
            "such as BOLD_API_TOKEN",
            "boldrules.yaml:2:55: targets.p.api_version: '2022/10/14' must be a date written "
            "YYYY-MM-DD",
        ],
        id="bad-target-fields",
    ),
    pytest.param(
        "targets:\n  s: {sandbox: a, tiemout: 3, concurrency: 0, rate: 0}\n",
        [
            "boldrules.yaml:2:19: targets.s: unknown field 'tiemout' (did you mean 'timeout'?)",
            "boldrules.yaml:2:44: targets.s.concurrency: 0 is less than the minimum of 1",
            "boldrules.yaml:2:53: targets.s.rate: must be more than 0, got 0",
        ],
        id="bad-pacing",
    ),
    pytest.param(
        "default_target: prod\n",
        ["boldrules.yaml:1:17: default_target: 'prod' is not one of the targets (sandbox)"],
        id="default-target-unknown",
    ),
    pytest.param(
        "targets:\n  a: {sandbox: a}\n  b: {sandbox: b}\n",
        ["boldrules.yaml:1:1: several targets (a, b): set default_target to one"],
        id="default-target-needed",
    ),
    pytest.param(
        "safety: {max_deletes: -1, max_delete_percent: 130, protected: ['vip-*']}\n",
        [
            "boldrules.yaml:1:23: safety.max_deletes: -1 is less than the minimum of 0",
            "boldrules.yaml:1:47: safety.max_delete_percent: 130 is greater than the maximum "
            "of 100",
            "boldrules.yaml:1:64: safety.protected[0]: 'vip-*' must start with ruleset:, "
            "order_condition:, discount_code: or *:",
        ],
        id="bad-safety",
    ),
    pytest.param(
        "ownership: {order_condition: [ZONE]}\n",
        [
            "boldrules.yaml:1:13: ownership: unknown field 'order_condition' "
            "(did you mean 'order_conditions'?)"
        ],
        id="bad-ownership",
    ),
    pytest.param(
        "routes:\n  list_rulesetz: /x\n  get_ruleset: /r/{rule_id}\n"
        "  create_ruleset: FETCH /r\n  patch_ruleset: r/{external_id}\n"
        "  delete_ruleset: /r/{external_id\n  list_rules: GET /a /b\n",
        [
            "boldrules.yaml:2:3: routes: 'list_rulesetz' is not a route of the API; did you mean "
            "'list_rulesets'?",
            "boldrules.yaml:3:16: routes.get_ruleset: unknown placeholder {rule_id} in "
            "'/r/{rule_id}' (route get_ruleset can fill: external_id, shop_identifier)",
            "boldrules.yaml:4:19: routes.create_ruleset: 'FETCH' is not an HTTP method: use one "
            "of GET, POST, PUT, PATCH, DELETE",
            "boldrules.yaml:5:18: routes.patch_ruleset: 'r/{external_id}' must start with '/'",
            "boldrules.yaml:6:19: routes.delete_ruleset: '/r/{external_id' has unbalanced braces",
            "boldrules.yaml:7:15: routes.list_rules: 'GET /a /b' is not a path template or "
            "'METHOD /path'",
        ],
        id="bad-routes",
    ),
    pytest.param(
        "targets:\n  p:\n    api_url: https://api.boldcommerce.com\n    token_env: T\n"
        "    api_version: 2099-01-01\n  s: {sandbox: s, api_version: '2023-02-30'}\n"
        "default_target: p\n",
        [
            "boldrules.yaml:5:18: targets.p.api_version: 2099-01-01 is in the future (today is "
            f"{dt.datetime.now(dt.UTC).date().isoformat()} UTC); pin a released date, or set "
            "allow_future_api_version: true on the target if intended",
            "boldrules.yaml:6:32: targets.s.api_version: '2023-02-30' is not a real calendar date",
        ],
        id="bad-api-version",
    ),
    pytest.param(
        "targets:\n"
        "  a: {api_url: 'http://127.0.0.1:99999', token_env: T}\n"
        "  b: {api_url: 'http://[::1', token_env: T}\n"
        "  c: {api_url: 'https://api.boldcommerce.com?shop=1', token_env: T}\n"
        "  d: {api_url: 'http://:80', token_env: T}\n"
        "  e: {api_url: 'https://me:s3cret@api.boldcommerce.com', token_env: T}\n"
        "  f: {api_url: 'http://[::1]:8765/', token_env: T}\n"
        "default_target: f\n",
        [
            "boldrules.yaml:2:16: targets.a.api_url: 'http://127.0.0.1:99999' is not a usable "
            "URL (Port out of range 0-65535)",
            "boldrules.yaml:3:16: targets.b.api_url: 'http://[::1' is not a usable URL (Invalid "
            "IPv6 URL)",
            "boldrules.yaml:4:16: targets.c.api_url: 'https://api.boldcommerce.com?shop=1' has a "
            "query or fragment: give the base URL only (boldrules adds the paths)",
            "boldrules.yaml:5:16: targets.d.api_url: 'http://:80' names no host",
            "boldrules.yaml:6:16: targets.e.api_url: the URL holds credentials: remove them, and "
            "put the token in the environment variable token_env names",
        ],
        id="bad-api-url",
    ),
    pytest.param(
        "safety: {}\nsafety: {}\n",
        ["boldrules.yaml:2:1: 'safety' is given twice (first at line 1)"],
        id="duplicate-key",
    ),
    pytest.param(
        "- pricing/\n",
        ["boldrules.yaml:1:1: the top level must be a mapping, not a list"],
        id="top-level-list",
    ),
    pytest.param(
        "targets: {a: [}\n",
        [
            "boldrules.yaml:1:15: invalid YAML: while parsing a flow node: "
            "expected the node content, but found '}'"
        ],
        id="invalid-yaml",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_project_file_gets_located_lines(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    write_project(tmp_path, text)
    assert problems_of(tmp_path) == expected


def test_project_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "boldrules.yaml").write_bytes(b"manifests: [caf\xe9/]\n")
    assert problems_of(tmp_path) == [
        "boldrules.yaml:1:16: not UTF-8 text (byte 0xe9): save the file as UTF-8"
    ]


def test_a_future_api_version_is_valid_with_the_opt_in(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        """\
        targets:
          p: {sandbox: s, api_version: "2099-01-01", allow_future_api_version: true}
        routes: {get_ruleset: "PATCH /r/{external_id}/{shop_identifier}"}
        """,
    )
    project = config.load_project(tmp_path)
    assert project.target("p").api_version == "2099-01-01"
    assert project.routes == {"get_ruleset": "PATCH /r/{external_id}/{shop_identifier}"}


def test_an_embedded_sandbox_file_that_cannot_be_a_store_is_located(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "a.yaml").write_text("rulesets: []\n")
    write_project(
        tmp_path,
        """\
        targets:
          folder: {sandbox: pricing}
          under-a-file: {sandbox: pricing/a.yaml/s.sqlite}
          not-sqlite: {sandbox: pricing/a.yaml}
          fine: {sandbox: .boldrules/new.sqlite}
        default_target: fine
        """,
    )
    assert problems_of(tmp_path) == [
        "boldrules.yaml:2:21: targets.folder.sandbox: 'pricing' is a folder: name the SQLite "
        "file, e.g. .boldrules/sandbox.sqlite",
        "boldrules.yaml:3:27: targets.under-a-file.sandbox: 'pricing/a.yaml/s.sqlite' cannot be "
        "made: pricing/a.yaml is a file",
        "boldrules.yaml:4:25: targets.not-sqlite.sandbox: 'pricing/a.yaml' is not a sandbox "
        "store (a SQLite file): name a new file, e.g. .boldrules/sandbox.sqlite",
    ]
