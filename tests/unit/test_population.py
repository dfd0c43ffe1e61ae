"""Population: covariates, IIV, individual parameters, observations, bad input.

Statistical checks use fixed seeds and k = 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ocrelisim.errors import InvalidInputError, InvalidParameterError
from ocrelisim.parameters import (
    PK,
    PLAUSIBLE_WEIGHT_KG,
    PPMS_DEMOGRAPHICS,
    RMS_DEMOGRAPHICS,
    Demographics,
    Parameter,
)
from ocrelisim.population import PK_PARAM_NAMES, Population, observe

COV3 = pd.DataFrame({"ID": [11, 12, 13], "WT": [55.0, 75.0, 110.0], "AGE": [30.0, 41.0, 52.0],
                     "SEX": ["F", "M", "F"], "DISEASE": ["RMS", "RMS", "PPMS"]})
TYPICAL = np.array([PK.clinf.value, PK.clt.value, PK.kdes.value, PK.v1.value, PK.v2.value,
                    PK.q.value, PK.ka.value, PK.f_sc.value])
EXPONENTS = np.array([0.75, 0.75, 0.0, 1.0, 1.0, 0.75, 0.0, 0.0])  # PK.exp_cl, PK.exp_v
N_BIG = 20_000


@pytest.fixture(scope="module")
def rms() -> Population:
    return Population.sample(N_BIG, "RMS", seed=20240601)


@pytest.fixture(scope="module")
def ppms() -> Population:
    return Population.sample(N_BIG, "PPMS", seed=20240602)


def scaled_typical(weight: np.ndarray) -> np.ndarray:
    """Independent re-statement of typical · (WT/75)**exponent, shape (n, 8)."""
    return TYPICAL * (np.asarray(weight)[:, None] / 75.0) ** EXPONENTS


# -- shapes, identity, reproducibility -------------------------------------------------------

def test_names_and_shapes_are_patients_first():
    pop = Population.sample(3, seed=1)
    assert PK_PARAM_NAMES == ("CLINF", "CLT", "KDES", "V1", "V2", "Q", "KA", "F_SC")
    assert pop.params.shape == (3, 8)
    assert pop.n == len(pop) == 3
    assert list(pop.covariates.columns) == ["ID", "WT", "AGE", "SEX", "DISEASE"]
    assert pop.ids.tolist() == [1, 2, 3]
    assert pop.parameters_frame().shape == (3, 5 + 8)
    assert list(pop.parameters_frame().columns[5:]) == list(PK_PARAM_NAMES)
    assert pop.seed == 1


def test_params_are_read_only():
    pop = Population.sample(3, seed=1)
    with pytest.raises(ValueError, match="read-only"):
        pop.params[0, 0] = 1.0


def test_same_seed_identical_different_seed_differs():
    a, b, c = (Population.sample(3, seed=s) for s in (5, 5, 6))
    assert a == b
    assert np.array_equal(a.params, b.params)
    assert a.covariates.equals(b.covariates)
    assert not np.any(a.params[:, 0] == c.params[:, 0])
    assert not np.any(a.covariates["WT"].to_numpy() == c.covariates["WT"].to_numpy())


def test_seed_none_draws_and_records_a_seed():
    pop = Population.sample(3)
    assert isinstance(pop.seed, int) and 0 <= pop.seed < 2**63
    assert Population.sample(3, seed=pop.seed) == pop


def test_from_covariates_with_same_seed_reproduces_sample():
    pop = Population.sample(3, "PPMS", seed=42)
    again = Population.from_covariates(pop.covariates, seed=42)
    assert again == pop


def test_changing_one_omega_leaves_other_draws_unchanged():
    a = Population.sample(3, seed=9)
    b = Population.sample(3, seed=9, pk=PK.replace(omega_v2=0.4))
    same = [0, 1, 2, 3, 5, 6, 7]  # all but V2
    assert np.array_equal(a.params[:, same], b.params[:, same])
    assert not np.any(a.params[:, 4] == b.params[:, 4])


# -- typical, allometry, IIV -----------------------------------------------------------------

def test_typical_75kg_is_exactly_the_typical_parameters():
    pop = Population.typical()
    assert pop.n == 1 and pop.seed is None
    assert np.array_equal(pop.params[0], TYPICAL)
    assert pop.covariates.to_dict("records") == [{"ID": 1, "WT": 75.0, "DISEASE": "RMS"}]


def test_typical_scales_by_weight():
    w = np.array([50.0, 75.0, 120.0])
    pop = Population.typical(w, disease="PPMS")
    assert pop.params.shape == (3, 8)
    np.testing.assert_allclose(pop.params, scaled_typical(w), rtol=1e-12, atol=0.0)
    assert pop.covariates["DISEASE"].tolist() == ["PPMS"] * 3


def test_allometric_scaling_exact():
    lo, hi = Population.typical([60.0, 90.0]).params
    ratio = hi / lo
    np.testing.assert_allclose(ratio[[0, 1, 5]], 1.5 ** 0.75, rtol=1e-12, atol=0.0)  # CLs, Q
    np.testing.assert_allclose(ratio[[3, 4]], 1.5, rtol=1e-12, atol=0.0)  # V1, V2
    assert np.array_equal(ratio[[2, 6, 7]], [1.0, 1.0, 1.0])  # KDES, KA, F_SC


def test_iiv_false_gives_typical_for_weight():
    pop = Population.sample(3, seed=3, iiv=False)
    np.testing.assert_allclose(pop.params, scaled_typical(pop.covariates["WT"]), rtol=1e-12)
    pop2 = Population.from_covariates(COV3, iiv=False)
    assert pop2.seed is None
    np.testing.assert_allclose(pop2.params, scaled_typical(COV3["WT"]), rtol=1e-12)


def test_eta_sd_matches_omega(rms):
    eta = np.log(rms.params / scaled_typical(rms.covariates["WT"]))
    omega = {"CLINF": 0.3, "CLT": 0.5, "V1": 0.3}  # PK.omega_* defaults
    for name, om in omega.items():
        j = PK_PARAM_NAMES.index(name)
        se_sd = om / math.sqrt(2 * N_BIG)  # normal theory: SE of an SD is sigma/sqrt(2n)
        assert abs(eta[:, j].std(ddof=1) - om) < 4 * se_sd, name
        assert abs(eta[:, j].mean()) < 4 * om / math.sqrt(N_BIG), name
    # Independent etas: |r| within 4 SE (1/sqrt(n)) of zero.
    r = np.corrcoef(eta[:, [0, 1, 3]], rowvar=False)[np.triu_indices(3, 1)]
    assert np.all(np.abs(r) < 4 / math.sqrt(N_BIG))
    # No IIV on KDES, V2, Q, KA, F_SC by default: exactly typical for weight.
    np.testing.assert_allclose(eta[:, [2, 4, 5, 6, 7]], 0.0, atol=1e-12)


# -- covariates ------------------------------------------------------------------------------

@pytest.mark.calibration
@pytest.mark.parametrize(("fixture", "mean", "sd", "female"),
                         [("rms", 38.1, 9.3, 0.655),    # [S60]
                          ("ppms", 44.7, 7.9, 0.486)])  # [S14]
def test_demographics_match_trials(fixture, mean, sd, female, request):
    """Sampled ages and sex match the trial populations (20,000 patients).

    Source: [S60] (OPERA, ocrelizumab-exposed), [S14] (ORATORIO ocrelizumab arm)
    Published: age 38.1 (SD 9.3) y, 65.5% female (RMS); age 44.7 (SD 7.9) y, 48.6% female
    (PPMS); entry age 18-55 [S12][S13].
    Tolerance: 4 standard errors for the mean age, its SD and the female share; ages inside
    the entry range.
    Fits: ``age_mean``, ``age_sd`` and ``female_fraction`` are set to these figures (the
    truncated normal is solved so that its truncated mean and SD equal them).
    """
    cov = request.getfixturevalue(fixture).covariates
    age = cov["AGE"].to_numpy()
    assert abs(age.mean() - mean) < 4 * sd / math.sqrt(N_BIG)
    assert abs(age.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * N_BIG)
    assert age.min() >= 18.0 and age.max() <= 55.0  # entry range [S12][S13]
    frac = float((cov["SEX"] == "F").mean())
    assert abs(frac - female) < 4 * math.sqrt(female * (1 - female) / N_BIG)
    assert set(cov["SEX"]) == {"F", "M"}
    assert cov["ID"].tolist() == list(range(1, N_BIG + 1))


def test_weight_log_normal_by_sex(rms):
    cov = rms.covariates
    wt = cov["WT"].to_numpy()
    assert PLAUSIBLE_WEIGHT_KG[0] <= wt.min() and wt.max() <= PLAUSIBLE_WEIGHT_KG[1]
    for sex, median in (("F", 68.0), ("M", 83.0)):  # RMS_DEMOGRAPHICS assumption
        lw = np.log(wt[(cov["SEX"] == sex).to_numpy()])
        assert abs(lw.mean() - math.log(median)) < 4 * 0.2 / math.sqrt(lw.size), sex
        assert abs(lw.std(ddof=1) - 0.2) < 4 * 0.2 / math.sqrt(2 * lw.size), sex
    # Mixture mean about 74.6 kg (0.655·68·e^0.02 + 0.345·83·e^0.02), near wt_ref 75 kg.
    assert abs(wt.mean() - 74.65) < 4 * wt.std() / math.sqrt(N_BIG)


def test_demographics_specs():
    # The values are checked against the trials in test_demographics_match_trials; here only
    # their provenance.
    assert RMS_DEMOGRAPHICS.weight_median_female.assumption
    assert "[S60]" in RMS_DEMOGRAPHICS.age_mean.source
    assert "[S14]" in PPMS_DEMOGRAPHICS.female_fraction.source


def test_custom_demographics_override():
    d = Demographics(age_mean=Parameter(30.0, "y", (18.0, 80.0), "test"),
                     age_sd=Parameter(5.0, "y", (1.0, 30.0), "test"),
                     age_min=Parameter(18.0, "y", (0.0, 120.0), "test"),
                     age_max=Parameter(40.0, "y", (0.0, 120.0), "test"),
                     female_fraction=Parameter(1.0, "1", (0.0, 1.0), "test"))
    cov = Population.sample(200, seed=4, demographics=d).covariates
    assert set(cov["SEX"]) == {"F"}
    assert cov["AGE"].max() <= 40.0


def test_demographics_mean_outside_range_rejected():
    with pytest.raises(InvalidParameterError, match="strictly inside the age range"):
        Demographics(age_mean=Parameter(50.0, "y", (18.0, 80.0), "test"),
                     age_sd=Parameter(5.0, "y", (1.0, 30.0), "test"),
                     age_min=Parameter(18.0, "y", (0.0, 120.0), "test"),
                     age_max=Parameter(40.0, "y", (0.0, 120.0), "test"),
                     female_fraction=Parameter(0.5, "1", (0.0, 1.0), "test"))


def test_from_covariates_keeps_ids_and_columns():
    pop = Population.from_covariates(COV3.assign(EDSS=[2.0, 3.5, 6.0]), seed=8)
    assert pop.ids.tolist() == [11, 12, 13]
    assert pop.covariates["EDSS"].tolist() == [2.0, 3.5, 6.0]
    assert pop.params.shape == (3, 8)
    pop2 = Population.from_covariates(pd.DataFrame({"WT": [70.0, 80.0]}), seed=8)
    assert pop2.ids.tolist() == [1, 2]
    assert list(pop2.covariates.columns) == ["ID", "WT"]


# -- from_parameters, subset -----------------------------------------------------------------

def test_from_parameters_round_trip():
    pop = Population.sample(3, seed=12)
    back = Population.from_parameters(pop.parameters_frame())
    assert np.array_equal(back.params, pop.params)
    assert back.covariates.equals(pop.covariates)
    assert back.seed is None


def test_from_parameters_defaults_ka_and_f_sc():
    df = pd.DataFrame({"CLINF": [0.2, 0.1, 0.3], "CLT": [0.0, 0.05, 0.1],
                       "KDES": [0.003, 0.003, 0.0], "V1": [3.0, 2.0, 2.5],
                       "V2": [2.0, 3.0, 2.5], "Q": [0.3, 0.2, 0.25]})
    pop = Population.from_parameters(df)
    assert pop.ids.tolist() == [1, 2, 3]
    assert list(pop.covariates.columns) == ["ID"]
    assert np.array_equal(pop.params[:, :6], df.to_numpy())
    assert np.array_equal(pop.params[:, 6], [PK.ka.value] * 3)
    assert np.array_equal(pop.params[:, 7], [PK.f_sc.value] * 3)


def test_subset_and_getitem():
    pop = Population.from_covariates(COV3, seed=2)
    assert pop[1].ids.tolist() == [12] and pop[1].n == 1
    assert pop[-1].ids.tolist() == [13]
    assert pop[1:].ids.tolist() == [12, 13]
    assert pop[np.array([2, 0])].ids.tolist() == [13, 11]
    assert pop[np.array([True, False, True])].ids.tolist() == [11, 13]
    sub = pop.subset([2, 0])
    assert np.array_equal(sub.params, pop.params[[2, 0]])
    assert sub.covariates["WT"].tolist() == [110.0, 55.0]
    assert sub.seed == 2


# -- observe ---------------------------------------------------------------------------------

def test_observe_shape_and_reproducible():
    c = np.array([[0.0, 1.0, 10.0, 100.0, 5.0]] * 3)
    y1, y2 = observe(c, rng=3), observe(c, rng=3)
    assert y1.shape == (3, 5)
    assert np.array_equal(y1, y2)
    assert not np.array_equal(y1, observe(c, rng=4))


def test_observe_residual_sd():
    n = 40_000
    c = np.tile([0.0, 10.0, 100.0], (n, 1))  # mg/L
    y = observe(c, rng=np.random.default_rng(7))
    want_sd = np.sqrt((0.15 * c[0]) ** 2 + 0.1 ** 2)  # PK.sigma_prop, PK.sigma_add
    np.testing.assert_array_less(np.abs(y.mean(axis=0) - c[0]), 4 * want_sd / math.sqrt(n))
    np.testing.assert_array_less(np.abs(y.std(axis=0, ddof=1) - want_sd),
                                 4 * want_sd / math.sqrt(2 * n))


def test_observe_without_error_is_identity():
    c = np.array([[0.5, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = observe(c, pk=PK.replace(sigma_prop=0.0, sigma_add=0.0), rng=1)
    assert np.array_equal(y, c)


# -- bad input -------------------------------------------------------------------------------

def test_empty_population():
    with pytest.raises(InvalidParameterError, match="empty population: n = 0"):
        Population.sample(0, seed=1)


def test_empty_covariate_table():
    with pytest.raises(InvalidParameterError, match="empty population"):
        Population.from_covariates(pd.DataFrame({"WT": []}))


def test_empty_selection():
    with pytest.raises(InvalidParameterError, match="empty population"):
        Population.sample(3, seed=1)[[]]


def test_non_integer_n():
    with pytest.raises(InvalidParameterError, match=r"n = 2\.5 patients; give a whole number"):
        Population.sample(2.5)  # type: ignore[arg-type]


def test_unknown_disease():
    with pytest.raises(InvalidParameterError, match="unknown disease 'SPMS'; use one of RMS, PPMS"):
        Population.sample(3, "SPMS")


def test_unknown_disease_in_covariates():
    with pytest.raises(InvalidParameterError, match="DISEASE = 'CIS' for ID 12"):
        Population.from_covariates(COV3.assign(DISEASE=["RMS", "CIS", "RMS"]))


def test_weight_out_of_range():
    with pytest.raises(InvalidParameterError,
                       match=r"WT of ID 13 = 20\.0 kg is outside the allowed range \[30, 250\]"):
        Population.from_covariates(COV3.assign(WT=[55.0, 75.0, 20.0]))


def test_typical_weight_out_of_range():
    with pytest.raises(InvalidParameterError, match=r"WT of ID 2 = 300\.0 kg"):
        Population.typical([70.0, 300.0])


def test_nan_weight():
    with pytest.raises(InvalidParameterError, match=r"WT is missing \(NaN\) for ID 12"):
        Population.from_covariates(COV3.assign(WT=[55.0, np.nan, 80.0]))


def test_missing_wt_column():
    with pytest.raises(InvalidParameterError, match="no WT column"):
        Population.from_covariates(COV3.drop(columns="WT"))


def test_non_numeric_weight():
    with pytest.raises(InvalidParameterError, match="column WT must be numeric"):
        Population.from_covariates(COV3.assign(WT=["55", "heavy", "80"]))


def test_duplicate_ids():
    with pytest.raises(InvalidParameterError, match="ID must be unique"):
        Population.from_covariates(COV3.assign(ID=[1, 1, 2]))


def test_unknown_sex_code():
    want = r"SEX = 1 for ID 11 \(and 2 more row\(s\)\) is not a known code; use one of F, M"
    with pytest.raises(InvalidParameterError, match=want):
        Population.from_covariates(COV3.assign(SEX=[1, 2, 1]))


def test_from_parameters_non_positive():
    frame = Population.sample(3, seed=1).parameters_frame()
    with pytest.raises(InvalidParameterError,
                       match=r"V1 = 0\.0 L for ID 2; it must be finite and > 0"):
        Population.from_parameters(frame.assign(V1=[2.0, 0.0, 3.0]))
    with pytest.raises(InvalidParameterError, match=r"CLT = -0\.1 L/day for ID 1; .* >= 0"):
        Population.from_parameters(frame.assign(CLT=[-0.1, 0.0, 0.1]))
    with pytest.raises(InvalidParameterError, match=r"F_SC = 1\.5 for ID 3; .* <= 1"):
        Population.from_parameters(frame.assign(F_SC=[0.8, 0.8, 1.5]))


def test_from_parameters_missing_columns():
    frame = Population.sample(3, seed=1).parameters_frame().drop(columns=["V2", "Q"])
    with pytest.raises(InvalidParameterError, match="lacks column\\(s\\) V2, Q"):
        Population.from_parameters(frame)


def test_index_out_of_range():
    pop = Population.sample(3, seed=1)
    with pytest.raises(IndexError, match="patient index 3 out of range for 3 patients"):
        pop[3]
    with pytest.raises(InvalidInputError, match="patient index 5 is out of range"):
        pop.subset([0, 5])


def test_bad_seed():
    with pytest.raises(InvalidParameterError, match="seed = -1"):
        Population.sample(3, seed=-1)


def test_observe_nan_concentration():
    with pytest.raises(InvalidInputError, match="concentration contains NaN"):
        observe(np.array([[1.0, np.nan]]))


def test_infeasible_age_distribution():
    d = Demographics(age_mean=Parameter(29.0, "y", (18.0, 80.0), "test"),
                     age_sd=Parameter(20.0, "y", (1.0, 30.0), "test"),
                     age_min=Parameter(18.0, "y", (0.0, 120.0), "test"),
                     age_max=Parameter(40.0, "y", (0.0, 120.0), "test"),
                     female_fraction=Parameter(0.5, "1", (0.0, 1.0), "test"))
    with pytest.raises(InvalidParameterError, match="lower age_sd or widen the age range"):
        Population.sample(3, seed=1, demographics=d)


def test_constructor_checks_shapes():
    with pytest.raises(InvalidParameterError, match=r"params must have shape \(n_patients, 8\)"):
        Population(COV3, np.ones((3, 6)))
    with pytest.raises(InvalidParameterError, match="covariates have 3 rows but params has 2"):
        Population(COV3, np.ones((2, 8)))
