"""Reading a whole paginated list, and telling whether the pages can be one moment of it.

Owns the page walk (every page at ``limit=100``; the pages after the first fetched concurrently
when the first page says how many there are, one by one otherwise), the merge of pages into
one list with each object once, the structural test of a read (``torn(pages)`` names what
shows that the list moved while it was being paged through), and ``read_whole``, which reads a
torn list again and gives up with ``errors.ShopChanging``. ``client.BoldClient`` sends each
page's call; ``state.fetch_live`` adds the checks that need the objects' meaning (fresh
timestamps, targeted reads).

Why a paged read can tear: Bold pages by offset, so an object added or removed ahead of a page
edge between two page reads shifts every later object by one. A shift to the right shows one
object on two pages; a shift to the left hides one object from every page, which a plan would
take for absent and create. An add and a delete cancel out in ``total``; only the objects can
tell then (see ``state.py``).

Must not: send calls itself (it is handed a ``fetch(page)``), interpret objects beyond their
``id``, or print anything.
"""

from __future__ import annotations

import email.utils
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler import errors

#: The client's logger: a list read is part of the client's calls, and ``-v`` shows it.
log = logging.getLogger("reconciler.client")

#: The largest page the API serves (contract §3); larger values are clamped by the server.
PAGE_LIMIT = 100
#: A server that never stops paging is broken; stop rather than spin.
MAX_PAGES = 10_000
#: Pages after the first asked for with it when the list is expected to have them (``read``).
AHEAD = 3

#: Reads of one list whose pages keep tearing before ``errors.ShopChanging``.
LIST_READS = 3


@dataclass(frozen=True)
class Page:
    """One page as served: its objects, its ``pagination`` object and its ``Date`` header."""

    number: int
    items: list[dict[str, Any]]
    pagination: dict[str, Any]
    date: str | None = None


@dataclass(frozen=True)
class Listing:
    """A whole list, each object once in page order, and what the read looked like."""

    items: list[dict[str, Any]]
    #: Pages read. One page is one response: one moment of the shop, nothing to tear.
    pages: int = 1
    #: The server's clock when the first page was served (its ``Date``), if it sent one.
    started: datetime | None = None
    #: Reads it took to get pages that hold together (1: the first read did).
    reads: int = 1


FetchPage = Callable[[int], Page]
FetchMany = Callable[[FetchPage, range], list[Page]]


def page_of(number: int, body: Any, key: str | None, *, date: str | None = None) -> Page:
    """Page ``number`` out of a list answer's body: ``data[key]`` (``data`` itself when ``key``
    is None) and its ``pagination``; ValueError saying what the body lacks."""
    data = body.get("data") if isinstance(body, dict) else None
    found = data if key is None else (data.get(key) if isinstance(data, dict) else None)
    if not isinstance(found, list):
        raise ValueError(f"the response has no data{'.' + key if key else ''} list")
    meta = body.get("pagination") if isinstance(body, dict) else None
    items = [item for item in found if isinstance(item, dict)]
    return Page(number, items, meta if isinstance(meta, dict) else {}, date)


def read_whole(
    fetch: FetchPage, *, workers: int, where: Callable[[], str], expect: int | None = None
) -> Listing:
    """A whole list read so that its pages hold together, pages after the first fetched by up
    to ``workers`` threads; ``where()`` names the list (its path) in messages. ``expect``: the
    pages the list had when last read, asked for at once with the first (``read``).

    A read whose pages show the list moved under it (an object on two pages, totals that
    moved, a count that does not add up) is read again, up to ``LIST_READS`` times in all;
    then ``errors.ShopChanging``: a plan must not be built on a torn read.
    """
    reason = ""
    previous: object = None
    for attempt in range(1, LIST_READS + 1):
        try:
            pages = read(
                fetch,
                lambda each, numbers: fetch_concurrently(each, numbers, workers),
                expect=expect if attempt == 1 else None,
            )
        except OverflowError as exc:
            raise errors.BadResponse(
                method="GET", path=where(), status=200, detail=str(exc)
            ) from exc
        sign = torn(pages)
        if sign is None:
            return listing(pages, reads=attempt)
        reason = f"{where()}: {sign}"
        seen = shape(pages)
        if seen == previous:
            # The same sign twice over the same objects: the server's own paging (a total
            # that counts something else, an object it lists twice), not a shop in motion.
            log.warning("%s, twice the same: taking the list as the server gives it", reason)
            return listing(pages, reads=attempt)
        previous = seen
        log.info("%s; the list changed while it was read, reading it again", reason)
    raise errors.ShopChanging(LIST_READS, reason)


def fetch_concurrently(fetch: FetchPage, numbers: range, workers: int) -> list[Page]:
    """Pages ``numbers`` in order, fetched by up to ``workers`` threads; the first failure
    cancels the pages not yet started."""
    if not numbers:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(numbers))) as pool:
        futures: list[Future[Page]] = [pool.submit(fetch, n) for n in numbers]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # one page failed for good: do not spend calls on the rest
            raise


