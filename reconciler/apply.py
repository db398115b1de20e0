"""Changes → the fewest API calls, run in dependency phases, paced, resumable and recorded.

The call mapping (also in docs/apply.md):

====================================================  =========================================
change                                                calls
====================================================  =========================================
create ruleset                                        PUT rulesets/external/{eid} (an upsert)
update ruleset: only rules removed                    DELETE rulesets/external/{eid}/rules
update ruleset: dates and/or changed or new rules     PATCH rulesets/external/{eid}
update ruleset: the above and rules removed           PATCH, then DELETE …/rules (bulk)
update ruleset: anything else                         PUT rulesets/external/{eid}
delete ruleset                                        DELETE rulesets/external/{eid}
create order condition                                POST order_conditions
update order condition: only field sets changed       POST / DELETE order_conditions/field_sets
update order condition: anything else                 PUT order_conditions/{name}/{value}
delete order condition                                DELETE order_conditions/{name}/{value}
create discount codes sharing one configuration       one POST discount_codes
update discount code                                  PUT discount_codes/{id}
delete discount code                                  DELETE discount_codes/{id}
====================================================  =========================================

A POST whose outcome is unknown (``AmbiguousWrite``) is read back and finished, never repeated
blindly. A call that fails for good lets calls in flight finish, skips what depends on it and
ends with ``ApplyFailed``; SIGINT/SIGTERM stop new calls the same way. This module decides
nothing about what should change: that is the plan's job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from reconciler import client as client_module
from reconciler import config, diff, errors, model, plan, state

#: Top-level ruleset fields a PATCH can carry (contract §6): everything else needs a PUT.
PATCHABLE = frozenset({"start_date", "expiry_date"})


@dataclass
class Call:
    """One API operation for one change, with what it waits for."""

    change: model.Change
    verb: str  # create / update / delete, for progress lines
    operation: str  # the client method's name, for the ledger
    run: Callable[[client_module.BoldClient], None]
    phase: int
    after: set[model.Key] = field(default_factory=set)
    extra_keys: tuple[model.Key, ...] = ()  # discount codes created together with this one

    @property
    def keys(self) -> tuple[model.Key, ...]:
        """Every object this call changes."""
        return (self.change.key, *self.extra_keys)

    def label(self) -> str:
        """``update ruleset spring-sale``."""
        if self.extra_keys:
            names = ", ".join(k.name for k in self.keys)
            return f"{self.verb} discount codes {names}"
        return f"{self.verb} {self.change.key.describe()}"


# --- the mapping ----------------------------------------------------------------------------


def references(body: Mapping[str, Any]) -> set[model.Key]:
    """Order conditions a ruleset body refers to through ``ORDER_CONDITION`` rule conditions."""
    found: set[model.Key] = set()
    for rule in (body.get("rules") or {}).values():
        for condition in rule.get("conditions", []):
            if condition.get("type") == "ORDER_CONDITION" and "name" in condition:
                found.add(
                    model.order_condition_key(
                        str(condition["name"]), str(condition.get("value", ""))
                    )
                )
    return found


def _phase(change: model.Change) -> int:
    rank = change.key.kind.rank
    return 5 - rank if isinstance(change, model.Delete) else rank


def ruleset_calls(change: model.Change) -> list[Call]:
    """The calls for one ruleset change (see the table above)."""
    key = change.key
    eid = key.ident[0]
    if isinstance(change, model.Create):
        body = state.ruleset_to_api(change.desired.body)
        return [
            Call(
                change,
                "create",
                "upsert_ruleset",
                lambda c: _void(c.upsert_ruleset(eid, body)),
                _phase(change),
            )
        ]
    if isinstance(change, model.Delete):
        return [
            Call(
                change, "delete", "delete_ruleset", lambda c: c.delete_ruleset(eid), _phase(change)
            )
        ]
    desired, live = change.desired.body, change.live.body
    top_changed = {k for k in desired if k != "rules" and desired[k] != live.get(k)}
    want_rules, have_rules = desired["rules"], live["rules"]
    removed = sorted(set(have_rules) - set(want_rules))
    touched = sorted(r for r in want_rules if have_rules.get(r) != want_rules[r])
    rule_ids = change.live.handles.get("rule_ids", {})
    if top_changed <= PATCHABLE and want_rules:
        patch: dict[str, Any] | None = None
        if touched or top_changed:
            # PATCH needs a non-empty rules list: a dates-only change re-sends one rule as it is.
            sent = touched or [sorted(want_rules)[0]]
            patch = {k: desired[k] for k in sorted(top_changed)}
            patch["rules"] = [
                state.rule_to_api(r, want_rules[r], rule_id=_unnamed_id(rule_ids, r)) for r in sent
            ]
        ids = [int(rule_ids[r]) for r in removed if r in rule_ids]
        operations = [
            name for name, needed in (("patch_ruleset", patch), ("delete_rules", ids)) if needed
        ]

        def run(client: client_module.BoldClient) -> None:
            # One call object, so the bulk delete never races the PATCH on the same ruleset.
            if patch is not None:
                client.patch_ruleset(eid, patch)
            if ids:
                client.delete_rules(eid, ids)

        return [Call(change, "update", "+".join(operations), run, _phase(change))]
    body = state.ruleset_to_api(desired)
    return [
        Call(
            change,
            "update",
            "upsert_ruleset",
            lambda c: _void(c.upsert_ruleset(eid, body)),
            _phase(change),
        )
    ]


def _unnamed_id(rule_ids: Mapping[str, Any], rule: str) -> int | None:
    """A live rule without an external id is replaced by its server id (it gets the name then)."""
    if rule.startswith(state.GENERATED_RULE_PREFIX) and rule in rule_ids:
        return int(rule_ids[rule])
    return None


def order_condition_calls(change: model.Change) -> list[Call]:
    """The calls for one order condition change."""
    name, value = change.key.ident
    if isinstance(change, model.Create):
        wanted = change.desired
        return [
            Call(
                change,
                "create",
                "create_order_condition",
                lambda c: _create_order_condition(c, wanted),
                _phase(change),
            )
        ]
    if isinstance(change, model.Delete):
        return [
            Call(
                change,
                "delete",
                "delete_order_condition",
                lambda c: c.delete_order_condition(name, value),
                _phase(change),
            )
        ]
    desired, live = change.desired.body, change.live.body
    want = {model.canonical_json(fs): fs for fs in desired["field_sets"]}
    have = {model.canonical_json(fs): fs for fs in live["field_sets"]}
    ids_by_set = change.live.handles.get("field_set_ids", {})
    added = [dict(want[k]) for k in sorted(want.keys() - have.keys())]
    gone_keys = sorted(have.keys() - want.keys())
    only_field_sets = all(desired[k] == live.get(k) for k in desired if k != "field_sets")
    if (
        not only_field_sets
        or not (added or gone_keys)
        or any(k not in ids_by_set for k in gone_keys)
    ):
        # Anything beyond field sets, or a field set without a known id: restate it whole.
        body = state.order_condition_to_api(desired)
        return [
            Call(
                change,
                "update",
                "replace_order_condition",
                lambda c: _void(c.replace_order_condition(name, value, body)),
                _phase(change),
            )
        ]
    gone = [int(ids_by_set[k]) for k in gone_keys]
    operations = [
        op for op, needed in (("add_field_sets", added), ("delete_field_sets", gone)) if needed
    ]

    def run(client: client_module.BoldClient) -> None:
        if added:
            _add_field_sets(client, name, value, added)
        if gone:
            client.delete_field_sets(name, value, gone)

    return [Call(change, "update", "+".join(operations), run, _phase(change))]


def discount_code_calls(changes: Sequence[model.Change]) -> list[Call]:
    """Creates sharing one configuration become one POST; updates and deletes one call each."""
    calls: list[Call] = []
    groups: dict[str, list[model.Create]] = {}
    for change in changes:
        if isinstance(change, model.Create):
            groups.setdefault(change.desired.fingerprint(), []).append(change)
        elif isinstance(change, model.Update):
            code_id = change.live.handles["id"]
            body = state.discount_code_to_api(change.desired.body, code=change.key.ident[0])
            calls.append(
                Call(
                    change,
                    "update",
                    "update_discount_code",
                    functools.partial(_update_code, code_id, body),
                    _phase(change),
                )
            )
        else:
            code_id = change.live.handles["id"]
            calls.append(
                Call(
                    change,
                    "delete",
                    "delete_discount_code",
                    functools.partial(_delete_code, code_id),
                    _phase(change),
                )
            )
    for group in groups.values():
        first = group[0]
        codes = [g.key.ident[0] for g in group]
        calls.append(
            Call(
                first,
                "create",
                "create_discount_codes",
                functools.partial(_create_discount_codes, first.desired.body, codes),
                _phase(first),
                extra_keys=tuple(g.key for g in group[1:]),
            )
        )
    return calls


def _update_code(code_id: int, body: Mapping[str, Any], client: client_module.BoldClient) -> None:
    client.update_discount_code(code_id, body)


def _delete_code(code_id: int, client: client_module.BoldClient) -> None:
    client.delete_discount_code(code_id)


def calls_for(changes: Sequence[model.Change]) -> list[Call]:
    """Every call the changes need, each knowing the calls it must wait for."""
    calls: list[Call] = []
    codes = [c for c in changes if c.key.kind is model.Kind.DISCOUNT_CODE]
    for change in changes:
        if change.key.kind is model.Kind.RULESET:
            calls.extend(ruleset_calls(change))
        elif change.key.kind is model.Kind.ORDER_CONDITION:
            calls.extend(order_condition_calls(change))
    calls.extend(discount_code_calls(codes))
    changed_conditions = {c.key for c in changes if c.key.kind is model.Kind.ORDER_CONDITION}
    for call in calls:
        change = call.change
        if change.key.kind is model.Kind.RULESET and not isinstance(change, model.Delete):
            # A ruleset waits for the order conditions it refers to.
            call.after |= references(change.desired.body) & changed_conditions
    for call in calls:
        change = call.change
        if change.key.kind is model.Kind.ORDER_CONDITION and isinstance(change, model.Delete):
            # A condition is deleted only after every ruleset that referred to it has moved on.
            call.after |= {
                c.key
                for c in changes
                if c.key.kind is model.Kind.RULESET
                and not isinstance(c, model.Create)
                and change.key in references(c.live.body)
            }
    calls.sort(key=lambda c: (c.phase, c.change.key.sort_key))
    return calls


def _void(_: Any) -> None:
    return None


# --- ambiguous writes: read back, finish, never duplicate ------------------------------------


#: How many times a create whose outcome stayed unknown is read back and tried again.
AMBIGUOUS_ATTEMPTS = 6


def _settle(send: Callable[[], None], settled: Callable[[], bool]) -> None:
    """Send a non-idempotent write; whenever its outcome is unknown, read back before resending.

    ``settled`` reads the shop and answers whether the write (or what is left of it) is done;
    it also narrows what the next ``send`` carries. Never resends what already exists.
    """
    for _ in range(AMBIGUOUS_ATTEMPTS - 1):
        try:
            send()
            return
        except errors.AmbiguousWrite:
            if settled():
                return
    send()


def _create_order_condition(client: client_module.BoldClient, desired: model.Resource) -> None:
    name, value = desired.key.ident
    body = state.order_condition_to_api(desired.body)

    def settled() -> bool:
        found = client.get_order_condition(name, value)
        if found is None:
            return False
        if state.order_condition_resource(found).fingerprint() != desired.fingerprint():
            client.replace_order_condition(name, value, body)
        return True

    _settle(lambda: _void(client.create_order_condition(body)), settled)


def _add_field_sets(
    client: client_module.BoldClient, name: str, value: str, added: list[dict[str, Any]]
) -> None:
    pending = list(added)

    def settled() -> bool:
        found = client.get_order_condition(name, value) or {"name": name, "value": value}
        present = {
            model.canonical_json(fs)
            for fs in state.order_condition_resource(found).body["field_sets"]
        }
        pending[:] = [fs for fs in pending if model.canonical_json(fs) not in present]
        return not pending

    _settle(lambda: _void(client.add_field_sets(name, value, pending)), settled)


def _create_discount_codes(
    desired: Mapping[str, Any], codes: list[str], client: client_module.BoldClient
) -> None:
    pending = list(codes)

    def settled() -> bool:
        pending[:] = [code for code in pending if not _code_exists(client, code)]
        return not pending

    _settle(
        lambda: _void(
            client.create_discount_codes(state.discount_code_to_api(desired, codes=pending))
        ),
        settled,
    )


def _code_exists(client: client_module.BoldClient, code: str) -> bool:
    return any(d.get("code") == code for d in client.list_discount_codes(name=code))


# --- running --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one call."""

    call: Call
    status: str  # ok / failed / skipped
    milliseconds: int = 0
    error: str = ""
    exchanges: Sequence[client_module.Exchange] = ()


