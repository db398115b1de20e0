"""CPU that ``boldrules lint`` adds over ``boldrules validate`` on a 10,000-ruleset project.

Run: ``python -m bench.lint_speed [--rulesets N] [--files N] [--repeat N] [--shape S]
[--keep DIR]``.

Issue 15's budget: lint adds at most 1 s of CPU over validate (both load and check the same
manifests; lint then runs every check and locates every finding). The project is generated on
disk deterministically, ``--files`` manifest files sharing ``--rulesets`` rulesets, in one of two
shapes (both by default):

- ``realistic``: a shop as a merchant keeps it, with a handful of slips. 85% of the rulesets are
  standing group prices at priority 10, one per product and customer group (gold, silver,
  wholesale; by the product's two skus, or by its product id), each with a group DISCOUNT, a
  case price for the group (``QTY_BY_VARIANT`` >= 6, 12 or 24) and, one in twenty, a zone price
  (an order condition). 15% are dated promotions at priority 5, one a month from January to June
  2027 on a collection or on ten products, deeper than any group price; one ruleset in a
  thousand takes every product (a staff STACKABLE_DISCOUNT, VIP groups). Planted: one group price
  at priority 3 that the promotions on its product never beat (``never-wins``), one promotion
  that ended (``expired``), one case price by ``QTY_BY_PRODUCT`` (``cart-only-condition``).
- ``collisions``: the stress case, random on purpose. 2,000 products (200 collections, 20 product
  types), 4 customer groups; rulesets search by sku (60%), product id (20%), collection (15%) or
  product type (4%), 1-3 entries each picked at random, or take every product (1%); each has a
  customer-group DISCOUNT rule, a quantity break for that group and, one in five, a
  STACKABLE_DISCOUNT. One in ten is a dated promotion (a spring window, priority 5, 55-70%), the
  rest standing prices at priority 10; one in fifty has a random priority, some of them on every
  product; one in twenty refers to an order condition. Random selections collide: thousands of
  rulesets of one priority compete for one sku and group (``overlap``), and the slips on every
  product beat thousands of deeper discounts (``never-wins``): every finding is true, and there
  are about 14,000 of them, which is what makes this case the one to time positions on.

Both commands run as processes (``python -m reconciler``); the figure is their CPU (user +
system, from ``resource.getrusage(RUSAGE_CHILDREN)``), the best of ``--repeat`` runs, with the
read cache warm (each command runs once before it is timed). So is the CPU of ``lint.run`` alone
in this process once the manifests are loaded: lint's own cost, free of the noise of two
processes on a shared machine. The findings are counted by id.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

BUDGET_SECONDS = 1.0
#: The instant every lint of the bench is judged at (the promotions are in 2027).
AT = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
PRODUCTS = 2_000
COLLECTIONS = 200
TYPES = 20
TAGS = ("gold", "silver", "staff", "wholesale")


def _selection(rng: random.Random) -> str:
    roll = rng.random()
    n = rng.randint(1, 3)
    if roll < 0.60:
        picked = {f"SKU-{rng.randrange(PRODUCTS)}-{rng.randrange(2)}" for _ in range(n)}
        skus = ", ".join(sorted(picked))
        return f"{{type: PRODUCT_SEARCH, sku_ids: [{skus}]}}"
    if roll < 0.80:
        ids = ", ".join(sorted({f'"{100_000 + rng.randrange(PRODUCTS)}"' for _ in range(n)}))
        return f"{{type: PRODUCT_SEARCH, product_ids: [{ids}]}}"
    if roll < 0.95:
        ids = ", ".join(sorted({f'"c{rng.randrange(COLLECTIONS)}"' for _ in range(n)}))
        return f"{{type: PRODUCT_SEARCH, collection_ids: [{ids}]}}"
    if roll < 0.99:
        return f"{{type: PRODUCT_SEARCH, product_types: [type-{rng.randrange(TYPES)}]}}"
    return "{type: PRODUCTS_ALL}"


def _colliding(i: int, rng: random.Random) -> str:
    tag = rng.choice(TAGS[:2] + TAGS[3:])  # staff is the stackable rule's group
    # Dated promotions (one in ten) come first, at priority 5, with the deeper discounts; the
    # standing group prices sit at 10; one ruleset in fifty has a priority picked at random
    # (the kind of slip lint is for).
    dated = i % 10 == 0
    priority = 5 if dated else 10
    if i % 50 == 7:
        priority = rng.randrange(20)
    percent = rng.randint(55, 70) if dated else rng.randint(5, 25)
    lines = [
        f"  - external_id: rs-{i:05}",
        f"    public_name: Offer {i}",
        f"    priority: {priority}",
        f"    product_selection: {_selection(rng)}",
    ]
    if dated:
        lines += [
            "    start_date: 2027-03-01T00:00:00Z",
            "    expiry_date: 2027-04-01T00:00:00Z",
        ]
    minimum = rng.choice((6, 12, 24))
    case = f"PRICE_ADJUST_RELATIVE, value: -{rng.randint(50, 500)}"
    lines += _group_rules(tag, percent, "QTY_BY_VARIANT", minimum, case)
    if i % 20 == 0:
        zone = rng.choice(("west", "east"))
        lines += [
            "      - external_id: zone",
            "        type: DISCOUNT",
            f"        conditions: [{{type: ORDER_CONDITION, name: ZONE, value: {zone}}}]",
            "        actions: [{type: PRICE_ADJUST_PERCENT, value: -3}]",
        ]
    if i % 5 == 0:
        lines += [
            "      - external_id: staff",
            "        type: STACKABLE_DISCOUNT",
            "        conditions: [{type: CUSTOMER_GROUP, value: staff}]",
            "        actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]",
        ]
    return "\n".join(lines)


#: The customer groups of the realistic shop's group prices.
GROUPS = ("gold", "silver", "wholesale")
#: The realistic shop's planted slips, by ruleset number: a gold price at priority 3 on product
#: 13 (a product id the promotions of months 1-6 on products 10-19 name), an ended promotion,
#: a case price by QTY_BY_PRODUCT.
SLIP, ENDED, CART_ONLY = 39, 2, 200


def _realistic(rulesets: int) -> Callable[[int, random.Random], str]:
    """The ``realistic`` shape's ruleset ``i`` (see the module's docstring)."""
    everywhere = max(1, rulesets // 1000)
    promotions = rulesets * 15 // 100
    standing = rulesets - promotions - everywhere

    def make(i: int, rng: random.Random) -> str:
        if i < standing:
            return _group_price(i, rng)
        if i < standing + promotions:
            return _promotion(i, i - standing, rng)
        return _everywhere(i, i - standing - promotions)

    return make


def _group_price(i: int, rng: random.Random) -> str:
    product, group = divmod(i, len(GROUPS))
    tag = GROUPS[group]
    if product % 5 < 3:
        selection = f"{{type: PRODUCT_SEARCH, sku_ids: [SKU-{product}-0, SKU-{product}-1]}}"
    else:
        selection = f'{{type: PRODUCT_SEARCH, product_ids: ["{100_000 + product}"]}}'
    percent = rng.randint(5, 20)
    quantity = "QTY_BY_PRODUCT" if i == CART_ONLY else "QTY_BY_VARIANT"
    lines = [
        f"  - external_id: {tag}-{product:05}",
        f"    public_name: {tag.title()} price {product}",
        f"    priority: {3 if i == SLIP else 10}",
        f"    product_selection: {selection}",
    ]
    minimum = rng.choice((6, 12, 24))
    lines += _group_rules(
        tag, percent, quantity, minimum, f"PRICE_ADJUST_PERCENT, value: -{percent + 5}"
    )
    if i % 20 == 0:
        lines += [
            "      - external_id: zone",
            "        type: DISCOUNT",
            f"        conditions: [{{type: CUSTOMER_GROUP, value: {tag}}}, "
            f"{{type: ORDER_CONDITION, name: ZONE, value: {rng.choice(('west', 'east'))}}}]",
            f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: -{percent + 2}}}]",
        ]
    return "\n".join(lines)


def _promotion(i: int, j: int, rng: random.Random) -> str:
    # One a month (January to June 2027) on each block: even blocks are collections, odd ones
    # ten products (named by product id: those whose group prices are by product id meet them).
    block, month = divmod(j, 6)
    if block % 2 == 0:
        selection = f'{{type: PRODUCT_SEARCH, collection_ids: ["c{block}"]}}'
    else:
        ids = ", ".join(f'"{100_000 + p}"' for p in range(10 * block, 10 * block + 10))
        selection = f"{{type: PRODUCT_SEARCH, product_ids: [{ids}]}}"
    start, end = (f"2027-{month + 1:02}-01", f"2027-{month + 2:02}-01")
    if j == ENDED:
        start, end = ("2026-11-01", "2026-12-01")
    percent = rng.randint(30, 50)
    return "\n".join(
        [
            f"  - external_id: promo-{j:05}",
            f"    public_name: Promotion {j}",
            "    priority: 5",
            f"    product_selection: {selection}",
            f"    start_date: {start}T00:00:00Z",
            f"    expiry_date: {end}T00:00:00Z",
            "    rules:",
            "      - external_id: everyone",
            "        type: DISCOUNT",
            "        conditions: []",
            f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: -{percent}}}]",
            "      - external_id: gold",
            "        type: DISCOUNT",
            "        conditions: [{type: CUSTOMER_GROUP, value: gold}]",
            f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: -{percent + 10}}}]",
        ]
    )


def _everywhere(i: int, k: int) -> str:
    if k == 0:
        rule = (
            "{external_id: staff, type: STACKABLE_DISCOUNT, conditions: [{type: CUSTOMER_GROUP, "
            "value: staff}], actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]}"
        )
    else:
        rule = (
            f"{{external_id: vip, type: DISCOUNT, conditions: [{{type: CUSTOMER_GROUP, "
            f"value: vip-{k}}}], actions: [{{type: PRICE_ADJUST_PERCENT, value: -{10 + k}}}]}}"
        )
    return "\n".join(
        [
            f"  - external_id: everything-{k:03}",
            "    priority: 10",
            "    product_selection: {type: PRODUCTS_ALL}",
            f"    rules: [{rule}]",
        ]
    )


#: The shapes of generated project, by name (see the module's docstring).
SHAPES = ("realistic", "collisions")


def _group_rules(tag: str, percent: int, quantity: str, minimum: int, case: str) -> list[str]:
    """A group's rules: its DISCOUNT, and its case price for ``minimum`` or more (``case``: the
    action's type and value)."""
    return [
        "    rules:",
        f"      - external_id: {tag}",
        "        type: DISCOUNT",
        f"        conditions: [{{type: CUSTOMER_GROUP, value: {tag}}}]",
        f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: -{percent}}}]",
        "      - external_id: case",
        "        type: DISCOUNT",
        f"        conditions: [{{type: CUSTOMER_GROUP, value: {tag}}}, "
        f"{{type: {quantity}, operator: '>=', value: {minimum}}}]",
        f"        actions: [{{type: {case}}}]",
    ]


