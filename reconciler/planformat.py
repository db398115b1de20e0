"""Plan output: a plan as text for a terminal, Markdown for a pull-request comment, JSON for tools.

(Named for what it formats: Jinja2 rendering of manifests is ``templating.py``.)

All three render the same ``Plan``; none of them reaches the network or the shop. Markdown comes
from Jinja2 templates shipped in ``reconciler/templates`` (overridable with ``--template``) and
is kept under GitHub's 65,536-character comment limit by folding away what does not fit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from reconciler import describe, errors, kinds, model, plan, schedule, words
from reconciler.carts import money

#: GitHub refuses comments over 65,536 characters; stay well clear for the wrapper text.
MARKDOWN_LIMIT = 60_000

#: A value longer than this is shortened in field lines; the saved plan keeps it whole.
VALUE_LIMIT = 160

SIGNS = {"create": "+", "update": "~", "delete": "-"}
COLOURS = {"create": "green", "update": "yellow", "delete": "red"}


#: A masked code shows at most this many leading characters, then ``MASK_DOTS`` and its length.
MASK_PREFIX = 2
MASK_DOTS = "••••"


def mask_code(code: str) -> str:
    """``SPRING15`` → ``SP•••• (8)``: recognisable in review, never usable.

    At most ``MASK_PREFIX`` characters show, and never more than a third of the code, so a short
    code is never half given away; the dots are always four, whatever the length.
    """
    shown = min(MASK_PREFIX, len(code) // 3)
    return f"{code[:shown]}{MASK_DOTS} ({len(code)})"


def show_key(key: model.Key, *, show_codes: bool = True) -> str:
    """``ruleset spring-sale``; a discount code's name masked unless ``show_codes``."""
    if kinds.by_name[key.kind].secret_name and not show_codes:
        copy = f" #{key.server_id}" if key.server_id is not None else ""
        return f"{key.kind.label} {mask_code(key.ident[0])}{copy}"
    return key.describe()


def show_value(value: Any) -> str:
    """A value as compact JSON, shortened past VALUE_LIMIT characters."""
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def field_line(change: model.FieldChange) -> str:
    """``rules[gold].actions[0].value: -50 → -40``, ``sku_ids: + "SKU-3"``."""
    if change.op == "added":
        return f"{change.path}: + {show_value(change.new)}"
    if change.op == "removed":
        return f"{change.path}: - {show_value(change.old)}"
    if change.op == "duplicate":
        return f"{change.path}: duplicate {show_value(change.old)} removed"
    return f"{change.path}: {show_value(change.old)} → {show_value(change.new)}"


def summary_line(result: plan.Plan) -> str:
    """``Plan: 2 to create, 1 to update, 0 to delete.`` or ``No changes.``."""
    if result.empty:
        return "No changes."
    n = result.counts
    return f"Plan: {n['create']} to create, {n['update']} to update, {n['delete']} to delete."


def summary_note(resource: model.Resource) -> str:
    """What an object does, in words (``describe.py``), and where it is declared."""
    body = resource.body
    if not body:  # a live object an older saved plan did not keep
        text = "as the shop held it when planned"
    else:
        text = kinds.by_name[resource.key.kind].summary(body)
    if resource.origin is not None:
        text += f"; {resource.origin}"
    return text


def create_note(change: model.Create) -> str:
    """A new object at a glance, with where it is declared."""
    return summary_note(change.desired)


def left_alone_line(result: plan.Plan) -> str:
    """``Left alone: 12 rulesets of other apps …; 3 order condition groups not managed here.``."""
    if not result.left_alone:
        return ""
    return (
        "Left alone: "
        + "; ".join(
            f"{n} {_one(what) if n == 1 else what}" for what, n in result.left_alone.items()
        )
        + "."
    )


_PLURAL_NOUN = re.compile(r"\b(rulesets|discount codes|order condition groups|order conditions)\b")


def _one(reason: str) -> str:
    """A left-alone reason said of one object: ``discount code not managed here``."""
    return _PLURAL_NOUN.sub(lambda m: m.group(1)[:-1], reason, count=1)


def safety_lines(
    result: plan.Plan, *, forced: bool = False, overridden_by: str = "--force"
) -> list[str]:
    """The safety evaluation: the figures, then each broken limit (``forced``: as overridden).

    ``overridden_by`` names what lifted the limits: ``--force``, or the approval of an
    interrupted apply that this run resumes.
    """
    s = result.safety
    head = (
        f"Safety: {words.count(s.deletes, 'delete')} and {words.count(s.updates, 'update')} "
        f"of {words.count(s.managed, 'managed object')} "
        f"({s.delete_percent:.0f}% / {s.update_percent:.0f}%)"
    )
    if s.ok:
        return [head + ": within limits."]
    refused = (*s.hard_violations, *filter(None, [s.other_apps_violation]))
    if forced:
        lines = [f"  ! {v}" for v in refused]
        lines += [
            f"  ! overridden by {overridden_by}: {_overridden(v)}"
            for v in (*s.violations, *s.price_violations)
        ]
        tail = ":" if refused else f": limits broken, overridden by {overridden_by}:"
        return [head + tail, *lines]
    return [head + ":", *(f"  ! {v}" for v in (*refused, *s.violations, *s.price_violations))]


