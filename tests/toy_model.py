"""A third model, defined outside the package: one compartment and one turnover state.

It shows that a model is data plus three Numba functions and a three-line kernel: registering
it touches no engine or ``simulate`` code. ``tests/unit/test_models.py`` checks it against
closed forms and a reference solver; ``tests/conftest.py`` compiles its kernel with the
package's. The numbers are arbitrary test values, not ocrelizumab's.

    dA/dt = u − k·A                       amount, mg (IV doses only)
    dR/dt = kin − kout·(1 + C/(EC50 + C))·R,   C = A/V     a response, linear in R
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from ocrelisim import engine
from ocrelisim.engine import ModelSpec
from ocrelisim.models import Model, given_columns

NAME = "toy"
PARAMETERS = ("K", "V", "KIN", "KOUT", "EC50")
TYPICAL = {"K": 0.1, "V": 5.0, "KIN": 2.0, "KOUT": 0.5, "EC50": 10.0}
OMEGA = {"K": 0.2, "V": 0.1}  # log-normal IIV on K and V: the model's 2 random effects


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def rhs(t, y, p, u, dy, n):  # type: ignore[no-untyped-def]
    for ln in range(n):
        dy[0, ln] = u[0, ln] - p[0, ln] * y[0, ln]


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def linear(s, t, y, p, g, lam, n):  # type: ignore[no-untyped-def]
    for ln in range(n):
        c = y[0, ln] / p[1, ln]
        g[s, ln] = p[2, ln]
        lam[s, ln] = p[3, ln] * (1.0 + c / (p[4, ln] + c))


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def outputs(y, p, o, n):  # type: ignore[no-untyped-def]
    for ln in range(n):
        o[0, ln] = y[0, ln] / p[1, ln]
    for ln in range(n):
        o[1, ln] = y[1, ln]


@engine.kernel_jit
def kernel(b0, b1, run, work):  # type: ignore[no-untyped-def]
    engine.run_blocks(rhs, linear, outputs, b0, b1, run, work)


def individual(population, settings):  # type: ignore[no-untyped-def]
    z = population.eta(MODEL)
    cols = {k: np.full(population.n, v) for k, v in settings.items()}
    if z is not None:
        cols["K"] = cols["K"] * np.exp(OMEGA["K"] * z[:, 0])
        cols["V"] = cols["V"] * np.exp(OMEGA["V"] * z[:, 1])
    frame = pd.DataFrame(cols)[list(PARAMETERS)]
    given = given_columns(population, MODEL)  # parameters given with the population win
    for c in given.columns:
        frame[c] = given[c].to_numpy()
    return frame


def prepare(individual, first_dose):  # type: ignore[no-untyped-def]
    P = individual[list(PARAMETERS)].to_numpy(dtype=np.float64)
    y0 = np.zeros((len(individual), 2))
    y0[:, 1] = P[:, 2] / P[:, 3]  # response at its baseline kin/kout
    return P, y0


SPEC = ModelSpec(name=NAME, states=("amount", "response"), outputs=("C", "R"),
                 output_units=("mg/L", "1"), atol_scale=(1.0, 1.0), kernel=kernel,
                 output_reads=((0,), (1,)), n_explicit=1, linear_reads=((0,),))
MODEL = Model(spec=SPEC, parameters=PARAMETERS, units=("1/day", "L", "1/day", "1/day", "mg/L"),
              individual=individual, prepare=prepare, settings=TYPICAL,
              dose_targets={"IV": "amount"}, n_eta=2, stream_key=9, exposure_output="C")
