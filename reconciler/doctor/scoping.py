"""The app scoping of rulesets: this app's listing holds only its own rulesets (never the
rulesets backing discount codes), and no more than the all-apps listing.
"""

from __future__ import annotations

from reconciler.doctor.recording import Doctor, Failed


def checks(checker: Doctor) -> None:
    """This app's listing against the all-apps count and the discount codes' backing rulesets."""
    bold = checker.bold
    own = checker.seen.get("rulesets")
    if own is None:
        checker.skip("app scoping", "the rulesets could not be listed")
        return
    own_ids = {r.get("id") for r in own}
    params = {"limit": 1, "include_all_apps": "true"}

    def scoping() -> str:
        total = bold.count_rulesets_all_apps()
        backing = {c.get("ruleset_id") for c in checker.seen.get("discount_codes", [])} - {None}
        shown = sorted(str(i) for i in backing & own_ids)
        if shown:
            raise Failed(
                f"this app's listing shows discount codes' backing rulesets (ids "
                f"{', '.join(shown[:5])}): plan would take them for this app's own and "
                "delete them; check the token is this app's, not an all-apps token"
            )
        if total is not None and total < len(own):
            raise Failed(f"all apps hold {total} rulesets but this app alone lists {len(own)}")
        every = "an unknown number" if total is None else str(total)
        return (
            f"this app lists {len(own)} rulesets of {every} in the shop (include_all_apps honoured)"
        )

    checker.check("app scoping of rulesets", "list_rulesets", scoping, params=params, fixable=False)