def read(fetch: FetchPage, fetch_many: FetchMany, *, expect: int | None = None) -> list[Page]:
    """Every page of a list: page 1, then the rest (concurrently when their count is known).

    With ``expect`` (the pages the list had when last read), pages 2 to ``AHEAD`` + 1 at most
    are asked for with page 1 instead of after it: a large list then fills the rate limit's
    first window at once, not a round trip later (its last pages leave that much sooner). Pages
    past the end page 1 gives are dropped when empty (the list shrank: a call spent for
    nothing); one that holds objects stays, and the read's checks see the list moved.
    """
    ahead = min(expect or 0, AHEAD + 1, MAX_PAGES)
    if ahead < 2:
        first = fetch(1)
        early: list[Page] = []
    else:
        first, *early = fetch_many(fetch, range(1, ahead + 1))
    total_pages = _whole(first.pagination.get("total_pages"))
    if total_pages is not None:
        kept = [page for page in early if page.number <= total_pages or page.items]
        rest = range(len(early) + 2, min(total_pages, MAX_PAGES) + 1)
        return [first, *kept, *fetch_many(fetch, rest)]
    # Pages asked for ahead are of no use to a walk that stops at the first short page.
    # No usable pagination object: walk page by page until a page is empty, short, or holds
    # nothing new (a server that ignores ``page``).
    pages = [first]
    seen = {identity(item) for item in first.items}
    page_size = len(first.items)
    current = first
    while current.items and (current.number == 1 or len(current.items) >= page_size):
        if current.pagination.get("next_url", "absent") is None:
            break
        if current.number + 1 > MAX_PAGES:
            raise OverflowError(f"still paging after {MAX_PAGES} pages")
        current = fetch(current.number + 1)
        fresh = [item for item in current.items if identity(item) not in seen]
        if not fresh:
            break
        seen.update(identity(item) for item in fresh)
        pages.append(current)
    return pages


def torn(pages: Sequence[Page]) -> str | None:
    """What shows these pages are not one moment of the list, or None when nothing does.

    Signs, each free (no extra call): an object on two pages; pages that disagree on
    ``total`` or ``total_pages``; fewer or more distinct objects than ``total`` says.
    """
    totals = [t for t in (_whole(p.pagination.get("total")) for p in pages) if t is not None]
    if len(set(totals)) > 1:
        moved = sorted(set(totals) - {totals[0]})
        return f"the total moved from {totals[0]} to {', '.join(str(t) for t in moved)}"
    counts = {c for c in (_whole(p.pagination.get("total_pages")) for p in pages) if c is not None}
    if len(counts) > 1:
        return f"the number of pages moved ({', '.join(str(c) for c in sorted(counts))})"
    where: dict[str, int] = {}
    twice: list[str] = []
    for page in pages:
        for item in page.items:
            ident = identity(item)
            if not ident.startswith("id:"):
                continue  # objects without an id cannot be told from their copies
            if ident in where and where[ident] != page.number:
                twice.append(ident[3:])
            where.setdefault(ident, page.number)
    if twice:
        return f"{'ids' if len(twice) > 1 else 'id'} {', '.join(twice[:3])} on two pages"
    total = totals[0] if totals else None
    unique = len(merge(pages))
    if total is not None and total != unique:
        return f"{unique} objects read where the list says {total}"
    return None


def shape(pages: Sequence[Page]) -> tuple[Any, ...]:
    """What two reads must share to be the same read: each page's objects (by identity, with
    their stamps) and its totals. A tear sign found twice in one shape is the server's own."""
    return tuple(
        (
            page.number,
            _whole(page.pagination.get("total")),
            _whole(page.pagination.get("total_pages")),
            tuple(
                (identity(item), item.get("updated_at"), item.get("created_at"))
                for item in page.items
            ),
        )
        for page in pages
    )


def listing(pages: Sequence[Page], *, reads: int = 1) -> Listing:
    """The read's pages as one ``Listing``."""
    return Listing(merge(pages), len(pages), http_date(pages[0].date) if pages else None, reads)


def merge(pages: Sequence[Page]) -> list[dict[str, Any]]:
    """The pages' objects in page order, each once (by ``id``; whole-object when it has none)."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for page in pages:
        for item in page.items:
            ident = identity(item)
            if ident not in seen:
                seen.add(ident)
                out.append(item)
    return out


def identity(item: dict[str, Any]) -> str:
    """What makes two listed objects one: the server's ``id``, else the whole object."""
    ident = item.get("id")
    if isinstance(ident, int | str) and not isinstance(ident, bool):
        return f"id:{ident}"
    return "json:" + json.dumps(item, sort_keys=True, default=str)


def http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware UTC datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
