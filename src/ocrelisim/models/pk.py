"""Two-compartment ocrelizumab PK with time-dependent clearance and an SC depot.

Model [S1][S2] (amounts in mg, time in days)::

    dD/dt  = u_D − ka·D                                          SC depot
    dA1/dt = u_1 + F·ka·D − (CLinf + CLT·g)/V1·A1 − Q/V1·A1 + Q/V2·A2
    dA2/dt = Q/V1·A1 − Q/V2·A2
    g      = exp(−kdes·(t − t_first_dose))
    C      = A1 / V1   (mg/L = µg/mL)

``g`` is written ``exp(kdes·t_first)·exp(−kdes·t)``: the first factor is folded into a kernel
parameter and the second is computed once per block and stage, because the solver keeps kdes
identical within a block (``uniform_column``); the lane loop then has no transcendental calls
and vectorises. SC doses enter the depot whole; the fraction ``1 − F`` is lost with the
absorption flux (so bioavailability needs no solver support).
This module holds the right-hand side, its kernel and the model's declaration, no solver code
and no numbers (they are in :mod:`ocrelisim.parameters`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numba import njit

from .. import engine
from .._types import Float1D, Float2D
from ..engine import ModelSpec
from ..parameters import PK, PKParameters
from ._base import Model, register

if TYPE_CHECKING:
    from ..population import Population

# Kernel parameter rows (derived once per patient, so the right-hand side has no divisions).
_K10I, _K10T, _K12, _K21, _INV_V1, _KA, _F, _KDES = range(8)
KERNEL_PARAMS = ("k10_inf", "k10_t", "k12", "k21", "inv_v1", "ka", "f_sc", "kdes")
# Rows other models that contain the PK need (their kernel rows start with these 8).
K10_INF, INV_V1, KDES = _K10I, _INV_V1, _KDES
STATES = ("depot", "central", "peripheral")
DEPOT, CENTRAL, PERIPHERAL = range(3)


def kernel_parameters(params: Float2D, first_dose: Float1D) -> Float2D:
    """Kernel parameters (n, 8) from individual PK parameters (n, 8).

    ``params`` columns: CLINF, CLT, KDES, V1, V2, Q, KA, F_SC (L/day, L/day, 1/day, L, L, L/day,
    1/day, 1), as in :data:`ocrelisim.population.PK_PARAM_NAMES`; ``first_dose`` (n,) days:
    the origin of the clearance clock.
    """
    clinf, clt, kdes, v1, v2, q, ka, f = (params[:, j] for j in range(8))
    out = np.empty((params.shape[0], 8))
    out[:, _K10I] = clinf / v1
    out[:, _K10T] = clt / v1 * np.exp(kdes * first_dose)
    out[:, _K12] = q / v1
    out[:, _K21] = q / v2
    out[:, _INV_V1] = 1.0 / v1
    out[:, _KA] = ka
    out[:, _F] = f
    out[:, _KDES] = kdes
    return out


def initial_states(n: int) -> Float2D:
    """Initial states (n, 3): no drug anywhere."""
    return np.zeros((n, len(STATES)))


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def lane_derivatives(y, p, u, g, ln):  # type: ignore[no-untyped-def]
    """PK derivatives (depot, central, peripheral) of lane ``ln``; ``g = exp(-kdes·t)``.

    Shared by every model that contains the PK (inlined into their lane loops).
    """
    a1 = y[CENTRAL, ln]
    a2 = y[PERIPHERAL, ln]
    absorbed = p[_KA, ln] * y[DEPOT, ln]
    k12a1 = p[_K12, ln] * a1
    k21a2 = p[_K21, ln] * a2
    d_depot = u[DEPOT, ln] - absorbed
    d_central = (u[CENTRAL, ln] + p[_F, ln] * absorbed
                 - (p[_K10I, ln] + p[_K10T, ln] * g) * a1 - k12a1 + k21a2)
    d_peripheral = u[PERIPHERAL, ln] + k12a1 - k21a2
    return d_depot, d_central, d_peripheral


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def decay(t, p):  # type: ignore[no-untyped-def]
    """``g = exp(-kdes·t)`` for the block (kdes is uniform within a block)."""
    return math.exp(-p[_KDES, 0] * t)


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def rhs(t, y, p, u, dy, n):  # type: ignore[no-untyped-def]
    """Right-hand side for a lane block; see the module docstring."""
    g = decay(t, p)
    for ln in range(n):
        d0, d1, d2 = lane_derivatives(y, p, u, g, ln)
        dy[DEPOT, ln] = d0
        dy[CENTRAL, ln] = d1
        dy[PERIPHERAL, ln] = d2


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def outputs(y, p, o, n):  # type: ignore[no-untyped-def]
    """Output 0: concentration C = A1/V1 in mg/L."""
    for ln in range(n):
        o[0, ln] = y[CENTRAL, ln] * p[_INV_V1, ln]


@engine.kernel_jit
def kernel(b0, b1, run, work):  # type: ignore[no-untyped-def]
    """Blocks b0..b1-1 of the PK model (threads over blocks)."""
    engine.run_blocks(rhs, engine.no_linear_states, outputs, b0, b1, run, work)


PK_MODEL = ModelSpec(
    name="pk",
    states=STATES,
    outputs=("C",),
    output_units=("mg/L",),
    # Amounts in mg (doses of 300-920 mg).
    atol_scale=(1.0, 1.0, 1.0),
    kernel=kernel,
    sort_column=_K10I,
    output_reads=((CENTRAL,),),
    uniform_column=_KDES,
)


PARAMETERS = ("CLINF", "CLT", "KDES", "V1", "V2", "Q", "KA", "F_SC")
"""Individual PK parameters (``Population.params`` columns)."""
UNITS = ("L/day", "L/day", "1/day", "L", "L", "L/day", "1/day", "1")
DOSE_TARGETS = {"IV": "central", "SC": "depot"}
"""IV infusions enter the central compartment, SC injections the depot [S1][S6]."""


def individual(population: Population, settings: PKParameters = PK) -> pd.DataFrame:
    """The population's individual PK parameters (drawn with it: ``Population.params``)."""
    return pd.DataFrame(np.array(population.params), columns=list(PARAMETERS))


def prepare(individual: pd.DataFrame, first_dose: Float1D) -> tuple[Float2D, Float2D]:
    """Kernel parameters and initial states (no drug) from the individual PK parameters."""
    params = individual[list(PARAMETERS)].to_numpy(dtype=np.float64)
    return kernel_parameters(params, first_dose), initial_states(len(individual))


MODEL = register(Model(
    spec=PK_MODEL, parameters=PARAMETERS, units=UNITS, individual=individual, prepare=prepare,
    settings=PK, dose_targets=DOSE_TARGETS, exposure_output="C",
    measured={"C": "modelled from the published population PK [S1][S2]"}))
"""The PK model: concentration only."""
