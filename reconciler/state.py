"""Live JSON ↔ model: reading a shop, and the names the rest of boldrules translates by.

The API's field quirks live with the kinds (``reconciler/kinds/``, below this module): what all
kinds share in ``kinds/fields.py`` (instants, numbers, id sets, conditions), each kind's own in
its module; the defaults the API fills in are the ``default`` keywords of the manifest schema
(``schema.defaults``), instants are read and written by ``instants``. Both sides of a diff pass
through the same normalisers, so a manifest and the live object it produced compare equal
(contract §7.3). ``resource`` and the ``*_resource`` / ``*_to_api`` names here are those kinds'
translations, reached through this module as before.

``fetch_live`` reads a shop with list calls (each kind reading its own, side by side), and makes
sure a plan is not built on a read that tore while the shop changed (see its docstring and
docs/client.md, "Pagination"). Nothing above this module sees raw API JSON but through it or a
kind. This module does not decide ownership or order (``plan.py``) and does not talk HTTP itself
(``client.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler import errors, instants, kinds, model, pagination
from reconciler.kinds import discount_code, fields, order_condition, rules, ruleset
from reconciler.kinds.base import NORMALISED_KEEPS, Normalised

if TYPE_CHECKING:
    from reconciler.client import BoldClient

log = logging.getLogger("reconciler.state")

# The field quirks live with the kinds (``reconciler/kinds/``): what every kind shares in
# ``kinds/fields.py``, each kind's own in its module. The names below are the ones the rest of
# boldrules (and its tests) reach them by.
normalise_instant = fields.normalise_instant
has_identity = fields.has_identity
is_unnamed_rule = rules.is_unnamed_rule
rule_to_api = rules.rule_to_api
ruleset_resource = ruleset.RULESET.resource
ruleset_to_api = ruleset.RULESET.to_api
order_condition_resource = order_condition.ORDER_CONDITION.resource
order_condition_to_api = order_condition.ORDER_CONDITION.to_api
discount_code_resource = discount_code.DISCOUNT_CODE.resource
discount_code_to_api = discount_code.to_api
distinct_codes = discount_code.distinct


def resource(
    key: model.Key, data: kinds.LiveJson, origin: model.Origin | None = None
) -> model.Resource:
    """A declared or live object of ``key``'s kind → a normalised Resource."""
    return kinds.by_name[key.kind].resource(data, origin)


# --- reading a shop -------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    """Everything one token sees of a shop, normalised; ownership is decided by ``plan.py``."""

    resources: tuple[model.Resource, ...]
    #: Rulesets of other apps this token does not own (discount codes' own rulesets not counted).
    foreign_rulesets: int | None
    shop: str
    #: This app's bookkeeping rulesets (external ids under ``model.RESERVED_PREFIX``: ownership
    #: records, apply locks), kept apart so that nothing plans, diffs or exports them.
    reserved: tuple[model.Resource, ...] = ()


#: Rounds of reading a shop that seems to change under ``fetch_live`` before it gives up.
READ_ROUNDS = 3

# Assumptions about Bold the contract does not state, which the torn-read checks rest on:
# - one list response is built from one state of the shop (a page cannot tear by itself), so a
#   list of one page needs no confirming;
# - the ``Date`` header and the ``created_at``/``updated_at`` stamps come from clocks that agree
#   to within a second (a server stamping ahead of its ``Date`` costs one extra read per change,
#   never a wrong plan: a stamp seen by the previous read is not news);
# - ``external_ids=`` matches external ids exactly; a server that ignores the filter is noticed
#   (it answers with rulesets not asked for) and asked by path instead.

#: An object's ``created_at`` and ``updated_at`` as the server sent them (contract §5.1).
Stamps = tuple[object, object]

Decisive = Callable[[LiveState], Iterable[model.Key]]


