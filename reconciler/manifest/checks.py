"""What a manifest's schema cannot see, checked across every file at once.

Owns the checks of the declared objects together: an identity declared twice (rulesets, rules
of one ruleset, order conditions, discount codes regardless of case, reserved external ids),
``adopt`` hints that name no declared rule or adopt one live object twice, order conditions of
one name that test different fields or repeat a field set, a product selection given two
filters, whole numbers in ``meta`` JSON cannot carry, an expiry not after its start; and,
through ``references.py``, references to objects no manifest declares. Each is a located,
named ``errors.Problem`` (``parsed.problem``).

It must not read files or talk to the API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler import errors, instants, model, schemacheck, yamlread
from reconciler.manifest import parsed, references

_FIELD_PREFIX = "customer.shipping."

PathParts = parsed.PathParts


def semantic_problems(documents: list[parsed.Document]) -> list[errors.Problem]:
    """Every problem the schema cannot see, across all documents at once."""
    problems = list(_ruleset_problems(documents))
    problems += _adopt_problems(documents)
    problems += _order_condition_problems(documents)
    problems += _discount_code_problems(documents)
    problems += references.problems(documents)
    problems += _selection_problems(documents)
    problems += _meta_problems(documents)
    for list_name in ("rulesets", "discount_codes"):
        for document, index, item in parsed.items(documents, list_name):
            problems += _date_problems(document, (list_name, index), item)
    return problems


def _ruleset_problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    seen: dict[str, parsed.At] = {}
    for document, index, ruleset in parsed.items(documents, "rulesets"):
        external_id = parsed.text(ruleset.get("external_id"))
        path: PathParts = ("rulesets", index)
        if external_id is not None and model.is_reserved(external_id):
            yield parsed.problem(
                document,
                (*path, "external_id"),
                f"external ids starting with {model.RESERVED_PREFIX!r} are reserved for "
                "boldrules' own bookkeeping in the shop (ownership record, apply lock): "
                "choose another external_id",
            )
        elif external_id is not None:
            if external_id in seen:
                yield parsed.problem(
                    document,
                    path,
                    f"declared twice (first at {seen[external_id]})",
                    at=(*path, "external_id"),
                )
            else:
                seen[external_id] = parsed.at(document, (*path, "external_id"))
        rules = ruleset.get("rules")
        rule_ids: dict[str, int] = {}
        for rule_index, rule in enumerate(rules if isinstance(rules, list) else []):
            rule_id = parsed.text(rule.get("external_id")) if isinstance(rule, dict) else None
            if rule_id is None:
                continue
            rule_path = (*path, "rules", rule_index, "external_id")
            if rule_id in rule_ids:
                first_path = (*path, "rules", rule_ids[rule_id], "external_id")
                first_line = yamlread.locate(document.marked, first_path)[0]
                yield parsed.problem(
                    document,
                    (*path, "rules", rule_index),
                    f"external_id {rule_id!r} is used twice in this ruleset "
                    f"(first at line {first_line})",
                    at=rule_path,
                )
            else:
                rule_ids[rule_id] = rule_index


def _adopt_problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    """An ``adopt`` hint names declared rules, and no live object is adopted twice."""
    seen: dict[tuple[str, int], parsed.At] = {}
    for document, index, ruleset in parsed.items(documents, "rulesets"):
        adopt = ruleset.get("adopt")
        if not isinstance(adopt, dict):
            continue
        path: PathParts = ("rulesets", index, "adopt")
        shop, server_id = parsed.text(adopt.get("shop")), adopt.get("id")
        if shop is not None and isinstance(server_id, int):
            if (shop, server_id) in seen:
                yield parsed.problem(
                    document,
                    (*path, "id"),
                    f"ruleset {server_id} of shop {shop} is already adopted at "
                    f"{seen[shop, server_id]}; one live ruleset can become only one declaration",
                )
            else:
                seen[shop, server_id] = parsed.at(document, (*path, "id"))
        rules = ruleset.get("rules")
        declared = {
            rule.get("external_id")
            for rule in (rules if isinstance(rules, list) else [])
            if isinstance(rule, dict)
        }
        hints = adopt.get("rules")
        first_name: dict[Any, str] = {}
        for name, rule_id in hints.items() if isinstance(hints, dict) else []:
            if name not in declared:
                yield parsed.problem(
                    document,
                    (*path, "rules", name),
                    f"{name!r} is not the external_id of a rule of this ruleset; adopt.rules "
                    "names rules declared under rules",
                )
            if rule_id in first_name:
                yield parsed.problem(
                    document,
                    (*path, "rules", name),
                    f"rule {rule_id} is already adopted by {first_name[rule_id]!r}",
                )
            else:
                first_name[rule_id] = name


def _field_names(field_set: Any) -> tuple[str, ...]:
    return tuple(sorted(str(name) for name in field_set)) if isinstance(field_set, dict) else ()


def _short(fields: tuple[str, ...]) -> str:
    return ", ".join(name.removeprefix(_FIELD_PREFIX) for name in fields) or "nothing"


def _order_condition_problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    seen: dict[tuple[str, str], parsed.At] = {}
    groups: dict[str, tuple[tuple[str, ...], parsed.Document, PathParts]] = {}
    for document, index, condition in parsed.items(documents, "order_conditions"):
        path: PathParts = ("order_conditions", index)
        name, value = parsed.text(condition.get("name")), parsed.text(condition.get("value"))
        if name is not None and value is not None:
            if (name, value) in seen:
                yield parsed.problem(
                    document, path, f"declared twice (first at {seen[name, value]})"
                )
            else:
                seen[name, value] = parsed.at(document, path)
        field_sets = condition.get("field_sets")
        if not isinstance(field_sets, list):
            continue
        for set_index, field_set in enumerate(field_sets):
            set_path = (*path, "field_sets", set_index)
            if not isinstance(field_set, dict) or not field_set:
                continue
            earlier = [i for i in range(set_index) if field_sets[i] == field_set]
            if earlier:
                yield parsed.problem(document, set_path, f"the same as field_sets[{earlier[0]}]")
            if name is None:
                continue
            fields = _field_names(field_set)
            if name not in groups:
                groups[name] = (fields, document, set_path)
            elif groups[name][0] != fields:
                reference, first, first_path = groups[name]
                head = schemacheck.path_text(first.data, first_path, parsed.describe)
                where = f"{head} ({parsed.at(first, first_path)})"
                yield parsed.problem(
                    document,
                    set_path,
                    f"tests {_short(fields)} but {where} tests {_short(reference)}: every order "
                    f"condition named {name} must test the same fields",
                )


def _discount_code_problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    seen: dict[str, tuple[str, parsed.At]] = {}
    for document, index, entry in parsed.items(documents, "discount_codes"):
        codes = entry.get("codes")
        in_entry: dict[str, str] = {}
        for code_index, code in enumerate(codes if isinstance(codes, list) else []):
            if not parsed.text(code):
                continue
            path = ("discount_codes", index, "codes", code_index)
            folded = code.casefold()
            if folded in in_entry:
                same = (
                    ""
                    if in_entry[folded] == code
                    else f" (as {in_entry[folded]!r}; case is ignored)"
                )
                yield parsed.problem(document, path, f"{code!r} appears twice in this list{same}")
                continue
            in_entry[folded] = code
            if folded in seen:
                first, where = seen[folded]
                same = (
                    "" if first == code else f" as {first!r} (codes are unique regardless of case)"
                )
                yield parsed.problem(
                    document, path, f"{code!r} is already declared{same} at {where}"
                )
            else:
                seen[folded] = (code, parsed.at(document, path))


def _selections(
    list_name: str, item: Mapping[str, Any], path: PathParts
) -> Iterator[tuple[PathParts, Any]]:
    """Every product selection in a ruleset (its rules' conditions too) or discount code entry."""
    yield (*path, "product_selection"), item.get("product_selection")
    rules = item.get("rules") if list_name == "rulesets" else [item]
    for rule_index, holder in enumerate(rules if isinstance(rules, list) else []):
        base = (*path, "rules", rule_index) if list_name == "rulesets" else path
        conditions = holder.get("conditions") if isinstance(holder, dict) else None
        for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
            if isinstance(condition, dict) and "buy_product_selection" in condition:
                yield (
                    (*base, "conditions", index, "buy_product_selection"),
                    condition["buy_product_selection"],
                )


def _selection_problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    """A product selection takes one filter (contract §5.3): two would be ambiguous."""
    for list_name in ("rulesets", "discount_codes"):
        for document, index, item in parsed.items(documents, list_name):
            for path, selection in _selections(list_name, item, (list_name, index)):
                if not isinstance(selection, dict):
                    continue
                given = [name for name in model.SELECTION_FILTERS if name in selection]
                if len(given) > 1:
                    names = ", ".join(given[:-1]) + f" and {given[-1]}"
                    yield parsed.problem(
                        document,
                        path,
                        f"a product selection takes one filter; got {names}: keep one",
                        at=(*path, given[1]),
                    )


#: Whole numbers JSON carries exactly everywhere (JavaScript's safe integers): meta is free-form,
#: so this is the only range it can be held to.
SAFE_INTEGER = 2**53


def _meta_problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    """Whole numbers in a rule's free-form ``meta`` that JSON cannot carry exactly."""
    for document, index, ruleset in parsed.items(documents, "rulesets"):
        rules = ruleset.get("rules")
        for rule_index, rule in enumerate(rules if isinstance(rules, list) else []):
            meta = rule.get("meta") if isinstance(rule, dict) else None
            if meta is None:
                continue
            base = ("rulesets", index, "rules", rule_index, "meta")
            for path, value in yamlread.leaves(meta, base):
                if isinstance(value, int) and abs(value) > SAFE_INTEGER:
                    yield parsed.problem(
                        document,
                        path,
                        f"{schemacheck.shown(value)} is too large for the API: whole numbers here "
                        f"lie within ±{SAFE_INTEGER} (quote it to keep it as text)",
                    )


def _date_problems(
    document: parsed.Document, path: PathParts, item: Mapping[str, Any]
) -> list[errors.Problem]:
    start, expiry = item.get("start_date"), item.get("expiry_date")
    if not isinstance(start, str) or not isinstance(expiry, str):
        return []
    start_at, expiry_at = instants.parse_strict(start), instants.parse_strict(expiry)
    if start_at is None or expiry_at is None or expiry_at > start_at:
        return []
    return [
        parsed.problem(
            document, (*path, "expiry_date"), f"{expiry} is not after start_date {start}"
        )
    ]
