"""Lint's positions kept in ``.boldrules/cache/``: a generated project (bench.lint_speed's
colliding shop, a template and discount codes beside it) gives the very same findings, to the
line and column, without the cache, with it cold and with it warm; and a file that changes is
located afresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bench import lint_speed
from reconciler import cli, manifest

AT = "2027-01-01T00:00:00Z"

#: A template (its lines map back through a loop) and codes, one expired, one shipping-only.
TEMPLATE = """\
{# Seasonal sales: one ruleset per tier. #}
rulesets:
{%- for tier in ["gold", "silver"] %}

  - external_id: {{ tier }}-season
    priority: 1
    product_selection: {type: PRODUCT_SEARCH, sku_ids: [SKU-1-0]}
    rules:
      - {external_id: r, type: DISCOUNT, stack_order: 1, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]}
{%- endfor %}
"""
CODES = """\
discount_codes:
  - codes: [OLD10]
    action: {type: PRICE_ADJUST_PERCENT, value: -10}
    product_selection: {type: PRODUCTS_ALL}
    expiry_date: 2026-05-01T00:00:00Z
  - codes: [SHIPFREE]
    action: {type: FREE_SHIPPING}
    product_selection: {type: PRODUCTS_ALL}
"""


@pytest.fixture(autouse=True)
def _own_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.delenv(manifest.CACHE_VARIABLE, raising=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    lint_speed.generate(root, rulesets=150, files=3, shape="collisions")
    (root / "pricing" / "season.yaml.j2").write_text(TEMPLATE)
    (root / "pricing" / "codes.yaml").write_text(CODES)
    return root


def _lint(root: Path, monkeypatch: pytest.MonkeyPatch, *, cache: bool = True) -> list[Any]:
    with monkeypatch.context() as patch:
        if not cache:
            patch.setenv(manifest.CACHE_VARIABLE, "off")
        result = CliRunner().invoke(
            cli.main, ["-C", str(root), "lint", "--format", "json", "--at", AT]
        )
    assert result.exit_code == 3, result.output  # stack-order-on-discount is an error
    found: list[Any] = json.loads(result.stdout)["findings"]
    return found


def _entries(root: Path) -> int:
    return len(list((root / ".boldrules" / "cache").glob("??/*")))


def test_findings_are_the_same_without_the_cache_cold_and_warm(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uncached = _lint(root, monkeypatch, cache=False)
    assert not (root / ".boldrules" / "cache").exists()
    cold = _lint(root, monkeypatch)
    kept = _entries(root)
    warm = _lint(root, monkeypatch)
    assert cold == uncached and warm == uncached
    # Every file read is kept, and beside it the positions of each file with a finding: the
    # warm run added nothing, it read them.
    assert kept == 6 + 5 and _entries(root) == kept
    ids = {f["id"] for f in uncached}
    assert {"never-wins", "overlap", "expired"} <= ids
    assert "stack-order-on-discount" in ids
    season = [f for f in uncached if f["file"] == "pricing/season.yaml.j2"]
    assert [(f["id"], f["line"], f["column"]) for f in season] == [
        ("stack-order-on-discount", 9, 42),
        ("stack-order-on-discount", 9, 42),
    ]


def test_a_changed_file_is_located_afresh(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _lint(root, monkeypatch)
    _lint(root, monkeypatch)  # warm: positions read from the cache
    path = root / "pricing" / "rulesets-01.yaml"
    path.write_text("# three\n# new\n# lines\n" + path.read_text())
    after = _lint(root, monkeypatch)
    moved = [
        {**f, "line": f["line"] + 3} if f["file"] == "pricing/rulesets-01.yaml" else f
        for f in before
    ]
    assert after == moved
    assert any(f["file"] == "pricing/rulesets-01.yaml" for f in before)
    assert after == _lint(root, monkeypatch, cache=False)
