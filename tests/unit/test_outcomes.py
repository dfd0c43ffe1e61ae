"""Disease model: confirmation rule, effect delay, count process laws, limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocrelisim.outcomes import (
    WEEKS_PER_YEAR,
    Schedule,
    confirmed_progression,
    constant_multipliers,
    effect_delay,
    simulate_outcomes,
)
from ocrelisim.parameters import DISEASE

VISITS = 9  # weeks 0, 12, ..., 96


def _seen(n: int, upto: int = VISITS) -> np.ndarray:
    s = np.zeros((n, VISITS), bool)
    s[:, :upto] = True
    return s


def test_confirmed_progression_rule() -> None:
    edss = np.array([
        [2.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0],   # 12-wk confirmed at visit 1, not 24
        [2.0, 3.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0],   # first rise unconfirmed; onset visit 3
        [6.0, 6.5, 6.5, 6.5, 6.0, 6.0, 6.0, 6.0, 6.0],   # baseline > 5.5: 0.5 suffices
        [5.5, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0],   # baseline 5.5 needs 1.0: no event
        [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0],   # rise at the last visit: unconfirmed
    ])
    ev12, on12 = confirmed_progression(edss, _seen(5), 12, 12)
    ev24, on24 = confirmed_progression(edss, _seen(5), 24, 12)
    assert ev12.tolist() == [True, True, True, False, False]
    assert on12[:3].tolist() == [1, 3, 1]
    assert ev24.tolist() == [False, True, True, False, False]
    assert on24[1:3].tolist() == [3, 1]


def test_confirmation_needs_a_visit_that_took_place() -> None:
    edss = np.array([[2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]])
    assert confirmed_progression(edss, _seen(1, upto=3), 12, 12)[0].tolist() == [False]
    assert confirmed_progression(edss, _seen(1, upto=4), 12, 12)[0].tolist() == [True]


def test_effect_delay_matches_closed_form() -> None:
    # d(t) = t/T ramp then 1: dE/dt = k(d − E), E(0) = 0 → E = t/T − (1 − e^{−kt})/(kT) on the ramp
    t_half, T, h = 20.0, 50.0, 1.0
    k = math.log(2.0) / t_half
    t = np.arange(0.0, 101.0, h)
    d = np.minimum(t / T, 1.0)[None, :]
    e = effect_delay(d, h, t_half)[0]
    ramp = t <= T
    exact = t / T - (1.0 - np.exp(-k * t)) / (k * T)
    np.testing.assert_allclose(e[ramp], exact[ramp], rtol=0, atol=1e-12)
    e_T = exact[ramp][-1]
    after = 1.0 - (1.0 - e_T) * np.exp(-k * (t[~ramp] - T))
    np.testing.assert_allclose(e[~ramp], after, rtol=0, atol=1e-12)


def test_relapse_counts_are_negative_binomial() -> None:
    p = DISEASE.replace(dropout_rms=0.0)
    n, weeks = 40_000, 96
    out = simulate_outcomes(np.random.default_rng(5), constant_multipliers({}, n, weeks), "RMS",
                            Schedule(weeks), p)
    mu = p.arr_untreated.value * weeks / WEEKS_PER_YEAR
    var = mu + p.relapse_alpha.value * mu ** 2
    y = out.relapses
    assert abs(y.mean() - mu) < 4 * math.sqrt(var / n)
    assert y.var() == pytest.approx(var, rel=0.06)
    assert np.all(out.followup == weeks)


def test_no_activity_means_no_events() -> None:
    p = DISEASE.replace(arr_untreated=0.0, pira_rms=0.0, p_rater=0.0, gd_untreated=0.0,
                        t2_untreated=0.0, t25_slope=0.0, t25_sd=0.0)
    out = simulate_outcomes(np.random.default_rng(1), constant_multipliers({}, 500, 96), "RMS",
                            Schedule(96), p)
    assert out.relapses.sum() == 0 and out.gd.sum() == 0 and out.t2.sum() == 0
    assert not out.cdp_event.any()
    assert np.all(out.edss_last == out.edss0)
    assert np.nansum(out.t25_worse) == 0


def test_full_suppression_and_reproducibility() -> None:
    zero = constant_multipliers({"relapse": 0.0, "gd": 0.0, "t2": 0.0}, 300, 96)
    a = simulate_outcomes(np.random.default_rng(9), zero, "RMS", Schedule(96))
    b = simulate_outcomes(np.random.default_rng(9), zero, "RMS", Schedule(96))
    assert a.relapses.sum() == 0 and a.gd.sum() == 0 and a.t2.sum() == 0
    np.testing.assert_array_equal(a.cdp_time, b.cdp_time)
    np.testing.assert_array_equal(a.followup, b.followup)


def test_ppms_has_no_relapses_and_progresses() -> None:
    out = simulate_outcomes(np.random.default_rng(2), constant_multipliers({}, 2000, 120),
                            "PPMS", Schedule(120, mri_weeks=()))
    assert out.relapses.sum() == 0
    assert 0.2 < out.cdp_event[:, 0].mean() < 0.6
    assert np.all((out.edss0 >= 2.5) & (out.edss0 <= 7.0))  # entry 3.0-6.5 ± rater error