def _overridden(violation: str) -> str:
    """``Refusing to delete 12 of 40 rulesets (…). Re-run with --force…`` → ``12 of 40 … (…)``."""
    text = violation.split(" Re-run with", 1)[0]
    return text.removeprefix("Refusing to ").removeprefix("Refusing ")


@dataclass(frozen=True)
class Block:
    """One change, ready to print: a heading line and its detail lines."""

    action: str
    heading: str
    details: tuple[str, ...]


def blocks(result: plan.Plan, *, show_codes: bool = True) -> Iterator[Block]:
    """Each change as a Block in plan order, with when it takes effect last."""
    for block, change in zip(_blocks(result, show_codes=show_codes), result.changes, strict=True):
        when = result.schedule.get(str(change.key))
        if when and kinds.by_name[change.key.kind].dated:
            block = Block(block.action, block.heading, (*block.details, f"when: {when}"))
        yield block


def timeline_lines(result: plan.Plan, *, show_codes: bool = True) -> list[str]:
    """``2027-03-01  ruleset spring-sale starts``: the next boundaries of the planned state."""
    return [
        f"{schedule.stamp(b.at)}  {show_key(b.key, show_codes=show_codes)} {b.event}"
        for b in result.timeline
    ]


def _blocks(result: plan.Plan, *, show_codes: bool = True) -> Iterator[Block]:
    for change in result.changes:
        name = show_key(change.key, show_codes=show_codes)
        if isinstance(change, model.Create):
            yield Block("create", f"{name} ({create_note(change)})", ())
        elif isinstance(change, model.Update):
            if change.live.key != change.key:  # adopted: the live object is keyed by its id
                name += f" (adopts {show_key(change.live.key, show_codes=show_codes)})"
            yield Block("update", name, tuple(update_lines(change)))
        else:
            why = change.reason or _why_gone(change, show_codes=show_codes)
            yield Block("delete", f"{name} ({summary_note(change.live)}) — {why}", ())


_RULE_PATH = re.compile(r"^rules\[(?P<name>[^\]]+)\](?P<rest>.*)$")


def update_lines(change: model.Update) -> Iterator[str]:
    """An update's field lines; a rule that changed what it does first says so in words.

    ``rules[gold]: gold −50% → gold −40%`` replaces the rule's condition and action lines; a
    rule added or removed whole reads ``rules[gold]: + gold −20%`` rather than its JSON. Other
    fields (priority, meta, type) keep their own lines.
    """
    old_rules = change.live.body.get("rules") or {}
    new_rules = change.desired.body.get("rules") or {}
    said: set[str] = set()
    for field in change.fields:
        found = _RULE_PATH.match(field.path)
        if found is None or field.op == "duplicate":
            yield field_line(field)
            continue
        name, rest = found["name"], found["rest"]
        old, new = old_rules.get(name), new_rules.get(name)
        if not rest and field.op in ("added", "removed"):
            body = field.new if field.op == "added" else field.old
            words = describe.rule(body) if isinstance(body, Mapping) else show_value(body)
            yield f"rules[{name}]: {'+' if field.op == 'added' else '-'} {words}"
            continue
        if old is not None and new is not None and rest.startswith((".actions", ".conditions")):
            before, after = describe.rule(old), describe.rule(new)
            if before != after:
                if name not in said:
                    said.add(name)
                    yield f"rules[{name}]: {before} → {after}"
                continue
        yield field_line(field)


def _why_gone(change: model.Delete, *, show_codes: bool) -> str:
    """Why an owned live object is to be deleted."""
    key = change.key
    if key.server_id is None:
        return plan.GONE
    if not key.ident[0]:  # no identity of its own: a ruleset without an external_id
        return "no manifest adopts it; ownership.unnamed_rulesets: delete"
    return f"a duplicate of {key.ident[0] if show_codes else mask_code(key.ident[0])}"


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


# --- text -----------------------------------------------------------------------------------


def deletes_line(result: plan.Plan, *, show_codes: bool = True) -> str:
    """``Deletes 2 objects: ruleset old-sale, discount code OL•••• (5).``, or ``""``."""
    gone = [c.key for c in result.changes if isinstance(c, model.Delete)]
    if not gone:
        return ""
    names = [show_key(k, show_codes=show_codes) for k in gone]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"Deletes {words.count(len(gone), 'object')}: {shown}."


