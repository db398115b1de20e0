"""The files a list of the project file names: its manifests (``manifests:``), its sample carts
(``carts:``).

Owns one walk for every such list: each entry a file or a folder; a folder's files found by name
(hidden names skipped, links to folders inside the project followed once, a link leading out a
located problem and never followed: ``sources.inside``); a listed file whose name the list does
not read, an entry that does not exist, a folder holding nothing (where the list requires files),
each a problem at the entry's line in the project file; and a file named as problems and plans
name it, relative to the project folder (``relative``). What a list reads is its ``Listing``,
declared by the module that reads the files (``manifest.read``, ``carts``).

It must not read or parse a file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler import config, errors, sources


@dataclass(frozen=True)
class Listing:
    """A list of the project file (``key``: ``manifests``, ``carts``): the endings of the names
    it reads (``suffixes``), one of its files in words (``what``: ``a cart file``), its names as
    a reader is told to write them (``names``: ``*.yaml or *.yml``), and whether a listed folder
    holding none of its files is a problem (``folders_hold_files``)."""

    key: str
    suffixes: tuple[str, ...]
    what: str
    names: str
    folders_hold_files: bool = False

    def reads(self, name: str) -> bool:
        """Whether a file name is one the list reads from a folder."""
        return name.endswith(self.suffixes) and not name.startswith(".")


def relative(root: Path, path: Path) -> str:
    """``path`` as problems and plans name it: relative to the project folder, with ``/``."""
    return Path(os.path.relpath(path, root)).as_posix()


def files(
    project: config.Project,
    listing: Listing,
    *,
    entries: Sequence[Path],
    origins: Sequence[sources.Position],
    problems: list[errors.Problem],
) -> list[Path]:
    """The files ``entries`` (the list's resolved entries) name, sorted, each once; every
    problem on the way added to ``problems``, at ``origins`` (each entry's line and column)."""
    found: dict[Path, None] = {}
    project_file = project.file.name
    for index, entry in enumerate(entries):
        line, column = origins[index] if index < len(origins) else (1, 1)
        where = f"{listing.key}[{index}]"
        shown = relative(project.root, entry)
        message = None
        files: list[Path] = []
        if entry.is_dir():
            before = len(problems)
            files = list(_folder_files(entry, project.root, listing, problems, set()))
            if not files and len(problems) == before and listing.folders_hold_files:
                message = f"{shown}/ holds no {listing.names} files"
        elif entry.exists() or entry.is_symlink():
            if entry.name.endswith(listing.suffixes):
                files = [entry]
            else:
                message = f"{shown} is not {listing.what}: name it {listing.names}"
        else:
            message = f"no such file or folder: {shown}"
        if message is not None:
            problems.append(errors.Problem(project_file, line, column, where, message))
        for path in files:
            found.setdefault(path, None)
    return sorted(found, key=lambda path: relative(project.root, path))


def _folder_files(
    folder: Path, root: Path, listing: Listing, problems: list[errors.Problem], seen: set[Path]
) -> Iterator[Path]:
    """The files under ``folder`` the list reads, by name; hidden names skipped.

    A link to a folder inside the project is followed (once: a link loop ends there); a link to
    a folder, or a link named as a file of the list, leading outside the project is a problem
    and is not followed (``sources.inside``).
    """
    real = folder.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        items = sorted(folder.iterdir(), key=lambda item: item.name)
    except OSError as exc:
        problems.append(
            errors.Problem(relative(root, folder), 1, 1, "", f"cannot list: {exc.strerror}")
        )
        return
    for item in items:
        if item.name.startswith("."):
            continue
        if item.is_symlink() and (item.is_dir() or listing.reads(item.name)):
            try:
                sources.inside(root, item)
            except sources.SourceError as exc:
                problems.append(errors.Problem(relative(root, item), 1, 1, "", exc.message))
                continue
        if item.is_dir():
            yield from _folder_files(item, root, listing, problems, seen)
        elif listing.reads(item.name):
            yield item
