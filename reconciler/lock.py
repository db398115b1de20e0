"""The apply lock: one apply at a time per project and shop, held in the shop itself.

Two applies at once (two merges in quick succession, a manual run beside CI) interleave their
writes and can leave the shop matching neither manifest version. An apply therefore holds the
lock ``boldrules.lock.<project>`` for its whole length: a ruleset of the token's app with no
pricing effect (built like the ownership record), created with ``POST …/rulesets``. The API
answers 409 to a second create of the same external id, so taking the lock is one atomic call;
nothing else in the API offers a test-and-set.

The lock's rule ``meta`` names the holder (``user@host``, the CI run), when it was taken and
when it expires. The holder renews it every ``RENEW_EVERY`` while it runs (``TTL`` ahead), so a
crashed run's lock expires within ``TTL`` and the next apply takes it over, saying so; ``unlock``
breaks one at once. Expiry is judged by the clock of the run that finds the lock: runners'
clocks are assumed to agree within a minute (NTP), well inside ``TTL``.

A lock is removed and replaced by its server id (``DELETE``/``PUT …/rulesets/{id}``), never by
external id, so a run can only ever remove the very lock it saw: an assumption, stated in the
routes table's contract, is that Bold never reuses a ruleset id. A holder whose renewal finds its
lock gone (broken by ``unlock``, or taken over after a stall longer than ``TTL``) stops its apply.

Owns: the lock's format, taking, renewing, releasing and breaking it. ``plan`` never takes it;
it only reads it to say that an apply is running.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from reconciler import __version__, errors, instants, model, ownership, state

if TYPE_CHECKING:
    from reconciler.client import BoldClient

log = logging.getLogger(__name__)

#: External id prefix of every project's lock: ``boldrules.lock.<project>``.
LOCK_PREFIX = f"{model.RESERVED_PREFIX}lock."

#: The rule whose ``meta`` says who holds the lock.
LOCK_RULE = "boldrules.lock"

#: How far ahead a lock's expiry is set when taken or renewed.
TTL = dt.timedelta(minutes=5)

#: How often a running apply renews its lock.
RENEW_EVERY = dt.timedelta(minutes=1)

#: Seconds between two tries while waiting (``--lock-timeout``).
POLL_SECONDS = 2.0

#: Takeovers of expired locks one acquisition attempts before giving up (a lock that keeps
#: reappearing expired means a clock far off; saying so beats looping).
MAX_TAKEOVERS = 3

Clock = Callable[[], dt.datetime]


def lock_id(project: str) -> str:
    """``boldrules.lock.<project>``: the lock's external id."""
    return f"{LOCK_PREFIX}{project}"


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as read from the shop."""

    project: str
    holder: str
    started_at: dt.datetime | None
    expires_at: dt.datetime | None
    token: str
    ruleset_id: int | None
    #: Set when the lock's ``meta`` could not be read (edited by hand): it never expires then.
    damaged: str = ""

    def expired(self, now: dt.datetime) -> bool:
        """True once the expiry has passed (a damaged lock never expires: break it by hand)."""
        return self.expires_at is not None and self.expires_at <= now

    def describe(self) -> str:
        """``alice@box (GitHub Actions run 7) since 2026-12-01T10:00:00Z, expires …``."""
        if self.damaged:
            return f"an unreadable lock ({self.damaged})"
        since = instants.stamp(self.started_at) if self.started_at else "?"
        until = instants.stamp(self.expires_at) if self.expires_at else "?"
        return f"{self.holder} since {since}, expires {until}"


def read_holder(resource: model.Resource) -> Holder:
    """A lock ruleset (normalised) → its Holder."""
    project = resource.key.ident[0][len(LOCK_PREFIX) :]
    meta = resource.body.get("rules", {}).get(LOCK_RULE, {}).get("meta", {})
    ruleset_id = resource.handles.get("id")
    started = instants.parse(meta.get("started_at")) if isinstance(meta, Mapping) else None
    expires = instants.parse(meta.get("expires_at")) if isinstance(meta, Mapping) else None
    if not isinstance(meta, Mapping) or meta.get("boldrules") != "apply lock" or expires is None:
        return Holder(project, "?", None, None, "", ruleset_id, damaged="no holder or expiry")
    return Holder(
        project=project,
        holder=str(meta.get("holder", "?")),
        started_at=started,
        expires_at=expires,
        token=str(meta.get("token", "")),
        ruleset_id=ruleset_id,
    )


def held_locks(reserved: Iterable[model.Resource]) -> dict[str, Holder]:
    """Every project's lock among the app's bookkeeping rulesets, by project name."""
    return {
        holder.project: holder
        for holder in (read_holder(r) for r in reserved if r.key.ident[0].startswith(LOCK_PREFIX))
    }


def read_lock(client: BoldClient, project: str) -> Holder | None:
    """The project's lock as it is now, or None."""
    data = client.get_ruleset(lock_id(project))
    return read_holder(state.ruleset_resource(data)) if data is not None else None


