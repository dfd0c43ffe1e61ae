"""Forecast input (issue 15 items 1 and 7): NONMEM-style rows and YAML/JSON records become
PatientRecords; censored rows are kept; bad input names the row (and ID) and the fix."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrelisim.errors import InvalidInputError
from ocrelisim.forecasting._records import read_records, record_from_dict
from ocrelisim.regimens import IVInfusion, Regimen, SCInjection

# Label IV infusions as constant-rate rows: 300 mg over 0.11 day, 600 mg over 0.15 day.
CSV = """ID,TIME,EVID,AMT,CMT,DUR,DV,DVID,LLOQ,WT,AGE
1,0,1,300,2,0.11,.,.,.,70,40
1,14,1,300,2,0.11,.,.,.,,
1,168,1,600,2,0.15,.,.,.,72,41
1,300,0,.,.,.,0.5,2,1,,
1,330,0,.,.,.,,2,1,,
1,360,0,.,.,.,12.3,2,1,,
1,360,0,.,.,.,3.1,1,,,
P2,0,1,920,1,.,.,.,.,80,
P2,200,0,.,.,.,5,2,,,
"""


def frame(text: str = CSV) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), float_precision="round_trip")


def edit(row: int, **values: object) -> pd.DataFrame:
    """The CSV with some cells of one row replaced."""
    df = frame().astype(object)
    for key, value in values.items():
        df.loc[row, key] = value
    return df


def test_rows_become_records_with_censoring_kept() -> None:
    one, two = read_records(frame())
    assert (one.id, two.id) == ("1", "P2")
    assert one.regimen == Regimen((IVInfusion.constant(0, 300, 0.11),
                                   IVInfusion.constant(14, 300, 0.11),
                                   IVInfusion.constant(168, 600, 0.15)))
    assert two.regimen == Regimen((SCInjection(0, 920),))
    obs = one.observations
    assert list(obs.columns) == ["TIME", "DVID", "DV", "LLOQ", "CENSORED"]
    assert obs["TIME"].tolist() == [300, 330, 360, 360]
    assert obs["DVID"].tolist() == [2, 2, 2, 1]
    # 0.5 < LLOQ 1: censored, the value kept (not zeroed); empty with LLOQ: censored.
    assert obs["CENSORED"].tolist() == [True, True, False, False]
    assert obs["DV"].iloc[0] == 0.5 and math.isnan(obs["DV"].iloc[1])
    assert one.covariates == {"WT": 72.0, "AGE": 41.0}  # the most recent values
    assert two.covariates == {"WT": 80.0}
    assert one.first_dose_date is None


def test_dates_count_days_from_the_first_dose(tmp_path: Path) -> None:
    text = """id,date,evid,amt,cmt,rate,dv,dvid
7,2025-01-06,1,300,2,2400,,
7,2025-01-20,1,300,2,2400,,
7,2025-07-07,1,600,2,4000,,
7,2026-02-02,0,,,,4.5,2
"""
    path = tmp_path / "rec.csv"
    path.write_text(text)
    (rec,) = read_records(path)
    assert rec.first_dose_date == dt.date(2025, 1, 6)
    assert [d.time for d in rec.regimen] == [0.0, 14.0, 182.0]
    assert rec.observations["TIME"].tolist() == [392.0]
    assert rec.day_to_date(392.0) == dt.date(2026, 2, 2)
    # Dates as timestamps (a Parquet file, or parse_dates): the same record.
    stamped = pd.read_csv(path, parse_dates=["date"])
    (again,) = read_records(stamped)
    assert again.regimen == rec.regimen and again.first_dose_date == rec.first_dose_date
    stamped.loc[3, "date"] = pd.NaT
    with pytest.raises(InvalidInputError, match=r"row 3 \(ID 7\): DATE is missing"):
        read_records(stamped)
    timed = pd.read_csv(path).assign(date=lambda d: d["date"].where(d.index != 1,
                                                                    "2025-01-20T10:00"))
    with pytest.raises(InvalidInputError, match=r"row 1 .*is not a date"):
        read_records(timed)


def test_yaml_record_equals_the_same_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("""id: 1
weight_kg: 72
age_y: 41
doses:
  - {day: 0, amount_mg: 300, route: IV, duration_h: 2.64}
  - {day: 14, amount_mg: 300, route: IV, duration_h: 2.64}
  - {day: 168, amount_mg: 600, route: IV, duration_h: 3.6}
