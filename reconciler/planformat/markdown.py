"""The plan as Markdown for a pull-request comment, from a Jinja2 template.

The template shipped in ``reconciler/templates/plan.md.j2`` (overridable with ``--template``)
sees the context ``markdown_context`` builds (documented in docs/plan-output.md); the comment is
kept under GitHub's 65,536-character limit by folding away what does not fit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import errors, model, plan, savedplan
from reconciler.carts import money
from reconciler.planformat import base
from reconciler.planformat.pieces import (
    SIGNS,
    blocks,
    combined_line,
    deletes_line,
    left_alone_line,
    mask_code,
    partial_line,
    safety_lines,
    shop_row,
    summary_line,
    timeline_lines,
)

if TYPE_CHECKING:
    # Jinja2 (~45 ms to import) is imported when a Markdown plan is rendered, not before.
    import jinja2

#: GitHub refuses comments over 65,536 characters; stay well clear for the wrapper text.
MARKDOWN_LIMIT = 60_000


def preview_rows(result: plan.Plan, *, show_codes: bool = True) -> list[dict[str, str]]:
    """The Markdown preview table's rows: cart, before, after, change, why (discount code names
    masked unless ``show_codes``)."""
    found = result.preview
    if found is None:
        return []

    def masked(text: str) -> str:
        if show_codes:
            return text
        return re.sub(r"\bcode (\S+)", lambda m: f"code {mask_code(m.group(1))}", text)

    return [
        {
            "cart": cart.name,
            "before": money(cart.before),
            "after": money(cart.after),
            "change": cart.change,
            "why": masked(cart.why).replace("|", "\\|"),
        }
        for cart in found.changed
    ]


def _filters_text(filters: plan.Filters) -> str:
    parts = []
    if filters.only:
        parts.append("--only " + " ".join(filters.only))
    if filters.exclude:
        parts.append("--exclude " + " ".join(filters.exclude))
    return " and ".join(parts)


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    import jinja2.sandbox

    env = jinja2.sandbox.SandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md_code"] = _md_code
    return env


def _md_code(text: str) -> str:
    """Inline code that survives backticks inside the text."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def load_template(path: Path | None) -> jinja2.Template:
    """The shipped ``plan.md.j2``, or the user's ``--template`` file."""
    import jinja2

    if path is None:
        source = resources.files("reconciler.templates").joinpath("plan.md.j2").read_text("utf-8")
        return _environment(jinja2.BaseLoader()).from_string(source)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise errors.ConfigError(
            f"{path}: cannot read the Markdown template ({exc.strerror})"
        ) from None
    try:
        return _environment(jinja2.BaseLoader()).from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise errors.ConfigError(f"{path}:{exc.lineno}: template error: {exc.message}") from None


def markdown_context(
    result: plan.Plan, *, show_codes: bool, forced: bool = False
) -> dict[str, Any]:
    """What a Markdown template sees, every change shown; documented in docs/plan-output.md."""
    table: dict[str, Counter[str]] = {k.label: Counter() for k in model.Kind}
    for change in result.changes:
        table[change.key.kind.label][change.action] += 1
    return {
        "plan": savedplan.plan_json(result),
        "summary": summary_line(result),
        "counts": result.counts,
        "table": {kind: dict(c) for kind, c in table.items() if c},
        "blocks": [
            {
                "sign": SIGNS[b.action],
                "action": b.action,
                "heading": b.heading,
                "details": list(b.details),
            }
            for b in blocks(result, show_codes=show_codes)
        ],
        "hidden": 0,
        "left_alone": left_alone_line(result),
        "notes": list(result.notes),
        "timeline": timeline_lines(result, show_codes=show_codes),
        "at": result.at,
        "bookkeeping": list(result.bookkeeping),
        "safety": safety_lines(result, forced=forced),
        "safety_ok": result.safety.ok,
        "forced": forced,
        "deletes": deletes_line(result, show_codes=show_codes),
        "partial": result.partial,
        "partial_line": partial_line(result.filters) if result.partial else "",
        "filters": _filters_text(result.filters),
        "show_codes": show_codes,
        "preview": result.preview.summary() if result.preview is not None else "",
        "preview_rows": preview_rows(result, show_codes=show_codes),
        "preview_skipped": list(result.preview.skipped) if result.preview is not None else [],
    }


def render_markdown(
    result: plan.Plan,
    *,
    template: Path | None = None,
    show_codes: bool = False,
    limit: int = MARKDOWN_LIMIT,
    forced: bool = False,
) -> str:
    """The plan as a pull-request comment, never longer than ``limit`` characters."""
    import jinja2

    tmpl = load_template(template)
    # Built once: the search below renders several times with fewer changes shown.
    base = markdown_context(result, show_codes=show_codes, forced=forced)
    every = base["blocks"]

    def attempt(count: int) -> str:
        context = {**base, "blocks": every[:count], "hidden": len(every) - count}
        try:
            return tmpl.render(context)
        except jinja2.TemplateError as exc:
            raise errors.ConfigError(f"Markdown template error: {exc}") from None

    text = attempt(len(every))
    if len(text) <= limit:
        return text
    low, high = 0, len(every)
    while low < high:  # the most blocks that fit
        middle = (low + high + 1) // 2
        if len(attempt(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    text = attempt(low)
    return text if len(text) <= limit else text[: limit - 40] + "\n\n… (cut to fit a comment)\n"


def render(result: plan.Plan, style: base.Style) -> str:
    """``--format markdown``: the template, code names and ``--force`` as the style says."""
    return render_markdown(
        result, template=style.template, show_codes=style.show_codes, forced=style.forced
    )


def render_many(outcomes: Mapping[str, base.Outcome], style: base.Style) -> str:
    """One comment for several targets: the table of targets, then each target's section."""
    share = MARKDOWN_LIMIT // max(1, len(outcomes))
    sections = [
        render_markdown(o, template=style.template, show_codes=style.show_codes, limit=share)
        if isinstance(o, plan.Plan)
        else f"### ❌ boldrules plan for `{name}`\n\nNot planned: {errors.cut(str(o), 500)}\n"
        for name, o in outcomes.items()
    ]
    head = f"<!-- boldrules-plan all-targets -->\n## boldrules: {combined_line(outcomes)}\n\n"
    rows = ["| target | shop | create | update | delete | |", "|---|---|--:|--:|--:|---|"]
    rows += [
        "| `{}` | {} | {} | {} | {} | {} |".format(*shop_row(name, o, markdown=True))
        for name, o in outcomes.items()
    ]
    return head + "\n".join(rows) + "\n\n" + "\n---\n\n".join(sections)


FORMAT = base.Format("markdown", "markdown for a pull-request comment", render, render_many)
