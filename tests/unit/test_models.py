"""The model interface: the registry, a third model registered from outside the package, and
individual parameters that round-trip through ``result.parameters``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import ocrelisim as oc
from ocrelisim import _streams, models
from ocrelisim.errors import InvalidInputError, InvalidParameterError
from tests import toy_model

DAYS = np.linspace(0.0, 30.0, 61)
INFUSION = oc.Regimen.parse("600 mg IV over 2 h d0")
HOURS_2 = 2.0 / 24.0


@pytest.fixture
def toy() -> Iterator[models.Model]:
    models.register(toy_model.MODEL)
    yield toy_model.MODEL
    models.unregister(toy_model.NAME)


def test_registry_lists_and_refuses() -> None:
    assert {"pk", "immune"} <= set(models.names())
    assert models.get("immune").outputs[:2] == ("C", "B")
    with pytest.raises(InvalidInputError, match="unknown model 'nope'"):
        models.get("nope")
    with pytest.raises(InvalidParameterError, match="already registered"):
        models.register(replace(models.get("pk"), exposure_output=None))
    with pytest.raises(InvalidParameterError, match="stream_key 2 is used by 'immune'"):
        models.register(replace(toy_model.MODEL, stream_key=2))
    assert toy_model.NAME not in models.names()


def test_a_model_must_dose_an_explicit_state() -> None:
    with pytest.raises(InvalidParameterError, match="not one of its explicit states"):
        replace(toy_model.MODEL, dose_targets={"IV": "response"})


def test_third_model_matches_closed_form_and_reference(toy: models.Model) -> None:
    """Concentration against the one-compartment infusion solution (≤ 1e-8) and the
    response against scipy Radau at rtol 1e-10 (≤ 1e-6), for 3 patients with IIV."""
    pop = oc.Population.sample(3, seed=4)
    res = oc.simulate(INFUSION, pop, DAYS, model="toy")
    assert res["C"].shape == (3, DAYS.size) and res.units == {"C": "mg/L", "R": "1"}
    q = res.parameters
    k, v = q["K"].to_numpy()[:, None], q["V"].to_numpy()[:, None]
    rate = 600.0 / HOURS_2
    t = DAYS[None, :]
    during = rate / k * (1.0 - np.exp(-k * np.minimum(t, HOURS_2)))
    amount = np.where(t <= HOURS_2, during, during * np.exp(-k * (t - HOURS_2)))
    want = amount / v
    got = res["C"]
    assert np.max(np.abs(got[:, 1:] / want[:, 1:] - 1.0)) <= 1e-8
    assert np.all(got[:, 0] == 0.0)
    for i in range(3):
        p = q.iloc[i]

        def f(tt: float, y: np.ndarray, p: object = p) -> list[float]:
            r = rate if tt < HOURS_2 else 0.0
            c = y[0] / p["V"]  # type: ignore[index]
            return [r - p["K"] * y[0],  # type: ignore[index]
                    p["KIN"] - p["KOUT"] * (1 + c / (p["EC50"] + c)) * y[1]]  # type: ignore[index]

        y0 = [0.0, p["KIN"] / p["KOUT"]]
        a = solve_ivp(f, (0, HOURS_2), y0, method="Radau", rtol=1e-10, atol=1e-12,
                      dense_output=True)
        b = solve_ivp(f, (HOURS_2, DAYS[-1]), a.y[:, -1], method="Radau", rtol=1e-10,
                      atol=1e-12, dense_output=True)
        ref = np.where(DAYS <= HOURS_2, a.sol(np.minimum(DAYS, HOURS_2))[1],
                       b.sol(np.maximum(DAYS, HOURS_2))[1])
        assert np.max(np.abs(res["R"][i] / ref - 1.0)) <= 1e-6
    # the drug lowers the response below its baseline
    assert np.all(res["R"][:, 10] < (q["KIN"] / q["KOUT"]).to_numpy())


def test_third_model_refuses_a_route_it_has_no_target_for(toy: models.Model) -> None:
    with pytest.raises(InvalidInputError, match="'toy' model takes no SC doses"):
        oc.simulate(oc.Regimen.preset("sc"), oc.Population.typical(), DAYS, model="toy")


def test_population_draws_each_models_effects_from_its_stream(toy: models.Model) -> None:
    pop = oc.Population.sample(4, seed=21)
    np.testing.assert_array_equal(pop.etas["toy"],  # type: ignore[index]
                                  _streams.generator(21, 9).standard_normal((4, 2)))
    np.testing.assert_array_equal(pop.immune_eta,
                                  _streams.generator(21, 2).standard_normal((4, 16)))
    assert pop[1:3].etas["toy"].shape == (2, 2)  # type: ignore[index]
    typical = oc.Population.typical(70.0)
    assert typical.eta(toy) is None  # no seed: typical values


def test_a_population_drawn_before_the_model_has_no_effects_for_it() -> None:
    pop = oc.Population.sample(2, seed=1)
    models.register(toy_model.MODEL)
    try:
        with pytest.raises(InvalidInputError, match="registered after it was drawn"):
            pop.eta(toy_model.MODEL)
    finally:
        models.unregister(toy_model.NAME)


@pytest.mark.parametrize("model", ["pk", "immune", "toy"])
def test_parameters_round_trip_to_the_same_trajectories(model: str,
                                                        toy: models.Model) -> None:
    """``Population.from_parameters(result.parameters, model=...)`` reproduces every output
    exactly (the toy model's table has no PK columns; the others' do)."""
    pop = oc.Population.sample(5, seed=8)
    regimen = INFUSION if model == "toy" else oc.Regimen.preset("iv")
    first = oc.simulate(regimen, pop, DAYS, model=model)
    again = oc.simulate(regimen, oc.Population.from_parameters(first.parameters, model=model),
                        DAYS, model=model)
    assert list(first.parameters.columns) == ["ID", *models.get(model).parameters]
    for name in first.outputs:
        np.testing.assert_array_equal(again[name], first[name])


def test_given_immune_parameters_replace_the_covariate_model() -> None:
    pop = oc.Population.typical([60.0, 90.0])
    base = oc.simulate(oc.Regimen.preset("iv"), pop, DAYS, model="immune", variables=["B"])
    table = base.parameters.drop(columns=["B0", "EMAX"])  # typical for the covariates
    table["B0"] = [150.0, 250.0]
    table["EMAX"] = [100.0, 100.0]
    fitted = oc.simulate(oc.Regimen.preset("iv"), oc.Population.from_parameters(table), DAYS,
                         model="immune", variables=["B"])
    np.testing.assert_array_equal(fitted.parameters["B0"], [150.0, 250.0])
    np.testing.assert_array_equal(fitted["B"][:, 0], [150.0, 250.0])
    assert np.all(fitted["B"][:, 20] > base["B"][:, 20])  # weaker Emax: less depletion
    with pytest.raises(InvalidParameterError, match=r"EC50 = -1\.0"):
        oc.Population.from_parameters(table.assign(EC50=-1.0))


def test_exposure_is_a_view_of_the_concentration_reduction() -> None:
    pop = oc.Population.sample(3, seed=2)
    res = oc.simulate(oc.Regimen.preset("iv"), pop, None, intervals=[[0, 168]],
                      threshold=1.0, trajectories=False)
    m = res.metrics["C"]
    assert res.exposure is not None
    np.testing.assert_array_equal(res.exposure.auc, m.area)
    np.testing.assert_array_equal(res.exposure.ctrough, m.end)
    np.testing.assert_array_equal(res.exposure.cmax, m.maximum)
    assert res.exposure.threshold == m.threshold == 1.0
