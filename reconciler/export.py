"""Live shop → manifests that validate and plan back to ``No changes.``.

Export writes what the shop holds in the manifest format, leaving out every field that equals
its default so the files read like hand-written ones. It writes the objects boldrules would own
if the files were adopted: the token's own rulesets, the order condition groups those rulesets
refer to or the project lists, and the discount codes the project's prefixes select (all of
them with ``all_codes``), and whatever the project's ownership record lists; never boldrules'
own bookkeeping rulesets. Files are written to a fresh folder and never over existing ones unless
asked; nothing here talks to the shop (the caller passes the live state in).

Live objects without an identity are named here (``name_unnamed``): a ruleset without an
``external_id`` becomes ``<slug of its name>-<id>``, a rule without one ``<slug of its
type>-<id>``, and the ruleset's ``adopt`` records which server ids those names belong to, so the
first apply names them in place (docs/export.md). Duplicates are written once (one copy of a
repeated field set, selection id or condition; the oldest of two rules sharing an external id or
of two codes differing only in case), so the plan after the export shows the copies and apply
removes them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler import atomic, config, errors, model, schema, state, words
from reconciler.ownership import Record, read_records

HEADER = (
    "# Exported by `boldrules export` from shop {shop}. Rulesets and rules that had no\n"
    "# external_id were given one (<name>-<id>); `adopt:` ties each to its live object, so the\n"
    "# first apply writes the names to the shop in place. See docs/export.md.\n"
)
#: The one file an export of a shop holding nothing to own writes, so that the folder exists and
#: ``manifests: [exported/]`` plans back to "No changes." like any other export.
EMPTY_FILE = "rulesets.yaml"
EMPTY_NOTE = (
    "# The shop held nothing this project would own, so this file declares nothing. Keep it:\n"
    "# a manifests: folder must hold at least one manifest. Add objects here or beside it.\n"
)

#: The longest external id Bold accepts (contract §5.1).
EXTERNAL_ID_LIMIT = 128


@dataclass(frozen=True)
class ExportResult:
    """What export wrote."""

    files: tuple[Path, ...]
    counts: Mapping[str, int]


def select(
    live: state.LiveState, ownership: config.Ownership, *, all_codes: bool = False
) -> list[model.Resource]:
    """The live objects export writes (see the module docstring)."""
    rulesets = [
        r
        for r in live.resources
        if r.key.kind is model.Kind.RULESET
        and (r.key.server_id is None or ownership.unnamed_rulesets == "adopt")
    ]
    groups = set(ownership.order_condition_names)
    for ruleset in rulesets:
        for rule in ruleset.body["rules"].values():
            for condition in rule.get("conditions", []):
                if condition.get("type") == "ORDER_CONDITION" and condition.get("name"):
                    groups.add(str(condition["name"]))
    prefixes = tuple(p.casefold() for p in ownership.discount_code_prefixes)
    # What this project's ownership record lists is this project's, as for a plan.
    record = read_records(live.reserved).get(ownership.record)
    recorded = {k.match for k in record.members} if isinstance(record, Record) else set()
    chosen: list[model.Resource] = list(rulesets)
    for resource in live.resources:
        if resource.key.kind is not model.Kind.RULESET and resource.key.match in recorded:
            chosen.append(resource)
            continue
        kind, ident = resource.key.kind, resource.key.ident
        if (kind is model.Kind.ORDER_CONDITION and ident[0] in groups) or (
            kind is model.Kind.DISCOUNT_CODE
            and resource.key.server_id is None  # a duplicate: the plan removes it
            and (all_codes or ident[0].casefold().startswith(prefixes))
        ):
            chosen.append(resource)
    return sorted(chosen, key=lambda r: r.key.sort_key)


def left_out(live: state.LiveState, chosen: Sequence[model.Resource]) -> str:
    """What ``select`` did not take for want of ownership, as ``2 discount codes`` (or "").

    Objects keyed by server id (unnamed rulesets, duplicate codes) are told by ``held_back``.
    """
    taken = {r.key for r in chosen}
    counts = {kind: 0 for kind in model.Kind}
    for resource in live.resources:
        if resource.key not in taken and resource.key.server_id is None:
            counts[resource.key.kind] += 1
    return ", ".join(words.count(n, kind.label) for kind, n in counts.items() if n)


def held_back(
    live: state.LiveState, chosen: Sequence[model.Resource], ownership: config.Ownership
) -> list[str]:
    """What export wrote differently from the shop, or not at all: one sentence per reason."""
    taken = {r.key for r in chosen}
    unnamed = duplicates = 0
    for resource in live.resources:
        if resource.key in taken or resource.key.server_id is None:
            continue
        if resource.key.kind is model.Kind.RULESET:
            unnamed += 1
        else:
            duplicates += 1
    copies = holding_copies(chosen)
    lines = []
    if copies:
        lines.append(
            f"Wrote duplicated items once ({words.count(copies, 'object')} held copies: "
            "field sets, rules, ids or conditions); the plan shows each copy and apply removes it."
        )
    if unnamed:
        lines.append(
            f"Left out: {words.count(unnamed, 'ruleset')} without an external_id "
            f"(ownership.unnamed_rulesets: {ownership.unnamed_rulesets})."
        )
    if duplicates:
        lines.append(
            f"Left out: {words.count(duplicates, 'duplicate discount code')} (a second code whose "
            "name differs from another's only in case); the plan shows it for deletion."
        )
    return lines


def holding_copies(chosen: Sequence[model.Resource]) -> int:
    """How many objects hold duplicate items, which export writes once."""
    return sum(
        1
        for r in chosen
        if r.handles.get("duplicate_rules")
        or r.handles.get("duplicate_field_set_ids")
        or model.canonical_json(_distinct(dict(r.body))) != model.canonical_json(r.body)
    )


# --- naming what has no name ----------------------------------------------------------------


def _name_slug(text: str) -> str:
    """``Summer Promo (VIP)!`` → ``summer-promo-vip``: lowercase words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60].strip("-")


