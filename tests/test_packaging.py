"""The wheel ships every package of ``reconciler``: setuptools takes an explicit list, so a new
package folder left off it is missing from every install but an editable one."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "reconciler").rglob("__init__.py")
    }
    folders |= {"reconciler.schemas"}  # data only (JSON Schemas), shipped as a package
    assert sorted(folders - listed) == []
    assert sorted(listed - folders) == []
