"""Virtual-trial workflows: one design replicated, and power over sample sizes."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import pandas as pd

from .. import trials
from ..errors import InvalidInputError
from ..reports import Report
from ..reports.trial import plot_power_curve, schedule_text, trial_report
from ..trials import TrialDesign
from ._common import Progress, load_design
from ._defaults import DEMO_SEED

DEFAULT_BANK = 4000
"""Patients simulated with the immune model per ocrelizumab regimen (the CLI's default)."""


def trial(design: str | TrialDesign, *, replicates: int = 200, seed: int = DEMO_SEED,
          scheduler: str | None = None, workers: int | None = None,
          bank_size: int = DEFAULT_BANK, progress: Progress | None = None) -> Report:
    """Replicate a virtual trial and compare its estimates with the published ones.

    Parameters
    ----------
    design : str or TrialDesign
        A preset (``opera``, ``opera1``, ``opera2``, ``oratorio``, ``oratorio-hand``), a YAML
        design file, or a design.
    replicates : int
        Replicate trials.
    seed : int
        Seed of the B-cell bank and the replicates.
    scheduler : str, optional
        Dask scheduler address; default: local processes.
    workers : int, optional
        Local worker processes (default: see :func:`ocrelisim.trials.run_trial`).
    bank_size : int
        Patients simulated with the immune model per ocrelizumab regimen.
    progress : callable, optional
        ``progress(stage, done, total)``, in replicate trials.

    Returns
    -------
    Report
        See :func:`ocrelisim.reports.trial_report`; data ``replicates`` and ``summary``.
    """
    spec = load_design(design)
    result = trials.run_trial(spec, replicates, seed, bank_size=bank_size, workers=workers,
                              scheduler=scheduler, progress=_replicates(progress, replicates))
    report = trial_report(result)
    inputs = {**report.inputs, "design": _design_input(design, spec), "scheduler": scheduler,
              "workers": workers}
    return dataclasses.replace(report, inputs=inputs)


def power(design: str | TrialDesign, *, sizes: Sequence[int] = (200, 400, 800),
          replicates: int = 200, seed: int = DEMO_SEED, target: float = 0.8,
          scheduler: str | None = None, workers: int | None = None,
          progress: Progress | None = None) -> Report:
    """Power and sample size by simulation: ``design`` replicated at several total sizes.

    Every size shares the seed and the B-cell bank (common random numbers; see
    :func:`ocrelisim.trials.power_curve`).

    Parameters
    ----------
    design : str or TrialDesign
        A preset, a YAML design file, or a design.
    sizes : sequence of int
        Total sample sizes, each at least the number of arms.
    replicates : int
        Replicate trials per size.
    seed : int
        Seed shared by all sizes.
    target : float
        Target power in (0, 1) for the smallest sufficient size.
    scheduler, workers
        As for :func:`trial`.
    progress : callable, optional
        ``progress(stage, done, total)``, in replicate trials over all sizes.

    Returns
    -------
    Report
        Figure ``power``; data ``power`` (the curve: n, endpoint, arm, control, power and its
        Wilson 95% interval, median estimate); tables "Sample size" and "Power".

    Raises
    ------
    InvalidInputError
        ``target`` outside (0, 1), or a size below the number of arms (before any run).
    """
    spec = load_design(design)
    if not 0.0 < target < 1.0:
        raise InvalidInputError(f"target = {target}; give a power in (0, 1)")
    ns = list(sizes)
    for n in ns:  # every size checked before any work starts
        if n < len(spec.arms):
            raise InvalidInputError(f"sample size {n} in sizes is below the number of arms "
                                    f"({len(spec.arms)})")
        spec.with_(n=n)
    curve = trials.power_curve(spec, ns, replicates, seed, workers=workers, scheduler=scheduler,
                               progress=_replicates(progress, replicates * len(ns)))
    needed = pd.DataFrame({
        "Endpoint": spec.endpoints,
        f"Smallest size with power >= {target:g}": [
            _fmt_size(trials.sample_size(curve, e, target)) for e in spec.endpoints]})
    shown = curve.assign(power=[f"{p:.3f} ({lo:.3f}-{hi:.3f})" for p, lo, hi in zip(
        curve["power"], curve["power_lower"], curve["power_upper"], strict=True)])
    shown = shown[["n", "endpoint", "arm", "control", "power"]]
    return Report(
        title=f"ocrelisim power: {spec.name}", kind="power",
        tables={"Sample size": needed, "Power": shown},
        figures={"power": plot_power_curve(curve, target=target,
                                           title=f"{spec.name}: power by sample size")},
        data={"power": curve},
        notes=[schedule_text(spec), f"{replicates} replicates per size, seed {seed}; power "
                                    f"with Wilson 95% intervals."],
        inputs={"design": _design_input(design, spec), "sizes": ns, "replicates": replicates,
                "seed": seed, "target": target, "scheduler": scheduler, "workers": workers})


def _replicates(progress: Progress | None, total: int) -> Callable[[int, int], None] | None:
    """Progress of a trial run: the B-cell bank first (no count), then the replicates."""
    if progress is None:
        return None
    progress("B-cell bank (immune model)", 0, total)

    def update(done: int, _total: int) -> None:
        progress("replicate trials", done, total)
    return update


def _design_input(given: str | TrialDesign, spec: TrialDesign) -> str:
    return given if isinstance(given, str) else spec.name


def _fmt_size(n: float) -> str:
    return "not reached on this grid" if math.isnan(n) else f"{int(n)}"
