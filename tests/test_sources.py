"""sources.py: files read only from inside the project, within a size bound, as UTF-8, and every
refusal a message with the line and column to look at.

The manifest and project-file tests show these lines inside ``validate``'s output; here each rule
is held at the module's own edge (``read_source``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from reconciler import sources

OUTSIDE_ADVICE = (
    "boldrules reads only files inside the folder holding boldrules.yaml; copy the file in instead"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one manifest, beside a folder that is not the project's."""
    root = tmp_path / "shop"
    (root / "pricing").mkdir(parents=True)
    (root / "pricing" / "spring.yaml").write_text("rulesets: []\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.yaml").write_text("token: s3cret\n")
    return root


def refusal(path: Path, root: Path) -> tuple[str, tuple[int, int]]:
    with pytest.raises(sources.SourceError) as caught:
        sources.read_source(path, root=root)
    return caught.value.message, caught.value.position


# --- reading only inside the project ---------------------------------------------------------


def test_a_file_inside_the_project_is_read_as_text_without_its_byte_order_mark(
    project: Path,
) -> None:
    (project / "pricing" / "bom.yaml").write_bytes(b"\xef\xbb\xbfrulesets: []\n")
    assert sources.read_source(project / "pricing" / "spring.yaml", root=project) == (
        "rulesets: []\n"
    )
    assert sources.read_source(project / "pricing" / "bom.yaml", root=project) == "rulesets: []\n"


def test_a_link_inside_the_project_is_followed(project: Path) -> None:
    os.symlink("spring.yaml", project / "pricing" / "alias.yaml")
    assert sources.read_source(project / "pricing" / "alias.yaml", root=project) == (
        "rulesets: []\n"
    )


def test_a_link_leading_out_is_refused_naming_its_target(project: Path) -> None:
    os.symlink("../../outside/secret.yaml", project / "pricing" / "shared.yaml")
    assert refusal(project / "pricing" / "shared.yaml", project) == (
        f"is a link to '../../outside/secret.yaml', outside the project folder: {OUTSIDE_ADVICE}",
        (1, 1),
    )


def test_a_folder_link_leading_out_is_the_link_named(project: Path) -> None:
    os.symlink("../../outside", project / "pricing" / "away")
    message, _ = refusal(project / "pricing" / "away" / "secret.yaml", project)
    assert message == (
        "is a link to '../../outside', outside the project folder (away is a link): "
        + OUTSIDE_ADVICE
    )


def test_a_path_outside_the_project_is_refused_without_being_read(project: Path) -> None:
    assert refusal(project / ".." / "outside" / "secret.yaml", project) == (
        "is outside the project folder: boldrules reads only files inside the folder holding "
        "boldrules.yaml",
        (1, 1),
    )


def test_files_under_git_are_never_read(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[credential]\n")
    assert refusal(project / ".git" / "config", project) == (
        "is inside .git: boldrules does not read git's own files",
        (1, 1),
    )


def test_a_link_that_leads_back_to_itself_is_refused(project: Path) -> None:
    os.symlink("loop.yaml", project / "pricing" / "loop.yaml")
    message, _ = refusal(project / "pricing" / "loop.yaml", project)
    assert message == "is a link that leads back to itself: remove the link"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: os.mkfifo(p), "is not a regular file (a device, pipe or socket): refused"),
        (lambda p: os.symlink("gone.yaml", p), "no such file (a broken link?)"),
    ],
    ids=["folder", "pipe", "broken link"],
)
def test_what_is_not_a_readable_file_is_said(project: Path, make: Any, message: str) -> None:
    path = project / "pricing" / "odd.yaml"
    make(path)
    assert refusal(path, project) == (message, (1, 1))


# --- bounded reading -------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(project: Path) -> None:
    big = project / "pricing" / "big.yaml"
    with big.open("wb") as stream:  # sparse: costs no disk, and is never read
        stream.truncate(sources.MAX_FILE_BYTES + 1)
    assert refusal(big, project) == (
        "file is 64.0 MiB, over the 64 MiB limit: split it into several files",
        (1, 1),
    )


def test_a_file_at_the_size_limit_is_read(project: Path) -> None:
    path = project / "pricing" / "edge.yaml"
    path.write_bytes(b"#" * (sources.MAX_FILE_BYTES - 1) + b"\n")
    assert len(sources.read_source(path, root=project)) == sources.MAX_FILE_BYTES


def test_text_that_is_not_utf8_is_located_at_its_first_bad_byte(project: Path) -> None:
    path = project / "pricing" / "latin1.yaml"
    path.write_bytes(b"rulesets:\n  - public_name: Caf\xe9\n")
    assert refusal(path, project) == (
        "not UTF-8 text (byte 0xe9): save the file as UTF-8",
        (2, 21),
    )
