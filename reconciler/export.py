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

from reconciler import atomic, config, errors, kinds, model, state, words
from reconciler.kinds import fields
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


@dataclass(frozen=True)
class ExportResult:
    """What export wrote."""

    files: tuple[Path, ...]
    counts: Mapping[str, int]


def select(
    live: state.LiveState, ownership: config.Ownership, *, all_codes: bool = False
) -> list[model.Resource]:
    """The live objects export writes (see the module docstring): what a plan would own."""
    token_scoped = [
        r
        for r in live.resources
        if kinds.by_name[r.key.kind].token_scoped
        and (r.key.server_id is None or ownership.unnamed_rulesets == "adopt")
    ]
    used = {k for r in token_scoped for k in kinds.references(r.key.kind, r.body) if k.ident[0]}
    scope = kinds.Scope(
        declared=frozenset(used),
        listed_groups=frozenset(ownership.order_condition_names),
        prefixes=tuple(p.casefold() for p in ownership.discount_code_prefixes),
        all_codes=all_codes,
    )
    # What this project's ownership record lists is this project's, as for a plan.
    record = read_records(live.reserved).get(ownership.record)
    recorded = {k.match for k in record.members} if isinstance(record, Record) else set()
    chosen: list[model.Resource] = list(token_scoped)
    for resource in live.resources:
        key = resource.key
        spec = kinds.by_name[key.kind]
        if spec.token_scoped:
            continue
        # A copy keyed by its server id (a duplicate code) is not written: the plan removes it.
        if key.match in recorded or (key.server_id is None and spec.claim(key, scope) is not None):
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
        if not resource.key.ident[0]:  # no identity of its own (a ruleset without external_id)
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
        or model.canonical_json(fields.distinct(dict(r.body))) != model.canonical_json(r.body)
    )


# --- naming what has no name ----------------------------------------------------------------


def name_unnamed(chosen: Sequence[model.Resource], *, shop: str) -> list[model.Resource]:
    """Give every object without an identity a stable, readable one, plus ``adopt``.

    Each kind names its own (``KindSpec.named``): a ruleset or rule without an external id is
    named from what it has and its server id, so the name is unique and the same on every
    export of the shop.
    """
    out: list[model.Resource] = []
    for spec in kinds.in_dependency_order:
        out += spec.named([r for r in chosen if r.key.kind is spec.kind], shop=shop)
    return sorted(out, key=lambda r: r.key.sort_key)


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
    """File name (relative to the output folder) → manifest document.

    One file per kind (``rulesets.yaml``…), or ``split``: a folder per kind with a file per
    ruleset, per order condition group, per discount code configuration.
    """
    listed = list(chosen)
    files: dict[str, dict[str, Any]] = {}
    used: set[str] = set()

    def unique(name: str) -> str:
        candidate, n = name, 2
        while candidate.lower() in used:  # case-insensitive file systems
            stem, _, suffix = name.rpartition(".")
            candidate, n = f"{stem}-{n}.{suffix}", n + 1
        used.add(candidate.lower())
        return candidate

    for spec in kinds.in_dependency_order:
        entries = spec.manifests([r for r in listed if r.key.kind is spec.kind])
        if not entries:
            continue
        if not split:
            files[f"{spec.list_name}.yaml"] = {spec.list_name: [entry for _, entry in entries]}
            continue
        by_file: dict[str, list[dict[str, Any]]] = {}
        for name, entry in entries:
            by_file.setdefault(name, []).append(entry)
        for name, group in by_file.items():
            files[unique(f"{spec.list_name}/{_slug(name)}.yaml")] = {spec.list_name: group}
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
