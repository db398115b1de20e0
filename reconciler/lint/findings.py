"""What lint reports: the catalogue of checks (stable ids, default severities), a ``Finding``,
and the project's lint settings (``lint:`` in boldrules.yaml: silenced findings, promoted ids).

The ids are a stable interface (docs/lint.md lists each with an example); a check module adds
findings only under an id of ``CHECKS``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from reconciler import words

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Check:
    """One kind of finding."""

    id: str
    severity: Severity
    title: str


#: Every check, by id: the stable interface of ``boldrules lint`` (docs/lint.md).
CHECKS: Mapping[str, Check] = {
    c.id: c
    for c in (
        Check("stack-order-on-discount", "error", "A DISCOUNT rule carries stack_order"),
        Check("condition-as-rule-type", "error", "A rule's type is a condition name"),
        Check("price-below-zero", "error", "A rule always takes the price below zero"),
        Check("unmatchable-order-condition", "error", "No address can match an order condition"),
        Check("empty-selection", "error", "A product search names no product"),
        Check("priority-shadow", "warning", "A lower rule priority shuts other rules out"),
        Check("never-wins", "warning", "A deeper discount always loses to a lower priority"),
        Check("checkout-only-action", "warning", "An action with no effect on item prices"),
        Check("charm-under-100", "warning", "CHARM_PRICE on a price under 100"),
        Check("expired", "warning", "A window that has ended"),
        Check("cart-only-condition", "warning", "A condition that holds only in a cart"),
        Check("overlap", "info", "Rulesets of one priority competing for the same products"),
    )
}


@dataclass(frozen=True)
class Finding:
    """One thing lint found: where, about what, and what a customer would see."""

    id: str
    severity: Severity
    file: str
    line: int
    column: int
    #: The objects involved as ``kind:name`` keys, the one located first.
    objects: tuple[str, ...]
    message: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def __str__(self) -> str:
        return f"{self.location}: {self.severity} {self.id}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "objects": list(self.objects),
            "message": self.message,
        }


@dataclass(frozen=True)
class Ignore:
    """``lint.ignore`` entry: silence ``id`` (``*`` for any) on objects matching ``object``."""

    id: str
    object: str
    reason: str

    def silences(self, finding: Finding) -> bool:
        if self.id not in ("*", finding.id):
            return False
        return bool(finding.objects) and fnmatch.fnmatchcase(finding.objects[0], self.object)


@dataclass(frozen=True)
class Settings:
    """The project file's ``lint:`` section."""

    ignore: tuple[Ignore, ...] = ()
    #: Ids whose findings count as errors whatever their default severity.
    error: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Settings:
        data = data or {}
        return cls(
            ignore=tuple(
                Ignore(str(e.get("id", "*")), str(e.get("object", "*")), str(e["reason"]))
                for e in data.get("ignore", ())
            ),
            error=tuple(str(i) for i in data.get("error", ())),
        )


def settle(findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    """Findings after the project's settings: silenced ones dropped, promoted ones errors;
    sorted by file, line, column, id."""
    promoted = set(settings.error)
    out = []
    for finding in findings:
        if any(entry.silences(finding) for entry in settings.ignore):
            continue
        if finding.id in promoted and finding.severity != "error":
            finding = replace(finding, severity="error")
        out.append(finding)
    out.sort(key=lambda f: (f.file, f.line, f.column, f.id, f.objects))
    return out


def unique(findings: Iterable[Finding]) -> Iterable[Finding]:
    """Each finding once (a check may reach one from two index entries)."""
    seen: set[tuple[str, str, int, int, tuple[str, ...]]] = set()
    for f in findings:
        key = (f.id, f.file, f.line, f.column, f.objects)
        if key not in seen:
            seen.add(key)
            yield f


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """``{"error": n, "warning": n, "info": n}``."""
    return {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}


def summary(findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning, 0 notes`` / ``no findings``."""
    if not findings:
        return "no findings"
    n = counts(findings)
    parts = [
        words.count(n["error"], "error"),
        words.count(n["warning"], "warning"),
        f"{n['info']} info",
    ]
    return ", ".join(parts)


_text = json.encoder.encode_basestring  # a JSON string as json.dumps(ensure_ascii=False) writes it


def report(findings: Sequence[Finding]) -> str:
    """``boldrules lint --format json``'s output: exactly ``json.dumps({"findings": [each
    finding's as_json()], "summary": counts(findings)}, indent=2, ensure_ascii=False)``, written
    directly (json's indenting encoder is pure Python: 27,000 findings cost it a second)."""
    items = []
    for f in findings:
        if f.objects:
            listed = ",\n".join(f"        {_text(o)}" for o in f.objects)
            objects = f"[\n{listed}\n      ]"
        else:
            objects = "[]"
        items.append(
            "    {\n"
            f'      "id": {_text(f.id)},\n'
            f'      "severity": {_text(f.severity)},\n'
            f'      "file": {_text(f.file)},\n'
            f'      "line": {int(f.line)},\n'
            f'      "column": {int(f.column)},\n'
            f'      "objects": {objects},\n'
            f'      "message": {_text(f.message)}\n'
            "    }"
        )
    listed = "[\n" + ",\n".join(items) + "\n  ]" if items else "[]"
    summary = ",\n".join(f"    {_text(s)}: {n}" for s, n in counts(findings).items())
    return f'{{\n  "findings": {listed},\n  "summary": {{\n{summary}\n  }}\n}}'
