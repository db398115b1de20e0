"""The first read-only checks: the token's shop, the version header, the Price Rules API.

A token of another shop, or no answer, stops the run here (``Stop``): nothing after it could be
trusted.
"""

from __future__ import annotations

from reconciler.doctor.recording import Doctor, Failed, Stop
from reconciler.doctor.results import OK, Check


def checks(checker: Doctor) -> None:
    """The shop the token belongs to (stops the run when it is not the target's), the version
    header, the ping."""
    bold = checker.bold
    version = bold.api_version

    def shop() -> str:
        info = bold.shop_info()
        ident = str(info.get("shop_identifier") or "")
        if not ident:
            raise Failed("the body has no shop_identifier")
        checker.report.shop = ident
        if checker.configured_shop and ident != checker.configured_shop:
            raise Failed(
                f"the token belongs to shop {ident}, but the target names shop "
                f"{checker.configured_shop}: a token of another shop (or a typo in "
                "shop_identifier)"
            )
        domain = info.get("shop_domain")
        return f"shop {ident}" + (f" ({domain})" if domain else "")

    if not checker.check("shop_info", "shop_info", shop, fixable=False):
        raise Stop
    checker.add(
        Check(
            OK,
            "version header",
            got=f"every call sends Bold-API-Version-Date: {version} (a released date, "
            "never a future one); the shop accepted it",
        )
    )

    def ping() -> str:
        bold.ping()
        return "the Price Rules API answers"

    checker.check("ping", "ping", ping, needed=False, fixable=False)
