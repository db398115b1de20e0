"""CPU that ``boldrules lint`` adds over ``boldrules validate`` on a 10,000-ruleset project.

Run: ``python -m bench.lint_speed [--rulesets N] [--files N] [--repeat N] [--keep DIR]``.

Issue 15's budget: lint adds at most 1 s of CPU over validate (both load and check the same
manifests; lint then runs every check). The project is generated on disk deterministically:
``--files`` manifest files sharing ``--rulesets`` rulesets; 2,000 products (200 collections,
20 product types), 4 customer groups, 2 order condition groups. Rulesets search by sku (60%),
product id (20%), collection (15%) or product type (4%), 1-3 entries each, or take every product
(1%); each has a customer-group DISCOUNT rule, a quantity break for that group and, one in
five, a STACKABLE_DISCOUNT. One in ten is a dated promotion (a spring window, priority 5, the
deepest discounts, 55-70%), the rest standing prices at priority 10, one in fifty has a random
priority (the slips lint is for); one in twenty refers to an order condition.

Both commands run as processes (``python -m reconciler``); the figure is their CPU (user +
system, from ``resource.getrusage(RUSAGE_CHILDREN)``), the best of ``--repeat`` runs. So is the
CPU of ``lint.run`` alone in this process once the manifests are loaded: lint's own cost, free
of the noise of two long processes on a shared machine. Lint's findings are counted: the project
is not made clean on purpose, and a realistic share of overlaps and never-wins is reported.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

BUDGET_SECONDS = 1.0
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


def _ruleset(i: int, rng: random.Random) -> str:
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
    lines += [
        "    rules:",
        f"      - external_id: {tag}",
        "        type: DISCOUNT",
        f"        conditions: [{{type: CUSTOMER_GROUP, value: {tag}}}]",
        f"        actions: [{{type: PRICE_ADJUST_PERCENT, value: -{percent}}}]",
        "      - external_id: case",
        "        type: DISCOUNT",
        f"        conditions: [{{type: CUSTOMER_GROUP, value: {tag}}}, "
        f"{{type: QTY_BY_VARIANT, operator: '>=', value: {rng.choice((6, 12, 24))}}}]",
        f"        actions: [{{type: PRICE_ADJUST_RELATIVE, value: -{rng.randint(50, 500)}}}]",
    ]
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


def generate(root: Path, rulesets: int, files: int, seed: int = 15) -> None:
    """The project: boldrules.yaml, pricing/zones.yaml and ``files`` ruleset files."""
    rng = random.Random(seed)
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
        body = "\n".join(_ruleset(i, rng) for i in chunk)
        (root / "pricing" / f"rulesets-{f:02}.yaml").write_text(f"rulesets:\n{body}\n")


def _cpu_of(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, done


def in_process(root: Path, repeat: int) -> float:
    """CPU of ``lint.run`` alone once the manifests are loaded: lint's own cost, without the
    noise of two 25-second processes on a shared machine."""
    import datetime as dt
    import time

    from reconciler import config, lint, manifest

    project = config.load_project(root)
    loaded = manifest.load_manifests(project, project.target(None))
    subjects = [lint.Subject.of(d) for d in loaded.objects]
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        lint.run(subjects, project.lint, now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
        best = min(best, time.process_time() - start)
    return best


def measure(root: Path, repeat: int) -> dict[str, object]:
    base = [sys.executable, "-m", "reconciler", "-C", str(root)]
    validate = lint = float("inf")
    findings: dict[str, int] = {}
    for _ in range(repeat):
        cpu, done = _cpu_of([*base, "validate"])
        if done.returncode != 0:
            raise SystemExit(f"validate failed ({done.returncode}): {done.stdout[-500:]}")
        validate = min(validate, cpu)
        cpu, done = _cpu_of([*base, "lint", "--format", "json", "--at", "2027-01-01T00:00:00Z"])
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rulesets", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Generate the project here and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "project"
        generate(root, args.rulesets, args.files)
        figures = measure(root, args.repeat)
    print(json.dumps({"rulesets": args.rulesets, "files": args.files, **figures}, indent=2))
    added = figures["lint_adds_cpu_s"]
    assert isinstance(added, float)
    verdict = "within" if added <= BUDGET_SECONDS else "OVER"
    print(f"lint adds {added:.2f} s CPU over validate: {verdict} the {BUDGET_SECONDS:g} s budget")


if __name__ == "__main__":
    main()
