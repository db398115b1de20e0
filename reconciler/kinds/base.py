"""What every kind of object knows about itself, and the table a caller dispatches through.

A kind (``ruleset``, ``order_condition``, ``discount_code``) is one subclass of ``KindSpec`` in
a module of its own, like octoDNS's record classes: how its live JSON becomes a normalised
``model.Resource`` (the API's quirks for it), the request body it is sent as, how it is read
from a shop, its manifest form (export), the objects it refers to, the one line that says what
it does, whether it has a window of dates, and what makes it ours beyond being declared. The
stages (``state``, ``diff``, ``plan``, ``calls``, ``export``, ``planformat``, ``schedule``) ask the
table (``kinds.by_name[key.kind]``) instead of branching on the kind; the dependency order is
the order of ``model.Kind``, read as ``kinds.in_dependency_order`` and ``shop.phase``.

Must not: talk HTTP (a kind is handed a ``shop.Shop``, the protocol the client meets), decide
what a plan changes, or print.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from reconciler import model, pagination
from reconciler.kinds.shop import Call, LiveJson, Shop

#: Why an owned live object that no manifest declares any more is deleted, by what made it ours
#: (a plan shows the reason beside the delete).
GONE = "gone from the manifests"
RECORDED = "no longer declared; recorded as managed by this project"
BY_GROUP_SETTING = "no longer declared; its group is listed in ownership.order_conditions"
BY_PREFIX_SETTING = (
    "no longer declared; its name starts with an ownership.discount_code_prefixes entry"
)


@dataclass(frozen=True)
class Scope:
    """What the manifests and the project's settings make ours beyond what they declare."""

    #: The objects the manifests declare (a plan), or the exported objects refer to (export).
    declared: frozenset[model.Key] = frozenset()
    #: ``ownership.order_conditions``: groups listed in the project file.
    listed_groups: frozenset[str] = frozenset()
    #: ``ownership.discount_code_prefixes``, case-folded.
    prefixes: tuple[str, ...] = ()
    #: ``export --all-codes``: every discount code.
    all_codes: bool = False

    @functools.cached_property
    def declared_names(self) -> Mapping[model.Kind, frozenset[str]]:
        """The first part of each declared identity, by kind (an order condition's group)."""
        names: dict[model.Kind, set[str]] = {}
        for key in self.declared:
            names.setdefault(key.kind, set()).add(key.ident[0])
        return {kind: frozenset(found) for kind, found in names.items()}


@dataclass(frozen=True)
class Priced:
    """A part of an object that sets prices: a ruleset's rule, a discount code's action."""

    #: Where it is in the body: ``rules[gold]``, ``action``.
    path: str
    #: The part as a whole, compared to tell whether it changed.
    part: Any
    #: What kind of discount it is: the rule's ``type``, ``DISCOUNT_CODE`` for a code.
    type: str
    #: Its actions, each with where it is: ``(rules[gold].actions[0], {...})``.
    actions: tuple[tuple[str, Mapping[str, Any]], ...]


class Normalised(dict[str, Any]):
    """A listed object normalised as its page arrived (``state.fetch_live``): what the read's
    checks still look at (its id, its stamps, its names) and, as ``resource``, the Resource."""

    resource: model.Resource


#: The fields of a listed object a ``Normalised`` keeps: the read's checks need no others.
NORMALISED_KEEPS = ("id", "created_at", "updated_at", "external_id", "code", "name")


