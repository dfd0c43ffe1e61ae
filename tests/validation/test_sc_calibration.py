"""SC calibration to OCARINA II [S8]: AUC geometric mean ratio SC 920 mg / IV 600 mg.

The IV arm of OCR-naive patients is modelled as the label start (2 x 300 mg, days 1 and 15)
[S3][S4]; the SC arm as one 920 mg injection [S6]. f_sc was calibrated to the primary endpoint
(day 1-week 12 GMR 1.29) with ka fixed at 0.3/day (assumption; parameters.py); week 24 is a
check, not a fit.
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


def test_week12_gmr_reproduces_the_primary_endpoint():
    week12, _ = gmr()
    assert week12 == pytest.approx(1.29, abs=0.005)  # [S8] GMR 1.29 (90% CI 1.23-1.35)


def test_week24_gmr_lies_in_the_published_interval():
    _, week24 = gmr()
    assert 1.21 <= week24 <= 1.34  # [S8] GMR 1.27 (90% CI 1.21-1.34)


def test_calibration_holds_for_another_population_sample():
    week12, week24 = gmr(seed=12)
    assert 1.23 <= week12 <= 1.35 and 1.21 <= week24 <= 1.34


@pytest.mark.parametrize("ka", [0.1, 1.0])
def test_ka_is_not_identified_by_the_auc_ratios(ka: float):
    # documents why ka stays an assumption: with f_sc unchanged, ka 0.1-1/day still gives ratios
    # inside both published intervals
    week12, week24 = gmr(PK.replace(ka=ka))
    assert 1.21 <= week12 <= 1.35 and 1.21 <= week24 <= 1.34
