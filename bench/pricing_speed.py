"""CPU cost of the price evaluator: 1,000 carts of 5 lines against 10,000 rulesets, priced twice.

Run: ``python -m bench.pricing_speed [--carts N] [--rulesets N] [--repeat N] [--seed N]``.

Issue 14's budget: a plan prices every cart under the live rules and under the planned ones, so
the case is two engines (before, and after a 1% change) each built once and pricing every cart,
in at most 2 s of CPU. The shop is generated deterministically: a catalogue of 2,000 products of
2 variants (200 collections, 50 vendors, 20 product types); 10 rulesets on all products and 2
``PRODUCTS_EXCEPT`` ones (customer-group discounts, stackable staff discounts, a cart-level
discount); the rest search by sku (65%), product id (20%), variant id (10%), collection (3%),
vendor (1%) or product type (1%), 1-3 entries each, each with a quantity break, a customer-group
rule and sometimes a limited or stackable rule: about 28 candidate rulesets (70 rules) a line.
Carts: 5 random lines, quantity 1-6, a random customer. The figure is ``time.process_time``
(CPU, this process), the best of ``--repeat`` runs; the candidates a line has are printed too.
A third case times ``preview.preview``, the whole price preview as ``plan`` runs it (this app's
rulesets as live resources, the others from the all-apps listing, the 1% as real diff changes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

from reconciler import config, pricing

AT = dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC)
PRODUCTS = 2_000
COLLECTIONS = 200
VENDORS = 50
TYPES = 20
TAGS = ("gold", "silver", "staff", "wholesale")
BUDGET_SECONDS = 2.0
#: Rulesets on every product, and PRODUCTS_EXCEPT ones: every line is a candidate for them.
ALL_PRODUCTS = 10
EXCEPT = 2


def _product(p: int) -> dict[str, Any]:
    return {
        "product_id": str(100_000 + p),
        "collection_ids": [f"c{p % COLLECTIONS}", f"c{(p * 7) % COLLECTIONS}"],
        "vendor": f"vendor-{p % VENDORS}",
        "product_type": f"type-{p % TYPES}",
        "title": f"Product {p}",
    }


def _item(rng: random.Random) -> dict[str, Any]:
    p = rng.randrange(PRODUCTS)
    v = rng.randrange(2)
    return {
        **_product(p),
        "sku": f"SKU-{p}-{v}",
        "variant_id": str(1_000_000 + 2 * p + v),
        "price": rng.randrange(500, 20_000),
        "quantity": rng.randint(1, 6),
    }


def _selection(rng: random.Random, n: int) -> dict[str, Any]:
    if n < ALL_PRODUCTS:
        return {"type": "PRODUCTS_ALL"}
    if n < ALL_PRODUCTS + EXCEPT:
        return {"type": "PRODUCTS_EXCEPT", "sku_ids": [f"SKU-{rng.randrange(PRODUCTS)}-0"]}
    roll = rng.random()
    count = rng.randint(1, 3)
    products = [rng.randrange(PRODUCTS) for _ in range(count)]
    if roll < 0.65:
        return {
            "type": "PRODUCT_SEARCH",
            "sku_ids": [f"SKU-{p}-{rng.randrange(2)}" for p in products],
        }
    if roll < 0.85:
        return {"type": "PRODUCT_SEARCH", "product_ids": [str(100_000 + p) for p in products]}
    if roll < 0.95:
        return {"type": "PRODUCT_SEARCH", "variant_ids": [str(1_000_000 + 2 * p) for p in products]}
    if roll < 0.98:
        return {"type": "PRODUCT_SEARCH", "collection_ids": [f"c{rng.randrange(COLLECTIONS)}"]}
    if roll < 0.99:
        return {"type": "PRODUCT_SEARCH", "vendors": [f"vendor-{rng.randrange(VENDORS)}"]}
    return {"type": "PRODUCT_SEARCH", "product_types": [f"type-{rng.randrange(TYPES)}"]}


def _rules(rng: random.Random, n: int) -> list[dict[str, Any]]:
    percent = {"type": "PRICE_ADJUST_PERCENT", "value": -rng.randint(5, 40)}
    rules: list[dict[str, Any]] = [
        {
            "external_id": "break",
            "type": "DISCOUNT",
            "conditions": [
                {"type": "QTY_BY_VARIANT", "operator": ">=", "value": rng.randint(2, 5)}
            ],
            "actions": [percent],
        },
        {
            "external_id": "group",
            "type": "DISCOUNT",
            "conditions": [{"type": "CUSTOMER_GROUP", "value": rng.choice(TAGS)}],
            "actions": [{"type": "PRICE_ADJUST_RELATIVE", "value": -rng.randint(50, 400)}],
        },
    ]
    if rng.random() < 0.2:
        rules.append(
            {
                "external_id": "limited",
                "type": "DISCOUNT",
                "conditions": [],
                "actions": [{"type": "PRICE_ADJUST_ABSOLUTE_WITH_LIMIT", "value": 300, "limit": 2}],
            }
        )
    if rng.random() < 0.2:
        rules.append(
            {
                "external_id": "staff",
                "type": "STACKABLE_DISCOUNT",
                "conditions": [{"type": "CUSTOMER_GROUP", "value": "staff"}],
                "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -5}],
            }
        )
    if n == 5:
        rules.append(
            {
                "external_id": "cart",
                "type": "CART_LEVEL_DISCOUNT",
                "conditions": [],
                "actions": [{"type": "CART_LEVEL_DISCOUNT_RELATIVE", "value": -500}],
            }
        )
    return rules


def shop(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` rulesets of three apps, as the API lists them."""
    rng = random.Random(seed)
    return [
        {
            "id": n + 1,
            "external_id": f"rs-{n}",
            "app": ("my-app", "other-app", "loyalty")[n % 3],
            "priority": rng.randrange(3),
            "product_selection": _selection(rng, n),
            "rules": _rules(rng, n),
        }
        for n in range(count)
    ]


