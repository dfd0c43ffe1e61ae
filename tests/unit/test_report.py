"""Report: PNG written, exposure table equals numpy percentiles, HTML self-contained."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.report import (
    exposure_table,
    format_exposure_table,
    plot_concentration,
    write_html_summary,
)
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


def test_matplotlib_is_imported_only_when_drawing() -> None:
    code = "import sys, ocrelisim.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "False\n"


@pytest.mark.parametrize("log", [False, True])
def test_plot_writes_a_png(tmp_path: Path, log: bool) -> None:
    path = plot_concentration(RESULTS, tmp_path / "c.png", log=log)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png"]


def test_plot_rejects_empty_and_trajectory_free_results(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="results is empty"):
        plot_concentration({}, tmp_path / "c.png")
    bare = SimulationResult(times=np.zeros(0), outputs={}, units={}, ids=np.arange(1, 8),
                            exposure=RESULTS["IV"].exposure)
    with pytest.raises(InvalidInputError, match="'X' holds no trajectories"):
        plot_concentration({"X": bare}, tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


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


def test_html_summary_is_self_contained_with_disclaimer(tmp_path: Path) -> None:
    png = plot_concentration(RESULTS, tmp_path / "c.png")
    table = format_exposure_table(exposure_table(RESULTS))
    path = write_html_summary(tmp_path / "s.html", {"Exposure <per cycle>": table}, [png],
                              title="Demo & test", notes=["Population: 7 subjects."])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.count(DISCLAIMER) == 2  # banner and footer
    assert "<title>Demo &amp; test</title>" in text
    assert "<h2>Exposure &lt;per cycle&gt;</h2>" in text
    assert "<p>Population: 7 subjects.</p>" in text
    assert "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode() in text
    assert table.iloc[0, 3] in text
    assert 'src="c.png"' not in text


def test_html_summary_missing_figure_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist; write it first"):
        write_html_summary(tmp_path / "s.html", {}, [tmp_path / "missing.png"])
    assert list(tmp_path.iterdir()) == []
