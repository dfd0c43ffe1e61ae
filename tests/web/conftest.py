"""Fixtures of the web tests: one app and one TestClient per session (no server, no network).

A bug escaping a handler is answered 500 by the app's guard (its type logged, no traceback);
every test asserts the status it expects, so "never a 5xx" is checked by each request.
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
