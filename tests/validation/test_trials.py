"""Virtual trials reproduce OPERA I/II and ORATORIO; design questions behave; scale-out agrees.

Published values [S12][S13] and their confidence intervals come from
``ocrelisim.trials.PUBLISHED``. Each test against a published figure is marked ``calibration``
(the figure fixed the parameters its docstring names) or ``prediction`` (not used in any fit).
Tolerances: the median replicate estimate must fall inside the published 95% CI (where the
dossier gives one) and the published estimate inside the 2.5-97.5% range of the replicate
estimates (the published trial is one draw of the same experiment); arm-level rates and shares
within the stated absolute tolerance of the replicate mean.
Replicate counts are small (fixed seeds) to keep the suite fast; the calibration itself is in
``tools/calibrate_disease.py`` (40,000 patients per arm).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ocrelisim import trials
from ocrelisim.errors import DesignError, InvalidInputError
from ocrelisim.parameters import DISEASE
from ocrelisim.trials import Arm, TrialDesign
from ocrelisim.units import DAYS_PER_WEEK, DAYS_PER_YEAR

SEED = 20261129
BANK = 1500


def _trial(name: str, replicates: int) -> trials.TrialResult:
    return trials.run_trial(trials.preset(name), replicates, SEED, bank_size=BANK, workers=1)


def _summary(result: trials.TrialResult) -> pd.DataFrame:
    return result.summary().set_index("endpoint")


def _run(name: str, replicates: int) -> pd.DataFrame:
    return _summary(_trial(name, replicates))


@pytest.fixture(scope="module")
def opera() -> pd.DataFrame:
    return _run("opera", 24)


@pytest.fixture(scope="module")
def oratorio_result() -> trials.TrialResult:
    return _trial("oratorio", 24)


@pytest.fixture(scope="module")
def oratorio(oratorio_result: trials.TrialResult) -> pd.DataFrame:
    return _summary(oratorio_result)


def _binomial_95(share: float, n: int) -> float:
    """Half-width of the normal-approximation 95% interval of a published share of n."""
    return 1.96 * math.sqrt(share * (1.0 - share) / n)


def _within_published(row: pd.Series, pub: dict[str, float]) -> None:
    if "lower" in pub:
        assert pub["lower"] <= row["estimate"] <= pub["upper"], row
    assert row["estimate_2.5%"] <= pub["estimate"] <= row["estimate_97.5%"], row


@pytest.mark.calibration
@pytest.mark.parametrize(("endpoint", "tol"), [("ARR", 0.02), ("CDP12", 0.02), ("CDP24", 0.02)])
def test_opera_pooled_reproduced(opera: pd.DataFrame, endpoint: str, tol: float) -> None:
    """OPERA I + II pooled, ocrelizumab vs IFN β-1a, 96 weeks.

    Source: [S12]
    Published: ARR 0.16 vs 0.29 (rate ratio 0.535); 12-week CDP 9.1% vs 13.6%, HR 0.60
    (0.45-0.81); 24-week CDP 6.9% vs 10.5%, HR 0.60 (0.43-0.84).
    Tolerance: arm rates and shares within 0.02 of the replicate mean; median replicate
    estimate inside the published 95% CI (CDP); published estimate inside the replicates'
    2.5-97.5% range.
    Fits: ARR: ``imax_relapse`` (0.16) and ``arr_untreated`` (0.29 / the assumed
    ``rr_ifn_relapse``); CDP: ``pira_rms``, ``p_residual`` and ``p_rater`` (with [S13]).
    """
    pub = trials.PUBLISHED["opera"][endpoint]
    row = opera.loc[endpoint]
    _within_published(row, pub)
    assert row["treated"] == pytest.approx(pub["treated"], abs=tol)
    assert row["reference"] == pytest.approx(pub["control"], abs=tol)


@pytest.mark.calibration
def test_opera_neda_interferon_arm(opera: pd.DataFrame) -> None:
    """No evidence of disease activity over 96 weeks, IFN β-1a arm (OPERA pooled, mITT).

    Source: [S43]
    Published: NEDA 27.1% on IFN β-1a (n = 759).
    Tolerance: replicate mean inside the 95% binomial interval of 27.1% of 759 (±3.2 points).
    Fits: ``lesion_alpha`` (lesion-count dispersion).
    """
    assert opera.loc["NEDA", "reference"] == pytest.approx(0.271, abs=_binomial_95(0.271, 759))


@pytest.mark.prediction
def test_opera_neda_ocrelizumab_arm(opera: pd.DataFrame) -> None:
    """No evidence of disease activity over 96 weeks, ocrelizumab arm (OPERA pooled, mITT).

    Source: [S43]
    Published: NEDA 47.7% (n = 761) vs 27.1%; ratio 1.76; a significant difference.
    Tolerance: replicate mean inside the 95% binomial interval of 47.7% of 761 (±3.5
    points); published ratio inside the replicates' 2.5-97.5% range; power above 0.9.
    Fits: none (``lesion_alpha`` was fitted to the IFN arm's 27.1%, see the test above and
    the note in ``trials.PUBLISHED``; this arm and the ratio were not used in any fit).
    """
    row = opera.loc["NEDA"]
    assert row["treated"] == pytest.approx(0.477, abs=_binomial_95(0.477, 761))
    _within_published(row, trials.PUBLISHED["opera"]["NEDA"])
    assert row["power"] > 0.9


@pytest.mark.calibration
@pytest.mark.parametrize(("endpoint", "tol"), [("CDP12", 0.04), ("CDP24", 0.04)])
def test_oratorio_reproduced(oratorio: pd.DataFrame, endpoint: str, tol: float) -> None:
    """ORATORIO, ocrelizumab vs placebo (PPMS), event-driven as the trial was run.

    Source: [S13]
    Published: 12-week CDP 32.9% vs 39.3%, HR 0.76 (0.59-0.98); 24-week CDP 29.6% vs 35.7%,
    HR 0.75 (0.58-0.98); over the event-driven double-blind period (at least 120 weeks).
    Tolerance: arm shares within 4 points of the replicate mean; median replicate HR inside
    the published 95% CI; published HR inside the replicates' 2.5-97.5% range.
    Fits: ``pira_ppms`` (the analysis falls at week 120 with 256 events, derived from the
    published shares), ``imax_pira`` (HR 0.76), ``p_rater`` (the gap between 12- and 24-week
    CDP, with [S12]) and ``edss_beta`` (with the wheelchair time [S46b]).
    """
    pub = trials.PUBLISHED["oratorio"][endpoint]
    row = oratorio.loc[endpoint]
    _within_published(row, pub)
    assert row["treated"] == pytest.approx(pub["treated"], abs=tol)
    assert row["reference"] == pytest.approx(pub["control"], abs=tol)


@pytest.mark.calibration
def test_oratorio_walk_reproduced(oratorio: pd.DataFrame) -> None:
    """ORATORIO timed 25-foot walk, mean percentage change from baseline to week 120.

    Source: [S13]
    Published: mean increase in walk time 38.9% (ocrelizumab) vs 55.1% (placebo); relative
    reduction 29.4% (ratio 0.706).
    Tolerance: each arm's mean % change (mean over replicates) within 4 percentage points;
    published ratio 0.706 inside the replicates' 2.5-97.5% range.
    Fits: ``t25_slope`` (55.1%) and ``imax_walk`` (38.9%).
    """
    pub = trials.PUBLISHED["oratorio"]["T25FW"]
    row = oratorio.loc["T25FW"]
    _within_published(row, pub)
    assert row["treated"] == pytest.approx(pub["treated"], abs=4.0)
    assert row["reference"] == pytest.approx(pub["control"], abs=4.0)


@pytest.mark.calibration
def test_oratorio_peg_test_12_week(oratorio: pd.DataFrame) -> None:
    """ORATORIO nine-hole peg test: 12-week confirmed ≥15% worsening (both hands).

    Source: [S53b]
    Published: HR 0.627 (p = 0.001) ocrelizumab vs placebo.
    Tolerance: published HR inside the replicates' 2.5-97.5% range; median replicate HR
    within 0.08 of 0.627 (no interval in the dossier; our choice).
    Fits: ``imax_hpt`` (given the assumed ``hpt_slope`` and ``hpt_sd``).
    """
    row = oratorio.loc["NHPT12"]
    _within_published(row, trials.PUBLISHED["oratorio"]["NHPT12"])
    assert row["estimate"] == pytest.approx(0.627, abs=0.08)


@pytest.mark.prediction
def test_oratorio_peg_test_24_week(oratorio: pd.DataFrame) -> None:
    """ORATORIO nine-hole peg test: 24-week confirmed ≥15% worsening (both hands).

    Source: [S53b]
    Published: HR 0.607 (p = 0.002).
    Tolerance: published HR inside the replicates' 2.5-97.5% range; median within 0.08.
    Fits: none (``imax_hpt`` was fitted to the 12-week HR only).
    """
    row = oratorio.loc["NHPT24"]
    _within_published(row, trials.PUBLISHED["oratorio"]["NHPT24"])
    assert row["estimate"] == pytest.approx(0.607, abs=0.08)


@pytest.fixture(scope="module")
def oratorio_hand_result() -> trials.TrialResult:
    return _trial("oratorio-hand", 24)


@pytest.fixture(scope="module")
def oratorio_hand(oratorio_hand_result: trials.TrialResult) -> pd.DataFrame:
    return _summary(oratorio_hand_result)


@pytest.mark.prediction
def test_oratorio_hand_composite_hazard_ratio(oratorio_hand: pd.DataFrame) -> None:
    """ORATORIO-HAND (held out): 12-week composite confirmed progression, EDSS or 9HPT ≥ 20%.

    Source: [T1] (neurotrials.ai summary of Giovannoni 2026, Lancet 407:2195-207), [T2]
    (ECTRIMS 2025 report: the 20% threshold, medians of age and EDSS); ``trials.TRIAL_SOURCES``.
    Published: HR 0.70 (95% CI 0.57-0.86), p = 0.0007; 505 ocrelizumab vs 508 placebo,
    ages 18-65, EDSS 3.0-8.0, up to 144 weeks.
    Tolerance: median replicate HR inside the published 95% CI; published HR inside the
    replicates' 2.5-97.5% range (24 replicates of the full-size preset).
    Fits: none (a prediction; the model extrapolates ``edss_beta`` to EDSS 8.0 and age to 65).
    """
    _within_published(oratorio_hand.loc["HCDP12"], trials.PUBLISHED["oratoriohand"]["HCDP12"])


@pytest.mark.prediction
@pytest.mark.xfail(strict=True, reason=(
    "the model's event shares run high (composite 43.7% vs 56.1%, EDSS 28.4% vs 35.6% against "
    "32.7% vs 40.4% and 23.0% vs 30.8%): the 9HPT placebo drift hpt_slope and noise hpt_sd are "
    "assumptions fitted to no share, the timed tests' drift does not fall with EDSS as the EDSS "
    "hazard does, and the EDSS law is extrapolated to 8.0"))
@pytest.mark.parametrize("endpoint", ["HCDP12", "CDP12"])
def test_oratorio_hand_event_shares(oratorio_hand: pd.DataFrame, endpoint: str) -> None:
    """ORATORIO-HAND (held out): shares of patients with a 12-week confirmed event by arm.

    Source: [T2]
    Published: composite (EDSS or 9HPT ≥ 20%) 32.7% vs 40.4%; EDSS 23.0% vs 30.8%.
    Tolerance: each arm's share (mean over replicates) within the binomial 95% half-width of
    the published share (n = 505 and 508: about 4 points).
    Fits: none.
    """
    pub = trials.PUBLISHED["oratoriohand"][endpoint]
    row = oratorio_hand.loc[endpoint]
    assert row["treated"] == pytest.approx(pub["treated"], abs=_binomial_95(pub["treated"], 505))
    assert row["reference"] == pytest.approx(pub["control"],
                                              abs=_binomial_95(pub["control"], 508))


def test_oratorio_hand_design_widens_the_population(
        oratorio_hand_result: trials.TrialResult) -> None:
    """The ORATORIO-HAND preset draws its own population (ORATORIO's is 18-55 y, EDSS
    3.0-6.5): baseline EDSS up to 8.0 around the published median 6.0, ages up to 65 around
    48 (T2 in trials.TRIAL_SOURCES); 505 : 508 patients, fixed 144 weeks; the composite without
    the walk is within the composite with it (same EDSS and peg-test events)."""
    d = oratorio_hand_result.design
    assert d.arm_sizes() == (505, 508) and d.weeks == 144 and d.events_target is None
    assert d.edss_range == (3.0, 8.0) and d.age_range == (18.0, 65.0)
    out, _ = oratorio_hand_result.example(0)
    assert out.edss0.min() >= 3.0 - 1e-9 and out.edss0.max() <= 8.0 + 1e-9
    assert (out.edss0 > 6.5).mean() > 0.15 and np.median(out.edss0) == pytest.approx(6.0, abs=0.5)
    assert out.age is not None and out.age.max() <= 65.0 and (out.age > 55.0).mean() > 0.05
    assert np.median(out.age) == pytest.approx(48.0, abs=2.0)
    assert out.hcdp_event is not None and out.ccdp_event is not None
    assert out.hcdp_time is not None and out.ccdp_time is not None
    h, c = out.hcdp_event[:, 0], out.ccdp_event[:, 0]
    assert np.all(c[h]) and np.all(out.ccdp_time[h, 0] <= out.hcdp_time[h, 0])
    assert np.all(h[out.cdp_event[:, 0]])                    # every EDSS event counts
    # the calibration population is unchanged: ORATORIO still draws 3.0-6.5 and 18-55
    assert trials.preset("oratorio").population_baseline() is None


@pytest.mark.parametrize(("baseline", "message"), [
    ({"edss_top": 8.0}, "unknown baseline keys"),
    ({"edss_max": 8.2}, "steps of 0.5"),
    ({"edss_mean": 9.0}, "edss_mean = 9"),
    ({"age_max": 90.0}, "age_max 90"),
    ({"age_sd": "wide"}, "age_sd = 'wide' must be a finite number"),
])
def test_bad_baselines_are_refused(baseline: dict[str, object], message: str) -> None:
    with pytest.raises(DesignError, match=message):
        trials.preset("oratorio").with_(baseline=baseline)


def test_oratorio_design_is_event_driven(oratorio_result: trials.TrialResult) -> None:
    d = oratorio_result.design
    assert (d.events_target, d.min_weeks, d.walk_week) == (trials.ORATORIO_EVENTS, 120, 120)
    assert d.age_range == (18.0, 55.0) and d.edss_range == (3.0, 6.5)
    cut = oratorio_result.table.groupby("replicate")["cutoff_week"].first()
    assert cut.min() >= 120 and cut.max() <= d.weeks and (cut % 12 == 0).all()
    out, _ = oratorio_result.example(0)
    assert out.edss0.min() >= 3.0 and out.edss0.max() <= 6.5
    assert out.age is not None and out.age.min() >= 18.0 and out.age.max() <= 55.0
    c = d.confirm.index(12)
    events = out.cdp_event[:, c] & (out.cdp_time[:, c] + 12 <= cut.iloc[0])
    assert events.sum() >= trials.ORATORIO_EVENTS or cut.iloc[0] == d.weeks


@pytest.mark.calibration
@pytest.mark.parametrize("name", ["opera1", "opera2"])
def test_opera_lesions_reproduced(name: str) -> None:
    """MRI lesions and relapses in OPERA I and II separately.

    Source: [S12]
    Published: Gd+ lesions per scan 0.02 vs 0.29 (OPERA I, −94%) and 0.02 vs 0.42 (OPERA II,
    −95%); new/enlarging T2 lesions −77% / −83%; ARR rate ratio 0.54 / 0.53.
    Tolerance: Gd+ per scan on ocrelizumab within 0.01 of 0.02; on IFN within 0.03 of 0.355,
    the mean of the two trials' IFN arms that ``gd_untreated`` was set from (the model has one
    natural history for both trials, so it cannot give 0.29 and 0.42: about 0.35 in each);
    Gd+ ratio within 0.03, T2 ratio within 0.07 and ARR ratio within 0.07 of each trial's
    published ratio; power above 0.8 and no failed fits.
    Fits: ``imax_gd`` and ``gd_untreated`` (Gd+), ``imax_t2`` (T2), ``imax_relapse`` (ARR).
    """
    s = _run(name, 12)
    pub = trials.PUBLISHED[name]
    gd, t2 = s.loc["GD"], s.loc["T2"]
    assert gd["treated"] == pytest.approx(0.02, abs=0.01)                 # per scan [S12]
    assert gd["reference"] == pytest.approx(0.355, abs=0.03)  # mean of IFN 0.29 / 0.42
    assert gd["estimate"] == pytest.approx(pub["GD"]["estimate"], abs=0.03)   # −94% / −95%
    assert t2["estimate"] == pytest.approx(pub["T2"]["estimate"], abs=0.07)   # −77% / −83%
    assert s.loc["ARR", "estimate"] == pytest.approx(pub["ARR"]["estimate"], abs=0.07)
    assert (s["power"].loc[["ARR", "GD", "T2"]] > 0.8).all()
    assert (s["failed_fits"] == 0).all()


def _two_arm(arm: Arm, control: Arm, n: int, endpoints: tuple[str, ...] = ("ARR", "CDP12"),
             weeks: int = 96) -> TrialDesign:
    return TrialDesign(name="test", disease="RMS", arms=(arm, control), allocation=(1, 1), n=n,
                       weeks=weeks, endpoints=endpoints)


@pytest.mark.prediction
def test_higher_dose_gives_no_extra_benefit() -> None:
    """Higher doses add no benefit once B cells are depleted (MUSETTE, GAVOTTE).

    Source: [S51][S52]
    Published: MUSETTE (RMS, 1200/1800 mg vs 600 mg) missed its primary endpoint, no numbers
    found; GAVOTTE (PPMS) composite CDP HR 0.95 (0.76-1.18), not compared here.
    Tolerance: RMS, 6,000 patients: ARR rate ratio within 0.08 of 1, 12-week CDP HR within
    0.15 of 1, ARR power at most 0.5.
    Fits: none (the depletion-driven effect structure was chosen with these trials in mind;
    no parameter was fitted to them).
    """
    high = Arm("high dose", "ocrelizumab", "300 mg IV d0, d14; 1800 mg IV q24w x3 from d168")
    std = Arm("600 mg", "ocrelizumab", "iv")
    res = trials.run_trial(_two_arm(high, std, 6000), 4, SEED, bank_size=BANK, workers=1)
    s = _summary(res)
    assert s.loc["ARR", "estimate"] == pytest.approx(1.0, abs=0.08)
    assert s.loc["CDP12", "estimate"] == pytest.approx(1.0, abs=0.15)
    assert s.loc["ARR", "power"] <= 0.5


def test_effect_comes_from_b_cells_stopping_treatment_loses_it() -> None:
    # 3 years: stopping after the first course lets B cells return; relapses come back
    weeks = 156
    cont = Arm("continued", "ocrelizumab", "iv")
    stop = Arm("stopped", "ocrelizumab", "300 mg IV d0, d14")
    res = trials.run_trial(_two_arm(stop, cont, 4000, ("ARR",), weeks), 3, SEED,
                           bank_size=BANK, workers=1)
    s = _summary(res)
    assert s.loc["ARR", "estimate"] > 1.15
    bank = res.bank
    assert bank.effect["stopped"][:, -1].mean() < bank.effect["continued"][:, -1].mean() - 0.2
    # SC 920 mg and IV 600 mg deplete alike: no difference in relapses
    sc = Arm("SC", "ocrelizumab", "sc")
    res = trials.run_trial(_two_arm(sc, Arm("IV", "ocrelizumab", "iv"), 6000, ("ARR",)), 3,
                           SEED, bank_size=BANK, workers=1)
    assert res.summary()["estimate"].iloc[0] == pytest.approx(1.0, abs=0.08)


def test_power_grows_with_size_and_effect() -> None:
    new = Arm("new drug", "comparator", rate_ratios={"relapse": 0.7})
    design = _two_arm(new, Arm("placebo", "placebo"), 100, ("ARR",))
    curve = trials.power_curve(design, [100, 300, 900], replicates=40, seed=SEED, workers=1)
    power = curve["power"].to_numpy()
    assert np.all(np.diff(power) >= 0) and power[-1] > power[0] + 0.3
    by_effect = []
    for rr in (0.9, 0.7, 0.5):
        d = design.with_(arms=(Arm("new", "comparator", rate_ratios={"relapse": rr}),
                               Arm("placebo", "placebo")), n=300)
        by_effect.append(trials.run_trial(d, 40, SEED, workers=1).summary()["power"].iloc[0])
    assert by_effect[0] <= by_effect[1] <= by_effect[2] and by_effect[2] > by_effect[0] + 0.3
    assert trials.sample_size(curve, "ARR", 0.5) in (300.0, 900.0)


def test_dask_two_workers_match_local() -> None:
    distributed = pytest.importorskip("distributed")
    design = trials.preset("opera1")
    bank = trials.build_bank(design, 300, SEED)
    local = trials.run_trial(design, 6, SEED, bank=bank, workers=1)
    procs = trials.run_trial(design, 6, SEED, bank=bank, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask = trials.run_trial(design, 6, SEED, bank=bank, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(local.table, dask.table)
    pd.testing.assert_frame_equal(local.table, procs.table)


def test_cox_matches_lifelines() -> None:
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(3)
    treated = np.arange(600) % 2 == 0
    t = np.ceil(rng.exponential(100, 600) * np.where(treated, 1.6, 1.0) / 12) * 12
    event = t < 96
    t = np.minimum(t, 96)
    ours = trials.cox(t, event, treated)
    df = pd.DataFrame({"T": t, "E": event, "x": treated.astype(float)})
    ref = CoxPHFitter().fit(df, "T", "E")
    assert ours["estimate"] == pytest.approx(float(ref.hazard_ratios_["x"]), rel=1e-6)
    lo, hi = np.exp(ref.confidence_intervals_.loc["x"].to_numpy())
    assert ours["lower"] == pytest.approx(lo, rel=1e-4) and ours["upper"] == pytest.approx(hi,
                                                                                        rel=1e-4)


def test_design_from_yaml(tmp_path: Path) -> None:
    f = tmp_path / "design.yaml"
    f.write_text("""
