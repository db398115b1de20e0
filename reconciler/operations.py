"""Typed writes of the Bold Price Rules API: what apply, the lock and the ownership record send.

Owns ``Operations``: the typed reads of ``reads.py`` and every write over them, with the
envelope of each (``{"ruleset": ...}``, ``{"discount_code": ...}`` bodies, given wrapped or
bare), the ``read_back`` hints of creates whose outcome may be unknown, and deletes that believe
a 404 only when a read confirms the object is gone (``READ_BACK``). ``client.BoldClient`` is an
``Operations``.

Must not: talk HTTP itself: every method goes through ``request``, ``list_all`` or ``_path``,
which the client implements.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from reconciler import errors, reads
from reconciler.reads import object_of


class Operations(reads.Reads):
    """Every operation plan, apply and export need, over the client's generic call."""

    # ---------------------------------------------------------------- typed writes

    def upsert_ruleset(self, external_id: str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace one of this app's rulesets by external id (PUT: retried safely)."""
        body = _wrap("ruleset", ruleset)
        response = self.request(
            "upsert_ruleset", path_params={"external_id": external_id}, json=body
        )
        return object_of(response, "ruleset")

    def create_ruleset(self, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Create a ruleset (POST): ``Conflict`` when its external id is taken in this app.

        Only the apply lock uses it, for that 409: the one atomic test-and-set the API offers.
        An unknown outcome raises ``AmbiguousWrite``; the caller reads back.
        """
        body = _wrap("ruleset", ruleset)
        read_back = {"route": "create_ruleset", "external_id": body["ruleset"].get("external_id")}
        response = self.request("create_ruleset", json=body, read_back=read_back)
        return object_of(response, "ruleset")

    def patch_ruleset(self, external_id: str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """Replace or append the given rules (and dates), leaving other rules as they are."""
        body = _wrap("ruleset", ruleset)
        response = self.request(
            "patch_ruleset", path_params={"external_id": external_id}, json=body
        )
        return object_of(response, "ruleset")

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
        return object_of(response, "ruleset")

    def patch_ruleset_by_id(self, id: int | str, ruleset: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH by server id: replace the given rules (matched by rule ``id`` first)."""
        body = _wrap("ruleset", ruleset)
        response = self.request("patch_ruleset_by_id", path_params={"id": id}, json=body)
        return object_of(response, "ruleset")

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
        return object_of(response, "order_condition")

    def replace_order_condition(
        self, name: str, value: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace an order condition's whole body, field sets included."""
        response = self.request(
            "replace_order_condition", path_params={"name": name, "value": value}, json=dict(body)
        )
        return object_of(response, "order_condition")

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
            return object_of(response, "order_condition")
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
        return [object_of(response, "discount_code")]

    def update_discount_code(self, id: int | str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Restate every field of a discount code (PUT: retried safely)."""
        response = self.request(
            "update_discount_code", path_params={"id": id}, json=_wrap("discount_code", body)
        )
        return object_of(response, "discount_code")

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


def _wrap(key: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: body}``, accepting a body that is already wrapped."""
    if set(body) == {key} and isinstance(body[key], Mapping):
        return {key: dict(body[key])}
    return {key: dict(body)}
