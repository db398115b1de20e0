"""Sample carts: the files the project file's ``carts:`` lists → checked ``SampleCart``s.

Owns what the project file's ``carts:`` list reads (``LISTING``; by default the project's
``carts/`` folder when it exists: ``discover.py`` finds the files), reading each through
``sources.read_source`` (inside the project only), checking it against
``schemas/cart.schema.json`` with located problems (``carts/x.yaml:4:7: cart gold-member >
items[0].price: …``), the checks a schema cannot make (names unique across files,
``total_between`` in order, a floor above the item's own price is allowed but said nowhere
else), and turning each cart into the evaluator's ``pricing.Cart`` with its floors and
``expect`` assertions. Every problem of every file is collected before
``errors.ManifestInvalid`` (exit 3) is raised.

It must not price (``preview`` does), talk to the API or print.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import config, discover, errors, schemacheck, sources, yamlread

if TYPE_CHECKING:
    from reconciler import pricing

SCHEMA = "cart.schema.json"
SUFFIXES = (".yaml", ".yml")
#: What the project file's ``carts:`` list reads.
LISTING = discover.Listing("carts", SUFFIXES, "a cart file", "*.yaml or *.yml")

PathParts = tuple[yamlread.PathPart, ...]


@dataclass(frozen=True)
class Expect:
    """A cart's assertions, checked under the planned rules on every plan."""

    total: int | None = None
    total_between: tuple[int, int] | None = None
    max_percent_off: float | None = None

    def failures(self, total: int, list_total: int) -> Iterator[str]:
        """Each assertion ``total`` breaks, said with the figures (``list_total``: no rule)."""
        if self.total is not None and total != self.total:
            yield f"total is {money(total)}, expected exactly {money(self.total)}"
        if self.total_between is not None:
            low, high = self.total_between
            if not low <= total <= high:
                yield f"total is {money(total)}, expected between {money(low)} and {money(high)}"
        if self.max_percent_off is not None and list_total > 0:
            off = 100.0 * (list_total - total) / list_total
            if off > self.max_percent_off + 1e-9:
                yield (
                    f"total is {money(total)}, {off:.1f}% off the items' prices "
                    f"({money(list_total)}); expected at most {self.max_percent_off:g}% off"
                )

    def as_json(self) -> dict[str, Any]:
        """The assertions as written."""
        data: dict[str, Any] = {}
        if self.total is not None:
            data["total"] = self.total
        if self.total_between is not None:
            data["total_between"] = list(self.total_between)
        if self.max_percent_off is not None:
            data["max_percent_off"] = self.max_percent_off
        return data


@dataclass(frozen=True)
class SampleCart:
    """One cart of the project: the evaluator's cart, each line's floor, its assertions."""

    name: str
    cart: pricing.Cart
    floors: tuple[int | None, ...]
    expect: Expect | None
    origin: str
    """``carts/x.yaml:3``: where the cart is declared."""

    @property
    def list_total(self) -> int:
        """The sum of the items' own prices × quantities: the cart with no rule at all."""
        return sum(item.price * item.quantity for item in self.cart.items)


@dataclass(frozen=True)
class Carts:
    """Every sample cart of the project, in file then list order."""

    carts: tuple[SampleCart, ...]
    files: tuple[str, ...]

    def named(self, name: str) -> SampleCart:
        """The cart called ``name``; a ConfigError listing the names when there is none."""
        for sample in self.carts:
            if sample.name == name:
                return sample
        known = ", ".join(s.name for s in self.carts) or "none: add carts to carts/"
        raise errors.ConfigError(f"no cart {name!r} in the project's carts (carts: {known})")


