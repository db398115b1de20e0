"""Plain typed value objects shared by every stage: kinds, keys, resources and changes.

This module does no I/O and knows nothing of the API's JSON: bodies here are already in the
normalised form ``state.py`` produces (defaults filled, instants in canonical UTC, id lists as
sorted sets, rules keyed by ``external_id``, server-assigned fields moved to ``handles``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import marshal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, overload

_T = TypeVar("_T")


class _once(Generic[_T]):
    """``functools.cached_property`` without its lock.

    Python 3.11's holds one lock per property for every instance of the class: the threads
    that normalise a shop's pages queued on it for each object they made (``Resource.exact``,
    ``Key.match``), and the fetch of 10,000 rulesets spent most of its time there. A value
    computed twice by two threads is the same value; the instance keeps the last one.
    """

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> _once[_T]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> _T: ...
    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> _T | _once[_T]:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value  # read from there from now on
        return value


class Kind(enum.StrEnum):
    """The kinds of object boldrules manages, in dependency order: an order condition exists
    before the rulesets that refer to it (``reconciler.kinds`` holds what each kind knows)."""

    ORDER_CONDITION = "order_condition"
    RULESET = "ruleset"
    DISCOUNT_CODE = "discount_code"

    @property
    def label(self) -> str:
        """The kind as a reader says it: ``order condition``."""
        return self.value.replace("_", " ")

    @property
    def rank(self) -> int:
        """Creation order: the kind's place in the declaration above."""
        return _RANK[self]

    @property
    def parts(self) -> int:
        """How many parts an identity has (a key by server id has one more)."""
        return _IDENT_PARTS[self]


_RANK = {kind: rank for rank, kind in enumerate(Kind)}

#: ``(name, value)`` for an order condition; one part (external id, code) for the others.
_IDENT_PARTS = {kind: 2 if kind is Kind.ORDER_CONDITION else 1 for kind in Kind}

#: Product selection filters: lists of string ids whose order carries no meaning (contract §5.3).
SELECTION_FILTERS = (
    "sku_ids",
    "product_ids",
    "variant_ids",
    "collection_ids",
    "vendors",
    "titles",
    "product_types",
)

#: Every list of the normalised form whose order carries no meaning: the filters above, ANDed
#: conditions, field sets, discount code limits and e-mail restrictions. ``state.py`` stores them
#: sorted; ``diff.py`` reports their items as added and removed, never by position.
SET_FIELDS = frozenset(
    {*SELECTION_FILTERS, "conditions", "field_sets", "limits", "restrict_by_emails"}
)


#: A ruleset's ``rules`` are keyed by external id; a live rule without one (or repeating an
#: earlier rule's) is keyed by this and its server id instead: ``#456``.
UNNAMED_RULE_PREFIX = "#"

#: Exports before 0.2 named a live rule without an external id ``bold-rule-<its id>``; a
#: manifest rule so named still adopts that live rule (docs/export.md, "Adopting").
LEGACY_RULE_PREFIX = "bold-rule-"


