"""Run the calls of a plan: dependency phases, concurrency, progress, ledger, signals, saved plans.

``calls.py`` maps changes to the fewest API calls; this module runs them phase by phase,
concurrently within a phase up to the client's limit (the client paces them). A call that fails
for good lets calls in flight finish, skips what depends on it and ends with ``ApplyFailed``;
SIGINT/SIGTERM stop new calls the same way and end with ``Interrupted``. A saved plan is
applied only after every object it touches is read again and found unmoved.

Where nothing further can succeed, the run stops at the first sign: a 401 (the token was
revoked), a 403 (the token lacks a write scope) or an API that cannot be reached after every
retry. No new call starts, calls in flight finish, the rest are "not attempted", and the run
ends with ``ApplyStopped`` (exit 7, or 8 for the network). The contract has no call that reveals
a token's scopes without writing, so the first write of each kind (one scope each) is a scout
sent alone: a token without ``write_price_rulesets`` meets exactly one 403, not one per call in
flight.

The terminal, the exit code and the ledger tell one story: every ledger line of a call carries
that call's outcome as the progress line printed it (``ok``, ``failed``, ``skipped``, ``not
attempted``), and a request whose status alone would mislead (a 404 that a read confirmed as
"already gone", a POST whose lost answer was read back) carries a ``note`` saying so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from reconciler import (
    calllog,
    config,
    diff,
    errors,
    instants,
    model,
    ownership,
    plan,
    safetyrules,
    savedplan,
    state,
)
from reconciler.calls import Call, calls_for, run_settled
from reconciler.client import BoldClient
from reconciler.targets import Target

log = logging.getLogger(__name__)

# --- running --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one call."""

    call: Call
    status: str  # ok / failed / skipped / not attempted
    milliseconds: int = 0
    error: str = ""
    exchanges: Sequence[calllog.Exchange] = ()
    #: The error itself when the call failed, so the run can tell a stop from a failure.
    cause: errors.ApiError | None = None

    @property
    def waited(self) -> int:
        """Of ``milliseconds``, how long the client's pacing held the call's requests."""
        return min(self.milliseconds, round(sum(e.waited_milliseconds for e in self.exchanges)))

    def timing(self) -> str:
        """``230 ms``, or ``120 ms waiting for the rate limit + 110 ms`` when pacing held it."""
        if self.waited < 1:
            return f"{self.milliseconds} ms"
        return f"{self.waited} ms waiting for the rate limit + {self.milliseconds - self.waited} ms"


class Progress:
    """Progress lines on stderr and the JSON-lines ledger; both thread-safe."""

    def __init__(self, *, stream: TextIO | None, ledger: TextIO | None) -> None:
        self.total = 0  # set by ``execute`` once the calls are known
        self.stream = stream
        self.ledger = ledger
        self.count = 0
        #: HTTP requests the calls made (the ledger's lines), which may be more than the calls.
        self.requests = 0
        #: Every object a call finished with ok (the ownership record drops deleted ones).
        self.succeeded: set[model.Key] = set()
        #: Every call's outcome, in the order they finished (``apply --format json`` reports them).
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    def record(self, outcome: Outcome) -> None:
        """Print and log one finished (or skipped) call."""
        with self._lock:
            self.count += 1
            self.requests += len(outcome.exchanges)
            self.outcomes.append(outcome)
            if outcome.status == "ok":
                self.succeeded.update(outcome.call.keys)
            if self.stream is not None:
                text = f"[{self.count}/{self.total}] {outcome.call.label()} … {outcome.status}"
                if outcome.status in ("ok", "failed"):
                    text += f" {outcome.timing()}"
                if outcome.error:
                    text += f": {outcome.error}"
                print(text, file=self.stream, flush=True)
            if self.ledger is not None:
                for entry in self._entries(outcome):
                    self.ledger.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.ledger.flush()

    def log(self, entry: Mapping[str, Any]) -> None:
        """One ledger line that is no call (a freeze override and its reason, say)."""
        with self._lock:
            if self.ledger is not None:
                self.ledger.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.ledger.flush()

    @staticmethod
    def _entries(outcome: Outcome) -> Iterator[dict[str, Any]]:
        """One ledger line per HTTP call (a call never sent gets one line with no request).

        ``outcome`` on every line is the call's, as its progress line said; ``status`` is the
        request's own, with a ``note`` where the two seem to disagree.
        """
        base = {
            "object": [str(k) for k in outcome.call.keys],
            "action": outcome.call.verb,
        }
        if not outcome.exchanges:
            yield {
                "time": _now(),
                **base,
                "operation": outcome.call.operation,
                "outcome": outcome.status,
                **({"error": outcome.error} if outcome.error else {}),
            }
            return
        for exchange in outcome.exchanges:
            entry: dict[str, Any] = {
                "time": exchange.finished_at,
                **base,
                "operation": exchange.route,
                "method": exchange.method,
                "path": exchange.path,
                "status": exchange.status,
                "milliseconds": round(exchange.milliseconds),
                "waited_milliseconds": round(exchange.waited_milliseconds),
                "attempts": exchange.attempts,
                "outcome": outcome.status,
            }
            if exchange.note:
                entry["note"] = exchange.note
            if exchange.error:
                entry["error"] = exchange.error
            yield entry


