"""The Jinja2 environment manifests render in: sandboxed, confined to the project, and budgeted.

A template in a pull request is untrusted input that CI renders with the shop's token in the
environment. This module owns the three fences around it:

* **files**: includes, imports and extends load only files inside the project folder, through
  ``sources.read_source`` (links followed and checked, 64 MiB, UTF-8), never ``/proc`` or
  ``/etc``;
* **work**: every loop iteration, function or macro call, filter and comparison is charged to a
  budget of ``MAX_STEPS`` steps (a step per item handled, so sorting 1,000 items costs 1,000);
* **size**: text produced anywhere (output, macros, ``{% set %}`` blocks) is charged to
  ``MAX_CHARS``, and no operation may build a string or list longer than ``MAX_VALUE`` (checked
  before the operation runs, so ``"x" * 10**9`` never allocates).

Budgets count work, not seconds, so the same template passes or fails the same way on every
machine. Exceeding one raises ``BudgetExceeded``; a refused include raises ``IncludeRefused``.
This module must not know the manifest format or print.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.loaders
import jinja2.nodes as nodes
import jinja2.runtime
import jinja2.sandbox
import jinja2.visitor

from reconciler import sources

#: Steps one template's rendering may take: loop iterations, calls, filters, comparisons, each
#: charged one step plus one per character or item of the values it handles.
MAX_STEPS = 2_000_000
#: Characters one template's rendering may produce, counting text built inside macros and
#: ``{% set %}`` blocks (the rendered file itself is held to ``sources.MAX_FILE_BYTES``).
MAX_CHARS = 20_000_000
#: Longest string or list any single operation in a template may build.
MAX_VALUE = 1_000_000
#: Largest whole number an operator may build in a template (prices are cents: 2^63 is ample).
MAX_INT_BITS = 64

_LOOP, _OUT, _CHARGE, _CONCAT = (
    "_boldrules_loop",
    "_boldrules_out",
    "_boldrules_charge",
    "_boldrules_concat",
)
_PERCENT_FIELD = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")


class BudgetExceeded(Exception):
    """A template's rendering went over one of the budgets."""


class IncludeRefused(Exception):
    """An include, import or extends named a file boldrules will not read."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.chars = 0

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps > MAX_STEPS:
            raise BudgetExceeded(
                f"the template takes more than {MAX_STEPS:,} steps (loop iterations, calls and "
                "filters): refused; make its loops smaller"
            )

    def produce(self, chars: int) -> None:
        self.chars += chars
        if self.chars > MAX_CHARS:
            raise BudgetExceeded(
                f"the template produces more than {MAX_CHARS:,} characters: refused"
            )


def _size(value: Any) -> int:
    if isinstance(value, str | list | tuple | dict | set | frozenset | bytes):
        return len(value)
    return 0


#: Filters that handle a list or mapping as a structure and never turn it into text whole.
_STRUCTURAL_FILTERS = frozenset(
    {
        "abs", "attr", "batch", "count", "d", "default", "dictsort", "first", "groupby", "items",
        "last", "length", "list", "map", "max", "min", "random", "reject", "rejectattr",
        "reverse", "round", "select", "selectattr", "slice", "sort", "sum", "unique",
    }
)  # fmt: skip
_CONTAINERS = (list, tuple, set, frozenset, dict, jinja2.utils.Namespace)
_SEQUENCES = (str, list, tuple, dict)
_REFUSED_METHODS = frozenset({"translate", "maketrans", "expandtabs"})
#: Lists and mappings nested deeper than this are refused (no manifest value needs them).
MAX_NESTING = 100


def _text_size(value: Any, limit: int = MAX_VALUE) -> int:
    """About how long ``str(value)`` is, found without building it; stops counting past ``limit``.

    A list that holds the same long string a thousand times is cheap to build but not to print:
    this is what output, ``~``, ``join`` and the text filters check before they print one.
    """
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(item: Any, depth: int) -> int:
        if isinstance(item, str):
            return len(item) + 2
        if isinstance(item, bool) or item is None:
            return 5
        if isinstance(item, int):
            return item.bit_length() * 3 // 10 + 2
        if isinstance(item, float):
            return 24
        if not isinstance(item, _CONTAINERS):
            return 40  # an object's own repr: short (Undefined, range, a macro…)
        key = id(item)
        if key in memo:
            return memo[key]
        if key in active:
            return 5  # a list that holds itself prints as [...]
        if depth > MAX_NESTING:
            raise BudgetExceeded(f"a value nests deeper than {MAX_NESTING} levels: refused")
        active.add(key)
        if isinstance(item, jinja2.utils.Namespace):
            item = object.__getattribute__(item, "_Namespace__attrs")
        elements = item.items() if isinstance(item, dict) else ((element,) for element in item)
        total = 2
        for element in elements:
            total += sum(size(part, depth + 1) for part in element) + 2
            if total > limit:
                break
        active.discard(key)
        memo[key] = total
        return total

    return len(value) if isinstance(value, str) else size(value, 0)


def _check_text(value: Any, what: str) -> None:
    """A list or mapping about to be turned into text must not make a huge text."""
    if isinstance(value, _CONTAINERS) and _text_size(value) > MAX_VALUE:
        raise BudgetExceeded(f"{what} would print a value over {MAX_VALUE:,} long: refused")


def _too_big(what: str) -> BudgetExceeded:
    return BudgetExceeded(f"{what} would build a value over {MAX_VALUE:,} long: refused")


def _check_size(value: Any, what: str) -> Any:
    if _size(value) > MAX_VALUE:
        raise _too_big(what)
    return value


def _joined_size(items: Any, joiner: Any) -> int:
    """About how long joining ``items`` with ``joiner`` makes, without joining them."""
    items = list(items) if isinstance(items, list | tuple) else []
    return _text_size(items) + len(str(joiner)) * len(items)


def _replaced_size(text: str, old: Any, new: Any) -> int:
    """At most how long replacing ``old`` by ``new`` in ``text`` makes."""
    return len(text) + (text.count(str(old)) + 1) * len(str(new))


def _check_int(value: Any, what: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise BudgetExceeded(f"{what} would build a number over {MAX_INT_BITS} bits: refused")
    return value


def _check_count(value: Any, what: str) -> None:
    """A whole-number argument that sizes a result (a width, a count) must be modest."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_VALUE:
        raise BudgetExceeded(f"{what} is given {value}, over the limit of {MAX_VALUE:,}: refused")


