"""What the kind tests share: one change of a kind run through that kind's own calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler import kinds, model


def run_changes(shop: Any, changes: Sequence[model.Change]) -> list[str]:
    """Run the changes' calls (as the kinds map them, in phase order); the operations sent."""
    sent: list[str] = []
    for kind in model.Kind:
        of_kind = [c for c in changes if c.key.kind is kind]
        calls = kinds.by_name[kind].calls(of_kind) if of_kind else []
        for call in sorted(calls, key=lambda c: c.phase):
            call.run(shop)
            sent.append(f"{call.label()}: {call.operation}")
    return sent