def partial_line(filters: plan.Filters) -> str:
    """The PARTIAL banner, worded for ``--only``, ``--exclude`` or both."""
    only = " ".join(filters.only)
    exclude = " ".join(filters.exclude)
    if only and exclude:
        what = f"only objects matching --only {only}, less those matching --exclude {exclude}, were"
        return f"PARTIAL plan: {what} compared; other differences are not shown."
    if only:
        return (
            f"PARTIAL plan: only objects matching --only {only} were compared; other "
            "differences are not shown."
        )
    return (
        f"PARTIAL plan: objects matching --exclude {exclude} were left out; their differences "
        "are not shown."
    )


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


def _filters_text(filters: plan.Filters) -> str:
    parts = []
    if filters.only:
        parts.append("--only " + " ".join(filters.only))
    if filters.exclude:
        parts.append("--exclude " + " ".join(filters.exclude))
    return " and ".join(parts)


# --- Markdown -------------------------------------------------------------------------------


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
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
        "plan": plan.plan_json(result),
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


# --- JSON -----------------------------------------------------------------------------------


def render_json(result: plan.Plan) -> str:
    """The plan document of ``schemas/plan.schema.json``."""
    return json.dumps(plan.plan_json(result), indent=2, ensure_ascii=False) + "\n"


def render(
    result: plan.Plan,
    fmt: str,
    *,
    color: bool = False,
    template: Path | None = None,
    show_codes: bool = False,
    forced: bool = False,
) -> str:
    """Dispatch on ``text``, ``markdown`` or ``json``."""
    if fmt == "markdown":
        return render_markdown(result, template=template, show_codes=show_codes, forced=forced)
    if fmt == "json":
        return render_json(result)
    return render_text(result, color=color, forced=forced)


def render_many(
    outcomes: Mapping[str, plan.Plan | errors.BoldrulesError],
    fmt: str,
    *,
    color: bool = False,
    template: Path | None = None,
    show_codes: bool = False,
) -> str:
    """Several targets' plans: one section each, then one combined summary."""
    plans = [o for o in outcomes.values() if isinstance(o, plan.Plan)]
    totals = Counter[str]()
    for p in plans:
        totals.update(p.counts)
    failed = [name for name, o in outcomes.items() if not isinstance(o, plan.Plan)]
    combined = (
        f"All targets: {totals['create']} to create, {totals['update']} to update, "
        f"{totals['delete']} to delete across {words.count(len(plans), 'target')}"
        + (f"; {len(failed)} could not be planned ({', '.join(failed)})" if failed else "")
        + "."
    )
    if fmt == "json":
        document = {
            "targets": {
                name: plan.plan_json(o)
                if isinstance(o, plan.Plan)
                else {"error": str(o), "exit_code": o.exit_code}
                for name, o in outcomes.items()
            },
            "summary": dict(totals),
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        share = MARKDOWN_LIMIT // max(1, len(outcomes))
        sections = [
            render_markdown(o, template=template, show_codes=show_codes, limit=share)
            if isinstance(o, plan.Plan)
            else f"### ❌ boldrules plan for `{name}`\n\nNot planned: {errors.cut(str(o), 500)}\n"
            for name, o in outcomes.items()
        ]
        head = f"<!-- boldrules-plan all-targets -->\n## boldrules: {combined}\n\n"
        rows = ["| target | shop | create | update | delete | |", "|---|---|--:|--:|--:|---|"]
        rows += [
            "| `{}` | {} | {} | {} | {} | {} |".format(*_shop_row(name, o, markdown=True))
            for name, o in outcomes.items()
        ]
        return head + "\n".join(rows) + "\n\n" + "\n---\n\n".join(sections)
    parts = []
    for name, o in outcomes.items():
        if isinstance(o, plan.Plan):
            parts.append(render_text(o, color=color))
        else:
            parts.append(f"Target {name}: could not be planned (see the error below).\n")
    table = [("target", "shop", "create", "update", "delete", "")]
    table += [_shop_row(name, o, markdown=False) for name, o in outcomes.items()]
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
        + combined
        + "\n"
    )


def _shop_row(
    name: str, outcome: plan.Plan | errors.BoldrulesError, *, markdown: bool
) -> tuple[str, str, str, str, str, str]:
    """One line of the all-targets table: target, shop, the three counts, and what stands out."""
    if not isinstance(outcome, plan.Plan):
        return (name, "", "", "", "", f"not planned (exit {outcome.exit_code})")
    counts = outcome.counts
    state = "no changes" if outcome.empty else "changes pending"
    if outcome.safety.violations or outcome.safety.hard_violations:
        state = "breaks a safety limit"
    shop = f"`{outcome.shop}`" if markdown else outcome.shop
    return (
        name,
        shop,
        str(counts["create"]),
        str(counts["update"]),
        str(counts["delete"]),
        state,
    )