def _check_format(text: str, args: tuple[Any, ...], what: str) -> None:
    """Widths and precisions in a %-format or str.format string must be modest."""
    numbers = [n for match in _PERCENT_FIELD.finditer(text) for n in match.groups() if n]
    numbers += [n for spec in _BRACE_SPEC.findall(text) for n in re.findall(r"\d+", spec)]
    for number in numbers:
        if number != "*" and len(number) > 6 and int(number) > MAX_VALUE:
            raise BudgetExceeded(f"{what}: a width of {number} is over {MAX_VALUE:,}: refused")
    for arg in args:
        _check_count(arg, what)


class _Counted(jinja2.visitor.NodeTransformer):
    """Rewrites a parsed template so that its loops, output and comparisons pay the budget."""

    def _wrap(self, node: nodes.Node, name: str) -> nodes.Expr:
        return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)  # in place
        node.iter = self._wrap(node.iter, _LOOP)
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)  # in place
        node.nodes = [self._wrap(child, _OUT) for child in node.nodes]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)  # in place
        return self._wrap(nodes.List(node.nodes, lineno=node.lineno), _CONCAT)

    def visit_Compare(self, node: nodes.Compare) -> nodes.Node:
        self.generic_visit(node)  # in place
        node.expr = self._wrap(node.expr, _CHARGE)
        for operand in node.ops:
            operand.expr = self._wrap(operand.expr, _CHARGE)
        return node

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        self.generic_visit(node)  # in place
        return self._wrap(node, _CHARGE) if isinstance(node.arg, nodes.Slice) else node


def _budget(context: jinja2.runtime.Context) -> _Budget:
    environment = context.environment
    assert isinstance(environment, BoundedEnvironment)
    return environment.budget


@jinja2.pass_context
def _loop(context: jinja2.runtime.Context, iterable: Any) -> Iterator[Any]:
    budget = _budget(context)
    for item in iterable:
        budget.charge(1)
        yield item


@jinja2.pass_context
def _out(context: jinja2.runtime.Context, value: Any) -> Any:
    budget = _budget(context)
    budget.charge(1)
    _check_text(value, "{{ … }}")
    budget.produce(len(value) if isinstance(value, str) else len(str(value)))
    return value


@jinja2.pass_context
def _charge(context: jinja2.runtime.Context, value: Any) -> Any:
    _budget(context).charge(1 + _size(value))
    return value


