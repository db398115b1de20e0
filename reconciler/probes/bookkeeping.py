"""boldrules' own objects, written: the project's apply lock taken for the length of the checks
(a second take must answer 409, a renewal must find it), and a probe ownership record.
"""

from __future__ import annotations

from reconciler import errors, lock, model, ownership
from reconciler.doctor.recording import Failed
from reconciler.doctor.results import FAIL, Check
from reconciler.probes.session import Session


def take_lock(session: Session) -> bool:
    """Take the apply lock for the length of the checks; False (and why, recorded) if not."""
    bold = session.bold
    probe = lock.ApplyLock(bold, session.project, clock=session.now, notify=lambda _text: None)

    def take() -> str:
        try:
            probe.acquire(timeout=0)
        except errors.LockHeld as exc:
            raise Failed(f"another run holds the apply lock: {exc}") from None
        session.probes.lock = probe
        return f"took {probe.external_id} (id {probe.ruleset_id}) for the length of the checks"

    if not session.check("create_ruleset (apply lock)", "create_ruleset", take, fixable=False):
        last = session.report.checks[-1]
        if "another run holds" in last.got:
            session.report.checks[-1] = Check(
                FAIL, last.title, last.sent, last.got, route=last.route, cause="lock"
            )
        return False
    second = lock.ApplyLock(bold, session.project, clock=session.now, notify=lambda _text: None)

    def exclude() -> str:
        try:
            second.acquire(timeout=0)
        except errors.LockHeld:
            return "a second take answered 409: two applies cannot run at once"
        second.release()
        raise Failed(
            "a second POST of the same external_id was accepted: the apply lock "
            "cannot exclude a second run"
        )

    session.check("create_ruleset 409 on a duplicate", "create_ruleset", exclude, fixable=False)

    def renew() -> str:
        if not probe.renew():
            raise Failed("the renewal did not find the lock")
        return "renewed (PUT by server id)"

    session.check("replace_ruleset_by_id (lock renewal)", "replace_ruleset_by_id", renew)
    return True


def record_checks(session: Session) -> None:
    """A probe ownership record written and read back (deleted by the cleanup)."""
    bold, project = session.bold, session.name
    members = [model.ruleset_key(session.name), model.order_condition_key(session.name, "probe")]

    def write() -> str:
        ownership.write(bold, project, members)
        session.probes.record = ownership.record_id(project)
        found = ownership.read_record(bold, project)
        if not isinstance(found, ownership.Record) or set(found.members) != set(members):
            raise Failed("the record read back does not list what was written")
        return f"a probe record ({session.probes.record}) written and read back"

    session.check("ownership record (write)", "upsert_ruleset", write, fixable=False)
