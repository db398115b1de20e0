"""discover.py: the files the project file's lists name, manifests and sample carts alike: hidden
and other names skipped in a folder, a listed path that is missing or misnamed said at its line
in the project file (and an empty manifests folder too), a file listed by name read."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import carts, errors, manifest

from .test_manifest import make_project, problem_lines

CART = "carts:\n  - name: {name}\n    items:\n      - {{sku: S, product_id: '1', variant_id: '2', price: 100}}\n"


def test_hidden_and_other_files_in_folders_are_ignored(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "pricing/a.yaml": "{}\n",
        "pricing/.draft.yaml": "not: [valid\n",
        "pricing/.git/x.yaml": "- no\n",
        "pricing/notes.txt": "hello\n",
        "pricing/_macros.j2": "{% macro x() %}{% endmacro %}\n",
        "carts/gold.yaml": CART.format(name="gold"),
        "carts/.draft.yaml": "carts: [unclosed\n",
        "carts/notes.txt": "hello\n",
        "carts/more/silver.yml": CART.format(name="silver"),
    }
    project = make_project(tmp_path, files)  # carts/ is read by default
    assert manifest.load_manifests(project, project.target(None)).files == ("pricing/a.yaml",)
    found = carts.load_carts(project)
    assert found.files == ("carts/gold.yaml", "carts/more/silver.yml")
    assert [sample.name for sample in found.carts] == ["gold", "silver"]


def test_manifest_paths_that_are_missing_point_at_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    lines = problem_lines(
        tmp_path, {}, project="manifests:\n  - pricing/\n  - empty\n  - notes.txt\n"
    )
    assert lines == [
        "boldrules.yaml:2:5: manifests[0]: no such file or folder: pricing",
        "boldrules.yaml:3:5: manifests[1]: empty/ holds no *.yaml, *.yml or *.yaml.j2 files",
        "boldrules.yaml:4:5: manifests[2]: notes.txt is not a manifest: name it *.yaml, *.yml or "
        "*.yaml.j2",
    ]


def test_cart_paths_that_are_missing_or_misnamed_point_at_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "carts").mkdir()  # an empty carts folder is no problem: carts are optional
    (tmp_path / "notes.txt").write_text("x")
    project = make_project(
        tmp_path,
        {"pricing/a.yaml": "{}\n"},
        project="manifests: [pricing/]\ncarts:\n  - carts/\n  - gone\n  - notes.txt\n",
    )
    with pytest.raises(errors.ManifestInvalid) as caught:
        carts.load_carts(project)
    assert [str(problem) for problem in caught.value.problems] == [
        "boldrules.yaml:4:5: carts[1]: no such file or folder: gone",
        "boldrules.yaml:5:5: carts[2]: notes.txt is not a cart file: name it *.yaml or *.yml",
    ]


def test_a_cart_file_listed_by_name_is_read_whatever_its_name_starts_with(
    tmp_path: Path,
) -> None:
    # Listed by name, a file is read as a manifest listed by name is: only a folder's hidden
    # names are skipped (a listed `.staff.yaml` was refused as "not a cart file" before).
    project = make_project(
        tmp_path,
        {"pricing/a.yaml": "{}\n", "shared/.staff.yaml": CART.format(name="staff")},
        project="manifests: [pricing/]\ncarts: [shared/.staff.yaml]\n",
    )
    found = carts.load_carts(project)
    assert found.files == ("shared/.staff.yaml",)
    assert [sample.name for sample in found.carts] == ["staff"]
