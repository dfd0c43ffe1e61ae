"""Infections in virtual trials (issue 13 item 3): drawn after every other draw of a replicate,
so the endpoint results are unchanged; rates equal the safety model's for the bank's IgG;
comparator arms are "not modelled", never given an invented rate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ocrelisim import trials
from ocrelisim.reports import infections_table
from ocrelisim.reports.trial import NOT_MODELLED
from ocrelisim.safety import INFECTIONS, serious_rate
from ocrelisim.trials._run import INFECTION_COLUMNS
from ocrelisim.units import DAYS_PER_YEAR

SEED = 11


@pytest.fixture(scope="module")
def opera() -> tuple[trials.TrialDesign, trials.PatientBank]:
    design = trials.preset("opera")
    return design, trials.build_bank(design, 300, SEED)


def test_infections_leave_the_trial_results_unchanged(
        opera: tuple[trials.TrialDesign, trials.PatientBank]) -> None:
    design, bank = opera
    design = design.with_(n=200)
    with_igg = trials.run_trial(design, 3, SEED, bank=bank, workers=1)
    # a bank without IgG draws no infections: the replicates' generators stop where they did
    # before infections existed
    without = trials.run_trial(design, 3, SEED, bank=dataclasses.replace(bank, igg={}),
                               workers=1)
    pd.testing.assert_frame_equal(with_igg.table, without.table, check_exact=True)
    assert without.infections.empty
    assert list(with_igg.infections.columns) == list(INFECTION_COLUMNS)
    assert with_igg.infections["replicate"].tolist() == [0, 1, 2]
    assert set(with_igg.infections["arm"]) == {0}  # the ocrelizumab arm only
    # workers in other processes draw the same infections
    forked = trials.run_trial(design, 3, SEED, bank=bank, workers=2)
    pd.testing.assert_frame_equal(forked.infections, with_igg.infections, check_exact=True)


def test_bank_keeps_weekly_igg(opera: tuple[trials.TrialDesign, trials.PatientBank]) -> None:
    design, bank = opera
    igg = bank.igg["ocrelizumab"]
    assert igg.shape == (300, design.weeks + 1) and igg.dtype == np.float32
    assert np.all(np.isfinite(igg)) and 3.0 < float(np.median(igg)) < 15.0  # g/L


def test_trial_infection_rates_are_the_safety_model(
        opera: tuple[trials.TrialDesign, trials.PatientBank]) -> None:
    """Pooled over 8 replicates of OPERA (about 12,000 patient-years on ocrelizumab): the
    non-serious rate equals ``nsi_rate`` and the serious rate the safety model's rate for the
    bank's IgG (patients drawn uniformly from the bank), each within 4 Poisson SE; dropout
    shortens the patient-years below the planned 96 weeks."""
    design, bank = opera
    res = trials.run_trial(design, 8, SEED, bank=bank, workers=1)
    inf = res.infections
    py = inf["patient_years"].sum()
    planned = (inf["patients"] * design.weeks * 7 / DAYS_PER_YEAR).sum()
    assert 0.8 * planned < py < planned
    non_serious = inf["infections"].sum() - inf["serious"].sum()
    want = INFECTIONS.nsi_rate.value
    assert abs(100 * non_serious / py - want) <= 4 * 100 * np.sqrt(want / 100 * py) / py
    expected = float(serious_rate(bank.igg["ocrelizumab"][:, :-1], "RMS").mean())
    serious = inf["serious"].sum()
    assert abs(100 * serious / py - expected) <= 4 * 100 * np.sqrt(expected / 100 * py) / py
    assert (inf["patients_with_serious"] <= inf["serious"]).all()
    assert (inf["patients_with_infection"] <= inf["patients"]).all()


def test_report_table_shows_published_values_and_not_modelled_comparators(
        opera: tuple[trials.TrialDesign, trials.PatientBank]) -> None:
    design, bank = opera
    res = trials.run_trial(design.with_(n=200), 2, SEED, bank=bank, workers=1)
    table = infections_table(res).set_index("Arm")
    share = "Patients with >= 1 infection: model (2.5-97.5%) / published"
    serious = "Patients with >= 1 serious infection: model (2.5-97.5%) / published"
    rate = "Infections per 100 PY: model (2.5-97.5%) / published"
    assert table.loc["interferon β-1a", share] == f"{NOT_MODELLED} / 52.0%"    # [S76]
    assert table.loc["interferon β-1a", serious] == f"{NOT_MODELLED} / 2.9%"   # [S12]
    assert table.loc["interferon β-1a", rate] == f"{NOT_MODELLED} / –"
    assert table.loc["ocrelizumab", share].endswith(" / 58.0%")                  # [S76]
    summary = res.infection_summary().set_index("arm")
    model = 100 * summary.loc["ocrelizumab", "share_with_infection"]
    assert table.loc["ocrelizumab", share].startswith(f"{model:.1f}% (")
    assert "[S76]" in table.loc["interferon β-1a", "Source"]
