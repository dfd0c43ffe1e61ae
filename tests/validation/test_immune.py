"""Immune model: published figures (calibration and prediction), directions, limits, bad input.

Every test against a published figure is marked ``calibration`` (the figure was used to fit the
parameters its docstring names) or ``prediction`` (not used in any fit), and states the source
key in shared/reference/ocrelizumab-facts.md, the figure and the tolerance; predictions the
model misses are strict xfails. Monte-Carlo figures use fixed seeds and 1,500-2,000 simulated
patients (binomial SE of a 20% fraction about 1 percentage point).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import ocrelisim as oc
from ocrelisim.engine import SolverOptions
from ocrelisim.engine._run import _needed_states
from ocrelisim.errors import InvalidInputError, InvalidParameterError
from ocrelisim.models import immune as im
from ocrelisim.models import pk
from ocrelisim.parameters import IMMUNE

FAST = SolverOptions(rtol=1e-6)
LLN = IMMUNE.lln_b.value
WEEK = 7.0
# Two 300 mg, then 600 mg on days 168 and 336; no further dose (repletion after the last).
STOP = "300 mg IV d0, d14; 600 mg IV q24w x2 from d168"
LAST = 336.0


def _immune(reg, pop, times, variables=None, **kw):  # type: ignore[no-untyped-def]
    return oc.simulate(reg, pop, times, model="immune", variables=variables, options=FAST, **kw)


def _binomial_95(share: float, n: int) -> float:
    """Half-width of the normal-approximation 95% interval of a published share of n."""
    return 1.96 * math.sqrt(share * (1.0 - share) / n)


@pytest.fixture(scope="module")
def stop_run() -> tuple[np.ndarray, oc.SimulationResult]:
    t = np.arange(0.0, LAST + 200 * WEEK)
    pop = oc.Population.sample(2000, "RMS", seed=7)
    return t, _immune(oc.Regimen.parse(STOP), pop, t, ["C", "B"])


@pytest.fixture(scope="module")
def repletion_weeks(stop_run) -> np.ndarray:  # type: ignore[no-untyped-def]
    t, r = stop_run
    thr = np.minimum(LLN, r.parameters["B0"].to_numpy())  # baseline or LLN, whichever first
    return (im.repletion_time(t, r.bcells, thr, after=LAST + 1.0) - LAST) / WEEK


# -- B cells: calibration targets ---------------------------------------------------------


@pytest.mark.calibration
def test_depletion_within_two_weeks(stop_run) -> None:  # type: ignore[no-untyped-def]
    """CD19 B cells are depleted by 2 weeks after the first infusion.

    Source: [S63] (clinic cohort, background statement)
    Published: "rapid and complete" CD19 depletion by 2 weeks (no number).
    Tolerance: median B cells on day 14 below 1% of the patient's baseline.
    Fits: ``emax`` and ``kout`` (with ``ec50``, to [S59] and [S52]) were fitted with this as a
    constraint: the drug's kill rate ``kout·emax`` must deplete within 2 weeks.
    """
    _, r = stop_run
    b0 = r.parameters["B0"].to_numpy()
    assert np.median(r.bcells[:, 14] / b0) < 0.01


@pytest.mark.prediction
@pytest.mark.xfail(strict=True, reason=(
    "known failing prediction: the model has no non-depleter subgroup (0% of patients keep "
    "normal counts). Not added: the abstract gives no mechanism beyond a guess at neutralising "
    "antibodies and no time course, so a mixture would be fitted to this figure alone"))
def test_non_depleters_keep_normal_counts(stop_run) -> None:  # type: ignore[no-untyped-def]
    """A small subgroup keeps normal CD19 counts despite ocrelizumab.

    Source: [S63]
    Published: 4 of 224 patients (1.7%) with consistently normal CD19 counts.
    Definition here: B cells at or above the LLN (``lln_b``, 80 cells/uL) on day 14.
    Tolerance: 0.5%-4.5%, the exact binomial 95% interval of 4/224.
    Fits: none.
    """
    _, r = stop_run
    share = float(np.mean(r.bcells[:, 14] >= LLN))
    assert 0.005 <= share <= 0.045, share


@pytest.mark.calibration
def test_median_repletion_72_weeks_after_last_infusion(repletion_weeks) -> None:  # type: ignore[no-untyped-def]
    """Time to B-cell repletion after the last infusion (label, low-grade source).

    Source: [S59]
    Published: median 72 weeks (range 27-175, not verified) to baseline or LLN, whichever first.
    Tolerance: median within 5 weeks of 72; 2.5th-97.5th percentiles inside 27-175 weeks.
    Fits: ``kout`` (with ``emax`` and ``ec50``) to the median; ``omega_kout`` to the range.
    """
    w = repletion_weeks
    w = np.where(np.isnan(w), np.inf, w)  # not repleted within 200 weeks: censored, late
    assert abs(np.median(w) - 72.0) <= 5.0
    lo, hi = np.percentile(w, [2.5, 97.5])
    assert 27.0 <= lo and hi <= 175.0


@pytest.mark.calibration
def test_deep_depletion_depends_on_dose_as_in_gavotte() -> None:
    """Deep B-cell depletion depends on the dose (GAVOTTE, PPMS).

    Source: [S52]
    Published: CD19 <= 0.4 cells/uL in 20.0% (600 mg) vs 30.8% (high dose).
    Definition here: read at the trough before the next dose, day 336 (the time point is not
    published; assumption). Doses: [S52] reports a "body-weight-adjusted" higher dose vs the
    approved 600 mg regimen but not the amounts, which the dossier does not give. Standard arm
    here: the label start (2 x 300 mg, then 600 mg). High-dose arm here: MUSETTE's weight bands
    [S51], 1200 mg below 75 kg and 1800 mg from 75 kg, each given as one infusion on days 0
    and 168. That GAVOTTE used MUSETTE's bands, and did not split the first high dose, is our
    assumption: a known discrepancy until GAVOTTE's doses are sourced.
    Tolerance: 600 mg within 4 points of 20.0% (tighter than the 95% binomial interval for
    253 patients, ±4.9); high dose within that interval for 500 patients (±4.0 points),
    assuming every randomised patient had a count.
    Fits: ``emax`` to the 600 mg share; ``ec50`` to the dose dependence (the high-dose share).
    """
    pop = oc.Population.sample(1500, "PPMS", seed=3)
    wt = pop.covariates["WT"].to_numpy()
    t = np.arange(0.0, 337.0)
    std = _immune(oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV d168"), pop, t, ["B"])
    high = _immune([oc.Regimen.parse(f"{d} mg IV d0; {d} mg IV d168")
                    for d in np.where(wt < 75.0, 1200, 1800)], pop, t, ["B"])
    f_std = float(np.mean(std.bcells[:, 336] <= 0.4))
    f_high = float(np.mean(high.bcells[:, 336] <= 0.4))
    assert abs(f_std - 0.200) <= 0.04
    assert abs(f_high - 0.308) <= _binomial_95(0.308, 500)
    assert f_high > f_std


@pytest.fixture(scope="module")
def rolfes_shares() -> tuple[float, float]:
    """Shares below the LLN when the next dose is given: standard, extended (+8.68 weeks)."""
    pop = oc.Population.sample(1500, "RMS", seed=5)
    t = np.arange(0.0, 600.0)
    r = _immune(oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV d168"), pop, t, ["B"])
    due_std = 168 + 168
    due_eid = due_std + round(8.68 * WEEK)
    return (float(np.mean(r.bcells[:, due_std] < LLN)),
            float(np.mean(r.bcells[:, due_eid] < LLN)))


@pytest.mark.prediction
@pytest.mark.xfail(strict=True, reason=(
    "known failing prediction: the model keeps about 99.5-99.9% of patients below the LLN "
    "when the next dose is given, where Rolfes 2021 found 82.6%/83.3%. Rolfes' threshold of "
    "'depletion' is not given: [B1] has only 3-5% of patients at 1% of lymphocytes (about 24 "
    "cells/uL) 6 months after a dose, as the model does (5%), so Rolfes' 17% not depleted "
    "must count against a threshold well below the LLN"))
def test_extended_interval_depletion_share_as_in_rolfes(rolfes_shares) -> None:  # type: ignore[no-untyped-def]
    """Share of patients still B-cell depleted at standard and extended dosing (Rolfes 2021).

    Source: [S32]
    Published: persistent CD19 depletion in 82.6% (standard interval, n = 202) vs 83.3%
    (extended interval, n = 116, median delay 8.68 weeks).
    Definition here: CD19 below the LLN (``lln_b``, 80 cells/uL) on the day the next dose is
    given (day 336, or 8.68 weeks later); the abstract gives neither the threshold nor the
    time point (assumption).
    Tolerance: the 95% binomial interval of each published share, assuming every patient had
    a count: 82.6% ± 5.3 points (n = 202) and 83.3% ± 6.8 points (n = 116).
    Fits: none.
    """
    f_std, f_eid = rolfes_shares
    assert abs(f_std - 0.826) <= 0.053, f_std
    assert abs(f_eid - 0.833) <= 0.068, f_eid


@pytest.mark.prediction
def test_extended_interval_keeps_depletion_as_in_rolfes(rolfes_shares) -> None:  # type: ignore[no-untyped-def]
    """A delay of 8.68 weeks barely changes the share still depleted (Rolfes 2021).

    Source: [S32]
    Published: 82.6% (standard, n = 202) vs 83.3% (extended, n = 116): difference standard
    minus extended −0.7 points (p = 0.463).
    Definition here: as in the test above (below ``lln_b`` when the next dose is given).
    Tolerance: the model's difference within ±8.6 points of −0.7 (95% interval of a difference
    of two binomial shares with these sizes).
    Fits: none.
    """
    f_std, f_eid = rolfes_shares
    assert abs((f_std - f_eid) - (-0.007)) <= 0.086, (f_std, f_eid)


# -- B cells: directions and limits -------------------------------------------------------


def test_no_drug_keeps_every_state_at_baseline() -> None:
    pop = oc.Population.sample(64, seed=2)
    t = np.linspace(0.0, 900.0, 31)
    r = _immune(oc.Regimen.parse("600 mg IV d1000"), pop, t)  # dose after the horizon
    b0 = r.parameters["B0"].to_numpy()
    np.testing.assert_allclose(r.bcells, np.repeat(b0[:, None], t.size, axis=1), rtol=1e-12)
    for name in ("CD20_T", "IFNG_CD4", "TREG", "NE_CD8", "B_CYTO"):
        np.testing.assert_allclose(r[name], 1.0, rtol=0, atol=1e-9)  # B·(1/B0) round-off
    np.testing.assert_allclose(r["IgG"], r["IgG"][:, :1] * np.ones(t.size), rtol=1e-12)


def test_more_drug_never_fewer_depleted() -> None:
    pop = oc.Population.sample(256, seed=4)
    t = np.arange(0.0, 500.0)
    lo = _immune(oc.Regimen.parse("600 mg IV d0"), pop, t, ["B"])
    hi = _immune(oc.Regimen.parse("1200 mg IV d0"), pop, t, ["B"])
    assert np.all(hi.bcells <= lo.bcells * (1 + 1e-6) + 1e-9)


def test_monotone_repletion_after_last_dose(stop_run) -> None:  # type: ignore[no-untyped-def]
    """After the last dose B cells settle to their lowest value, then only rise."""
    t, r = stop_run
    b = r.bcells[:, t >= LAST]
    lowest = np.argmin(b, axis=1)
    tol = 1e-6 * r.parameters["B0"].to_numpy()
    for i in range(b.shape[0]):
        assert np.all(np.diff(b[i, lowest[i]:]) >= -tol[i]), i
    assert np.all(b[:, -1] > b[np.arange(b.shape[0]), lowest])


@pytest.mark.prediction
def test_sc_and_iv_both_deplete_and_sc_depletes_deeper() -> None:
    """SC 920 mg and IV 2 x 300 mg both deplete B cells rapidly and for 24 weeks (OCARINA II).

    Source: [S9] (B cells), [S8] (SC AUC 1.29 x IV, which makes SC depletion deeper here)
    Published: rapid, sustained depletion in both arms (no numbers in the abstract).
    Tolerance: median B cells on day 14 below LLN/10 and more than 90% of patients below the
    LLN on day 168 in both arms; at least as many SC as IV patients at <= 0.4 cells/uL.
    Fits: none (no immune parameter was fitted to OCARINA II; ``f_sc`` was fitted to [S8]'s
    AUC ratio, not to B cells).
    """
    pop = oc.Population.sample(1000, seed=8)
    t = np.arange(0.0, 169.0)
    iv = _immune(oc.Regimen.parse("300 mg IV d0, d14"), pop, t, ["B"])
    sc = _immune(oc.Regimen.parse("920 mg SC d0"), pop, t, ["B"])
    for r in (iv, sc):
        assert np.median(r.bcells[:, 14]) < LLN / 10
        assert np.mean(r.bcells[:, 168] < LLN) > 0.9
    assert np.mean(sc.bcells[:, 168] <= 0.4) >= np.mean(iv.bcells[:, 168] <= 0.4)


def test_heavier_patients_are_less_deeply_depleted() -> None:
    pop = oc.Population.typical([50.0, 75.0, 110.0])
    r = _immune(oc.Regimen.preset("iv"), pop, np.arange(0.0, 337.0), ["B"])
    trough = r.bcells[:, 336]
    assert np.all(np.diff(trough) > 0)


def test_missed_and_delayed_doses_let_b_cells_return_earlier() -> None:
    pop = oc.Population.sample(500, seed=9)
    base = oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV q24w x3 from d168")
    t = np.arange(0.0, 700.0)
    full = _immune(base, pop, t, ["B"])
    late = _immune(base.with_delay(3, 120.0), pop, t, ["B"])  # the d336 dose 120 days late
    day = 336 + 110  # just before the delayed dose
    assert np.mean(late.bcells[:, day] >= LLN) > np.mean(full.bcells[:, day] >= LLN)
    assert np.median(late.bcells[:, day]) > np.median(full.bcells[:, day])


# -- T cells and cytokines: directions and time points -----------------------------------


@pytest.fixture(scope="module")
def tcell_run() -> oc.SimulationResult:
    pop = oc.Population.sample(500, "PPMS", seed=6)
    return _immune(oc.Regimen.preset("iv"), pop, np.arange(0.0, 366.0))


@pytest.mark.calibration
def test_two_weeks_b_cells_down_t_cells_not_yet(tcell_run) -> None:  # type: ignore[no-untyped-def]
    """At 2 weeks B-cell pathways are suppressed and T-cell changes have not yet come.

    Source: [S38][S39]
    Published: directions only (pathway scores, gene counts at 2 weeks and 6 months).
    Tolerance: median B-cell cytokine index below 0.05; every T-cell index within 0.05 of 1.
    Fits: ``t_delay``, chosen so that less than 5% of the T-cell change is present at 2 weeks.
    """
    r = tcell_run
    assert np.median(r["B_CYTO"][:, 14]) < 0.05
    for name in ("IFNG_CD4", "IFNG_CD8", "TH17", "GMCSF_T", "TREG", "NE_CD4", "NE_CD8"):
        assert abs(np.median(r[name][:, 14]) - 1.0) < 0.05, name


@pytest.mark.calibration
def test_six_months_t_cell_directions(tcell_run) -> None:  # type: ignore[no-untyped-def]
    """Directions of the T-cell and cytokine changes at 6 (and 12) months.

    Source: [S40] (PPMS, 6 months), [S39], [S36]
    Published: IFN-g+ CD4 (p=0.03) and CD8 (p=0.004) down, naive/effector ratios up, CD20+ T
    cells down (p<0.0001), Treg trend up, cytokine-producing B cells down [S40]; Th17 pathways
    quieted [S39]; CD20+ T cells down at 6 and 12 months [S36]. Directions only, no sizes.
    Tolerance: medians on day 182 below 0.9 (IFN-g CD4/CD8, Th17), below 0.95 (GM-CSF), above
    1.1 (naive/effector) and 1.0 (Treg); CD20+ T cells below 0.5 at 6 and 12 months; B-cell
    cytokines below 0.05.
    Fits: the effect sizes ``s_ifng_cd4``, ``s_ifng_cd8``, ``s_th17``, ``s_gmcsf_t``,
    ``s_treg``, ``s_ne_cd4``, ``s_ne_cd8`` and ``emax_t20`` were chosen (assumptions) with these
    directions, and ``t_delay`` so that more than 80% of the change is present at 6 months.
    (No order of effect sizes is asserted: [S40] gives p-values, not sizes.)
    """
    r = tcell_run
    m = {name: float(np.median(r[name][:, 182])) for name in r.names}
    assert m["IFNG_CD4"] < 0.9 and m["IFNG_CD8"] < 0.9 and m["TH17"] < 0.9
    assert m["GMCSF_T"] < 0.95
    assert m["NE_CD4"] > 1.1 and m["NE_CD8"] > 1.1 and m["TREG"] > 1.0
    assert m["CD20_T"] < 0.5 and np.median(r["CD20_T"][:, 365]) < 0.5
    assert m["B_CYTO"] < 0.05


def test_t_cell_bands_show_uncertainty(tcell_run) -> None:  # type: ignore[no-untyped-def]
    lo, hi = np.percentile(tcell_run["IFNG_CD4"][:, 182], [5, 95])
    assert hi - lo > 0.1  # the assumed effect sizes vary between patients


def test_every_output_says_what_is_measured() -> None:
    assert set(im.MEASURED) == set(im.OUTPUTS)


# -- immunoglobulins ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ig_runs() -> dict[str, oc.SimulationResult]:
    weeks = np.arange(0.0, 313.0)
    reg = oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV q24w x13 from d168")
    return {d: _immune(reg, oc.Population.sample(2000, d, seed=12), weeks * WEEK,
                       ["IgG", "IgM", "IgA"]) for d in ("RMS", "PPMS")}


@pytest.mark.calibration
def test_ig_relative_decline_at_week_264(ig_runs) -> None:  # type: ignore[no-untyped-def]
    """Mean relative immunoglobulin decline, baseline to week 264, RMS.

    Source: [S22]
    Published: IgG −17.0%, IgA −21.3%, IgM −58.1%.
    Tolerance: within 2.0 (IgG), 2.5 (IgA) and 4.0 (IgM) percentage points.
    Fits: ``f_igg``, ``f_iga``, ``f_igm`` (each set exactly from its figure by
    tools/calibrate_ig.py), given the assumed plasma-cell turnover ``k_pc``.
    """
    r = ig_runs["RMS"]
    for name, published, tol in (("IgG", -17.0, 2.0), ("IgA", -21.3, 2.5), ("IgM", -58.1, 4.0)):
        change = 100.0 * (np.mean(r[name][:, 264]) / np.mean(r[name][:, 0]) - 1.0)
        assert abs(change - published) <= tol, (name, change)


@pytest.mark.prediction
def test_igg_declines_about_3_percent_a_year(ig_runs) -> None:  # type: ignore[no-untyped-def]
    """Mean IgG declines about 3% per year over the first 4 years.

    Source: [S21]
    Published: mean IgG decline about 3% per year.
    Tolerance: 2.0-4.5% per year (geometric, weeks 0-208).
    Fits: none; not independent, though: ``f_igg`` was fitted to −17.0% at week 264 [S22].
    """
    g = np.mean(ig_runs["RMS"]["IgG"], axis=0)
    yearly = 100.0 * (1.0 - (g[52 * 4] / g[0]) ** 0.25)
    assert 2.0 <= yearly <= 4.5


@pytest.mark.calibration
def test_igg_below_lln_share_over_years_rms(ig_runs) -> None:  # type: ignore[no-untyped-def]
    """Share of RMS patients with IgG below the LLN (OPERA OCR-OCR).

    Source: [S21] (LLN 5.65 g/L [S22])
    Published: 1.5% at week 96 and 7.7% at week 312.
    Tolerance: within 1 point (week 96) and 2 points (week 312).
    Fits: ``igg0`` and ``omega_igg0`` (baseline IgG distribution), given ``f_igg`` and
    ``k_pc`` (tools/calibrate_ig.py).
    """
    lln = IMMUNE.lln_igg.value
    rms = ig_runs["RMS"].fraction_below("IgG", lln, "g/L")
    assert abs(rms[96] - 0.015) <= 0.01
    assert abs(rms[312] - 0.077) <= 0.02


@pytest.mark.prediction
def test_igg_below_lln_share_week_120_ppms(ig_runs) -> None:  # type: ignore[no-untyped-def]
    """Share of PPMS patients with IgG below the LLN at week 120 (ORATORIO OCR-OCR).

    Source: [S21] (LLN 5.65 g/L [S22]; 488 on ocrelizumab, 732 at 2:1 [S13][S14])
    Published: 1.1% at week 120.
    Tolerance: the 95% binomial interval of 1.1% of 488 (±0.9 points); fewer patients
    measured would widen it.
    Fits: none (the Ig parameters were fitted to the RMS figures).
    """
    ppms = ig_runs["PPMS"].fraction_below("IgG", IMMUNE.lln_igg.value, "g/L")
    assert abs(ppms[120] - 0.011) <= _binomial_95(0.011, 488), ppms[120]


@pytest.mark.prediction
@pytest.mark.xfail(strict=True, reason=(
    "known failing prediction: the model puts about 8.2% of PPMS patients below the IgG LLN "
    "at week 312 vs 5.1% published: the IgG baseline and its decline are those fitted to RMS "
    "(7.7% [S21]); no PPMS baseline IgG is in the dossier"))
def test_igg_below_lln_share_week_312_ppms(ig_runs) -> None:  # type: ignore[no-untyped-def]
    """Share of PPMS patients with IgG below the LLN at week 312 (ORATORIO OCR-OCR).

    Source: [S21] (LLN 5.65 g/L [S22]; 488 on ocrelizumab, 732 at 2:1 [S13][S14])
    Published: 5.1% at week 312.
    Tolerance: the 95% binomial interval of 5.1% of 488 (±2.0 points). The number measured
    at week 312 is not in the dossier; the model's 8.2% would lie inside the interval only if
    fewer than about 200 patients were measured.
    Fits: none (the Ig parameters were fitted to the RMS figures).
    """
    ppms = ig_runs["PPMS"].fraction_below("IgG", IMMUNE.lln_igg.value, "g/L")
    assert abs(ppms[312] - 0.051) <= _binomial_95(0.051, 488), ppms[312]


# Held out before the Ig fit (issue 12 item 7): no fit used the figures below; they are also
# rows of docs/validation.md (tools/validation_table.py, same seeds and settings).


@pytest.fixture(scope="module")
def ig_long() -> oc.SimulationResult:
    """12 years of label dosing, 2,000 RMS patients, weekly."""
    reg = oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV q24w x26 from d168")
    return _immune(reg, oc.Population.sample(2000, "RMS", seed=12),
                   np.arange(0.0, 627.0) * WEEK, ["IgG", "IgM"])


@pytest.mark.prediction
@pytest.mark.parametrize(("weeks", "normal"), [(365, 0.90), (626, 0.85)])
def test_igg_stays_normal_over_7_and_12_years(ig_long, weeks: int, normal: float) -> None:  # type: ignore[no-untyped-def]
    """IgG stays at or above the LLN in most patients over 7 and 12 years.

    Source: [S21] (LLN 5.65 g/L [S22])
    Published: IgG normal in more than 90% of patients up to 7 years and more than 85% over
    12 years.
    Definition here: the lowest share of patients at or above the LLN over weeks 0-365 and
    0-626 of label dosing (RMS population; the published cohort pools RMS and PPMS).
    Tolerance: above 90% and 85%.
    Fits: none (held out before the Ig fit).
    """
    below = ig_long.fraction_below("IgG", IMMUNE.lln_igg.value, "g/L")
    assert 1.0 - np.max(below[: weeks + 1]) > normal


@pytest.mark.prediction
def test_ig_decline_at_week_264_in_ppms(ig_runs) -> None:  # type: ignore[no-untyped-def]
    """Mean relative immunoglobulin decline, baseline to week 264, PPMS (a sub-population).

    Source: [S22]
    Published: IgG −16.9%, IgA −20.5%, IgM −56.3%.
    Tolerance: as for RMS, within 2.0 (IgG), 2.5 (IgA) and 4.0 (IgM) percentage points.
    Fits: none (the Ig parameters were fitted to the RMS figures).
    """
    r = ig_runs["PPMS"]
    for name, published, tol in (("IgG", -16.9, 2.0), ("IgA", -20.5, 2.5), ("IgM", -56.3, 4.0)):
        change = 100.0 * (np.mean(r[name][:, 264]) / np.mean(r[name][:, 0]) - 1.0)
        assert abs(change - published) <= tol, (name, change)


@pytest.mark.prediction
@pytest.mark.parametrize(("name", "published", "tol"), [
    ("IgG", -0.38, 0.19), ("IgM", -0.22, 0.11), ("IgA", -0.03, 0.10)])
def test_real_world_ig_change_per_year(ig_runs, name: str, published: float, tol: float) -> None:  # type: ignore[no-untyped-def]
    """Mean Ig change per year in a real-world cohort.

    Source: [S77]
    Published: 152 patients, mean follow-up 2.7 years: IgM −0.22, IgG −0.38, IgA −0.03 g/L
    per year.
    Definition here: mean change from baseline to week 141 (2.7 years) divided by 2.7, RMS.
    Tolerance: ±0.19 (IgG), ±0.11 (IgM), ±0.10 (IgA) g/L per year: no interval was published;
    our choice, half the published IgG and IgM slopes.
    Fits: none.
    """
    x = ig_runs["RMS"][name]
    slope = float(np.mean(x[:, 141] - x[:, 0])) / 2.7
    assert abs(slope - published) <= tol, slope


@pytest.mark.prediction
@pytest.mark.parametrize(("name", "below", "total"), [
    ("IgG", 352.0, 352.0 + 11174.0), ("IgM", 2573.0, 2573.0 + 8954.0),
    pytest.param("IgA", 351.0, 351.0 + 11164.0, marks=pytest.mark.xfail(strict=True, reason=(
        "known failing prediction: the model gives about 1.4% of patient-years below the IgA "
        "LLN vs 3.0%: the baseline IgA distribution is an assumption (none in the dossier)")))])
def test_patient_years_below_lln(ig_runs, name: str, below: float, total: float) -> None:  # type: ignore[no-untyped-def]
    """Share of patient-years with each immunoglobulin below its LLN.

    Source: [S74] (LLN [S22]; 1,448 of the 2,092 patients RMS [S60])
    Published: IgG 352 of 11,526, IgM 2,573 of 11,527, IgA 351 of 11,515 patient-years below
    the LLN (OPERA/ORATORIO and extensions, 2,092 patients, about 5.5 years each).
    Definition here: mean share below the LLN over weeks 0-287 (5.5 years), RMS and PPMS
    weighted 1,448 : 644, everyone followed for 5.5 years (assumption).
    Tolerance: within ±30% of the published share (no interval published; patient-years are
    not independent; our choice).
    Fits: none.
    """
    lln = getattr(IMMUNE, f"lln_{name.lower()}").value
    py = {d: float(np.mean(ig_runs[d].fraction_below(name, lln, "g/L")[:288]))
          for d in ("RMS", "PPMS")}
    model = (1448.0 * py["RMS"] + 644.0 * py["PPMS"]) / 2092.0
    assert abs(model / (below / total) - 1.0) <= 0.30, model


# -- API and bad input ----------------------------------------------------------------------


def test_named_variables_in_result_and_tables() -> None:
    pop = oc.Population.sample(10, seed=1)
    r = _immune(oc.Regimen.preset("iv"), pop, [0.0, 14.0, 28.0], ["C", "B", "IgG"])
    assert r.names == ("C", "B", "IgG")
    assert r.units["B"] == "cells/uL" and r.units["IgG"] == "g/L"
    assert r.bcells.shape == (10, 3)
    df = r.to_pandas()
    assert {"ID", "TIME", "C", "B", "IgG"} <= set(df.columns)
    assert set(r.to_xarray().data_vars) == {"C", "B", "IgG"}
    full = _immune(oc.Regimen.preset("iv"), pop, [0.0, 14.0, 28.0])
    # selection changes values only within the solver tolerance (other states, other steps)
    np.testing.assert_allclose(full["B"], r["B"], rtol=1e-5)


def test_unknown_variable_is_refused() -> None:
    pop = oc.Population.sample(4, seed=1)
    with pytest.raises(InvalidInputError, match="unknown"):
        _immune(oc.Regimen.preset("iv"), pop, [0.0, 1.0], ["C", "Bcells"])


def test_unknown_model_is_refused() -> None:
    pop = oc.Population.sample(4, seed=1)
    with pytest.raises(InvalidInputError, match="unknown model"):
        oc.simulate(oc.Regimen.preset("iv"), pop, [0.0, 1.0], model="bcell")


def test_threshold_in_wrong_unit_is_refused() -> None:
    pop = oc.Population.sample(4, seed=1)
    r = _immune(oc.Regimen.preset("iv"), pop, [0.0, 14.0], ["B"])
    assert r.fraction_below("B", 80.0, "cells/mm3")[1] == 1.0  # alias of cells/uL
    with pytest.raises(InvalidInputError, match="does not match"):
        r.fraction_below("B", 0.08, "cells/nL")
    with pytest.raises(InvalidInputError, match=">= 0"):
        r.fraction_below("B", -1.0, "cells/uL")


def test_negative_counts_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=">= 0"):
        im.repletion_time(np.array([0.0, 1.0]), np.array([[5.0, -1.0]]), 80.0, after=0.0)
    with pytest.raises(InvalidInputError, match="threshold"):
        im.repletion_time(np.array([0.0, 1.0]), np.array([[5.0, 1.0]]), 0.0, after=0.0)
    with pytest.raises(InvalidParameterError):
        IMMUNE.replace(b0=-10.0)


def test_immune_draws_are_reproducible_and_kept_by_subset() -> None:
    a = oc.Population.sample(20, seed=3)
    b = oc.Population.sample(20, seed=3)
    assert a == b and a.immune_eta is not None
    np.testing.assert_array_equal(a.subset([2, 5]).immune_eta, a.immune_eta[[2, 5]])
    with pytest.raises(InvalidParameterError, match=r"etas\['immune'\] must be finite"):
        oc.Population(a.covariates, a.params, a.seed, {"immune": np.zeros((3, 2))})


# -- in-kernel reductions of B cells -----------------------------------------------------


def test_in_kernel_b_cell_reductions_match_trajectories() -> None:
    """Time below LLN and time to repletion reduced in the solver, against fine trajectories;
    a summary-only run (no trajectories) gives the same numbers."""
    pop = oc.Population.sample(200, seed=4)
    reg = oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV d168")
    dt = 0.05
    t = np.arange(0.0, 1500.0, dt)
    windows = [[0.0, 168.0], [169.0, 1500.0]]
    r = _immune(reg, pop, t, ["B"], intervals=windows, reduce={"B": LLN})
    m = r.metrics["B"]
    rep = im.repletion_time(t, r.bcells, LLN, after=169.0)
    assert np.array_equal(np.isnan(m.first_above[:, 1]), np.isnan(rep))
    np.testing.assert_allclose(m.first_above[:, 1], rep, atol=0.01, equal_nan=True)
    inside = (t >= 169.0) & (t < 1500.0)
    below = np.sum(r.bcells[:, inside] <= LLN, axis=1) * dt
    np.testing.assert_allclose(m.time_below[:, 1], below, atol=2 * dt)
    assert np.all(m.first_above[:, 0] == 0.0)  # above the LLN at the start (baseline)
    summary = oc.simulate(reg, pop, None, model="immune", variables=["B"], intervals=windows,
                          reduce={"B": LLN}, trajectories=False, options=FAST)
    np.testing.assert_array_equal(summary.metrics["B"].first_above, m.first_above)
    assert set(m.to_pandas().columns) >= {"TIME_BELOW", "FIRST_ABOVE"}


def test_reduce_needs_intervals_and_known_outputs() -> None:
    pop = oc.Population.sample(4, seed=1)
    reg = oc.Regimen.preset("iv")
    with pytest.raises(InvalidInputError, match="intervals"):
        _immune(reg, pop, [0.0, 1.0], reduce={"B": 80.0})
    with pytest.raises(InvalidInputError, match="further outputs"):
        _immune(reg, pop, [0.0, 1.0], intervals=[[0, 1]], reduce={"Bcells": 80.0})
    with pytest.raises(InvalidInputError, match="finite number"):
        _immune(reg, pop, [0.0, 1.0], intervals=[[0, 1]], reduce={"B": -1.0})


def test_immune_results_do_not_depend_on_thread_count() -> None:
    pop = oc.Population.sample(300, seed=13)
    t = np.arange(0.0, 400.0, 5.0)
    runs = [oc.simulate(oc.Regimen.preset("iv"), pop, t, model="immune",
                        options=SolverOptions(rtol=1e-6, lanes=16, threads=k)) for k in (1, 2)]
    for name in runs[0].names:
        np.testing.assert_allclose(runs[0][name], runs[1][name], rtol=1e-12, atol=0)


def test_selected_outputs_equal_the_full_run() -> None:
    # Only the states behind the kept outputs are interpolated, and only the linear states they
    # need are integrated: the kept values agree with the full run to the solver tolerance
    # (the step sequence differs), and exactly when the same states are integrated.
    pop = oc.Population.sample(70, seed=4)
    times = np.arange(0.0, 400.0, 1.5)
    reg = oc.Regimen.preset("iv", 1)
    full = oc.simulate(reg, pop, times, model="immune")
    b0 = float(full.parameters["B0"].min())
    for names in (["B"], ["B_CYTO", "IgM"], ["TREG", "C"], ["CD20_T"]):
        part = oc.simulate(reg, pop, times, model="immune", variables=names)
        assert part.n_steps == full.n_steps  # the PK steps do not depend on the linear states
        assert part.n_substeps <= full.n_substeps
        for name in names:
            # B cells: two runs may each be off by the accuracy contract (1e-4 cells/µL)
            atol = {"B": 2e-4, "B_CYTO": 2e-4 / b0}.get(name, 1e-9)
            np.testing.assert_allclose(part[name], full[name], rtol=2e-7, atol=atol)
    pk_only = oc.simulate(reg, pop, times, model="immune", variables=["C"])
    assert pk_only.n_substeps == 0 and full.n_substeps > full.n_steps
    np.testing.assert_array_equal(pk_only["C"], full["C"])
    every = [v for v in full.names if v not in ("C", "IFNG_CD8", "B_CYTO")]  # same states
    again = oc.simulate(reg, pop, times, model="immune", variables=every)
    for name in every:
        np.testing.assert_array_equal(again[name], full[name])


@pytest.mark.parametrize(("names", "integrated"), [
    (["C"], []),
    (["B"], [*im.STATES[3:6], "bcells"]),  # the maturation chain feeds the B cells
    (["CD20_T"], ["cd20_t"]),
    (["IFNG_CD4"], [*im.STATES[3:6], "bcells", "t_delay1", "t_delay2"]),
    (["C", "IgA"], [*im.STATES[3:6], "bcells", "plasma", "iga"]),
    (list(im.OUTPUTS), list(im.STATES[3:])),
])
def test_only_the_linear_states_the_outputs_need_are_integrated(
        names: list[str], integrated: list[str]) -> None:
    spec = im.IMMUNE_MODEL
    dense, active, nodes = _needed_states(spec, [spec.outputs.index(v) for v in names])
    assert [spec.states[i] for i in active] == integrated
    assert set(dense) <= set(range(3)) | set(active)
    assert list(nodes) == ([pk.CENTRAL] if integrated else [])


def test_linear_reads_must_name_earlier_states() -> None:
    spec = im.IMMUNE_MODEL
    for bad in (spec.linear_reads[:-1], ((9,), *spec.linear_reads[1:])):
        with pytest.raises(InvalidParameterError, match="linear_reads needs one entry"):
            dataclasses.replace(spec, linear_reads=bad)


def test_immune_states_leave_the_pk_solution_unchanged() -> None:
    # Multirate: the PK steps are controlled by the PK states alone and the immune states cross
    # them in substeps, so the concentrations are those of the PK model, bit for bit.
    pop = oc.Population.sample(130, seed=3)
    t = np.arange(0.0, 500.0, 0.5)
    reg = oc.Regimen.parse("300 mg IV d0, d14; 600 mg IV d168; 920 mg SC d336")
    pk_run = oc.simulate(reg, pop, t)
    for variables in (None, ["C", "B"]):
        r = oc.simulate(reg, pop, t, model="immune", variables=variables)
        np.testing.assert_array_equal(r["C"], pk_run["C"])
        assert r.n_steps == pk_run.n_steps and r.n_substeps > r.n_steps
