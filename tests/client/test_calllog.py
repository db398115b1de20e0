"""What a client's call log tells its readers: the totals, and each call as apply's ledger sees it.

Every test drives a real client against the in-process sandbox; time is the fake clock's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import calllog, client
from reconciler.sandbox import Sandbox
from tests.client.conftest import FakeClock
from tests.conftest import APP_TOKEN, make_bold_client

P = "/price_rules/rules/v2/shops/sandbox-shop"
RULESET: dict[str, Any] = {
    "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1"]},
    "rules": [],
}


@pytest.fixture
def bold(sandbox: Sandbox, clock: FakeClock) -> Iterator[client.BoldClient]:
    with make_bold_client(
        sandbox, shop_identifier="sandbox-shop", clock=clock.time, sleep=clock.sleep
    ) as made:
        yield made


def test_a_fresh_client_has_done_nothing(bold: client.BoldClient) -> None:
    assert bold.stats == calllog.ClientStats({}, 0, 0, 0, 0.0)
    assert (bold.stats.total_calls, bold.stats.requests) == (0, 0)


def test_stats_count_calls_by_method_and_route_and_failures_apart(
    bold: client.BoldClient,
) -> None:
    bold.upsert_ruleset("spring", RULESET)
    assert bold.get_ruleset("spring") is not None
    assert bold.get_ruleset("missing") is None  # a 404 the operation turns into None
    stats = bold.stats
    assert stats.calls == {("PUT", "upsert_ruleset"): 1, ("GET", "get_ruleset"): 2}
    assert (stats.total_calls, stats.requests, stats.errors, stats.retries) == (3, 3, 1, 0)


def test_list_reads_report_progress(sandbox: Sandbox, bold: client.BoldClient) -> None:
    for n in range(3):
        bold.upsert_ruleset(f"rs-{n}", RULESET)
    assert len(bold.list_rulesets()) == 3
    assert (bold.stats.listed, bold.stats.announced) == (3, 3)


def test_observe_hands_each_finished_call_to_the_block(bold: client.BoldClient) -> None:
    bold.ping()  # before the block: not seen
    with bold.observe() as seen:
        bold.upsert_ruleset("a/b", RULESET)
        assert bold.get_ruleset("gone") is None
    bold.ping()  # after the block: not seen either
    assert [(e.route, e.method, e.path, e.status, e.attempts) for e in seen] == [
        ("upsert_ruleset", "PUT", f"{P}/rulesets/external/a%2Fb", 201, 1),
        ("get_ruleset", "GET", f"{P}/rulesets/external/gone", 404, 1),
    ]
    assert seen[1].note == "not there"
    assert seen[1].error.startswith("GET ") and "404" in seen[1].error
    assert all(e.finished_at.endswith("Z") for e in seen)
    assert APP_TOKEN not in repr(seen)


def test_nested_blocks_each_see_their_own_calls(bold: client.BoldClient) -> None:
    with bold.observe() as outer:
        bold.ping()
        with bold.observe() as inner:
            bold.upsert_ruleset("x", RULESET)
        bold.ping()
    assert [e.route for e in outer] == ["ping", "upsert_ruleset", "ping"]
    assert [e.route for e in inner] == ["upsert_ruleset"]


def test_annotate_marks_the_last_call_of_each_open_block(bold: client.BoldClient) -> None:
    with bold.observe() as seen:
        bold.ping()
        bold.annotate("checked")
        bold.ping()
    assert [e.note for e in seen] == ["checked", ""]
    bold.annotate("no block open: nothing to mark")  # harmless outside a block
