"""Speed of the individual forecasts (issue 15 item 5), with a baseline timed in the same run.

Virtual patients (:func:`ocrelisim.forecasting._virtual.virtual_patients`: 1-3 CD19 samples,
partly censored) are forecast one by one after a warm-up (kernels from Numba's cache):

* ``map+laplace``: the estimation alone (MAP by BFGS with batched central-difference
  gradients, the Hessian in one call, 1000 importance-weighted Laplace proposals -> 500 draws);
* ``forecast``: everything of :func:`ocrelisim.forecasting.forecast` (also 500 posterior and 500
  population trajectories daily over the history and 2 years, bands, return days, next dose);
* ``baseline MAP``: the same posterior minimised the plain way, scipy BFGS with its own
  finite-difference gradient and one ``simulate`` call per objective value, on the first
  ``--n-base`` patients (with the agreement of the two MAPs);
* ``batch``: :func:`ocrelisim.forecasting.forecast_many` on all patients with 1 worker, one
  process per core and one thread per core.

Wall and CPU seconds (``getrusage``, all threads) per patient; the solves in the per-patient
rows run single-threaded, so CPU per patient is what one core does. Run directly, never
collected by pytest::

    python benchmarks/bench_forecast.py --n 100 --n-base 10
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize, stats

import ocrelisim as oc
from ocrelisim.forecasting import _estimate, forecast, forecast_many
from ocrelisim.forecasting._problem import SIGMA_B_ADD, SIGMA_B_PROP, Problem
from ocrelisim.forecasting._virtual import recovery_summary, virtual_patients


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, _cpu() - c0


def baseline_map(pr: Problem) -> np.ndarray:
    """scipy BFGS, 2-point FD gradient, one ``simulate`` per objective value."""
    obs = pr.record.observations
    times = np.unique(obs["TIME"])
    idx = np.searchsorted(times, obs["TIME"])
    cens = obs["CENSORED"].to_numpy()

    def nlp(z: np.ndarray) -> float:
        ind = pr.individual(np.clip(z, -5.0, 5.0)[None, :])
        pop = oc.Population.from_parameters(ind)
        f = oc.simulate(pr.regimen, pop, times, model="immune", variables=["B"],
                        options=pr.options)["B"][0][idx]
        sd = np.sqrt((SIGMA_B_PROP.value * f) ** 2 + SIGMA_B_ADD.value ** 2)
        ll = np.where(cens, stats.norm.logcdf((obs["LLOQ"] - f) / sd),
                      stats.norm.logpdf(obs["DV"].fillna(0.0), f, sd))
        return float(0.5 * z @ z - ll.sum())

    return np.asarray(optimize.minimize(nlp, np.zeros(pr.eta.n), method="BFGS",
                                        options={"gtol": 1e-5}).x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--n-base", type=int, default=10)
    ap.add_argument("--seed", type=int, default=20261130)
    a = ap.parse_args()
    vp = virtual_patients(a.n, a.seed)
    one = oc.SolverOptions(threads=1)
    forecast(vp.records[0], options=one)  # warm-up: kernels loaded, code paths run once
    rows: dict[str, list[tuple[float, float]]] = {"map+laplace": [], "forecast": [],
                                                  "baseline MAP": []}
    dz = []
    for i, rec in enumerate(vp.records):
        pr = Problem(rec, options=one)
        rng = np.random.default_rng(i)
        post, w, c = timed(lambda pr=pr, rng=rng: _estimate.laplace(pr, 500, rng))
        rows["map+laplace"].append((w, c))
        _, w, c = timed(lambda rec=rec, i=i: forecast(rec, seed=i, options=one))
        rows["forecast"].append((w, c))
        if i < a.n_base:
            z, w, c = timed(lambda pr=pr: baseline_map(pr))
            rows["baseline MAP"].append((w, c))
            dz.append(float(np.max(np.abs(z - post.mode))))
    fcs, w1, c1 = timed(lambda: forecast_many(vp.records, workers=1))
    _, wn, cn = timed(lambda: forecast_many(vp.records, executor="process"))
    _, wt, ct = timed(lambda: forecast_many(vp.records, executor="thread"))
    s = recovery_summary(vp, fcs)
    cores = os.cpu_count()
    print(f"{a.n} virtual patients (seed {a.seed}), {platform.processor() or platform.machine()}"
          f", {cores} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'per patient':<16}{'wall s median':>14}{'wall s mean':>12}{'CPU s mean':>12}")
    for name, v in rows.items():
        arr = np.array(v)
        print(f"{name:<16}{np.median(arr[:, 0]):>14.3f}{arr[:, 0].mean():>12.3f}"
              f"{arr[:, 1].mean():>12.3f}")
    base = np.array(rows["baseline MAP"])[:, 1].mean()
    ours = np.array(rows["map+laplace"])[:a.n_base, 1].mean()
    print(f"baseline MAP CPU / our MAP+Laplace CPU (first {a.n_base}): {base / ours:.1f}x; "
          f"max |z_baseline - z_ours| = {max(dz):.2e}")
    print(f"batch: 1 worker {w1 / a.n:.3f} s/patient wall ({c1 / a.n:.3f} CPU); {cores} "
          f"processes {wn / a.n:.3f} s/patient wall (start-up included; parent CPU "
          f"{cn / a.n:.3f}); {cores} threads {wt / a.n:.3f} s/patient wall ({ct / a.n:.3f} CPU)")
    print("recovery: " + ", ".join(f"{k} {v:.3g}" for k, v in s.items()))


if __name__ == "__main__":
    main()
