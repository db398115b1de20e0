"""Every exception boldrules raises, and the exit code each one maps to.

The tree::

    BoldrulesError                      exit 1   anything we expected could go wrong
    ├── ConfigError                     exit 1   no project file, or an unknown target
    │   ├── ProjectFileInvalid          exit 3   boldrules.yaml breaks its schema
    │   ├── TokenMissing                exit 7   the target's token variable is unset or empty
    │   └── TokenInvalid                exit 7   the token has whitespace or non-ASCII inside it
    ├── ManifestInvalid                 exit 3   one or more located Problems in the manifests
    ├── ApiError                        exit 1   Bold (or the sandbox) answered, or failed to
    │   ├── AuthenticationFailed        exit 7   401
    │   ├── PermissionDenied            exit 7   403; ``scope`` names the scope the route needs
    │   ├── NotFound                             404
    │   ├── NotDeleted                           a DELETE answered 404 yet a read finds the object
    │   ├── Conflict                             409
    │   ├── InvalidRequest                       400 / 422, with field errors
    │   ├── RateLimited                          429 still after every retry
    │   ├── ServerError                          5xx still after every retry
    │   ├── BadResponse                          a body that is not the JSON the contract promises
    │   ├── ConnectionFailed            exit 8   no answer at all (refused, reset, timed out)
    │   ├── Unaddressable                        a path parameter empty or None: never sent
    │   └── AmbiguousWrite                       a write whose outcome is unknown: read back first
    ├── ShopChanging                    exit 1   the shop changed under every read of it
    ├── ManifestsMoved                  exit 1   the manifests changed while a plan was made
    ├── PlanFileInvalid                 exit 1   plan file unreadable, unwritable, another shop's
    ├── RecordUnreadable                exit 1   an ownership record written by a newer boldrules
    ├── LockHeld                        exit 9   another run holds the shop's apply lock
    ├── UnsafePlan                      exit 4   refused by a safety rule
    ├── StalePlan                       exit 6   live objects moved since the saved plan was made
    ├── ApplyFailed                     exit 5   some calls failed for good; carries the report
    ├── ApplyStopped                    exit 7/8 a 401/403 (7) or an unreachable API (8) stopped
    │                                            an apply: nothing further could succeed
    ├── Interrupted                     exit 5   SIGINT/SIGTERM stopped an apply between calls
    └── ShopFailed                      exit any one shop of ``--all-targets`` failed in its worker
                                                 process: that error's message and exit code

Only ``client.py`` catches httpx's exceptions, and it re-raises ours ``from`` them. Messages name
the method, the URL path (never the host's query string with secrets, never the token), the status
and the API's own message cut to 256 characters. ``cli/boundary.py`` is the one place that turns
these into a printed line and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler import words

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


class TokenInvalid(ConfigError):
    """The token has whitespace or non-ASCII characters inside it: no API would accept it.

    Surrounding whitespace (a trailing newline from ``$(cat file)`` or a pasted secret) is
    stripped before this check, since it can never be part of a bearer token (RFC 6750). The
    message never quotes the token, not even the offending character's neighbours.
    """

    exit_code = 7

    def __init__(self, problem: str, *, target: str | None = None, variable: str | None = None):
        self.problem = problem
        where = (
            f"target {target!r}: the token in ${variable}"
            if target and variable
            else ("the API token")
        )
        super().__init__(
            f"{where} {problem}: a token is one word of visible ASCII characters; check how it "
            "was exported (two values pasted together, a line-wrapped copy?)"
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
        super().__init__(words.problems_in_files(len(self.problems), len(files)))


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
    """403: the token lacks the scope this call needs; ``scope`` names it (the routes table's)."""

    exit_code = 7

    def __init__(self, *, scope: str = "", **kwargs: Any) -> None:
        self.scope = scope
        if scope and scope not in str(kwargs.get("api_message", "")):
            kwargs.setdefault("detail", f"this call needs the {scope} scope")
        super().__init__(**kwargs)


class NotFound(ApiError):
    """404: no such id, external id, code or condition."""


class NotDeleted(ApiError):
    """A DELETE answered 404, yet reading the object back by its id or identity finds it.

    "Already gone" is believed only when a read confirms it; otherwise the 404 came from a
    wrong path (a route override, an identity the API does not know the object by) and nothing
    was deleted.
    """


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

    exit_code = 8


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


class ManifestsMoved(BoldrulesError):
    """The manifests, read again for lint's findings, no longer declare what the plan compared:
    someone saved them while the plan was being made. No plan is shown; running again works."""

    def __init__(self) -> None:
        super().__init__(
            "the manifests changed while the plan was being made (they were read again for "
            "lint); run the command again once they are saved"
        )


class ShopFailed(BoldrulesError):
    """One shop of ``--all-targets`` failed in its worker process (pipeline/parallel.py).

    Carries what crosses a process boundary safely: the original error's message and exit code
    (most of this tree's errors take constructor arguments that pickling would not replay).
    """

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def of(cls, error: BoldrulesError) -> ShopFailed:
        """The same message and exit code, ready to cross back to the parent process."""
        return cls(str(error), exit_code=error.exit_code)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_shop_failed, (str(self), self.exit_code))