def held_message(holder: Holder, *, project: str, shop: str) -> str:
    """What a run that finds the lock taken says."""
    return (
        f"another run holds the apply lock of project {project!r} on shop {shop}: "
        f"{holder.describe()}. Wait for it to finish (or re-run with --lock-timeout SECONDS to "
        f"wait); if that run is gone, `boldrules unlock` breaks the lock."
    )


class ApplyLock:
    """One project's lock on one shop, taken by this run (see the module docstring)."""

    def __init__(
        self,
        client: BoldClient,
        project: str,
        *,
        clock: Clock = instants.now,
        sleep: Callable[[float], None] = time.sleep,
        holder: str | None = None,
        ttl: dt.timedelta = TTL,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.project = project
        self.clock = clock
        self.sleep = sleep
        self.holder = holder if holder is not None else ownership.whoami()
        self.ttl = ttl
        self.notify = notify or (lambda text: log.warning("%s", text))
        self.token = uuid.uuid4().hex
        self.started_at: dt.datetime | None = None
        self.ruleset_id: int | None = None
        self.lost = False

    @property
    def external_id(self) -> str:
        """``boldrules.lock.<project>``."""
        return lock_id(self.project)

    def _body(self, now: dt.datetime) -> dict[str, Any]:
        started = self.started_at or now
        meta = {
            "boldrules": "apply lock",
            "format": 1,
            "project": self.project,
            "holder": self.holder,
            "token": self.token,
            "started_at": instants.stamp(started),
            "expires_at": instants.stamp(now + self.ttl),
            "renewed_at": instants.stamp(now),
            "tool_version": __version__,
        }
        name = (
            f"boldrules apply lock ({self.project}) — held by {self.holder} since "
            f"{instants.stamp(started)}; do not edit"
        )[:255]
        body = ownership.bookkeeping_ruleset(
            self.external_id, name, {LOCK_RULE: ownership.bookkeeping_rule(meta)}
        )
        return state.ruleset_to_api(body)

    # ------------------------------------------------------------------ taking

    def acquire(self, *, timeout: float = 0.0) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raise LockHeld naming the holder.

        An expired lock is taken over (deleted by its id, then created afresh), with a line
        saying whose it was.
        """
        deadline = self.clock() + dt.timedelta(seconds=max(0.0, timeout))
        takeovers = 0
        while True:
            found = self._try_create()
            if found is None:
                return
            now = self.clock()
            if found.expired(now):
                takeovers += 1
                if takeovers > MAX_TAKEOVERS:
                    raise errors.LockHeld(
                        f"the apply lock {self.external_id} keeps reappearing expired "
                        f"({found.describe()}): check this machine's clock"
                    )
                self.notify(
                    f"Taking over the apply lock of project {self.project!r}: it was held by "
                    f"{found.describe()}, and has expired (that run is gone or stalled)."
                )
                if found.ruleset_id is not None:
                    self.client.delete_ruleset_by_id(found.ruleset_id)
                continue
            if now >= deadline:
                raise errors.LockHeld(
                    held_message(found, project=self.project, shop=self.client.shop_identifier)
                )
            remaining = (deadline - now).total_seconds()
            self.sleep(min(POLL_SECONDS, remaining))

    def _try_create(self) -> Holder | None:
        """Create the lock: None when it is ours now, else who holds it."""
        for _ in range(MAX_TAKEOVERS * 3):
            now = self.clock()
            self.started_at = now
            try:
                created = self.client.create_ruleset(self._body(now))
            except errors.PermissionDenied as exc:
                raise errors.PermissionDenied(
                    method=exc.method,
                    path=exc.path,
                    status=exc.status,
                    api_message=exc.api_message,
                    code=exc.code,
                    detail=(
                        "apply keeps its lock and the ownership record as rulesets of the "
                        "token's app, so the token needs the write_price_rulesets scope "
                        "(docs/ownership.md)"
                    ),
                ) from None
            except errors.Conflict:
                current = read_lock(self.client, self.project)
                if current is None:
                    continue  # released between our create and our read: try again
                return current
            except errors.AmbiguousWrite:
                current = read_lock(self.client, self.project)
                if current is None:
                    continue  # the create did not happen: nothing was taken
                if current.token != self.token:
                    return current
                created = {"id": current.ruleset_id}
            ruleset_id = created.get("id")
            if ruleset_id is None:
                current = read_lock(self.client, self.project)
                ruleset_id = current.ruleset_id if current and current.token == self.token else None
            self.ruleset_id = int(ruleset_id) if ruleset_id is not None else None
            return None
        raise errors.LockHeld(
            f"the apply lock {self.external_id} keeps appearing and disappearing as this run "
            "tries to take it: another run is looping on it; try again later"
        )

    # ------------------------------------------------------------------ holding

    def renew(self) -> bool:
        """Push the expiry ``TTL`` ahead; False (and ``lost``) when the lock is no longer ours."""
        if self.ruleset_id is None or self.lost:
            return False
        try:
            self.client.replace_ruleset_by_id(self.ruleset_id, self._body(self.clock()))
        except errors.NotFound:
            self.lost = True
            return False
        return True

    def release(self) -> None:
        """Remove the lock this run holds (by its id: never another run's lock)."""
        if self.ruleset_id is None:
            return
        ruleset_id, self.ruleset_id = self.ruleset_id, None
        if not self.lost:
            self.client.delete_ruleset_by_id(ruleset_id)


def break_lock(client: BoldClient, holder: Holder) -> None:
    """Remove the lock ``holder`` describes (``boldrules unlock``), by its id."""
    if holder.ruleset_id is not None:
        client.delete_ruleset_by_id(holder.ruleset_id)


class _Terminated(BaseException):
    """SIGTERM while the lock is held: unwinds to the ``finally`` that releases it."""


@contextlib.contextmanager
def held(
    lock: ApplyLock,
    *,
    timeout: float = 0.0,
    stop: threading.Event | None = None,
    renew_every: dt.timedelta = RENEW_EVERY,
) -> Iterator[ApplyLock]:
    """Hold ``lock`` for the block: taken first, renewed in the background, released last.

    Released however the block ends: an error, Ctrl-C, or SIGTERM (turned into ``Interrupted``
    once the lock is gone; caught from before the lock is taken, so a stop while taking it
    leaves nothing behind). Losing the lock sets ``stop``, so an apply stops between calls.
    """
    finished = threading.Event()

    def renew() -> None:
        while not finished.wait(renew_every.total_seconds()):
            try:
                if not lock.renew():
                    lock.notify(
                        f"The apply lock {lock.external_id} was broken or taken over while this "
                        "run held it: stopping after the calls in flight."
                    )
                    if stop is not None:
                        stop.set()
                    return
            except errors.ApiError as exc:  # the lock may expire; the next renewal tries again
                log.warning("could not renew the apply lock: %s", exc)

    renewer = threading.Thread(target=renew, name="lock-renewal", daemon=True)
    previous: Any = None
    main = threading.current_thread() is threading.main_thread()
    if main:

        def terminate(signum: int, _frame: FrameType | None) -> None:
            raise _Terminated(signal.Signals(signum).name)

        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        lock.acquire(timeout=timeout)
        renewer.start()
        yield lock
    except _Terminated as exc:
        raise errors.Interrupted(errors.ApplyReport(), str(exc)) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        finished.set()
        if renewer.is_alive():
            renewer.join(timeout=5)
        try:
            lock.release()
        except errors.ApiError as exc:
            lock.notify(
                f"Could not release the apply lock {lock.external_id} ({exc}); it expires by "
                f"itself within {int(lock.ttl.total_seconds() // 60)} minutes, or "
                "`boldrules unlock` removes it now."
            )
