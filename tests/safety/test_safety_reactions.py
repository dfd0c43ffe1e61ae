"""Infusion and injection reactions: calibrated rates (fixed seeds, stated tolerances), the
label's management as time, shapes, and bad input.

Calibration tests reproduce the figure each parameter was fitted to by
``tools/calibrate_reactions.py`` (quadrature); here the sampler must give it back within
about 4 Monte Carlo standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ocrelisim.errors import InvalidInputError, InvalidParameterError
from ocrelisim.safety.parameters import REACTIONS, ReactionParameters
from ocrelisim.safety.reactions import (
    COLUMNS,
    SYMPTOMS,
    Visit,
    _extra_minutes,
    label_course,
    sample_course_reactions,
    sample_infusion_reactions,
)

MEAN_YEARS = 18218.0 / 5680.0  # [S20]: all-exposure patient-years / patients


def _share_any(table: pd.DataFrame, column: str = "irr") -> float:
    return float(table.groupby("patient")[column].any().mean())


# ---- calibration ----------------------------------------------------------------------------

@pytest.mark.calibration
def test_opera_share_of_patients_with_an_irr() -> None:
    """Calibration. Source: [S18] OPERA I/II, ocrelizumab arm over 96 weeks (infusions 300, 300,
    600, 600, 600 mg). Published: 34.3% of patients with >= 1 IRR. Tolerance: ±0.6 points
    (4 SE at n = 100,000). Fits: ``irr_intercept``, ``irr_first_extra``, ``irr_frailty_sd``
    (jointly with the ORATORIO share and the all-exposure rate)."""
    assert [v.dose_mg for v in label_course(4)] == [300.0, 300.0, 600.0, 600.0, 600.0]
    table = sample_course_reactions(label_course(4), 100_000, rng=11)
    assert abs(_share_any(table) - 0.343) <= 0.006


@pytest.mark.calibration
def test_oratorio_share_of_patients_with_an_irr() -> None:
    """Calibration. Source: [S18] ORATORIO, 2 x 300 mg every 24 weeks for >= 120 weeks (12
    infusions assumed). Published: 39.9%. Tolerance: ±0.6 points (4 SE at n = 100,000).
    Fits: ``irr_intercept``, ``irr_first_extra``, ``irr_frailty_sd``."""
    course = [Visit(k, 300.0) for k in range(1, 13)]
    table = sample_course_reactions(course, 100_000, rng=12)
    assert abs(_share_any(table) - 0.399) <= 0.006


@pytest.mark.calibration
def test_all_exposure_irr_rate_per_100_patient_years() -> None:
    """Calibration. Source: [S20] all exposure (5,680 patients, 18,218 PY; every patient taken
    as treated for the mean 3.21 years = 8 label infusions). Published: 25.9 IRRs per 100 PY
    (95% CI 25.1-26.6). Tolerance: ±0.7 per 100 PY (within the published CI; about 5 SE at
    n = 100,000). Fits: ``irr_intercept``, ``irr_first_extra``, ``irr_frailty_sd``."""
    table = sample_course_reactions(label_course(7), 100_000, rng=13)
    assert len(label_course(7)) == 8
    rate = table["irr"].sum() / (100_000 * MEAN_YEARS) * 100.0
    assert abs(rate - 25.9) <= 0.7


@pytest.mark.calibration
def test_shorter_infusion_odds_ratio_matches_ensemble_plus() -> None:
    """Calibration. Source: [S15] ENSEMBLE PLUS, first randomised 600 mg dose (infusion 3
    assumed). Published: IRR 24.6% (2 h) vs 23.1% (3.5 h), odds ratio 1.086. Tolerance: ±0.02
    on the odds ratio (common random numbers: same seed and frailty in both arms).
    Fits: ``irr_log_or_shorter``."""
    frailty = np.random.default_rng(14).normal(0.0, REACTIONS.irr_frailty_sd.value, 400_000)
    std = sample_infusion_reactions(Visit(3, 600.0), 400_000, 15, frailty=frailty)["irr"].mean()
    short = sample_infusion_reactions(Visit(3, 600.0, protocol="shorter"), 400_000, 15,
                                      frailty=frailty)["irr"].mean()
    odds_ratio = (short / (1 - short)) / (std / (1 - std))
    published = (0.246 / 0.754) / (0.231 / 0.769)
    assert abs(odds_ratio - published) <= 0.02


@pytest.mark.parametrize("protocol, slowed, irr", [("standard", 4.8, 23.1),
                                                   ("shorter", 8.7, 24.6)])
@pytest.mark.calibration
def test_share_of_irrs_slowed_or_interrupted(protocol: str, slowed: float, irr: float) -> None:
    """Calibration. Source: [S15] ENSEMBLE PLUS, first randomised dose. Published: infusion
    slowed or interrupted in 4.8% (3.5 h) / 8.7% (2 h) of patients, IRR in 23.1% / 24.6%.
    Tolerance: ±0.01 on the share of IRRs managed (about 4 SE at n = 400,000).
    Fits: ``p_during_standard``, ``p_during_shorter`` (every IRR during the infusion is
    slowed or stopped: assumption)."""
    table = sample_infusion_reactions(Visit(3, 600.0, protocol=protocol), 400_000, 16)  # type: ignore[arg-type]
    managed = table.loc[table["irr"], "action"].ne("none").mean()
    assert abs(managed - slowed / irr) <= 0.01


@pytest.mark.calibration
def test_severe_share_of_irrs() -> None:
    """Calibration. Source: [S15] ENSEMBLE PLUS. Published: 1 severe IRR per arm among 67 + 71
    patients with IRRs (1.45%). Tolerance: ±0.3 points (about 4 SE with ~34,000 IRRs).
    Fits: ``p_severe``."""
    table = sample_infusion_reactions(Visit(3, 600.0), 400_000, 17)
    share = (table.loc[table["irr"], "grade"] == 3).mean()
    assert abs(share - 2 / 138) <= 0.003


@pytest.mark.calibration
def test_share_of_patients_with_a_serious_irr() -> None:
    """Calibration. Source: [S19] US label (MS trials). Published: 0.3% of patients had a
    serious IRR (OPERA course assumed). Tolerance: ±0.04 points (4 SE at n = 300,000).
    Fits: ``p_serious_if_severe``."""
    table = sample_course_reactions(label_course(4), 300_000, rng=18)
    assert abs(_share_any(table, "serious") - 0.003) <= 0.0004


@pytest.mark.parametrize("column, published", [("local", 0.779), ("systemic", 0.237)])
@pytest.mark.calibration
def test_sc_injection_reaction_shares(column: str, published: float) -> None:
    """Calibration. Source: [S11] OCARINA I, 131 patients on 1200 or 920 mg SC over a median 96
    weeks (4 injections assumed). Published: local 77.9%, systemic 23.7% of patients.
    Tolerance: ±0.6 points (4 SE at n = 100,000). Fits: ``sc_p_local``, ``sc_p_systemic``."""
    course = [Visit(k, 920.0, route="SC") for k in range(1, 5)]
    table = sample_course_reactions(course, 100_000, rng=19)
    assert abs(_share_any(table, column) - published) <= 0.006


@pytest.mark.xfail(strict=True, reason="known gap: the model gives 8.6% at infusion 3; see "
                                       "the reactions module docstring")
@pytest.mark.prediction
def test_ensemble_plus_per_infusion_rate() -> None:
    """Prediction (known to fail). Source: [S15] ENSEMBLE PLUS. Published: 23.1% of patients
    with an IRR at the first randomised 600 mg dose (3.5 h). Tolerance: ±2 points.
    Fits: none (fitting it instead gives 57.8 IRRs per 100 PY against 25.9 [S20])."""
    table = sample_infusion_reactions(Visit(3, 600.0), 100_000, 20)
    assert abs(table["irr"].mean() - 0.231) <= 0.02


def test_first_infusion_is_the_highest() -> None:
    """[S19]: highest incidence with the first infusion; the model decreases with the number."""
    table = sample_course_reactions(label_course(4), 50_000, rng=21)
    by_number = table.groupby("number")["irr"].mean().to_numpy()
    assert np.all(np.diff(by_number) < 0)
    assert by_number[0] > 2 * by_number[2]


# ---- the label's management as time ---------------------------------------------------------

def test_extra_minutes_follow_the_rate_table() -> None:
    """600 mg standard [S3]: 40 mL/h rising by 40 every 30 min to 200 mL/h, 210 min. Half the
    rate at onset for 30 min, then the table resumes: at 5 min (40 mL/h) 10 mL are given in the
    hold, which the table's 200 mL/h end saves 3 min of: +27 min; at 150 min (200 mL/h): +15;
    at 205 min the last 16.7 mL take 10 min at half rate: +5. Severe: +30 min hold (our
    assumption). Life-threatening: stopped at onset."""
    visit = Visit(3, 600.0)
    onset = np.array([5.0, 150.0, 205.0, 150.0, 150.0, 150.0])
    grade = np.array([1, 2, 1, 3, 4, 1])
    during = np.array([True, True, True, True, True, False])
    extra, completed = _extra_minutes(visit, onset, grade, during, REACTIONS)
    assert np.max(np.abs(extra - [27.0, 15.0, 5.0, 45.0, -60.0, 0.0])) <= 1e-9
    assert completed.tolist() == [True, True, True, True, False, True]


def test_planned_minutes_from_the_label_tables() -> None:
    """[S3]: 300 mg 2.64 h (derived), 600 mg 3.5 h; [S65]: shorter 2 h; [S6]: SC about 10 min."""
    minutes = [Visit(1, 300.0).planned_minutes, Visit(3, 600.0).planned_minutes,
               Visit(3, 600.0, protocol="shorter").planned_minutes,
               Visit(1, 920.0, route="SC").planned_minutes]
    assert np.max(np.abs(np.array(minutes) - [950 / 6, 210.0, 120.0, 10.0])) <= 1e-9


def test_table_shape_onsets_and_actual_duration() -> None:
    params = REACTIONS.replace(irr_intercept=5.0, p_life_threatening=0.01)
    table = sample_infusion_reactions(Visit(3, 600.0), 3, 1, params=params)
    assert list(table.columns) == list(COLUMNS) and len(table) == 3
    big = sample_infusion_reactions(Visit(3, 600.0), 20_000, 2, params=params)
    irr, during = big["irr"], big["during"]
    assert big["onset_min"].isna().eq(~irr).all()
    assert (big.loc[during, "onset_min"] < 210.0).all()
    after = irr & ~during
    assert big.loc[after, "onset_min"].between(210.0, 210.0 + 24 * 60).all()
    assert np.allclose(big["actual_min"], big["planned_min"] + big["extra_minutes"])
    assert (big.loc[~during, "extra_minutes"] == 0).all()
    assert (big.loc[big["action"] == "stopped", "completed"] == False).all()  # noqa: E712
    assert set(big["severity"]) <= {"none", "mild", "moderate", "severe", "life-threatening"}
    words = {w for s in big.loc[irr, "symptoms"] for w in s.split("; ")}
    assert words <= set(SYMPTOMS)
    assert "anaphylaxis" not in set(big.loc[big["grade"] < 4, "symptoms"].str.split("; ").sum())


def test_same_seed_same_table_and_premedication_effect() -> None:
    a = sample_infusion_reactions(Visit(1, 300.0), 1_000, 5)
    b = sample_infusion_reactions(Visit(1, 300.0), 1_000, np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)
    params = REACTIONS.replace(irr_log_or_no_steroid=1.0)
    with_steroid = sample_infusion_reactions(Visit(1, 300.0), 50_000, 6, params=params)
    without = sample_infusion_reactions(Visit(1, 300.0, premedicated=False), 50_000, 6,
                                        params=params)
    assert without["irr"].mean() > with_steroid["irr"].mean() + 0.05


# ---- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"number": 0, "dose_mg": 600.0}, "visit.number"),
    ({"number": 1, "dose_mg": 500.0}, "visit.dose_mg"),
    ({"number": 1, "dose_mg": 600.0, "route": "IM"}, "visit.route"),
    ({"number": 1, "dose_mg": 300.0, "protocol": "shorter"}, "visit.protocol"),
    ({"number": 1, "dose_mg": 600.0, "protocol": "fast"}, "visit.protocol"),
])
def test_bad_visits_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field.replace(".", r"\.")):
        Visit(**kwargs)  # type: ignore[arg-type]


def test_bad_counts_and_frailty() -> None:
    with pytest.raises(InvalidInputError, match="n = 0"):
        sample_infusion_reactions(Visit(1, 300.0), 0)
    with pytest.raises(InvalidInputError, match="frailty"):
        sample_infusion_reactions(Visit(1, 300.0), 3, frailty=np.zeros(2))
    with pytest.raises(InvalidInputError, match="visits"):
        sample_course_reactions([], 3)


def test_parameter_specs_are_sourced_and_bounded() -> None:
    for name, _value, unit, source, assumption in REACTIONS.table():
        assert unit and source, name
        assert assumption or "[S" in source, name  # a non-assumption cites the dossier
    with pytest.raises(InvalidParameterError, match=r"outside the allowed range \[0, 1\]"):
        REACTIONS.replace(p_severe=1.5)
    assert isinstance(REACTIONS.replace(p_severe=0.02), ReactionParameters)


@pytest.mark.parametrize("kind, visit", [("first", Visit(1, 300.0)),
                                         ("maintenance", Visit(3, 600.0)),
                                         ("short", Visit(3, 600.0, protocol="shorter"))])
def test_extra_minutes_agree_with_the_planning_day(kind: str, visit: Visit) -> None:
    """One definition of the label's IRR management in two parts: the reaction model's
    ``extra_minutes`` equals the planning part's managed rate steps (minutes), to 1e-9."""
    from ocrelisim.planning._day import Reaction, _managed, rate_steps

    steps = rate_steps(kind)  # type: ignore[arg-type]
    planned = sum(m for m, _ in steps)
    for onset in np.linspace(0.5, planned - 0.5, 13):
        for grade, severity in ((1, "mild"), (2, "moderate"), (3, "severe"),
                                (4, "life-threatening")):
            managed, _done = _managed(steps, Reaction(float(onset), severity))  # type: ignore[arg-type]
            want = sum(m for m, _ in managed) - planned
            got, _ = _extra_minutes(visit, np.array([onset]), np.array([grade]),
                                    np.array([True]), REACTIONS)
            assert abs(got[0] - want) <= 1e-9, (kind, onset, severity, got[0], want)
