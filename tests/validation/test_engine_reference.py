"""Time-varying clearance against an independent tight solver (scipy Radau, rtol 1e-10).

Tolerance: max relative error <= 1e-6 where the reference exceeds 1e-3 of its maximum.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.integrate import solve_ivp

from ocrelisim.engine import Schedules, SolverOptions, integrate
from ocrelisim.models.pk import PK_MODEL, initial_states, kernel_parameters

# CLINF, CLT, KDES, V1, V2, Q, KA, F_SC: typical [S2], two perturbed patients and one with a
# faster CLT decay (the solver must then cut blocks by kdes: uniform_column)
PARAMS = np.array([
    [0.17, 0.0489, np.log(2) / 231.0, 2.78, 2.68, 0.294, 0.25, 0.8],
    [0.26, 0.0900, np.log(2) / 231.0, 3.60, 2.40, 0.350, 0.40, 0.7],
    [0.11, 0.0200, np.log(2) / 231.0, 2.10, 3.10, 0.220, 0.15, 0.9],
    [0.20, 0.1500, np.log(2) / 60.0, 2.50, 2.90, 0.300, 0.30, 0.8],
])
DAYS = np.arange(0.0, 731.0)


def label_pieces(start: float, ml: float, first: float, inc: float, top: float):  # type: ignore[no-untyped-def]
    """(t0, t1, mg/day) pieces of a label rate-step infusion at 1.2 mg/mL [S3]."""
    pieces, t, left, rate = [], start, ml, first
    while left > 1e-12:
        dur_h = min(0.5, left / rate) if rate < top else left / rate
        pieces.append((t, t + dur_h / 24.0, rate * 1.2 * 24.0))
        left -= rate * dur_h
        t += dur_h / 24.0
        rate = min(rate + inc, top)
    return pieces


PIECES = (label_pieces(0.0, 250.0, 30, 30, 180) + label_pieces(14.0, 250.0, 30, 30, 180)
          + [p for d in (168.0, 336.0, 504.0) for p in label_pieces(d, 500.0, 40, 40, 200)])
SC_DAY = 672.0  # then one SC 920 mg dose


def engine(options: SolverOptions) -> np.ndarray:
    ev = sorted([(a, 1, r, 0.0) for a, _, r in PIECES] + [(b, 1, -r, 0.0) for _, b, r in PIECES]
                + [(SC_DAY, 0, 0.0, 920.0)])
    n = PARAMS.shape[0]
    sched = Schedules(
        sched=np.zeros(n, dtype=np.int64), ev_ptr=np.array([0, len(ev)], dtype=np.int64),
        ev_time=np.array([e[0] for e in ev]), ev_cmt=np.array([e[1] for e in ev]),
        ev_rate=np.array([e[2] for e in ev]), ev_bolus=np.array([e[3] for e in ev]))
    sol = integrate(PK_MODEL, kernel_parameters(PARAMS, np.zeros(n)), initial_states(n),
                    sched, DAYS, np.zeros((0, 2)), 0.0, options)
    return sol.out[0]


def radau(p: np.ndarray) -> np.ndarray:
    clinf, clt, kdes, v1, v2, q, ka, f = p

    def rhs(t, y, rate):  # type: ignore[no-untyped-def]
        d, a1, a2 = y
        cl = clinf + clt * np.exp(-kdes * t)
        return [-ka * d, rate + f * ka * d - (cl + q) / v1 * a1 + q / v2 * a2,
                q / v1 * a1 - q / v2 * a2]

    cuts = sorted({0.0, 730.0, SC_DAY, *[a for a, _, _ in PIECES], *[b for _, b, _ in PIECES]})
    y, out = np.zeros(3), np.zeros(DAYS.size)
    for a, b in itertools.pairwise(cuts):
        if a == SC_DAY:
            y[0] += 920.0
        rate = sum(r for s, e, r in PIECES if s <= 0.5 * (a + b) < e)
        inside = (DAYS > a) & (DAYS <= b)
        s = solve_ivp(rhs, (a, b), y, method="Radau", rtol=1e-10, atol=1e-12,
                      t_eval=np.unique(np.r_[DAYS[inside], b]), args=(rate,))
        out[inside] = s.y[1, : inside.sum()] / v1
        y = s.y[:, -1]
    return out


def test_time_varying_clearance_matches_radau():
    got = engine(SolverOptions(rtol=1e-8, lanes=8))
    for i, p in enumerate(PARAMS):
        ref = radau(p)
        big = np.abs(ref) > 1e-3 * np.abs(ref).max()
        err = np.max(np.abs(got[i, big] / ref[big] - 1.0))
        assert err <= 1e-6, f"patient {i}: max relative error {err:.2e}"


def test_clearance_clock_starts_at_the_first_dose():
    # CL(t) uses time since the first dose [S2]: the same regimen started on day 100 gives the
    # same profile shifted by 100 days.
    p = PARAMS[:1]
    opts = SolverOptions(rtol=1e-10, atol=1e-13, lanes=8)
    rate = 600.0 / (3.5 / 24.0)

    def run(start: float, times: np.ndarray) -> np.ndarray:
        ev_t = np.array([start, start + 3.5 / 24.0, start + 168.0, start + 168.0 + 3.5 / 24.0])
        sched = Schedules(sched=np.zeros(1, dtype=np.int64), ev_ptr=np.array([0, 4]),
                          ev_time=ev_t, ev_cmt=np.ones(4, dtype=np.int64),
                          ev_rate=np.array([rate, -rate, rate, -rate]), ev_bolus=np.zeros(4))
        return integrate(PK_MODEL, kernel_parameters(p, np.array([start])), initial_states(1),
                         sched, times, np.zeros((0, 2)),
                         0.0, opts).out[0, 0]

    times = np.arange(1.0, 400.0, 3.0)
    np.testing.assert_allclose(run(100.0, times + 100.0), run(0.0, times), rtol=1e-8)
