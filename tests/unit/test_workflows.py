"""Workflows: each report's numbers equal the library's, computed directly with the public API
for the same population and seed; progress reaches the total; bad input fails before work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ocrelisim import IMMUNE, Population, Regimen, simulate, trials, workflows
from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.reports import Report, cycle_intervals
from ocrelisim.results import SimulationResult

N, SEED, DAYS = 8, 3, 200.0

_DESIGN = """
name: small RMS trial
disease: RMS
n: 200
weeks: 48
allocation: [1, 1]
endpoints: [ARR, CDP12]
arms:
  - {name: ocrelizumab, treatment: ocrelizumab, regimen: iv}
  - {name: IFN, treatment: interferon}
"""


class _Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.calls.append((stage, done, total))


@pytest.fixture(scope="module")
def demo_run() -> tuple[_Progress, Report]:
    progress = _Progress()
    return progress, workflows.demo(n=N, seed=SEED, days=DAYS, progress=progress)


def _direct_iv(maintenance_doses: int) -> tuple[Regimen, SimulationResult]:
    """The label IV preset simulated directly: daily grid plus infusion ends, cycle windows."""
    regimen = Regimen.preset("iv", maintenance_doses=maintenance_doses)
    ends = [d.end for d in regimen if d.end < DAYS]
    times = np.unique(np.r_[np.arange(0.0, DAYS + 1.0), ends])
    pop = Population.sample(N, disease="RMS", seed=SEED)
    return regimen, simulate(regimen, pop, times,
                             intervals=cycle_intervals([d.time for d in regimen], DAYS))


def test_demo_exposure_equals_simulate(demo_run: tuple[_Progress, Report]) -> None:
    _progress, report = demo_run
    # Maintenance doses starting before day 200: one (day 168) after the two 300 mg doses.
    regimen, result = _direct_iv(maintenance_doses=1)
    assert [d.time for d in regimen] == [0.0, 14.0, 168.0]
    ex = result.exposure
    table = report.data["exposure"]
    iv = table[table["REGIMEN"] == "iv"]
    assert iv["START"].tolist() == [0.0, 14.0, 168.0]
    assert iv["END"].tolist() == [14.0, 168.0, DAYS]
    for metric, values in (("AUC", ex.auc), ("CMAX", ex.cmax), ("CTROUGH", ex.ctrough)):
        np.testing.assert_allclose(iv[f"{metric}_P50"], np.median(values, axis=0),
                                   rtol=1e-12, atol=0)
        np.testing.assert_allclose(iv[f"{metric}_P95"], np.percentile(values, 95, axis=0),
                                   rtol=1e-12, atol=0)
    # The concentration figure draws the same patients' trajectories.
    drawn = report.figures["concentration"].data
    drawn_iv = drawn[drawn["series"] == "iv"]
    np.testing.assert_allclose(drawn_iv["p50"], np.median(result.concentration, axis=0),
                               rtol=1e-12, atol=0)


def test_demo_bcells_equal_the_immune_model(demo_run: tuple[_Progress, Report]) -> None:
    _progress, report = demo_run
    regimen = Regimen.preset("sc", maintenance_doses=1)
    times = np.arange(0.0, DAYS + 200 * 7.0 + 1.0)
    pop = Population.sample(N, disease="RMS", seed=SEED)
    res = simulate(regimen, pop, times, model="immune", variables=["B"])
    drawn = report.figures["bcells"].data
    sc = drawn[drawn["series"] == "sc"]
    np.testing.assert_allclose(sc["x"], times / 7.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sc["p50"], np.median(np.maximum(res.bcells, 1e-3), axis=0),
                               rtol=1e-12, atol=0)
    lln = IMMUNE.lln_b.value
    assert report.figures["bcells"].layout["bcells"]["hlines"][0]["y"] == lln
    rep = report.data["repletion"].set_index("Regimen")
    below = 100.0 * np.mean(res.bcells[:, int(np.searchsorted(times, 168.0))] < lln)
    assert rep.loc["sc", "Below LLN at last dose (%)"] == f"{below:.1f}"


def test_demo_report_shape_and_inputs(demo_run: tuple[_Progress, Report]) -> None:
    progress, report = demo_run
    assert report.kind == "demo" and report.disclaimer == DISCLAIMER
    assert list(report.figures) == ["concentration", "bcells"]
    assert list(report.data) == ["exposure", "repletion"]
    assert report.inputs["n"] == N and report.inputs["seed"] == SEED
    assert report.inputs["regimens"]["iv"] == "300 mg IV d0, d14; 600 mg IV d168"
    assert report.inputs["immune_parameters"] == "default"
    json.dumps(report.inputs, allow_nan=False)
    # Progress: six runs of N patients, monotone, ending at the total.
    done = [d for _s, d, _t in progress.calls]
    assert all(t == 6 * N for _s, _d, t in progress.calls)
    assert done == sorted(done) and done[-1] == 6 * N
    stages = list(dict.fromkeys(s for s, _d, _t in progress.calls))
    assert stages == ["simulating iv", "simulating sc", "simulating iv-short",
                      "B cells iv", "B cells sc", "B cells iv-short"]


def test_demo_uses_the_immune_parameters_it_is_given() -> None:
    params = IMMUNE.replace(lln_b=40.0)
    report = workflows.demo(n=3, seed=SEED, days=60.0, immune=params)
    assert report.figures["bcells"].layout["bcells"]["hlines"][0]["y"] == 40.0
    assert report.inputs["immune_parameters"] == {"lln_b": 40.0}
    assert any("LLN (40 cells/uL" in note for note in report.notes)


def test_immune_table_equals_simulate() -> None:
    report = workflows.immune("iv", n=6, seed=SEED, years=1.0)
    days = 365.25
    regimen = Regimen.preset("iv", maintenance_doses=2)  # doses at 168 and 336 < 365.25
    assert report.inputs["regimen"] == str(regimen)
    times = np.unique(np.r_[np.arange(0.0, 366.0), days])
    res = simulate(regimen, Population.sample(6, seed=SEED), times, model="immune")
    table = report.data["immune-table"].set_index("Variable")
    for name, day in (("B", 14.0), ("IgG", days), ("TREG", 182.0)):
        v = res[name][:, int(np.argmin(np.abs(times - day)))]
        lo, med, hi = np.percentile(v, [5, 50, 95])
        assert table.loc[name, f"day {day:g}"] == f"{med:.3g} ({lo:.3g}-{hi:.3g})"
    fig = report.figures["immune"]
    b = fig.data[fig.data["panel"] == "bcells"]
    weeks = times <= 52 * 7.0
    np.testing.assert_allclose(b["p50"], np.median(np.maximum(res.bcells[:, weeks], 1e-3), axis=0),
                               rtol=1e-12, atol=0)
    ig = {h["label"].split()[1]: h["y"] for h in fig.layout["ig"]["hlines"]}
    assert ig["IgG"] == IMMUNE.lln_igg.value


def test_trial_summary_equals_run_trial() -> None:
    report = workflows.trial("oratorio", replicates=2, seed=SEED, workers=1, bank_size=200)
    direct = trials.run_trial(trials.preset("oratorio"), 2, SEED, bank_size=200, workers=1)
    pd.testing.assert_frame_equal(report.data["summary"], direct.summary())
    pd.testing.assert_frame_equal(report.data["replicates"], direct.table)
    assert report.inputs == {"design": "oratorio", "replicates": 2, "seed": SEED,
                             "bank_size": 200, "scheduler": None, "workers": 1}
    assert set(report.tables) == {"Design", "Enrolment and follow-up",
                                  "Effect estimates vs published", "Power", "Infections by arm"}
    pd.testing.assert_frame_equal(report.data["infections"], direct.infections)


def test_write_trial_report_keeps_its_files(tmp_path: Path) -> None:
    sys.modules.pop("ocrelisim.trial_report", None)
    with pytest.warns(DeprecationWarning, match="moved to ocrelisim.reports.trial"):
        from ocrelisim.trial_report import write_trial_report

    direct = trials.run_trial(trials.preset("oratorio"), 2, SEED, bank_size=200, workers=1)
    paths = write_trial_report(direct, tmp_path)
    assert [p.name for p in paths] == ["trial.png", "replicates.csv", "summary.csv",
                                       "infections.csv", "report.html"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "summary.csv"), direct.summary(),
                                  check_dtype=False)


def test_power_curve_equals_power_curve(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(_DESIGN, encoding="utf-8")
    progress = _Progress()
    report = workflows.power(str(path), sizes=[100, 200], replicates=2, seed=SEED, workers=1,
                             target=0.5, progress=progress)
    design = trials.TrialDesign.from_yaml(path)
    curve = trials.power_curve(design, [100, 200], 2, SEED, workers=1)
    pd.testing.assert_frame_equal(report.data["power"], curve)
    needed = report.tables["Sample size"]
    for endpoint, shown in zip(needed["Endpoint"], needed.iloc[:, 1], strict=True):
        n = trials.sample_size(curve, endpoint, 0.5)
        assert shown == ("not reached on this grid" if np.isnan(n) else f"{int(n)}")
    fig = report.figures["power"].data
    assert sorted(fig["x"].unique()) == [100.0, 200.0]
    assert progress.calls[0] == ("B-cell bank (immune model)", 0, 4)
    assert progress.calls[-1] == ("replicate trials", 4, 4)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: workflows.demo(n=2, days=float("inf")), "days = inf"),
        (lambda: workflows.immune("iv", n=2, years=-1.0), "days = -365.25"),
        (lambda: workflows.power("opera1", sizes=[1]), "sample size 1"),
        (lambda: workflows.power("opera1", target=1.5), "target = 1.5"),
        (lambda: workflows.trial("nope"), "nope"),
    ],
)
def test_bad_input_fails_before_any_work(call: object, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        call()  # type: ignore[operator]
