"""The ownership record: which objects this project manages, kept in the shop itself.

Rulesets are owned through the token's app, but order conditions and discount codes are
shop-wide: without a record, an object is owned only while a manifest names it, and removing it
from the manifests would leave it live forever. The record closes that gap the way kubectl's
ApplySet does (a parent object listing its members, written by every apply, read by every
plan), and lives in the shop because CI runners keep nothing between runs (docs/ownership.md).

The record of project ``P`` is the ruleset ``boldrules.ownership.P`` of the token's app, built to
have no pricing effect: inactive, a product selection that matches no product, one impossible
customer-group condition and a 0 % action on every rule. Its first rule's ``meta`` is a header
(format, project, member count, checksum, who wrote it when); the members follow as
``[kind, *ident]`` lists in the ``meta`` of further rules, at most ``CHUNK_CHARS`` characters of
JSON each, so a record of any size stays within what one rule's ``meta`` is assumed to hold.

Owns: the record's format (encode, decode, damage checks), what the record should list after
an apply (``RecordPlan``) and writing it. It does not decide which live objects a plan may
change (``plan.py`` does, reading records through here) and talks to the shop only through the
client's typed operations.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler import __version__, errors, instants, model, state, words

if TYPE_CHECKING:
    from reconciler.client import BoldClient

#: External id prefix of every project's record: ``boldrules.ownership.<project>``.
RECORD_PREFIX = f"{model.RESERVED_PREFIX}ownership."

#: Version of the record's format; a record of a later format is refused, never overwritten.
FORMAT = 1

#: External id of the rule whose ``meta`` is the header.
HEADER_RULE = "boldrules.header"

#: External id of the rules holding members: ``boldrules.members.0001``, ``.0002``, …
CHUNK_RULE = "boldrules.members."

#: Most characters of canonical JSON one rule's ``meta`` carries. Bold documents ``meta`` as a
#: free-form object without a size; 8,000 characters is an assumption kept well under the
#: smallest limit such a field plausibly has (a 16 KiB or 64 KiB text column). One member is at
#: most ~530 characters (two 255-character order condition fields), so every chunk holds ≥ 14.
CHUNK_CHARS = 8_000

#: A SKU no product has: the bookkeeping rulesets' product selection (matches nothing).
NO_PRODUCT = "boldrules.no-such-product"

#: A customer group nobody is in: every bookkeeping rule's only condition (never holds).
NO_GROUP = "boldrules.no-such-customer-group"


def record_id(project: str) -> str:
    """``boldrules.ownership.<project>``: the record's external id."""
    return f"{RECORD_PREFIX}{project}"


def whoami() -> str:
    """``user@host``, with the CI run when there is one: who holds a lock or wrote a record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    text = f"{user}@{socket.gethostname() or 'unknown-host'}"
    if os.environ.get("GITHUB_RUN_ID"):
        text += f" (GitHub Actions run {os.environ['GITHUB_RUN_ID']})"
    elif os.environ.get("CI_JOB_ID"):
        text += f" (GitLab CI job {os.environ['CI_JOB_ID']})"
    return text


def bookkeeping_rule(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A rule in normalised form that can never change a price, carrying ``meta``."""
    return {
        "type": "DISCOUNT",
        "conditions": [{"type": "CUSTOMER_GROUP", "value": NO_GROUP}],
        "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": 0}],
        "meta": dict(meta),
        "priority": 0,
        "stack_order": 0,
    }


