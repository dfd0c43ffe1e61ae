"""Enrolment criteria and event-driven follow-up in trial designs (issue 12 item 4, without
re-calibration).

Criteria shape the simulated patients by rejection sampling (age, EDSS, disease duration,
prior relapses, baseline Gd+ lesions per replicate; age also in the B-cell bank). Checks:
every enrolled patient meets the criteria (exact), selection moves the outcomes the way the
model says it must (directions, with margins far beyond the replicate noise at these sizes),
bad values are refused naming the field, and a design without criteria draws exactly what
the plain loop drew (bit for bit). No immune-model simulation is needed: ocrelizumab arms
use a synthetic bank.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrelisim import _streams
from ocrelisim.errors import DesignError
from ocrelisim.outcomes import concat, simulate_outcomes
from ocrelisim.parameters import DISEASE
from ocrelisim.trials import Arm, TrialDesign, bank_population, preset, simulate_replicate
from ocrelisim.trials._run import PatientBank, _arm_multipliers

WEEKS = 48


def _design(**kw: Any) -> TrialDesign:
    base: dict[str, Any] = dict(
        name="t", disease="RMS",
        arms=(Arm("ocr", "ocrelizumab", "iv"), Arm("ifn", "interferon"), Arm("pbo", "placebo")),
        allocation=(1, 1, 1), n=300, weeks=WEEKS, endpoints=("ARR", "CDP12", "GD"),
        mri_weeks=(24, 48))
    base.update(kw)
    return TrialDesign(**base)


def _bank(size: int = 50) -> PatientBank:
    rng = np.random.default_rng(0)
    effect = np.clip(rng.normal(0.9, 0.05, (size, WEEKS)), 0.0, 1.0)
    return PatientBank({"ocr": effect}, {"ocr": np.full(size, 2.0)}, size, WEEKS, 0)


def test_no_criteria_draws_exactly_as_the_plain_loop() -> None:
    """The loop of trials._run before enrolment criteria: per arm, bank picks then outcomes
    from the replicate's generator; a design without criteria must give the same arrays."""
    design, bank = _design(), _bank()
    for seed, r in ((1, 0), (20261130, 3)):
        rng = _streams.replicate(seed, r)
        parts = []
        for i, n in enumerate(design.arm_sizes()):
            mult, _ = _arm_multipliers(design, bank, i, n, rng, DISEASE)
            parts.append(simulate_outcomes(rng, mult, "RMS", design.schedule, DISEASE))
        want = concat(parts)
        got, _ = simulate_replicate(design, bank, seed, r)
        for name in ("followup", "relapses", "gd", "t2", "edss0", "edss_last", "cdp_time",
                     "cdp_event"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        assert got.prior_relapses is None and got.gd0 is None


def test_screening_draws_come_after_the_others() -> None:
    mult = {m: np.ones((400, WEEKS)) for m in ("relapse", "gd", "t2", "pira", "walk")}
    sched = _design().schedule
    a = simulate_outcomes(np.random.default_rng(4), mult, "RMS", sched)
    b = simulate_outcomes(np.random.default_rng(4), mult, "RMS", sched, prior_years=2.0)
    for name in ("followup", "relapses", "gd", "t2", "edss0", "cdp_time", "t25_worse"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert b.prior_relapses is not None and b.gd0 is not None
    # 2-year untreated counts: mean m = 2 × arr_untreated (frailty mean 1); negative binomial
    # variance m + relapse_alpha·m² gives SE 0.06 for 400 patients: within 4 SE
    assert abs(b.prior_relapses.mean() - 2 * DISEASE.arr_untreated.value) < 0.24


def test_edss_range_holds_every_patient() -> None:
    design, bank = _design(edss_range=(3.0, 4.5)), _bank()
    out, arm = simulate_replicate(design, bank, 7, 0)
    assert out.n == 300 and np.bincount(arm).tolist() == [100, 100, 100]
    assert out.edss0.min() >= 3.0 and out.edss0.max() <= 4.5
    assert set(np.unique(out.edss0)) <= {3.0, 3.5, 4.0, 4.5}


@settings(max_examples=10, deadline=None)
@given(lo=st.integers(0, 10), width=st.integers(0, 6))
def test_any_edss_range_on_the_grid_is_respected(lo: int, width: int) -> None:
    low, high = lo / 2, (lo + width) / 2
    try:
        design = _design(arms=(Arm("ifn", "interferon"), Arm("pbo", "placebo")),
                         allocation=(1, 1), n=40, edss_range=(low, high))
        out, _ = simulate_replicate(design, _bank(), 3, 1)
    except DesignError as err:  # beyond or too narrow for the draws: refused, named
        assert "edss_range" in str(err) and (high > 5.5 or "enrolment criteria" in str(err))
        return
    assert low <= out.edss0.min() and out.edss0.max() <= high


def test_prior_relapses_select_active_patients() -> None:
    """Selecting on prior relapses selects on the relapse frailty: the on-trial placebo ARR
    of patients with >= 2 relapses in 2 years exceeds that of patients with none."""
    pbo = (Arm("pbo", "placebo"), Arm("ifn", "interferon"))

    def arr(rng_range: tuple[int, int]) -> float:
        d = _design(arms=pbo, allocation=(1, 1), n=1200, prior_relapses=rng_range,
                    prior_years=2)
        out, arm = simulate_replicate(d, _bank(), 11, 0)
        assert out.prior_relapses is not None
        assert out.prior_relapses.min() >= rng_range[0]
        assert out.prior_relapses.max() <= rng_range[1]
        sel = arm == 0
        return float(out.relapses[sel].sum() / (out.followup[sel].sum() / 52.18))

    active, quiet = arr((2, 20)), arr((0, 0))
    assert active > 1.5 * quiet


def test_gd_baseline_selects_on_lesion_activity() -> None:
    pbo = (Arm("pbo", "placebo"), Arm("ifn", "interferon"))
    res = {}
    for flag in (True, False):
        d = _design(arms=pbo, allocation=(1, 1), n=800, gd_baseline=flag)
        out, arm = simulate_replicate(d, _bank(), 5, 2)
        assert out.gd0 is not None
        assert bool((out.gd0 > 0).all()) if flag else not out.gd0.any()
        sel = arm == 0
        res[flag] = out.gd[sel].sum() / out.scans[sel].sum()
    assert res[True] > 2 * res[False]


def test_age_range_shapes_the_bank_population() -> None:
    pop = bank_population(_design(age_range=(30, 40)), 200, 1)
    age = pop.covariates["AGE"].to_numpy()
    assert pop.n == 200 and age.min() >= 30 and age.max() <= 40
    plain = bank_population(_design(), 200, 1).covariates["AGE"].to_numpy()
    assert plain.min() < 30 or plain.max() > 40  # the criterion did something


def test_ocrelizumab_picks_follow_the_enrolled_patients() -> None:
    out, _ = simulate_replicate(_design(gd_baseline=True), _bank(), 2, 0)
    assert out.gd0 is not None and (out.gd0 > 0).all() and out.n == 300


@pytest.mark.parametrize(("field", "value"), [
    ("age_range", (40, 30)), ("age_range", (10, 30)), ("age_range", "30-40"),
    ("edss_range", (3.2, 5.0)), ("edss_range", (-1.0, 2.0)), ("edss_range", (5.0, 3.0)),
    ("edss_range", (0, 10)), ("prior_relapses", (2, 1)), ("prior_relapses", (1.5, 3)),
    ("prior_relapses", (-1, 2)), ("prior_years", 3), ("prior_years", True),
    ("gd_baseline", "yes"), ("gd_baseline", 1),
])
def test_bad_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(DesignError, match=field):
        _design(**{field: value})


def test_disease_duration_and_age_screen_every_arm() -> None:
    """Duration (gamma draws, RMS mean 5.0 y) and age (every arm, not only the bank) hold for
    each enrolled patient; a criterion that no drawn patient meets is refused, named."""
    design = _design(disease_duration=(2.0, 4.0), age_range=(30.0, 40.0))
    out, _ = simulate_replicate(design, _bank(), 5, 0)
    assert out.duration is not None and out.age is not None and out.n == 300
    assert out.duration.min() >= 2.0 and out.duration.max() <= 4.0
    assert out.age.min() >= 30.0 and out.age.max() <= 40.0
    plain, _ = simulate_replicate(_design(), _bank(), 5, 0)
    assert plain.duration is not None and plain.duration.max() > 4.0
    with pytest.raises(DesignError, match="disease_duration"):
        _design(disease_duration=(10.0, 5.0))
    with pytest.raises(DesignError, match=r"enrolment criteria.*disease_duration"):
        simulate_replicate(_design(disease_duration=(59.0, 60.0)), _bank(), 1, 0)


@pytest.mark.parametrize("field", ["prior_relapses", "gd_baseline"])
def test_ppms_refuses_relapse_and_lesion_criteria(field: str) -> None:
    value = (1, 3) if field == "prior_relapses" else True
    with pytest.raises(DesignError, match=f"{field}.*RMS only"):
        preset("oratorio").with_(**{field: value})


def test_impossible_criteria_are_refused_not_clamped() -> None:
    arms = dict(arms=(Arm("ifn", "interferon"), Arm("pbo", "placebo")), allocation=(1, 1), n=20)
    # Beyond the population's draws (RMS EDSS 0-5.5, ages 18-55): refused with the design.
    with pytest.raises(DesignError, match=r"edss_range = \[9.5, 9.5\] reaches beyond the RMS "
                                          r"population's draws, \[0, 5.5\]"):
        _design(**arms, edss_range=(9.5, 9.5))
    with pytest.raises(DesignError, match=r"age_range = \[18, 65\] reaches beyond.*baseline "
                                          r"age_min, age_max"):
        _design(**arms, age_range=(18.0, 65.0))
    # Within the draws but met by nobody: refused when the replicate cannot enrol.
    d = _design(**arms, edss_range=(5.5, 5.5), prior_relapses=(40, 40))
    with pytest.raises(DesignError, match=r"enrolment criteria.*edss_range"):
        simulate_replicate(d, _bank(), 1, 0)


def test_yaml_keys() -> None:
    d = TrialDesign.from_dict({"preset": "opera", "n": 200, "age_range": [18, 55],
                               "edss_range": [0, 5.5], "prior_relapses": [1, 10],
                               "prior_years": 1, "gd_baseline": True})
    assert d.age_range == (18.0, 55.0) and d.edss_range == (0.0, 5.5)
    assert d.prior_relapses == (1, 10) and d.gd_baseline is True and d.screened
    assert not preset("opera").screened and not d.with_(
        edss_range=None, prior_relapses=None, gd_baseline=None,
        age_range=None).screened
    with pytest.raises(DesignError, match="edss_range must be a list"):
        TrialDesign.from_dict({"preset": "opera", "edss_range": "3-5"})
    d = TrialDesign.from_dict({"preset": "opera", "disease_duration": [0, 10]})
    assert d.disease_duration == (0.0, 10.0) and d.screened


# --- event-driven follow-up ------------------------------------------------------------------

def _ppms(**kw: Any) -> TrialDesign:
    base: dict[str, Any] = dict(
        name="pp", disease="PPMS",
        arms=(Arm("c", "comparator", rate_ratios={"pira": 0.7}), Arm("p", "placebo")),
        allocation=(1, 1), n=400, weeks=240, endpoints=("CDP12", "CDP24", "T25FW"),
        mri_weeks=())
    base.update(kw)
    return TrialDesign(**base)


def test_cutoff_keeps_the_draws_and_ends_follow_up() -> None:
    mult = {m: np.ones((300, 96)) for m in ("relapse", "gd", "t2", "pira", "walk")}
    sched = _design(weeks=96, mri_weeks=(24, 48, 96)).schedule
    full = simulate_outcomes(np.random.default_rng(8), mult, "RMS", sched)
    same = simulate_outcomes(np.random.default_rng(8), mult, "RMS", sched, cutoff=96)
    for name in ("followup", "relapses", "gd", "t2", "edss_last", "cdp_time", "t25_worse"):
        np.testing.assert_array_equal(getattr(full, name), getattr(same, name))
    cut = simulate_outcomes(np.random.default_rng(8), mult, "RMS", sched, cutoff=48)
    np.testing.assert_array_equal(cut.edss0, full.edss0)           # the same patients
    np.testing.assert_array_equal(cut.followup, np.minimum(full.followup, 48.0))
    assert (cut.relapses <= full.relapses).all() and cut.relapses.sum() < full.relapses.sum()
    assert (cut.scans <= 2).all() and (cut.cdp_time <= 48).all()
    assert not np.isnan(cut.t25_worse[cut.followup >= 48]).any()


def test_cutoff_is_the_first_visit_reaching_the_target() -> None:
    fixed = _ppms()
    out, _ = simulate_replicate(fixed, _bank(), 4, 0)
    confirmed = out.cdp_time[out.cdp_event[:, 0], 0] + 12  # visit every 12 weeks, window 12
    target = int((confirmed <= 144).sum())                 # reached exactly at week 144 ...
    assert (confirmed <= 132).sum() < target               # ... and not at week 132
    design = fixed.with_(events_target=target, min_weeks=60)
    ev, _ = simulate_replicate(design, _bank(), 4, 0)
    assert ev.followup.max() == 144.0
    np.testing.assert_array_equal(ev.edss0, out.edss0)
    assert int(ev.cdp_event[:, 0].sum()) == target
    late = fixed.with_(events_target=1, min_weeks=180)    # reached long before: min_weeks
    assert simulate_replicate(late, _bank(), 4, 0)[0].followup.max() == 180.0


def test_unreached_target_is_the_fixed_trial() -> None:
    from pandas.testing import assert_frame_equal

    from ocrelisim.trials import run_trial

    fixed = _ppms(weeks=120)
    a = run_trial(fixed, replicates=3, seed=6, workers=1).table
    b = run_trial(fixed.with_(events_target=400), replicates=3, seed=6, workers=1).table
    assert (b.pop("cutoff_week") == 120).all()
    assert_frame_equal(a, b)


def test_cutoff_analysis_matches_a_fixed_trial_of_that_length() -> None:
    """A 240-week design analysed at week 120 (target 1, min_weeks 120) and a fixed 120-week
    design are the same trial in distribution: mean CDP12 shares over 30 replicates of 500 per
    arm agree within 4 SE (SE of each mean about 0.003)."""
    from ocrelisim.trials import run_trial

    shares = []
    for d in (_ppms(n=1000, events_target=1, min_weeks=120), _ppms(n=1000, weeks=120)):
        s = run_trial(d, replicates=30, seed=3, workers=1).summary()
        row = s[s["endpoint"] == "CDP12"].iloc[0]
        shares.append((row["treated"], row["reference"]))
    for x, y in zip(*shares, strict=True):
        assert abs(x - y) < 4 * np.sqrt(2 * 0.4 * 0.6 / (500 * 30))


@pytest.mark.parametrize(("kw", "field"), [
    ({"events_target": 0}, "events_target"), ({"events_target": 2.5}, "events_target"),
    ({"events_target": 401}, "events_target"), ({"min_weeks": 100}, "min_weeks"),
    ({"events_target": 10, "min_weeks": 24}, "min_weeks"),
    ({"events_target": 10, "min_weeks": 300}, "min_weeks"),
])
def test_bad_event_settings_name_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(DesignError, match=field):
        _ppms(**kw)


def test_event_yaml_keys() -> None:
    d = TrialDesign.from_dict({"preset": "oratorio", "weeks": 240, "events_target": 250,
                               "min_weeks": 120})
    assert (d.events_target, d.first_analysis) == (250, 120)
    assert d.with_(events_target=None, min_weeks=None).first_analysis == 240
