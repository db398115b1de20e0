"""Live shop → manifests that validate and plan back to ``No changes.``.

Export writes what the shop holds in the manifest format, leaving out every field that equals
its default so the files read like hand-written ones. It writes the objects boldrules would own
if the files were adopted: the token's own rulesets, the order condition groups those rulesets
refer to or the project lists, and the discount codes the project's prefixes select (all of
them with ``all_codes``), and whatever the project's ownership record lists; never boldrules'
own bookkeeping rulesets. Files are written to a fresh folder and never over existing ones unless
asked; nothing here talks to the shop (the caller passes the live state in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler import config, errors, model, state
from reconciler import ownership as ownership_module

HEADER = (
    "# Exported by `boldrules export` from shop {shop}. Rules that had no external_id were\n"
    "# given one (bold-rule-<id>); the first apply that changes such a rule writes the name\n"
    "# to the shop too. See docs/export.md.\n"
)


@dataclass(frozen=True)
class ExportResult:
    """What export wrote."""

    files: tuple[Path, ...]
    counts: Mapping[str, int]


def select(
    live: state.LiveState, ownership: config.Ownership, *, all_codes: bool = False
) -> list[model.Resource]:
    """The live objects export writes (see the module docstring)."""
    rulesets = [r for r in live.resources if r.key.kind is model.Kind.RULESET]
    groups = set(ownership.order_condition_names)
    for ruleset in rulesets:
        for rule in ruleset.body["rules"].values():
            for condition in rule.get("conditions", []):
                if condition.get("type") == "ORDER_CONDITION" and condition.get("name"):
                    groups.add(str(condition["name"]))
    prefixes = tuple(p.casefold() for p in ownership.discount_code_prefixes)
    # What this project's ownership record lists is this project's, as for a plan.
    record = ownership_module.read_records(live.reserved).get(ownership.record)
    recorded = (
        {k.match for k in record.members} if isinstance(record, ownership_module.Record) else set()
    )
    chosen: list[model.Resource] = list(rulesets)
    for resource in live.resources:
        if resource.key.kind is not model.Kind.RULESET and resource.key.match in recorded:
            chosen.append(resource)
            continue
        kind, ident = resource.key.kind, resource.key.ident
        if (kind is model.Kind.ORDER_CONDITION and ident[0] in groups) or (
            kind is model.Kind.DISCOUNT_CODE
            and (all_codes or ident[0].casefold().startswith(prefixes))
        ):
            chosen.append(resource)
    return sorted(chosen, key=lambda r: r.key.sort_key)


def left_out(live: state.LiveState, chosen: Sequence[model.Resource]) -> str:
    """What ``select`` did not take, as ``2 discount codes, 1 order condition`` (or "")."""
    taken = {r.key for r in chosen}
    counts = {kind: 0 for kind in model.Kind}
    for resource in live.resources:
        if resource.key not in taken:
            counts[resource.key.kind] += 1
    return ", ".join(f"{n} {kind.label}{'s' if n != 1 else ''}" for kind, n in counts.items() if n)


# --- manifest forms -------------------------------------------------------------------------


def ruleset_manifest(body: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised ruleset → its manifest mapping, defaults left out."""
    data: dict[str, Any] = {"external_id": body["external_id"]}
    for name, default in state.RULESET_DEFAULTS.items():
        if body.get(name) != default:
            data[name] = body[name]
    data["product_selection"] = dict(body["product_selection"])
    data["rules"] = [_rule_manifest(eid, rule) for eid, rule in sorted(body["rules"].items())]
    return data


def _rule_manifest(external_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"external_id": external_id, "type": rule["type"]}
    data["conditions"] = [dict(c) for c in rule["conditions"]]
    data["actions"] = [dict(a) for a in rule["actions"]]
    for name, default in state.RULE_DEFAULTS.items():
        if rule.get(name) != default:
            data[name] = rule[name]
    return data


def order_condition_manifest(body: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised order condition → its manifest mapping."""
    data: dict[str, Any] = {"name": body["name"], "value": body["value"]}
    for name, default in state.ORDER_CONDITION_DEFAULTS.items():
        if body.get(name) != default:
            data[name] = body[name]
    data["field_sets"] = [dict(fs) for fs in body["field_sets"]]
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
            data[name] = value
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


def documents(chosen: Iterable[model.Resource], *, split: bool) -> dict[str, dict[str, Any]]:
    """File name (relative to the output folder) → manifest document."""
    rulesets = [r for r in chosen if r.key.kind is model.Kind.RULESET]
    conditions = [r for r in chosen if r.key.kind is model.Kind.ORDER_CONDITION]
    codes = [r for r in chosen if r.key.kind is model.Kind.DISCOUNT_CODE]
    files: dict[str, dict[str, Any]] = {}
    if not split:
        if rulesets:
            files["rulesets.yaml"] = {"rulesets": [ruleset_manifest(r.body) for r in rulesets]}
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
            "rulesets": [ruleset_manifest(r.body)]
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


def write(
    chosen: Sequence[model.Resource],
    out: Path,
    *,
    shop: str,
    split: bool = False,
    overwrite: bool = False,
) -> ExportResult:
    """Write the manifests under ``out``; refuse to replace existing files unless ``overwrite``."""
    docs = documents(chosen, split=split)
    targets = {out / name: doc for name, doc in docs.items()}
    existing = sorted(str(p) for p in targets if p.exists())
    if existing and not overwrite:
        raise errors.ConfigError(
            f"export would overwrite {len(existing)} file{'s' if len(existing) != 1 else ''} "
            f"({', '.join(existing[:3])}{', …' if len(existing) > 3 else ''}): choose an empty "
            "--out folder, or pass --force to replace them"
        )
    written: list[Path] = []
    for path, doc in sorted(targets.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        text = HEADER.format(shop=shop)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text + dump(doc), encoding="utf-8")
        temporary.replace(path)
        written.append(path)
    counts = {kind.label + "s": sum(1 for r in chosen if r.key.kind is kind) for kind in model.Kind}
    return ExportResult(tuple(written), counts)