def _unique_name(base: str, server_id: Any, taken: set[str]) -> str:
    """``<base>-<id>``, at most 128 characters, not in ``taken`` (then added to it)."""
    suffix = f"-{server_id}"
    name = base[: EXTERNAL_ID_LIMIT - len(suffix)].rstrip("-") + suffix
    n = 2
    while name in taken:
        extra = f"{suffix}-{n}"
        name, n = base[: EXTERNAL_ID_LIMIT - len(extra)].rstrip("-") + extra, n + 1
    taken.add(name)
    return name


def name_unnamed(chosen: Sequence[model.Resource], *, shop: str) -> list[model.Resource]:
    """Give every ruleset and rule without an external id a stable, readable one, plus ``adopt``.

    The name is made from what the object has (a ruleset's public or internal name, a rule's
    type) and its server id, so it is unique and the same on every export of the shop. Copies of
    a rule under a duplicated external id are dropped: the manifest holds the rule once.
    """
    taken = {
        r.key.ident[0]
        for r in chosen
        if r.key.kind is model.Kind.RULESET and r.key.server_id is None
    }
    out: list[model.Resource] = []
    for resource in chosen:
        if resource.key.kind is not model.Kind.RULESET:
            out.append(resource)
            continue
        body = dict(resource.body)
        ids = resource.handles.get("rule_ids", {})
        copies = resource.handles.get("duplicate_rules", {})
        rule_names = {k for k in body["rules"] if not state.is_unnamed_rule(k)}
        rules: dict[str, Any] = {}
        hints: dict[str, Any] = {}
        for key, rule in sorted(body["rules"].items()):
            if key in copies:
                continue
            if state.is_unnamed_rule(key) and ids.get(key) is not None:
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
        out.append(model.Resource(key, body, resource.origin, handles))
    return sorted(out, key=lambda r: r.key.sort_key)


