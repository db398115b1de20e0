"""The benchmarks still run: the shop generator, one tiny unpaced run, and the README table.

Not a benchmark: it runs every job of ``python -m bench`` on a 20-ruleset shop against a
sandbox served on 127.0.0.1 in this process (jobs in process too), so the bench cannot rot
between the occasional real runs. Figures are not asserted, only their presence and the
outcomes a user of the bench relies on: applies converge, the baseline misses the deletion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import cases, data, report, run
from bench.server import BENCH_APP, BENCH_TOKEN, SHOP
from reconciler.sandbox import Sandbox, serve

pytestmark = pytest.mark.socket

ROW_FIELDS = {
    "case",
    "size",
    "setting",
    "wall_s",
    "floor_s",
    "ratio",
    "cpu_s",
    "peak_rss_mb",
    "calls_total",
    "calls",
    "rate_limited",
    "server_429",
    "retries",
    "changes",
    "converged",
    "repeats",
    "wall_noise_s",
}


def test_generated_shop_has_the_sizes_issue_8_asks_for() -> None:
    shop = data.base_shop(20)
    assert len(shop.rulesets) == 20
    assert all(len(r["rules"]) == data.RULES_PER_RULESET for r in shop.rulesets)
    assert len(shop.order_conditions) == 50
    assert len({c["name"] for c in shop.order_conditions}) == 5
    assert len(shop.discount_codes) == 500
    configs = {json.dumps({**c, "code": ""}, sort_keys=True) for c in shop.discount_codes}
    assert len(configs) == data.CODE_CONFIGS


def test_the_one_percent_variant_updates_creates_and_deletes() -> None:
    changed, changes = data.changed_shop(1_000)
    assert changes.as_json() == {"updated": 6, "created": 2, "deleted": 2}
    assert len(changed.rulesets) == 1_000
    assert not set(changes.deleted) & changed.ruleset_ids
    assert set(changes.created) <= changed.ruleset_ids
    # Deterministic: another process building the same size gets the same shop.
    assert data.changed_shop(1_000) == (changed, changes)


@pytest.fixture
def served() -> Iterator[str]:
    sandbox = Sandbox(shop_identifier=SHOP)
    sandbox.add_token(BENCH_TOKEN, app=BENCH_APP)
    with serve(sandbox, port=0, threads=8) as server:
        yield server.url
    sandbox.close()


def test_a_tiny_unpaced_run_measures_every_case_and_converges(served: str, tmp_path: Path) -> None:
    rows = run.run_setting(served, "unpaced", [20], dumps={}, repeats=2, runner=cases.run_job)
    by_case = {row["case"]: row for row in rows}
    assert sorted(by_case) == sorted(report.CASE_ORDER)
    for row in rows:
        assert row.keys() >= ROW_FIELDS, row["case"]
        assert row["size"] == 20 and row["repeats"] == 2
    assert by_case["plan_noop"]["changes"] == {"create": 0, "update": 0, "delete": 0}
    assert by_case["plan_1pct"]["changes"] == {"create": 1, "update": 1, "delete": 1}
    assert by_case["plan_noop"]["cpu_after_fetch_s"] is not None
    # The read is measured apart: it is part of the plan's CPU.
    assert 0 < by_case["plan_noop"]["fetch_cpu_s"] <= by_case["plan_noop"]["cpu_s"]
    # Plan after apply is empty.
    assert by_case["apply_1pct"]["converged"] is True
    assert by_case["apply_all_new"]["converged"] is True
    assert by_case["apply_1pct"]["calls_total"] == 3
    baseline = by_case["baseline_1pct"]
    assert baseline["calls_total"] == 2 * 20
    assert baseline["deletions_missed"] == 1
    assert baseline["converged"] is False

    document: dict[str, Any] = {
        "date": "2026-01-01",
        "started_at": "2026-01-01T00:00:00Z",
        "duration_s": 1.0,
        "quick": True,
        "sizes": [20],
        "setting": cases.SETTINGS["unpaced"].as_json(),
        "machine": run.machine(),
        "rows": rows,
    }
    (tmp_path / "2026-01-01-unpaced.json").write_text(json.dumps(document), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Benchmarks\n\n{report.START}\nstale figures\n{report.END}\n", encoding="utf-8"
    )
    report.update_readme(readme, tmp_path)
    text = readme.read_text(encoding="utf-8")
    assert "stale figures" not in text
    assert "| 20 | apply that 1% |" in text
    assert "missed 1 deletions" in text
    assert "| not run |" in text  # the 1,000 and 10,000 targets were not measured here


def test_the_read_of_10000_rulesets_is_judged_on_its_own_cpu() -> None:
    def verdict(row: dict[str, Any]) -> report.Verdict:
        document = {"setting": {"name": "unpaced"}, "rows": [row]}
        (found,) = [v for v in report.judge([document]) if v.target.startswith("Fetch and")]
        return found

    row = {"case": "plan_noop", "size": 10_000, "cpu_s": 1.6}
    assert verdict({**row, "fetch_cpu_s": 1.21}).status == "met"
    assert verdict({**row, "fetch_cpu_s": 1.21}).measured == "1.21 s"
    assert verdict({**row, "fetch_cpu_s": 1.52}).status == "MISSED"
    assert verdict(row).status == "not run"  # a row from before the read was measured apart


def test_a_second_run_on_the_same_day_adds_its_sizes_to_the_same_file() -> None:
    def document(sizes: list[int], wall: float, quick: bool) -> dict[str, Any]:
        rows = [{"case": "plan_noop", "size": s, "wall_s": wall} for s in sizes]
        return {
            "format": 1,
            "started_at": f"2026-01-01T0{len(sizes)}:00:00Z",
            "duration_s": 60.0,
            "quick": quick,
            "sizes": sizes,
            "rows": rows,
        }

    merged = run.merge(document([100, 1_000], 1.0, True), document([1_000, 10_000], 2.0, False))
    assert merged["sizes"] == [100, 1_000, 10_000]
    assert [(r["size"], r["wall_s"]) for r in merged["rows"]] == [
        (100, 1.0),
        (1_000, 2.0),
        (10_000, 2.0),
    ]
    assert merged["quick"] is False
    assert merged["duration_s"] == 120.0
    assert len(merged["runs"]) == 2