def changed(rulesets: list[dict[str, Any]], seed: int) -> dict[int, dict[str, Any]]:
    """The planned side's difference: 1% of the rulesets with a different discount."""
    rng = random.Random(seed + 1)
    out = {}
    for n in rng.sample(range(len(rulesets)), max(1, len(rulesets) // 100)):
        body = dict(rulesets[n])
        body["rules"] = [
            {**r, "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -rng.randint(5, 40)}]}
            if r["external_id"] == "break"
            else r
            for r in body["rules"]
        ]
        out[n] = body
    return out


def carts(count: int, seed: int) -> list[pricing.Cart]:
    rng = random.Random(seed + 2)
    return [
        pricing.Cart.from_api(
            {
                "name": f"cart-{n}",
                "items": [_item(rng) for _ in range(5)],
                "customer": {"tags": rng.sample(TAGS, rng.randint(0, 2))},
            }
        )
        for n in range(count)
    ]


def measure(
    before: list[dict[str, Any]],
    after: dict[int, dict[str, Any]],
    priced: list[pricing.Cart],
    *,
    reuse: bool,
) -> tuple[float, float, int]:
    """CPU seconds to read both sides and build their engines, CPU seconds to price every cart
    under both (compiling each ruleset when a line first needs it), lines priced.

    With ``reuse`` the planned side is built as a plan would: the live ``Ruleset`` objects where
    nothing changed, new ones for the changed 1%, and ``Engine(..., reuse=live)``; without, both
    sides are read from their dicts from scratch.
    """
    start = time.process_time()
    live = [pricing.Ruleset.from_api(body) for body in before]
    live_engine = pricing.Engine(live)
    if reuse:
        planned = list(live)
        for n, body in after.items():
            planned[n] = pricing.Ruleset.from_api(body)
        planned_engine = pricing.Engine(planned, reuse=live_engine)
    else:
        bodies = [after.get(n, body) for n, body in enumerate(before)]
        planned_engine = pricing.Engine([pricing.Ruleset.from_api(body) for body in bodies])
    built = time.process_time()
    lines = 0
    for engine in (live_engine, planned_engine):
        for cart in priced:
            lines += len(engine.price(cart, at=AT).lines)
    done = time.process_time()
    return built - start, done - built, lines


def measure_preview(
    before: list[dict[str, Any]],
    after: dict[int, dict[str, Any]],
    priced: list[pricing.Cart],
) -> tuple[float, int, int, int]:
    """CPU seconds of ``preview.preview`` as ``plan`` calls it, the changes, the lines priced,
    and the carts whose price the changes move.

    The shop as a plan holds it: this app's rulesets (a third of them) as normalised live
    resources, the all-apps listing (every ruleset, the other two apps' among them), and the
    changes ``diff.diff_resources`` finds between the manifests (this app's rulesets with the 1%
    changed) and the shop. Timed: reading the other apps' rulesets, building both sides and
    their engines (the planned one reusing the live one), pricing every cart under both,
    comparing, and the guardrails.
    """
    from reconciler import carts as carts_module
    from reconciler import diff, preview, state

    own = [body for body in before if body["app"] == "my-app"]
    live_own = [state.ruleset_resource(body) for body in own]
    wanted = [
        state.ruleset_resource({k: v for k, v in after.get(n, body).items() if k != "id"})
        for n, body in enumerate(before)
        if body["app"] == "my-app"
    ]
    changes = diff.diff_resources(wanted, live_own, shop="bench")
    live = state.LiveState(tuple(live_own), len(before) - len(own), "bench")
    listing = [{k: v for k, v in body.items() if k != "app"} for body in before]
    samples = carts_module.Carts(
        tuple(
            carts_module.SampleCart(
                cart.name or f"cart-{n}", cart, (None,) * len(cart.items), None, "bench"
            )
            for n, cart in enumerate(priced)
        ),
        (),
    )
    start = time.process_time()
    found = preview.preview(samples, live, changes, listing, safety=config.Safety(), now=AT)
    spent = time.process_time() - start
    return spent, len(changes), 2 * sum(len(cart.items) for cart in priced), len(found.changed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--carts", type=int, default=1_000)
    parser.add_argument("--rulesets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    before = shop(args.rulesets, args.seed)
    after = changed(before, args.seed)
    priced = carts(args.carts, args.seed)
    probe = pricing.Engine([pricing.Ruleset.from_api(body) for body in before])
    found = [len(probe.candidates(item, AT)) for cart in priced for item in cart.items]
    print(
        f"{args.carts:,} carts × 5 lines against {args.rulesets:,} rulesets (1% changed), "
        f"priced before and after: {sum(found) / len(found):.1f} candidate rulesets a line"
    )
    verdicts = []
    for reuse, label in ((True, "as a plan builds them"), (False, "both sides from scratch")):
        runs = [measure(before, after, priced, reuse=reuse) for _ in range(args.repeat)]
        build, price, lines = min(runs, key=lambda run: run[0] + run[1])
        total = build + price
        verdicts.append(total <= BUDGET_SECONDS)
        print(
            f"  {label:<24} read + index {build:.3f} s, price {lines:,} lines {price:.3f} s "
            f"({price / lines * 1e6:.0f} µs a line): {total:.3f} s CPU"
            f"{'' if total <= BUDGET_SECONDS else f', OVER the {BUDGET_SECONDS:.0f} s budget'}"
        )
    runs_preview = [measure_preview(before, after, priced) for _ in range(args.repeat)]
    spent, changes, lines, moved = min(runs_preview)
    verdicts.append(spent <= BUDGET_SECONDS)
    print(
        f"  {'the preview as plan does':<24} {changes} changes, other apps read from the listing, "
        f"both sides built and {lines:,} lines priced and compared ({moved} carts change): "
        f"{spent:.3f} s CPU"
        f"{'' if spent <= BUDGET_SECONDS else f', OVER the {BUDGET_SECONDS:.0f} s budget'}"
    )
    return 0 if verdicts[0] and verdicts[-1] else 1


if __name__ == "__main__":
    raise SystemExit(main())
