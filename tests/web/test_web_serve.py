"""``ocrelisim serve``: its help carries the disclaimer; it runs uvicorn on the given address
with the access log off (nothing about a patient is logged)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from ocrelisim._meta import DISCLAIMER
from ocrelisim.interfaces.cli import app


def test_serve_help_carries_the_disclaimer() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    words = " ".join(result.output.replace("│", " ").split())
    assert DISCLAIMER in words and "--host" in words and "--port" in words


def test_serve_runs_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://0.0.0.0:8123" in result.output
    [call] = calls
    assert call["host"] == "0.0.0.0" and call["port"] == 8123 and call["access_log"] is False
    assert call["app"].title == "ocrelisim"


def test_serve_refuses_a_bad_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2
