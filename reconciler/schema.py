"""The shipped JSON Schemas, read once: their texts, their documents, the defaults they declare.

``schemas/`` (packaged as ``reconciler.schemas``) is the single source of the formats: the
validators (``schemacheck.py``), the fields each object may hold (``state.py``), the defaults a
field takes when absent and ``boldrules schema`` all read it through here, each file once.
A field's default is its ``default`` keyword, so editors, the docs and the normalisation agree.
This module imports nothing of reconciler and checks nothing (``schemacheck.validator_for`` does).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Mapping
from typing import Any

#: The schema manifests are checked against.
MANIFEST = "manifest.schema.json"


@functools.cache
def text(name: str) -> str:
    """``schemas/<name>`` as shipped, e.g. ``text("manifest.schema.json")``."""
    return importlib.resources.files("reconciler.schemas").joinpath(name).read_text("utf-8")


@functools.cache
def document(name: str) -> Mapping[str, Any]:
    """``schemas/<name>`` parsed (shared: never modify it)."""
    found: Mapping[str, Any] = json.loads(text(name))
    return found


def texts() -> dict[str, str]:
    """Every shipped JSON Schema (``manifest.schema.json``, ...) by file name, sorted by name."""
    folder = importlib.resources.files("reconciler.schemas")
    names = sorted(e.name for e in folder.iterdir() if e.name.endswith(".schema.json"))
    return {name: text(name) for name in names}


@functools.cache
def defaults(definition: str, name: str = MANIFEST) -> Mapping[str, Any]:
    """Field → ``default`` of ``$defs[definition]``, in the schema's field order (shared)."""
    properties = document(name)["$defs"][definition].get("properties", {})
    return {field: spec["default"] for field, spec in properties.items() if "default" in spec}
