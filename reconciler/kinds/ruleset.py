"""Rulesets (contract §5.1-§5.3): an app's own price rules, each with its rules.

Owns the ruleset's quirks: defaults, instants, the product selection's id sets, rules keyed by
``external_id`` (``kinds/rules.py``), a live ruleset without an ``external_id`` keyed by its
server id, ``adopt`` hints; its PUT body; its manifest form; the order conditions its rules
refer to. A ruleset is ours when the token lists it (the listing is the app's own).

Its call mapping (the whole table is in docs/apply.md):

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
====================================================  =========================================

Rules are sent with their server ``id`` wherever one is known, so a PATCH replaces exactly that
rule (Bold matches by id first): a rule without an external id gets its name in place, keeping
its id, and a copy under a duplicated external id is never the one updated. A PUT keeps the id
of a rule whose external id matches, so rules being named are named by a PATCH before a PUT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict

from reconciler import describe, model, pagination
from reconciler.kinds import base, fields, rules, shop


class Adopt(TypedDict):
    """A manifest's ``adopt`` hints (written by export): whose server ids its names take."""

    shop: str
    id: Any
    rules: dict[str, Any]


def manifest(body: Mapping[str, Any], *, adopt: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A normalised ruleset → its manifest mapping, defaults left out, ``adopt`` if given."""
    data: dict[str, Any] = {"external_id": body["external_id"]}
    if adopt:
        data["adopt"] = dict(adopt)
    data.update(fields.without_defaults(body, "ruleset"))
    data["product_selection"] = fields.distinct(dict(body["product_selection"]))
    data["rules"] = [
        fields.distinct(rules.manifest(eid, rule)) for eid, rule in sorted(body["rules"].items())
    ]
    return data


def _named(resource: model.Resource, taken: set[str], *, shop: str) -> model.Resource:
    """One ruleset with every rule (and itself) named, ``adopt`` saying whose ids they were."""
    body = dict(resource.body)
    ids = resource.handles.get("rule_ids", {})
    copies = resource.handles.get("duplicate_rules", {})
    rule_names = {k for k in body["rules"] if not rules.is_unnamed_rule(k)}
    kept: dict[str, Any] = {}
    hints: dict[str, Any] = {}
    for key, rule in sorted(body["rules"].items()):
        if key in copies:
            continue
        if rules.is_unnamed_rule(key) and ids.get(key) is not None:
            name = rules.unique_name(
                rules.name_slug(str(rule["type"])) or "rule", ids[key], rule_names
            )
            hints[name] = ids[key]
            key = name
        kept[key] = rule
    body["rules"] = kept
    adopt: dict[str, Any] = {}
    if resource.key.server_id is not None:
        label = str(body.get("public_name") or body.get("internal_name") or "")
        name = rules.unique_name(rules.name_slug(label) or "ruleset", resource.key.server_id, taken)
        body = {"external_id": name, **body}
        adopt["id"] = resource.key.server_id
    if hints:
        adopt["rules"] = dict(sorted(hints.items()))
    handles = dict(resource.handles)
    if adopt:
        handles["adopt"] = {"shop": shop, **adopt}
    key = model.ruleset_key(str(body["external_id"]))
    return model.Resource(key, body, resource.origin, handles)


# --- the call mapping -----------------------------------------------------------------------

#: Top-level ruleset fields a PATCH can carry (contract §6): everything else needs a PUT.
PATCHABLE = frozenset({"start_date", "expiry_date"})


def _change_calls(change: model.Change) -> shop.Call:
    """The call for one ruleset change (see the module docstring)."""
    key = change.key
    if isinstance(change, model.Create):
        eid = key.ident[0]
        body = RULESET.to_api(change.desired.body)
        return shop.call(change, "create", "upsert_ruleset", lambda c: c.upsert_ruleset(eid, body))
    if isinstance(change, model.Delete):
        server_id = key.server_id
        if server_id is not None:  # no external id: by server id, never ``…/external/None``
            return shop.call(
                change,
                "delete",
                "delete_ruleset_by_id",
                lambda c: c.delete_ruleset_by_id(server_id),
            )
        eid = key.ident[0]
        return shop.call(change, "delete", "delete_ruleset", lambda c: c.delete_ruleset(eid))
    return _update(change)


def _update(change: model.Update) -> shop.Call:
    desired, live = change.desired.body, change.live.body
    eid = str(desired["external_id"])
    live_eid = live.get("external_id")
    server_id = change.live.key.server_id or change.live.handles.get("id") or ""
    pairing = rules.pair_rules(change.desired, change.live)
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
        return rules.rule_to_api(name, want_rules[name], rule_id=_int(ident))

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

        def run(client: shop.Shop) -> None:
            # One call object, so the bulk delete never races the PATCH on the same ruleset.
            if patch is not None:
                client.patch_ruleset(eid, patch)
            if doomed:
                client.delete_rules(eid, doomed)

        return shop.call(change, "update", "+".join(operations), run)
    # A PUT: the ruleset gets its external id (by server id) or a field PATCH cannot carry.
    # Rules still without a name get it by a PATCH first, so the PUT keeps their ids.
    # Duplicate copies go first, so the PUT keeps the id of the rule that stays, not a copy's.
    naming = {"rules": [rule(r) for r in sorted(pairing.named)]} if pairing.named else None
    copies = [int(ident) for _, ident, _ in pairing.duplicates.values() if ident is not None]
    body = RULESET.to_api(desired)
    by_id = live_eid != eid
    steps = (
        ("delete_rules", copies),
        ("patch_ruleset", naming),
        ("replace_ruleset" if by_id else "upsert_ruleset", True),
    )
    operations = [name + ("_by_id" if by_id else "") for name, needed in steps if needed]

    def put(client: shop.Shop) -> None:
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

    return shop.call(change, "update", "+".join(operations), put)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


class Ruleset(base.KindSpec):
    """A ruleset with its rules."""

    kind: ClassVar[model.Kind] = model.Kind.RULESET
    list_name: ClassVar[str] = "rulesets"
    live_fields: ClassVar[frozenset[str]] = fields.live_fields(
        "ruleset", server={"id", "created_at", "updated_at"}, manifest_only={"adopt"}
    )
    token_scoped: ClassVar[bool] = True
    adoptable: ClassVar[bool] = True
    dated: ClassVar[bool] = True

    def resource(self, data: shop.LiveJson, origin: model.Origin | None = None) -> model.Resource:
        """A ruleset as written in a manifest or returned by the API → a normalised Resource.

        A live ruleset without an ``external_id`` is keyed by its server id
        (``model.unnamed_ruleset_key``) and its body has no ``external_id``. A manifest's
        ``adopt`` (written by export, see docs/export.md) goes to ``handles["adopt"]``: never
        compared.
        """
        body: dict[str, Any] = {}
        named = fields.has_identity(data.get("external_id"))
        if named:
            body["external_id"] = str(data["external_id"])
        body.update(fields.with_defaults(data, "ruleset"))
        body["start_date"] = fields.normalise_instant(data.get("start_date"))
        body["expiry_date"] = fields.normalise_instant(data.get("expiry_date"))
        body["product_selection"] = fields.normalise_selection(data.get("product_selection"))
        keyed, rule_ids, duplicates = rules.live_rules(data)
        body["rules"] = keyed
        handles: dict[str, Any] = {"rule_ids": rule_ids}
        if duplicates:
            handles["duplicate_rules"] = duplicates
        if data.get("id") is not None:
            handles["id"] = data["id"]
        adopt = data.get("adopt")
        if origin is not None and isinstance(adopt, Mapping):
            hint: Adopt = {
                "shop": str(adopt.get("shop", "")),
                "id": adopt.get("id"),
                "rules": {str(k): v for k, v in (adopt.get("rules") or {}).items()},
            }
            handles["adopt"] = hint
        if named:
            key = model.ruleset_key(body["external_id"])
        elif data.get("id") is not None:
            key = model.unnamed_ruleset_key(data["id"])
        else:
            raise ValueError("a ruleset has neither an external_id nor an id")
        return model.Resource(key, body, origin, handles)

    def to_api(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A normalised ruleset → the full body of a PUT (replace or upsert), rules included."""
        api = {k: v for k, v in body.items() if k != "rules"}
        api["product_selection"] = dict(body["product_selection"])
        api["rules"] = [rules.rule_to_api(eid, rule) for eid, rule in sorted(body["rules"].items())]
        return api

    def read(self, reader: shop.Shop) -> pagination.Listing:
        """The token's own rulesets."""
        return reader.read_rulesets()

    def read_one(self, reader: shop.Shop, key: model.Key) -> model.Resource | None:
        """A ruleset by external id, or (keyed by its server id) by id."""
        if key.server_id is not None:
            # Named since the plan was made? Its body then holds the name: it reads as moved.
            data = reader.get_ruleset_by_id(key.server_id)
        else:
            data = reader.get_ruleset(key.ident[0])
        return self.resource(data) if data is not None else None

    def exist(self, reader: shop.Shop, keys: Sequence[model.Key]) -> Mapping[model.Key, bool]:
        """Rulesets by ``external_ids=``, 100 a call."""
        found = {
            str(r.get("external_id")) for r in reader.find_rulesets([k.ident[0] for k in keys])
        }
        return {k: k.ident[0] in found for k in keys}

    def calls(self, changes: Sequence[model.Change]) -> list[shop.Call]:
        """One call per ruleset change (see the module docstring)."""
        return [_change_calls(change) for change in changes]

    def references(self, body: Mapping[str, Any]) -> set[model.Key]:
        """Order conditions the rules refer to through ``ORDER_CONDITION`` conditions."""
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

    def priced(self, body: Mapping[str, Any]) -> list[base.Priced]:
        """Each rule, by external id, with its actions."""
        return [
            base.Priced(
                f"rules[{rule_id}]",
                rule,
                str(rule.get("type")),
                tuple(
                    (f"rules[{rule_id}].actions[{index}]", action)
                    for index, action in enumerate(rule.get("actions", []))
                ),
            )
            for rule_id, rule in sorted(body.get("rules", {}).items())
        ]

    def summary(self, body: Mapping[str, Any]) -> str:
        """``2 rules: gold −20%, silver −10%; SKU-100, SKU-200; 2027-03-01 → 03-31``."""
        return describe.ruleset(body)

    def manifests(self, resources: Sequence[model.Resource]) -> list[tuple[str, dict[str, Any]]]:
        """One entry (and, split, one file) per ruleset, with its ``adopt`` hints."""
        return [(r.key.ident[0], manifest(r.body, adopt=r.handles.get("adopt"))) for r in resources]

    def named(self, resources: Sequence[model.Resource], *, shop: str) -> list[model.Resource]:
        """Every ruleset and rule without an external id given one (``<slug>-<id>``).

        The name is made from what the object has (a ruleset's public or internal name, a
        rule's type) and its server id, so it is unique and the same on every export of the
        shop. Copies of a rule under a duplicated external id are dropped: the manifest holds
        the rule once.
        """
        taken = {r.key.ident[0] for r in resources if r.key.server_id is None}
        return [_named(r, taken, shop=shop) for r in resources]


#: The ruleset kind (also in ``kinds.by_name``).
RULESET = Ruleset()
