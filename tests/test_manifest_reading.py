"""manifest/reading.py (through load_manifests): one file read and checked against the schema: every check of the schema
and every kind of bad input (YAML, bytes, size, links) gets its exact located line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import manifest

from .test_manifest import make_project, problem_lines


def test_broken_link_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    os.symlink(tmp_path / "gone.yaml", tmp_path / "pricing" / "link.yaml")
    assert problem_lines(tmp_path, {}) == ["pricing/link.yaml:1:1: no such file (a broken link?)"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "pricing" / "secret.yaml"
    path.parent.mkdir()
    path.write_text("{}\n")
    path.chmod(0)
    assert problem_lines(tmp_path, {}) == [
        "pricing/secret.yaml:1:1: cannot read the file: permission denied"
    ]


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = "# " + "x" * 1000 + "\n"
    lines = problem_lines(tmp_path, {"pricing/big.yaml": big * 67000})
    assert lines == [
        "pricing/big.yaml:1:1: file is 64.1 MiB, over the 64 MiB limit: split it into several files"
    ]


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    # Expanded, the document would hold 9**12 (282 billion) nodes: that this answer comes at
    # all (within the suite's per-test timeout) shows the count stopped at the limit.
    result = problem_lines(tmp_path, {"pricing/bomb.yaml": "\n".join(lines) + "\n"})
    assert result == [
        "pricing/bomb.yaml:6:5: the document expands to more than 500000 nodes "
        "(aliases repeated?): refused"
    ]


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = """\
        rulesets:
          - &base
            external_id: a
            product_selection: {type: PRODUCTS_ALL}
            rules: [{external_id: r, type: DISCOUNT, conditions: [], actions: [{type: FREE_SHIPPING}]}]
          - <<: *base
            external_id: b
        """
    project = make_project(tmp_path, {"pricing/p.yaml": text})
    loaded = manifest.load_manifests(project, project.target(None))
    assert [d.key.name for d in loaded.objects] == ["a", "b"]
    assert loaded.objects[1].data["rules"] == loaded.objects[0].data["rules"]
