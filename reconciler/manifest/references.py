"""References between declared objects: each must name an object some manifest declares.

Owns the one manifest check that looks from one kind to another: every reference an entry
makes must name an object declared in a manifest of this target, or it is a located problem
that lists what is declared under that name. What refers to what is each kind's knowledge
(``KindSpec.written_references``: a ruleset's ``ORDER_CONDITION`` conditions name order
conditions), so a new kind of reference is written in its kind's module, not here.

It must not read files or talk to the API.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler import errors, kinds, model
from reconciler.manifest import parsed


def problems(documents: list[parsed.Document]) -> Iterator[errors.Problem]:
    """Every reference, in any entry of any file, to an object no manifest declares."""
    declared = _declared(documents)
    for spec in kinds.in_dependency_order:
        for document, index, entry in parsed.items(documents, spec.list_name):
            for path, key in spec.written_references(entry):
                if key not in declared:
                    yield parsed.problem(
                        document, (spec.list_name, index, *path), _undeclared(key, declared)
                    )


def _declared(documents: list[parsed.Document]) -> set[model.Key]:
    """The objects a reference can name that the manifests declare: the order conditions."""
    found: set[model.Key] = set()
    for _, _, condition in parsed.items(documents, "order_conditions"):
        name, value = parsed.text(condition.get("name")), parsed.text(condition.get("value"))
        if name is not None and value is not None:
            found.add(model.order_condition_key(name, value))
    return found


def _undeclared(key: model.Key, declared: set[model.Key]) -> str:
    """``order condition ZONE=north is not declared in any manifest (ZONE has east, west)``."""
    group = key.ident[:-1]
    known = sorted(k.ident[-1] for k in declared if k.kind is key.kind and k.ident[:-1] == group)
    hint = (
        f"{group[0]} has {', '.join(known)}"
        if group and known
        else f"declare it under {kinds.by_name[key.kind].list_name}"
    )
    return f"{key.kind.label} {'='.join(key.ident)} is not declared in any manifest ({hint})"