class Progress:
    """Progress lines on stderr and the JSON-lines ledger; both thread-safe."""

    def __init__(self, total: int, *, stream: TextIO | None, ledger: TextIO | None) -> None:
        self.total = total
        self.stream = stream
        self.ledger = ledger
        self.count = 0
        self._lock = threading.Lock()

    def record(self, outcome: Outcome) -> None:
        """Print and log one finished (or skipped) call."""
        with self._lock:
            self.count += 1
            if self.stream is not None:
                text = f"[{self.count}/{self.total}] {outcome.call.label()} … {outcome.status}"
                if outcome.status != "skipped":
                    text += f" {outcome.milliseconds} ms"
                if outcome.error:
                    text += f": {outcome.error}"
                print(text, file=self.stream, flush=True)
            if self.ledger is not None:
                for entry in self._entries(outcome):
                    self.ledger.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.ledger.flush()

    @staticmethod
    def _entries(outcome: Outcome) -> Iterator[dict[str, Any]]:
        """One ledger line per HTTP call (a skipped call gets one line with no request)."""
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
            ok = exchange.status is not None and exchange.status < 400
            entry: dict[str, Any] = {
                "time": exchange.finished_at,
                **base,
                "operation": exchange.route,
                "method": exchange.method,
                "path": exchange.path,
                "status": exchange.status,
                "milliseconds": round(exchange.milliseconds),
                "attempts": exchange.attempts,
                "outcome": "ok" if ok else "failed",
            }
            if not ok and exchange.error:
                entry["error"] = exchange.error
            yield entry


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    client: client_module.BoldClient,
    changes: Sequence[model.Change],
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> errors.ApplyReport:
    """Run every call, phase by phase, concurrently within a phase; raise on any failure."""
    calls = calls_for(changes)
    progress = progress or Progress(len(calls), stream=None, ledger=None)
    progress.total = len(calls)
    stop = stop or threading.Event()
    report = errors.ApplyReport()
    failed_keys: set[model.Key] = set()
    with (
        stop_on_signals(stop) as received,
        ThreadPoolExecutor(
            max_workers=max(1, client.concurrency), thread_name_prefix="apply"
        ) as pool,
    ):
        for phase in sorted({c.phase for c in calls}):
            running: dict[Future[Outcome], Call] = {}
            for call in (c for c in calls if c.phase == phase):
                if stop.is_set() or call.after & failed_keys or call.change.key in failed_keys:
                    outcome = Outcome(call, "skipped")
                    failed_keys.update(call.keys)
                    report.skipped += 1
                    progress.record(outcome)
                    continue
                # Keep no more than the client's limit queued, so a stop leaves little undone.
                while len(running) >= client.concurrency:
                    _collect(running, report, failed_keys, progress, block=True)
                running[pool.submit(_run, client, call)] = call
            while running:
                _collect(running, report, failed_keys, progress, block=True)
    if received:
        raise errors.Interrupted(report, received[0])
    if report.failed or report.skipped:
        raise errors.ApplyFailed(report)
    return report


