"""bench/pricing_speed.py still runs (a tiny case; no figure is asserted, only its lines)."""

from __future__ import annotations

import pytest

from bench import pricing_speed


def test_the_pricing_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert pricing_speed.main(["--carts", "4", "--rulesets", "60", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "4 carts × 5 lines against 60 rulesets (1% changed), priced before and after: "
    )
    assert [line.split(" read + index")[0].strip() for line in lines[1:3]] == [
        "as a plan builds them",
        "both sides from scratch",
    ]
    assert lines[3].startswith("  the preview as plan does ")
    assert " other apps read from the listing, both sides built and 40 lines priced" in lines[3]
