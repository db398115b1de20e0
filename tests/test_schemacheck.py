"""schemacheck.py: schema errors as one located, worded line each, and the quick check agreeing."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import errors, schemacheck, yamlread
from reconciler.manifest import parsed, reading

from .projects import example_manifests


def describe(document: Any, path: tuple[yamlread.PathPart, ...]) -> tuple[str, tuple[Any, ...]]:
    """Names the object as the manifest reader does for a ruleset: by its external id."""
    if len(path) >= 2 and path[0] == "rulesets" and isinstance(path[1], int):
        ruleset = document["rulesets"][path[1]]
        return f"ruleset {ruleset.get('external_id', path[1])}", path[2:]
    return "", path


def test_schema_errors_become_one_located_line_each() -> None:
    text = (
        "rulesets:\n"
        "  - external_id: spring\n"
        "    product_selection: {type: PRODUCTS_ALL}\n"
        "    priorty: 3\n"
        "    rules:\n"
        "      - external_id: gold\n"
        "        type: DISCOUNT\n"
        "        conditions: []\n"
        "        actions: [{type: PRICE_ADJUST_PERCENT, value: -150}]\n"
        "    start_date: tomorrow\n"
        "    public_name: .inf\n"
    )
    document = yamlread.parse_yaml(text)
    problems = schemacheck.schema_problems(
        "manifest.schema.json", document, file="pricing/spring.yaml", describe=describe
    )
    assert all(isinstance(p, errors.Problem) for p in problems)
    assert [p.line_text() for p in problems] == [
        "pricing/spring.yaml:4:5: ruleset spring: unknown field 'priorty' (did you mean "
        "'priority'?)",
        "pricing/spring.yaml:9:55: ruleset spring > rules[0].actions[0].value: -150 is less than "
        "the minimum of -100",
        "pricing/spring.yaml:10:17: ruleset spring > start_date: 'tomorrow' is not an RFC 3339 "
        "date-time such as 2026-03-01T00:00:00Z",
        "pricing/spring.yaml:11:18: ruleset spring > public_name: .inf is not a number the API "
        "can hold: give a finite number",
    ]
    assert not schemacheck.conforms("manifest.schema.json", yamlread.plain(document))


# --- the quick check agrees ------------------------------------------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


REPLACEMENTS = [
    None, True, False, 0, -1, 1.0, 1.5, 2**31, -(2**31) - 1, 2**53 + 1, 2**70, -(2**70), "",
    "x", "a b", "a\u2028b", "a\u00a0b", "x" * 129, "2026-13-01T00:00:00Z", "2026-03-01T00:00:00Z",
    "2026-03-01T00:00:00.1234567+05:30", "2026-03-01", "PRICE_ADJUST_PERCENT", "DISCOUNT",
    "PRODUCTS_ALL", "a@b.co", "a@b", [], [1], {}, {"type": "x"}, {"unknown": 1},
]  # fmt: skip


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_quick_schema_check_agrees_with_jsonschema(data: st.DataObject) -> None:
    documents = example_manifests()
    document = copy.deepcopy(data.draw(st.sampled_from(documents)))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(document)[1:]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1])
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(st.sampled_from(REPLACEMENTS)))
    if not isinstance(document, dict):
        return
    fine = not schemacheck.schema_problems(
        reading.SCHEMA, document, file="x.yaml", describe=parsed.describe
    )
    assert schemacheck.conforms(reading.SCHEMA, document) == fine, document