@dataclass(frozen=True)
class Key:
    """An object's identity (contract §7.1).

    ``ident`` is ``(external_id,)`` for a ruleset, ``(name, value)`` for an order condition and
    ``(code,)`` for a discount code. A live object without an identity of its own (a ruleset
    with no ``external_id``) or sharing one with another (a discount code whose name differs from
    another's only in case) is keyed by its server id instead: one more part, ``#<id>``, after
    the identity it has (``("", "#123")``, ``("spring15", "#45")``), so no two live objects ever
    share a key and no such key can equal one a manifest declares.
    """

    kind: Kind
    ident: tuple[str, ...]

    @_once
    def server_id(self) -> int | None:
        """The server id of a live object keyed by it (see the class docstring), else None."""
        if len(self.ident) == self.kind.parts + 1 and self.ident[-1].startswith("#"):
            return int(self.ident[-1][1:])
        return None

    @property
    def name(self) -> str:
        """The identity as one string: ``spring-sale``, ``ZONE=prairies``, ``SPRING15``."""
        if self.server_id is not None:
            base = "=".join(part for part in self.ident[:-1] if part)
            return f"{base} {self.ident[-1]}" if base else self.ident[-1]
        return "=".join(self.ident)

    def __str__(self) -> str:
        """``kind:name``, the form ``--only``/``--exclude`` globs match against."""
        return f"{self.kind.value}:{self.name}"

    def describe(self) -> str:
        """``ruleset spring-sale``, for messages; ``ruleset #123 (no external_id)``."""
        if self.server_id is not None and not self.ident[0]:
            return f"{self.kind.label} {self.name} (no external_id)"
        return f"{self.kind.label} {self.name}"

    @_once
    def match(self) -> tuple[Kind, tuple[str, ...]]:
        """What two keys must share to be one object: discount code names ignore case.

        Bold keeps code names unique regardless of case and matches them so at checkout, so
        ``spring15`` in a manifest is the shop's ``SPRING15``; a change of case alone is none.
        """
        if self.kind is Kind.DISCOUNT_CODE:
            return (self.kind, (self.ident[0].casefold(), *self.ident[1:]))
        return (self.kind, self.ident)

    @property
    def sort_key(self) -> tuple[int, tuple[str, ...]]:
        """Kinds in dependency order, then identities in code-point order (server ids by number)."""
        if self.server_id is not None:
            return (self.kind.rank, (*self.ident[:-1], f"#{self.server_id:020d}"))
        return (self.kind.rank, self.ident)

    def as_json(self) -> dict[str, Any]:
        """``{"kind": ..., "ident": [...]}``."""
        return {"kind": self.kind.value, "ident": list(self.ident)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Key:
        """Inverse of :meth:`as_json`."""
        return cls(Kind(data["kind"]), tuple(str(part) for part in data["ident"]))


def ruleset_key(external_id: str) -> Key:
    """The key of a ruleset."""
    return Key(Kind.RULESET, (external_id,))


def unnamed_ruleset_key(server_id: int | str) -> Key:
    """The key of a live ruleset that has no ``external_id``: ``ruleset #123 (no external_id)``."""
    return Key(Kind.RULESET, ("", f"#{server_id}"))


def by_server_id(key: Key, server_id: int | str) -> Key:
    """``key`` narrowed to one live object by its server id (a duplicate of ``key``)."""
    return Key(key.kind, (*key.ident, f"#{server_id}"))


def order_condition_key(name: str, value: str) -> Key:
    """The key of an order condition."""
    return Key(Kind.ORDER_CONDITION, (name, value))


def discount_code_key(code: str) -> Key:
    """The key of a discount code."""
    return Key(Kind.DISCOUNT_CODE, (code,))


@dataclass(frozen=True, order=True)
class Origin:
    """Where a manifest object was declared."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, eq=False)
class Resource:
    """One object, desired (from manifests) or live (from the shop), in normalised form.

    ``body`` is compared; ``handles`` (server ids: ruleset id, rule ids by external id,
    field-set ids, discount code id) is never compared and only used to address calls.
    """

    key: Key
    body: Mapping[str, Any]
    origin: Origin | None = None
    handles: Mapping[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the normalised body."""
        return self._digest

    @_once
    def _digest(self) -> str:
        # Computed once: a Resource's body is final, and the diff, the plan's fingerprints and
        # the saved plan all ask for it.
        return fingerprint(self.body)

    @_once
    def exact(self) -> bytes | None:
        """``exact_form`` of the body: equal for two Resources whose bodies are the same values
        of the same types in the same order. Readers of a shop and of manifests ask for it as
        each object is made, while the rate limit makes them wait anyway, so the comparison
        after the last page costs a lookup, not a walk of every body."""
        return exact_form(self.body)

    def settled(self) -> Resource:
        """This Resource, its ``exact`` form found now (readers call it as they make one)."""
        _ = self.exact
        return self


#: The last marshal format whose bytes depend on values and types only (see ``exact_form``).
_MARSHAL_VERSION = 2


def exact_form(data: Any) -> bytes | None:
    """A 128-bit BLAKE2 digest of ``data``'s marshal bytes (format 2), or None for data
    marshal cannot write.

    Unlike ``==`` marshal keeps types apart (``True``, ``1`` and ``1.0`` are three values to the
    API, as to a fingerprint), and unlike canonical JSON it costs a twentieth as much. Format
    2, because from format 3 on the bytes also say which strings are interned and which objects
    are shared, so equal bodies read from different places (a manifest, a page of the API)
    would differ. Keys in another order differ too: a body's fields are in the schema's order
    (``kinds/fields.py``) on both sides, and ``fingerprint`` settles any other case.
    """
    try:
        return hashlib.blake2b(marshal.dumps(data, _MARSHAL_VERSION), digest_size=16).digest()
    except ValueError:
        return None


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no insignificant white space: the form hashes are taken of."""
    return _CANONICAL.encode(data)


#: ``json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)``
#: with its encoder made once: ``dumps`` made one per call, which cost half of each call on
#: the small objects a set of conditions is sorted by. ``encode`` keeps no state between calls.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def fingerprint(data: Any) -> str:
    """sha256 hex digest of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FieldChange:
    """One changed field: ``rules[gold-half-off].actions[0].value: -50 → -40``.

    ``op`` is ``changed``, ``added`` (absent before), ``removed`` (absent after) or
    ``duplicate`` (an extra copy of an item that stays: the copy in ``old`` is removed).
    """

    path: str
    old: Any
    new: Any
    op: Literal["changed", "added", "removed", "duplicate"] = "changed"

    def as_json(self) -> dict[str, Any]:
        """The field change as JSON."""
        return {"path": self.path, "op": self.op, "old": self.old, "new": self.new}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldChange:
        """Inverse of :meth:`as_json`."""
        return cls(data["path"], data.get("old"), data.get("new"), data.get("op", "changed"))


Action = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Create:
    """An object the manifests declare and the shop lacks."""

    desired: Resource
    action: Action = field(default="create", init=False)

    @property
    def key(self) -> Key:
        """The object's identity."""
        return self.desired.key


@dataclass(frozen=True)
class Update:
    """An object on both sides whose normalised bodies differ, field by field."""

    desired: Resource
    live: Resource
    fields: tuple[FieldChange, ...]
    action: Action = field(default="update", init=False)

    @property
    def key(self) -> Key:
        """The object's identity."""
        return self.desired.key


@dataclass(frozen=True)
class Delete:
    """An owned live object the manifests no longer declare; ``reason`` says why it is ours."""

    live: Resource
    reason: str = ""
    action: Action = field(default="delete", init=False)

    @property
    def key(self) -> Key:
        """The object's identity."""
        return self.live.key


Change = Create | Update | Delete


#: Ruleset external ids starting with this are boldrules' own bookkeeping objects in the shop
#: (the ownership record, the apply lock: docs/ownership.md). They are never managed, planned,
#: exported or declared in manifests.
RESERVED_PREFIX = "boldrules."


def is_reserved(external_id: str) -> bool:
    """True for a ruleset external id reserved for boldrules' bookkeeping."""
    return external_id.startswith(RESERVED_PREFIX)
