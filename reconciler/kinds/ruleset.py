"""Rulesets (contract §5.1-§5.3): an app's own price rules, each with its rules.

Owns the ruleset's quirks: defaults, instants, the product selection's id sets, rules keyed by
``external_id`` (a live rule without one, or repeating an earlier rule's, keyed ``#<id>``), a
live ruleset without an ``external_id`` keyed by its server id, ``adopt`` hints; its PUT body;
its manifest form; the order conditions its rules refer to. A ruleset is ours when the token
lists it (the listing is the app's own).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict

from reconciler import describe, model, pagination
from reconciler.kinds import base, fields

#: The longest external id Bold accepts (contract §5.1).
EXTERNAL_ID_LIMIT = 128

#: The defaults of a ruleset and of a rule (``kinds.fields``).
DEFAULTS = fields.RULESET_DEFAULTS
RULE_DEFAULTS = fields.RULE_DEFAULTS


class Adopt(TypedDict):
    """A manifest's ``adopt`` hints (written by export): whose server ids its names take."""

    shop: str
    id: Any
    rules: dict[str, Any]


def normalise_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule without its identity: type, conditions (a set: all must hold), actions, order."""
    body: dict[str, Any] = {
        "type": rule["type"],
        # Conditions are ANDed, so their order means nothing; actions keep theirs.
        "conditions": fields.as_set(
            "conditions", (fields.normalise_condition(c) for c in rule.get("conditions") or [])
        ),
        "actions": [fields.normalise_action(a) for a in rule.get("actions") or []],
    }
    for field_name, default in RULE_DEFAULTS.items():
        value = rule.get(field_name)
        body[field_name] = default if value is None else fields.normalise_number(value)
    return body


def is_unnamed_rule(key: str) -> bool:
    """Whether a rule key is a live rule's server id (``#456``), not an external id."""
    return key.startswith(model.UNNAMED_RULE_PREFIX)