#: ``apply --format json`` names a call's outcome per object with these words.
RESULT_WORDS = {"ok": "done", "failed": "failed", "skipped": "skipped"}


def result_json(
    result: plan.Plan, outcomes: Sequence[Outcome], *, error: errors.BoldrulesError | None = None
) -> dict[str, Any]:
    """What an apply did, per object: done, failed, skipped or not attempted, with its calls."""
    objects: list[dict[str, Any]] = []
    finished = {key for outcome in outcomes for key in outcome.call.keys}
    for outcome in outcomes:
        calls = [
            {
                "operation": e.route,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "attempts": e.attempts,
                **({"note": e.note} if e.note else {}),
            }
            for e in outcome.exchanges
        ]
        for key in outcome.call.keys:
            entry: dict[str, Any] = {
                "object": str(key),
                "action": outcome.call.verb,
                "outcome": RESULT_WORDS.get(outcome.status, outcome.status),
                "operation": outcome.call.operation,
                "calls": calls,
            }
            if outcome.error:
                entry["error"] = outcome.error
            objects.append(entry)
    for change in result.changes:  # planned, but the run never reached them (stopped early)
        if change.key not in finished:
            objects.append(
                {
                    "object": str(change.key),
                    "action": change.action,
                    "outcome": "not attempted",
                    "operation": "",
                    "calls": [],
                }
            )
    tally = Counter(entry["outcome"] for entry in objects)
    return {
        "target": result.target,
        "shop": result.shop,
        "plan_checksum": result.checksum,
        "result": "no changes"
        if result.empty
        else "applied"
        if error is None
        else f"refused (exit {error.exit_code})"
        if not outcomes
        else f"stopped (exit {error.exit_code})",
        "error": str(error) if error is not None else None,
        "summary": {w: tally.get(w, 0) for w in ("done", "failed", "skipped", "not attempted")},
        "objects": sorted(objects, key=lambda entry: str(entry["object"])),
    }


