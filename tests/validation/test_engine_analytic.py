"""Engine against closed forms (constant clearance), tolerance max relative error <= 1e-8."""

from __future__ import annotations

import numpy as np
import pytest
from _closed_form import bolus, first_order, infusion, macro

from ocrelisim.engine import Schedules, SolverOptions, integrate
from ocrelisim.models.pk import PK_MODEL, initial_states, kernel_parameters

TIGHT = SolverOptions(rtol=1e-11, atol=1e-14, lanes=8)
# Three patients with different parameters (CLT = 0: constant clearance) so that a swapped
# axis or a lane mix-up cannot pass. Columns: CLINF, CLT, KDES, V1, V2, Q, KA, F_SC.
PARAMS = np.array([
    [0.17, 0.0, 0.003, 2.78, 2.68, 0.294, 0.25, 0.8],
    [0.25, 0.0, 0.003, 3.50, 2.10, 0.400, 0.40, 0.7],
    [0.12, 0.0, 0.003, 2.20, 3.00, 0.200, 0.15, 0.9],
])
TIMES = np.array([0.0, 0.05, 0.1, 0.5, 1.0, 3.0, 14.0, 14.1, 20.0, 90.0, 180.0, 365.0])


def run(events, times=TIMES, intervals=None, threshold=0.0, options=TIGHT, params=PARAMS):  # type: ignore[no-untyped-def]
    ev = sorted(events)
    n = params.shape[0]
    sched = Schedules(
        sched=np.zeros(n, dtype=np.int64), ev_ptr=np.array([0, len(ev)], dtype=np.int64),
        ev_time=np.array([e[0] for e in ev], dtype=float),
        ev_cmt=np.array([e[1] for e in ev], dtype=np.int64),
        ev_rate=np.array([e[2] for e in ev], dtype=float),
        ev_bolus=np.array([e[3] for e in ev], dtype=float))
    win = np.zeros((0, 2)) if intervals is None else np.asarray(intervals, dtype=float)
    first = np.full(n, min(e[0] for e in ev))
    return integrate(PK_MODEL, kernel_parameters(params, first), initial_states(n), sched,
                     np.asarray(times, dtype=float), win, threshold, options,
                     reduce_outputs=(0,))


def closed(kind, *args):  # type: ignore[no-untyped-def]
    out = np.empty((PARAMS.shape[0], TIMES.size))
    for i, (cl, _, _, v1, v2, q, ka, f) in enumerate(PARAMS):
        lam, a = macro(cl, v1, v2, q)
        if len(args) == 1 and callable(args[0]):
            out[i] = kind(TIMES, *args[0](v1, ka, f), lam, a)
        else:
            out[i] = kind(TIMES, *args, v1, lam, a)
    return out


def max_rel(got, want):  # type: ignore[no-untyped-def]
    big = np.abs(want) > 1e-3 * np.abs(want).max(axis=1, keepdims=True)
    return float(np.max(np.abs(got[big] / want[big] - 1.0)))


def test_shapes_are_patients_first():
    sol = run([(0.0, 1, 0.0, 600.0)])
    assert sol.out.shape == (1, 3, TIMES.size)
    assert sol.reductions[0, 0].shape == (3, 0)


def test_bolus_matches_biexponential():
    got = run([(0.0, 1, 0.0, 600.0)]).out[0]
    want = closed(bolus, 0.0, 600.0)
    assert max_rel(got, want) <= 1e-8


def test_constant_rate_infusion_matches_closed_form():
    rate = 600.0 / (3.5 / 24.0)
    got = run([(0.0, 1, rate, 0.0), (3.5 / 24.0, 1, -rate, 0.0)]).out[0]
    want = closed(infusion, 0.0, 3.5 / 24.0, rate)
    assert max_rel(got, want) <= 1e-8


