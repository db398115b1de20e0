"""``price --check``'s comparison: Bold's storefront answer against the local evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from reconciler import carts, client, clientsettings, pricing
from reconciler.preview import crosscheck
from reconciler.transport import IN_PROCESS_URL, InProcessTransport

from ..conftest import APP_TOKEN


def test_a_storefront_answering_another_price_is_reported(sandbox: Any) -> None:
    """A shop whose storefront disagrees: every differing line is named, with both figures."""
    forward = InProcessTransport(sandbox.wsgi_app)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/price"):
            return httpx.Response(
                200,
                json={
                    "pre_best_price_log_id": "x",
                    "actions": [
                        {
                            "type": "BEST_ITEM_PRICE",
                            "sku": "TEA-1",
                            "value": 800,
                            "rule": [{"rule_set_eid": "tea-sale", "eid": "twenty-off"}],
                        }
                    ],
                },
            )
        return forward.handle_request(request)

    sample = carts.SampleCart(
        "tea",
        pricing.Cart.from_api({"name": "tea", "items": [{"sku": "TEA-1", "price": 1005}]}),
        (None,),
        None,
        "carts/tea.yaml:2",
    )
    with client.BoldClient(
        clientsettings.ClientSettings(base_url=IN_PROCESS_URL, rate=1000.0, burst=1000),
        token=APP_TOKEN,
        transport=httpx.MockTransport(handler),
    ) as bold:
        answer = bold.storefront_price(crosscheck.storefront_request(sample))
    local = pricing.Engine([]).price(sample.cart, at=dt.datetime.now(dt.UTC), cart_context=False)
    found = crosscheck.check(sample, local, answer)
    assert [m.text() for m in found] == [
        "cart tea TEA-1: Bold says 8.00, boldrules computes 10.05 (by no rule; Bold's rule: "
        "tea-sale > twenty-off)"
    ]
