"""The plan as text for a terminal: ``+``/``~``/``-`` per object, changed fields only."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler import plan
from reconciler.carts import money
from reconciler.planformat import base
from reconciler.planformat.pieces import (
    SIGNS,
    blocks,
    combined_line,
    deletes_line,
    left_alone_line,
    partial_line,
    safety_lines,
    shop_row,
    summary_line,
)

COLOURS = {"create": "green", "update": "yellow", "delete": "red"}


def preview_lines(result: plan.Plan) -> list[str]:
    """The price preview: its summary, then each changed cart (unchanged ones only counted)."""
    found = result.preview
    if found is None:
        return []
    lines = [found.summary()]
    for cart in found.changed:
        lines.append(
            f"  ~ cart {cart.name}: {money(cart.before)} → {money(cart.after)}, {cart.change}"
        )
        lines.extend(f"      {line.text()}" for line in cart.lines)
    lines.extend(f"  (not priced: {reason})" for reason in found.skipped)
    return lines


def render_text(
    result: plan.Plan, *, color: bool = False, forced: bool = False, overridden_by: str = "--force"
) -> str:
    """The plan for a terminal: ``+``/``~``/``-`` per object, changed fields only."""

    def paint(text: str, action: str, *, bold: bool = False) -> str:
        if not color:
            return text
        import click  # only for its ANSI styling; rendering stays free of I/O

        return click.style(text, fg=COLOURS[action], bold=bold)

    lines = [f"Target {result.target} (shop {result.shop}, API version {result.api_version})"]
    if result.partial:
        lines.append(partial_line(result.filters))
    deletes = deletes_line(result)
    if deletes:
        lines.append(paint(deletes, "delete", bold=True))
    lines.append("")
    for block in blocks(result):
        lines.append(paint(f"{SIGNS[block.action]} {block.heading}", block.action, bold=True))
        lines.extend(f"    {d}" for d in block.details)
    if result.changes:
        lines.append("")
    lines.extend(f"Note: {note}" for note in result.notes)
    lines.extend(preview_lines(result))
    lines.extend(result.bookkeeping)
    extra = left_alone_line(result)
    if extra:
        lines.append(extra)
    lines.extend(safety_lines(result, forced=forced, overridden_by=overridden_by))
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def render(result: plan.Plan, style: base.Style) -> str:
    """``--format text``: colour and ``--force`` as the style says."""
    return render_text(result, color=style.color, forced=style.forced)


def render_many(outcomes: Mapping[str, base.Outcome], style: base.Style) -> str:
    """Several targets' plans: one section each, the table of targets, one combined summary."""
    parts = []
    for name, o in outcomes.items():
        if isinstance(o, plan.Plan):
            parts.append(render_text(o, color=style.color))
        else:
            parts.append(f"Target {name}: could not be planned (see the error below).\n")
    table = [("target", "shop", "create", "update", "delete", "")]
    table += [shop_row(name, o, markdown=False) for name, o in outcomes.items()]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = [
        "  ".join(
            cell.rjust(width) if 2 <= i <= 4 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        )
        + ("  " + row[5] if row[5] else "")
        for row in table
    ]
    return (
        "\n".join(parts)
        + "\n"
        + "\n".join(line.rstrip() for line in lines)
        + "\n"
        + combined_line(outcomes)
        + "\n"
    )


FORMAT = base.Format("text", "text for a terminal", render, render_many)