observations:
  - {day: 300, cd19: 0.5, lloq: 1}
  - {day: 330, cd19: "<1"}
  - {day: 360, cd19: 12.3, lloq: 1}
  - {day: 360, conc: 3.1}
""")
    (got,) = read_records(path)
    (want, _two) = read_records(frame())
    assert got.id == want.id and got.covariates == want.covariates
    assert got.regimen == want.regimen  # 2.64 h = 0.11 day, 3.6 h = 0.15 day
    pd.testing.assert_frame_equal(got.observations, want.observations)


def test_json_record_with_dates_and_label_infusions(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"id": "A", "doses": [
        {"date": "2024-01-10", "amount_mg": 300, "route": "IV"},
        {"date": "2024-01-24", "amount_mg": 300, "route": "iv"},
        {"date": "2024-07-10", "amount_mg": 600, "route": "IV", "protocol": "shorter"},
        {"date": "2025-01-08", "amount_mg": 920, "route": "SC"}],
        "observations": [{"date": "2025-06-01", "cd19": 0, "lloq": 0.4}]}))
    (rec,) = read_records(path)
    assert rec.first_dose_date == dt.date(2024, 1, 10)
    assert [d.kind for d in rec.regimen] == ["label", "label", "short", "sc"]
    assert [d.time for d in rec.regimen] == [0.0, 14.0, 182.0, 364.0]
    assert rec.observations["CENSORED"].tolist() == [True]
    assert rec.observations["DV"].tolist() == [0.0]


def test_no_observations_is_a_valid_record() -> None:
    (rec,) = read_records(frame("ID,TIME,EVID,AMT,CMT\n1,0,1,920,1\n"))
    assert rec.observations.empty and list(rec.observations.columns) == [
        "TIME", "DVID", "DV", "LLOQ", "CENSORED"]


@pytest.mark.parametrize(("df", "words"), [
    (edit(3, TIME=-2), ["row 3 (ID 1)", "before the first dose", "remove the row"]),
    (edit(5, DV=-4), ["row 5 (ID 1)", "negative"]),
    (edit(5, DVID=3), ["row 5 (ID 1)", "DVID = 3", "use 1", "2 (CD19"]),
    (edit(4, LLOQ="."), ["row 4 (ID 1)", "DV is empty and there is no LLOQ"]),
    (edit(3, AMT=600), ["row 3 (ID 1)", "observation row", "EVID 1"]),
    (edit(1, DV=7.5), ["row 1 (ID 1)", "dose row", "own row with EVID 0"]),
    (edit(1, TIME=0), ["ID 1", "overlap", "day 0.0"]),
    (edit(1, TIME=0.05), ["ID 1", "overlap"]),
    (edit(5, EVID=4), ["row 5 (ID 1)", "EVID = 4"]),
    (edit(0, WT=7), ["row 0 (ID 1)", "WT = 7 kg", "plausible"]),
    (edit(5, DV="abc"), ["row 5 (ID 1)", "'abc' is not a number"]),
    # a CD19 count in cells/mL (1000 x cells/µL) is refused as a unit error, not forecast
    (edit(5, DV=6200), ["row 5 (ID 1)", "DV = 6200 is implausible", "cells/mL / 1000"]),
    (edit(6, DV=3100), ["row 6 (ID 1)", "DV = 3100 is implausible", "ng/mL / 1000"]),
])
def test_bad_rows_name_the_row_and_the_fix(df: pd.DataFrame, words: list[str]) -> None:
    with pytest.raises(InvalidInputError) as err:
        read_records(df)
    for word in words:
        assert word in str(err.value)


def test_more_bad_tables() -> None:
    cases = {
        "TIME and DATE": frame().assign(DATE="2025-01-01"),
        "no TIME or DATE": frame().drop(columns="TIME"),
        "missing column 'DVID'": frame().drop(columns="DVID"),
        "first dose is at TIME 5": frame("ID,TIME,EVID,AMT,CMT\n1,5,1,920,1\n"),
        "no dose records": frame("ID,TIME,EVID,AMT,CMT,DV,DVID\n1,0,1,920,1,,\n2,0,0,,,3,2\n"),
        "are not together": pd.concat([frame(), frame().iloc[:1]], ignore_index=True),
        "two doses start on day 0": pd.concat([frame(), frame().iloc[7:8]]).sort_index(
            kind="stable").reset_index(drop=True),
        "TIME decreases": frame().iloc[[0, 1, 2, 4, 3]],
        "MDV = 1": frame().assign(MDV=0).astype(object).assign(
            MDV=[0, 0, 0, 1, 0, 0, 0, 0, 0]),
        "BLQ = 0 but": frame().assign(BLQ=[0, 0, 0, 0, 1, 0, 0, 0, 0]),
    }
    for words, df in cases.items():
        with pytest.raises(InvalidInputError, match=words):
            read_records(df)


def test_units_are_checked_never_converted() -> None:
    ok = frame().assign(UNIT=["mg", "mg", "mg", "cells/uL", "cells/µL", "/mm3", "µg/mL", "mg",
                              "cells/uL"])
    assert read_records(ok)[0].observations["DV"].iloc[2] == 12.3
    percent = ok.assign(UNIT=["mg", "mg", "mg", "% of lymphocytes", "", "", "", "mg", ""])
    with pytest.raises(InvalidInputError, match=r"row 3 \(ID 1\).*lymphocyte count"):
        read_records(percent)
    giga = ok.assign(DV_UNIT=[None, None, None, None, None, "10^9/L", None, None, None])
    with pytest.raises(InvalidInputError, match=r"row 5 .*multiply by 1000"):
        read_records(giga)
    ng = ok.assign(UNIT=["mg", "mg", "mg", "", "", "", "ng/mL", "mg", ""])
    with pytest.raises(InvalidInputError, match=r"row 6 .*mg/L"):
        read_records(ng)
    grams = ok.assign(UNIT=["g", "", "", "", "", "", "", "", ""])
    with pytest.raises(InvalidInputError, match=r"row 0 .*dose unit 'g'"):
        read_records(grams)


@pytest.mark.parametrize(("change", "words"), [
    ({"observations": [{"day": 10, "cd19_percent": 2}]}, "observations[0].cd19_percent"),
    ({"observations": [{"date": "2025-01-01", "cd19": 2}]}, "use dates everywhere"),
    ({"observations": [{"day": -3, "cd19": 2}]}, "before the first dose"),
    ({"observations": [{"day": 10, "cd19": 2, "conc": 3}]}, "exactly one of cd19"),
    ({"observations": [{"day": 10, "cd19": 2, "unit": "%"}]}, "lymphocyte"),
    ({"observations": [{"day": 10, "cd19": "<1", "lloq": 2}]}, "disagree"),
    ({"doses": [{"day": 0, "amount_mg": 1000, "route": "IV"}]}, "give duration_h"),
    ({"doses": [{"day": 0, "amount_mg": 920, "route": "SC", "duration_h": 1}]}, "leave out"),
    ({"doses": [{"day": 0, "amount_mg": 600, "route": "IM"}]}, "doses[0].route"),
    ({"doses": [{"day": 0, "amount_mg": 600, "route": "IV"},
                {"day": 0, "amount_mg": 600, "route": "IV"}]}, "overlap"),
    ({"doses": []}, "at least one dose"),
    ({"weight": 70}, "unknown field(s) ['weight']"),
    ({"weight_kg": 700}, "plausible"),
])
def test_bad_yaml_records(change: dict[str, object], words: str) -> None:
    base: dict[str, object] = {"id": "x", "doses": [{"day": 0, "amount_mg": 920,
                                                     "route": "SC"}]}
    with pytest.raises(InvalidInputError) as err:
        record_from_dict({**base, **change})
    assert words in str(err.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.floats(0.0, 2000.0, allow_nan=False)),  # plausible for both
    st.one_of(st.none(), st.floats(0.01, 100.0, allow_nan=False)),
    st.sampled_from([1, 2])), min_size=1, max_size=8))
def test_censoring_rule_keeps_every_row(rows: list[tuple[float | None, float | None, int]]
                                        ) -> None:
    """Every observation is kept with its value; CENSORED iff DV is below its LLOQ or empty
    with one; an empty DV without an LLOQ is refused."""
    lines = ["ID,TIME,EVID,AMT,CMT,DV,DVID,LLOQ", "1,0,1,920,1,,,"]
    for k, (dv, lloq, dvid) in enumerate(rows):
        lines.append(f"1,{10 + k},0,,,{'' if dv is None else repr(dv)},{dvid},"
                     f"{'' if lloq is None else repr(lloq)}")
    df = frame("\n".join(lines) + "\n")
    if any(dv is None and lloq is None for dv, lloq, _ in rows):
        with pytest.raises(InvalidInputError, match="no LLOQ"):
            read_records(df)
        return
    (rec,) = read_records(df)
    obs = rec.observations
    assert len(obs) == len(rows)
    for (dv, lloq, dvid), got in zip(rows, obs.itertuples(), strict=True):
        assert got.DVID == dvid
        if dv is None:
            assert math.isnan(got.DV) and got.CENSORED
        else:
            assert got.DV == dv  # never zeroed or replaced by the limit
            assert got.CENSORED == (lloq is not None and dv < lloq)
        assert (math.isnan(got.LLOQ) and lloq is None) or got.LLOQ == lloq


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=5, unique=True),
       st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)))
def test_dates_and_days_give_the_same_record(offsets: list[int], start: dt.date) -> None:
    """A record written with dates equals the same record written with days."""
    gaps = sorted(offsets)
    doses = [{"day": 0, "amount_mg": 920, "route": "SC"}]
    obs = [{"day": g, "cd19": float(g) / 10} for g in gaps]
    by_day = record_from_dict({"doses": doses, "observations": obs})
    by_date = record_from_dict({
        "doses": [{"date": start.isoformat(), "amount_mg": 920, "route": "SC"}],
        "observations": [{"date": (start + dt.timedelta(days=g)).isoformat(), "cd19": g / 10}
                         for g in gaps]})
    assert by_date.regimen == by_day.regimen
    pd.testing.assert_frame_equal(by_date.observations, by_day.observations)
    assert by_date.first_dose_date == start and by_day.first_dose_date is None
    assert np.array_equal(by_day.observations["TIME"].to_numpy(), np.array(gaps, float))


def test_the_shipped_example_reads() -> None:
    """src/ocrelisim/data/forecast_example.csv: two simulated patients with dates (its NOTE
    column is ignored), one censored CD19, one concentration."""
    from importlib.resources import files

    p01, p02 = read_records(Path(str(files("ocrelisim") / "data" / "forecast_example.csv")))
    assert p01.first_dose_date == dt.date(2024, 2, 5)
    assert [(d.time, d.amount, d.route) for d in p01.regimen] == [
        (0.0, 300.0, "IV"), (14.0, 300.0, "IV"), (182.0, 600.0, "IV"), (364.0, 600.0, "IV")]
    assert p01.observations[["TIME", "DVID", "CENSORED"]].values.tolist() == [
        [532, 2, True], [532, 1, False], [623, 2, False]]
    assert p01.covariates == {"WT": 55.1, "AGE": 45.0}
    assert [d.route for d in p02.regimen] == ["SC", "SC"]
    assert p02.observations["DV"].tolist() == [15.6]