@jinja2.pass_context
def _concat(context: jinja2.runtime.Context, parts: list[Any]) -> str:
    for part in parts:
        _check_text(part, "~")
    texts = [str(part) for part in parts]
    total = sum(map(len, texts))
    _budget(context).charge(1 + total)
    if total > MAX_VALUE:
        raise _too_big("~")
    return "".join(texts)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` charged to the budget, with its size arguments and result held in bounds."""
    pass_arg = jinja2.utils._PassArg.from_obj(function)

    @jinja2.pass_context
    def bounded(context: jinja2.runtime.Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget(context)
        if name == "join" and not isinstance(value, _SEQUENCES):
            value = list(value)  # a generator's items, counted before they are joined
        budget.charge(1 + _size(value) + sum(map(_size, args)))
        what = f"the {name} filter"
        for arg in (*args, *kwargs.values()):
            _check_count(arg, what)
            _check_text(arg, what)
        if name not in _STRUCTURAL_FILTERS:
            _check_text(value, what)
        if name == "format" and isinstance(value, str):
            _check_format(value, args, what)
        total = 0
        if name == "join":
            total = _joined_size(value, args[0] if args else kwargs.get("d", ""))
        elif name == "replace" and isinstance(value, str) and len(args) >= 2:
            total = _replaced_size(value, args[0], args[1])
        elif name == "indent" and isinstance(value, str):
            width = args[0] if args else kwargs.get("width", 4)
            width = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
            total = (value.count("\n") + 1) * width + len(value)
        if total > MAX_VALUE:
            raise _too_big(what)
        if pass_arg is jinja2.utils._PassArg.context:
            result = function(context, value, *args, **kwargs)
        elif pass_arg is jinja2.utils._PassArg.eval_context:
            result = function(context.eval_ctx, value, *args, **kwargs)
        elif pass_arg is jinja2.utils._PassArg.environment:
            result = function(context.environment, value, *args, **kwargs)
        else:
            result = function(value, *args, **kwargs)
        budget.charge(_size(result))
        return _check_size(result, what)

    bounded.__name__ = getattr(function, "__name__", name)
    return bounded


class _ProjectLoader(jinja2.BaseLoader):
    """Loads included templates by their path from the project folder, and only from inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses '..'
        path = self.root.joinpath(*pieces)
        if not (path.exists() or path.is_symlink()):
            raise jinja2.TemplateNotFound(template)
        try:
            text = sources.read_source(path, root=self.root)
        except sources.SourceError as exc:
            raise IncludeRefused(template, exc.message) from None
        return text, str(path), lambda: True


class BoundedEnvironment(jinja2.sandbox.SandboxedEnvironment):
    """Jinja2's sandbox, loading only project files, with every render held to the budgets."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, root: Path) -> None:
        # Strict: a misspelt variable must fail rather than render as an empty string.
        super().__init__(
            loader=_ProjectLoader(root),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.budget = _Budget()
        self.globals.pop("lipsum", None)  # a text generator: nothing a manifest needs
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters.update({_LOOP: _loop, _OUT: _out, _CHARGE: _charge, _CONCAT: _concat})

    def fresh_budget(self) -> None:
        """Start a new template's rendering with the whole budget."""
        self.budget = _Budget()

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        counted = _Counted().visit(tree)
        assert isinstance(counted, nodes.Template)
        return counted

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        self.budget.charge(1 + _size(left) + _size(right))
        what = f"the {operator} operator"
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if _size(sized) and isinstance(count, int) and _size(sized) * count > MAX_VALUE:
                    raise _too_big(what)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if abs(left) > 1 and (left.bit_length() - 1) * right > MAX_INT_BITS:
                raise BudgetExceeded(
                    f"{what} would build a number over {MAX_INT_BITS} bits: refused"
                )
        elif operator == "+" and _size(left) + _size(right) > MAX_VALUE:
            raise _too_big(what)
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right if isinstance(right, tuple) else (right,), what)
            _check_text(right, what)
        result = super().call_binop(context, operator, left, right)
        return _check_int(_check_size(result, what), what)

    def call(
        __self,  # Jinja2's own spelling, so that keyword arguments pass through
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        budget = __self.budget
        inner = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(inner, "__self__", None)
        budget.charge(1 + _size(owner) + sum(map(_size, args)) + sum(map(_size, kwargs.values())))
        what = f"calling {getattr(inner, '__name__', 'a function')}"
        if isinstance(owner, str | list | tuple | bytes):
            name = getattr(inner, "__name__", "")
            joins_generator = name == "join" and args and not isinstance(args[0], _SEQUENCES)
            if isinstance(owner, str) and joins_generator:
                args = (list(args[0]), *args[1:])  # a generator's items, counted first
            _check_method(owner, name, args, kwargs, what)
        result = super().call(__context, __obj, *args, **kwargs)
        budget.charge(_size(result))
        _check_size(owner, what)  # a list grown in place by append/extend
        return _check_size(result, what)


def _check_method(
    owner: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], what: str
) -> None:
    """A method of a string or list must not be asked to build something huge."""
    if name in _REFUSED_METHODS and isinstance(owner, str | bytes):
        # Each can multiply a text's length by an argument's: nothing a manifest needs.
        raise BudgetExceeded(f"{what} is not allowed in a template")
    for arg in (*args, *kwargs.values()):
        _check_count(arg, what)
    if not isinstance(owner, str):
        return
    for arg in (*args, *kwargs.values()):
        _check_text(arg, what)
    total = 0
    if name in ("format", "format_map"):
        _check_format(owner, args, what)
    elif name == "join" and args:
        total = _joined_size(args[0], owner)
    elif name == "replace" and len(args) >= 2:
        total = _replaced_size(owner, args[0], args[1])
    if total > MAX_VALUE:
        raise _too_big(what)
