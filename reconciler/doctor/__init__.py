"""``boldrules doctor``: check every assumption boldrules makes about a target, before going live.

Most of the API's paths and shapes are inferred (the contract's [I] tags), so the first contact
with a real shop is the first real test. A doctor run (``recording.Doctor``) runs one check per
assumption and records a ``results.Check`` for each: ``ok``, ``FAIL`` or ``skipped``, with what
was sent (method, path, query) and what came back (status, and what was found in the body). The
token is never part of a check.

Read-only by default: the token, shop info and the version header, every list route (envelope,
pagination fields, limit clamping, date format, unknown fields), the reads by identity, the
``external_ids`` filter, the app scoping of rulesets, the apply lock and the ownership record.
With ``--write``, ``reconciler.probes`` runs next: it takes the project's apply lock (checking
that a second take answers 409), then creates, reads back, changes and deletes a probe ruleset,
order condition, discount code and ownership record under a unique
``boldrules-doctor-<stamp>-<hex>`` name (``probenames``), through every route apply uses, and
always deletes them again: on errors, Ctrl-C and SIGTERM alike. Probes left by a run that was
killed outright (SIGKILL) are deleted by the next ``--write`` run once an hour old.

A route that answers 404 or 405 on an object known to exist is a path the API does not have:
the check says so, tries the path's likely alternative spellings (``routesearch``), and when one
answers and behaves, names the ``routes:`` override that fixes it and carries on with it applied.

The package's modules: ``results`` (a check, the report), ``recording`` (recording each check, the
route search applied), ``routesearch``, ``probenames``, and one module per family of read-only
checks, run in the order of ``READ_CHECKS``: ``shop``, ``lists``, ``identity``, ``scoping``,
``bookkeeping``. A new family is a module with a ``checks(checker)`` function and one line in
``READ_CHECKS``. ``cli/doctor.py`` prints the report and picks the exit code from
``Report.exit_code``; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.doctor import bookkeeping, identity, lists, scoping, shop
from reconciler.doctor.recording import Doctor, Stop
from reconciler.doctor.results import OK, Check, Report

#: The read-only checks, one function per family, in the order they run (the shop's first: a
#: token of another shop stops the run before anything else is read).
READ_CHECKS: tuple[Callable[[Doctor], None], ...] = (
    shop.checks,
    lists.checks,
    identity.checks,
    scoping.checks,
    bookkeeping.checks,
)


def run(
    checker: Doctor, *, token_note: str, write: Callable[[Doctor], None] | None = None
) -> Report:
    """Every check, in order; never raises for what the shop answers.

    ``write`` runs the write checks (``probes.run``) once the read-only ones have passed.
    """
    checker.add(Check(OK, "token", got=token_note))
    try:
        for family in READ_CHECKS:
            family(checker)
        if write is not None:
            write(checker)
        else:
            checker.skip("write routes", "read-only run: `boldrules doctor --write` checks them")
    except Stop:
        checker.skip("the remaining checks", "stopped: see the failure above")
    return checker.report
