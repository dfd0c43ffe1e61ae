"""Heavy runs (``pytest -m slow``): summary-only simulation at scale.

A summary-only run of 200,000 patients must give, for the patients it shares with a small
trajectory run, the same per-cycle exposure metrics: block grouping, row mapping and the
in-kernel reductions must not depend on the population size.
"""

from __future__ import annotations

import numpy as np
import pytest

import ocrelisim as oc

pytestmark = pytest.mark.slow


def test_summary_run_at_scale_matches_small_run() -> None:
    reg = oc.Regimen.preset("iv")
    pop = oc.Population.sample(200_000, seed=11)
    cycles = np.array([[0.0, 168.0], [168.0, 336.0], [336.0, 504.0]])
    big = oc.simulate(reg, pop, None, intervals=cycles, trajectories=False)
    idx = np.arange(0, 200_000, 997)
    small = oc.simulate(reg, pop.subset(idx), None, intervals=cycles, trajectories=False)
    assert big.exposure is not None and small.exposure is not None
    for name in ("auc", "cmax", "ctrough", "time_above"):
        a = getattr(big.exposure, name)[idx]
        b = getattr(small.exposure, name)
        # Different block companions change the shared step sizes: agreement to the
        # solver tolerance, not bitwise.
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-9, err_msg=name)
    assert np.all(np.isfinite(big.exposure.auc)) and np.all(big.exposure.auc > 0)
