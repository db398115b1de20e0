"""Fixtures for the apply tests: a sandbox served on 127.0.0.1, as a real shop is reached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    """A fresh sandbox holding our app's token, served on a free port: (sandbox, its URL)."""
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    with serve(sandbox, port=0) as server:
        yield sandbox, server.url