class KindSpec(abc.ABC):
    """One kind of object: everything boldrules knows about it, in one place."""

    #: The kind this spec describes.
    kind: ClassVar[model.Kind]
    #: The manifest list (and export file or folder) the kind is declared in: ``rulesets``.
    list_name: ClassVar[str]
    #: The fields the contract lists for the object as the API sends it (§5).
    live_fields: ClassVar[frozenset[str]]
    #: Owned because the token lists it (the listing is the app's own), not by a setting.
    token_scoped: ClassVar[bool] = False
    #: A live object without an identity may be adopted by a manifest's ``adopt`` hints (its
    #: server id), and its parts (rules) named in place (``diff.pair_rules``).
    adoptable: ClassVar[bool] = False
    #: Has a window (``start_date``/``expiry_date``): it starts and ends, besides applying.
    dated: ClassVar[bool] = False
    #: Its name is a secret customers type at checkout: plans may mask it (``--show-codes``).
    secret_name: ClassVar[bool] = False
    #: What ``left_alone`` counts the kind's unmanaged objects as, and by what unit of them.
    unmanaged: ClassVar[str] = ""

    @property
    def label(self) -> str:
        """The kind as a reader says it: ``order condition``."""
        return self.kind.label

    # --- live JSON ↔ model ------------------------------------------------------------------

    @abc.abstractmethod
    def resource(self, data: LiveJson, origin: model.Origin | None = None) -> model.Resource:
        """A declared or live object → a normalised Resource (the API's quirks for the kind)."""

    @abc.abstractmethod
    def to_api(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A normalised body → the request body that states the object whole."""

    def live(self, items: Iterable[LiveJson]) -> list[model.Resource]:
        """A listing's objects → Resources, no two sharing a key."""
        return [self.made(item) for item in items]

    def made(self, item: LiveJson) -> model.Resource:
        """A listed object's Resource: made as its page arrived (``Normalised``), or now."""
        return item.resource if isinstance(item, Normalised) else self.resource(item)

    # --- reading a shop ---------------------------------------------------------------------

    @abc.abstractmethod
    def read(self, reader: Shop) -> pagination.Listing:
        """Every object of the kind the token sees, as one listing."""

    @abc.abstractmethod
    def read_one(self, reader: Shop, key: model.Key) -> model.Resource | None:
        """One object read back by its identity, or None when the shop holds none."""

    def exist(self, reader: Shop, keys: Sequence[model.Key]) -> Mapping[model.Key, bool] | None:
        """Whether each key exists, in one batched read; None: the kind reads one at a time."""
        return None

    def addressable(self, key: model.Key) -> bool:
        """Whether a targeted read can address ``key`` (every part of its identity given).

        A live object keyed by its server id as well (no identity of its own, or one it shares)
        is only ever deleted, and the listing saw it: it is not confirmed.
        """
        return len(key.ident) == key.kind.parts and all(key.ident)

    # --- the call mapping -------------------------------------------------------------------

    @abc.abstractmethod
    def calls(self, changes: Sequence[model.Change]) -> list[Call]:
        """The fewest calls that make the changes of this kind (in plan order)."""

    # --- what it is and what it refers to ---------------------------------------------------

    def references(self, body: Mapping[str, Any]) -> set[model.Key]:
        """The objects of other kinds ``body`` refers to (created before it, deleted after)."""
        return set()

    def written_references(
        self, entry: Mapping[str, Any]
    ) -> Iterator[tuple[tuple[str | int, ...], model.Key]]:
        """The objects a manifest entry, as written, refers to, each with its path in the entry
        (the manifest checks that each is declared, and point at it when it is not)."""
        return iter(())

    def priced(self, body: Mapping[str, Any]) -> list[Priced]:
        """The parts of ``body`` that set prices, in reading order (none, by default)."""
        return []

    @abc.abstractmethod
    def summary(self, body: Mapping[str, Any]) -> str:
        """What the object does, in words (``describe.py``)."""

    # --- ownership --------------------------------------------------------------------------

    def claim(self, key: model.Key, scope: Scope) -> str | None:
        """Why an undeclared live object is ours by the manifests or settings, or None."""
        return GONE if self.token_scoped else None

    def unmanaged_unit(self, key: model.Key) -> str:
        """What ``unmanaged`` counts one of: the object itself, by default."""
        return str(key)

    # --- manifests --------------------------------------------------------------------------

    @abc.abstractmethod
    def manifests(self, resources: Sequence[model.Resource]) -> list[tuple[str, dict[str, Any]]]:
        """Normalised objects → manifest entries, each with the name of the file it goes to
        when an export is split (entries sharing a name share a file)."""

    def named(self, resources: Sequence[model.Resource], *, shop: str) -> list[model.Resource]:
        """The objects as export writes them: any without an identity given one (``adopt``)."""
        return list(resources)