def _now() -> str:
    return instants.stamp_ms(instants.now())


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[str]]:
    """While applying, SIGINT and SIGTERM set ``stop`` instead of killing calls in flight."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def execute(
    client: BoldClient,
    changes: Sequence[model.Change],
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> errors.ApplyReport:
    """Run every call, phase by phase, concurrently within a phase; raise on any failure."""
    calls = calls_for(changes)
    progress = progress or Progress(stream=None, ledger=None)
    progress.total = len(calls)
    stop = stop or threading.Event()
    run = _Run(report=errors.ApplyReport(), progress=progress)
    with (
        stop_on_signals(stop) as received,
        ThreadPoolExecutor(
            max_workers=max(1, client.concurrency), thread_name_prefix="apply"
        ) as pool,
    ):
        for phase in sorted({c.phase for c in calls}):
            running: dict[Future[Outcome], Call] = {}
            for call in (c for c in calls if c.phase == phase):
                if stop.is_set() or run.halt is not None:
                    run.record(Outcome(call, "not attempted"))
                    continue
                if call.after & run.failed_keys or call.change.key in run.failed_keys:
                    run.record(Outcome(call, "skipped"))
                    continue
                scout = call.change.key.kind not in run.proven
                # Keep no more than the client's limit queued, so a stop leaves little undone;
                # a scout goes alone, so a token refused for this kind meets one refusal.
                while running and (scout or len(running) >= client.concurrency):
                    _collect(running, run)
                if run.halt is not None:
                    run.record(Outcome(call, "not attempted"))
                    continue
                running[pool.submit(_run, client, call)] = call
                while scout and running:
                    _collect(running, run)
            while running:
                _collect(running, run)
    report = run.report
    if run.halt is not None:
        raise errors.ApplyStopped(report, run.halt)
    if received:
        raise errors.Interrupted(report, received[0])
    if report.failed or report.skipped or report.not_attempted:
        raise errors.ApplyFailed(report)
    return report


#: Failures after which no other call can succeed: the run stops at the first one.
_STOPPERS = (errors.AuthenticationFailed, errors.PermissionDenied, errors.ConnectionFailed)


@dataclass
class _Run:
    """What one ``execute`` knows as it goes: the report, what failed, what stopped it."""

    report: errors.ApplyReport
    progress: Progress
    failed_keys: set[model.Key] = field(default_factory=set)
    #: Kinds whose write scope a call has shown the token to hold.
    proven: set[model.Kind] = field(default_factory=set)
    #: The refusal or network failure that stopped the run, if any.
    halt: errors.ApiError | None = None

    def record(self, outcome: Outcome) -> None:
        """Count and report one outcome."""
        call = outcome.call
        if outcome.status == "ok":
            self.report.done += 1
            self.proven.add(call.change.key.kind)
        elif outcome.status == "failed":
            self.report.failed += 1
            self.report.failures.append(f"{call.label()}: {outcome.error}")
            self.failed_keys.update(call.keys)
            if isinstance(outcome.cause, _STOPPERS) and self.halt is None:
                self.halt = outcome.cause
        elif outcome.status == "skipped":
            self.report.skipped += 1
            self.failed_keys.update(call.keys)
        else:
            self.report.not_attempted += 1
            self.failed_keys.update(call.keys)
        self.progress.record(outcome)


def _run(client: BoldClient, call: Call) -> Outcome:
    # The client's own clock: the pacing's waits it reports are measured on it too.
    clock = client.clock
    started = clock()
    with client.observe() as exchanges:
        try:
            run_settled(client, call)
        except errors.ApiError as exc:
            ms = _ms(started, clock)
            return Outcome(call, "failed", ms, str(exc), tuple(exchanges), exc)
    return Outcome(call, "ok", _ms(started, clock), exchanges=tuple(exchanges))


def _ms(started: float, clock: Callable[[], float] = time.monotonic) -> int:
    return int((clock() - started) * 1000)


def _collect(running: dict[Future[Outcome], Call], run: _Run) -> None:
    """Wait for at least one running call to finish, and record every finished one."""
    done, _ = wait(running, return_when=FIRST_COMPLETED)
    for future in done:
        running.pop(future)
        run.record(future.result())


# --- saved plans ----------------------------------------------------------------------------


#: Up to this many touched objects are re-read one by one; more, and listing is cheaper.
PER_OBJECT_READS = 25


def changes_from_saved(client: BoldClient, saved: savedplan.SavedPlan) -> list[model.Change]:
    """Re-read what the saved plan touches; refuse if anything moved; else rebuild its changes.

    Fresh reads also give the server ids (rule ids, field-set ids, code ids) the calls need.
    """
    # An adopted ruleset is read where it lives now: by the server id the plan matched.
    keys = [c.live_key or c.key for c in saved.changes]
    current: dict[model.Key, model.Resource | None]
    if len(keys) <= PER_OBJECT_READS:
        with ThreadPoolExecutor(max_workers=max(1, client.concurrency)) as pool:
            current = dict(
                zip(keys, pool.map(lambda k: state.read_one(client, k), keys), strict=True)
            )
    else:
        # The saved plan's creates and deletes rest on absence and presence: confirm them.
        decisive = [c.key for c in saved.changes if c.action in ("create", "delete")]
        fetched = state.fetch_live(client, decisive=lambda _: decisive)
        live = {r.key: r for r in fetched.resources}
        current = {k: live.get(k) for k in keys}
    moved: list[str] = []
    changes: list[model.Change] = []
    for saved_change in saved.changes:
        now = current[saved_change.live_key or saved_change.key]
        now_fp = now.fingerprint() if now is not None else None
        if now_fp != saved_change.live_fingerprint:
            moved.append(_movement(saved_change, now))
            continue
        if saved_change.action == "create" and saved_change.desired is not None:
            changes.append(model.Create(saved_change.desired))
        elif (
            saved_change.action == "update" and saved_change.desired is not None and now is not None
        ):
            update = diff.compare(saved_change.desired, now)
            if update is not None:
                changes.append(update)
        elif saved_change.action == "delete" and now is not None:
            changes.append(model.Delete(now, reason=saved_change.reason))
    if moved:
        raise errors.StalePlan(moved)
    return plan.order_changes(changes)


def check_saved_plan(
    client: BoldClient,
    saved: savedplan.SavedPlan,
    *,
    project: config.Project,
    target: Target,
) -> plan.Plan:
    """The saved plan, once it is proven to be for this shop and nothing it touches has moved.

    Raises PlanFileInvalid for another shop or API version, StalePlan naming what moved.
    Safety is evaluated again, under the project's limits as they are now.
    """
    if saved.shop != client.shop_identifier:
        raise errors.PlanFileInvalid(
            f"{saved.path} was made for shop {saved.shop!r}, but target {target.name!r} is shop "
            f"{client.shop_identifier!r}"
        )
    if saved.api_version != target.api_version:
        raise errors.PlanFileInvalid(
            f"{saved.path} was made with API version {saved.api_version}, but target "
            f"{target.name!r} now pins {target.api_version}: make the plan again"
        )
    changes = changes_from_saved(client, saved)
    counted = saved.document.get("safety", {}).get("managed_by_kind", {})
    managed = {kind: int(counted.get(kind.value, 0)) for kind in model.Kind}
    return plan.Plan(
        target=saved.target,
        shop=saved.shop,
        api_version=saved.api_version,
        changes=tuple(changes),
        fingerprints={str(c.key): c.live_fingerprint for c in saved.changes},
        left_alone=dict(saved.document.get("left_alone", {})),
        safety=safetyrules.evaluate_safety(
            changes,
            managed=managed,
            rules=project.safety,
            # What the plan found under other apps still holds: a saved plan cannot dodge it.
            claimed_by_other_apps=saved.document.get("safety", {}).get("claimed_by_other_apps", []),
            # The price preview's refusals of the saved plan hold too (--force lifts them).
            price_violations=saved.document.get("safety", {}).get("price_violations", []),
        ),
        created_at=str(saved.document.get("created_at", "")),
        record=saved_record(client, saved, changes, project=project.ownership.record),
    )


def saved_record(
    client: BoldClient,
    saved: savedplan.SavedPlan,
    changes: Sequence[model.Change],
    *,
    project: str,
) -> ownership.RecordPlan:
    """The record a saved plan leads to, from the record as it is now (read under the lock).

    A plan saved before boldrules kept records does not list what its manifests declared; its
    creates and updates stand in for them (the next full plan records the rest).
    """
    current = ownership.read_record(client, project)
    declared = savedplan.saved_declared(saved)
    if declared is None:
        declared = frozenset(c.key for c in changes if not isinstance(c, model.Delete))
    deletes = frozenset(c.key for c in changes if isinstance(c, model.Delete))
    if not isinstance(current, ownership.Record):
        damaged = current.reason if isinstance(current, ownership.Damaged) else ""
        return ownership.RecordPlan(project, None, declared, deletes=deletes, damaged=damaged)
    return ownership.RecordPlan(project, current.members, declared, deletes=deletes)


# --- the ownership record around the calls ---------------------------------------------------


def write_record(client: BoldClient, record: ownership.RecordPlan) -> int | None:
    """Bring the record to what the plan leads to, when it differs; how many it lists, or None."""
    if not record.action:
        return None
    final = record.final
    ownership.write(client, record.project, final)
    return len(final)


def execute_recorded(
    client: BoldClient,
    result: plan.Plan,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> tuple[errors.ApplyReport, int | None]:
    """Run the plan's calls, keeping the ownership record true around them (ApplySet-style).

    Before the first call the record lists every declared object as well as every member it
    had, so an object this run creates is recorded even if the run dies before it ends. After
    the calls, whatever happened, members whose delete succeeded leave it. Returns the report
    and how many objects the record lists if it was written.
    """
    progress = progress or Progress(stream=None, ledger=None)
    record = result.record
    if record is None:
        return execute(client, result.changes, progress=progress, stop=stop), None
    written: frozenset[model.Key] | None = None
    if record.before is None or ownership.differs(record.before, record.intended()):
        written = record.intended()
        ownership.write(client, record.project, written)
    in_shop = written if written is not None else record.before or frozenset()
    try:
        report = execute(client, result.changes, progress=progress, stop=stop)
    finally:
        after = record.after(progress.succeeded)
        if ownership.differs(in_shop, after):
            try:
                ownership.write(client, record.project, after)
                written = after
            except errors.ApiError as exc:
                # The record keeps the superset: members already deleted are forgotten by the
                # next plan (they are gone), so nothing is lost but one call's worth of tidiness.
                log.warning("could not update the ownership record %s: %s", record.external_id, exc)
    return report, len(written) if written is not None else None


def _movement(saved_change: savedplan.SavedChange, now: model.Resource | None) -> str:
    name = saved_change.key.describe()
    if saved_change.live_fingerprint is None:
        return f"{name}: planned as new, but it now exists (created by someone else since)"
    if now is None:
        return f"{name}: deleted by someone else since the plan was made"
    return f"{name}: changed by someone else since the plan was made"


def open_ledger(path: Path | None) -> contextlib.AbstractContextManager[TextIO | None]:
    """The ledger file in append mode, or nothing."""
    if path is None:
        return contextlib.nullcontext(None)
    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise errors.ConfigError(
            f"{path}: cannot open the ledger for appending ({exc.strerror})"
        ) from None
