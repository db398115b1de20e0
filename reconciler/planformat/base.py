"""What a plan format is: the entry each format module gives the table ``planformat.FORMATS``.

A ``Format`` names itself (its ``--format`` choice and the words of the option's help) and
renders one plan or several targets' plans, reading what it needs of the ``Style`` (the options
of ``plan`` and ``show``). A new format is a module with a ``FORMAT`` and one line in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from reconciler import errors, plan

#: One target's outcome in a run over several: its plan, or why it could not be planned.
Outcome: TypeAlias = plan.Plan | errors.BoldrulesError


@dataclass(frozen=True)
class Style:
    """How a plan is to be shown: the options a format may read (each ignores the rest)."""

    #: ANSI colours (text on a terminal).
    color: bool = False
    #: The user's ``--template`` (Markdown; None: the shipped one).
    template: Path | None = None
    #: Discount code names whole (Markdown masks them otherwise).
    show_codes: bool = False
    #: ``--force``: broken limits shown as overridden.
    forced: bool = False


@dataclass(frozen=True)
class Format:
    """One output format of a plan."""

    #: The ``--format`` choice.
    name: str
    #: Its words in the option's help: ``text for a terminal``.
    help: str
    #: One plan → the text to print.
    render: Callable[[plan.Plan, Style], str]
    #: Several targets' plans (``--all-targets``) → one report with a combined summary.
    render_many: Callable[[Mapping[str, Outcome], Style], str]
