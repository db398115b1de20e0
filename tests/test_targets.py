"""A project's targets: a remote target's token, read from the environment only."""

from __future__ import annotations

import pytest

from reconciler import errors
from reconciler.targets import Target


def test_token_is_read_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = Target("production", None, "https://x", None, "BOLD_TEST_TOKEN")
    monkeypatch.delenv("BOLD_TEST_TOKEN", raising=False)
    with pytest.raises(errors.TokenMissing) as caught:
        remote.token()
    assert caught.value.exit_code == 7
    assert str(caught.value) == (
        "target 'production' reads its token from $BOLD_TEST_TOKEN, which is not set: "
        "export BOLD_TEST_TOKEN=<your Bold API token> (never put the token in a file)"
    )
    monkeypatch.setenv("BOLD_TEST_TOKEN", "  ")
    with pytest.raises(errors.TokenMissing):
        remote.token()
    monkeypatch.setenv("BOLD_TEST_TOKEN", "s3cret")
    assert remote.token() == "s3cret"
    assert "s3cret" not in repr(remote)
