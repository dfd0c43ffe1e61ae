"""Reports: figures keep their data, exposure tables are numpy percentiles, renderers write
what the report holds (HTML self-contained with the disclaimer, PNG, CSV)."""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.io import read_table
from ocrelisim.parameters import IMMUNE
from ocrelisim.reports import (
    Figure,
    Report,
    exposure_table,
    figure_png,
    format_exposure_table,
    plot_bcells,
    plot_concentration,
    plot_immune,
    plot_power_curve,
    repletion_table,
    to_html,
    write,
)
from ocrelisim.reports.immune import IG, T_CELL_INDICES
from ocrelisim.results import Exposure, SimulationResult

TIMES = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _result(scale: float, exposure: bool = True) -> SimulationResult:
    rng = np.random.default_rng(3)
    conc = scale * rng.uniform(1.0, 2.0, size=(7, 5))
    ex = None
    if exposure:
        ex = Exposure.from_trajectories(TIMES, conc, [[0.0, 2.0], [2.0, 8.0]], threshold=1.5)
    return SimulationResult(times=TIMES, outputs={"C": conc}, units={"C": "mg/L"},
                            ids=np.arange(1, 8), exposure=ex)


RESULTS = {"IV": _result(1.0), "SC": _result(3.0)}


def _immune_result(n: int = 6) -> SimulationResult:
    """Synthetic immune trajectories (3 subjects' worth of shapes) on a 3-year daily grid."""
    t = np.arange(0.0, 3 * 365.25, 7.0)
    rng = np.random.default_rng(5)
    names = ["B", *T_CELL_INDICES, *IG]
    outputs = {name: rng.uniform(0.5, 2.0, size=(n, t.size)) for name in names}
    units = {name: "cells/uL" if name == "B" else "g/L" if name in IG else "1" for name in names}
    return SimulationResult(times=t, outputs=outputs, units=units, ids=np.arange(1, n + 1))


def _report() -> Report:
    fig = plot_concentration(RESULTS)
    table = format_exposure_table(exposure_table(RESULTS))
    return Report(title="Demo & test", kind="demo",
                  tables={"Exposure <per cycle>": table, "Second": pd.DataFrame({"a": [1, 2]})},
                  figures={"concentration": fig}, data={"exposure": exposure_table(RESULTS)},
                  notes=["Population: 7 subjects."], inputs={"n": 7, "seed": 3})


@pytest.mark.parametrize("module", ["ocrelisim.reports", "ocrelisim.workflows",
                                    "ocrelisim.interfaces.cli"])
