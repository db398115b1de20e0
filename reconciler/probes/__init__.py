"""``boldrules doctor --write``: probe objects through every route apply uses, always removed.

Takes the project's apply lock (checking that a second take is refused with 409), then
creates, reads back, changes and deletes a probe ruleset, order condition, discount code and
ownership record named ``boldrules-doctor-<stamp>-<hex>`` (inactive, 0%, no product, dated
2099: nothing a customer can see), recording a ``doctor.results.Check`` for each route. Whatever
happens (an error, Ctrl-C, SIGTERM), every probe that exists is deleted in a ``finally``,
with SIGINT ignored meanwhile; probes left by a run killed outright are deleted by the next
``--write`` once an hour old.

One module per kind of probe object (``ruleset``, ``order_condition``, ``discount_code``, as in
``reconciler/kinds/``; ``bookkeeping``: the apply lock and an ownership record), each a
``checks(session)`` run in the order of ``WRITE_CHECKS`` and, for a kind of object, a
``LEFTOVER`` (how a killed run's probe is named and deleted) listed in ``cleanup.LEFTOVERS``;
``session`` holds what they share (the probes that exist), ``cleanup`` deletes them. The
checks' recording and the route search are ``doctor.recording.Doctor``'s. It must not print.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from reconciler.doctor import recording
from reconciler.probes import bookkeeping, cleanup, discount_code, order_condition, ruleset
from reconciler.probes.session import Session

#: The write checks, one function per kind of probe object, in the order they run (once the
#: apply lock is taken).
WRITE_CHECKS: tuple[Callable[[Session], None], ...] = (
    ruleset.checks,
    order_condition.checks,
    discount_code.checks,
    bookkeeping.record_checks,
)


class _Terminated(BaseException):
    """SIGTERM during ``--write``: unwinds to the ``finally`` that deletes the probes."""


def run(checker: recording.Doctor) -> None:
    """Every write check, on probes that are deleted again however the run ends."""
    _run(Session(checker))


def _run(session: Session) -> None:
    """The write checks between the leftovers and the cleanup, SIGTERM and Ctrl-C included."""
    main = threading.current_thread() is threading.main_thread()
    previous: Any = None
    if main:

        def terminate(signum: int, _frame: FrameType | None) -> None:
            raise _Terminated(signal.Signals(signum).name)

        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        cleanup.leftovers(session)
        if not bookkeeping.take_lock(session):
            session.skip(
                "the write checks",
                "not run without the apply lock: they would race an apply (see above)",
            )
            return
        for checks in WRITE_CHECKS:
            checks(session)
    except (_Terminated, KeyboardInterrupt) as exc:
        session.report.interrupted = str(exc) if isinstance(exc, _Terminated) else "SIGINT"
    finally:
        ignored = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            cleanup.cleanup(session)
        finally:
            if main:
                signal.signal(signal.SIGINT, ignored)
                signal.signal(signal.SIGTERM, previous)
