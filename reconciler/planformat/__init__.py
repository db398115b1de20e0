"""Plan output: a plan as text for a terminal, Markdown for a pull-request comment, JSON for tools.

(Named for what it formats: Jinja2 rendering of manifests is ``templating.py``.)

One module per format (``text.py``, ``markdown.py``, ``jsonformat.py``), each built from the
shared ``pieces.py`` and giving a ``base.Format``; ``FORMATS`` is the table of them, which the
CLI's ``--format`` choices and help are read from. A new output format is a module with a
``FORMAT`` and one line in the table. None of them reaches the network or the shop.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler import plan
from reconciler.planformat import base, jsonformat, markdown, pieces, text

__all__ = ["FORMATS", "base", "jsonformat", "markdown", "pieces", "render", "render_many", "text"]

#: Every format a plan can be shown in, by its ``--format`` name, in the order the help lists them.
FORMATS: Mapping[str, base.Format] = {
    f.name: f for f in (text.FORMAT, markdown.FORMAT, jsonformat.FORMAT)
}


def render(
    result: plan.Plan,
    fmt: str,
    *,
    color: bool = False,
    template: Path | None = None,
    show_codes: bool = False,
    forced: bool = False,
) -> str:
    """The plan in the format named ``fmt`` (a key of ``FORMATS``)."""
    style = base.Style(color=color, template=template, show_codes=show_codes, forced=forced)
    return FORMATS[fmt].render(result, style)


def render_many(
    outcomes: Mapping[str, base.Outcome],
    fmt: str,
    *,
    color: bool = False,
    template: Path | None = None,
    show_codes: bool = False,
) -> str:
    """Several targets' plans: one section each, then one combined summary."""
    style = base.Style(color=color, template=template, show_codes=show_codes)
    return FORMATS[fmt].render_many(outcomes, style)