def _distinct(value: Any, name: str = "") -> Any:
    """Each list whose order means nothing (``model.SET_FIELDS``) with every item once."""
    if isinstance(value, Mapping):
        return {k: _distinct(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        items = [_distinct(v) for v in value]
        if name in model.SET_FIELDS:
            unique = {model.canonical_json(item): item for item in reversed(items)}
            items = [unique[k] for k in dict.fromkeys(model.canonical_json(i) for i in items)]
        return items
    return value


# --- manifest forms -------------------------------------------------------------------------


def ruleset_manifest(
    body: Mapping[str, Any], *, adopt: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A normalised ruleset → its manifest mapping, defaults left out, ``adopt`` if given."""
    data: dict[str, Any] = {"external_id": body["external_id"]}
    if adopt:
        data["adopt"] = dict(adopt)
    for name, default in schema.defaults("ruleset").items():
        if body.get(name) != default:
            data[name] = body[name]
    data["product_selection"] = _distinct(dict(body["product_selection"]))
    data["rules"] = [
        _distinct(_rule_manifest(eid, rule)) for eid, rule in sorted(body["rules"].items())
    ]
    return data


def _rule_manifest(external_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"external_id": external_id, "type": rule["type"]}
    data["conditions"] = [dict(c) for c in rule["conditions"]]
    data["actions"] = [dict(a) for a in rule["actions"]]
    for name, default in schema.defaults("rule").items():
        if rule.get(name) != default:
            data[name] = rule[name]
    return data


def order_condition_manifest(body: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised order condition → its manifest mapping."""
    data: dict[str, Any] = {"name": body["name"], "value": body["value"]}
    for name, default in schema.defaults("order_condition").items():
        if body.get(name) != default:
            data[name] = body[name]
    data["field_sets"] = _distinct([dict(fs) for fs in body["field_sets"]], "field_sets")
    return data


def discount_code_manifests(resources: Sequence[model.Resource]) -> list[dict[str, Any]]:
    """Codes sharing one configuration become one entry with a ``codes`` list."""
    groups: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
    for resource in resources:
        entry = groups.setdefault(resource.fingerprint(), (resource.body, []))
        entry[1].append(resource.key.ident[0])
    out: list[dict[str, Any]] = []
    for body, codes in sorted(groups.values(), key=lambda g: sorted(g[1])):
        data: dict[str, Any] = {"codes": sorted(codes)}
        for name, value in body.items():
            if value in (None, [], {}):
                continue
            data[name] = _distinct(value, name)
        out.append(data)
    return out


# --- writing --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, long strings unfolded."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump(document: Mapping[str, Any]) -> str:
    """YAML text of one manifest document."""
    return yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return slug[:80] or "object"


def _ruleset_document(resource: model.Resource) -> dict[str, Any]:
    return ruleset_manifest(resource.body, adopt=resource.handles.get("adopt"))


def documents(chosen: Iterable[model.Resource], *, split: bool) -> dict[str, dict[str, Any]]:
    """File name (relative to the output folder) → manifest document."""
    rulesets = [r for r in chosen if r.key.kind is model.Kind.RULESET]
    conditions = [r for r in chosen if r.key.kind is model.Kind.ORDER_CONDITION]
    codes = [r for r in chosen if r.key.kind is model.Kind.DISCOUNT_CODE]
    files: dict[str, dict[str, Any]] = {}
    if not split:
        if rulesets:
            files["rulesets.yaml"] = {"rulesets": [_ruleset_document(r) for r in rulesets]}
        if conditions:
            files["order_conditions.yaml"] = {
                "order_conditions": [order_condition_manifest(r.body) for r in conditions]
            }
        if codes:
            files["discount_codes.yaml"] = {"discount_codes": discount_code_manifests(codes)}
        return files
    used: set[str] = set()

    def unique(name: str) -> str:
        candidate, n = name, 2
        while candidate.lower() in used:  # case-insensitive file systems
            stem, _, suffix = name.rpartition(".")
            candidate, n = f"{stem}-{n}.{suffix}", n + 1
        used.add(candidate.lower())
        return candidate

    for r in rulesets:
        files[unique(f"rulesets/{_slug(r.key.ident[0])}.yaml")] = {
            "rulesets": [_ruleset_document(r)]
        }
    by_group: dict[str, list[model.Resource]] = {}
    for r in conditions:
        by_group.setdefault(r.key.ident[0], []).append(r)
    for group, members in sorted(by_group.items()):
        files[unique(f"order_conditions/{_slug(group)}.yaml")] = {
            "order_conditions": [order_condition_manifest(m.body) for m in members]
        }
    for entry in discount_code_manifests(codes):
        files[unique(f"discount_codes/{_slug(entry['codes'][0])}.yaml")] = {
            "discount_codes": [entry]
        }
    return files


def check_destination(out: Path) -> None:
    """Refuse, before the shop is read, an output folder that cannot be made or written in."""
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        raise errors.ConfigError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise errors.ConfigError(f"--out {out}: cannot write in {existing}")


def write(
    chosen: Sequence[model.Resource],
    out: Path,
    *,
    shop: str,
    split: bool = False,
    overwrite: bool = False,
) -> ExportResult:
    """Write the manifests under ``out``; refuse to replace existing files unless ``overwrite``."""
    docs = documents(chosen, split=split) or {EMPTY_FILE: {"rulesets": []}}
    targets = {out / name: doc for name, doc in docs.items()}
    existing = sorted(str(p) for p in targets if p.exists())
    if existing and not overwrite:
        raise errors.ConfigError(
            f"export would overwrite {words.count(len(existing), 'file')} "
            f"({', '.join(existing[:3])}{', …' if len(existing) > 3 else ''}): choose an empty "
            "--out folder, or pass --force to replace them"
        )
    written: list[Path] = []
    for path, doc in sorted(targets.items()):
        text = HEADER.format(shop=shop) + ("" if chosen else EMPTY_NOTE)
        try:
            atomic.write_text(path, text + dump(doc), make_folders=True)
        except OSError as exc:
            raise errors.ConfigError(f"{path}: cannot write the export ({exc.strerror})") from None
        written.append(path)
    counts = {kind.label + "s": sum(1 for r in chosen if r.key.kind is kind) for kind in model.Kind}
    return ExportResult(tuple(written), counts)