def money(cents: int) -> str:
    """``1234`` → ``12.34``; ``-50`` → ``-0.50`` (the shop's currency, whatever it is)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def load_carts(project: config.Project) -> Carts:
    """Read and check every cart file; raise ManifestInvalid with every problem found."""
    problems: list[errors.Problem] = []
    paths = discover.files(
        project, LISTING, entries=project.carts, origins=project.cart_origins, problems=problems
    )
    files: list[str] = []
    found: list[SampleCart] = []
    seen: dict[str, str] = {}
    for path in paths:
        file = discover.relative(project.root, path)
        files.append(file)
        data = _read(project.root, path, file, problems)
        if data is None:
            continue
        failed = schemacheck.schema_problems(SCHEMA, data, file=file, describe=describe)
        failed += schemacheck.duplicate_key_problems(data, file=file, describe=describe)
        problems += failed
        if failed:
            continue
        for index, item in enumerate(data["carts"]):
            name = str(item["name"])
            line, _ = yamlread.locate(data, ("carts", index))
            where = f"{file}:{line}"
            if name in seen:
                problems.append(
                    _problem(
                        file,
                        data,
                        ("carts", index, "name"),
                        f"is also the name of the "
                        f"cart at {seen[name]}: give each cart its own name",
                    )
                )
                continue
            seen[name] = where
            sample = _sample(file, data, index, item, where, problems)
            if sample is not None:
                found.append(sample)
    if problems:
        raise errors.ManifestInvalid(problems)
    return Carts(tuple(found), tuple(files))


def _sample(
    file: str,
    data: yamlread.MarkedDict,
    index: int,
    item: Mapping[str, Any],
    where: str,
    problems: list[errors.Problem],
) -> SampleCart | None:
    expect_data = item.get("expect")
    expect = None
    if isinstance(expect_data, Mapping):
        between = expect_data.get("total_between")
        if between is not None and between[0] > between[1]:
            problems.append(
                _problem(
                    file,
                    data,
                    ("carts", index, "expect", "total_between"),
                    f"[{between[0]}, {between[1]}]: the low bound comes first",
                )
            )
            return None
        expect = Expect(
            total=expect_data.get("total"),
            total_between=(int(between[0]), int(between[1])) if between is not None else None,
            max_percent_off=(
                float(expect_data["max_percent_off"]) if "max_percent_off" in expect_data else None
            ),
        )
    from reconciler import pricing  # the evaluator: imported once a project has carts

    body = yamlread.plain(item)
    try:
        cart = pricing.Cart.from_api({k: v for k, v in body.items() if k != "expect"})
    except pricing.PricingInputError as exc:  # the schema should have said it: one line anyway
        problems.append(_problem(file, data, ("carts", index), str(exc)))
        return None
    floors = tuple(
        line.get("floor") if isinstance(line.get("floor"), int) else None for line in body["items"]
    )
    return SampleCart(str(item["name"]), cart, floors, expect, where)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _read(
    root: Path, path: Path, file: str, problems: list[errors.Problem]
) -> yamlread.MarkedDict | None:
    try:
        data = yamlread.parse_yaml(sources.read_source(path, root=root))
    except sources.SourceError as exc:
        problems.append(errors.Problem(file, *exc.position, "", exc.message))
        return None
    if not isinstance(data, yamlread.MarkedDict):
        what = (
            "the file is empty"
            if data is None
            else f"the top level is {type(data).__name__} {schemacheck.shown(data)}"
        )
        problems.append(
            errors.Problem(file, 1, 1, "", f"{what}: a cart file is a mapping with a `carts:` list")
        )
        return None
    return data


# --------------------------------------------------------------------------------------------
# Located problems
# --------------------------------------------------------------------------------------------


def describe(document: Any, path: PathParts) -> tuple[str, PathParts]:
    """``("carts", 0, "items", 0, "price")`` → ``("cart gold-member", ("items", 0, "price"))``."""
    if len(path) < 2 or path[0] != "carts" or not isinstance(path[1], int):
        return "", path
    items = document.get("carts") if isinstance(document, Mapping) else None
    item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
    name = item.get("name") if isinstance(item, Mapping) else None
    head = f"cart {name}" if isinstance(name, str) and name else f"carts[{path[1]}]"
    return head, path[2:]


def _problem(file: str, data: Any, path: PathParts, message: str) -> errors.Problem:
    line, column = yamlread.locate(data, path)
    return errors.Problem(file, line, column, schemacheck.path_text(data, path, describe), message)
