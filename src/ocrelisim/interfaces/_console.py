"""What every command shares: consoles on the current streams and the one-line answer to a
user's mistake (an :class:`~ocrelisim.errors.OcrelisimError`): red on stderr, exit status 2,
no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from ..errors import OcrelisimError

BAD_INPUT = 2
"""Exit status of every command for a user's mistake."""


def stdout() -> Console:
    """A console on the current stdout (built per command, so that the terminal or a test
    runner's capture is the current one)."""
    return Console(highlight=False)


def stderr() -> Console:
    """A console on the current stderr."""
    return Console(stderr=True, highlight=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn an OcrelisimError into one red line on stderr and exit status :data:`BAD_INPUT`."""
    try:
        yield
    except OcrelisimError as exc:
        message = " ".join(str(exc).split())
        stderr().print(f"error: {message}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
