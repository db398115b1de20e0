"""The end-to-end benchmark still runs: a tiny project on disk, planned by `boldrules` processes
against served sandboxes, one shop and two with --all-targets. Not a benchmark: no figure is
asserted, only that every case ran and said so."""

from __future__ import annotations

import json

import pytest

from bench import end_to_end

pytestmark = pytest.mark.socket


def test_tiny_end_to_end_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        end_to_end.main(["--sizes", "20", "--shops", "2", "--shop-size", "10", "--repeats", "1"])
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    one, many = document["results"]
    assert one["case"] == "plan, nothing to do" and one["rulesets"] == 20
    assert one["calls"] > 0 and one["wall_s"] > 0 and one["peak_rss_mb"] > 0
    assert many["case"] == "plan --all-targets, 2 shops x 10 rulesets, each 10/s"
    assert many["all_targets_wall_s"] > 0
