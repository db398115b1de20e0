"""Every exception boldrules raises, and the exit code each one maps to.

The tree::

    BoldrulesError                      exit 1   anything we expected could go wrong
    ├── ConfigError                     exit 1   no project file, or an unknown target
    │   ├── ProjectFileInvalid          exit 3   boldrules.yaml breaks its schema
    │   └── TokenMissing                exit 7   the target's token variable is unset or empty
    ├── ManifestInvalid                 exit 3   one or more located Problems in the manifests
    ├── ApiError                        exit 1   Bold (or the sandbox) answered, or failed to
    │   ├── AuthenticationFailed        exit 7   401
    │   ├── PermissionDenied            exit 7   403
    │   ├── NotFound                             404
    │   ├── Conflict                             409
    │   ├── InvalidRequest                       400 / 422, with field errors
    │   ├── RateLimited                          429 still after every retry
    │   ├── ServerError                          5xx still after every retry
    │   ├── BadResponse                          a body that is not the JSON the contract promises
    │   ├── ConnectionFailed                     no answer at all (refused, reset, timed out)
    │   ├── Unaddressable                        a path parameter empty or None: never sent
    │   └── AmbiguousWrite                       a write whose outcome is unknown: read back first
    ├── ShopChanging                    exit 1   the shop changed under every read of it
    ├── PlanFileInvalid                 exit 1   plan file unreadable, unwritable, another shop's
    ├── RecordUnreadable                exit 1   an ownership record written by a newer boldrules
    ├── LockHeld                        exit 9   another run holds the shop's apply lock
    ├── UnsafePlan                      exit 4   refused by a safety rule
    ├── StalePlan                       exit 6   live objects moved since the saved plan was made
    ├── ApplyFailed                     exit 5   some calls failed for good; carries the report
    └── Interrupted                     exit 5   SIGINT/SIGTERM stopped an apply between calls

Only ``client.py`` catches httpx's exceptions, and it re-raises ours ``from`` them. Messages name
the method, the URL path (never the host's query string with secrets, never the token), the status
and the API's own message cut to 256 characters. ``cli.py`` is the one place that turns these into
a printed line and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The API's own message is cut to this many characters in every error we print.
API_MESSAGE_LIMIT = 256


def cut(text: str, limit: int = API_MESSAGE_LIMIT) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BoldrulesError(Exception):
    """Base of every error boldrules expects; ``exit_code`` is the design's exit code."""

    exit_code: int = 1


class ConfigError(BoldrulesError):
    """The project file is missing or unusable, or a command names an unknown target."""


class ProjectFileInvalid(ConfigError):
    """``boldrules.yaml`` does not match ``schemas/project.schema.json``."""

    exit_code = 3

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(p.line_text() for p in self.problems))


class TokenMissing(ConfigError):
    """The environment variable that should hold the target's token is unset or empty."""

    exit_code = 7

    def __init__(self, target: str, variable: str) -> None:
        self.target = target
        self.variable = variable
        super().__init__(
            f"target {target!r} reads its token from ${variable}, which is not set: "
            f"export {variable}=<your Bold API token> (never put the token in a file)"
        )


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a manifest or project file.

    ``path`` names the object and field the way a reader finds it, for example
    ``ruleset spring-sale > rules[gold-half-off] > actions[0].value``.
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def line_text(self) -> str:
        """The problem as ``file:line:col: path: message``."""
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def __str__(self) -> str:
        return self.line_text()

    def as_json(self) -> dict[str, Any]:
        """The problem as a JSON object for ``validate --format json``."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
        }


class ManifestInvalid(BoldrulesError):
    """The manifests have problems; every one of them, sorted, is in ``problems``."""

    exit_code = 3

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        files = {p.file for p in self.problems}
        super().__init__(
            f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} "
            f"in {len(files)} file{'s' if len(files) != 1 else ''}"
        )


@dataclass(frozen=True)
class FieldError:
    """One entry of an API validation error's ``errors`` list."""

    field: str
    message: str


class ApiError(BoldrulesError):
    """The API answered with an error, or could not be reached.

    ``status`` is None when no response arrived. ``api_message`` is the API's own ``message``
    already cut to 256 characters.
    """

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int | None,
        api_message: str = "",
        code: str = "",
        field_errors: tuple[FieldError, ...] = (),
        attempts: int = 1,
        detail: str = "",
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.api_message = cut(api_message)
        self.code = code
        self.field_errors = field_errors
        self.attempts = attempts
        self.detail = detail
        super().__init__(self._compose())

    def _compose(self) -> str:
        status = str(self.status) if self.status is not None else "no response"
        text = f"{self.method} {self.path} → {status}"
        if self.api_message:
            text += f": {self.api_message}"
        if self.field_errors:
            text += " (" + "; ".join(
                f"{e.field}: {cut(e.message, 120)}" for e in self.field_errors[:5]
            )
            text += f"; +{len(self.field_errors) - 5} more)" if len(self.field_errors) > 5 else ")"
        if self.detail:
            text += f" — {self.detail}"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return text


