"""SimulationResult and Exposure, built directly from small arrays (3 subjects x 5 times)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.io import read_table
from ocrelisim.results import EXPOSURE_COLUMNS, Exposure, SimulationResult

TIMES = np.array([0.0, 1.0, 2.0, 4.0, 8.0])  # day
IDS = np.array([11, 12, 13])
# C[i, j] = 10 * (i + 1) + j: subject i on rows, time j on columns, all values distinct.
CONC = 10.0 * (np.arange(3)[:, None] + 1.0) + np.arange(5)[None, :]
INTERVALS = np.array([[0.0, 2.0], [2.0, 8.0]])


def _exposure() -> Exposure:
    base = np.arange(6.0).reshape(3, 2)
    return Exposure(intervals=INTERVALS, auc=base + 100.0, cmax=base + 200.0,
                    ctrough=base + 300.0, time_above=base + 400.0, threshold=1.5)


def _result(**kw: object) -> SimulationResult:
    args: dict[str, object] = {
        "times": TIMES, "outputs": {"C": CONC, "A": 2.0 * CONC},
        "units": {"C": "mg/L", "A": "mg"}, "ids": IDS, "seed": 7, "n_steps": 42,
        "regimen_text": "600 mg IV d0",
    }
    args.update(kw)
    return SimulationResult(**args)  # type: ignore[arg-type]


def test_shapes_and_accessors() -> None:
    r = _result()
    assert r.n_subjects == 3
    assert r.concentration.shape == (3, 5)
    assert r.names == ("C", "A")
    np.testing.assert_array_equal(r.concentration, CONC)
    np.testing.assert_array_equal(r["A"], 2.0 * CONC)
    assert (r.seed, r.n_steps, r.regimen_text) == (7, 42, "600 mg IV d0")
    assert r.has_trajectories


def test_arrays_are_read_only() -> None:
    src = CONC.copy()
    r = _result(outputs={"C": src}, units={"C": "mg/L"})
    for arr in (r.concentration, r.times, r.ids):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0
    with pytest.raises(TypeError):
        r.outputs["C"] = src  # type: ignore[index]
    ex = _exposure()
    for arr in (ex.intervals, ex.auc, ex.cmax, ex.ctrough, ex.time_above):
        with pytest.raises(ValueError, match="read-only"):
            arr[0, 0] = 1.0


def test_swapped_axes_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match=r"shape \(5, 3\); expected \(3, 5\)"):
        _result(outputs={"C": CONC.T}, units={"C": "mg/L"})
    with pytest.raises(InvalidInputError, match=r"cmax has shape \(2, 3\); expected \(3, 2\)"):
        Exposure(INTERVALS, np.zeros((3, 2)), np.zeros((2, 3)), np.zeros((3, 2)),
                 np.zeros((3, 2)))
    with pytest.raises(InvalidInputError, match=r"auc has shape \(2, 3\); expected \(2, 2\)"):
        Exposure(INTERVALS, np.zeros((2, 3)), np.zeros((2, 2)), np.zeros((2, 2)),
                 np.zeros((2, 2)))


def test_output_without_unit_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="output 'A' has no unit"):
        _result(units={"C": "mg/L"})


def test_unknown_variable_lists_available_names() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown output 'B'; this result has 'C', 'A'"):
        _result()["B"]


def test_to_pandas_long_layout_exact_values() -> None:
    df = _result().to_pandas()
    assert list(df.columns) == ["ID", "TIME", "C", "A"]
    assert len(df) == 15
    assert df["ID"].tolist() == [11] * 5 + [12] * 5 + [13] * 5
    assert df["TIME"].tolist() == TIMES.tolist() * 3
    assert df["C"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 20.0, 21.0, 22.0, 23.0, 24.0,
                                30.0, 31.0, 32.0, 33.0, 34.0]
    np.testing.assert_array_equal(df["A"].to_numpy(), 2.0 * df["C"].to_numpy())
    assert df.attrs["units"] == {"TIME": "day", "C": "mg/L", "A": "mg"}
    assert df.attrs["disclaimer"] == DISCLAIMER
    assert df.attrs["seed"] == 7


def test_to_xarray_dims_values_and_attrs() -> None:
    ds = _result(exposure=_exposure()).to_xarray()
    assert ds["C"].dims == ("ID", "TIME")
    assert ds["C"].shape == (3, 5)
    assert ds["C"].attrs["units"] == "mg/L"
    assert ds["TIME"].attrs["units"] == "day"
    assert ds["ID"].values.tolist() == [11, 12, 13]
    assert float(ds["C"].sel(ID=12, TIME=4.0)) == 23.0
    assert ds.attrs["disclaimer"] == DISCLAIMER
    assert ds.attrs["seed"] == 7
    assert ds.attrs["regimen"] == "600 mg IV d0"
    assert ds.attrs["threshold_mg_per_L"] == 1.5
    assert ds["AUC"].dims == ("ID", "INTERVAL")
    assert ds["AUC"].attrs["units"] == "mg*day/L"
    assert float(ds["CMAX"].sel(ID=13, INTERVAL=2)) == 205.0
    assert ds["END"].values.tolist() == [2.0, 8.0]


def test_parquet_round_trip(tmp_path: Path) -> None:
    r = _result()
    path = r.to_parquet(tmp_path / "r.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, r.to_pandas())
    assert back.attrs["disclaimer"] == DISCLAIMER
    assert [p.name for p in tmp_path.iterdir()] == ["r.parquet"]


@pytest.mark.parametrize("name", ["r.csv", "r.csv.gz"])
def test_csv_round_trip(tmp_path: Path, name: str) -> None:
    r = _result(outputs={"C": CONC / 3.0}, units={"C": "mg/L"})
    path = r.to_csv(tmp_path / name)
    back = read_table(path)
    assert list(back.columns) == ["ID", "TIME", "C"]
    assert back["ID"].tolist() == np.repeat(IDS, 5).tolist()
    np.testing.assert_array_equal(back["C"].to_numpy(), (CONC / 3.0).ravel())
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_exposure_to_pandas_long_layout() -> None:
    df = _exposure().to_pandas(IDS)
    assert tuple(df.columns) == EXPOSURE_COLUMNS
    assert df["ID"].tolist() == [11, 11, 12, 12, 13, 13]
    assert df["INTERVAL"].tolist() == [1, 2, 1, 2, 1, 2]
    assert df["START"].tolist() == [0.0, 2.0] * 3
    assert df["END"].tolist() == [2.0, 8.0] * 3
    assert df["AUC"].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]
    assert df["CTROUGH"].tolist() == [300.0, 301.0, 302.0, 303.0, 304.0, 305.0]
    assert df["TIME_ABOVE"].tolist() == [400.0, 401.0, 402.0, 403.0, 404.0, 405.0]
    assert _exposure().to_pandas()["ID"].tolist() == [1, 1, 2, 2, 3, 3]


def test_summary_uses_exposure_when_present() -> None:
    df = _result(exposure=_exposure()).summary()
    assert df["CMAX"].tolist() == [200.0, 201.0, 202.0, 203.0, 204.0, 205.0]
    assert df["ID"].tolist() == [11, 11, 12, 12, 13, 13]


def test_summary_from_trajectories_trapezoid() -> None:
    df = _result().summary()
    assert df["INTERVAL"].tolist() == [1, 1, 1]
    assert df["START"].tolist() == [0.0] * 3
    assert df["END"].tolist() == [8.0] * 3
    # Row i is 10(i+1) + j at t = 0, 1, 2, 4, 8: trapezoid over widths 1, 1, 2, 4.
    want = [(a + b) / 2 * w for a, b, w in zip([0, 1, 2, 3], [1, 2, 3, 4], [1, 1, 2, 4],
                                                strict=True)]
    assert df["AUC"].tolist() == [80.0 + sum(want), 160.0 + sum(want), 240.0 + sum(want)]
    assert df["CMAX"].tolist() == [14.0, 24.0, 34.0]
    assert df["CTROUGH"].tolist() == [14.0, 24.0, 34.0]
    assert df["TIME_ABOVE"].tolist() == [8.0, 8.0, 8.0]


def test_from_trajectories_interpolates_bounds_and_threshold_crossings() -> None:
    t = np.array([0.0, 2.0, 4.0])
    c = np.array([[0.0, 4.0, 0.0], [1.0, 1.0, 1.0]])
    ex = Exposure.from_trajectories(t, c, [[1.0, 3.0], [0.0, 4.0]], threshold=2.0)
    # Subject 0 on [1, 3]: 2 -> 4 -> 2, AUC = 3 + 3; above 2 except at the ends.
    np.testing.assert_array_equal(ex.auc, [[6.0, 8.0], [2.0, 4.0]])
    np.testing.assert_array_equal(ex.cmax, [[4.0, 4.0], [1.0, 1.0]])
    np.testing.assert_array_equal(ex.ctrough, [[2.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(ex.time_above, [[2.0, 2.0], [0.0, 0.0]])


def test_from_trajectories_rejects_intervals_outside_grid() -> None:
    with pytest.raises(InvalidInputError, match="reach outside the sampled times"):
        Exposure.from_trajectories(TIMES, CONC, [[0.0, 9.0]])


def test_invalid_intervals_are_rejected() -> None:
    z = np.zeros((3, 1))
    with pytest.raises(InvalidInputError, match="start < end"):
        Exposure([[2.0, 1.0]], z, z, z, z)
    with pytest.raises(InvalidInputError, match="threshold = nan"):
        Exposure([[0.0, 1.0]], z, z, z, z, threshold=float("nan"))


def test_result_without_trajectories() -> None:
    r = SimulationResult(times=np.zeros(0), outputs={"C": np.zeros((3, 0))},
                         units={"C": "mg/L"}, ids=IDS, exposure=_exposure())
    assert not r.has_trajectories
    with pytest.raises(InvalidInputError, match="trajectories=False"):
        r.to_pandas()
    ds = r.to_xarray()
    assert "C" not in ds
    assert ds["AUC"].shape == (3, 2)
    assert r.summary()["AUC"].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]


def test_exposure_subject_count_must_match_ids() -> None:
    with pytest.raises(InvalidInputError, match="exposure has 3 subjects but ids has 2"):
        _result(ids=IDS[:2], outputs={}, times=np.zeros(0), exposure=_exposure())


def test_equality_is_identity_not_elementwise() -> None:
    r = _result()
    assert r == r
    assert r != _result()  # no ambiguous array comparison; compare arrays explicitly
    assert len({r, r}) == 1