def _run(client: client_module.BoldClient, call: Call) -> Outcome:
    started = time.monotonic()
    with client.observe() as exchanges:
        try:
            call.run(client)
        except errors.ApiError as exc:
            return Outcome(call, "failed", _ms(started), str(exc), tuple(exchanges))
    return Outcome(call, "ok", _ms(started), exchanges=tuple(exchanges))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _collect(
    running: dict[Future[Outcome], Call],
    report: errors.ApplyReport,
    failed_keys: set[model.Key],
    progress: Progress,
    *,
    block: bool,
) -> None:
    done, _ = wait(running, return_when=FIRST_COMPLETED, timeout=None if block else 0)
    for future in done:
        call = running.pop(future)
        outcome = future.result()
        if outcome.status == "ok":
            report.done += 1
        else:
            report.failed += 1
            report.failures.append(f"{call.label()}: {outcome.error}")
            failed_keys.update(call.keys)
        progress.record(outcome)


# --- saved plans ----------------------------------------------------------------------------


#: Up to this many touched objects are re-read one by one; more, and listing is cheaper.
PER_OBJECT_READS = 25


def changes_from_saved(
    client: client_module.BoldClient, saved: plan.SavedPlan
) -> list[model.Change]:
    """Re-read what the saved plan touches; refuse if anything moved; else rebuild its changes.

    Fresh reads also give the server ids (rule ids, field-set ids, code ids) the calls need.
    """
    keys = [c.key for c in saved.changes]
    current: dict[model.Key, model.Resource | None]
    if len(keys) <= PER_OBJECT_READS:
        with ThreadPoolExecutor(max_workers=max(1, client.concurrency)) as pool:
            current = dict(
                zip(keys, pool.map(lambda k: state.read_one(client, k), keys), strict=True)
            )
    else:
        live = {r.key: r for r in state.fetch_live(client).resources}
        current = {k: live.get(k) for k in keys}
    moved: list[str] = []
    changes: list[model.Change] = []
    for saved_change in saved.changes:
        now = current[saved_change.key]
        now_fp = now.fingerprint() if now is not None else None
        if now_fp != saved_change.live_fingerprint:
            moved.append(_movement(saved_change, now))
            continue
        if saved_change.action == "create" and saved_change.desired is not None:
            changes.append(model.Create(saved_change.desired))
        elif (
            saved_change.action == "update" and saved_change.desired is not None and now is not None
        ):
            changes.append(
                model.Update(
                    saved_change.desired,
                    now,
                    diff.field_changes(now.body, saved_change.desired.body),
                )
            )
        elif saved_change.action == "delete" and now is not None:
            changes.append(model.Delete(now))
    if moved:
        raise errors.StalePlan(moved)
    return plan.order_changes(changes)


def check_saved_plan(
    client: client_module.BoldClient,
    saved: plan.SavedPlan,
    *,
    project: config.Project,
    target: config.Target,
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
        safety=plan.evaluate_safety(changes, managed=managed, rules=project.safety),
        created_at=str(saved.document.get("created_at", "")),
    )


def _movement(saved_change: plan.SavedChange, now: model.Resource | None) -> str:
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
