"""Product selections (pricing-engine.md §2.2): which rulesets may price a line, found by index.

``SelectionIndex`` files each ruleset under what its selection names (a sku, product id,
variant id, collection, vendor, title, product type), or in the "all products" bucket, or among
the ``PRODUCTS_EXCEPT`` ones, so finding a line's candidates costs the line's few keys plus the
all/except buckets, never a scan of every ruleset. ``matches`` is the same test for one
selection and one line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reconciler.pricing import carts, inputs

ALL_TYPES = frozenset({"PRODUCTS_ALL", "SHOPIFY_PRODUCTS_ALL"})
SEARCH_TYPES = frozenset({"PRODUCT_SEARCH", "PRODUCTS_SEARCH", "SHOPIFY_PRODUCT_SEARCH"})
EXCEPT_TYPES = frozenset({"PRODUCTS_EXCEPT"})

Key = tuple[str, str]


def line_keys(line: carts.LineItem) -> Iterator[Key]:
    """The (filter, value) pairs a selection may name to pick ``line``.

    Ids compare as strings (§2.2 [E]); a product id names every variant of it; the catalogue
    facts match when equal (``assumptions.ASSUME_SEARCH_FILTERS_EXACT``).
    """
    if line.sku is not None:
        yield ("sku_ids", line.sku)
    if line.product_id is not None:
        yield ("product_ids", line.product_id)
    if line.variant_id is not None:
        yield ("variant_ids", line.variant_id)
    for collection in line.collection_ids:
        yield ("collection_ids", collection)
    if line.vendor is not None:
        yield ("vendors", line.vendor)
    if line.title is not None:
        yield ("titles", line.title)
    if line.product_type is not None:
        yield ("product_types", line.product_type)


def selection_keys(selection: inputs.ProductSelection) -> Iterator[Key]:
    """The (filter, value) pairs a selection names."""
    for name in inputs.FILTERS:
        for value in getattr(selection, name):
            yield (name, value)


def _names(selection: inputs.ProductSelection, line: carts.LineItem) -> bool:
    return any(value in getattr(selection, name) for name, value in line_keys(line))


def matches(selection: inputs.ProductSelection, line: carts.LineItem) -> bool:
    """Does ``selection`` pick ``line``? (§2.2)"""
    if selection.type in ALL_TYPES:
        return True
    if selection.type in SEARCH_TYPES:
        return _names(selection, line)
    if selection.type in EXCEPT_TYPES:
        return not _names(selection, line)
    return False  # assumptions.ASSUME_UNKNOWN_SELECTION_MATCHES_NOTHING


class SelectionIndex:
    """Positions of rulesets filed by what their selections name."""

    def __init__(self, selections: Sequence[inputs.ProductSelection | None]) -> None:
        """File each selection by its position; a None (an inactive ruleset) is left out."""
        self._all: list[int] = []
        self._except: list[int] = []
        self._search: dict[Key, list[int]] = {}
        self._excluded: dict[Key, list[int]] = {}
        for position, selection in enumerate(selections):
            if selection is None:
                continue
            if selection.type in ALL_TYPES:
                self._all.append(position)
            elif selection.type in SEARCH_TYPES:
                for key in set(selection_keys(selection)):
                    self._search.setdefault(key, []).append(position)
            elif selection.type in EXCEPT_TYPES:
                self._except.append(position)
                for key in set(selection_keys(selection)):
                    self._excluded.setdefault(key, []).append(position)

    def candidates(self, line: carts.LineItem) -> list[int]:
        """Positions of the rulesets whose selection picks ``line``, ascending."""
        found: set[int] = set()
        excluded: set[int] = set()
        search, banned = self._search, self._excluded
        for key in line_keys(line):
            hits = search.get(key)
            if hits:
                found.update(hits)
            if banned:
                misses = banned.get(key)
                if misses:
                    excluded.update(misses)
        found.update(self._all)
        if excluded:
            found.update(p for p in self._except if p not in excluded)
        else:
            found.update(self._except)
        return sorted(found)
