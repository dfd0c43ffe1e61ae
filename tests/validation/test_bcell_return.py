"""B-cell return after the last dose: the maturation chain, its reports, and published figures.

The published figures live in ``src/ocrelisim/data/bcell_timecourse.csv`` (keys [B1]...; each
row quotes the sentence it was read from and says whether it is a calibration target or a
prediction). Shares of patients above a count at fixed months after the last dose are
predictions: no parameter was fitted to them. 400 simulated patients keep the module fast
(binomial SE of a 50% share 2.5 points); tolerances say what they allow for.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ocrelisim as oc
from ocrelisim.engine import SolverOptions
from ocrelisim.errors import InvalidInputError
from ocrelisim.models import immune as im
from ocrelisim.parameters import IMMUNE
from ocrelisim.units import DAYS_PER_MONTH

DATA = Path(im.__file__).resolve().parents[1] / "data" / "bcell_timecourse.csv"
FAST = SolverOptions(rtol=1e-6)
STOP = "300 mg IV d0, d14; 600 mg IV q24w x2 from d168"  # three cycles, then none
LAST = 336.0
B1_THRESHOLD = 24.0
"""[B1]'s 1% of lymphocytes in cells/µL: 1% of the mean adult count of 2,400 cells/µL
([S85c]); a derived reading, not published."""


def _published(key: str) -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["key"] == key]


def _range(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition("-")
    return float(lo), float(hi or lo)


@pytest.fixture(scope="module")
def stopped() -> oc.SimulationResult:
    pop = oc.Population.sample(400, "RMS", seed=11)
    t = np.arange(0.0, LAST + 200 * 7.0 + 1.0)
    return oc.simulate(oc.Regimen.parse(STOP), pop, t, model="immune", variables=["B"],
                       options=FAST)


# -- the data table -----------------------------------------------------------------------


def test_data_table_quotes_every_figure() -> None:
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["key", "citation", "url", "quote", "drug", "population",
                             "months_after_last_dose", "statistic", "value", "unit", "n", "role"]
    for r in rows:
        assert r["role"] in ("calibration", "prediction"), r
        assert r["url"].startswith("https://") and r["citation"] and r["quote"], r
        quote = r["quote"].replace("six", "6")
        for part in r["value"].split("-"):
            assert part.replace(".", "", 1).isdigit(), r  # published numbers only
            assert part in quote or part.rstrip("0").rstrip(".") in quote, r  # as quoted
    # shares of patients at fixed months are predictions, never calibration targets
    assert all(r["role"] == "prediction" for r in rows if r["statistic"].startswith("share")
               and r["months_after_last_dose"])


def test_report_draws_the_table_figures() -> None:
    """The B-cell return figure reads [B1] from the shipped table, not from typed copies."""
    from ocrelisim.reports.immune import published_ranges

    rows = _published("B1")
    months, lo, hi = published_ranges("B1")
    assert months == tuple(float(r["months_after_last_dose"]) for r in rows) == (6.0, 9.0, 12.0)
    assert list(zip(lo, hi, strict=True)) == [_range(r["value"]) for r in rows]
    with pytest.raises(InvalidInputError, match="no rows with key 'B9'"):
        published_ranges("B9")


# -- published figures --------------------------------------------------------------------


@pytest.mark.calibration
def test_repletion_percentiles_hold_the_label_median_and_range(stopped) -> None:  # type: ignore[no-untyped-def]
    """Time from the last infusion to B-cell repletion, by :func:`repletion_percentiles`.

    Source: [S59] (table key [B3]; low-grade secondary summary of the label)
    Published: median 72 weeks (range 27-175, not verified) to baseline or LLN, whichever first.
    Tolerance: median within 6 weeks of 72 (400 patients: SE of the median about 2 weeks);
    5th percentile above 27 and 95th below 175 weeks (the range read as extremes).
    Fits: ``kout`` (with ``emax`` and ``ec50``) to the median; ``omega_kout`` to the range
    (given ``mtt_b``, an assumption).
    """
    (row,) = [r for r in _published("B3") if r["statistic"].startswith("median")]
    pct = im.repletion_percentiles(stopped, LAST).set_index("percentile")["weeks"]
    assert abs(pct[50.0] - float(row["value"])) <= 6.0, pct[50.0]
    assert 27.0 < pct[5.0] and pct[95.0] < 175.0, pct.to_dict()
    assert im.repletion_percentiles(stopped, LAST).attrs["not_repleted"] < 0.05


def _b1_miss(month: float, model: float, published: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=(
        f"known failing prediction: about {model:g}% of patients at or above 24 cells/uL "
        f"{month:g} months after the last dose vs {published}% published [B1]: the model's "
        "return starts on time (5% at 6 months) but rises too slowly; the calibration figures "
        "(72-week median [S59], GAVOTTE [S52]) do not pin when and how fast apart, and the "
        "maturation delay mtt_b is an assumption"))


@pytest.mark.prediction
@pytest.mark.parametrize("month", [6.0, pytest.param(9.0, marks=_b1_miss(9, 34, "50-55")),
                                   pytest.param(12.0, marks=_b1_miss(12, 70, "85-90"))])
def test_share_above_one_percent_of_lymphocytes_as_in_baker(stopped, month: float) -> None:  # type: ignore[no-untyped-def]
    """Share of patients with CD19 B cells >= 1% of lymphocytes, months after the last dose.

    Source: [S31] (Baker et al. 2021, the full abstract read on medRxiv; table key [B1])
    Published: 3-5% at 6 months, 50-55% at 9 months, 85-90% at 12 months after the last of
    3-4 ocrelizumab cycles (phase II extension; n not given).
    Definition here: B cells >= 24 cells/uL (1% of a mean lymphocyte count of 2,400 [S85c]; a
    derived threshold) after three cycles (2 x 300 mg, 600 mg on days 168 and 336).
    Tolerance: the published range widened by 8 points on each side (the study's n is not
    given; 8 points is about the 95% binomial half-width for 150 patients at 50%, and covers
    400 simulated patients' own SE of 2.5 points).
    Fits: none (no parameter was fitted to shares at fixed months).
    """
    (row,) = [r for r in _published("B1") if float(r["months_after_last_dose"]) == month]
    lo, hi = _range(row["value"])
    share = im.repletion_summary(stopped, LAST, months=[month],
                                 thresholds=[B1_THRESHOLD]).iloc[0, 2]
    assert lo - 8.0 <= share <= hi + 8.0, (month, share)


@pytest.mark.prediction
def test_b_cells_begin_to_return_after_six_months(stopped) -> None:  # type: ignore[no-untyped-def]
    """B cells begin to recover after six months (clinic cohort, background statement).

    Source: [S63] (table key [B2])
    Published: CD19 "begins recovering after six months" (qualitative).
    Definition here: the median patient is below 10 cells/uL 6 months after the last dose,
    and the median count has at least doubled by 9 months.
    Tolerance: as defined (a direction and a time, no number published).
    Fits: none.
    """
    t = np.asarray(stopped.times)
    col = {m: int(np.searchsorted(t, LAST + m * DAYS_PER_MONTH)) for m in (6.0, 9.0)}
    med = {m: float(np.median(stopped.bcells[:, j])) for m, j in col.items()}
    assert med[6.0] < 10.0, med
    assert med[9.0] >= 2.0 * med[6.0], med


# -- structure: when and how fast are separate --------------------------------------------


def _one_patient(**given: float) -> oc.SimulationResult:
    base = oc.simulate(oc.Regimen.parse(STOP), oc.Population.typical([70.0]), [0.0],
                       model="immune", variables=["B"]).parameters.drop(columns=["ID"])
    table = base.assign(**given)
    t = np.arange(0.0, LAST + 1200.0)
    return oc.simulate(oc.Regimen.parse(STOP), oc.Population.from_parameters(table), t,
                       model="immune", variables=["B"])


def _crossing(res: oc.SimulationResult, level: float) -> float:
    return float(im.repletion_time(res.times, res.bcells, level, after=LAST + 1.0)[0])


def test_mtt_shifts_the_return_and_kout_sets_its_speed() -> None:
    """A longer maturation delay moves the whole return later without slowing it; a faster
    turnover speeds the rise (10 to 80 cells/µL)."""
    typical = _one_patient()
    mtt = IMMUNE.mtt_b.value
    late = _one_patient(MTT_B=mtt + 60.0)
    fast = _one_patient(KOUT=2.0 * IMMUNE.kout.value, EMAX=IMMUNE.emax.value / 2.0)
    start = {k: _crossing(r, 10.0) for k, r in (("typ", typical), ("late", late),
                                                 ("fast", fast))}
    rise = {k: _crossing(r, 80.0) - start[k] for k, r in (("typ", typical), ("late", late),
                                                           ("fast", fast))}
    # 60 more days of maturation: the return starts later, by about the added delay (a little
    # more: the slower chain is also held back longer by the waning drug), and the rise from
    # 10 to 80 cells/µL takes as long
    assert 40.0 <= start["late"] - start["typ"] <= 90.0, start
    assert abs(rise["late"] - rise["typ"]) <= 0.1 * rise["typ"], rise
    # twice the turnover at the same kill rate (kout·emax): the rise takes well under its time
    assert rise["fast"] < 0.7 * rise["typ"], rise


def test_b_cell_params_and_etas_name_the_b_cell_drivers() -> None:
    assert set(im.B_CELL_PARAMS) <= set(im.PARAM_NAMES)
    assert len(im.B_CELL_ETAS) == len(im.B_CELL_PARAMS)
    assert len(set(im.B_CELL_ETAS)) == len(im.B_CELL_ETAS)
    cov = pd.DataFrame({"WT": [70.0] * 3, "AGE": [38.0] * 3})
    typical = im.individual_parameters(cov, None)
    for name, k in zip(im.B_CELL_PARAMS, im.B_CELL_ETAS, strict=True):
        eta = np.zeros((3, im.N_IMMUNE_ETA))
        eta[:, k] = [-1.0, 0.0, 1.0]
        moved = im.individual_parameters(cov, eta)
        changed = [c for c in im.PARAM_NAMES if not np.allclose(moved[c], typical[c])]
        assert changed == [name], (name, k, changed)
    # every other eta leaves the B-cell parameters alone
    for k in set(range(im.N_IMMUNE_ETA)) - set(im.B_CELL_ETAS):
        eta = np.zeros((3, im.N_IMMUNE_ETA))
        eta[:, k] = 1.0
        moved = im.individual_parameters(cov, eta)
        for c in im.B_CELL_PARAMS:
            np.testing.assert_array_equal(moved[c], typical[c])


# -- the report functions -----------------------------------------------------------------


def test_repletion_summary_counts_patients_above_each_threshold(stopped) -> None:  # type: ignore[no-untyped-def]
    table = im.repletion_summary(stopped, LAST)
    assert list(table.columns) == ["months", "day", *(f"> {x:g} cells/uL (%)"
                                                      for x in im.REPLETION_THRESHOLDS)]
    assert table["months"].tolist() == list(im.REPLETION_MONTHS)
    t = np.asarray(stopped.times)
    for _, row in table.iterrows():
        day = LAST + row["months"] * DAYS_PER_MONTH
        j = int(np.searchsorted(t, day))
        w = (day - t[j - 1]) / (t[j] - t[j - 1])
        at = stopped.bcells[:, j - 1] + w * (stopped.bcells[:, j] - stopped.bcells[:, j - 1])
        for x in im.REPLETION_THRESHOLDS:
            assert row[f"> {x:g} cells/uL (%)"] == pytest.approx(100.0 * np.mean(at > x))
    shares = table.iloc[:, 2:].to_numpy()
    assert np.all(np.diff(shares, axis=1) <= 0.0)  # higher counts: fewer patients
    assert np.all(np.diff(shares, axis=0) >= 0.0)  # later: more patients (no dose after)
    assert shares[0, -1] < 5.0 and shares[-1, 0] > 90.0  # 3 months: depleted; 24: back


def test_repletion_percentiles_censor_patients_not_repleted(stopped) -> None:  # type: ignore[no-untyped-def]
    t = np.asarray(stopped.times)
    keep = t <= LAST + 60 * 7.0  # 60 weeks: most patients not yet repleted
    res = oc.simulate(oc.Regimen.parse(STOP), oc.Population.sample(40, "RMS", seed=11),
                      t[keep], model="immune", variables=["B"], options=FAST)
    pct = im.repletion_percentiles(res, LAST)
    assert pct.attrs["not_repleted"] > 0.5
    assert math.isinf(pct["weeks"].iloc[-1])  # the 95th percentile is beyond the end
    assert np.all(np.diff(pct["weeks"].to_numpy()[np.isfinite(pct["weeks"])]) >= 0.0)


@pytest.mark.parametrize(("last", "match"), [(-5.0, "last_dose_day = -5.0"),
                                             (float("nan"), "last_dose_day = nan"),
                                             (LAST + 1000.0, "before 24 months")])
def test_repletion_summary_refuses_bad_input(stopped, last: float, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=match):
        im.repletion_summary(stopped, last)


def test_repletion_summary_needs_b_cells() -> None:
    res = oc.simulate(oc.Regimen.parse(STOP), oc.Population.sample(3, seed=1),
                      np.arange(0.0, 400.0), model="immune", variables=["C"])
    with pytest.raises(InvalidInputError, match="no B-cell output"):
        im.repletion_summary(res, LAST, months=[1.0])


# -- the report functions against a hand computation --------------------------------------


def _linear_result() -> oc.SimulationResult:
    """Four patients whose B cells rise linearly from 0 on day 0 (the last dose) at 0.5, 1.0,
    0 (flat at 5) and 0.25 cells/µL per day, baselines 50, 200, 200 and 60 cells/µL."""
    t = np.arange(0.0, 731.0)
    b = np.vstack([0.5 * t, 1.0 * t, np.full(t.size, 5.0), 0.25 * t])
    return oc.SimulationResult(times=t, outputs={"B": b}, units={"B": "cells/uL"},
                               ids=np.arange(4),
                               parameters=pd.DataFrame({"B0": [50.0, 200.0, 200.0, 60.0]}))


def test_repletion_summary_by_hand() -> None:
    # 3 months = day 91.3125: counts 45.66, 91.3125, 5, 22.83; 6 months = day 182.625:
    # 91.31, 182.625, 5, 45.66. "Above" is strict: the second patient sits exactly on 91.3125.
    table = im.repletion_summary(_linear_result(), 0.0, months=[3.0, 6.0],
                                 thresholds=[10.0, 40.0, 50.0, 91.3125])
    assert table["day"].tolist() == [91.3125, 182.625]
    want = [[75.0, 50.0, 25.0, 0.0], [75.0, 75.0, 50.0, 25.0]]
    np.testing.assert_allclose(table.iloc[:, 2:].to_numpy(), want)


def test_repletion_is_baseline_or_lln_whichever_first_by_hand() -> None:
    # LLN 80: patient 1 (B0 50) is back at baseline on day 100 (before the LLN, day 160);
    # patient 2 (B0 200) at the LLN on day 80 (before baseline, day 200); patient 3 never
    # (censored); patient 4 (B0 60) at baseline on day 240.
    res = _linear_result()
    np.testing.assert_allclose(im.repletion_weeks(res, 0.0, lln=80.0),
                               np.array([100.0, 80.0, np.nan, 240.0]) / 7.0)
    pct = im.repletion_percentiles(res, 0.0, lln=80.0, percentiles=[5.0, 25.0, 50.0, 75.0])
    # sorted 80, 100, 240 days and one censored (above all): numpy's linear percentiles at
    # positions 0.15, 0.75 and 1.5 of 3; the 75th (position 2.25) reaches the censored patient
    np.testing.assert_allclose(pct["weeks"].to_numpy()[:3], np.array([83.0, 95.0, 170.0]) / 7.0)
    assert math.isinf(pct["weeks"].iloc[3])
    assert pct.attrs["not_repleted"] == 0.25 and pct.attrs["n"] == 4


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"months": [-1.0]}, "months must be finite numbers >= 0"),
    ({"months": [float("nan")]}, "months must be finite"),
    ({"months": []}, "months is empty"),
    ({"thresholds": [0.0]}, "thresholds must be finite numbers > 0"),
    ({"thresholds": ["ten"]}, "thresholds must be numbers > 0"),
])
def test_repletion_summary_refuses_bad_months_and_thresholds(kwargs, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=match):
        im.repletion_summary(_linear_result(), 0.0, **kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lln": float("nan")}, "lln must be finite numbers > 0"),
    ({"lln": 0.0}, "lln must be finite numbers > 0"),
    ({"percentiles": [50.0, 101.0]}, "percentiles must be finite numbers >= 0 and <= 100"),
    ({"percentiles": []}, "percentiles is empty"),
])
def test_repletion_percentiles_refuse_bad_lln_and_percentiles(kwargs, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=match):
        im.repletion_percentiles(_linear_result(), 0.0, **kwargs)


def test_repletion_time_refuses_a_day_that_is_not_finite() -> None:
    with pytest.raises(InvalidInputError, match="after = nan"):
        im.repletion_time(np.array([0.0, 1.0]), np.array([[0.0, 5.0]]), 1.0, after=math.nan)
