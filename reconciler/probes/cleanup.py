"""The probes deleted: this run's, whatever ended it (``cleanup``, from the runner's
``finally``), and those a killed run left, once an hour old (``leftovers``, first: each kind's
``LEFTOVER`` says how its probes are named and deleted, its listing found through
``reconciler.kinds``' table).
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler import errors, kinds
from reconciler.doctor import probenames
from reconciler.doctor.results import FAIL, OK, Check
from reconciler.probes import discount_code, order_condition, ruleset
from reconciler.probes.session import Session

#: Each kind's probes a killed run may have left, in the order they are deleted and named.
LEFTOVERS = (ruleset.LEFTOVER, order_condition.LEFTOVER, discount_code.LEFTOVER)


def leftovers(session: Session) -> None:
    """Delete the probes a killed run left (their names dated over an hour ago)."""
    bold, now = session.bold, session.now()
    old: list[str] = []
    for leftover in LEFTOVERS:
        spec = kinds.by_name[leftover.kind]
        for listed in session.seen.get(spec.list_name, []):
            name = str(listed.get(leftover.name_field) or "")
            age = probenames.probe_age(name, now)
            if age is not None and age > probenames.LEFTOVER_AGE and leftover.delete(bold, listed):
                old.append(f"{spec.label} {name}")
    if old:
        session.add(
            Check(
                OK,
                "leftover probes",
                got=f"deleted {len(old)} left by a killed doctor run: {', '.join(old)}",
            )
        )


def cleanup(session: Session) -> None:
    """Delete every probe this run made that still exists; say what could not be."""
    bold, probes = session.bold, session.probes
    done: list[str] = []
    failed: list[str] = []
    steps: list[tuple[str, Callable[[], None]]] = []
    if probes.ruleset is not None:
        eid, ident = probes.ruleset, probes.ruleset_id
        steps.append(
            (
                f"ruleset {eid}",
                lambda: _first_ok(
                    lambda: bold.delete_ruleset(eid),
                    (lambda: bold.delete_ruleset_by_id(ident)) if ident else None,
                ),
            )
        )
    if probes.condition is not None:
        name, value = probes.condition
        steps.append(
            (
                f"order condition {name}={value}",
                lambda: bold.delete_order_condition(name, value),
            )
        )
    if probes.code_id is not None:
        code_id = probes.code_id
        steps.append((f"discount code {probes.code}", lambda: bold.delete_discount_code(code_id)))
    if probes.record is not None:
        record = probes.record
        steps.append((f"ownership record {record}", lambda: bold.delete_ruleset(record)))
    held = probes.lock
    if held is not None:
        steps.append((f"apply lock {held.external_id}", held.release))
    for what, step in steps:
        try:
            step()
            done.append(what)
        except errors.ApiError as exc:
            failed.append(f"{what} ({exc})")
    probes.ruleset = probes.condition = probes.code_id = probes.record = probes.lock = None
    if failed:
        session.add(
            Check(
                FAIL,
                "cleanup",
                got=f"could not delete {'; '.join(failed)}",
                notes=(
                    "delete it by hand; the next `doctor --write` deletes probes over an hour old",
                ),
            )
        )
    elif done:
        session.add(Check(OK, "cleanup", got=f"deleted {', '.join(done)}"))


def _first_ok(first: Callable[[], None], second: Callable[[], None] | None) -> None:
    try:
        first()
    except errors.ApiError:
        if second is None:
            raise
        second()