name: new drug vs IFN
disease: RMS
n: 400
weeks: 48
allocation: [1, 1]
endpoints: [ARR, CDP12]
arms:
  - {name: new drug, treatment: comparator, rate_ratios: {relapse: 0.5}}
  - {name: IFN, treatment: interferon}
""")
    d = TrialDesign.from_yaml(f)
    assert d.control == "IFN" and d.arm_sizes() == (200, 200)
    assert d.schedule.confirm == (12,)
    ppms = trials.preset("oratorio").with_(endpoints=("NHPT24", "CCDP12", "T25FW"))
    assert ppms.confirm == (12, 24) and ppms.schedule.walk_week == 120
    preset_based = TrialDesign.from_dict({"preset": "oratorio", "n": 300})
    assert preset_based.disease == "PPMS" and preset_based.n == 300
    assert not preset_based.published


BAD = [
    ({"n": -5}, "n = -5"),
    ({"allocation": (0.5, 0.4)}, "sum to 0.9"),
    ({"allocation": (1, 1, 1)}, "3 entries for 2 arms"),
    ({"endpoints": ("ARR", "EDSS7")}, "unknown endpoint 'EDSS7'"),
    ({"weeks": 20}, "too short for 12-week confirmed"),
    ({"weeks": 30}, "too short for 24-week confirmed"),
    ({"disease": "SPMS"}, "disease 'SPMS'"),
    ({"control": "nobody"}, "control 'nobody'"),
    ({"endpoints": ()}, "at least one endpoint"),
    ({"weeks": 60}, "MRI week 96 is after the end"),
    ({"dropout": -0.1}, "dropout = -0.1"),
    ({"endpoints": ("T25FW",)}, "needs disease PPMS"),
    ({"endpoints": ("NHPT12",)}, "needs disease PPMS"),
    ({"endpoints": ("CCDP24",)}, "needs disease PPMS"),
    ({"walk_week": 120}, "walk_week = 120 is after the earliest analysis"),
    ({"walk_week": 0}, "walk_week = 0"),
    ({"walk_week": 100}, "walk_week = 100 is not a visit week"),
    ({"disease_duration": (5.0, 2.0)}, "disease_duration"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_designs_fail_before_computing(change: dict[str, object], message: str) -> None:
    with pytest.raises(DesignError, match=message):
        trials.preset("opera1").with_(**change)


def test_bad_arms_and_files(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="needs a regimen"):
        Arm("x", "ocrelizumab")
    with pytest.raises(DesignError, match="unknown treatment"):
        Arm("x", "rituximab")
    with pytest.raises(DesignError, match="rate_ratios"):
        Arm("x", "comparator", rate_ratios={"relapse": -1.0})
    with pytest.raises(DesignError, match="unknown rate_ratios keys"):
        Arm("x", "comparator", rate_ratios={"edss": 0.5})
    with pytest.raises(DesignError, match="expected a dose time"):
        Arm("x", "ocrelizumab", "600 mg IV sometimes")
    with pytest.raises(DesignError, match="needs disease RMS"):
        trials.preset("oratorio").with_(endpoints=("ARR",))
    with pytest.raises(DesignError, match="unknown design keys"):
        TrialDesign.from_dict({"preset": "opera1", "size": 10})
    with pytest.raises(DesignError, match="does not exist"):
        TrialDesign.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(DesignError, match="replicates"):
        trials.run_trial(trials.preset("opera1"), 0)
    with pytest.raises(DesignError, match="unknown trial preset"):
        trials.preset("ascleiad")
    with pytest.raises(InvalidInputError, match="Dask scheduler address"):
        trials.run_trial(trials.preset("opera1"), 1, bank_size=5, scheduler="  ")


@pytest.mark.prediction
def test_b_cell_guided_and_extended_dosing_keep_the_effect_with_fewer_doses() -> None:
    """Extended-interval and B-cell-guided dosing keep the effect with fewer doses.

    Source: [S32][S33][S34]
    Published: no loss of efficacy in EID cohorts: relapse-free 90.1% (standard) vs 90.5%
    (extended) [S32]; NEDA-3 HR 1.17 (p = 0.69) [S33]; 1 relapse each [S34].
    Tolerance: ARR rate ratio vs label within 0.12 of 1 (extended, every 33 weeks) and
    within 0.2 of 1 (guided, threshold 10 cells/uL); depletion effect above 0.97 on average
    in the last 20 weeks.
    Fits: none.
    """
    arms = (Arm("guided", "ocrelizumab", "iv", guided={"threshold": 10.0}),
            Arm("extended", "ocrelizumab", "iv-extended"), Arm("label", "ocrelizumab", "iv"))
    design = TrialDesign(name="EID", disease="RMS", arms=arms, allocation=(1, 1, 1), n=6000,
                         weeks=144, endpoints=("ARR",))
    bank = trials.build_bank(design, 400, SEED)
    label, guided = bank.doses["label"], bank.doses["guided"]
    assert np.all(label == 7) and np.all(bank.doses["extended"] == 6)
    assert guided.mean() < 6.0 and guided.min() >= 3
    for arm in ("guided", "extended"):   # depletion kept on average in the last 20 weeks
        assert bank.effect[arm][:, -20:].mean() > 0.97
    s = trials.run_trial(design, 3, SEED, bank=bank, workers=1).summary().set_index("arm")
    assert s.loc["extended", "estimate"] == pytest.approx(1.0, abs=0.12)
    assert s.loc["guided", "estimate"] == pytest.approx(1.0, abs=0.2)


def test_design_dropout_shortens_follow_up() -> None:
    bank = trials.build_bank(trials.preset("opera1"), 100, SEED)
    none, _ = trials.simulate_replicate(trials.preset("opera1").with_(dropout=0.0), bank, 1, 0)
    many, _ = trials.simulate_replicate(trials.preset("opera1").with_(dropout=0.5), bank, 1, 0)
    assert np.all(none.followup == 96)
    # exponential dropout 0.5/year: share completing 96 weeks = exp(−0.5·96/52.18) ≈ 0.40
    weeks_per_year = DAYS_PER_YEAR / DAYS_PER_WEEK
    assert np.mean(many.followup == 96) == pytest.approx(math.exp(-0.5 * 96 / weeks_per_year),
                                                         abs=0.05)


def test_weight_bands() -> None:
    design = trials.preset("opera1").with_(weight_range=(90.0, 200.0))
    bank = trials.build_bank(design, 200, SEED)
    assert bank.effect["ocrelizumab"].shape == (200, 96)
    pop = trials.bank_population(design, 200, SEED)
    assert pop.covariates["WT"].min() >= 90.0
    with pytest.raises(DesignError, match="widen the band"):
        trials.bank_population(trials.preset("opera1").with_(weight_range=(200.0, 201.0)), 100,
                               SEED)
    with pytest.raises(DesignError, match="weight_range"):
        trials.preset("opera1").with_(weight_range=(80.0, 60.0))
    with pytest.raises(DesignError, match="guided threshold"):
        Arm("g", "ocrelizumab", "iv", guided={"threshold": -1})


def test_pira_effect_is_smaller_than_the_overall_cdp_effect() -> None:
    # ocrelizumab acts on relapse-associated worsening through relapses and on PIRA through
    # imax_pira only: the PIRA hazard ratio lies between the CDP hazard ratio and 1
    design = trials.preset("opera").with_(endpoints=("CDP12", "PIRA12"))
    s = trials.run_trial(design, 8, SEED, bank_size=BANK, workers=1).summary()
    hr = s.set_index("endpoint")["estimate"]
    assert hr["CDP12"] < hr["PIRA12"] < 1.0
    assert hr["PIRA12"] == pytest.approx(1 - DISEASE.imax_pira.value, abs=0.12)


def _share_edss7(years: float, multiplier: float, n: int = 4000, seed: int = 3) -> float:
    """Share with true EDSS >= 7 after ``years`` (PPMS, ORATORIO baseline, no dropout, no
    rater error; constant PIRA multiplier)."""
    from ocrelisim.outcomes import (
        WEEKS_PER_YEAR,
        Schedule,
        constant_multipliers,
        simulate_outcomes,
    )

    p = DISEASE.replace(dropout_ppms=0.0, p_rater=0.0)
    weeks = round(years * WEEKS_PER_YEAR)
    out = simulate_outcomes(np.random.default_rng(seed),
                            constant_multipliers({"pira": multiplier}, n, weeks), "PPMS",
                            Schedule(weeks, 12, (), (12,)), p)
    return float((out.edss_last >= 7.0).mean())


@pytest.mark.calibration
def test_wheelchair_median_on_placebo() -> None:
    """Median time to EDSS >= 7 (requiring a wheelchair) on placebo from ORATORIO's baseline.

    Source: [S46b]
    Published: extrapolated median 12.1 years on placebo (ORATORIO); MSBase 12.4 years.
    Tolerance: share with EDSS >= 7 at 12.1 years within 0.5 ± 0.05 (true EDSS, 4,000
    patients, no dropout).
    Fits: ``edss_beta`` (with ``pira_ppms``; a constant step hazard gives about 6.5 years).
    """
    assert _share_edss7(12.1, 1.0) == pytest.approx(0.5, abs=0.05)


@pytest.mark.prediction
@pytest.mark.xfail(strict=True, reason="the effect at label doses is a constant PIRA multiplier "
                   "fitted to ORATORIO's 120-week HR (0.76); the extrapolated 19.2 years imply "
                   "about HR 0.54 [S46b]: the model's median is about 16 years")
def test_wheelchair_median_on_ocrelizumab() -> None:
    """Median time to EDSS >= 7 on continued ocrelizumab from ORATORIO's baseline.

    Source: [S46b]
    Published: extrapolated median 19.2 years (ocrelizumab) vs 12.1 years (placebo); HR 0.54
    (0.31-0.92) over the double-blind and extension periods.
    Tolerance: share with EDSS >= 7 at 19.2 years within 0.5 ± 0.05 (full depletion:
    multiplier 1 − imax_pira).
    Fits: none.
    """
    assert _share_edss7(19.2, 1.0 - DISEASE.imax_pira.value) == pytest.approx(0.5, abs=0.05)


def test_report_states_entry_criteria_and_follow_up_rule() -> None:
    from ocrelisim.reports.trial import enrolment_table, schedule_text

    t = enrolment_table(trials.preset("oratorio")).set_index("Criterion")["Value"]
    assert t["Age"] == "18-55 years" and t["Baseline EDSS"] == "3.0-6.5"
    assert "256 12-week confirmed progression events" in t["Follow-up"]
    assert "from week 120" in t["Follow-up"] and "at most week 168" in t["Follow-up"]
    assert "timed walk change at week 120" in schedule_text(trials.preset("oratorio"))
    opera = enrolment_table(trials.preset("opera")).set_index("Criterion")["Value"]
    assert opera["Follow-up"] == "fixed follow-up of 96 weeks"
    assert opera["Gd+ lesions at baseline"] == "any"


def test_walk_endpoint_is_the_ratio_of_mean_changes() -> None:
    rng = np.random.default_rng(1)
    treated = np.arange(4000) % 2 == 0
    change = np.where(treated, 38.9, 55.1) * rng.lognormal(0.0, 0.5, 4000)
    change[:10] = np.nan                                  # not measured: left out
    row = trials.mean_ratio(change, treated)
    ok = np.isfinite(change)
    want = change[ok & treated].mean() / change[ok & ~treated].mean()
    assert row["estimate"] == pytest.approx(want, rel=1e-12)
    assert row["lower"] < want < row["upper"] and row["p"] < 1e-6
    assert math.isnan(trials.mean_ratio(np.full(10, np.nan), treated[:10])["estimate"])


def test_event_driven_designs_keep_events_per_patient_when_resized() -> None:
    d = trials.preset("oratorio")
    small = d.resized(366)
    assert small.n == 366 and small.events_target == 128    # 256 × 366 / 732
    assert trials.preset("opera").resized(200).events_target is None
    custom = TrialDesign.from_dict({"preset": "oratorio", "n": 200})
    assert custom.events_target == 70 and custom.min_weeks == 120   # round(256 × 200 / 732)
    fixed = TrialDesign.from_dict({"preset": "oratorio", "n": 300, "events_target": 100})
    assert fixed.events_target == 100
