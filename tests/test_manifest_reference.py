"""docs/manifest-format.md's field reference is written from schemas/manifest.schema.json.

The reference section (from ``## Reference (from `schemas/manifest.schema.json`)`` to the next
``## ``) is rendered here from the schema, one table per object; the test fails when the page
and the schema disagree. After changing the schema, rewrite the section with::

    python -m tests.test_manifest_reference --write
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "manifest-format.md"
SCHEMA = ROOT / "schemas" / "manifest.schema.json"
START = "## Reference (from `schemas/manifest.schema.json`)\n"


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _bounds(spec: Mapping[str, Any]) -> str:
    parts = []
    for key, label in (("minLength", "min length "), ("maxLength", "max length ")):
        if key in spec:
            parts.append(f"{label}{spec[key]}")
    for key, label in (("minimum", "≥ "), ("maximum", "≤ ")):
        if key in spec:
            parts.append(f"{label}{spec[key]}")
    if "format" in spec:
        parts.append(f"format {spec['format']}")
    return f" ({', '.join(parts)})" if parts else ""


def type_text(spec: Mapping[str, Any]) -> str:
    """``string (min length 1)``, ``list of action (at least 1)``, ``one of `A`, `B```…"""
    if "$ref" in spec:
        return _title(spec["$ref"].rsplit("/", 1)[-1]).lower()
    if "enum" in spec:
        values = spec["enum"]
        if len(values) == 1:
            return f"`{values[0]}`"
        return "one of " + ", ".join(f"`{v}`" for v in values)
    kind = spec.get("type")
    if kind == "array":
        text = "list of " + type_text(spec.get("items", {}))
        if "minItems" in spec:
            text += f" (at least {spec['minItems']})"
        if "maxItems" in spec:
            text += f" (at most {spec['maxItems']})"
        return text
    if kind == "object" and isinstance(spec.get("additionalProperties"), dict):
        return "map to " + type_text(spec["additionalProperties"])
    if isinstance(kind, list):
        return " or ".join(kind) + _bounds(spec)
    return str(kind or "any") + _bounds(spec)


def _description(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    if "$ref" in spec and "description" not in spec:
        return str(defs[spec["$ref"].rsplit("/", 1)[-1]]["description"])
    text = str(spec.get("description", ""))
    if "default" in spec:
        text += f" Default: `{json.dumps(spec['default'])}`."
    fields = spec.get("properties")
    if spec.get("type") == "object" and fields:
        required = set(spec.get("required", []))
        listed = "; ".join(
            f"`{name}`: {type_text(sub)}{', required' if name in required else ''}"
            for name, sub in fields.items()
        )
        text += f" Fields: {listed}."
    return text


def _table(heading: str, obj: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    rows = [
        f"### {heading}",
        "",
        str(obj["description"]),
        "",
        "| field | type | required | description |",
        "|---|---|---|---|",
    ]
    required = set(obj.get("required", []))
    for name, spec in obj.get("properties", {}).items():
        flag = "yes" if name in required else ""
        rows.append(f"| `{name}` | {type_text(spec)} | {flag} | {_description(spec, defs)} |")
    return "\n".join(rows)


def render(schema: Mapping[str, Any]) -> str:
    """The reference section: the manifest file's table, then one per object of ``$defs``."""
    defs = schema["$defs"]
    tables = [_table("Manifest file", schema, defs)]
    tables += [_table(_title(name), obj, defs) for name, obj in defs.items()]
    return START + "\n" + "\n\n".join(tables) + "\n\n"


def _split(page: str) -> tuple[str, str, str]:
    start = page.index(START)
    end = page.index("\n## ", start + len(START)) + 1
    return page[:start], page[start:end], page[end:]


def test_the_reference_is_the_schemas() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    _, section, _ = _split(DOC.read_text("utf-8"))
    assert section == render(schema), (
        "docs/manifest-format.md's reference differs from the schema: "
        "run `python -m tests.test_manifest_reference --write`"
    )


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.test_manifest_reference --write")
    before, _, after = _split(DOC.read_text("utf-8"))
    DOC.write_text(before + render(json.loads(SCHEMA.read_text("utf-8"))) + after, "utf-8")
