"""Shared pieces of the workflows: inputs from text, time grids, progress, parameter notes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import trials
from .._types import Float1D
from ..errors import InvalidInputError
from ..io import read_table
from ..parameters import MAINTENANCE_INTERVAL, ImmuneParameters
from ..regimens import PRESETS, Regimen, read_nonmem
from ..trials import TrialDesign
from ._defaults import DEMO_SEED as DEMO_SEED

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: what is running now (e.g. ``"simulating iv"``) and the
units of work (patients or replicate trials) done out of the workflow's total."""

def check_days(days: float, step: float = 1.0) -> None:
    """A finite period ``days`` > 0 and an output step in (0, days], else InvalidInputError."""
    if not (math.isfinite(days) and days > 0):
        raise InvalidInputError(f"days = {days!r}; give a finite number of days > 0")
    if not (math.isfinite(step) and 0 < step <= days):
        raise InvalidInputError(f"step = {step!r} day; give a step > 0 and <= days")


def time_grid(days: float, step: float, extra: Sequence[float] = ()) -> Float1D:
    """Output times 0, step, ..., days (day), plus ``extra`` times inside (0, days)."""
    check_days(days, step)
    n = math.floor(days / step + 1e-9)
    grid = step * np.arange(n + 1, dtype=np.float64)
    grid = grid[grid < days * (1.0 - 1e-12)]  # ``days`` itself is appended exactly below
    more = np.asarray([t for t in extra if 0.0 < t < days], dtype=np.float64)
    out: Float1D = np.unique(np.concatenate([grid, more, [days]]))
    return out


def covering_doses(days: float) -> int:
    """Maintenance doses of a preset that start before ``days`` (24-weekly after day 0)."""
    return max(0, math.ceil(days / MAINTENANCE_INTERVAL.value) - 1)


def _is_table(spec: str) -> bool:
    return spec.lower().endswith((".csv", ".csv.gz", ".parquet"))


def load_regimens(spec: str, maintenance_doses: int
                  ) -> tuple[tuple[Regimen, ...], tuple[object, ...], pd.DataFrame | None]:
    """Regimens, their subject IDs and covariates (NONMEM files) from a preset, text or file.

    A preset name or regimen text gives one regimen (ID ``None``); a NONMEM table file gives
    one regimen per ID and the covariates carried in the records.
    """
    if _is_table(spec):
        data = read_nonmem(read_table(spec))
        return data.regimens, data.ids, data.covariates
    if spec in PRESETS:
        return (Regimen.preset(spec, maintenance_doses=maintenance_doses),), (None,), None
    return (Regimen.parse(spec),), (None,), None


def load_design(spec: str | TrialDesign) -> TrialDesign:
    """A design as given, a preset name, or a YAML design file."""
    if isinstance(spec, TrialDesign):
        return spec
    if spec.lower().endswith((".yaml", ".yml")) or Path(spec).is_file():
        return TrialDesign.from_yaml(spec)
    return trials.preset(spec)


def overrides(params: Any, defaults: Any) -> dict[str, float]:
    """Parameter values that differ from the package defaults, by name (for ``inputs``)."""
    return {f.name: getattr(params, f.name).value for f in fields(params)
            if getattr(params, f.name).value != getattr(defaults, f.name).value}


def immune_inputs(immune: ImmuneParameters, defaults: ImmuneParameters) -> dict[str, Any]:
    """The ``inputs`` entry for immune parameters: ``"default"`` or the changed values."""
    changed = overrides(immune, defaults)
    return {"immune_parameters": changed or "default"}


def stage(progress: Progress | None, text: str, offset: int,
          total: int) -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` callback for one run, reporting ``offset + done`` of
    ``total`` under ``text``; None without ``progress``."""
    if progress is None:
        return None
    progress(text, offset, total)

    def update(done: int, _total: int) -> None:
        progress(text, offset + done, total)
    return update