def bookkeeping_ruleset(
    external_id: str, name: str, rules: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A ruleset in normalised form with no pricing effect (see the module docstring)."""
    return {
        "external_id": external_id,
        "internal_name": name,
        "public_name": "",
        "active": False,
        "priority": 0,
        "start_date": None,
        "expiry_date": None,
        "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": [NO_PRODUCT]},
        "rules": {eid: dict(rule) for eid, rule in rules.items()},
    }


# --- members --------------------------------------------------------------------------------

Match = tuple[model.Kind, tuple[str, ...]]


def member_json(key: model.Key) -> list[str]:
    """A member as stored: ``["discount_code", "SPRING15"]``, ``["order_condition", n, v]``."""
    return [key.kind.value, *key.ident]


def member_key(item: Any) -> model.Key:
    """Inverse of :func:`member_json`; ValueError for anything else."""
    if not isinstance(item, list) or not item or not all(isinstance(p, str) for p in item):
        raise ValueError(f"not a member: {item!r:.80}")
    kind = model.Kind(item[0])
    size = kind.parts
    if len(item) != 1 + size:
        raise ValueError(f"a {kind.label} member needs {size} part(s): {item!r:.80}")
    return model.Key(kind, tuple(item[1:]))


def by_match(keys: Iterable[model.Key]) -> dict[Match, model.Key]:
    """Keys by what makes two keys one object (discount codes ignore case)."""
    return {key.match: key for key in keys}


def ordered(keys: Iterable[model.Key]) -> list[model.Key]:
    """Keys in a fixed order, one per object."""
    return sorted(by_match(keys).values(), key=lambda k: k.sort_key)


def chunks(members: Iterable[model.Key], limit: int = CHUNK_CHARS) -> list[list[list[str]]]:
    """Members split into lists whose ``{"members": [...]}`` JSON stays within ``limit``."""
    result: list[list[list[str]]] = []
    current: list[list[str]] = []
    size = len(model.canonical_json({"members": []}))
    for key in ordered(members):
        item = member_json(key)
        cost = len(model.canonical_json(item)) + (1 if current else 0)
        if current and size + cost > limit:
            result.append(current)
            current, size = [], len(model.canonical_json({"members": []}))
            cost -= 1
        current.append(item)
        size += cost
    if current:
        result.append(current)
    return result


def checksum(members: Iterable[model.Key]) -> str:
    """sha256 of the member list as stored: what the header vouches for."""
    return model.fingerprint([member_json(k) for k in ordered(members)])


# --- the record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A project's record as read from the shop."""

    project: str
    members: frozenset[model.Key]
    updated_at: str = ""
    updated_by: str = ""
    tool_version: str = ""
    #: The record ruleset's rule count: a reader sees how it was split.
    chunks: int = 0

    @property
    def external_id(self) -> str:
        """``boldrules.ownership.<project>``."""
        return record_id(self.project)


@dataclass(frozen=True)
class Damaged:
    """A record that exists but cannot be trusted (edited by hand, cut short)."""

    project: str
    reason: str

    @property
    def external_id(self) -> str:
        """``boldrules.ownership.<project>``."""
        return record_id(self.project)


def encode(
    project: str, members: Iterable[model.Key], *, by: str, now: dt.datetime
) -> dict[str, Any]:
    """The record ruleset's normalised body listing ``members``."""
    listed = ordered(members)
    parts = chunks(listed)
    header = {
        "boldrules": "ownership record",
        "format": FORMAT,
        "project": project,
        "members": len(listed),
        "chunks": len(parts),
        "checksum": checksum(listed),
        "updated_at": instants.stamp(now),
        "updated_by": by,
        "tool_version": __version__,
        "about": "Objects this boldrules project manages; see docs/ownership.md. Do not edit.",
    }
    rules = {HEADER_RULE: bookkeeping_rule(header)}
    for index, part in enumerate(parts, start=1):
        rules[f"{CHUNK_RULE}{index:04d}"] = bookkeeping_rule({"members": part})
    name = f"boldrules ownership record ({project}) — do not edit"
    return bookkeeping_ruleset(record_id(project), name, rules)


def decode(resource: model.Resource) -> Record | Damaged:
    """A record ruleset (normalised) → its Record, or Damaged saying what is wrong.

    Raises RecordUnreadable for a record of a later format: an older boldrules must not
    overwrite what a newer one wrote.
    """
    project = resource.key.ident[0][len(RECORD_PREFIX) :]
    rules = resource.body.get("rules", {})
    header = rules.get(HEADER_RULE, {}).get("meta", {})
    if not isinstance(header, Mapping) or header.get("boldrules") != "ownership record":
        return Damaged(project, f"its rule {HEADER_RULE} is missing or not a record header")
    version = header.get("format")
    if isinstance(version, int) and version > FORMAT:
        raise errors.RecordUnreadable(
            f"ownership record {record_id(project)} has format {version}, written by a newer "
            f"boldrules ({header.get('tool_version', '?')}); upgrade boldrules "
            f"(this is {__version__}) before planning or applying"
        )
    if version != FORMAT:
        return Damaged(project, f"unknown format {version!r}")
    names = sorted(r for r in rules if r.startswith(CHUNK_RULE))
    if header.get("chunks") != len(names):
        return Damaged(
            project, f"the header lists {header.get('chunks')!r} member rules, found {len(names)}"
        )
    members: list[model.Key] = []
    for name in names:
        items = rules[name].get("meta", {}).get("members")
        if not isinstance(items, list):
            return Damaged(project, f"rule {name} has no member list")
        try:
            members.extend(member_key(item) for item in items)
        except ValueError as exc:
            return Damaged(project, f"rule {name}: {exc}")
    if header.get("members") != len(members) or header.get("checksum") != checksum(members):
        return Damaged(project, "the member list does not match the header's count and checksum")
    return Record(
        project=project,
        members=frozenset(members),
        updated_at=str(header.get("updated_at", "")),
        updated_by=str(header.get("updated_by", "")),
        tool_version=str(header.get("tool_version", "")),
        chunks=len(names),
    )


def read_records(reserved: Iterable[model.Resource]) -> dict[str, Record | Damaged]:
    """Every project's record among the app's bookkeeping rulesets, by project name."""
    found: dict[str, Record | Damaged] = {}
    for resource in reserved:
        if resource.key.ident[0].startswith(RECORD_PREFIX):
            record = decode(resource)
            found[record.project] = record
    return found


def read_record(client: BoldClient, project: str) -> Record | Damaged | None:
    """One project's record read afresh (``None`` when the shop has none)."""
    data = client.get_ruleset(record_id(project))
    return decode(state.ruleset_resource(data)) if data is not None else None


def write(
    client: BoldClient,
    project: str,
    members: Iterable[model.Key],
    *,
    now: dt.datetime | None = None,
) -> None:
    """Create or replace the record (one PUT by external id: idempotent, safe to retry)."""
    moment = now or instants.now()
    body = encode(project, members, by=whoami(), now=moment)
    client.upsert_ruleset(record_id(project), state.ruleset_to_api(body))


# --- what an apply does to the record ---------------------------------------------------------


@dataclass(frozen=True)
class RecordPlan:
    """The record now, and what it lists once the plan is applied.

    ``after(deleted) = declared ∪ (before − dropped − deleted)``: every object the manifests
    declare is recorded (whether it is created now or existed already), members whose planned
    delete succeeded leave, and members that are gone from the shop or now recorded by another
    project are dropped. Before the calls run, apply writes the superset ``declared ∪ before``
    (less ``dropped``), so an object created by a run that dies half-way is recorded already.
    """

    project: str
    #: Members in the shop's record; None when there is none (first apply, deleted, damaged).
    before: frozenset[model.Key] | None
    #: Every object the manifests declare (whatever ``--only``/``--exclude`` compare).
    declared: frozenset[model.Key]
    #: Members to forget without a delete: gone from the shop, or recorded by another project.
    dropped: frozenset[model.Key] = frozenset()
    #: Members the plan deletes; they leave the record once their delete succeeds.
    deletes: frozenset[model.Key] = frozenset()
    #: Why the record in the shop was ignored, when it was damaged.
    damaged: str = ""

    @property
    def external_id(self) -> str:
        """``boldrules.ownership.<project>``."""
        return record_id(self.project)

    def _keep(self, leaving: Iterable[model.Key]) -> frozenset[model.Key]:
        gone = {k.match for k in (*self.dropped, *leaving)}
        kept = by_match(k for k in self.before or () if k.match not in gone)
        kept.update(by_match(self.declared))
        return frozenset(kept.values())

    def intended(self) -> frozenset[model.Key]:
        """What to record before the calls run: nothing the plan deletes is forgotten yet."""
        return self._keep(())

    def after(self, deleted: Iterable[model.Key]) -> frozenset[model.Key]:
        """What to record once the calls ran and ``deleted`` are confirmed gone."""
        done = {k.match for k in deleted}
        return self._keep(k for k in self.deletes if k.match in done)

    @property
    def final(self) -> frozenset[model.Key]:
        """What the record lists if every planned delete succeeds."""
        return self.after(self.deletes)

    @property
    def action(self) -> str:
        """``create``, ``update`` or ``""`` (nothing to write)."""
        if self.before is None:
            return "create"
        return "update" if differs(self.before, self.final) else ""

    def note(self) -> str:
        """One line for the plan when the record will be written; ``""`` when it will not."""
        action = self.action
        if not action:
            return ""
        final = self.final
        if action == "create":
            why = f" (the shop's copy is damaged: {self.damaged})" if self.damaged else ""
            return (
                f"Ownership record {self.external_id} will be created{why}, listing "
                f"{words.count(len(final), 'object')} (not a pricing change)."
            )
        have = {k.match for k in self.before or ()}
        want = {k.match for k in final}
        return (
            f"Ownership record {self.external_id} will be updated: +{len(want - have)} "
            f"−{len(have - want)}, listing {words.count(len(final), 'object')} "
            "(not a pricing change)."
        )

    def as_json(self) -> dict[str, Any]:
        """The record's part of a plan document; ``declared`` lets a saved plan write it."""
        return {
            "record": self.external_id,
            "project": self.project,
            "action": self.action,
            "exists": self.before is not None,
            "damaged": self.damaged,
            "members_after": len(self.final),
            "declared": [member_json(k) for k in ordered(self.declared)],
            "deletes": [member_json(k) for k in ordered(self.deletes)],
        }


def differs(a: Iterable[model.Key], b: Iterable[model.Key]) -> bool:
    """True when two member sets name different objects."""
    return {k.match for k in a} != {k.match for k in b}


def show_lines(record: Record | Damaged | None, project: str) -> Iterator[str]:
    """``boldrules ownership show``: the record, its members by kind."""
    eid = record_id(project)
    if record is None:
        yield f"No ownership record {eid} in this shop: the next apply of {project!r} makes it."
        return
    if isinstance(record, Damaged):
        yield f"Ownership record {eid} is damaged: {record.reason}."
        yield "Plans ignore it; the next apply rewrites it from the manifests (docs/ownership.md)."
        return
    yield (
        f"Ownership record {eid}: {words.count(len(record.members), 'object')}, in "
        f"{words.count(record.chunks, 'member rule')}; written {record.updated_at or '?'} by "
        f"{record.updated_by or '?'} (boldrules {record.tool_version or '?'})."
    )
    for key in ordered(record.members):
        yield f"  {key}"
