"""Typed reads of the Bold Price Rules API, over the generic call a client provides.

Owns ``ApiResponse`` (a successful call), ``Reads`` (the generic, paced, retried call that
``client.BoldClient`` implements: ``request``, ``list_all``, ``read_list``, ``_path``,
``annotate``) and every typed read plan, apply, export and the preview make: the shop's info,
lists read whole, ``find_rulesets`` in batches, one object by its identity (None when absent),
each found in its envelope (``data.ruleset``...). The writes build on these in
``operations.py``.

Must not: talk HTTP itself (every method goes through the abstract call), write, or interpret
an object's fields (``state.py`` and the kinds do).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import errors, pagination
from reconciler.routes import Method


@dataclass(frozen=True)
class ApiResponse:
    """A successful call: the status and the parsed JSON body (None when there was no body)."""

    method: Method
    path: str
    status_code: int
    body: dict[str, Any] | None
    attempts: int
    elapsed_ms: float
    #: The response's ``Date`` header: the server's clock when it answered, if it said.
    date: str | None = None

    @property
    def data(self) -> Any:
        """The envelope's ``data`` (contract §3), or None."""
        return self.body.get("data") if isinstance(self.body, dict) else None


class Reads(abc.ABC):
    """The client's generic call, and every typed read over it."""

    @abc.abstractmethod
    def request(
        self,
        route: str,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        read_back: Mapping[str, Any] | None = None,
    ) -> ApiResponse:
        """Send one call of the routes table, paced and retried."""

    @abc.abstractmethod
    def list_all(
        self,
        route: str,
        key: str | None,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a paginated list, each once."""

    @abc.abstractmethod
    def read_list(
        self,
        route: str,
        key: str | None,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> pagination.Listing:
        """Every item of a paginated list, with how the read went (pages, the server's clock)."""

    @abc.abstractmethod
    def _path(self, route: str, path_params: Mapping[str, str | int]) -> str:
        """The URL path of a route with its parameters filled in."""

    @abc.abstractmethod
    def annotate(self, note: str) -> None:
        """Say why the call just finished did not fail although its status says so."""

    # ---------------------------------------------------------------- typed reads

    def shop_info(self) -> dict[str, Any]:
        """``GET /shops/v1/info``: a bare object with ``shop_identifier`` (or under ``data``)."""
        body = self.request("shop_info").body
        if isinstance(body, dict) and "shop_identifier" not in body:
            inner = body.get("data")
            if isinstance(inner, dict):
                body = inner.get("shop", inner)
        if not isinstance(body, dict):
            raise errors.BadResponse(
                method="GET", path=self._path("shop_info", {}), status=200, detail="not an object"
            )
        return body

    def ping(self) -> None:
        """Check that the Price Rules API answers this token."""
        self.request("ping")

    def list_rulesets(self) -> list[dict[str, Any]]:
        """This app's own rulesets (never ``include_all_apps``: those are not ours to change)."""
        return self.read_rulesets().items

    def read_rulesets(self) -> pagination.Listing:
        """``list_rulesets`` with how the read went."""
        return self.read_list("list_rulesets", "rulesets")

    def find_rulesets(self, external_ids: list[str]) -> list[dict[str, Any]]:
        """Those of this app's rulesets whose external id is given (``external_ids=``, one call
        per ``FIND_BATCH`` ids); an id holding a comma is asked for alone, by path."""
        found: list[dict[str, Any]] = []
        plain = [eid for eid in external_ids if "," not in eid]
        for eid in (eid for eid in external_ids if "," in eid):
            one = self.get_ruleset(eid)
            found.extend([one] if one is not None else [])
        for batch in _batches(plain):
            wanted = set(batch)
            rows = self.list_all(
                "list_rulesets", "rulesets", params={"external_ids": ",".join(batch)}
            )
            if any(str(row.get("external_id")) not in wanted for row in rows):
                # The server ignored the filter: ask for each by path rather than trust a list
                # that was not the one asked for.
                for eid in batch:
                    one = self.get_ruleset(eid)
                    found.extend([one] if one is not None else [])
                continue
            found.extend(rows)
        return found

    def count_rulesets_all_apps(self) -> int | None:
        """How many rulesets every app has in the shop, or None when the server will not say.

        Only for telling the user how many were left alone: one read of one item, never used
        to plan a change (contract §7.4). Without a ``pagination.total`` the count is unknown
        rather than paid for by reading every app's rulesets.
        """
        response = self.request("list_rulesets", params={"limit": 1, "include_all_apps": "true"})
        pagination = response.body.get("pagination") if isinstance(response.body, dict) else None
        total = pagination.get("total") if isinstance(pagination, dict) else None
        if isinstance(total, int) and not isinstance(total, bool):
            return total
        return None

    def rulesets_of_other_apps(self, external_ids: Iterable[str]) -> list[str]:
        """Which of ``external_ids`` (ids this app's own listing lacks) other apps' rulesets carry.

        One listing of every app's rulesets (``include_all_apps``), only to tell a user that a
        plan would create rulesets another app already holds (``plan.with_other_apps`` decides
        when that is worth asking): never used to plan a change or a delete (contract §7.4).
        """
        wanted = set(external_ids)
        listed = self.list_all("list_rulesets", "rulesets", params={"include_all_apps": "true"})
        return sorted({str(r.get("external_id")) for r in listed} & wanted)

    def list_rulesets_all_apps(self) -> list[dict[str, Any]]:
        """Every app's rulesets (``include_all_apps``), read-only, for the price preview only.

        Customers are priced by every app's rulesets and by the rulesets backing discount codes,
        so a preview must see them; this listing is never used to plan a change or a delete
        (contract §7.4): ``preview`` takes it, ``plan`` never does.
        """
        return self.list_all("list_rulesets", "rulesets", params={"include_all_apps": "true"})

    def storefront_price(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST S/price`` (*Get Final Price for Product*, contract §6): Bold's own answer.

        ``body`` is ``{"items": [{"id": sku, "price": cents, ...}], "lineItemIdType": "sku",
        "customer": {...}}``; the answer ``{"pre_best_price_log_id", "actions": [...]}``
        (pricing-engine.md §7). A body that is not an object is a BadResponse.
        """
        response = self.request("storefront_price", json=dict(body))
        if not isinstance(response.body, dict) or not isinstance(
            response.body.get("actions"), list
        ):
            raise errors.BadResponse(
                method="POST",
                path=self._path("storefront_price", {}),
                status=response.status_code,
                detail="no `actions` list in the price answer",
            )
        return response.body

    def get_ruleset(self, external_id: str) -> dict[str, Any] | None:
        """One of this app's rulesets by external id, or None."""
        return self._get_one("get_ruleset", "ruleset", {"external_id": external_id})

    def get_ruleset_by_id(self, id: int | str) -> dict[str, Any] | None:
        """One of this app's rulesets by server id (for one without an external id), or None."""
        return self._get_one("get_ruleset_by_id", "ruleset", {"id": id})

    def list_order_conditions(self) -> list[dict[str, Any]]:
        """Every order condition of the shop, with its field sets (``deep=true``)."""
        return self.read_order_conditions().items

    def read_order_conditions(self) -> pagination.Listing:
        """``list_order_conditions`` with how the read went."""
        return self.read_list("list_order_conditions", "order_conditions", params={"deep": "true"})

    def get_order_condition(self, name: str, value: str) -> dict[str, Any] | None:
        """One order condition by (name, value), or None."""
        return self._get_one(
            "get_order_condition", "order_condition", {"name": name, "value": value}
        )

    def list_discount_codes(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """Every discount code of the shop, or those matching ``name``."""
        params = {"name": name} if name is not None else None
        return self.list_all("list_discount_codes", "discount_codes", params=params)

    def read_discount_codes(self) -> pagination.Listing:
        """Every discount code of the shop, with how the read went."""
        return self.read_list("list_discount_codes", "discount_codes")

    def get_discount_code(self, id: int | str) -> dict[str, Any] | None:
        """One discount code by id, or None."""
        return self._get_one("get_discount_code", "discount_code", {"id": id})

    def list_rules(self, external_id: str) -> list[dict[str, Any]]:
        """The rules of one of this app's rulesets (``data`` is a bare list)."""
        return self.list_all("list_rules", None, path_params={"external_id": external_id})

    def _get_one(
        self, route: str, key: str, path_params: Mapping[str, str | int]
    ) -> dict[str, Any] | None:
        try:
            response = self.request(route, path_params=path_params)
        except errors.NotFound:
            self.annotate("not there")
            return None
        return object_of(response, key)


#: External ids asked for in one ``external_ids=`` list: one page's worth (contract §3), and
#: few enough characters that the URL stays well under the 8 KB many servers accept.
FIND_BATCH = 100
_FIND_BATCH_CHARS = 2000  # UTF-8 bytes; at most three URL characters each


def _batches(external_ids: list[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    size = 0
    for eid in external_ids:
        if (
            not batches
            or len(batches[-1]) >= FIND_BATCH
            or size + len(eid.encode()) > _FIND_BATCH_CHARS
        ):
            batches.append([])
            size = 0
        batches[-1].append(eid)
        size += len(eid.encode()) + 1
    return batches


def object_of(response: ApiResponse, key: str) -> dict[str, Any]:
    """The ``data.<key>`` object of a response; BadResponse when it has none."""
    data = response.data
    found = data.get(key) if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise errors.BadResponse(
            method=response.method,
            path=response.path,
            status=response.status_code,
            attempts=response.attempts,
            detail=f"the response has no data.{key} object",
        )
    return found
