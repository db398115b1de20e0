"""``boldrules doctor --write``: probe objects through every route apply uses, always removed.

Takes the project's apply lock (checking that a second take is refused with 409), then
creates, reads back, changes and deletes a probe ruleset, order condition, discount code and
ownership record named ``boldrules-doctor-<stamp>-<hex>`` (inactive, 0%, no product, dated
2099: nothing a customer can see), recording a ``doctor.Check`` for each route. Whatever
happens (an error, Ctrl-C, SIGTERM), every probe that exists is deleted in a ``finally``,
with SIGINT ignored meanwhile; probes left by a run killed outright are deleted by the next
``--write`` once an hour old.

Owns the probes and their cleanup; the checks' recording and the route search are
``doctor.Doctor``'s. It must not print.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from reconciler import doctor, errors, lock, model, ownership, state
from reconciler.doctor import FAIL, OK, Check, Failed


class _Terminated(BaseException):
    """SIGTERM during ``--write``: unwinds to the ``finally`` that deletes the probes."""


@dataclass
class _Probes:
    """The probe objects that exist in the shop right now (what cleanup must delete)."""

    ruleset: str | None = None
    ruleset_id: int | None = None
    condition: tuple[str, str] | None = None
    code_id: int | None = None
    code: str = ""
    record: str | None = None
    lock: lock.ApplyLock | None = None


def run(checker: doctor.Doctor) -> None:
    """Every write check, on probes that are deleted again however the run ends."""
    _Run(checker).run()


class _Run:
    """One ``--write`` run: the probes that exist, and the checks over them."""

    def __init__(self, checker: doctor.Doctor) -> None:
        self.doctor = checker
        self.bold = checker.bold
        self.report = checker.report
        self.project = checker.project
        self.name = checker.name
        self.now = checker.now
        self.seen = checker.seen
        self.check = checker.check
        self.add = checker.add
        self.skip = checker.skip
        self.probes = _Probes()

    def run(self) -> None:
        main = threading.current_thread() is threading.main_thread()
        previous: Any = None
        if main:

            def terminate(signum: int, _frame: FrameType | None) -> None:
                raise _Terminated(signal.Signals(signum).name)

            previous = signal.signal(signal.SIGTERM, terminate)
        try:
            self._leftovers()
            if not self._take_lock():
                self.skip(
                    "the write checks",
                    "not run without the apply lock: they would race an apply (see above)",
                )
                return
            self._ruleset_checks()
            self._condition_checks()
            self._code_checks()
            self._record_checks()
        except (_Terminated, KeyboardInterrupt) as exc:
            self.report.interrupted = str(exc) if isinstance(exc, _Terminated) else "SIGINT"
        finally:
            ignored = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                self._cleanup()
            finally:
                if main:
                    signal.signal(signal.SIGINT, ignored)
                    signal.signal(signal.SIGTERM, previous)

    def _leftovers(self) -> None:
        bold, now = self.bold, self.now()
        old: list[str] = []
        for r in self.seen.get("rulesets", []):
            eid = str(r.get("external_id") or "")
            age = doctor.probe_age(eid, now)
            if age is not None and age > doctor.LEFTOVER_AGE:
                bold.delete_ruleset(eid)
                old.append(f"ruleset {eid}")
        for c in self.seen.get("order_conditions", []):
            name = str(c.get("name") or "")
            age = doctor.probe_age(name, now)
            if age is not None and age > doctor.LEFTOVER_AGE:
                bold.delete_order_condition(name, str(c.get("value")))
                old.append(f"order condition {name}")
        for c in self.seen.get("discount_codes", []):
            code = str(c.get("code") or "")
            age = doctor.probe_age(code, now)
            if age is not None and age > doctor.LEFTOVER_AGE and c.get("id") is not None:
                bold.delete_discount_code(c["id"])
                old.append(f"discount code {code}")
        if old:
            self.add(
                Check(
                    OK,
                    "leftover probes",
                    got=f"deleted {len(old)} left by a killed doctor run: {', '.join(old)}",
                )
            )

    def _take_lock(self) -> bool:
        bold = self.bold
        probe = lock.ApplyLock(bold, self.project, clock=self.now, notify=lambda _text: None)

        def take() -> str:
            try:
                probe.acquire(timeout=0)
            except errors.LockHeld as exc:
                raise Failed(f"another run holds the apply lock: {exc}") from None
            self.probes.lock = probe
            return f"took {probe.external_id} (id {probe.ruleset_id}) for the length of the checks"

        if not self.check("create_ruleset (apply lock)", "create_ruleset", take, fixable=False):
            last = self.report.checks[-1]
            if "another run holds" in last.got:
                self.report.checks[-1] = Check(
                    FAIL, last.title, last.sent, last.got, route=last.route, cause="lock"
                )
            return False
        second = lock.ApplyLock(bold, self.project, clock=self.now, notify=lambda _text: None)

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

        self.check("create_ruleset 409 on a duplicate", "create_ruleset", exclude, fixable=False)

        def renew() -> str:
            if not probe.renew():
                raise Failed("the renewal did not find the lock")
            return "renewed (PUT by server id)"

        self.check("replace_ruleset_by_id (lock renewal)", "replace_ruleset_by_id", renew)
        return True

    def _rule(self, step: int) -> dict[str, Any]:
        return ownership.bookkeeping_rule(
            {"boldrules": "doctor probe: safe to delete", "step": step}
        )

    def _ruleset_body(self, **rules: int) -> dict[str, Any]:
        return ownership.bookkeeping_ruleset(
            self.name,
            f"boldrules doctor probe ({self.name}): safe to delete",
            {eid: self._rule(step) for eid, step in rules.items()},
        )

    def _read_ruleset(self, *, by_id: bool = False) -> tuple[Mapping[str, Any], dict[str, int]]:
        bold = self.bold
        data = (
            bold.get_ruleset_by_id(self.probes.ruleset_id or 0)
            if by_id
            else bold.get_ruleset(self.name)
        )
        if data is None:
            raise Failed("the probe ruleset is not there when read back")
        resource = state.ruleset_resource(data)
        return resource.body, dict(resource.handles.get("rule_ids") or {})

    def _expect(self, want: Mapping[str, Any], got: Mapping[str, Any], what: str) -> None:
        differs = doctor.diff_fields(want, got)
        if differs:
            raise Failed(f"{what}: read back, it differs in {', '.join(differs[:6])}")

    def _ruleset_checks(self) -> None:
        bold, eid = self.bold, self.name
        body = self._ruleset_body(a=1, b=1)

        def create() -> str:
            with bold.observe() as seen:
                bold.upsert_ruleset(eid, state.ruleset_to_api(body))
            self.probes.ruleset = eid
            got, _ = self._read_ruleset()
            self._probe_id()
            self._expect(body, got, "the created ruleset")
            status = seen[0].status if seen else None
            if status != 201:
                return f"created, read back equal (answered {status}, not the contract's 201)"
            return "created; GET by external id reads it back equal"

        if (
            not self.check("upsert_ruleset (create)", "upsert_ruleset", create)
            and self.probes.ruleset is None
        ):
            self.skip("the other ruleset routes", "the probe ruleset could not be created")
            return
        _, before = self._read_ruleset()
        changed = self._ruleset_body(a=2, b=1)

        def replace() -> str:
            bold.upsert_ruleset(eid, state.ruleset_to_api(changed))
            got, after = self._read_ruleset()
            self._expect(changed, got, "the replaced ruleset")
            if after != before:
                raise Failed(
                    f"PUT gave the rules new ids ({before} → {after}): apply names rules by "
                    "PATCH first for this reason"
                )
            return "replaced; PUT keeps the ids of rules whose external id matches"

        self.check("upsert_ruleset (replace)", "upsert_ruleset", replace)

        def patch() -> str:
            bold.patch_ruleset(
                eid,
                {
                    "rules": [
                        state.rule_to_api("a", self._rule(3)),
                        state.rule_to_api("c", self._rule(1)),
                    ]
                },
            )
            got, ids = self._read_ruleset()
            want = self._ruleset_body(a=3, b=1, c=1)
            self._expect(want, got, "after a PATCH of rule a and a new rule c")
            if ids.get("b") != before.get("b"):
                raise Failed("PATCH replaced rule b, which it was not given")
            return "rule a replaced, rule c appended, rule b left as it was"

        self.check("patch_ruleset", "patch_ruleset", patch)

        def delete_rules() -> str:
            _, ids = self._read_ruleset()
            if "c" not in ids:
                raise Failed("no rule c to delete (the PATCH check failed)")
            bold.delete_rules(eid, [int(ids["c"])])
            got, _ = self._read_ruleset()
            if "c" in got["rules"]:
                raise Failed("rule c is still there")
            return "rule c deleted, the others kept"

        self.check("delete_rules", "delete_rules", delete_rules)
        ident = self._probe_id()

        def patch_by_id() -> str:
            _, ids = self._read_ruleset(by_id=True)
            bold.patch_ruleset_by_id(
                ident, {"rules": [state.rule_to_api("b", self._rule(4), rule_id=int(ids["b"]))]}
            )
            got, after = self._read_ruleset(by_id=True)
            if got["rules"].get("b") != self._rule(4) or after.get("b") != ids["b"]:
                raise Failed("rule b was not replaced in place (same id, new meta)")
            return "rule b replaced in place by its id"

        self.check("patch_ruleset_by_id", "patch_ruleset_by_id", patch_by_id)

        def replace_by_id() -> str:
            want = self._ruleset_body(a=5, b=5)
            bold.replace_ruleset_by_id(ident, state.ruleset_to_api(want))
            got, _ = self._read_ruleset(by_id=True)
            self._expect(want, got, "after a PUT by server id")
            return "replaced by server id; GET by id reads it back equal"

        self.check("replace_ruleset_by_id", "replace_ruleset_by_id", replace_by_id)

        def delete_rules_by_id() -> str:
            _, ids = self._read_ruleset(by_id=True)
            bold.delete_rules_by_id(ident, [int(ids["a"])])
            got, _ = self._read_ruleset(by_id=True)
            if "a" in got["rules"] or "b" not in got["rules"]:
                raise Failed("rule a should be gone and rule b kept")
            return "rule a deleted by the ruleset's server id"

        self.check("delete_rules_by_id", "delete_rules_by_id", delete_rules_by_id)

        def delete() -> str:
            with bold.observe() as seen:
                bold.delete_ruleset(eid)
            if bold.get_ruleset(eid) is not None:
                raise Failed("the probe ruleset is still there")
            self.probes.ruleset = None
            status = next((e.status for e in seen if e.route == "delete_ruleset"), None)
            empty = " with no body" if status == 204 else ""
            return f"deleted (answers {status}{empty}); GET then answers 404"

        self.check("delete_ruleset", "delete_ruleset", delete)

    def _probe_id(self) -> int:
        data = self.bold.get_ruleset(self.name)
        if data is None or data.get("id") is None:
            raise Failed("the probe ruleset has no id")
        self.probes.ruleset_id = int(data["id"])
        return int(data["id"])

    def _condition_checks(self) -> None:
        bold, name, value = self.bold, self.name, "probe"

        def body(*codes: str) -> Mapping[str, Any]:
            return state.order_condition_resource(
                {
                    "name": name,
                    "value": value,
                    "field_sets": [{"customer.shipping.country_code": c} for c in codes],
                }
            ).body

        def read() -> model.Resource:
            data = bold.get_order_condition(name, value)
            if data is None:
                raise Failed("the probe order condition is not there when read back")
            return state.order_condition_resource(data)

        def create() -> str:
            bold.create_order_condition(state.order_condition_to_api(body("ZZ")))
            self.probes.condition = (name, value)
            self._expect(body("ZZ"), read().body, "the created order condition")
            return f"created {name}={value}; GET reads it back equal"

        if (
            not self.check("create_order_condition", "create_order_condition", create)
            and self.probes.condition is None
        ):
            self.skip("the other order condition routes", "the probe could not be created")
            return

        def add() -> str:
            bold.add_field_sets(name, value, [{"customer.shipping.country_code": "ZY"}])
            self._expect(body("ZZ", "ZY"), read().body, "after adding a field set")
            return "field set added"

        self.check("add_field_sets", "add_field_sets", add)

        def remove() -> str:
            ids = read().handles.get("field_set_ids") or {}
            target = ids.get(model.canonical_json({"customer.shipping.country_code": "ZY"}))
            if target is None:
                raise Failed("no field set ZY to delete (the add check failed)")
            bold.delete_field_sets(name, value, [int(target)])
            self._expect(body("ZZ"), read().body, "after deleting a field set")
            return "field set deleted by id"

        self.check("delete_field_sets", "delete_field_sets", remove)

        def replace() -> str:
            bold.replace_order_condition(name, value, state.order_condition_to_api(body("ZX")))
            self._expect(body("ZX"), read().body, "after a PUT")
            return "replaced; GET reads it back equal"

        self.check("replace_order_condition", "replace_order_condition", replace)

        def delete() -> str:
            with bold.observe() as seen:
                bold.delete_order_condition(name, value)
            if bold.get_order_condition(name, value) is not None:
                raise Failed("the probe order condition is still there")
            self.probes.condition = None
            status = next((e.status for e in seen if e.route == "delete_order_condition"), None)
            return f"deleted (answers {status}); GET then answers 404"

        self.check("delete_order_condition", "delete_order_condition", delete)

    def _code_checks(self) -> None:
        bold, code = self.bold, self.name

        def body(day: int) -> Mapping[str, Any]:
            # Never redeemable: it starts and ends in 2099 and discounts no product by 0%.
            return state.discount_code_resource(
                {
                    "code": code,
                    "action": {"type": "PRICE_ADJUST_PERCENT", "value": 0},
                    "product_selection": {
                        "type": "PRODUCT_SEARCH",
                        "sku_ids": [ownership.NO_PRODUCT],
                    },
                    "start_date": "2099-01-01T00:00:00Z",
                    "expiry_date": f"2099-01-{day:02d}T00:00:00Z",
                }
            ).body

        def read() -> model.Resource:
            data = bold.get_discount_code(self.probes.code_id or 0)
            if data is None:
                raise Failed("the probe discount code is not there when read back")
            return state.discount_code_resource(data)

        def create() -> str:
            made = bold.create_discount_codes(
                state.discount_code_to_api(body(2), codes=[code])["discount_code"]
            )
            mine = [c for c in made if str(c.get("code")) == code] or made
            if not mine or mine[0].get("id") is None:
                listed = bold.list_discount_codes(name=code)
                mine = [c for c in listed if str(c.get("code")) == code]
            if not mine:
                raise Failed("the created code is not there")
            self.probes.code_id, self.probes.code = int(mine[0]["id"]), code
            self._expect(body(2), read().body, "the created discount code")
            backing = mine[0].get("ruleset_id")
            own = {r.get("id") for r in bold.list_rulesets()}
            if backing is not None and backing in own:
                raise Failed(
                    f"its backing ruleset {backing} shows in this app's listing: "
                    "plan would delete it"
                )
            return "created; GET reads it back equal; its backing ruleset is not this app's"

        if (
            not self.check("create_discount_codes", "create_discount_codes", create)
            and self.probes.code_id is None
        ):
            self.skip("the other discount code routes", "the probe could not be created")
            return

        def update() -> str:
            bold.update_discount_code(self.probes.code_id or 0, state.discount_code_to_api(body(3)))
            self._expect(body(3), read().body, "after a PUT")
            return "updated; GET reads it back equal"

        self.check("update_discount_code", "update_discount_code", update)

        def delete() -> str:
            with bold.observe() as seen:
                bold.delete_discount_code(self.probes.code_id or 0)
            if bold.get_discount_code(self.probes.code_id or 0) is not None:
                raise Failed("the probe discount code is still there")
            self.probes.code_id = None
            status = next((e.status for e in seen if e.route == "delete_discount_code"), None)
            return f"deleted (answers {status}); GET then answers 404"

        self.check("delete_discount_code", "delete_discount_code", delete)

    def _record_checks(self) -> None:
        bold, project = self.bold, self.name
        members = [model.ruleset_key(self.name), model.order_condition_key(self.name, "probe")]

        def write() -> str:
            ownership.write(bold, project, members)
            self.probes.record = ownership.record_id(project)
            found = ownership.read_record(bold, project)
            if not isinstance(found, ownership.Record) or set(found.members) != set(members):
                raise Failed("the record read back does not list what was written")
            return f"a probe record ({self.probes.record}) written and read back"

        self.check("ownership record (write)", "upsert_ruleset", write, fixable=False)

    def _cleanup(self) -> None:
        bold, probes = self.bold, self.probes
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
            steps.append(
                (f"discount code {probes.code}", lambda: bold.delete_discount_code(code_id))
            )
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
            self.add(
                Check(
                    FAIL,
                    "cleanup",
                    got=f"could not delete {'; '.join(failed)}",
                    notes=(
                        "delete it by hand; the next `doctor --write` deletes probes over an "
                        "hour old",
                    ),
                )
            )
        elif done:
            self.add(Check(OK, "cleanup", got=f"deleted {', '.join(done)}"))


def _first_ok(first: Callable[[], None], second: Callable[[], None] | None) -> None:
    try:
        first()
    except errors.ApiError:
        if second is None:
            raise
        second()
