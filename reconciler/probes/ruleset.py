"""The probe ruleset through every ruleset route apply uses: created, read back by external id
and by server id, replaced, patched (a rule replaced, one appended), rules deleted, deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import kinds, model, ownership, state
from reconciler.doctor.recording import Failed
from reconciler.probes.session import Leftover, Session


def _delete_leftover(bold: kinds.Shop, listed: Mapping[str, Any]) -> bool:
    bold.delete_ruleset(str(listed.get("external_id") or ""))
    return True


#: A killed run's probe ruleset, named by its external id.
LEFTOVER = Leftover(model.Kind.RULESET, "external_id", _delete_leftover)


def _rule(step: int) -> dict[str, Any]:
    """A probe rule, told apart by its ``step`` (in its ``meta``)."""
    return ownership.bookkeeping_rule({"boldrules": "doctor probe: safe to delete", "step": step})


def _ruleset_body(session: Session, **rules: int) -> dict[str, Any]:
    return ownership.bookkeeping_ruleset(
        session.name,
        f"boldrules doctor probe ({session.name}): safe to delete",
        {eid: _rule(step) for eid, step in rules.items()},
    )


def _read_ruleset(
    session: Session, *, by_id: bool = False
) -> tuple[Mapping[str, Any], dict[str, int]]:
    bold = session.bold
    data = (
        bold.get_ruleset_by_id(session.probes.ruleset_id or 0)
        if by_id
        else bold.get_ruleset(session.name)
    )
    if data is None:
        raise Failed("the probe ruleset is not there when read back")
    resource = state.ruleset_resource(data)
    return resource.body, dict(resource.handles.get("rule_ids") or {})


def checks(session: Session) -> None:
    """Every ruleset route on the probe ruleset, which ends deleted."""
    bold, eid = session.bold, session.name
    body = _ruleset_body(session, a=1, b=1)

    def create() -> str:
        with bold.observe() as seen:
            bold.upsert_ruleset(eid, state.ruleset_to_api(body))
        session.probes.ruleset = eid
        got, _ = _read_ruleset(session)
        _probe_id(session)
        session.expect(body, got, "the created ruleset")
        status = seen[0].status if seen else None
        if status != 201:
            return f"created, read back equal (answered {status}, not the contract's 201)"
        return "created; GET by external id reads it back equal"

    if (
        not session.check("upsert_ruleset (create)", "upsert_ruleset", create)
        and session.probes.ruleset is None
    ):
        session.skip("the other ruleset routes", "the probe ruleset could not be created")
        return
    _, before = _read_ruleset(session)
    changed = _ruleset_body(session, a=2, b=1)

    def replace() -> str:
        bold.upsert_ruleset(eid, state.ruleset_to_api(changed))
        got, after = _read_ruleset(session)
        session.expect(changed, got, "the replaced ruleset")
        if after != before:
            raise Failed(
                f"PUT gave the rules new ids ({before} → {after}): apply names rules by "
                "PATCH first for this reason"
            )
        return "replaced; PUT keeps the ids of rules whose external id matches"

    session.check("upsert_ruleset (replace)", "upsert_ruleset", replace)

    def patch() -> str:
        bold.patch_ruleset(
            eid,
            {
                "rules": [
                    state.rule_to_api("a", _rule(3)),
                    state.rule_to_api("c", _rule(1)),
                ]
            },
        )
        got, ids = _read_ruleset(session)
        want = _ruleset_body(session, a=3, b=1, c=1)
        session.expect(want, got, "after a PATCH of rule a and a new rule c")
        if ids.get("b") != before.get("b"):
            raise Failed("PATCH replaced rule b, which it was not given")
        return "rule a replaced, rule c appended, rule b left as it was"

    session.check("patch_ruleset", "patch_ruleset", patch)

    def delete_rules() -> str:
        _, ids = _read_ruleset(session)
        if "c" not in ids:
            raise Failed("no rule c to delete (the PATCH check failed)")
        bold.delete_rules(eid, [int(ids["c"])])
        got, _ = _read_ruleset(session)
        if "c" in got["rules"]:
            raise Failed("rule c is still there")
        return "rule c deleted, the others kept"

    session.check("delete_rules", "delete_rules", delete_rules)
    ident = _probe_id(session)

    def patch_by_id() -> str:
        _, ids = _read_ruleset(session, by_id=True)
        bold.patch_ruleset_by_id(
            ident, {"rules": [state.rule_to_api("b", _rule(4), rule_id=int(ids["b"]))]}
        )
        got, after = _read_ruleset(session, by_id=True)
        if got["rules"].get("b") != _rule(4) or after.get("b") != ids["b"]:
            raise Failed("rule b was not replaced in place (same id, new meta)")
        return "rule b replaced in place by its id"

    session.check("patch_ruleset_by_id", "patch_ruleset_by_id", patch_by_id)

    def replace_by_id() -> str:
        want = _ruleset_body(session, a=5, b=5)
        bold.replace_ruleset_by_id(ident, state.ruleset_to_api(want))
        got, _ = _read_ruleset(session, by_id=True)
        session.expect(want, got, "after a PUT by server id")
        return "replaced by server id; GET by id reads it back equal"

    session.check("replace_ruleset_by_id", "replace_ruleset_by_id", replace_by_id)

    def delete_rules_by_id() -> str:
        _, ids = _read_ruleset(session, by_id=True)
        bold.delete_rules_by_id(ident, [int(ids["a"])])
        got, _ = _read_ruleset(session, by_id=True)
        if "a" in got["rules"] or "b" not in got["rules"]:
            raise Failed("rule a should be gone and rule b kept")
        return "rule a deleted by the ruleset's server id"

    session.check("delete_rules_by_id", "delete_rules_by_id", delete_rules_by_id)

    def delete() -> str:
        with bold.observe() as seen:
            bold.delete_ruleset(eid)
        if bold.get_ruleset(eid) is not None:
            raise Failed("the probe ruleset is still there")
        session.probes.ruleset = None
        status = next((e.status for e in seen if e.route == "delete_ruleset"), None)
        empty = " with no body" if status == 204 else ""
        return f"deleted (answers {status}{empty}); GET then answers 404"

    session.check("delete_ruleset", "delete_ruleset", delete)


def _probe_id(session: Session) -> int:
    data = session.bold.get_ruleset(session.name)
    if data is None or data.get("id") is None:
        raise Failed("the probe ruleset has no id")
    session.probes.ruleset_id = int(data["id"])
    return int(data["id"])
