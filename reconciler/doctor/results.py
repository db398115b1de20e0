"""What a doctor run found: each ``Check`` (``ok``, ``FAIL``, ``skipped``) and the ``Report``.

A check records what was sent (method, path, query) and what came back (status, and what was
found in the body); the token is never part of one. ``Report`` closes the run: its summary lines,
the ``routes:`` overrides found, its JSON form and the exit code ``cli/doctor.py`` returns. A new
output form of the report goes here. It must not print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, FAIL, SKIPPED = "ok", "FAIL", "skipped"


@dataclass(frozen=True)
class Check:
    """One assumption checked: its outcome, what was sent and what came back."""

    status: str
    title: str
    sent: str = ""
    got: str = ""
    notes: tuple[str, ...] = ()
    route: str = ""
    #: False for what boldrules can do without (a FAIL then does not fail the run).
    needed: bool = True
    #: The ``routes:`` override that fixed a 404/405 ("": none found or none needed).
    override: str = ""
    #: Why it failed, for the exit code: "auth", "unreachable", "lock" or "".
    cause: str = ""

    def lines(self) -> list[str]:
        """``ok       title: sent → got``, then one indented line per note."""
        text = f"{self.status:<8} {self.title}"
        if self.sent:
            text += f": {self.sent} → {self.got}" if self.got else f": {self.sent}"
        elif self.got:
            text += f": {self.got}"
        if self.status == FAIL and not self.needed:
            text += " (boldrules does without it)"
        return [text, *(f"         {note}" for note in self.notes)]

    def as_json(self) -> dict[str, Any]:
        """The check for ``--format json``."""
        return {
            "status": self.status,
            "check": self.title,
            "route": self.route or None,
            "sent": self.sent,
            "got": self.got,
            "notes": list(self.notes),
            "needed": self.needed,
            "override": self.override or None,
        }


@dataclass
class Report:
    """Every check of one doctor run, and the overrides it found."""

    target: str
    api_url: str
    write: bool
    shop: str = ""
    checks: list[Check] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    interrupted: str = ""

    @property
    def failed(self) -> list[Check]:
        """The checks that failed and that boldrules needs."""
        return [c for c in self.checks if c.status == FAIL and c.needed]

    @property
    def exit_code(self) -> int:
        """0 when everything boldrules needs holds; 8, 7, 9 or 1 (the README's table)."""
        causes = {c.cause for c in self.failed}
        for cause, code in (("unreachable", 8), ("auth", 7), ("lock", 9)):
            if cause in causes:
                return code
        return 1 if self.failed or self.interrupted else 0

    def summary(self) -> list[str]:
        """The closing lines: counts, what it means, and the overrides to add."""
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in (OK, FAIL, SKIPPED)}
        head = f"{counts[OK]} ok, {counts[FAIL]} failed, {counts[SKIPPED]} skipped"
        out: list[str] = []
        if self.interrupted:
            out.append(f"{head}: interrupted ({self.interrupted}); the probes were cleaned up.")
        elif self.failed:
            out.append(
                f"{head}: boldrules cannot yet work with target {self.target}; fix what failed "
                "and re-run `boldrules doctor" + (" --write`." if self.write else "`.")
            )
        elif self.write:
            out.append(f"{head}: target {self.target} holds every assumption boldrules makes.")
        else:
            out.append(
                f"{head}: target {self.target} holds every assumption boldrules can check without "
                "writing; `boldrules doctor --write` checks the routes apply uses."
            )
        if self.overrides:
            out.append("Add to boldrules.yaml (the routes the checks above found):")
            out.append("routes:")
            out.extend(f"  {name}: {text}" for name, text in sorted(self.overrides.items()))
        return out

    def as_json(self) -> dict[str, Any]:
        """The whole report, for a bug report or a tool."""
        return {
            "target": self.target,
            "api_url": self.api_url,
            "shop": self.shop,
            "write": self.write,
            "checks": [c.as_json() for c in self.checks],
            "overrides": dict(sorted(self.overrides.items())),
            "interrupted": self.interrupted or None,
            "summary": self.summary()[0],
            "exit_code": self.exit_code,
        }