def _shop_failed(message: str, exit_code: int) -> ShopFailed:
    return ShopFailed(message, exit_code=exit_code)


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
        count = words.count(len(moved), "object")
        lines = [f"The saved plan is stale: {count} changed since it was made:"]
        lines += [f"  {m}" for m in moved]
        lines.append("Run `boldrules plan` again and review the new plan.")
        super().__init__("\n".join(lines))


@dataclass
class ApplyReport:
    """What an apply did: counts of done, failed, skipped and not attempted calls.

    ``skipped`` calls depended on a call that failed; ``not_attempted`` ones were never started
    because the run stopped (a signal, a refused token, an unreachable API).
    """

    done: int = 0
    failed: int = 0
    skipped: int = 0
    not_attempted: int = 0
    failures: list[str] = field(default_factory=list)

    def tally(self) -> str:
        """``3 done, 1 failed, 2 skipped, 40 not attempted`` (zero counts after failed left out)."""
        parts = [f"{self.done} done", f"{self.failed} failed"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (they depended on a failure)")
        if self.not_attempted:
            parts.append(f"{self.not_attempted} not attempted")
        return ", ".join(parts)


class ApplyFailed(BoldrulesError):
    """Some calls failed for good; what depended on them was skipped. Apply again converges."""

    exit_code = 5

    def __init__(self, report: ApplyReport) -> None:
        self.report = report
        lines = [
            f"Apply partly failed: {report.tally()}.",
            *(f"  {failure}" for failure in report.failures[:10]),
        ]
        if len(report.failures) > 10:
            lines.append(f"  … and {len(report.failures) - 10} more (see the ledger or -v)")
        lines.append("Fix the cause and run apply again: it converges from where this run stopped.")
        super().__init__("\n".join(lines))


class ApplyStopped(BoldrulesError):
    """A refused token (401/403) or an unreachable API stopped an apply at the first sign.

    Nothing further could succeed, so no new call was started; calls already in flight
    finished. ``exit_code`` is the cause's: 7 for a refused token, 8 for an unreachable API.
    """

    def __init__(self, report: ApplyReport, cause: ApiError) -> None:
        self.report = report
        self.cause = cause
        self.exit_code = cause.exit_code
        if isinstance(cause, PermissionDenied):
            needs = f"the {cause.scope} scope" if cause.scope else "the scope this call needs"
            head = f"Apply stopped at a refused write: {str(cause).rstrip('.')}."
            advice = (
                f"The token lacks {needs}: give it to the token's app in Bold (or use a token "
                "that has it), then run apply again."
            )
        elif isinstance(cause, AuthenticationFailed):
            head = f"Apply stopped: the API no longer accepts the token ({cause})."
            advice = (
                "It was revoked or expired during the run: get a valid token and run apply again."
            )
        else:
            head = f"Apply stopped: the API could not be reached ({cause})."
            advice = "Check the network and the target's api_url, then run apply again."
        super().__init__(
            "\n".join(
                [
                    head,
                    advice + " It converges from where this run stopped.",
                    f"{report.tally()}.",
                ]
            )
        )


class Interrupted(BoldrulesError):
    """A signal stopped the apply between calls; in-flight calls finished first."""

    exit_code = 5

    def __init__(self, report: ApplyReport, signal_name: str) -> None:
        self.report = report
        super().__init__(
            f"Stopped by {signal_name}: {report.tally()}. Run apply again to converge."
        )
