"""A lane that goes non-finite fails its block with a SolverError, wherever it sits in the
block, for the explicit (Dormand–Prince) and the linear (Radau) states."""

from __future__ import annotations

import numpy as np
import pytest

import ocrelisim as oc
from ocrelisim.engine import Schedules, SolverOptions, integrate
from ocrelisim.errors import SolverError
from ocrelisim.models import immune, pk

N = 12  # one block of 16 lanes, not a multiple of 8: the remainder is scanned too


def _label_iv_schedule(n: int) -> Schedules:
    ev = oc.Regimen.preset("iv").events()
    return Schedules(sched=np.zeros(n, dtype=np.int64), ev_ptr=np.array([0, ev.time.size]),
                     ev_time=np.asarray(ev.time, dtype=float),
                     ev_cmt=np.full(ev.time.size, pk.CENTRAL, dtype=np.int64),
                     ev_rate=np.asarray(ev.rate, dtype=float),
                     ev_bolus=np.asarray(ev.bolus, dtype=float))


@pytest.mark.parametrize("lane", [0, 3, 8, N - 1])
def test_a_non_finite_explicit_state_fails_the_block(lane: int) -> None:
    params = np.tile([0.17, 0.0, 0.003, 2.78, 2.68, 0.294, 0.25, 0.8], (N, 1))
    params[:, 0] *= np.linspace(1.0, 2.0, N)  # distinct patients, sorted by clearance
    params[lane, 5] = np.nan  # Q: not the sort column, so the lane keeps its place
    P = pk.kernel_parameters(params, np.zeros(N))
    with pytest.raises(SolverError, match="non-finite"):
        integrate(pk.PK_MODEL, P, pk.initial_states(N), _label_iv_schedule(N),
                  np.array([0.0, 1.0, 30.0]), np.zeros((0, 2)), 0.0, SolverOptions(lanes=16))


@pytest.mark.parametrize("lane", [1, 9])
def test_a_non_finite_linear_state_fails_the_block(lane: int) -> None:
    pop = oc.Population.sample(N, seed=4)
    ind = immune.individual(pop)
    P, y0 = immune.prepare(ind, np.zeros(N))
    P[lane, immune._B0] = np.inf  # only the B-cell source: the PK stays finite
    with pytest.raises(SolverError, match="non-finite"):
        integrate(immune.IMMUNE_MODEL, P, y0, _label_iv_schedule(N), np.array([0.0, 1.0, 30.0]),
                  np.zeros((0, 2)), 0.0, SolverOptions(lanes=16), select=(0, 1))