def generate(
    root: Path, rulesets: int, files: int, seed: int = 15, shape: str = "realistic"
) -> None:
    """The project: boldrules.yaml, pricing/zones.yaml and ``files`` ruleset files."""
    rng = random.Random(seed)
    make = _realistic(rulesets) if shape == "realistic" else _colliding
    (root / "pricing").mkdir(parents=True, exist_ok=True)
    (root / "boldrules.yaml").write_text(
        "manifests: [pricing/]\ntargets:\n  sandbox:\n    sandbox: .boldrules/sandbox.sqlite\n"
    )
    (root / "pricing" / "zones.yaml").write_text(
        "order_conditions:\n"
        "  - {name: ZONE, value: west, field_sets: [{customer.shipping.country_code: CA, "
        "customer.shipping.province_code: BC}]}\n"
        "  - {name: ZONE, value: east, field_sets: [{customer.shipping.country_code: CA, "
        "customer.shipping.province_code: QC}]}\n"
    )
    per_file = -(-rulesets // files)
    for f in range(files):
        chunk = range(f * per_file, min(rulesets, (f + 1) * per_file))
        body = "\n".join(make(i, rng) for i in chunk)
        (root / "pricing" / f"rulesets-{f:02}.yaml").write_text(f"rulesets:\n{body}\n")


def _cpu_of(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, done


def in_process(root: Path, repeat: int) -> float:
    """CPU of ``lint.run`` alone once the manifests are loaded (afresh for each repeat, so every
    run locates its findings from the read cache): lint's own cost, without the noise of two
    processes on a shared machine."""
    import time

    from reconciler import config, lint, manifest

    project = config.load_project(root)
    best = float("inf")
    for _ in range(repeat):
        loaded = manifest.load_manifests(project, project.target(None))
        subjects = [lint.Subject.of(d) for d in loaded.objects]
        start = time.process_time()
        lint.run(subjects, project.lint, now=AT)
        best = min(best, time.process_time() - start)
        del loaded, subjects
    return best


def measure(root: Path, repeat: int) -> dict[str, object]:
    base = [sys.executable, "-m", "reconciler", "-C", str(root)]
    lint_argv = [*base, "lint", "--format", "json", "--at", AT.isoformat()]
    validate = lint = float("inf")
    findings: dict[str, int] = {}
    _cpu_of([*base, "validate"])  # the read cache and the positions kept, as a user's next run
    _cpu_of(lint_argv)
    for _ in range(repeat):
        cpu, done = _cpu_of([*base, "validate"])
        if done.returncode != 0:
            raise SystemExit(f"validate failed ({done.returncode}): {done.stdout[-500:]}")
        validate = min(validate, cpu)
        cpu, done = _cpu_of(lint_argv)
        if done.returncode not in (0, 3):
            raise SystemExit(f"lint failed ({done.returncode}): {done.stderr[-500:]}")
        lint = min(lint, cpu)
        findings = {}
        for f in json.loads(done.stdout)["findings"]:
            findings[f["id"]] = findings.get(f["id"], 0) + 1
    return {
        "lint_run_in_process_cpu_s": round(in_process(root, repeat), 2),
        "validate_cpu_s": round(validate, 2),
        "lint_cpu_s": round(lint, 2),
        "lint_adds_cpu_s": round(lint - validate, 2),
        "budget_s": BUDGET_SECONDS,
        "findings": dict(sorted(findings.items())),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rulesets", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", choices=SHAPES, action="append", help="Default: both.")
    parser.add_argument("--keep", type=Path, help="Generate the projects here and keep them.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for shape in args.shape or SHAPES:
            root = (args.keep or Path(scratch)) / shape
            generate(root, args.rulesets, args.files, shape=shape)
            figures = measure(root, args.repeat)
            results.append({"shape": shape, "rulesets": args.rulesets, "files": args.files})
            results[-1].update(figures)
            print(json.dumps(results[-1], indent=2), flush=True)
    for result in results:
        added = result["lint_adds_cpu_s"]
        assert isinstance(added, float)
        verdict = "within" if added <= BUDGET_SECONDS else "OVER"
        print(
            f"{result['shape']}: lint adds {added:.2f} s CPU over validate: {verdict} the "
            f"{BUDGET_SECONDS:g} s budget"
        )


if __name__ == "__main__":
    main()
