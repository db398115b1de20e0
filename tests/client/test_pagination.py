"""Reading whole lists: every page, each object once, however the server paginates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler import errors
from tests.client.conftest import MakeClient, P, envelope


def paged(
    total: int,
    *,
    clamp: int = 100,
    pagination: bool = True,
    ignore_page: bool = False,
    key: str = "rulesets",
) -> Callable[[httpx.Request], httpx.Response]:
    """A handler serving ``total`` objects the way the contract's §3 describes (or not)."""
    objects = [{"id": n, "external_id": f"rs-{n}", "unknown_field": n} for n in range(1, total + 1)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", 50)), clamp)
        page = 1 if ignore_page else int(request.url.params.get("page", 1))
        items = objects[(page - 1) * limit : page * limit]
        pages = max(1, -(-total // limit))
        extra: dict[str, Any] = {}
        if pagination:
            extra["pagination"] = {
                "total": total,
                "count": len(items),
                "per_page": limit,
                "current_page": page,
                "total_pages": pages,
                "next_url": f"/next?page={page + 1}" if page < pages else None,
                "previous_url": None,
            }
        return envelope({key: items}, **extra)

    return handler


def pages_asked(requests: list[httpx.Request]) -> list[tuple[str, str]]:
    return [(r.url.params["page"], r.url.params["limit"]) for r in requests]


def test_three_pages_are_read_at_limit_100(make_client: MakeClient) -> None:
    bold, server = make_client(paged(250))
    rulesets = bold.list_rulesets()
    assert [r["id"] for r in rulesets] == list(range(1, 251))
    assert sorted(pages_asked(server.requests)) == [("1", "100"), ("2", "100"), ("3", "100")]
    assert all("include_all_apps" not in r.url.params for r in server.requests)


def test_a_clamped_limit_is_followed(make_client: MakeClient) -> None:
    bold, server = make_client(paged(120, clamp=50))
    assert len(bold.list_rulesets()) == 120
    assert len(server.requests) == 3


def test_an_empty_list_is_one_call(make_client: MakeClient) -> None:
    bold, server = make_client(paged(0))
    assert bold.list_rulesets() == []
    assert len(server.requests) == 1


@pytest.mark.parametrize(("total", "clamp", "calls"), [(250, 100, 3), (120, 50, 3), (30, 100, 2)])
def test_missing_pagination_walks_pages_until_a_short_one(
    make_client: MakeClient, total: int, clamp: int, calls: int
) -> None:
    bold, server = make_client(paged(total, clamp=clamp, pagination=False))
    assert [r["id"] for r in bold.list_rulesets()] == list(range(1, total + 1))
    assert len(server.requests) == calls


def test_a_server_that_ignores_page_does_not_loop_forever(make_client: MakeClient) -> None:
    bold, server = make_client(paged(100, pagination=False, ignore_page=True))
    assert len(bold.list_rulesets()) == 100
    assert len(server.requests) == 2


def test_remaining_pages_are_fetched_concurrently_and_each_object_once(
    make_client: MakeClient,
) -> None:
    # Page 1 comes alone (it says how many pages there are). The next four meet at a barrier
    # in the server, passable only if four are in flight at once; there each waits a moment
    # for a fifth to break in, which must never happen.
    inner = paged(1000)
    in_flight = 0
    most = 0
    after_first = 0
    lock = threading.Lock()
    four = threading.Barrier(4, timeout=30)
    fifth = threading.Event()

    def overlapping(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most, after_first
        with lock:
            in_flight += 1
            most = max(most, in_flight)
            if in_flight > 4:
                fifth.set()
            meets = request.url.params["page"] != "1" and after_first < 4
            if meets:
                after_first += 1
        try:
            if meets:
                four.wait()  # BrokenBarrierError: four pages were never fetched together
                fifth.wait(timeout=0.05)
        finally:
            with lock:
                in_flight -= 1
        return inner(request)

    bold, server = make_client(overlapping, concurrency=4, rate=1000, burst=20)
    rulesets = bold.list_rulesets()
    assert len(rulesets) == 1000
    assert len({r["id"] for r in rulesets}) == 1000
    assert [r["id"] for r in rulesets] == list(range(1, 1001))  # in page order
    assert len(server.requests) == 10
    assert most == 4  # overlapped, and never more than the configured concurrency
    assert not fifth.is_set()


def test_a_list_that_moves_mid_read_is_read_again(make_client: MakeClient) -> None:
    # The first pass sees object 100 twice (an insert shifted it across the page edge), so it
    # holds 149 unique objects of 150: the client reads again rather than plan on a torn list.
    served = {"n": 0}
    steady = paged(150)

    def handler(request: httpx.Request) -> httpx.Response:
        served["n"] += 1
        if served["n"] == 2:
            items = [{"id": n} for n in range(100, 150)]
            return envelope(
                {"rulesets": items}, pagination={"total": 150, "total_pages": 2, "per_page": 100}
            )
        return steady(request)

    bold, server = make_client(handler, concurrency=1)
    assert len(bold.list_rulesets()) == 150
    assert len(server.requests) == 4


def test_a_failing_page_fails_the_whole_list(make_client: MakeClient) -> None:
    inner = paged(500)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "3":
            return httpx.Response(403, json={"message": "missing scope read_price_rulesets"})
        return inner(request)

    bold, _ = make_client(handler)
    with pytest.raises(errors.PermissionDenied, match="read_price_rulesets"):
        bold.list_rulesets()


def test_order_conditions_are_listed_deep(make_client: MakeClient) -> None:
    bold, server = make_client(paged(3, key="order_conditions"))
    assert len(bold.list_order_conditions()) == 3
    assert server.requests[0].url.params["deep"] == "true"


def test_discount_codes_can_be_filtered_by_name(make_client: MakeClient) -> None:
    bold, server = make_client(paged(2, key="discount_codes"))
    assert len(bold.list_discount_codes(name="SPRING")) == 2
    assert server.requests[0].url.params["name"] == "SPRING"


def test_rules_come_as_a_bare_list(make_client: MakeClient) -> None:
    rules = [{"id": 1, "external_id": "a"}, {"id": 2, "external_id": "b"}]
    bold, server = make_client(lambda r: envelope(rules, pagination={"total": 2, "total_pages": 1}))
    assert bold.list_rules("spring") == rules
    assert server.requests[0].url.path.endswith("/rulesets/external/spring/rules")


def test_counting_every_apps_rulesets_is_one_call(make_client: MakeClient) -> None:
    bold, server = make_client(paged(1234))
    assert bold.count_rulesets_all_apps() == 1234
    assert len(server.requests) == 1
    assert server.requests[0].url.params["include_all_apps"] == "true"
    assert server.requests[0].url.params["limit"] == "1"


def test_without_a_total_the_count_is_unknown_not_read_in_full(make_client: MakeClient) -> None:
    bold, server = make_client(lambda r: envelope({"rulesets": [{"id": 1, "external_id": "a"}]}))
    assert bold.count_rulesets_all_apps() is None
    assert len(server.requests) == 1


def test_pages_that_disagree_on_the_total_are_read_again(make_client: MakeClient) -> None:
    # An add and a delete between pages 1 and 2 would keep the count right; a delete alone
    # moves the total the later pages report, and that alone is enough to read again.
    served = {"n": 0}
    steady = paged(150)

    def handler(request: httpx.Request) -> httpx.Response:
        served["n"] += 1
        if served["n"] == 2:
            items = [{"id": n} for n in range(102, 151)]
            return envelope(
                {"rulesets": items}, pagination={"total": 149, "total_pages": 2, "per_page": 100}
            )
        return steady(request)

    bold, server = make_client(handler, concurrency=1)
    listing = bold.read_list("list_rulesets", "rulesets")
    assert [r["id"] for r in listing.items] == list(range(1, 151))
    assert (listing.reads, listing.pages, len(server.requests)) == (2, 2, 4)


def test_a_list_that_tears_on_every_read_stops_with_shop_changing(make_client: MakeClient) -> None:
    reads = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page == 1:
            reads["n"] += 1  # each read, one more object slides onto page 2 than before
        start = 101 - reads["n"]
        ids = range(1, 101) if page == 1 else range(start, start + 50)
        return envelope(
            {"rulesets": [{"id": n} for n in ids]},
            pagination={"total": 150, "total_pages": 2, "per_page": 100},
        )

    bold, server = make_client(handler, concurrency=1)
    with pytest.raises(errors.ShopChanging) as caught:
        bold.list_rulesets()
    assert str(caught.value) == (
        "the shop changed while it was being read 3 times; try again when it is quiet (last "
        "change seen: /price_rules/rules/v2/shops/zp3oafdor9/rulesets: ids 98, 99, 100 on two "
        "pages)"
    )
    assert caught.value.exit_code == 1
    assert len(server.requests) == 6


def test_a_servers_own_paging_quirk_is_taken_as_it_is_once_seen_twice(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A total that never matches (it counts something the list does not show), the same on
    # two reads over the same objects: not a shop in motion, and no reason to refuse a plan.
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        ids = range(1, 101) if page == 1 else range(101, 141)
        return envelope(
            {"rulesets": [{"id": n} for n in ids]},
            pagination={"total": 145, "total_pages": 2, "per_page": 100},
        )

    bold, server = make_client(handler, concurrency=1)
    listing = bold.read_rulesets()
    assert [r["id"] for r in listing.items] == list(range(1, 141))
    assert (listing.reads, len(server.requests)) == (2, 4)
    assert caplog.messages[-1] == (
        "/price_rules/rules/v2/shops/zp3oafdor9/rulesets: 140 objects read where the list says "
        "145, twice the same: taking the list as the server gives it"
    )


def test_the_first_pages_date_is_when_the_read_started(make_client: MakeClient) -> None:
    inner = paged(150)

    def handler(request: httpx.Request) -> httpx.Response:
        response = inner(request)
        response.headers["Date"] = f"Tue, 01 Dec 2026 08:00:0{request.url.params['page']} GMT"
        return response

    bold, _ = make_client(handler)
    listing = bold.read_rulesets()
    assert listing.started is not None
    assert listing.started.isoformat() == "2026-12-01T08:00:01+00:00"
    assert listing.pages == 2


def test_rulesets_are_found_by_external_id_a_hundred_a_call(make_client: MakeClient) -> None:
    objects = {f"rs-{n}": {"id": n, "external_id": f"rs-{n}"} for n in range(1, 301)}

    def handler(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params["external_ids"].split(",")
        found = [objects[eid] for eid in wanted if eid in objects]
        return envelope(
            {"rulesets": found},
            pagination={"total": len(found), "total_pages": 1, "per_page": 100},
        )

    bold, server = make_client(handler)
    asked = [f"rs-{n}" for n in range(1, 251)] + ["gone-1", "gone-2"]
    found = bold.find_rulesets(asked)
    assert sorted(r["id"] for r in found) == list(range(1, 251))
    assert [len(r.url.params["external_ids"].split(",")) for r in server.requests] == [100, 100, 52]


def test_a_server_that_ignores_external_ids_is_asked_by_path(make_client: MakeClient) -> None:
    listed = paged(3)

    def handler(request: httpx.Request) -> httpx.Response:
        if "/rulesets/external/" in request.url.path:
            eid = request.url.path.rsplit("/", 1)[1]
            if eid == "rs-2":
                return envelope({"ruleset": {"id": 2, "external_id": "rs-2"}})
            return httpx.Response(404, json={"message": "No ruleset.", "code": "02-4", "type": "x"})
        return listed(request)  # every ruleset, whatever was asked for

    bold, server = make_client(handler)
    assert bold.find_rulesets(["rs-2", "rs-9", "a,b"]) == [{"id": 2, "external_id": "rs-2"}]
    assert sorted(server.paths()) == [
        f"GET {P}/rulesets",
        f"GET {P}/rulesets/external/a,b",
        f"GET {P}/rulesets/external/rs-2",
        f"GET {P}/rulesets/external/rs-9",
    ]


@pytest.mark.parametrize(
    ("total", "expect", "calls"),
    [
        (950, 10, 10),  # as last time: pages 1-4 at once, then 5-10; no call more
        (250, 10, 4),  # shrank to 3 pages: page 4, asked ahead, comes back empty and is dropped
        (1_250, 2, 13),  # grew: the rest is read after page 1 as ever
        (30, 1, 1),  # one page expected: nothing asked ahead
    ],
)
def test_pages_expected_from_the_last_read_are_asked_for_with_the_first(
    make_client: MakeClient, total: int, expect: int, calls: int
) -> None:
    first_wave = threading.Barrier(min(expect, 4), timeout=10)
    seen: list[str] = []
    serve = paged(total)

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        seen.append(str(page))
        if page <= min(expect, 4) and expect > 1:
            first_wave.wait()  # pages 1 to 4 are all in flight before page 1 is answered
        return serve(request)

    bold, server = make_client(handler, concurrency=4)
    bold.expected_pages["list_rulesets"] = expect
    listing = bold.read_rulesets()
    assert [r["id"] for r in listing.items] == list(range(1, total + 1))
    assert listing.pages == -(-total // 100)
    assert len(server.requests) == calls
    assert bold.pages_read == {"list_rulesets": listing.pages}


def test_a_filtered_read_neither_uses_nor_records_the_expected_pages(
    make_client: MakeClient,
) -> None:
    bold, server = make_client(paged(30, key="discount_codes"))
    bold.expected_pages["list_discount_codes"] = 4
    bold.list_discount_codes(name="SPRING")
    assert len(server.requests) == 1
    assert bold.pages_read == {}
