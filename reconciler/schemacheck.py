"""JSON Schema checking, and what is wrong in a document said as located, readable lines.

Owns the validators of the shipped schemas (``validator_for``; ``schema.py`` reads the files),
the quick yes/no check (``conforms``, jsonschema-rs), and turning every schema error into one
``errors.Problem`` in words at the line and column of the node (``schema_problems``), with the
words every located problem shares: a value as written (``shown``), a path named from its
object (``path_text``, ``dotted``), numbers JSON cannot carry (``non_finite``).

The project file, the manifests and the sample carts are all checked through here. It must not
know any of their formats: the caller names the schema and the objects (``describe``).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from reconciler import errors, instants, redact, schema, yamlread

if TYPE_CHECKING:
    # jsonschema (with referencing and attrs, ~50 ms to import) only words the errors of a
    # document the quick check found fault with: imported where that happens.
    import jsonschema  # type: ignore[import-untyped]
    import jsonschema.exceptions  # type: ignore[import-untyped]

Path = tuple[yamlread.PathPart, ...]
#: Names the object a path falls in and gives the rest of the path:
#: ``("ruleset spring-sale > rules[gold]", ("actions", 0, "value"))``.
Describe = Callable[[Any, Path], tuple[str, Path]]


def _format_checker() -> jsonschema.FormatChecker:
    # Our own date-time check, so that format checking does not depend on which optional
    # jsonschema extras happen to be installed.
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(
        lambda value: not isinstance(value, str) or bool(instants.parse_strict(value))
    )
    return checker


@cache
def validator_for(schema_name: str) -> jsonschema.Draft202012Validator:
    """A checked, format-checking validator for ``schemas/<schema_name>``."""
    import jsonschema

    document = schema.document(schema_name)
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document, format_checker=_format_checker())


@cache
def _quick_validator_for(schema_name: str) -> jsonschema_rs.Validator:
    # jsonschema-rs checks the schema against its meta-schema first, as validator_for does.
    return jsonschema_rs.validator_for(
        dict(schema.document(schema_name)),
        formats={"date-time": lambda value: bool(instants.parse_strict(value))},
        validate_formats=True,
    )


def conforms(schema_name: str, document: Any) -> bool:
    """Whether plain ``document`` breaks nothing in ``schemas/<schema_name>``: the quick check.

    jsonschema-rs answers a hundred times faster than ``schema_problems`` (issue 16: 26 ms
    against 2.4 s for 1,000 rulesets), with the same date-time check; only a document it
    finds fault with needs ``schema_problems`` to say what and where. Non-finite numbers are
    not its to judge: ``parse_plain`` leaves documents holding them to ``parse_yaml``.
    """
    return bool(_quick_validator_for(schema_name).is_valid(document))


def _quickly_conforms(schema_name: str, plain: Any) -> bool:
    """``conforms``, or False for data it cannot take (a key that is not text, a date): the
    careful check judges those."""
    try:
        return conforms(schema_name, plain)
    except ValueError:
        return False


_TYPE_NAMES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true or false",
    "null": "null",
}


def shown(value: Any) -> str:
    """A value as a reader wrote it in YAML: ``true``, ``'text'``, ``12``.

    Text is quoted as a short excerpt (``redact.excerpt``: 40 characters at most, secrets
    blanked, control characters escaped): an error message never repeats a whole value.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{redact.excerpt(value)}'"
    return redact.excerpt(str(value))


def _type_message(error: jsonschema.exceptions.ValidationError, document: Any = None) -> str:
    wanted = (
        error.validator_value
        if isinstance(error.validator_value, list)
        else [error.validator_value]
    )
    expected = " or ".join(_TYPE_NAMES.get(str(name), str(name)) for name in wanted)
    got, instance = shown(error.instance), error.instance
    message = f"expected {expected}, got {got}"
    if "string" in wanted and isinstance(instance, bool):
        text = yamlread.written(document, tuple(error.absolute_path)) or "yes/no/on/off"
        message = f"expected {expected}, got the boolean {got}"
        if text != got:
            message += f" — YAML reads {redact.excerpt(text)} as {got}: quote it"
        else:
            message += ": quote it if you mean the text"
    elif "string" in wanted and isinstance(instance, int | float):
        message += " (quote it: this field is text)"
    return message


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _messages(
    error: jsonschema.exceptions.ValidationError, document: Any = None
) -> Iterator[tuple[Path, bool, str]]:
    """(path, point at the key?, message) for one schema error; several for several keys."""
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    hint = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if hint and kind in ("required", "not", "dependentRequired", "anyOf"):
        yield path, False, str(hint)
    elif kind == "additionalProperties" and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        for name in instance:
            if name in known or any(re.search(p, str(name)) for p in patterns):
                continue
            yield (
                (*path, name),
                True,
                f"unknown field {shown(str(name))}{_suggest(str(name), known)}",
            )
    elif kind == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                yield path, False, f"missing required field {name!r}"
    elif kind == "dependentRequired" and isinstance(instance, dict):
        for trigger, needed in value.items():
            for name in needed:
                if trigger in instance and name not in instance:
                    yield path, False, f"missing required field {name!r} (needed with {trigger!r})"
    elif kind in ("enum", "const"):
        choices = [str(c) for c in (value if kind == "enum" else [value])]
        # Short lists read best in full; a long one (rule types) only helps with a suggestion.
        suggestion = _suggest(str(instance), choices) if isinstance(instance, str) else ""
        if suggestion and len(choices) > 6:
            yield path, False, f"{shown(instance)} is not allowed{suggestion}"
        else:
            yield path, False, f"{shown(instance)} is not allowed: use one of {', '.join(choices)}"
    elif kind == "type":
        yield path, False, _type_message(error, document)
    elif kind == "maxLength":
        yield path, False, f"is {len(instance)} characters long, over the limit of {value}"
    elif kind == "minLength":
        yield (
            path,
            False,
            "must not be empty" if value == 1 else f"must be at least {value} characters",
        )
    elif kind == "maxItems":
        yield path, False, f"has {len(instance)} items, over the limit of {value}"
    elif kind in ("minItems", "minProperties"):
        yield path, False, "must not be empty" if value == 1 else f"needs at least {value} entries"
    elif kind == "maxProperties":
        yield path, False, f"has {len(instance)} entries, over the limit of {value}"
    elif kind == "minimum":
        yield path, False, f"{shown(instance)} is less than the minimum of {value}"
    elif kind == "maximum":
        yield path, False, f"{shown(instance)} is greater than the maximum of {value}"
    elif kind == "exclusiveMinimum":
        yield path, False, f"must be more than {value}, got {shown(instance)}"
    elif kind == "format" and value == "date-time":
        yield (
            path,
            False,
            (f"{shown(instance)} is not an RFC 3339 date-time such as 2026-03-01T00:00:00Z"),
        )
    elif kind == "pattern":
        what = error.schema.get("x-pattern-hint", f"match {value}")
        yield path, False, f"{shown(instance)} must {what}"
    elif kind == "uniqueItems":
        yield path, False, "has the same item twice"
    elif kind in ("anyOf", "oneOf") and error.context:
        import jsonschema.exceptions

        best = jsonschema.exceptions.best_match(error.context)
        yield from _messages(best, document)
    elif kind == "not":
        yield path, False, "is not allowed here"
    else:  # minimum, maximum, exclusive bounds and the rest already read well
        yield path, False, errors.cut(error.message, 200)


