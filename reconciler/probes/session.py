"""What every write check shares: the probes that exist right now (what cleanup must delete),
the doctor run they report to, and reading a probe back to compare it with what was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import kinds, lock, model
from reconciler.doctor import recording
from reconciler.doctor.recording import Failed


@dataclass
class Probes:
    """The probe objects that exist in the shop right now (what cleanup must delete)."""

    ruleset: str | None = None
    ruleset_id: int | None = None
    condition: tuple[str, str] | None = None
    code_id: int | None = None
    code: str = ""
    record: str | None = None
    lock: lock.ApplyLock | None = None


@dataclass(frozen=True)
class Leftover:
    """How one kind's probes that a killed run left are found in its listing and deleted."""

    #: The kind: its listing is the doctor's ``seen[kinds.by_name[kind].list_name]``.
    kind: model.Kind
    #: The field of a listed object that holds its (probe) name.
    name_field: str
    #: Deletes a listed object; False when it cannot be addressed (a code without an id).
    delete: Callable[[kinds.Shop, Mapping[str, Any]], bool]


def diff_fields(want: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    """The fields (``rules.a.meta``, ``start_date``) where two normalised bodies differ."""
    out: list[str] = []
    for key in sorted(set(want) | set(got)):
        a, b = want.get(key), got.get(key)
        if a == b:
            continue
        if key == "rules" and isinstance(a, dict) and isinstance(b, dict):
            for rule in sorted(set(a) | set(b)):
                ra, rb = a.get(rule), b.get(rule)
                if ra is None or rb is None:
                    out.append(f"rules.{rule} ({'missing' if rb is None else 'unexpected'})")
                elif ra != rb:
                    out += [
                        f"rules.{rule}.{k}"
                        for k in sorted(set(ra) | set(rb))
                        if ra.get(k) != rb.get(k)
                    ]
        else:
            out.append(key)
    return out


class Session:
    """One ``--write`` run: the doctor it reports to, and the probes that exist."""

    def __init__(self, checker: recording.Doctor) -> None:
        self.doctor = checker
        self.bold = checker.bold
        self.report = checker.report
        self.project = checker.project
        self.name = checker.name
        self.now = checker.now
        self.seen = checker.seen
        self.check = checker.check
        self.add = checker.add
        self.skip = checker.skip
        self.probes = Probes()

    def expect(self, want: Mapping[str, Any], got: Mapping[str, Any], what: str) -> None:
        """Fail the check when ``got`` (read back) differs from ``want`` (what was written)."""
        differs = diff_fields(want, got)
        if differs:
            raise Failed(f"{what}: read back, it differs in {', '.join(differs[:6])}")
