"""The shop as the kinds see it: the reads and writes they use, and the Call a change becomes.

``Shop`` is the protocol ``client.BoldClient`` meets (the kinds never import the client: they sit
below it); ``Call`` is one API operation for one change, built by a kind's ``calls`` and run by
``apply.py``; ``settle`` sends a create and, when its outcome is unknown (``AmbiguousWrite``),
reads back before resending, so a create is never repeated blindly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from reconciler import errors, model, pagination

#: A live object as the API sends it: a JSON object.
LiveJson = Mapping[str, Any]
#: A request body: a JSON object.
Body = Mapping[str, Any]


class Shop(Protocol):
    """The reads and writes of a shop the kinds use (``client.BoldClient`` has them all)."""

    def annotate(self, note: str) -> None: ...

    # rulesets
    def read_rulesets(self) -> pagination.Listing: ...
    def find_rulesets(self, external_ids: list[str]) -> list[dict[str, Any]]: ...
    def get_ruleset(self, external_id: str) -> dict[str, Any] | None: ...
    def get_ruleset_by_id(self, id: int | str) -> dict[str, Any] | None: ...
    def upsert_ruleset(self, external_id: str, ruleset: Body) -> dict[str, Any]: ...
    def patch_ruleset(self, external_id: str, ruleset: Body) -> dict[str, Any]: ...
    def delete_ruleset(self, external_id: str) -> None: ...
    def delete_rules(self, external_id: str, rule_ids: list[int]) -> None: ...
    def replace_ruleset_by_id(self, id: int | str, ruleset: Body) -> dict[str, Any]: ...
    def patch_ruleset_by_id(self, id: int | str, ruleset: Body) -> dict[str, Any]: ...
    def delete_ruleset_by_id(self, id: int | str) -> None: ...
    def delete_rules_by_id(self, id: int | str, rule_ids: list[int]) -> None: ...

    # order conditions
    def read_order_conditions(self) -> pagination.Listing: ...
    def get_order_condition(self, name: str, value: str) -> dict[str, Any] | None: ...
    def create_order_condition(self, body: Body) -> dict[str, Any]: ...
    def replace_order_condition(self, name: str, value: str, body: Body) -> dict[str, Any]: ...
    def delete_order_condition(self, name: str, value: str) -> None: ...
    def add_field_sets(
        self, name: str, value: str, field_sets: list[dict[str, Any]]
    ) -> dict[str, Any]: ...
    def delete_field_sets(self, name: str, value: str, field_set_ids: list[int]) -> None: ...

    # discount codes
    def read_discount_codes(self) -> pagination.Listing: ...
    def get_discount_code(self, id: int | str) -> dict[str, Any] | None: ...
    def list_discount_codes(self, *, name: str | None = None) -> list[dict[str, Any]]: ...
    def create_discount_codes(self, body: Body) -> list[dict[str, Any]]: ...
    def update_discount_code(self, id: int | str, body: Body) -> dict[str, Any]: ...
    def delete_discount_code(self, id: int | str) -> None: ...


Verb = Literal["create", "update", "delete"]


@dataclass
class Call:
    """One API operation for one change, with what it waits for."""

    change: model.Change
    verb: Verb  # for progress lines
    operation: str  # the client method's name (``+``-joined when several), for the ledger
    run: Callable[[Shop], object]
    phase: int
    after: set[model.Key] = field(default_factory=set)
    extra_keys: tuple[model.Key, ...] = ()  # discount codes created together with this one

    @property
    def keys(self) -> tuple[model.Key, ...]:
        """Every object this call changes."""
        return (self.change.key, *self.extra_keys)

    def label(self) -> str:
        """``update ruleset spring-sale``."""
        if self.extra_keys:
            names = ", ".join(k.name for k in self.keys)
            return f"{self.verb} {self.change.key.kind.label}s {names}"
        return f"{self.verb} {self.change.key.describe()}"


def phase(change: model.Change) -> int:
    """When a change runs: creates and updates in dependency order, then deletes in reverse.

    An order condition exists before a ruleset refers to it and is deleted after whatever
    referred to it has moved on. With three kinds: creates 0-2, deletes 3-5.
    """
    rank = change.key.kind.rank
    return 2 * len(model.Kind) - 1 - rank if isinstance(change, model.Delete) else rank


def call(change: model.Change, verb: Verb, operation: str, run: Callable[[Shop], object]) -> Call:
    """A Call of ``change`` in its phase."""
    return Call(change, verb, operation, run, phase(change))


#: How many times a create whose outcome stayed unknown is read back and tried again.
AMBIGUOUS_ATTEMPTS = 6


def settle(shop: Shop, send: Callable[[], object], settled: Callable[[], bool]) -> None:
    """Send a write; whenever its outcome is unknown, read back before resending.

    ``settled`` reads the shop and answers whether the write (or what is left of it) is done;
    it also narrows what the next ``send`` carries. Never resends what already exists.
    """
    for _ in range(AMBIGUOUS_ATTEMPTS - 1):
        try:
            send()
            return
        except errors.AmbiguousWrite:
            shop.annotate("outcome unknown: read back")
            if settled():
                return
    send()