def test_stepped_infusions_superpose():
    # label-like 30-minute rate steps, two infusions 14 days apart (superposition)
    steps = [(0.0, 30.0), (0.5, 60.0), (1.0, 90.0), (1.5, 120.0)]
    events, want = [], np.zeros((3, TIMES.size))
    for start in (0.0, 14.0):
        for t_h, rate_ml_h in steps:
            r = rate_ml_h * 1.2 * 24.0  # mg/day at 1.2 mg/mL
            a, b = start + t_h / 24.0, start + (t_h + 0.5) / 24.0
            events += [(a, 1, r, 0.0), (b, 1, -r, 0.0)]
            want += closed(infusion, a, b, r)
    got = run(events).out[0]
    assert max_rel(got, want) <= 1e-8


def test_sc_first_order_absorption_matches_closed_form():
    got = run([(0.0, 0, 0.0, 920.0)]).out[0]
    want = closed(first_order, lambda v1, ka, f: (0.0, 920.0, f, ka, v1))
    assert max_rel(got, want) <= 1e-8


def test_interval_reductions_match_closed_form():
    rate = 600.0 / (3.5 / 24.0)
    tinf = 3.5 / 24.0
    win = np.array([[0.0, 14.0], [0.0, 168.0], [14.0, 168.0]])
    sol = run([(0.0, 1, rate, 0.0), (tinf, 1, -rate, 0.0)], intervals=win, threshold=50.0)
    fine = np.linspace(0.0, 168.0, 2_000_001)
    for i, (cl, _, _, v1, v2, q, _, _) in enumerate(PARAMS):
        lam, a = macro(cl, v1, v2, q)
        c = infusion(fine, 0.0, tinf, rate, v1, lam, a)
        # AUC: exact integral of the closed form (per exponential term)
        for j, (s, e) in enumerate(win):
            auc = sum(rate / v1 * ai / li * _int_term(li, s, e, tinf) for li, ai in
                      zip(lam, a, strict=True))
            assert sol.reductions[0, 0][i, j] == pytest.approx(auc, rel=1e-8)
            ce = infusion(np.array([e]), 0.0, tinf, rate, v1, lam, a)[0]
            assert sol.reductions[0, 2][i, j] == pytest.approx(ce, rel=1e-8)
        cmax = infusion(np.array([tinf]), 0.0, tinf, rate, v1, lam, a)[0]  # end of infusion
        assert sol.reductions[0, 1][i, 0] == pytest.approx(cmax, rel=1e-8)
        above = np.count_nonzero(c[fine <= 14.0] > 50.0) * (fine[1] - fine[0])
        assert sol.reductions[0, 3][i, 0] == pytest.approx(above, abs=1e-3)


def _int_term(li: float, s: float, e: float, tinf: float) -> float:
    """∫_s^e of (1 - exp(-li·(min(t,tinf)))·exp(-li·(t - min(t,tinf)))) dt, for s >= tinf or
    s = 0, e > tinf."""
    def after(t0: float, t1: float) -> float:  # t >= tinf
        k = 1.0 - np.exp(-li * tinf)
        return k * (np.exp(-li * (t0 - tinf)) - np.exp(-li * (t1 - tinf))) / li

    if s >= tinf:
        return float(after(s, e))
    during = tinf - (1.0 - np.exp(-li * tinf)) / li
    return float(during + after(tinf, e))


def test_results_do_not_depend_on_thread_count():
    events = [(0.0, 1, 3000.0, 0.0), (0.1, 1, -3000.0, 0.0), (30.0, 0, 0.0, 920.0)]
    params = np.repeat(PARAMS, 50, axis=0) * np.linspace(0.9, 1.1, 150)[:, None]
    one = run(events, params=params, options=SolverOptions(rtol=1e-8, lanes=8, threads=1))
    two = run(events, params=params, options=SolverOptions(rtol=1e-8, lanes=8, threads=2))
    np.testing.assert_allclose(one.out, two.out, rtol=1e-12, atol=0.0)
