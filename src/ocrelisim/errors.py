"""Errors raised by ocrelisim.

::

    OcrelisimError
    ├── InvalidInputError (ValueError)   the user can fix it
    │   ├── InvalidParameterError        a spec, covariate or option out of bounds
    │   ├── RegimenError                 regimen text or dosing records
    │   └── DesignError                  a trial design (arms, sizes, endpoints, schedule)
    └── SolverError (RuntimeError)       a solve failed; names the patients and status

Every message names the input, the rule, the value received and the fix. The CLI catches
``OcrelisimError``, prints one line and exits with status 2.
"""

from __future__ import annotations


class OcrelisimError(Exception):
    """Base class of every error ocrelisim raises on purpose."""


class InvalidInputError(OcrelisimError, ValueError):
    """An input the user can fix: wrong value, unit, shape or file content."""


class InvalidParameterError(InvalidInputError):
    """A parameter spec, covariate or option is outside its allowed range."""


class RegimenError(InvalidInputError):
    """Regimen text or dosing records cannot be understood or break a dosing rule."""


class DesignError(InvalidInputError):
    """A trial design is invalid: arms, allocation, size, duration, endpoints or file."""


class SolverError(OcrelisimError, RuntimeError):
    """The ODE solver failed; the message names the patients and the status."""


def bounds_message(name: str, value: object, bounds: tuple[float, float], unit: str) -> str:
    """The one wording for every out-of-bounds value (name, rule, value received, fix)."""
    lo, hi = bounds
    return (
        f"{name} = {value!r} {unit} is outside the allowed range [{lo:g}, {hi:g}] {unit}; "
        f"pass a finite value within that range"
    )
