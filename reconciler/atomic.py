"""Files written whole or not at all: the one atomic write (saved plans, snapshots, exports).

``write_text`` writes beside the target, then renames over it, so a reader (or a crash) never
sees half a file and a failed write never replaces a good one. It raises ``OSError``: each
caller words the failure for its own command. This module imports nothing of reconciler.
"""

from __future__ import annotations

import contextlib
from pathlib import Path


def write_text(path: Path, text: str, *, make_folders: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one rename; ``make_folders`` creates its folder.

    The temporary ``<name>.tmp`` beside it is removed again when the write fails.
    """
    temporary = path.with_name(path.name + ".tmp")
    if make_folders:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
