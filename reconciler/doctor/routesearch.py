"""The route search: a route that answers 404 or 405 on an object known to exist, respelled.

``alternatives`` lists the ``routes:`` override texts worth trying for such a route (the path's
likely alternative spellings: ``external`` → ``external_id``, ``by-external-id``…, ``_`` → ``-``,
a trailing slash, another method on a 405, and the contract's own path when the project file
overrides it); ``recording.Doctor`` tries them in order and keeps the first that answers and
behaves. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler import errors, routes

#: Likely other spellings of a path segment, tried when a route answers 404 or 405.
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "external": ("external_id", "external-id", "by-external-id", "by_external_id", "ext", "eid"),
    "rulesets": ("ruleset",),
    "rules": ("rule",),
    "order_conditions": ("order-conditions", "order_condition", "conditions"),
    "discount_codes": ("discount-codes", "discount_code", "codes"),
    "field_sets": ("field-sets", "fieldsets"),
}
#: Other methods tried on the contract's path when a route answers 405.
OTHER_METHODS: Mapping[str, tuple[str, ...]] = {
    "PATCH": ("POST", "PUT"),
    "PUT": ("POST", "PATCH"),
    "DELETE": ("POST",),
    "POST": ("PUT",),
    "GET": (),
}


def alternatives(name: str, template: str, status: int | None) -> list[str]:
    """``routes:`` override texts worth trying for a route whose path answered 404 or 405."""
    method, contract = routes.ROUTES[name]
    head, marker, tail = template.partition("{shop_identifier}")
    if not marker:
        head, tail = "", template
    parts = tail.split("/")
    found: list[str] = []
    for index, part in enumerate(parts):
        for other in SYNONYMS.get(part, ()):
            path = head + marker + "/".join([*parts[:index], other, *parts[index + 1 :]])
            found.append(path)
    found.append(template.rstrip("/") + "/")
    texts = [p if method == routes.ROUTES[name][0] else f"{method} {p}" for p in found]
    if status == 405:
        texts += [f"{other} {template}" for other in OTHER_METHODS.get(method, ())]
    if template != contract:
        texts.append(contract)  # an override in the project file may itself be the problem
    return [t for t in dict.fromkeys(texts) if not isinstance(routes.parse_override(name, t), str)]


def route_problem(exc: errors.ApiError) -> bool:
    """Whether an API error says the route is not there (404/405), not that the call failed."""
    return exc.status in (404, 405) and not isinstance(exc, errors.BadResponse)
