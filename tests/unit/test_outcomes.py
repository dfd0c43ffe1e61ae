"""Disease model: confirmation rules, effect delay, count and step process laws, limits.

The step-hazard laws (EDSS scale, EDSS dependence, covariate factors) and the walk's mean
percentage change are checked against their closed forms with noise switched off."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocrelisim.outcomes import (
    EDSS_SCORES,
    WEEKS_PER_YEAR,
    Schedule,
    confirmed_progression,
    confirmed_worsening,
    constant_multipliers,
    covariate_multiplier,
    edss_index,
    edss_multiplier,
    edss_score,
    effect_delay,
    simulate_outcomes,
)
from ocrelisim.parameters import DISEASE, DiseaseParameters

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


# --- disability that depends on the patient (issue 12 item 3) --------------------------------

def _quiet(**kw: float) -> DiseaseParameters:
    """No dropout, rater error, frailty or relapses: the step process alone."""
    base = dict(dropout_ppms=0.0, dropout_rms=0.0, p_rater=0.0, pira_shape=100.0,
                arr_untreated=0.0)
    return DISEASE.replace(**{**base, **kw})


def test_edss_scale_has_no_half_point() -> None:
    assert EDSS_SCORES[:3].tolist() == [0.0, 1.0, 1.5] and EDSS_SCORES[-1] == 9.5
    assert EDSS_SCORES.size == 19
    np.testing.assert_array_equal(edss_score(edss_index(EDSS_SCORES)), EDSS_SCORES)
    out = simulate_outcomes(np.random.default_rng(3), constant_multipliers({}, 4000, 96), "RMS",
                            Schedule(96))
    assert set(np.unique(out.edss0)) <= set(EDSS_SCORES) and 0.5 not in out.edss0
    assert set(np.unique(out.edss_last)) <= set(EDSS_SCORES)
    assert (out.edss0 == 0.0).any() and (out.edss0 == 1.0).any()  # the grid's low end is used


@pytest.mark.parametrize("beta", [-0.75, 0.0, 0.5])
def test_step_hazard_follows_the_edss_law(beta: float) -> None:
    """No frailty, no noise: a patient at baseline EDSS e has no step in 12 weeks with
    probability exp(−12·h(e)), h = pira/52.18·exp(beta·(e − 4.7)) (PPMS reference 4.7);
    tolerance 4 binomial SE per baseline group."""
    p = _quiet(edss_beta=beta)
    n, weeks = 60_000, 12
    out = simulate_outcomes(np.random.default_rng(11), constant_multipliers({}, n, weeks),
                            "PPMS", Schedule(weeks, 12, (), (12,)), p)
    for e in (3.0, 4.5, 6.5):
        sel = out.edss0 == e
        h = p.pira_ppms.value / WEEKS_PER_YEAR * math.exp(beta * (e - 4.7))
        want = math.exp(-weeks * h)
        got = float(np.mean(out.edss_last[sel] == e))
        assert abs(got - want) < 4 * math.sqrt(want * (1 - want) / sel.sum()), (e, got, want)
    multipliers = edss_multiplier(p, "PPMS", np.array([3.0, 9.5]))
    assert multipliers[1] == 0.0 and multipliers[0] == pytest.approx(math.exp(beta * -1.7))


def test_covariate_factor_is_normalised_and_directional() -> None:
    rng = np.random.default_rng(2)
    v = rng.gamma(1 / DISEASE.lesion_alpha.value, DISEASE.lesion_alpha.value, 400_000)
    p = DISEASE.replace(mri_beta=0.5, age_beta=0.03, duration_beta=0.05)
    ref_age = 44.7
    f = covariate_multiplier(p, "PPMS", np.full(v.size, ref_age), np.full(v.size, 6.7), v)
    assert f.mean() == pytest.approx(1.0, abs=0.01)          # MRI factor has mean 1
    older = covariate_multiplier(p, "PPMS", np.array([ref_age + 10.0]), np.array([6.7]),
                                 np.array([1.0]))
    longer = covariate_multiplier(p, "PPMS", np.array([ref_age]), np.array([11.7]),
                                  np.array([1.0]))
    base = covariate_multiplier(p, "PPMS", np.array([ref_age]), np.array([6.7]), np.array([1.0]))
    assert older[0] / base[0] == pytest.approx(math.exp(0.3))
    assert longer[0] / base[0] == pytest.approx(math.exp(0.25))
    none = covariate_multiplier(DISEASE, "PPMS", np.array([25.0, 60.0]), np.array([1.0, 20.0]),
                                np.array([0.1, 9.0]))
    np.testing.assert_allclose(none, 1.0)  # default: the assumptions are switched off


def test_age_moves_progression_when_assumed() -> None:
    """age_beta 0.05/year: patients above 50 have more 12-week CDP than patients below 38."""
    p = DISEASE.replace(age_beta=0.05)
    out = simulate_outcomes(np.random.default_rng(4), constant_multipliers({}, 20_000, 120),
                            "PPMS", Schedule(120, mri_weeks=()), p)
    assert out.age is not None
    old, young = out.cdp_event[out.age > 50, 0].mean(), out.cdp_event[out.age < 38, 0].mean()
    assert old > young + 0.08
    given = simulate_outcomes(np.random.default_rng(4), constant_multipliers({}, 5, 24), "PPMS",
                              Schedule(24, mri_weeks=()), age=np.full(5, 33.0))
    assert given.age is not None and np.all(given.age == 33.0)


def test_walk_change_is_the_mean_percentage_change() -> None:
    """No walk noise, no covariates: the walk changes by 100·(exp(x·z) − 1) % at the walk week
    T, x = slope·multiplier·T (years), z the gamma progression frailty (shape k, mean 1), so
    the mean change is 100·((1 − x/k)^−k − 1); tolerance 4 SE of the mean."""
    p = _quiet(t25_sd=0.0, pira_shape=2.0)
    n, weeks, k = 40_000, 120, 2.0
    out = simulate_outcomes(np.random.default_rng(6), constant_multipliers({"walk": 0.7}, n,
                            weeks), "PPMS", Schedule(weeks, mri_weeks=(), walk_week=96), p)
    assert out.t25_change is not None
    x = p.t25_slope.value * 0.7 * 96 / WEEKS_PER_YEAR
    want = 100.0 * ((1.0 - x / k) ** -k - 1.0)
    se = out.t25_change.std() / math.sqrt(n)
    assert abs(out.t25_change.mean() - want) < 4 * se
    assert np.all(out.t25_change > 0)  # drift only: every walk slower


def test_walk_endpoint_reads_the_composite_walks() -> None:
    """One walk per patient and visit: the T25FW change at the walk week is the walk the
    composite endpoint confirms. Pure visit noise (no drift, EDSS and peg test still), visits
    at weeks 0, 12, 24, walk week 12: every 12-week composite event starts at week 12 with a
    walk >= 20% slower, so its T25FW change is >= 20% (independent draws for the endpoint
    broke this for about half of them), and a change below 20% never has an event."""
    p = _quiet(t25_slope=0.0, t25_sd=0.3, hpt_slope=0.0, hpt_sd=0.0, pira_ppms=0.0)
    n = 4000
    out = simulate_outcomes(np.random.default_rng(8), constant_multipliers({}, n, 24), "PPMS",
                            Schedule(24, mri_weeks=(), confirm=(12,), walk_week=12), p)
    assert out.t25_change is not None and out.ccdp_event is not None
    assert out.ccdp_time is not None
    event = out.ccdp_event[:, 0]
    assert 0.05 < event.mean() < 0.5                       # noise alone makes some events
    assert np.all(out.ccdp_time[event, 0] == 12)
    assert np.all(out.t25_change[event] >= 20.0 - 1e-9)
    assert not np.any(event & (out.t25_change < 20.0 - 1e-9))


def test_baseline_changes_the_draws_not_the_laws() -> None:
    """A design baseline (ORATORIO-HAND-like: EDSS 3.0-8.0 around 6.0, ages 18-65 around 48)
    draws other patients but keeps the hazard's references: patients starting at the same
    EDSS progress alike in both populations (12-week CDP shares at baseline EDSS 5.0 and 6.0
    within 4 binomial SEs), while the population as a whole reaches EDSS 7-8 and ages 56-65."""
    from ocrelisim.outcomes import Baseline
    from ocrelisim.parameters import PPMS_DEMOGRAPHICS, Parameter

    def par(v: float, like: Parameter) -> Parameter:
        return Parameter(v, like.unit, like.bounds, "test", assumption=True)

    d = PPMS_DEMOGRAPHICS
    demo = type(d)(age_mean=par(48.0, d.age_mean), age_sd=d.age_sd,
                   age_min=d.age_min, age_max=par(65.0, d.age_max),
                   female_fraction=d.female_fraction)
    wide = Baseline(6.0, 1.2, 3.0, 8.0, demo)
    p = _quiet(pira_shape=2.0)
    n, weeks = 40_000, 96
    sched = Schedule(weeks, mri_weeks=(), confirm=(12,))
    a = simulate_outcomes(np.random.default_rng(12), constant_multipliers({}, n, weeks), "PPMS",
                          sched, p)
    b = simulate_outcomes(np.random.default_rng(13), constant_multipliers({}, n, weeks), "PPMS",
                          sched, p, baseline=wide)
    assert a.age is not None and b.age is not None
    assert a.edss0.max() <= 6.5 and b.edss0.max() == 8.0 and (b.edss0 >= 7.0).mean() > 0.1
    assert a.age.max() <= 55.0 and (b.age > 55.0).mean() > 0.05 and b.age.max() <= 65.0
    assert np.median(b.edss0) == 6.0 and abs(b.age.mean() - 48.0) < 0.3
    for score in (5.0, 6.0):
        sa, sb = a.cdp_event[a.edss0 == score, 0], b.cdp_event[b.edss0 == score, 0]
        se = math.sqrt(sa.var() / sa.size + sb.var() / sb.size)
        assert abs(sa.mean() - sb.mean()) < 4 * se, (score, sa.mean(), sb.mean())


def test_confirmed_worsening_rule() -> None:
    log15 = math.log(1.15)
    ratio = np.array([[0.0, log15, log15, 0.0, 0.0],        # confirmed at 12, not 24
                      [0.0, log15 - 1e-6, log15, log15, log15],  # just below, then onset 2
                      [0.0, 0.0, 0.0, 0.0, log15]])          # last visit: unconfirmed
    seen = np.ones_like(ratio, dtype=bool)
    ev, first = confirmed_worsening(ratio, seen, 0.15, 12, 12)
    assert ev.tolist() == [True, True, False] and first[:2].tolist() == [1, 2]
    ev24, _ = confirmed_worsening(ratio, seen, 0.15, 24, 12)
    assert ev24.tolist() == [False, True, False]


def test_composite_contains_each_component() -> None:
    out = simulate_outcomes(np.random.default_rng(7), constant_multipliers({}, 3000, 120),
                            "PPMS", Schedule(120, mri_weeks=()))
    assert out.ccdp_event is not None and out.ccdp_time is not None
    assert out.hpt_event is not None
    for c in range(2):
        cdp = out.cdp_event[:, c]
        assert np.all(out.ccdp_event[cdp, c])
        assert np.all(out.ccdp_time[cdp, c] <= out.cdp_time[cdp, c])
        assert out.ccdp_event[:, c].mean() > cdp.mean()


def test_asymmetric_effect_delay() -> None:
    """Rise with t_half, fall with t_half_offset (closed forms for a step up then down);
    equal half-lives give the symmetric delay bit for bit."""
    t = np.arange(0.0, 201.0)
    d = np.where((t >= 1) & (t < 101), 1.0, 0.0)[None, :]
    d[0, 0] = 0.0
    up, down = math.log(2) / 20.0, math.log(2) / 200.0
    e = effect_delay(d, 1.0, 20.0, 200.0)[0]
    # linear interpolation between samples: from day 1 the series is 1 until day 100
    e100 = e[100]
    assert e100 == pytest.approx(1.0 - math.exp(-up * 99.0) * (1.0 - e[1]), abs=1e-12)
    np.testing.assert_allclose(e[102:], e[101] * np.exp(-down * (t[102:] - 101.0)), atol=1e-12)
    assert e[150] > 0.5 > effect_delay(d, 1.0, 20.0)[0][150]   # the slow offset keeps it
    np.testing.assert_array_equal(effect_delay(d, 1.0, 20.0, 20.0), effect_delay(d, 1.0, 20.0))
