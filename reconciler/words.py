"""Counted nouns, said one way everywhere: ``1 ruleset``, ``3 rulesets``, ``2 problems in 1 file``.

Every noun boldrules counts takes a plain ``s`` in the plural (``ruleset``, ``discount code``,
``field set``, ``call``); a noun that does not belongs in a table here, not inline at its use.
This module imports nothing of reconciler.
"""

from __future__ import annotations


def plural(n: int, noun: str) -> str:
    """``noun`` as ``n`` of them are said: ``ruleset`` for 1, ``rulesets`` otherwise (0 too)."""
    return noun if n == 1 else noun + "s"


def count(n: int, noun: str) -> str:
    """``1 ruleset``, ``0 rulesets``, ``3 rulesets``."""
    return f"{n} {plural(n, noun)}"


def problems_in_files(problems: int, files: int) -> str:
    """``2 problems in 1 file``: the closing line of every list of located problems."""
    return f"{count(problems, 'problem')} in {count(files, 'file')}"