def fetch_live(client: BoldClient, *, decisive: Decisive | None = None) -> LiveState:
    """Read the shop with list calls: own rulesets, order conditions, discount codes.

    The three listings run side by side; the client paces them under one rate limit, and
    re-reads a list whose pages do not hold together. A list read in several pages is then
    checked here for what only its objects can show, at no cost to a quiet shop:

    * an object created or updated at or after the server's clock when the first page was
      served (its ``Date``) may have shifted others across a page edge: that list is read again
      (an object already seen with the same stamps does not count twice);
    * ``decisive(live)`` names the keys the caller will act on because the listing says they
      are absent (a create) or present (a delete). Each of a multi-page kind is confirmed by a
      targeted read (rulesets by ``external_ids=``, 100 a call; a condition by name and value;
      a code by name), so a plan never creates what exists or deletes what went away. Nothing
      to create or delete costs nothing.

    A read that still moves after ``READ_ROUNDS`` rounds raises ``errors.ShopChanging``.
    """
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch") as pool:
        all_apps = pool.submit(client.count_rulesets_all_apps)
        chosen = tuple(model.Kind)
        listings = _read_kinds(pool, client, chosen)
        stamps: dict[model.Kind, dict[str, Stamps]] = {}
        reason = ""
        for round_number in range(1, READ_ROUNDS + 1):
            live = _live_state(listings, all_apps.result(), client.shop_identifier)
            doubts = _fresh_objects({k: listings[k] for k in chosen}, stamps)
            if not doubts and decisive is not None:
                doubts = _confirm(client, live, decisive(live), listings)
            if not doubts:
                return live
            reason = next(iter(doubts.values()))
            log.info("read %d of the shop: %s; reading it again", round_number, reason)
            if round_number < READ_ROUNDS:
                chosen = tuple(doubts)
                listings.update(_read_kinds(pool, client, chosen))
    raise errors.ShopChanging(READ_ROUNDS, reason)


def _read_kinds(
    pool: ThreadPoolExecutor, client: BoldClient, chosen: Iterable[model.Kind]
) -> dict[model.Kind, pagination.Listing]:
    futures = {kind: pool.submit(_read, kinds.by_name[kind], client) for kind in chosen}
    return {kind: future.result() for kind, future in futures.items()}


def _read(spec: kinds.KindSpec, client: BoldClient) -> pagination.Listing:
    """The kind's listing, each page normalised as it arrives (``_normalised``)."""
    with client.pages_through(functools.partial(_normalised, spec)):
        return spec.read(client)


def _normalised(spec: kinds.KindSpec, page: pagination.Page) -> pagination.Page:
    """``page`` with each object normalised now, while the next pages are awaited, and its raw
    JSON let go: a ``Normalised`` keeps only what the read's checks look at. An object without
    an id is kept whole (the whole object is its identity), and so is one the kind cannot read
    (it fails where it did, once the read holds together)."""
    items: list[dict[str, Any]] = []
    for item in page.items:
        if pagination.identity(item).startswith("json:"):
            items.append(item)
            continue
        try:
            made = spec.resource(item).settled()
        except (ValueError, TypeError, KeyError, AttributeError):
            items.append(item)
            continue
        kept = Normalised({k: item[k] for k in NORMALISED_KEEPS if k in item})
        kept.resource = made
        items.append(kept)
    return dataclasses.replace(page, items=items)


def _live_state(
    listings: Mapping[model.Kind, pagination.Listing], everyone: int | None, shop: str
) -> LiveState:
    resources = [
        resource
        for spec in kinds.in_dependency_order
        for resource in spec.live(listings[spec.kind].items)
    ]
    own = sum(1 for r in resources if kinds.by_name[r.key.kind].token_scoped)
    # Each discount code is backed by a ruleset of Bold's discount-code app (contract §5.5);
    # those are the codes themselves, not other apps' rulesets, so they are not counted.
    backing = {r.handles["ruleset_id"] for r in resources if "ruleset_id" in r.handles}
    foreign = None if everyone is None else max(0, everyone - own - len(backing))
    resources.sort(key=lambda r: r.key.sort_key)
    return _apart(LiveState(tuple(resources), foreign, shop))


