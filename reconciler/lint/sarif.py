"""Findings as SARIF 2.1.0, the format GitHub code scanning reads to annotate a pull request.

One run, tool ``boldrules`` with every check of the catalogue as a reporting descriptor, one
result per finding at its ``file:line:col``. File URIs are relative to ``root`` (the repository
root when the project sits in one, so GitHub finds the lines) and carry ``%SRCROOT%``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.lint.findings import CHECKS, Finding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
DOCS = "https://github.com/boldrules/boldrules/blob/main/docs/lint.md"
#: SARIF's levels for our severities.
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def document(findings: Sequence[Finding], *, version: str, prefix: str = "") -> dict[str, Any]:
    """The SARIF log; ``prefix`` (``examples/shop/``) is put before each project-relative file."""
    ids = list(CHECKS)
    rules = [
        {
            "id": check.id,
            "name": "".join(part.title() for part in check.id.split("-")),
            "shortDescription": {"text": check.title},
            "helpUri": f"{DOCS}#{check.id}",
            "defaultConfiguration": {"level": LEVELS[check.severity]},
        }
        for check in CHECKS.values()
    ]
    results = [
        {
            "ruleId": f.id,
            "ruleIndex": ids.index(f.id),
            "level": LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": prefix + f.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    },
                    "logicalLocations": [
                        {"name": name, "kind": "object"} for name in f.objects[:1]
                    ],
                }
            ],
            "partialFingerprints": {"boldrulesFinding/v1": "|".join((f.id, *f.objects))},
        }
        for f in findings
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "boldrules",
                        "version": version,
                        "informationUri": DOCS,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
                "results": results,
            }
        ],
    }