def schema_problems(
    schema_name: str,
    document: Any,
    *,
    file: str,
    describe: Describe,
) -> list[errors.Problem]:
    """Every way ``document`` breaks ``schemas/<schema_name>``, one located Problem each.

    ``describe(document, path)`` names the object a path falls in and the rest of the path,
    e.g. ``("ruleset spring-sale > rules[gold]", ("actions", 0, "value"))``.

    A document the quick check (``conforms``) passes has no problem to word: jsonschema, which
    words them, is then neither imported nor run (the project file of every command).
    """
    problems: set[errors.Problem] = set()
    odd = dict(non_finite(document))
    plain = yamlread.plain(document)
    if not odd and _quickly_conforms(schema_name, plain):
        return []
    for path, text in odd.items():
        line, column = yamlread.locate(document, path)
        problems.add(
            errors.Problem(
                file,
                line,
                column,
                path_text(document, path, describe),
                f"{text} is not a number the API can hold: give a finite number",
            )
        )
    for error in _one_per_field(validator_for(schema_name).iter_errors(plain)):
        if tuple(error.absolute_path) in odd:
            continue  # said once above, in words that name the real problem
        for path, at_key, message in _messages(error, document):
            line, column = yamlread.locate(document, path, key=at_key)
            shown_path = path[:-1] if at_key else path
            problems.add(
                errors.Problem(
                    file, line, column, path_text(document, shown_path, describe), message
                )
            )
    return sorted(problems)


def duplicate_key_problems(
    document: Any,
    *,
    file: str,
    describe: Describe,
) -> list[errors.Problem]:
    """Every key given twice in one mapping of ``document``, one located Problem each."""
    return [
        errors.Problem(
            file,
            *repeat,
            path_text(document, path, describe),
            f"{shown(str(key))} is given twice (first at line {first[0]})",
        )
        for path, key, repeat, first in yamlread.duplicate_keys(document)
    ]


def _one_per_field(
    found: Iterator[jsonschema.exceptions.ValidationError],
) -> list[jsonschema.exceptions.ValidationError]:
    """Schema errors with one type error and one bound per field: the tightest, said once.

    A field under two subschemas (``value`` of a condition is a string or a number, and a
    string for this type) would otherwise be reported twice in two wordings.
    """
    kept: dict[tuple[Any, ...], jsonschema.exceptions.ValidationError] = {}
    rest: list[jsonschema.exceptions.ValidationError] = []
    for error in found:
        kind = error.validator
        if kind not in ("type", "minimum", "maximum"):
            rest.append(error)
            continue
        key = (kind, *error.absolute_path)
        other = kept.get(key)
        if other is None or _tighter(error, other):
            kept[key] = error
    return rest + list(kept.values())


def _tighter(
    error: jsonschema.exceptions.ValidationError, other: jsonschema.exceptions.ValidationError
) -> bool:
    value, before = error.validator_value, other.validator_value
    if error.validator == "type":
        count = len(value) if isinstance(value, list) else 1
        return count < (len(before) if isinstance(before, list) else 1)
    if error.validator == "minimum":
        return bool(value > before)
    return bool(value < before)


def non_finite(document: Any) -> Iterator[tuple[Path, str]]:
    """Every infinite or not-a-number value (YAML ``.inf``, ``.nan``), as written in YAML.

    JSON cannot carry them, and JSON Schema's bounds cannot catch ``.nan`` (it compares as
    neither more nor less than anything), so they are found here for every format.
    """
    for path, value in yamlread.leaves(document):
        if isinstance(value, float) and not math.isfinite(value):
            yield path, ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")


def path_text(
    document: Any,
    path: Path,
    describe: Describe,
) -> str:
    """``head > rest``: the object ``describe`` names, then the rest as ``a[0].b``."""
    head, rest = describe(document, path)
    tail = dotted(rest)
    return f"{head} > {tail}" if head and tail else head or tail


def dotted(path: Sequence[yamlread.PathPart]) -> str:
    """``("actions", 0, "value")`` → ``actions[0].value``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
