"""SC calibration to OCARINA II [S8]: AUC geometric mean ratio SC 920 mg / IV 600 mg.

The IV arm of OCR-naive patients is modelled as the label start (2 x 300 mg, days 1 and 15)
[S3][S4]; the SC arm as one 920 mg injection [S6]. f_sc was calibrated to the primary endpoint
(day 1-week 12 GMR 1.29) with ka fixed at 0.3/day (assumption; parameters.py); week 24 is a
prediction, not a fit (markers ``calibration`` and ``prediction``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ocrelisim.parameters import PK
from ocrelisim.population import Population
from ocrelisim.regimens import Regimen
from ocrelisim.simulate import simulate

IV = Regimen.parse("300 mg IV d0, d14")
SC = Regimen.parse("920 mg SC d0")
WEEKS_12_24 = [[0.0, 84.0], [0.0, 168.0]]


def gmr(pk=PK, n=2_000, seed=11):  # type: ignore[no-untyped-def]
    pop = Population.sample(n, seed=seed, pk=pk)
    iv = simulate(IV, pop, None, intervals=WEEKS_12_24, trajectories=False).exposure
    sc = simulate(SC, pop, None, intervals=WEEKS_12_24, trajectories=False).exposure
    assert iv is not None and sc is not None
    return np.exp(np.mean(np.log(sc.auc), axis=0) - np.mean(np.log(iv.auc), axis=0))


@pytest.fixture(scope="module")
def gmr_by_seed() -> dict[int, np.ndarray]:
    """Week-12 and week-24 GMRs for two population samples (seeds 11 and 12)."""
    return {seed: gmr(seed=seed) for seed in (11, 12)}


@pytest.mark.calibration
@pytest.mark.parametrize(("seed", "low", "high"), [(11, 1.285, 1.295), (12, 1.23, 1.35)])
def test_week12_gmr_reproduces_the_primary_endpoint(  # type: ignore[no-untyped-def]
        gmr_by_seed, seed: int, low: float, high: float) -> None:
    """AUC GMR SC 920 mg / IV 2 x 300 mg, day 1 to week 12 (OCARINA II primary endpoint).

    Source: [S8]
    Published: GMR 1.29 (90% CI 1.23-1.35).
    Tolerance: within 0.005 of 1.29 on the sample it was fitted with (seed 11); inside the
    published 90% CI on another sample (seed 12).
    Fits: ``f_sc``, with ``ka`` fixed at 0.3/day (assumption).
    """
    assert low <= gmr_by_seed[seed][0] <= high


@pytest.mark.prediction
@pytest.mark.parametrize("seed", [11, 12])
def test_week24_gmr_lies_in_the_published_interval(gmr_by_seed, seed: int) -> None:  # type: ignore[no-untyped-def]
    """AUC GMR SC 920 mg / IV 2 x 300 mg, day 1 to week 24 (OCARINA II secondary endpoint).

    Source: [S8]
    Published: GMR 1.27 (90% CI 1.21-1.34).
    Tolerance: the published 90% CI, on two population samples.
    Fits: none (``f_sc`` was fitted to the week-12 GMR only).
    """
    assert 1.21 <= gmr_by_seed[seed][1] <= 1.34


@pytest.mark.calibration
@pytest.mark.parametrize("ka", [0.1, 1.0])
def test_ka_is_not_identified_by_the_auc_ratios(ka: float) -> None:
    """Why ``ka`` stays an assumption: other absorption rates fit OCARINA II as well.

    Source: [S8]
    Published: GMR 1.29 (90% CI 1.23-1.35) to week 12, 1.27 (1.21-1.34) to week 24.
    Tolerance: with ``f_sc`` unchanged and ka 0.1 or 1.0/day, both GMRs inside 1.21-1.35.
    Fits: ``f_sc`` (at ka 0.3/day); the figures do not pin ``ka``.
    """
    week12, week24 = gmr(PK.replace(ka=ka))
    assert 1.21 <= week12 <= 1.35 and 1.21 <= week24 <= 1.34
