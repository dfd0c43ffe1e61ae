"""Compatibility module: the command line now lives in :mod:`ocrelisim.interfaces.cli`."""

from .interfaces.cli import app as app
from .interfaces.cli import main as main

__all__ = ["app", "main"]
