"""Changes → the fewest API calls, each knowing what it must wait for; running one call.

Each kind maps its own changes to calls (``KindSpec.calls`` in ``reconciler/kinds/``, whose
modules hold their rows of the call mapping; the whole table is in docs/apply.md). This module
puts them together in phases (``kinds.phase``: dependency order), makes each call wait for the
changed objects it refers to and each delete for the objects that referred to it, and runs one
call so that a write whose outcome is unknown (``AmbiguousWrite``) is read back and finished,
never repeated blindly. It does not run the plan (``apply.py`` does) and decides nothing about
what should change (the plan's job).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler import errors, kinds, model, state
from reconciler.client import BoldClient

#: One API operation for one change (``kinds/shop.py``).
Call = kinds.Call


def calls_for(changes: Sequence[model.Change]) -> list[Call]:
    """Every call the changes need, each knowing the calls it must wait for.

    An object waits for the changed objects it refers to (a ruleset for its order conditions);
    a referred-to object is deleted only after every object that referred to it has moved on.
    """
    calls: list[Call] = []
    for spec in kinds.in_dependency_order:
        calls.extend(spec.calls([c for c in changes if c.key.kind is spec.kind]))
    changed = {c.key for c in changes}
    for call in calls:
        change = call.change
        if not isinstance(change, model.Delete):
            call.after |= kinds.references(change.key.kind, change.desired.body) & changed
    for call in calls:
        change = call.change
        if isinstance(change, model.Delete):
            call.after |= {
                c.key
                for c in changes
                if not isinstance(c, model.Create)
                and change.key in kinds.references(c.key.kind, c.live.body)
            }
    calls.sort(key=lambda c: (c.phase, c.change.key.sort_key))
    return calls


# --- ambiguous writes: read back, finish, never duplicate ------------------------------------


#: How many times a whole call whose outcome stayed unknown is read back and run again.
SETTLE_RUNS = 3


def run_settled(client: BoldClient, call: Call) -> None:
    """Run one call; whenever a write's outcome is unknown, read its objects back first.

    Any write can end in ``AmbiguousWrite``: a POST that got no answer, or any write answered
    2xx with a body that cannot be read. The objects the call changes are then read back by
    identity: already as the plan wants them (or gone, for a delete) — done; otherwise the call
    runs again, its writes being idempotent restatements (PUT, PATCH by external id, DELETE) or
    creates that settle themselves (``_settle`` narrows them to what is still missing). This
    covers every call of the mapping without each knowing how to read itself back.
    """
    for _ in range(SETTLE_RUNS - 1):
        try:
            call.run(client)
            return
        except errors.AmbiguousWrite:
            client.annotate("outcome unknown: read back")
            if _converged(client, call):
                return
    call.run(client)


def _converged(client: BoldClient, call: Call) -> bool:
    """Whether every object ``call`` changes now reads as its change wants it."""
    change = call.change
    want = None if isinstance(change, model.Delete) else change.desired.fingerprint()
    for key in call.keys:
        now = state.read_one(client, key)
        if (now.fingerprint() if now is not None else None) != want:
            return False
    return True
