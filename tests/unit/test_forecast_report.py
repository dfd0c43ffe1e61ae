"""The forecast report (issue 15 item 6): the plain-language answer, the figure's data, the
HTML page; the workflow on the shipped example records."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from ocrelisim import reports
from ocrelisim._meta import DISCLAIMER
from ocrelisim.reports.forecast import (
    B_FLOOR,
    answer,
    forecast_report,
    percent,
    plot_forecast,
    when,
)
from tests._forecast_fixture import LAST_DOSE, make_forecast

EXAMPLE = files("ocrelisim") / "data" / "forecast_example.csv"
FIRST = dt.date(2024, 1, 8)  # the fixture's first dose


def _date(day: float) -> str:
    return (FIRST + dt.timedelta(days=int(day))).strftime("%d %b %Y")


def test_answer_names_the_interval_the_guided_and_the_label_date() -> None:
    fc = make_forecast()
    text = answer(fc)
    rd = fc.return_day
    assert rd.lo90 is not None and rd.hi90 is not None and rd.median is not None
    assert fc.next_dose_day is not None
    # Dates are the first dose date + days; weeks count from the last dose (day 168).
    assert (f"between {_date(rd.lo90)} ({(rd.lo90 - LAST_DOSE) / 7:.0f} weeks after the last "
            f"dose) and {_date(rd.hi90)}") in text
    assert f"next dose would be due around {_date(fc.next_dose_day)}" in text
    assert f"the label date is {_date(fc.label_next_dose_day)} (24 weeks" in text
    assert "at or above 10 cells/µL" in text and "(90%)" in text and "97%" in text
    # the probability names the day it refers to: the horizon after the last dose
    end = LAST_DOSE + fc.horizon_days
    assert (f"back by {_date(end)} ({fc.horizon_days / 7:.0f} weeks after the last dose), the "
            f"end of the forecast: 97%") in text


def test_answer_without_dates_without_return_and_for_the_population() -> None:
    fc = make_forecast(dated=False, returns=False)
    text = answer(fc)
    assert "are not expected back" in text and "104 weeks after the last dose" in text
    assert "no next dose would be due by then" in text and "keep checking" in text
    assert f"no check up to day {LAST_DOSE + fc.horizon_days:.0f} (104 weeks" in text
    assert f"day {fc.label_next_dose_day:.0f} (24 weeks" in text
    assert when(fc, None) == "not within the forecast horizon"
    assert [percent(x) for x in (0.0, 0.004, 0.5, 0.994, 0.996, 1.0)] == [
        "below 1%", "below 1%", "50%", "99%", "above 99%", "above 99%"]
    pop = answer(make_forecast(method="population"))
    assert "population prediction" in pop


def test_figure_keeps_what_it_drew() -> None:
    fc = make_forecast(conc=True)
    fig = plot_forecast(fc)
    data = fig.data
    assert list(data["panel"].unique()) == ["bcells", "concentration", "probability"]
    b = data[(data["panel"] == "bcells") & (data["series"] == "this patient")]
    want = fc.bands[fc.bands["output"] == "B"].sort_values("time")
    assert np.array_equal(b["x"].to_numpy(), want["time"].to_numpy())
    assert np.allclose(b["p50"].to_numpy(), np.maximum(want["q50"].to_numpy(), B_FLOOR))
    cens = data[data["series"].str.startswith("below LLOQ") & (data["panel"] == "bcells")]
    assert cens[["x", "y"]].to_numpy().tolist() == [[LAST_DOSE + 120, 1.0]]  # at the LLOQ
    seen = data[(data["series"] == "observed") & (data["panel"] == "bcells")]
    assert seen[["x", "y"]].to_numpy().tolist() == [[LAST_DOSE + 240, 3.5]]
    p = data[data["panel"] == "probability"]
    assert np.array_equal(p["y"].to_numpy(), fc.p_above["p"].to_numpy())
    assert fig.layout["bcells"]["yscale"] == "log"
    assert "concentration" not in plot_forecast(make_forecast()).layout


def test_report_html_and_files(tmp_path: Path) -> None:
    fc = make_forecast()
    report = forecast_report(fc, check_every=28.0)
    assert report.kind == "forecast" and report.notes[0] == answer(fc)
    assert "every 28 days" in report.notes[2]
    assert report.tables["Observations"]["Value"].tolist() == ["< 1 (censored)", "3.5"]
    html = reports.to_html(report)
    assert DISCLAIMER in html and "between" in html and "data:image/png;base64," in html
    paths = reports.write(report, tmp_path / "P1")
    assert {p.name for p in paths} >= {"forecast.png", "bands.csv", "p_above.csv",
                                        "index.html"}


@pytest.fixture(scope="module")
def example_forecasts() -> list[object]:
    from ocrelisim import workflows

    return workflows.forecast_patients(str(EXAMPLE), workers=1, seed=3)


def test_workflow_on_the_shipped_example(example_forecasts: list) -> None:  # type: ignore[type-arg]
    """The example file (two simulated patients) reads, forecasts and reports; the JSON and
    the text give the same dates."""
    from ocrelisim.workflows import forecast

    assert [fc.id for fc in example_forecasts] == ["P01", "P02"]
    p01 = example_forecasts[0]
    assert p01.n_obs == 3 and p01.method == "map+laplace"
    assert p01.record.first_dose_date == dt.date(2024, 2, 5)
    out = p01.to_dict()
    text = answer(p01)
    for key in ("lo90_date", "hi90_date"):
        if out["return_day"][key] is not None:
            date = dt.date.fromisoformat(out["return_day"][key]).strftime("%d %b %Y")
            assert date in text
    assert dt.date.fromisoformat(out["label_next_dose_date"]).strftime("%d %b %Y") in text
    reps = forecast([p01.record], workers=1, seed=3)
    assert len(reps) == 1 and reps[0].notes[0] == text  # same seed, same answer


def test_answer_when_the_interval_runs_past_the_horizon() -> None:
    """A median within the horizon but a 95% quantile beyond it: the interval says so."""
    from dataclasses import replace

    from ocrelisim.forecasting import ReturnDay

    fc = make_forecast()
    late = replace(fc, return_day=ReturnDay(LAST_DOSE + 600.0, LAST_DOSE + 400.0, None))
    text = answer(late)
    assert f"between {_date(LAST_DOSE + 400)}" in text
    assert "and beyond the forecast horizon (90%)" in text
    assert f"most likely around {_date(LAST_DOSE + 600)}" in text
