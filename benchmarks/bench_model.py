"""The shared reference benchmark model (../shared/perf/model.py) on ocrelisim's engine.

PK as in ocrelisim.pk (two compartments, CL(t) = CLinf + CLT·exp(-kdes·t) carried by the state g)
plus the benchmark's B-cell placeholder, dB/dt = kin - kout·B·(1 + Emax·C/(EC50 + C)). The PD
numbers are the benchmark's placeholders (shared/perf/README.md), not a calibrated model: they
live here, not in the package. This module also shows how a model plugs into the solver: a
block right-hand side, a block output function and a 15-line kernel; no solver code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ocrelisim import solver
from ocrelisim.solver import ModelSpec

B0 = 200.0  # cells/µL, benchmark placeholder
KOUT = math.log(2.0) / 35.0  # 1/day, benchmark placeholder
KIN = KOUT * B0
EMAX, EC50 = 35.0, 0.5  # -, mg/L, benchmark placeholders
KDES = math.log(2.0) / (33.0 * 7.0)  # [S2]

# kernel parameter rows
_K10I, _K10T, _K12, _K21, _INV_V1, _KDES = range(6)


def kernel_parameters(p: np.ndarray) -> np.ndarray:  # first dose at t = 0
    """From shared/perf parameter rows [CLinf, CLT, V1, V2, Q, WT] to kernel rows (n, 6)."""
    clinf, clt, v1, v2, q = (p[:, j] for j in range(5))
    out = np.empty((p.shape[0], 6))
    out[:, _K10I] = clinf / v1
    out[:, _K10T] = clt / v1
    out[:, _K12] = q / v1
    out[:, _K21] = q / v2
    out[:, _INV_V1] = 1.0 / v1
    out[:, _KDES] = KDES
    return out


def initial_states(n: int) -> np.ndarray:
    y0 = np.zeros((n, 3))
    y0[:, 2] = B0
    return y0


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def rhs(t, y, p, u, dy, n):  # type: ignore[no-untyped-def]
    g = math.exp(-p[_KDES, 0] * t)  # kdes uniform within a block (uniform_column)
    for ln in range(n):
        a1 = y[0, ln]
        a2 = y[1, ln]
        b = y[2, ln]
        c = a1 * p[_INV_V1, ln]
        k12a1 = p[_K12, ln] * a1
        k21a2 = p[_K21, ln] * a2
        dy[0, ln] = u[0, ln] - (p[_K10I, ln] + p[_K10T, ln] * g) * a1 - k12a1 + k21a2
        dy[1, ln] = k12a1 - k21a2
        dy[2, ln] = KIN - KOUT * b * (1.0 + EMAX * c / (EC50 + c))


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def outputs(y, p, o, n):  # type: ignore[no-untyped-def]
    for ln in range(n):
        o[0, ln] = y[0, ln] * p[_INV_V1, ln]
        o[1, ln] = y[2, ln]


_N_OUT = 2  # model outputs (a compile-time constant of the kernel)


@njit(cache=True, error_model="numpy", fastmath={"contract"}, parallel=True)
def kernel(b0, b1, starts, lanes, P, y0, sched_of, rows, dense, ev_ptr, ev_time, ev_cmt, ev_rate,  # type: ignore[no-untyped-def]
           ev_bolus, t_out, extra, t_end, intervals, threshold, rtol, atol, h_init, max_steps,
           sel, out, red, stats):
    n_out = _N_OUT
    for b in prange(b0, b1):
        first = starts[b]
        n = starts[b + 1] - first
        st, na, nr = solver.integrate_block(
            rhs, outputs, first, n, lanes, P, y0, sched_of, rows, dense, ev_ptr, ev_time, ev_cmt,
            ev_rate, ev_bolus, t_out, extra, t_end, intervals, threshold, rtol, atol, h_init,
            max_steps, n_out, sel, out, red)
        stats[b, 0] = st
        stats[b, 1] = na
        stats[b, 2] = nr


BENCH_MODEL = ModelSpec(
    name="shared-perf-pkpd",
    states=("central", "peripheral", "bcells"),
    outputs=("C", "B"),
    output_units=("mg/L", "cells/uL"),
    atol_scale=(1.0, 1.0, 1.0),
    kernel=kernel,
    sort_column=_K10I,
    output_states=(0, 2),
    uniform_column=_KDES,
)
