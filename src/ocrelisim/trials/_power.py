"""Power and sample size by simulation: replicate trials over a grid of sizes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ..errors import DesignError
from ..parameters import DISEASE, IMMUNE, DiseaseParameters, ImmuneParameters
from ._design import TrialDesign
from ._run import DEFAULT_BANK, PatientBank, build_bank, run_trial


def power_curve(design: TrialDesign, sizes: Sequence[int], replicates: int = 200,
                seed: int = 0, *, bank: PatientBank | None = None,
                bank_size: int = DEFAULT_BANK, workers: int | None = None,
                scheduler: Any = None, params: DiseaseParameters = DISEASE,
                immune: ImmuneParameters = IMMUNE,
                progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Power of every endpoint and comparison at each total size in ``sizes``.

    Every size uses the same seed and B-cell bank (common random numbers), so that the curve
    is smooth in size; power comes with a Wilson 95% interval over ``replicates``. An
    event-driven design keeps its events per patient at every size
    (:meth:`TrialDesign.resized`).

    Returns
    -------
    pandas.DataFrame
        Columns ``n, endpoint, arm, control, power, power_lower, power_upper, estimate`` (median
        estimate over replicates).
    """
    ns = list(sizes)
    if not ns:
        raise DesignError("sizes is empty; give total sample sizes, e.g. [200, 400, 800]")
    for n in ns:
        if isinstance(n, bool) or not isinstance(n, int) or n < len(design.arms):
            raise DesignError(f"sample size {n!r} must be a whole number >= the number of arms "
                              f"({len(design.arms)})")
    if bank is None:
        bank = build_bank(design, bank_size, seed, params=params, immune=immune)
    frames = []
    for i, n in enumerate(ns):
        def step(done: int, total: int, i: int = i) -> None:
            if progress:
                progress(i * total + done, len(ns) * total)

        res = run_trial(design.resized(n), replicates, seed, bank=bank, workers=workers,
                        scheduler=scheduler, params=params, progress=step)
        s = res.summary()
        s.insert(0, "n", n)
        frames.append(s[["n", "endpoint", "arm", "control", "power", "power_lower",
                         "power_upper", "estimate"]])
    return pd.concat(frames, ignore_index=True)


def sample_size(curve: pd.DataFrame, endpoint: str, target: float = 0.8) -> float:
    """Smallest size on ``curve`` whose estimated power reaches ``target`` (NaN if none).

    With several comparisons the smallest size at which all of them reach the target.
    """
    if not 0.0 < target < 1.0:
        raise DesignError(f"target power {target!r} must lie in (0, 1)")
    sub = curve[curve["endpoint"] == endpoint]
    if sub.empty:
        raise DesignError(f"endpoint {endpoint!r} is not on the curve; it has "
                          f"{sorted(curve['endpoint'].unique())}")
    ok = sub.groupby("n")["power"].min()
    hit = ok[ok >= target]
    return float(hit.index.min()) if not hit.empty else math.nan