class AuthenticationFailed(ApiError):
    """401: the token is missing, wrong or revoked."""

    exit_code = 7


class PermissionDenied(ApiError):
    """403: the token lacks the scope this call needs."""

    exit_code = 7


class NotFound(ApiError):
    """404: no such id, external id, code or condition."""


class Conflict(ApiError):
    """409: the identity already exists."""


class InvalidRequest(ApiError):
    """400 or 422: the API refused the body or query; ``field_errors`` says where."""


class RateLimited(ApiError):
    """429 on every attempt the retry budget allowed."""


class ServerError(ApiError):
    """5xx on every attempt the retry budget allowed."""


class BadResponse(ApiError):
    """The response was not the JSON the contract promises (an HTML error page, say)."""


class ConnectionFailed(ApiError):
    """No response arrived: refused, reset or timed out, on every attempt allowed."""


class Unaddressable(ApiError):
    """A call whose path would hold an empty or ``None`` identity; refused before sending.

    A live object without an ``external_id`` is addressed by its server id; a path such as
    ``…/rulesets/external/None`` would reach nothing (or the wrong object), so the client never
    sends one.
    """

    def _compose(self) -> str:
        return f"{self.method} {self.path}: refused before sending — {self.detail}"


class AmbiguousWrite(ApiError):
    """A non-idempotent write may or may not have happened.

    It is never retried blindly: the caller reads back (``read_back`` describes what to look
    for, e.g. ``{"kind": "discount_code", "codes": ["SPRING15"]}``) and decides.
    """

    def __init__(self, *, read_back: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.read_back = read_back or {}
        kwargs.setdefault(
            "detail", "the write may or may not have happened; read back before retrying"
        )
        super().__init__(**kwargs)


class ShopChanging(BoldrulesError):
    """The shop changed while it was being read, every time it was read: no plan is built.

    A list read in several pages is not one moment of the shop; when its pages (or a targeted
    read of what the plan would create or delete) show it moved, it is read again, a bounded
    number of times. Nothing is wrong with the shop: running again when it is quiet works.
    """

    def __init__(self, reads: int, reason: str) -> None:
        self.reads = reads
        self.reason = reason
        super().__init__(
            f"the shop changed while it was being read {reads} times; try again when it is "
            f"quiet (last change seen: {cut(reason, 300)})"
        )


class PlanFileInvalid(BoldrulesError):
    """A saved plan is unreadable or unwritable, of an unknown format, or for another shop."""


class RecordUnreadable(BoldrulesError):
    """The shop's ownership record has a format this version does not know (docs/ownership.md)."""


class LockHeld(BoldrulesError):
    """Another run holds the shop's apply lock; the message names the holder and its times."""

    exit_code = 9


class UnsafePlan(BoldrulesError):
    """The plan breaks a safety rule; the message gives counts, the limit and the override flag."""

    exit_code = 4

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("\n".join(reasons))


class StalePlan(BoldrulesError):
    """Objects a saved plan touches have moved since it was made; ``moved`` names each one."""

    exit_code = 6

    def __init__(self, moved: list[str]) -> None:
        self.moved = moved
        count = f"{len(moved)} object{'s' if len(moved) != 1 else ''}"
        lines = [f"The saved plan is stale: {count} changed since it was made:"]
        lines += [f"  {m}" for m in moved]
        lines.append("Run `boldrules plan` again and review the new plan.")
        super().__init__("\n".join(lines))


@dataclass
class ApplyReport:
    """What an apply did: counts of done, failed and skipped calls, and each failure's message."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


class ApplyFailed(BoldrulesError):
    """Some calls failed for good; what depended on them was skipped. Apply again converges."""

    exit_code = 5

    def __init__(self, report: ApplyReport) -> None:
        self.report = report
        lines = [
            f"Apply partly failed: {report.done} done, {report.failed} failed, "
            f"{report.skipped} skipped (they depended on a failure, or came after a stop).",
            *(f"  {failure}" for failure in report.failures[:10]),
        ]
        if len(report.failures) > 10:
            lines.append(f"  … and {len(report.failures) - 10} more (see the ledger or -v)")
        lines.append("Fix the cause and run apply again: it converges from where this run stopped.")
        super().__init__("\n".join(lines))


class Interrupted(BoldrulesError):
    """A signal stopped the apply between calls; in-flight calls finished first."""

    exit_code = 5

    def __init__(self, report: ApplyReport, signal_name: str) -> None:
        self.report = report
        super().__init__(
            f"Stopped by {signal_name}: {report.done} done, {report.failed} failed, "
            f"{report.skipped} not started. Run apply again to converge."
        )