def _fresh_objects(
    listings: Mapping[model.Kind, pagination.Listing],
    stamps: dict[model.Kind, dict[str, Stamps]],
) -> dict[model.Kind, str]:
    """Kinds whose multi-page listing holds an object stamped during the read, by reason.

    ``created_at``/``updated_at`` (contract §5.1) at or after the server's ``Date`` of the
    first page: the object changed while the pages were read, or within the second before
    (``Date`` has whole seconds). Stamps already seen by the previous read are not news, so a
    change made just before a read costs one more read, not a refusal.
    """
    doubts: dict[model.Kind, str] = {}
    for kind, listing in listings.items():
        before = stamps.get(kind, {})
        now: dict[str, Stamps] = {}
        stamps[kind] = now
        if listing.pages < 2 or listing.started is None:
            continue
        for item in listing.items:
            marks = (item.get("created_at"), item.get("updated_at"))
            ident = pagination.identity(item)
            now[ident] = marks
            if before.get(ident) == marks or kind in doubts:
                continue
            if all(m is None or instants.earlier(m, listing.started) for m in marks):
                continue  # both stamps plainly older than the first page: most objects
            latest = max((m for m in map(instants.parse, marks) if m is not None), default=None)
            if latest is not None and latest >= listing.started:
                doubts[kind] = (
                    f"{_describe(kind, item)} changed at {normalise_instant(latest)} while the "
                    "list was read"
                )
    return doubts


def _describe(kind: model.Kind, item: kinds.LiveJson) -> str:
    name = item.get("external_id") or item.get("code") or item.get("name") or item.get("id")
    return f"{kind.value} {name}"


def _confirm(
    client: BoldClient,
    live: LiveState,
    keys: Iterable[model.Key],
    listings: Mapping[model.Kind, pagination.Listing],
) -> dict[model.Kind, str]:
    """Kinds where a targeted read contradicts the listing about a decisive key, by reason.

    Only kinds read in several pages: one page is one response, one moment of the shop.
    """
    listed = {r.key.match for r in live.resources}
    chosen = sorted(
        {k for k in keys if listings[k.kind].pages > 1 and kinds.by_name[k.kind].addressable(k)},
        key=lambda k: k.sort_key,
    )
    if not chosen:
        return {}
    exists: dict[model.Key, bool] = {}
    others: list[model.Key] = []
    for kind in model.Kind:
        of_kind = [k for k in chosen if k.kind is kind]
        batched = kinds.by_name[kind].exist(client, of_kind) if of_kind else None
        if batched is None:
            others += of_kind
        else:
            exists.update(batched)
    if others:
        with ThreadPoolExecutor(max_workers=max(1, client.concurrency)) as pool:
            answers = pool.map(lambda k: read_one(client, k) is not None, others)
            exists.update(zip(others, answers, strict=True))
    doubts: dict[model.Kind, str] = {}
    for key in chosen:
        if exists[key] == (key.match in listed) or key.kind in doubts:
            continue
        what = f"{key.kind.value} {key.name}"
        doubts[key.kind] = (
            f"{what} exists but the listing missed it"
            if exists[key]
            else f"{what} was listed but is gone"
        )
    return doubts


def _apart(live: LiveState) -> LiveState:
    """The app's bookkeeping rulesets (``model.RESERVED_PREFIX``) moved out of ``resources``."""
    reserved = tuple(
        r
        for r in live.resources
        if r.key.kind is model.Kind.RULESET and model.is_reserved(r.key.ident[0])
    )
    if not reserved:
        return live
    apart = {id(r) for r in reserved}
    kept = tuple(r for r in live.resources if id(r) not in apart)
    return dataclasses.replace(live, resources=kept, reserved=reserved)


def read_one(client: BoldClient, key: model.Key) -> model.Resource | None:
    """Read one object back by its identity (saved-plan staleness checks, ambiguous writes)."""
    return kinds.by_name[key.kind].read_one(client, key)
