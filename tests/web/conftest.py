"""Fixtures of the web tests: one app and one TestClient per session (no server, no network).

``raise_server_exceptions=True``: an exception escaping a handler fails the test instead of
becoming a 500, so "never a 5xx" is checked by every request these tests send.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ocrelisim.interfaces.web import create_app


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=True) as c:
        yield c