def test_matplotlib_and_lifelines_are_imported_only_when_drawing(module: str) -> None:
    code = (f"import sys, {module}; print(sorted(m for m in ('matplotlib', 'lifelines', "
            f"'statsmodels', 'dask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "[]\n"


@pytest.mark.parametrize("log", [False, True])
def test_concentration_figure_carries_the_percentiles_it_draws(log: bool) -> None:
    fig = plot_concentration(RESULTS, log=log)
    assert fig.layout["concentration"]["yscale"] == ("log" if log else "linear")
    assert fig.data["series"].unique().tolist() == ["IV", "SC"]
    for label, res in RESULTS.items():
        rows = fig.data[fig.data["series"] == label]
        assert rows["x"].tolist() == TIMES.tolist()
        for col, q in (("p05", 5), ("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95)):
            assert rows[col].tolist() == np.percentile(res.concentration, q, axis=0).tolist()
        # The median line on the axes is the data's p50.
    lines = fig.figure.axes[0].get_lines()
    assert [line.get_ydata().tolist() for line in lines] == [
        fig.data.loc[fig.data["series"] == s, "p50"].tolist() for s in ("IV", "SC")]
    png = figure_png(fig)
    assert png[:8] == PNG_MAGIC
    assert len(png) > 10_000


def test_plot_rejects_empty_and_trajectory_free_results() -> None:
    with pytest.raises(InvalidInputError, match="results is empty"):
        plot_concentration({})
    bare = SimulationResult(times=np.zeros(0), outputs={}, units={}, ids=np.arange(1, 8),
                            exposure=RESULTS["IV"].exposure)
    with pytest.raises(InvalidInputError, match="'X' holds no trajectories"):
        plot_concentration({"X": bare})


def test_bcell_figure_draws_the_lln_it_is_given() -> None:
    res = _immune_result()
    fig = plot_bcells({"iv": res}, lln=123.0)
    assert fig.layout["bcells"]["hlines"][0]["y"] == 123.0
    assert 123.0 in [line.get_ydata()[0] for line in fig.figure.axes[0].get_lines()]
    rows = fig.data[fig.data["series"] == "iv"]
    assert np.allclose(rows["x"], res.times / 7.0, rtol=0, atol=1e-12)
    assert rows["p50"].tolist() == np.median(np.maximum(res.bcells, 1e-3), axis=0).tolist()


def test_immune_figure_takes_its_limits_from_the_run_parameters() -> None:
    params = IMMUNE.replace(lln_b=50.0, lln_igg=4.0)
    fig = plot_immune(_immune_result(), immune=params)
    assert fig.layout["bcells"]["hlines"][0]["y"] == 50.0
    ig = {h["label"].split()[1]: h["y"] for h in fig.layout["ig"]["hlines"]}
    assert ig == {"IgG": 4.0, "IgM": IMMUNE.lln_igm.value, "IgA": IMMUNE.lln_iga.value}
    assert sorted(fig.data["panel"].unique()) == ["bcells", "ig", "tcells"]
    assert set(fig.data.loc[fig.data["panel"] == "tcells", "series"]) == set(T_CELL_INDICES)
    # The months panel covers 24 months, in months.
    tc = fig.data[fig.data["panel"] == "tcells"]
    assert tc["x"].max() <= 24.0


def test_repletion_table_counts_weeks_from_the_last_dose() -> None:
    # Last dose at day 100; B cells cross the LLN (80 cells/uL) at day 170 (10 weeks after,
    # linear between days 140 and 200), at day 240 (20 weeks), or never.
    t = np.array([0.0, 50.0, 100.0, 140.0, 200.0, 300.0])
    b = np.array([[200.0, 1.0, 0.5, 20.0, 140.0, 150.0],
                  [200.0, 1.0, 0.5, 1.0, 40.0, 140.0],
                  [200.0, 1.0, 0.5, 1.0, 2.0, 3.0]])
    res = SimulationResult(times=t, outputs={"B": b}, units={"B": "cells/uL"},
                           ids=np.array([1, 2, 3]),
                           parameters=pd.DataFrame({"ID": [1, 2, 3], "B0": [200.0] * 3}))
    row = repletion_table({"iv": res}, {"iv": 100.0}, lln=80.0).iloc[0]
    assert row["Below LLN at last dose (%)"] == "100.0"
    assert row["Not repleted by end (%)"] == "33.3"
    # Percentiles of [10, 20, censored]: median 20, 5th 11 (linear), 95th censored.
    assert row["Weeks to repletion, median (5-95%)"] == "20 (11->end)"
    # A lower LLN moves the crossings: 40 cells/uL is reached at day 150 and day 200.
    row = repletion_table({"iv": res}, {"iv": 100.0}, lln=40.0).iloc[0]
    assert row["Weeks to repletion, median (5-95%)"] == "14 (8->end)"


def test_power_curve_figure_keeps_the_curve() -> None:
    curve = pd.DataFrame({"n": [100, 300, 100, 300], "endpoint": ["ARR", "ARR", "CDP12", "CDP12"],
                          "arm": ["ocr"] * 4, "control": ["ifn"] * 4,
                          "power": [0.4, 0.9, 0.2, 0.5], "power_lower": [0.3, 0.8, 0.1, 0.4],
                          "power_upper": [0.5, 0.95, 0.3, 0.6], "estimate": [0.5] * 4})
    fig = plot_power_curve(curve, target=0.8)
    assert fig.layout["power"]["hlines"] == [{"y": 0.8, "label": "target 0.8"}]
    arr = fig.data[fig.data["series"] == "ARR: ocr"]
    assert arr[["x", "y", "y_lower", "y_upper"]].to_numpy().tolist() == [
        [100.0, 0.4, 0.3, 0.5], [300.0, 0.9, 0.8, 0.95]]
    with pytest.raises(InvalidInputError, match="empty"):
        plot_power_curve(curve.iloc[:0])


def test_exposure_table_values_are_numpy_percentiles() -> None:
    table = exposure_table(RESULTS)
    assert table["REGIMEN"].tolist() == ["IV", "IV", "SC", "SC"]
    assert table["INTERVAL"].tolist() == [1, 2, 1, 2]
    assert table["START"].tolist() == [0.0, 2.0, 0.0, 2.0]
    assert table["END"].tolist() == [2.0, 8.0, 2.0, 8.0]
    for row, (label, k) in enumerate([("IV", 0), ("IV", 1), ("SC", 0), ("SC", 1)]):
        ex = RESULTS[label].exposure
        assert ex is not None
        for metric, values in (("AUC", ex.auc), ("CMAX", ex.cmax), ("CTROUGH", ex.ctrough)):
            assert table.loc[row, f"{metric}_P50"] == np.percentile(values[:, k], 50.0)
            assert table.loc[row, f"{metric}_P05"] == np.percentile(values[:, k], 5.0)
            assert table.loc[row, f"{metric}_P95"] == np.percentile(values[:, k], 95.0)
    assert table.attrs["units"]["AUC_P50"] == "mg*day/L"


def test_exposure_table_without_exposure_uses_whole_grid() -> None:
    res = _result(1.0, exposure=False)
    table = exposure_table({"IV": res})
    auc = Exposure.from_trajectories(TIMES, res.concentration).auc[:, 0]
    assert table["START"].tolist() == [0.0]
    assert table["END"].tolist() == [8.0]
    assert table.loc[0, "AUC_P95"] == np.percentile(auc, 95.0)


def test_format_exposure_table_strings() -> None:
    table = pd.DataFrame({
        "REGIMEN": ["IV"], "INTERVAL": [1], "START": [0.0], "END": [14.0],
        "AUC_P50": [2345.6], "AUC_P05": [1000.0], "AUC_P95": [4000.04],
        "CMAX_P50": [150.0], "CMAX_P05": [99.95], "CMAX_P95": [201.0],
        "CTROUGH_P50": [0.0523], "CTROUGH_P05": [0.0], "CTROUGH_P95": [3.21],
    })
    out = format_exposure_table(table)
    assert out.iloc[0].tolist() == [
        "IV", "1", "0-14", "2350 (1000-4000)", "150 (100-201)", "0.0523 (0-3.21)",
    ]


def test_html_is_self_contained_with_disclaimer_tables_notes_and_inputs() -> None:
    report = _report()
    text = to_html(report)
    assert text.startswith("<!DOCTYPE html>")
    assert text.count(DISCLAIMER) == 2  # banner and footer
    assert "<title>Demo &amp; test</title>" in text
    assert "<p>Population: 7 subjects.</p>" in text
    for heading, df in report.tables.items():
        assert f"<h2>{heading.replace('<', '&lt;').replace('>', '&gt;')}</h2>" in text
        assert df.to_html(index=False, border=0, escape=True) in text
    assert json.dumps(report.inputs, indent=2).replace('"', "&quot;") in text
    png = figure_png(report.figures["concentration"])
    assert "data:image/png;base64," + base64.b64encode(png).decode() in text
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_write_writes_a_png_per_figure_a_csv_per_table_and_the_page(tmp_path: Path) -> None:
    report = _report()
    paths = write(report, tmp_path / "out", html_name="summary.html")
    out = tmp_path / "out"
    assert paths == [out / "concentration.png", out / "exposure.csv", out / "summary.html"]
    assert sorted(p.name for p in out.iterdir()) == ["concentration.png", "exposure.csv",
                                                     "summary.html"]
    assert (out / "concentration.png").read_bytes() == figure_png(report.figures["concentration"])
    pd.testing.assert_frame_equal(read_table(out / "exposure.csv"), report.data["exposure"],
                                  check_dtype=False)
    assert (out / "summary.html").read_text(encoding="utf-8") == to_html(report)
    assert [p.name for p in write(report, tmp_path / "other")][-1] == "index.html"


def test_report_and_figure_check_themselves() -> None:
    with pytest.raises(InvalidInputError, match="JSON-serialisable"):
        Report(title="t", kind="demo", inputs={"times": np.arange(3)})
    with pytest.raises(InvalidInputError, match="JSON-serialisable"):
        Report(title="t", kind="demo", inputs={"x": float("nan")})
    with pytest.raises(InvalidInputError, match="plain file stem"):
        Report(title="t", kind="demo", data={"../x": pd.DataFrame()})
    fig = plot_concentration(RESULTS)
    with pytest.raises(InvalidInputError, match="lacks the columns"):
        Figure(fig.figure, fig.data.drop(columns=["series"]), fig.layout, "t")
    assert Report(title="t", kind="demo").disclaimer == DISCLAIMER


@pytest.mark.parametrize(("old", "name", "new"), [
    ("ocrelisim.report", "exposure_table", "ocrelisim.reports"),
    ("ocrelisim.immune_report", "plot_immune", "ocrelisim.reports.immune"),
    ("ocrelisim.trial_report", "plot_trial", "ocrelisim.reports.trial"),
])
def test_old_report_modules_warn_and_re_export(old: str, name: str, new: str) -> None:
    sys.modules.pop(old, None)  # import afresh, so that the warning fires here
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_old_cli_module_re_exports_the_app() -> None:
    import ocrelisim.cli
    import ocrelisim.interfaces.cli

    assert ocrelisim.cli.app is ocrelisim.interfaces.cli.app
    assert ocrelisim.cli.main is ocrelisim.interfaces.cli.main
