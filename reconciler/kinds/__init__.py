"""The kinds of object boldrules manages, one module each, and the table to dispatch through.

``by_name[model.Kind.RULESET]`` is the ruleset's ``KindSpec`` (``kinds/ruleset.py``);
``in_dependency_order`` lists every kind in the order objects are created (``model.Kind``'s
order). A new kind is a ``model.Kind`` member, a module here, and one line in ``_SPECS``; plus
its schema (``schemas/manifest.schema.json``), its routes and the sandbox's routes for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import model
from reconciler.kinds.base import (
    BY_GROUP_SETTING,
    BY_PREFIX_SETTING,
    GONE,
    RECORDED,
    KindSpec,
    Scope,
)
from reconciler.kinds.discount_code import DISCOUNT_CODE
from reconciler.kinds.order_condition import ORDER_CONDITION
from reconciler.kinds.ruleset import RULESET
from reconciler.kinds.shop import Call, LiveJson, Shop, phase

__all__ = [
    "BY_GROUP_SETTING",
    "BY_PREFIX_SETTING",
    "GONE",
    "RECORDED",
    "Call",
    "KindSpec",
    "LiveJson",
    "Scope",
    "Shop",
    "by_name",
    "in_dependency_order",
    "phase",
    "references",
]

_SPECS: tuple[KindSpec, ...] = (ORDER_CONDITION, RULESET, DISCOUNT_CODE)

#: Each kind's spec, by kind.
by_name: Mapping[model.Kind, KindSpec] = {spec.kind: spec for spec in _SPECS}

#: Every kind's spec in the order objects are created (deleted in reverse).
in_dependency_order: tuple[KindSpec, ...] = tuple(by_name[kind] for kind in model.Kind)

if set(by_name) != set(model.Kind):  # pragma: no cover - a kind added without its module
    raise RuntimeError("every model.Kind needs a spec in reconciler.kinds")


def references(kind: model.Kind, body: Mapping[str, Any]) -> set[model.Key]:
    """The objects a ``kind`` body refers to (the order conditions a ruleset's rules use)."""
    return by_name[kind].references(body)
