"""``boldrules price``: the sample carts priced and explained, under the planned or live rules."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from reconciler import carts, config, errors, instants, pipeline, words
from reconciler.cli import boundary, options, terminal
from reconciler.preview import crosscheck, priceformat, sides

DISAGREE = 1


@click.command("price")
@options.project_option
@options.target_option
@click.option("--cart", "cart_name", metavar="NAME", help="Price only this cart (default: all).")
@click.option(
    "--at",
    "instant",
    metavar="INSTANT",
    help="Price at this instant (e.g. 2027-03-10T12:00:00Z) instead of each cart's `at` or now.",
)
@click.option("--live", is_flag=True, help="Price under the shop's rules as they are now.")
@click.option(
    "--offline",
    is_flag=True,
    help="Price under the manifests alone: no shop read, no other app's rulesets.",
)
@click.option(
    "--check",
    "check_bold",
    is_flag=True,
    help="With --live: ask the shop's storefront (POST S/price) for the same items and report "
    "every line where its answer and boldrules' evaluation differ (exit 1 when some do).",
)
@options.format_option(["text", "json"], "json is a stable interface (schemas/price.schema.json).")
@click.pass_context
def price_command(
    ctx: click.Context,
    target_name: str | None,
    cart_name: str | None,
    instant: str | None,
    live: bool,
    offline: bool,
    check_bold: bool,
    output: str,
) -> int:
    """Price the sample carts and explain each line (default: under the rules after apply)."""
    settings = options.settings(ctx)
    if offline and (live or check_bold):
        raise click.UsageError("--offline prices the manifests alone: not with --live or --check")
    if check_bold and not live:
        raise click.UsageError("--check compares the shop's own prices: add --live")
    if check_bold and instant is not None:
        raise click.UsageError("--check prices now, as the storefront does: drop --at")
    project = config.load_project(settings.directory)
    target = project.target(target_name)
    samples = carts.load_carts(project)
    chosen = [samples.named(cart_name)] if cart_name is not None else list(samples.carts)
    if not chosen:
        raise errors.ConfigError(
            "no sample carts: add cart files to carts/ (or list them under `carts:` in "
            f"{project.file.name}); see docs/pricing.md"
        )
    now = instants.now().replace(microsecond=0)
    if instant is not None or check_bold:
        moment = now if instant is None else options.zoned_instant(instant)
        chosen = [dataclasses.replace(s, cart=dataclasses.replace(s.cart, at=None)) for s in chosen]
    else:
        moment = now
    desired = pipeline.desired(project, target) if not live else []
    answers: list[dict[str, Any]] = []
    if offline:
        side, rules = sides.manifest_side(desired), "manifests"
    else:
        with pipeline.open_client(project, target) as bold:
            seen = pipeline.read_shop(bold, project, None if live else desired)
            others, skipped = sides.other_app_rulesets(bold.list_rulesets_all_apps(), seen)
            side = sides.live_side(seen, others, skipped)
            rules = "live"
            if not live:
                declared = pipeline.Declared(desired)
                result = pipeline.compare(project, target, declared, seen, now=now)
                side, rules = sides.planned_side(side, seen, result.changes), "planned"
            if check_bold:
                answers = [bold.storefront_price(crosscheck.storefront_request(s)) for s in chosen]
    evaluator = sides.engine(side)
    priced = sides.price_all(chosen, evaluator, at=moment)
    stamp = instants.stamp(moment)
    mismatches: list[crosscheck.Mismatch] = []
    for sample, answer in zip(chosen, answers, strict=False):
        single = evaluator.price(sample.cart, at=moment, cart_context=False)
        mismatches += crosscheck.check(sample, single, answer)
    if output == "json":
        document: dict[str, Any] = {
            "rules": rules,
            "target": target.name,
            "other_app_rulesets": side.other_apps,
            "carts": [
                priceformat.cart_json(s, p, at=instants.stamp(s.cart.at) if s.cart.at else stamp)
                for s, p in zip(chosen, priced, strict=True)
            ],
        }
        if check_bold:
            document["check"] = {
                "lines": sum(len(s.cart.items) for s in chosen),
                "mismatches": [m.as_json() for m in mismatches],
            }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        where = {
            "manifests": "the manifests alone (no shop read: other apps' rulesets and the "
            "shop's discount codes not included)",
            "live": f"the live rules of target {target.name}",
            "planned": f"the rules of target {target.name} after apply",
        }[rules]
        lines = [f"Prices under {where}; {side.other_apps} rulesets of other apps took part."]
        lines += [f"  (not priced: {reason})" for reason in side.skipped]
        for sample, cart_price in zip(chosen, priced, strict=True):
            at = instants.stamp(sample.cart.at) if sample.cart.at else stamp
            lines += priceformat.cart_lines(sample, cart_price, at=at)
        if check_bold:
            total = sum(len(s.cart.items) for s in chosen)
            lines += [f"! {m.text()}" for m in mismatches]
            lines.append(
                "Check against the storefront (POST S/price, a single-product price call: no "
                "discount code, no cart-only condition, no cart-level discount, priced now): "
                f"{len(mismatches)} of {words.count(total, 'line')} differ"
                + (
                    ": boldrules' preview cannot be trusted for those here (docs/pricing.md)."
                    if mismatches
                    else "; Bold and boldrules agree."
                )
            )
        terminal.show("\n".join(lines) + "\n", quiet=False)
    return DISAGREE if mismatches else boundary.OK
