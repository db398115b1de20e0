"""A ruleset's rules: their normal form, identity, pairing with live rules, and names.

A manifest rule always has an ``external_id`` (the schema requires one); a live rule may have
none, or repeat an earlier rule's: it is then keyed ``#<id>`` (``model.UNNAMED_RULE_PREFIX``).
A manifest adopts such a rule through its ``adopt.rules`` hints (or the legacy name
``bold-rule-<id>``); export names it ``<slug of its type>-<id>``. Pure, used by
``kinds/ruleset.py`` (and, through it, by ``diff.py`` and ``calls.py``).
"""

from __future__ import annotations

import functools
import marshal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reconciler import model, schema
from reconciler.kinds import fields

#: The longest external id Bold accepts (contract §5.1).
EXTERNAL_ID_LIMIT = 128


def normalise_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule without its identity: type, conditions (a set: all must hold), actions, order.

    Normalised once per distinct content and shared after that (``_normalised``): a shop's
    rules repeat a few bodies (the same tiers in thousands of rulesets: 292 distinct among the
    benchmark shop's 50,000), and a Resource's body is final (``model.Resource``), so equal
    rules may be one object.
    """
    try:
        content = marshal.dumps(tuple(map(rule.get, _parts())), 2)
    except ValueError:  # a value marshal cannot write (a manifest's marked mapping): as it is
        return _normalise_rule(rule)
    known = _normalised.get(content)
    if known is None:
        known = _normalise_rule(rule)
        if len(_normalised) < _NORMALISED_LIMIT:
            _normalised[content] = known
    return known


#: Normalised rules by their content: the marshal bytes (format 2: values and types only, so
#: ``True``, ``1`` and ``1.0`` differ, as to the API) of the fields ``_normalise_rule`` reads, in
#: that order. Bounded, for a shop whose rules are all distinct: past the bound, a rule is
#: normalised every time, as before.
_normalised: dict[bytes, dict[str, Any]] = {}
_NORMALISED_LIMIT = 16384


@functools.cache
def _parts() -> tuple[str, ...]:
    """The fields of a rule ``_normalise_rule`` reads (its identity, ``external_id``, not)."""
    return ("type", "conditions", "actions", *schema.defaults("rule"))


def _normalise_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": fields.shared(rule["type"]),
        # Conditions are ANDed, so their order means nothing; actions keep theirs.
        "conditions": fields.as_set(
            "conditions", [fields.normalise_condition(c) for c in rule.get("conditions") or ()]
        ),
        "actions": [fields.normalise_action(a) for a in rule.get("actions") or ()],
    }
    body.update(fields.with_defaults(rule, "rule"))
    return body


def is_unnamed_rule(key: str) -> bool:
    """Whether a rule key is a live rule's server id (``#456``), not an external id."""
    return key.startswith(model.UNNAMED_RULE_PREFIX)


def live_rules(
    data: Mapping[str, Any],
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
    for rule in _oldest_first(data.get("rules") or []):
        external_id = rule.get("external_id")
        server_id = rule.get("id")
        named = external_id is not None and fields.has_identity(external_id)
        if named and (name := str(external_id)) not in rules:
            key = fields.shared(name)
        else:
            key = f"{model.UNNAMED_RULE_PREFIX}{server_id}"
            while key in rules:  # only an external id spelt like a server id can collide
                key += "'"
            if named:
                duplicates[key] = str(external_id)
        rules[key] = normalise_rule(rule)
        if server_id is not None:
            rule_ids[key] = server_id
    return rules, rule_ids, duplicates


def _oldest_first(listed: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """``listed`` by server id (``fields.server_id_order``): as given when it is already, as
    the API lists a ruleset's rules, which costs a look at each id instead of a sort."""
    previous = -1
    for rule in listed:
        ident = rule.get("id")
        if type(ident) is not int or ident <= previous:
            return sorted(listed, key=fields.server_id_order)
        previous = ident
    return listed


def rule_to_api(
    external_id: str, rule: Mapping[str, Any], *, rule_id: int | None = None
) -> dict[str, Any]:
    """A normalised rule → the API's rule object (with ``id`` to replace an unnamed live rule)."""
    body: dict[str, Any] = {"external_id": external_id, **rule}
    if rule_id is not None:
        body["id"] = rule_id
    return body


def manifest(external_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"external_id": external_id, "type": rule["type"]}
    data["conditions"] = [dict(c) for c in rule["conditions"]]
    data["actions"] = [dict(a) for a in rule["actions"]]
    data.update(fields.without_defaults(rule, "rule"))
    return data


# --- adoption: live rules without a name meet the manifest's ---------------------------------


@dataclass(frozen=True)
class RulePairing:
    """How a desired ruleset's rules meet a live ruleset's, by identity.

    ``rules`` and ``rule_ids`` are the live rules re-keyed: an unnamed live rule (``#456``) that
    a desired rule adopts (through the manifest's ``adopt.rules``, or the legacy name
    ``bold-rule-456``) sits under the desired name; duplicate copies are taken out.
    """

    rules: Mapping[str, Any]
    rule_ids: Mapping[str, Any]
    #: desired rule name → server id of the unnamed live rule it names in place
    named: Mapping[str, Any] = field(default_factory=dict)
    #: live key of each duplicate copy → (the external id it repeats, its server id, its body)
    duplicates: Mapping[str, tuple[str, Any, Any]] = field(default_factory=dict)


def adoption(resource: model.Resource) -> Mapping[str, Any]:
    """A desired object's ``adopt`` hints (``{"shop", "id", "rules"}``), or ``{}``."""
    hint = resource.handles.get("adopt")
    if hint is None:  # nearly every object: no ABC check
        return _NO_HINTS
    return hint if isinstance(hint, Mapping) else _NO_HINTS


_NO_HINTS: Mapping[str, Any] = MappingProxyType({})


def pair_rules(desired: model.Resource, live: model.Resource) -> RulePairing:
    """Re-key a live ruleset's rules to the desired names where the manifest adopts them."""
    rules = dict(live.body.get("rules") or {})
    ids = dict(live.handles.get("rule_ids") or {})
    duplicates: dict[str, tuple[str, Any, Any]] = {}
    for key, repeats in sorted((live.handles.get("duplicate_rules") or {}).items()):
        if key in rules:
            duplicates[key] = (str(repeats), ids.pop(key, None), rules.pop(key))
    hints = dict(adoption(desired).get("rules") or {})
    named: dict[str, Any] = {}
    for name in sorted(desired.body.get("rules") or {}):
        if name in rules:
            continue
        server_id = hints.get(name)
        if server_id is None and name.startswith(model.LEGACY_RULE_PREFIX):
            server_id = name[len(model.LEGACY_RULE_PREFIX) :]
        unnamed = f"{model.UNNAMED_RULE_PREFIX}{server_id}"
        if server_id is not None and unnamed in rules:
            rules[name] = rules.pop(unnamed)
            named[name] = ids.pop(unnamed, server_id)
            ids[name] = named[name]
    return RulePairing(rules, ids, named, duplicates)


# --- naming what has no name (export) -------------------------------------------------------


def name_slug(text: str) -> str:
    """``Summer Promo (VIP)!`` → ``summer-promo-vip``: lowercase words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60].strip("-")


def unique_name(base_name: str, server_id: Any, taken: set[str]) -> str:
    """``<base>-<id>``, at most 128 characters, not in ``taken`` (then added to it)."""
    suffix = f"-{server_id}"
    name = base_name[: EXTERNAL_ID_LIMIT - len(suffix)].rstrip("-") + suffix
    n = 2
    while name in taken:
        extra = f"{suffix}-{n}"
        name, n = base_name[: EXTERNAL_ID_LIMIT - len(extra)].rstrip("-") + extra, n + 1
    taken.add(name)
    return name
