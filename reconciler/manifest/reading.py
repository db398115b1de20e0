"""One manifest file read: rendered if a template, then through the read cache, the quick path
or the careful one, into a ``parsed.Document``.

Owns the order a manifest is read in, cheapest first: the read cache (``cache.py``: a text
already read and found sound is not read again; ``CACHE_VARIABLE=off`` reads afresh), then the
quick path (``yamlquick.parse_plain`` and ``schemacheck.conforms``: plain data, checked whole),
and only when that steps aside or finds fault the careful reader (``yamlread.parse_yaml``), whose
positions every problem is located at. Also what the ``manifests:`` list reads (``LISTING``) and
the schema a manifest is checked against (``SCHEMA``).

It must not check more than the schema (``checks.py``) or build the result (``load.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import (
    cache,
    discover,
    errors,
    schema,
    schemacheck,
    sources,
    yamlquick,
    yamlread,
)
from reconciler.manifest import parsed, templates
from reconciler.targets import Target

if TYPE_CHECKING:
    from reconciler import templating

SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")
SCHEMA = "manifest.schema.json"
#: What the project file's ``manifests:`` list reads.
LISTING = discover.Listing(
    "manifests", SUFFIXES, "a manifest", "*.yaml, *.yml or *.yaml.j2", folders_hold_files=True
)

PathParts = parsed.PathParts


#: Set to ``off`` to read every manifest afresh, without ``.boldrules/cache/``.
CACHE_VARIABLE = "BOLDRULES_CACHE"


def read_cache(root: Path) -> cache.ReadCache | None:
    """The project's read cache; None when ``CACHE_VARIABLE`` turns it off."""
    if os.environ.get(CACHE_VARIABLE, "").lower() in ("off", "0", "no", "false"):
        return None
    # The key covers the schema: a file checked under another schema is checked again.
    return cache.ReadCache(root, salt=schema.texts()[SCHEMA])


def read(
    environment: Callable[[], templating.BoundedEnvironment],
    root: Path,
    path: Path,
    file: str,
    target: Target,
    problems: list[errors.Problem],
    readings: cache.ReadCache | None = None,
) -> parsed.Document | None:
    """The manifest at ``path`` read and, if the quick path read it, checked; None when it
    cannot be read or holds no mapping, with what is wrong added to ``problems``."""
    lines: list[int] | None = None
    try:
        text = sources.read_source(path, root=root)
        if path.name.endswith(templates.TEMPLATE_SUFFIX):
            text, lines = templates.render(environment, root, path, file, text, target)
        line_of = templates.line_of(lines) if lines is not None else None
        known = readings.get(text) if readings is not None else None
        if known is not None:
            # The cache holds the rendered text's positions; the line map is this run's.
            data, marks = known
            return parsed.Document(
                file,
                data,
                text=text,
                marks=_moved(marks, line_of),
                checked=True,
                line_of=line_of,
                readings=readings,
            )
        quick = yamlquick.parse_plain(text)
        if (
            quick is not None
            and isinstance(quick.data, dict)
            and schemacheck.conforms(SCHEMA, quick.data)
        ):
            if readings is not None:
                readings.put(text, (quick.data, quick.marks))
            return parsed.Document(
                file,
                quick.data,
                text=text,
                marks=_moved(quick.marks, line_of),
                checked=True,
                line_of=line_of,
                readings=readings,
            )
        data = yamlread.parse_yaml(text)
        if line_of is not None:
            # Every position from here on (plan origins, problems) is the template's line.
            yamlread.remap_lines(data, line_of)
    except sources.SourceError as exc:
        line, column = exc.position
        if lines is not None:
            line = templates.line_of(lines)(line)
        problems.append(errors.Problem(file, line, column, "", exc.message))
        return None
    except templates.TemplateFailed as exc:
        problems.append(errors.Problem(exc.file, exc.line, 1, "", exc.message))
        return None
    if data is None:
        problems.append(
            errors.Problem(
                file,
                1,
                1,
                "",
                "the file is empty: a manifest holds rulesets, order_conditions "
                "and/or discount_codes",
            )
        )
        return None
    if not isinstance(data, yamlread.MarkedDict):
        kind = (
            "a list"
            if isinstance(data, list)
            else f"{type(data).__name__} {schemacheck.shown(data)}"
        )
        line, column = data.mark if isinstance(data, yamlread.MarkedList) else (1, 1)
        problems.append(
            errors.Problem(
                file,
                line,
                column,
                "",
                f"the top level must be a mapping with rulesets, order_conditions and/or "
                f"discount_codes, not {kind}",
            )
        )
        return None
    return parsed.Document(file, data)


def _moved(
    marks: dict[PathParts, sources.Position], line_of: Callable[[int], int] | None
) -> dict[PathParts, sources.Position]:
    """Positions of the rendered text moved to the template's lines (as they are without one)."""
    if line_of is None:
        return marks
    return {path: (line_of(line), column) for path, (line, column) in marks.items()}