def _live_rules(
    data: base.LiveJson,
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    """A ruleset's rules keyed by identity, their server ids, and which keys are duplicates.

    A rule without an external id is keyed ``#<id>``; so is a rule whose external id an earlier
    rule (lower id) of the ruleset already carries, recorded in the third mapping (key → the
    external id it repeats), so the plan shows the copy and removes it instead of folding it
    away. Manifest rules always have an external id (the schema requires one).
    """
    rules: dict[str, Any] = {}
    rule_ids: dict[str, int] = {}
    duplicates: dict[str, str] = {}
    for rule in sorted(data.get("rules") or [], key=fields.server_id_order):
        external_id = rule.get("external_id")
        server_id = rule.get("id")
        if fields.has_identity(external_id) and str(external_id) not in rules:
            key = str(external_id)
        else:
            key = f"{model.UNNAMED_RULE_PREFIX}{server_id}"
            while key in rules:  # only an external id spelt like a server id can collide
                key += "'"
            if fields.has_identity(external_id):
                duplicates[key] = str(external_id)
        rules[key] = normalise_rule(rule)
        if server_id is not None:
            rule_ids[key] = server_id
    return rules, rule_ids, duplicates


def rule_to_api(
    external_id: str, rule: Mapping[str, Any], *, rule_id: int | None = None
) -> dict[str, Any]:
    """A normalised rule → the API's rule object (with ``id`` to replace an unnamed live rule)."""
    body: dict[str, Any] = {"external_id": external_id, **rule}
    if rule_id is not None:
        body["id"] = rule_id
    return body


def _rule_manifest(external_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"external_id": external_id, "type": rule["type"]}
    data["conditions"] = [dict(c) for c in rule["conditions"]]
    data["actions"] = [dict(a) for a in rule["actions"]]
    data.update(fields.without_defaults(rule, RULE_DEFAULTS))
    return data


def manifest(body: Mapping[str, Any], *, adopt: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A normalised ruleset → its manifest mapping, defaults left out, ``adopt`` if given."""
    data: dict[str, Any] = {"external_id": body["external_id"]}
    if adopt:
        data["adopt"] = dict(adopt)
    data.update(fields.without_defaults(body, DEFAULTS))
    data["product_selection"] = fields.distinct(dict(body["product_selection"]))
    data["rules"] = [
        fields.distinct(_rule_manifest(eid, rule)) for eid, rule in sorted(body["rules"].items())
    ]
    return data


def _name_slug(text: str) -> str:
    """``Summer Promo (VIP)!`` → ``summer-promo-vip``: lowercase words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60].strip("-")


def _unique_name(base_name: str, server_id: Any, taken: set[str]) -> str:
    """``<base>-<id>``, at most 128 characters, not in ``taken`` (then added to it)."""
    suffix = f"-{server_id}"
    name = base_name[: EXTERNAL_ID_LIMIT - len(suffix)].rstrip("-") + suffix
    n = 2
    while name in taken:
        extra = f"{suffix}-{n}"
        name, n = base_name[: EXTERNAL_ID_LIMIT - len(extra)].rstrip("-") + extra, n + 1
    taken.add(name)
    return name


def _named(resource: model.Resource, taken: set[str], *, shop: str) -> model.Resource:
    """One ruleset with every rule (and itself) named, ``adopt`` saying whose ids they were."""
    body = dict(resource.body)
    ids = resource.handles.get("rule_ids", {})
    copies = resource.handles.get("duplicate_rules", {})
    rule_names = {k for k in body["rules"] if not is_unnamed_rule(k)}
    rules: dict[str, Any] = {}
    hints: dict[str, Any] = {}
    for key, rule in sorted(body["rules"].items()):
        if key in copies:
            continue
        if is_unnamed_rule(key) and ids.get(key) is not None:
            name = _unique_name(_name_slug(str(rule["type"])) or "rule", ids[key], rule_names)
            hints[name] = ids[key]
            key = name
        rules[key] = rule
    body["rules"] = rules
    adopt: dict[str, Any] = {}
    if resource.key.server_id is not None:
        label = str(body.get("public_name") or body.get("internal_name") or "")
        name = _unique_name(_name_slug(label) or "ruleset", resource.key.server_id, taken)
        body = {"external_id": name, **body}
        adopt["id"] = resource.key.server_id
    if hints:
        adopt["rules"] = dict(sorted(hints.items()))
    handles = dict(resource.handles)
    if adopt:
        handles["adopt"] = {"shop": shop, **adopt}
    key = model.ruleset_key(str(body["external_id"]))
    return model.Resource(key, body, resource.origin, handles)


class Ruleset(base.KindSpec):
    """A ruleset with its rules."""

    kind: ClassVar[model.Kind] = model.Kind.RULESET
    list_name: ClassVar[str] = "rulesets"
    token_scoped: ClassVar[bool] = True
    adoptable: ClassVar[bool] = True
    dated: ClassVar[bool] = True

    def resource(self, data: base.LiveJson, origin: model.Origin | None = None) -> model.Resource:
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
        for field_name, default in DEFAULTS.items():
            value = data.get(field_name)
            body[field_name] = default if value is None else fields.normalise_number(value)
        body["start_date"] = fields.normalise_instant(data.get("start_date"))
        body["expiry_date"] = fields.normalise_instant(data.get("expiry_date"))
        body["product_selection"] = fields.normalise_selection(data.get("product_selection"))
        rules, rule_ids, duplicates = _live_rules(data)
        body["rules"] = rules
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
        api["rules"] = [rule_to_api(eid, rule) for eid, rule in sorted(body["rules"].items())]
        return api

    def read(self, reader: base.Reader) -> pagination.Listing:
        """The token's own rulesets."""
        return reader.read_rulesets()

    def read_one(self, reader: base.Reader, key: model.Key) -> model.Resource | None:
        """A ruleset by external id, or (keyed by its server id) by id."""
        if key.server_id is not None:
            # Named since the plan was made? Its body then holds the name: it reads as moved.
            data = reader.get_ruleset_by_id(key.server_id)
        else:
            data = reader.get_ruleset(key.ident[0])
        return self.resource(data) if data is not None else None

    def exist(self, reader: base.Reader, keys: Sequence[model.Key]) -> Mapping[model.Key, bool]:
        """Rulesets by ``external_ids=``, 100 a call."""
        found = {
            str(r.get("external_id")) for r in reader.find_rulesets([k.ident[0] for k in keys])
        }
        return {k: k.ident[0] in found for k in keys}

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
