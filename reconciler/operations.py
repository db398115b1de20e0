"""Typed operations on the Bold Price Rules API: what plan, apply and export call.

Owns the envelope of each operation (``data.ruleset``, ``{"discount_code": ...}`` bodies,
``read_back`` hints for creates whose outcome may be unknown) on top of the generic, paced,
retried call that ``client.BoldClient`` provides. It must not talk HTTP itself: every method
goes through ``request``, ``list_all`` or ``_path``, which the client implements.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import errors, pagination


@dataclass(frozen=True)
class ApiResponse:
    """A successful call: the status and the parsed JSON body (None when there was no body)."""

    method: str
    path: str
    status_code: int
    body: Any
    attempts: int
    elapsed_ms: float
    #: The response's ``Date`` header: the server's clock when it answered, if it said.
    date: str | None = None

    @property
    def data(self) -> Any:
        """The envelope's ``data`` (contract §3), or None."""
        return self.body.get("data") if isinstance(self.body, dict) else None


class Operations(abc.ABC):
    """Every operation plan, apply and export need, over the client's generic call."""

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
        return _object(response, key)

    # ---------------------------------------------------------------- typed writes

    def upsert_ruleset(self, external_id: str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace one of this app's rulesets by external id (PUT: retried safely)."""
        body = _wrap("ruleset", ruleset)
        response = self.request(
            "upsert_ruleset", path_params={"external_id": external_id}, json=body
        )
        return _object(response, "ruleset")

    def create_ruleset(self, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Create a ruleset (POST): ``Conflict`` when its external id is taken in this app.

        Only the apply lock uses it, for that 409: the one atomic test-and-set the API offers.
        An unknown outcome raises ``AmbiguousWrite``; the caller reads back.
        """
        body = _wrap("ruleset", ruleset)
        read_back = {"route": "create_ruleset", "external_id": body["ruleset"].get("external_id")}
        response = self.request("create_ruleset", json=body, read_back=read_back)
        return _object(response, "ruleset")

    def patch_ruleset(self, external_id: str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Replace or append the given rules (and dates), leaving other rules as they are."""
        body = _wrap("ruleset", ruleset)
        response = self.request(
            "patch_ruleset", path_params={"external_id": external_id}, json=body
        )
        return _object(response, "ruleset")

    def delete_ruleset(self, external_id: str) -> None:
        """Delete one of this app's rulesets; a 404 counts as deleted once a read confirms it."""
        self._delete("delete_ruleset", {"external_id": external_id})

    def replace_ruleset_by_id(self, id: int | str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Replace one of this app's rulesets by server id, rules included (PUT: retried safely).

        The way to give a ruleset an external id it lacks: PATCH cannot change top-level
        fields other than the dates (contract §6).
        """
        body = _wrap("ruleset", ruleset)
        response = self.request("replace_ruleset_by_id", path_params={"id": id}, json=body)
        return _object(response, "ruleset")

    def patch_ruleset_by_id(self, id: int | str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH by server id: replace the given rules (matched by rule ``id`` first)."""
        body = _wrap("ruleset", ruleset)
        response = self.request("patch_ruleset_by_id", path_params={"id": id}, json=body)
        return _object(response, "ruleset")

    def delete_ruleset_by_id(self, id: int | str) -> None:
        """Delete one of this app's rulesets by server id; one already gone counts as deleted."""
        self._delete("delete_ruleset_by_id", {"id": id})

    def delete_rules_by_id(self, id: int | str, rule_ids: list[int]) -> None:
        """Delete rules of a ruleset addressed by its server id, in one call."""
        self._delete("delete_rules_by_id", {"id": id}, {"rule_ids": list(rule_ids)})

    def delete_rules(self, external_id: str, rule_ids: list[int]) -> None:
        """Delete rules of a ruleset by their ids, in one call.

        The API deletes nothing when one id is unknown (404): the ruleset is read back, and the
        ids still there are sent once more; a 404 with every id still there is a failure.
        """
        wanted = [int(i) for i in rule_ids]
        remaining: list[int] = []

        def gone() -> bool:
            found = self.get_ruleset(external_id)
            there = {r.get("id") for r in (found or {}).get("rules") or [] if isinstance(r, dict)}
            remaining[:] = [i for i in wanted if i in there]
            return not remaining

        try:
            self._delete(
                "delete_rules",
                {"external_id": external_id},
                {"rule_ids": wanted},
                gone=gone,
                what="rules",
            )
        except errors.NotDeleted:
            if not remaining or len(remaining) == len(wanted):
                raise
            # Some were deleted by someone else meanwhile: delete the rest.
            self._delete(
                "delete_rules",
                {"external_id": external_id},
                {"rule_ids": remaining},
                gone=gone,
                what="rules",
            )

    def create_order_condition(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create an order condition (POST: an unknown outcome raises ``AmbiguousWrite``)."""
        read_back = {
            "route": "create_order_condition",
            "name": body.get("name"),
            "value": body.get("value"),
        }
        response = self.request("create_order_condition", json=dict(body), read_back=read_back)
        return _object(response, "order_condition")

    def replace_order_condition(
        self, name: str, value: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace an order condition's whole body, field sets included."""
        response = self.request(
            "replace_order_condition", path_params={"name": name, "value": value}, json=dict(body)
        )
        return _object(response, "order_condition")

    def delete_order_condition(self, name: str, value: str) -> None:
        """Delete one order condition; a 404 counts as deleted once a read confirms it."""
        self._delete("delete_order_condition", {"name": name, "value": value})

    def add_field_sets(
        self, name: str, value: str, field_sets: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Add field sets to an order condition (POST: may raise ``AmbiguousWrite``)."""
        body = {"name": name, "value": value, "field_sets": list(field_sets)}
        read_back = {"route": "add_field_sets", **body}
        response = self.request("add_field_sets", json=body, read_back=read_back)
        data = response.data
        if isinstance(data, dict) and "order_condition" in data:
            return _object(response, "order_condition")
        return data if isinstance(data, dict) else {}

    def delete_field_sets(self, name: str, value: str, field_set_ids: list[int]) -> None:
        """Delete field sets of an order condition by id, in one call."""
        wanted = [int(i) for i in field_set_ids]

        def gone() -> bool:
            found = self.get_order_condition(name, value)
            there = {fs.get("id") for fs in (found or {}).get("field_sets") or []}
            return not there & set(wanted)

        body = {"name": name, "value": value, "field_set_ids": wanted}
        self._delete("delete_field_sets", {}, body, gone=gone, what="field sets")

    def create_discount_codes(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Create one discount code per name in ``codes`` (POST: may raise ``AmbiguousWrite``)."""
        wrapped = _wrap("discount_code", body)
        codes = list(wrapped["discount_code"].get("codes") or [])
        read_back = {"route": "create_discount_codes", "codes": codes}
        response = self.request("create_discount_codes", json=wrapped, read_back=read_back)
        data = response.data
        if isinstance(data, dict) and isinstance(data.get("discount_codes"), list):
            return [code for code in data["discount_codes"] if isinstance(code, dict)]
        return [_object(response, "discount_code")]

    def update_discount_code(self, id: int | str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Restate every field of a discount code (PUT: retried safely)."""
        response = self.request(
            "update_discount_code", path_params={"id": id}, json=_wrap("discount_code", body)
        )
        return _object(response, "discount_code")

    def delete_discount_code(self, id: int | str) -> None:
        """Delete a discount code; a 404 counts as deleted once a read confirms it."""
        self._delete("delete_discount_code", {"id": id})

    def _delete(
        self,
        route: str,
        path_params: Mapping[str, str | int],
        body: Any = None,
        *,
        gone: Callable[[], bool] | None = None,
        what: str = "",
    ) -> None:
        """Send a DELETE; believe a 404 ("already gone") only when ``gone`` reads it so.

        A DELETE retried after a dropped answer meets 404 because the first attempt did the
        work; a DELETE on a wrong path meets 404 too, and then the object is still there.
        Without ``gone``, the object is read back by the GET of ``READ_BACK`` (the same
        identity or id); a DELETE with no such read keeps its 404 as a failure.
        """
        if gone is None and route in READ_BACK:
            read, what = READ_BACK[route]
            gone = functools.partial(self._absent, read, path_params)
        for resend in (True, False):
            try:
                self.request(route, path_params=path_params, json=body)
                return
            except errors.AmbiguousWrite:
                # A 2xx whose body cannot be read: read back; if it is still there, once more.
                self.annotate("outcome unknown: read back")
                if gone is not None and gone():
                    return
                if not resend:
                    raise
            except errors.NotFound as exc:
                if gone is None:
                    raise
                self.annotate("404: read back to check it is gone")
                if gone():
                    return
                raise errors.NotDeleted(
                    method=exc.method,
                    path=exc.path,
                    status=exc.status,
                    api_message=exc.api_message,
                    code=exc.code,
                    attempts=exc.attempts,
                    detail=f"yet the {what} is still there when read back: nothing was deleted "
                    f"(check routes: {route} in boldrules.yaml, or how the object is identified)",
                ) from exc

    def _absent(self, route: str, path_params: Mapping[str, str | int]) -> bool:
        """Whether a GET of ``route`` answers 404 (the object is not there)."""
        try:
            self.request(route, path_params=path_params)
        except errors.NotFound:
            self.annotate("not there")
            return True
        return False


#: A DELETE route → the GET that reads the same object back (the same identity or id), and
#: what the object is called in messages: how a 404 to the DELETE is confirmed as "gone".
READ_BACK: Mapping[str, tuple[str, str]] = {
    "delete_ruleset": ("get_ruleset", "ruleset"),
    "delete_ruleset_by_id": ("get_ruleset_by_id", "ruleset"),
    "delete_order_condition": ("get_order_condition", "order condition"),
    "delete_discount_code": ("get_discount_code", "discount code"),
}


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


def _wrap(key: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: body}``, accepting a body that is already wrapped."""
    if set(body) == {key} and isinstance(body[key], Mapping):
        return {key: dict(body[key])}
    return {key: dict(body)}


def _object(response: ApiResponse, key: str) -> dict[str, Any]:
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
