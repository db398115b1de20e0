"""Files read only from inside the project, bounded, as UTF-8 text.

Owns the rule that boldrules reads only files inside the project folder (``inside``): links are
followed and checked, a link leading out is refused and never read, ``.git`` is never read.
Every file boldrules reads (project file, manifests, template includes, sample carts) goes
through ``read_source(path, root=project.root)``, which applies it, refuses a file over
``MAX_FILE_BYTES`` before reading it, and reads UTF-8 only. ``SourceError`` (with the
``Position`` to report) is how a file that cannot be read, or parsed (``yamlread``), is said.

It must not parse or know any format: ``yamlread`` and ``yamlquick`` read YAML, ``schemacheck``
words schema errors.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reconciler import redact

#: Files bigger than this are refused before they are read. A file of 10,000 rulesets of five
#: rules is about 12 MB; 64 MiB leaves room for 50,000 while bounding what one file may cost.
MAX_FILE_BYTES = 64 * 1024 * 1024

Position = tuple[int, int]


class SourceError(Exception):
    """A source that cannot be read or parsed; carries the position to report."""

    def __init__(self, message: str, position: Position = (1, 1)) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


_ADVICE = "boldrules reads only files inside the folder holding boldrules.yaml"


def inside(root: Path, path: Path, *, advice: str = f"{_ADVICE}; copy the file in instead") -> Path:
    """``path`` with every link followed, checked to lie inside ``root``; SourceError if not.

    Every file boldrules reads goes through here (``read_source`` calls it): a pull request
    is untrusted input, and a committed link to ``/proc/self/environ`` or ``/etc/passwd``
    must be refused, never followed. A link to a file inside the project is fine. Files under
    ``.git`` are refused too: they can hold the CI's credentials.
    """
    top = root.resolve()
    try:
        resolved = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop of links
        raise SourceError("is a link that leads back to itself: remove the link") from None
    if not resolved.is_relative_to(top):
        link = _link_out(root, path, top)
        if link is not None:
            target = redact.excerpt(os.readlink(link), 100)
            where = "" if link == path else f" ({link.name} is a link)"
            raise SourceError(
                f"is a link to '{target}', outside the project folder{where}: {advice}"
            )
        raise SourceError(f"is outside the project folder: {_ADVICE}")
    if ".git" in resolved.relative_to(top).parts:
        raise SourceError("is inside .git: boldrules does not read git's own files")
    return resolved


def _link_out(root: Path, path: Path, top: Path) -> Path | None:
    """The first symbolic link on the way from ``root`` to ``path`` that leads out of ``top``."""
    try:
        current, parts = root, path.relative_to(root).parts
    except ValueError:
        current, parts = Path(path.anchor), path.parts[1:]
    for part in parts:
        current = current / part
        if current.is_symlink() and not current.resolve().is_relative_to(top):
            return current
    return None


def read_source(path: Path, *, root: Path) -> str:
    """The text of ``path``, a file inside ``root``: at most ``MAX_FILE_BYTES``, UTF-8.

    Raises SourceError saying what is wrong: outside ``root`` (links followed), not a regular
    file, too big, unreadable, not UTF-8.
    """
    resolved = inside(root, path)
    try:
        mode = resolved.stat().st_mode
        if stat.S_ISDIR(mode):
            raise SourceError("is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise SourceError("is not a regular file (a device, pipe or socket): refused")
        size = resolved.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(
                f"file is {size / 1024 / 1024:.1f} MiB, over the {MAX_FILE_BYTES // 1024 // 1024} "
                "MiB limit: split it into several files"
            )
        with resolved.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # bounded even if the file grew meanwhile
    except FileNotFoundError:
        raise SourceError("no such file (a broken link?)") from None
    except PermissionError:
        raise SourceError("cannot read the file: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(
            f"file is over the {MAX_FILE_BYTES // 1024 // 1024} MiB limit: split it into "
            "several files"
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}): save the file as UTF-8", (line, column)
        ) from None
