"""Manifest templates (``*.yaml.j2``): rendered with one target's ``vars``, lines mapped back.

Owns rendering a template in the sandboxed, budgeted environment of ``templating.py`` with the
target's vars only, its output bounded like a file; the line map from each rendered line to the
template line it came from (``line_of``), so that a plan or a problem points at the line a
person edits; and every way a template can fail said as one located line (``TemplateFailed``:
the template file and line, naming the target's vars when one is undefined).

It must not parse YAML or check the format (``reading.py`` does, on the rendered text).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from reconciler import discover, errors, redact, schemacheck, sources
from reconciler.targets import Target

if TYPE_CHECKING:
    import jinja2

    from reconciler import templating

TEMPLATE_SUFFIX = ".j2"


def environment(root: Path) -> Callable[[], templating.BoundedEnvironment]:
    """The environment every template of the project renders in, one per load, made when the
    first template renders: a project without templates never imports Jinja2 (~45 ms)."""

    @functools.cache
    def made() -> templating.BoundedEnvironment:
        from reconciler import templating

        # Sandboxed, strict and budgeted (templating.py): a template is data someone reviews,
        # not code that may reach the machine, and a pull request's template is untrusted input.
        return templating.BoundedEnvironment(root)

    return made


class TemplateFailed(Exception):
    """A template that cannot be rendered: the file and line to report, and what is wrong."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


def line_of(lines: list[int]) -> Callable[[int], int]:
    """Rendered line → the template line it came from (past the end: the last one known)."""

    def line_of(rendered: int) -> int:
        if not lines:
            return rendered
        return lines[min(max(rendered, 1), len(lines)) - 1]

    return line_of


def render(
    environments: Callable[[], templating.BoundedEnvironment],
    root: Path,
    path: Path,
    file: str,
    text: str,
    target: Target,
) -> tuple[str, list[int]]:
    """Render a template with the target's vars only; output bounded like a file.

    Also returns the line map: for each rendered line, the template line its first visible
    character came from, so that a plan or a problem points at the line a person edits (a line
    inside a loop maps to the loop body's line, whatever the iteration).
    """
    import jinja2
    import jinja2.exceptions

    from reconciler import templating

    environment = environments()
    environment.fresh_budget()
    try:
        code = environment.compile(text, name=file, filename=str(path))
        template = environment.template_class.from_code(
            environment, code, environment.make_globals(None)
        )
        pieces: list[str] = []
        lines = _LineMap()
        size = 0
        generator = template.generate(dict(target.vars))
        for piece in generator:
            lines.add(piece, _source_line(template, generator))
            pieces.append(piece)
            size += len(piece)
            if size > sources.MAX_FILE_BYTES:
                raise TemplateFailed(
                    file,
                    1,
                    f"the template renders to more than {sources.MAX_FILE_BYTES} "
                    "characters: refused",
                )
        return "".join(pieces), lines.lines
    except TemplateFailed:
        raise
    except jinja2.TemplateSyntaxError as exc:
        shown = file if exc.filename in (None, str(path)) or not exc.name else exc.name
        raise TemplateFailed(shown, exc.lineno, f"template syntax: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        names = ", ".join(sorted(map(str, target.vars))) or "none"
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(
            shown, line, f"template: {exc.message} (target {target.name!r} has vars: {names})"
        ) from None
    except jinja2.TemplateNotFound as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(
            shown, line, f"template: no such file to include: {exc.name}"
        ) from None
    except templating.IncludeRefused as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(
            shown, line, f"template: cannot include {schemacheck.shown(exc.name)}: it {exc.message}"
        ) from None
    except RecursionError as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(
            shown,
            line,
            "template: calls nest too deep (a macro or recursive loop that never stops?)",
        ) from None
    except templating.BudgetExceeded as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(shown, line, f"template: {exc}") from None
    except jinja2.exceptions.SecurityError as exc:
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(shown, line, f"template: not allowed in the sandbox: {exc}") from None
    except Exception as exc:  # a template is user code: any failure is the user's to fix
        shown, line = _template_position(exc.__traceback__, root, path, file)
        raise TemplateFailed(
            shown,
            line,
            f"template: {type(exc).__name__}: {errors.cut(redact.printable(str(exc)), 200)}",
        ) from None


class _LineMap:
    """Builds the rendered line → template line map from the pieces a template yields."""

    def __init__(self) -> None:
        self.lines: list[int] = []
        self._started = False  # whether the current rendered line has shown a visible character

    def add(self, piece: str, line: int) -> None:
        for index, part in enumerate(piece.split("\n")):
            here = line + index
            if index or not self.lines:  # a rendered line starts here
                self._started = False
                self.lines.append(here)
            if not self._started and part.strip():
                self.lines[-1] = here
                self._started = True


def _source_line(template: jinja2.Template, generator: Any) -> int:
    """The template line of the code that yielded the last piece (the top template's line)."""
    inner = getattr(generator, "gi_yieldfrom", None)
    frame = getattr(inner, "gi_frame", None)
    if frame is None:
        return 1
    return int(template.get_corresponding_lineno(frame.f_lineno))


def _template_position(
    trace: TracebackType | None, root: Path, path: Path, file: str
) -> tuple[str, int]:
    """The template file and line a render error came from (Jinja2 rewrites its frames)."""
    shown, line = file, 1
    while trace is not None:
        name = trace.tb_frame.f_code.co_filename
        if not name.endswith(".py") and not name.startswith("<"):
            shown = file if Path(name) == path else discover.relative(root, Path(name))
            line = trace.tb_lineno
        trace = trace.tb_next
    return shown, line
