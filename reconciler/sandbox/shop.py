"""Shop info and the communication test: the two admin calls any valid token may make.

Owns ``GET /shops/v1/info`` (a bare object, §6) and ``GET /price_rules/rules/v2/ping``. It must
not reveal anything about tokens or apps.
"""

from __future__ import annotations

from reconciler.sandbox import web


def shop_info(call: web.Context) -> web.Response:
    """GET /shops/v1/info: a bare object, not an envelope."""
    return web.Response(
        200,
        {
            "id": 1,
            "shop_identifier": call.shop.identifier,
            "shop_domain": call.shop.domain,
            "shop_name": call.shop.identifier,
            "platform_slug": "shopify",
            "custom_domain": call.shop.domain,
        },
    )


def ping(call: web.Context) -> web.Response:
    """GET /price_rules/rules/v2/ping."""
    return web.Response(200, web.envelope("Successfully reached Price Rules API", {}))


def routes() -> list[web.Route]:
    """Rows of the route table; ``scope=None`` means any valid token."""
    return [
        web.Route("GET", "/shops/v1/info", None, shop_info),
        web.Route("GET", "/price_rules/rules/v2/ping", None, ping),
    ]
