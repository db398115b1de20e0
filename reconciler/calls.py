"""Changes → the fewest API calls, each knowing what it must wait for (the call mapping).

The call mapping (also in docs/apply.md):

====================================================  =========================================
change                                                calls
====================================================  =========================================
create ruleset                                        PUT rulesets/external/{eid} (an upsert)
update ruleset: only rules removed                    DELETE rulesets/external/{eid}/rules
update ruleset: dates and/or changed or new rules     PATCH rulesets/external/{eid}
update ruleset: the above and rules removed           PATCH, then DELETE …/rules (bulk)
update ruleset: anything else                         PUT rulesets/external/{eid}
update ruleset: give it its external id (adopt)       PUT rulesets/{id} (replace by server id)
  … and name rules that have no external id           PATCH first (…/{id} or …/external/{eid})
delete ruleset                                        DELETE rulesets/external/{eid}
delete ruleset without an external id                 DELETE rulesets/{id}
create order condition                                POST order_conditions
update order condition: only field sets changed       POST / DELETE order_conditions/field_sets
  (duplicate field sets included)
update order condition: anything else                 PUT order_conditions/{name}/{value}
delete order condition                                DELETE order_conditions/{name}/{value}
create discount codes sharing one configuration       one POST discount_codes
update discount code                                  PUT discount_codes/{id}
delete discount code                                  DELETE discount_codes/{id}
====================================================  =========================================

Rules are sent with their server ``id`` wherever one is known, so a PATCH replaces exactly that
rule (Bold matches by id first): a rule without an external id gets its name in place, keeping
its id, and a copy under a duplicated external id is never the one updated. A PUT keeps the id
of a rule whose external id matches, so rules being named are named by a PATCH before a PUT.

A POST whose outcome is unknown (``AmbiguousWrite``) is read back and finished, never repeated
blindly. This module builds calls; it does not run them (``apply.py`` does) and decides nothing
about what should change (the plan's job).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import client as client_module
from reconciler import diff, errors, kinds, model, state
from reconciler.kinds import discount_code, ruleset

_RULESET = kinds.by_name[model.Kind.RULESET]
_ORDER_CONDITION = kinds.by_name[model.Kind.ORDER_CONDITION]

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


def _phase(change: model.Change) -> int:
    return kinds.phase(change)


def ruleset_calls(change: model.Change) -> list[Call]:
    """The calls for one ruleset change (see the table above)."""
    key = change.key
    if isinstance(change, model.Create):
        eid = key.ident[0]
        body = _RULESET.to_api(change.desired.body)
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
        if key.server_id is not None:  # no external id: by server id, never ``…/external/None``
            server_id = key.server_id
            return [
                Call(
                    change,
                    "delete",
                    "delete_ruleset_by_id",
                    lambda c: c.delete_ruleset_by_id(server_id),
                    _phase(change),
                )
            ]
        eid = key.ident[0]
        return [
            Call(
                change, "delete", "delete_ruleset", lambda c: c.delete_ruleset(eid), _phase(change)
            )
        ]
    return [_ruleset_update(change)]


def _ruleset_update(change: model.Update) -> Call:
    desired, live = change.desired.body, change.live.body
    eid = str(desired["external_id"])
    live_eid = live.get("external_id")
    server_id = change.live.key.server_id or change.live.handles.get("id") or ""
    pairing = diff.pair_rules(change.desired, change.live)
    want_rules, have_rules, rule_ids = desired["rules"], pairing.rules, pairing.rule_ids
    top_changed = {
        k for k in desired if k not in ("rules", "external_id") and desired[k] != live.get(k)
    }
    removed = sorted(set(have_rules) - set(want_rules))
    touched = sorted(
        r for r in want_rules if have_rules.get(r) != want_rules[r] or r in pairing.named
    )
    doomed = [int(rule_ids[r]) for r in removed if r in rule_ids]
    doomed += [int(ident) for _, ident, _ in pairing.duplicates.values() if ident is not None]

    def rule(name: str) -> dict[str, Any]:
        ident = rule_ids.get(name)
        return ruleset.rule_to_api(name, want_rules[name], rule_id=_int(ident))

    if live_eid == eid and top_changed <= PATCHABLE and want_rules:
        patch: dict[str, Any] | None = None
        if touched or top_changed:
            # PATCH needs a non-empty rules list: a dates-only change re-sends one rule as it is.
            sent = touched or [sorted(want_rules)[0]]
            patch = {k: desired[k] for k in sorted(top_changed)}
            patch["rules"] = [rule(r) for r in sent]
        operations = [
            name for name, needed in (("patch_ruleset", patch), ("delete_rules", doomed)) if needed
        ]

        def run(client: client_module.BoldClient) -> None:
            # One call object, so the bulk delete never races the PATCH on the same ruleset.
            if patch is not None:
                client.patch_ruleset(eid, patch)
            if doomed:
                client.delete_rules(eid, doomed)

        return Call(change, "update", "+".join(operations), run, _phase(change))
    # A PUT: the ruleset gets its external id (by server id) or a field PATCH cannot carry.
    # Rules still without a name get it by a PATCH first, so the PUT keeps their ids.
    # Duplicate copies go first, so the PUT keeps the id of the rule that stays, not a copy's.
    naming = {"rules": [rule(r) for r in sorted(pairing.named)]} if pairing.named else None
    copies = [int(ident) for _, ident, _ in pairing.duplicates.values() if ident is not None]
    body = _RULESET.to_api(desired)
    by_id = live_eid != eid
    steps = (
        ("delete_rules", copies),
        ("patch_ruleset", naming),
        ("replace_ruleset" if by_id else "upsert_ruleset", True),
    )
    operations = [name + ("_by_id" if by_id else "") for name, needed in steps if needed]

    def put(client: client_module.BoldClient) -> None:
        if by_id:
            if copies:
                client.delete_rules_by_id(server_id, copies)
            if naming is not None:
                client.patch_ruleset_by_id(server_id, naming)
            client.replace_ruleset_by_id(server_id, body)
        else:
            if copies:
                client.delete_rules(eid, copies)
            if naming is not None:
                client.patch_ruleset(eid, naming)
            client.upsert_ruleset(eid, body)

    return Call(change, "update", "+".join(operations), put, _phase(change))


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


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
    copies = change.live.handles.get("duplicate_field_set_ids", {})
    added = [dict(want[k]) for k in sorted(want.keys() - have.keys())]
    gone_keys = sorted(have.keys() - want.keys())
    only_field_sets = all(desired[k] == live.get(k) for k in desired if k != "field_sets")
    if (
        not only_field_sets
        or not (added or gone_keys or copies)
        or any(k not in ids_by_set for k in gone_keys)
    ):
        # Anything beyond field sets, or a field set without a known id: restate it whole.
        body = _ORDER_CONDITION.to_api(desired)
        return [
            Call(
                change,
                "update",
                "replace_order_condition",
                lambda c: _void(c.replace_order_condition(name, value, body)),
                _phase(change),
            )
        ]
    # Gone field sets go with every copy; a field set that stays loses its extra copies.
    gone = [int(ids_by_set[k]) for k in gone_keys]
    gone += [int(i) for k in sorted(copies) for i in copies[k]]
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
            # No ``code``: the contract reserves it for renames, and identity never changes here.
            body = discount_code.to_api(change.desired.body)
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


#: Each kind's call mapping: its changes (in plan order) → their calls.
MAPPING: Mapping[model.Kind, Callable[[Sequence[model.Change]], list[Call]]] = {
    model.Kind.ORDER_CONDITION: lambda changes: [
        call for change in changes for call in order_condition_calls(change)
    ],
    model.Kind.RULESET: lambda changes: [
        call for change in changes for call in ruleset_calls(change)
    ],
    model.Kind.DISCOUNT_CODE: discount_code_calls,
}


def calls_for(changes: Sequence[model.Change]) -> list[Call]:
    """Every call the changes need, each knowing the calls it must wait for.

    An object waits for the changed objects it refers to (a ruleset for its order conditions);
    a referred-to object is deleted only after every object that referred to it has moved on.
    """
    calls: list[Call] = []
    for kind in model.Kind:
        calls.extend(MAPPING[kind]([c for c in changes if c.key.kind is kind]))
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


def _void(_: Any) -> None:
    return None


# --- ambiguous writes: read back, finish, never duplicate ------------------------------------


#: How many times a create whose outcome stayed unknown is read back and tried again.
AMBIGUOUS_ATTEMPTS = 6
#: How many times a whole call whose outcome stayed unknown is read back and run again.
SETTLE_RUNS = 3


def run_settled(client: client_module.BoldClient, call: Call) -> None:
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


def _converged(client: client_module.BoldClient, call: Call) -> bool:
    """Whether every object ``call`` changes now reads as its change wants it."""
    change = call.change
    want = None if isinstance(change, model.Delete) else change.desired.fingerprint()
    for key in call.keys:
        now = state.read_one(client, key)
        if (now.fingerprint() if now is not None else None) != want:
            return False
    return True


def _settle(
    client: client_module.BoldClient, send: Callable[[], None], settled: Callable[[], bool]
) -> None:
    """Send a write; whenever its outcome is unknown, read back before resending.

    ``settled`` reads the shop and answers whether the write (or what is left of it) is done;
    it also narrows what the next ``send`` carries. Never resends what already exists.
    """
    for _ in range(AMBIGUOUS_ATTEMPTS - 1):
        try:
            send()
            return
        except errors.AmbiguousWrite:
            client.annotate("outcome unknown: read back")
            if settled():
                return
    send()


def _create_order_condition(client: client_module.BoldClient, desired: model.Resource) -> None:
    name, value = desired.key.ident
    body = _ORDER_CONDITION.to_api(desired.body)

    def settled() -> bool:
        found = client.get_order_condition(name, value)
        if found is None:
            return False
        if _ORDER_CONDITION.resource(found).fingerprint() != desired.fingerprint():
            client.replace_order_condition(name, value, body)
        return True

    _settle(client, lambda: _void(client.create_order_condition(body)), settled)


def _add_field_sets(
    client: client_module.BoldClient, name: str, value: str, added: list[dict[str, Any]]
) -> None:
    pending = list(added)

    def settled() -> bool:
        found = client.get_order_condition(name, value) or {"name": name, "value": value}
        present = {
            model.canonical_json(fs) for fs in _ORDER_CONDITION.resource(found).body["field_sets"]
        }
        pending[:] = [fs for fs in pending if model.canonical_json(fs) not in present]
        return not pending

    _settle(client, lambda: _void(client.add_field_sets(name, value, pending)), settled)


def _create_discount_codes(
    desired: Mapping[str, Any], codes: list[str], client: client_module.BoldClient
) -> None:
    pending = list(codes)

    def settled() -> bool:
        pending[:] = [code for code in pending if not _code_exists(client, code)]
        return not pending

    _settle(
        client,
        lambda: _void(client.create_discount_codes(discount_code.to_api(desired, codes=pending))),
        settled,
    )


def _code_exists(client: client_module.BoldClient, code: str) -> bool:
    wanted = model.discount_code_key(code).match
    return any(
        model.discount_code_key(str(d.get("code", ""))).match == wanted
        for d in client.list_discount_codes(name=code)
    )
