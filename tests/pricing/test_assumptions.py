"""Every assumption is named where the evaluator relies on it (pricing-engine.md: [I] and §8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.pricing import assumptions

PACKAGE = Path(assumptions.__file__).parent
NAMES = [name for name in vars(assumptions) if name.startswith("ASSUME_")]


def test_there_are_assumptions() -> None:
    assert len(NAMES) >= 20


@pytest.mark.parametrize("name", NAMES)
def test_each_assumption_is_named_where_the_code_relies_on_it(name: str) -> None:
    users = [
        path.name
        for path in PACKAGE.glob("*.py")
        if path.name != "assumptions.py" and name in path.read_text("utf-8")
    ]
    assert users, f"{name} is not named anywhere in reconciler/pricing"
    assert getattr(assumptions, name) is True
