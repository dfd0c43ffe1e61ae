"""The shared reference benchmark model (../shared/perf/model.py) on ocrelisim's engine.

PK as in ocrelisim.models.pk (two compartments, CL(t) = CLinf + CLT·exp(-kdes·t)) plus the
benchmark's B-cell placeholder, dB/dt = kin - kout·B·(1 + Emax·C/(EC50 + C)), in three variants: B
as a linear state (Radau IIA after each Dormand–Prince step; the default), B explicit (every state
by Dormand–Prince) and the PK alone. The PD numbers are the benchmark's placeholders
(shared/perf/README.md), not a calibrated model: they live here, not in the package. This module
also shows how a model plugs into the solver: block right-hand side, linear-state and output
functions and a 3-line kernel; no engine code.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numba import njit

from ocrelisim import engine
from ocrelisim.engine import ModelSpec

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
def _pk(t, y, p, u, dy, n):  # type: ignore[no-untyped-def]
    g = math.exp(-p[_KDES, 0] * t)  # kdes uniform within a block (uniform_column)
    for ln in range(n):
        a1 = y[0, ln]
        a2 = y[1, ln]
        k12a1 = p[_K12, ln] * a1
        k21a2 = p[_K21, ln] * a2
        dy[0, ln] = u[0, ln] - (p[_K10I, ln] + p[_K10T, ln] * g) * a1 - k12a1 + k21a2
        dy[1, ln] = k12a1 - k21a2


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def rhs_explicit(t, y, p, u, dy, n):  # type: ignore[no-untyped-def]
    """PK and B cells, all by Dormand–Prince."""
    _pk(t, y, p, u, dy, n)
    for ln in range(n):
        c = y[0, ln] * p[_INV_V1, ln]
        dy[2, ln] = KIN - KOUT * y[2, ln] * (1.0 + EMAX * c / (EC50 + c))


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def linear(s, t, y, p, g, lam, n):  # type: ignore[no-untyped-def]
    """B cells as a linear state: dB/dt = kin − kout·(1 + Emax·C/(EC50 + C))·B."""
    for ln in range(n):
        c = y[0, ln] * p[_INV_V1, ln]
        g[s, ln] = KIN
        lam[s, ln] = KOUT * (1.0 + EMAX * c / (EC50 + c))


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def outputs(y, p, o, n):  # type: ignore[no-untyped-def]
    for ln in range(n):
        o[0, ln] = y[0, ln] * p[_INV_V1, ln]
        o[1, ln] = y[2, ln]


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def outputs_pk(y, p, o, n):  # type: ignore[no-untyped-def]
    for ln in range(n):
        o[0, ln] = y[0, ln] * p[_INV_V1, ln]


@engine.kernel_jit
def kernel(b0, b1, run, work):  # type: ignore[no-untyped-def]
    engine.run_blocks(_pk, linear, outputs, b0, b1, run, work)


@engine.kernel_jit
def kernel_explicit(b0, b1, run, work):  # type: ignore[no-untyped-def]
    engine.run_blocks(rhs_explicit, engine.no_linear_states, outputs, b0, b1, run, work)


@engine.kernel_jit
def kernel_pk(b0, b1, run, work):  # type: ignore[no-untyped-def]
    engine.run_blocks(_pk, engine.no_linear_states, outputs_pk, b0, b1, run, work)


BENCH_MODEL = ModelSpec(
    name="shared-perf-pkpd",
    states=("central", "peripheral", "bcells"),
    outputs=("C", "B"),
    output_units=("mg/L", "cells/uL"),
    atol_scale=(1.0, 1.0, 1.0),
    kernel=kernel,
    sort_column=_K10I,
    output_reads=((0,), (2,)),
    uniform_column=_KDES,
    n_explicit=2,
)
"""PK by Dormand–Prince, B cells as a linear state (Radau IIA): the default."""

BENCH_MODEL_EXPLICIT = replace(BENCH_MODEL, name="shared-perf-pkpd-explicit",
                               kernel=kernel_explicit, n_explicit=None)
"""Every state by Dormand–Prince (the engine before linear states)."""

BENCH_MODEL_PK = ModelSpec(
    name="shared-perf-pk", states=("central", "peripheral"), outputs=("C",),
    output_units=("mg/L",), atol_scale=(1.0, 1.0), kernel=kernel_pk, sort_column=_K10I,
    output_reads=((0,),), uniform_column=_KDES)
"""The PK part alone (C only): the reference throughput for the immune states (issue #4)."""
