"""Patient records for forecasting: NONMEM-style rows or a YAML/JSON record -> PatientRecord.

**NONMEM-style rows** (a CSV/Parquet file or a DataFrame; one or many patients, the rows of
each ID together and in time order). Column names are case-insensitive.

=========  ===================================================================================
ID         patient identifier (required)
TIME       days since the patient's first dose (the first dose is at TIME 0), **or**
DATE       calendar date YYYY-MM-DD (day 0 is the date of the first dose); not both: NONMEM's
           TIME beside DATE is a clock time, which ocrelisim does not read
EVID       1 dose, 0 observation (2: other event, ignored; it may not carry a DV)
AMT, CMT   dose rows: mg; CMT 1 SC depot, 2 central (IV). RATE (mg/day) or DUR (day), II,
           ADDL as :func:`ocrelisim.regimens.read_nonmem` reads them (it reads the doses)
DV         observation rows: the value; empty, or ``<x`` (below the limit x), when censored;
           above :data:`PLAUSIBLE_DV_MAX` (5000 cells/µL, 2000 mg/L) refused as a unit error
DVID       observation rows: 1 concentration (mg/L), 2 CD19+ B cells (cells/µL)
LLOQ       optional, per observation: the lower limit of quantification in DV's unit. A row
           whose DV is below its LLOQ, or empty with an LLOQ, is **censored** (kept, CENSORED
           true, DV kept as reported), never dropped or set to zero
WT, AGE    optional covariates, kg and years; the most recent recorded value is used (the
           models take one value per patient)
UNIT       optional (any column whose name contains UNIT): checked, never converted. mg/L (=
           µg/mL) for concentrations, cells/µL (= /mm³) for CD19, mg for doses; anything else,
           such as CD19 as % of lymphocytes, is refused with the conversion to make
MDV, BLQ   optional: MDV 1 on an observation row is refused (say what to do with the row);
           BLQ must agree with DV and LLOQ
=========  ===================================================================================

Other columns are ignored. Rows are numbered from 0, the first data row after the header (as in
:func:`ocrelisim.regimens.read_nonmem`), and every error names the row, the ID and the fix.

**A YAML/JSON record** (one patient)::

    id: P01                       # optional (default "1")
    weight_kg: 72                 # optional
    age_y: 41                     # optional
    doses:                        # date (YYYY-MM-DD) or day (since the first dose), not mixed
      - {date: 2024-01-10, amount_mg: 300, route: IV}       # IV: label rate steps [S3]
      - {date: 2024-01-24, amount_mg: 300, route: IV}
      - {date: 2024-07-10, amount_mg: 600, route: IV, protocol: shorter}
      - {date: 2025-01-08, amount_mg: 600, route: IV, duration_h: 4}  # constant rate
      - {date: 2025-07-09, amount_mg: 920, route: SC}
    observations:                 # cd19 (cells/µL) or conc (mg/L); lloq optional
      - {date: 2025-09-01, cd19: 0.3, lloq: 1}               # below the LLOQ: censored
      - {date: 2025-11-03, cd19: "<1"}                       # the same, written as text
      - {date: 2025-12-01, conc: 12.5}

An IV dose without ``duration_h`` follows the label rate-step table (300 mg and 600 mg [S3];
``protocol: shorter``: the shorter 600 mg infusion); any other amount needs ``duration_h``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, RegimenError
from ..parameters import PLAUSIBLE_AGE_Y, PLAUSIBLE_WEIGHT_KG
from ..regimens import IVInfusion, Regimen, SCInjection
from ..units import HOURS_PER_DAY
from ._types import DVID_BCELL, DVID_CONC, OBSERVATION_COLUMNS, PatientRecord

if TYPE_CHECKING:
    import pandas as pd

STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json")
"""File suffixes read as one patient's YAML/JSON record; anything else is a table."""

DVID_NAMES = {DVID_CONC: "concentration (mg/L)", DVID_BCELL: "CD19+ B-cell count (cells/µL)"}

# Unit spellings that mean exactly the unit the model uses (no conversion is made).
_CONC_UNITS = frozenset({"mg/l", "ug/ml", "µg/ml", "μg/ml", "mcg/ml"})
_CD19_UNITS = frozenset({"cells/ul", "cells/µl", "cells/μl", "/ul", "/µl", "/μl", "cells/mm3",
                         "/mm3", "cells/mm^3", "cells/mm³", "/mm³"})
_DOSE_UNITS = frozenset({"mg"})
_PERCENT = re.compile(r"%|percent|pct", re.IGNORECASE)
_CENSORED_TEXT = re.compile(r"^\s*<\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")
_TABLE_DOSE_COLUMNS = ("ID", "TIME", "EVID", "AMT", "CMT", "RATE", "DUR", "II", "ADDL", "SS")
_COVARIATES = {"WT": ("weight", "kg", PLAUSIBLE_WEIGHT_KG), "AGE": ("age", "years",
                                                                    PLAUSIBLE_AGE_Y)}
PLAUSIBLE_DV_MAX = {DVID_BCELL: 5000.0, DVID_CONC: 2000.0}
"""Largest DV read as a measurement, by DVID: our plausibility check for a unit error when no
UNIT column says the unit (not a clinical limit). CD19: about six times the highest adult
reference upper limit, 802 cells/µL [S85][S85b][S85c] (cells/mL or cells/L give far more);
concentration: about twice the highest peak in 2,000 simulated patients after 600 mg IV (896
mg/L; median 221) (ng/mL = µg/L give far more at most sampling times). Assumptions."""


def read_records(source: str | os.PathLike[str] | pd.DataFrame) -> list[PatientRecord]:
    """Patient records from NONMEM-style rows or a one-patient YAML/JSON record.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A table (``.csv``, ``.csv.gz``, ``.parquet``) or a DataFrame of NONMEM-style rows, one
        or many patients; or a ``.yaml``/``.yml``/``.json`` record of one patient (the module
        docstring lists both formats).

    Returns
    -------
    list of PatientRecord
        One per ID, in order of appearance.

    Raises
    ------
    InvalidInputError
        Naming the row (and ID) or the field, the value, the rule and the fix: a missing
        column, observations before the first dose, a negative value, a value above
        :data:`PLAUSIBLE_DV_MAX` (a unit error), an unknown DVID, a unit
        other than the model's (e.g. CD19 as % of lymphocytes), an inconsistent dose history
        (overlapping infusions, a duplicated dose, a dose row with an observation), TIME and
        DATE together.
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return records_from_frame(source)
    path = Path(source)
    if path.suffix.lower() in STRUCTURED_SUFFIXES:
        from ..io import read_structured

        return [record_from_dict(read_structured(path, "patient record"))]
    from ..io import read_table

    return records_from_frame(read_table(path))


# ------------------------------------------------------------------ shared observation rules


@dataclass(frozen=True, slots=True)
class _Obs:
    """One observation before checking: where it came from, for messages."""

    where: str
    time: float
    dvid: float
    dv: object
    lloq: object
    units: tuple[str, ...]


def _number(value: object, where: str, what: str) -> float:
    """A finite float from a number or numeric text; NaN for empty; else an error."""
    if _empty(value):
        return math.nan
    if isinstance(value, bool):
        raise InvalidInputError(f"{where}: {what} = {value!r} is not a number; give a number")
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(f"{where}: {what} = {value!r} is not a number; give a number "
                                f"(empty or '.' when missing)") from None
    if math.isinf(out):
        raise InvalidInputError(f"{where}: {what} = {value!r} is not finite; give a number")
    return out


def _check_unit(unit: str | None, dvid: int, where: str) -> None:
    if unit is None:
        return
    text = unit.strip().lower().replace(" ", "")
    if text == "":
        return
    if dvid == DVID_BCELL:
        if _PERCENT.search(text):
            raise InvalidInputError(
                f"{where}: CD19 given as {unit!r} (a share of lymphocytes); the model needs the "
                f"absolute count, which a percentage cannot give without the lymphocyte count: "
                f"give cells/µL = CD19% x lymphocytes per µL / 100")
        if text not in _CD19_UNITS:
            raise InvalidInputError(
                f"{where}: unit {unit!r} for CD19+ B cells; give cells/µL (= cells/mm³; "
                f"x10^9/L: multiply by 1000; cells/L: divide by 10^6); units are not converted")
    elif dvid == DVID_CONC and text not in _CONC_UNITS:
        raise InvalidInputError(
            f"{where}: unit {unit!r} for a concentration; give mg/L (= µg/mL; from ng/mL "
            f"divide by 1000); units are not converted")


def _censored_text(value: object) -> float | None:
    """The limit of a '<x' value, else None."""
    if isinstance(value, str):
        match = _CENSORED_TEXT.match(value)
        if match:
            return float(match.group(1))
    return None


def _observation(obs: _Obs) -> tuple[float, int, float, float, bool]:
    """(TIME, DVID, DV, LLOQ, CENSORED) of one checked observation."""
    where = obs.where
    dvid_value = obs.dvid
    if math.isnan(dvid_value) or dvid_value not in (DVID_CONC, DVID_BCELL):
        raise InvalidInputError(
            f"{where}: DVID = {dvid_value:g} is not known; use 1 (concentration, mg/L) or 2 "
            f"(CD19+ B cells, cells/µL)" if not math.isnan(dvid_value) else
            f"{where}: DVID is missing; use 1 (concentration, mg/L) or 2 (CD19+ B cells, "
            f"cells/µL)")
    dvid = int(dvid_value)
    for unit in obs.units:
        _check_unit(unit, dvid, where)
    lloq = _number(obs.lloq, where, "LLOQ")
    limit = _censored_text(obs.dv)
    if limit is not None:
        if not math.isnan(lloq) and not math.isclose(lloq, limit):
            raise InvalidInputError(f"{where}: DV {obs.dv!r} and LLOQ = {lloq:g} disagree; give "
                                    f"the limit once")
        lloq, dv = limit, math.nan
    else:
        dv = _number(obs.dv, where, "DV")
    what = DVID_NAMES[dvid]
    if not math.isnan(lloq) and lloq <= 0:
        raise InvalidInputError(f"{where}: LLOQ = {lloq:g} must be > 0 ({what}); leave it empty "
                                f"when there is no limit")
    if not math.isnan(dv) and dv < 0:
        raise InvalidInputError(f"{where}: DV = {dv:g} is negative; a {what} cannot be below 0 "
                                f"(a value below the limit: leave DV empty and give the LLOQ)")
    if not math.isnan(dv) and dv > PLAUSIBLE_DV_MAX[dvid]:
        raise InvalidInputError(
            f"{where}: DV = {dv:g} is implausible for a {what} (above "
            f"{PLAUSIBLE_DV_MAX[dvid]:g}); check its unit: "
            + ("cells/µL = cells/mL / 1000 = cells/L / 10^6" if dvid == DVID_BCELL
               else "mg/L = ng/mL / 1000"))
    if math.isnan(dv) and math.isnan(lloq):
        raise InvalidInputError(f"{where}: DV is empty and there is no LLOQ; give the value, or "
                                f"the LLOQ if it was below the limit, or remove the row")
    censored = math.isnan(dv) or (not math.isnan(lloq) and dv < lloq)
    return obs.time, dvid, dv, lloq, censored


def _observation_frame(rows: Sequence[tuple[float, int, float, float, bool]]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        "TIME": np.array([r[0] for r in rows], dtype=np.float64),
        "DVID": np.array([r[1] for r in rows], dtype=np.int64),
        "DV": np.array([r[2] for r in rows], dtype=np.float64),
        "LLOQ": np.array([r[3] for r in rows], dtype=np.float64),
        "CENSORED": np.array([r[4] for r in rows], dtype=bool),
    }, columns=list(OBSERVATION_COLUMNS))
    return frame.sort_values("TIME", kind="stable").reset_index(drop=True)


def _check_doses(regimen: Regimen, where: str) -> None:
    """A dose history must start at day 0 and give each dose once."""
    first = regimen[0].time
    if first != 0.0:
        raise InvalidInputError(f"{where}: the first dose is at TIME {first:g}; TIME counts days "
                                f"since the first dose, so the first dose is at TIME 0 (subtract "
                                f"{first:g} from every TIME, or give DATE)")
    starts = [d.time for d in regimen]
    for a, b in pairwise(starts):
        if a == b:
            raise InvalidInputError(f"{where}: two doses start on day {a:g}; a duplicated row? "
                                    f"give each dose once")


def _check_covariate(name: str, value: float, where: str) -> float:
    what, unit, (lo, hi) = _COVARIATES[name]
    if not lo <= value <= hi:
        raise InvalidInputError(f"{where}: {name} = {value:g} {unit} is outside the plausible "
                                f"{what} range [{lo:g}, {hi:g}] {unit}; check the value and "
                                f"its unit ({unit})")
    return value


# ------------------------------------------------------------------ NONMEM-style rows


def records_from_frame(df: pd.DataFrame) -> list[PatientRecord]:
    """Patient records from a DataFrame of NONMEM-style rows (see :func:`read_records`)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"records must be a pandas DataFrame, got {type(df).__name__}")
    rec = _columns(df)
    if len(rec) == 0:
        raise InvalidInputError("records: the table has no rows; give at least one dose row")
    evid = _numeric_column(rec, "EVID", required=True)
    bad = [i for i, e in enumerate(evid) if e not in (0.0, 1.0, 2.0)]
    if bad:
        i = bad[0]
        raise InvalidInputError(f"records, {_row(rec, i)}: EVID = {evid[i]:g}; use 1 (dose), 0 "
                                f"(observation) or 2 (other event)")
    time, first_dates = _times(rec, evid)
    ids = [_id_text(v) for v in rec["ID"]]
    blocks = _id_blocks(ids)
    seen: set[str] = set()
    for start, _stop in blocks:
        if ids[start] in seen:
            raise InvalidInputError(f"records, {_row(rec, start)}: the rows of ID {ids[start]} "
                                    f"are not together; sort the rows by ID, then time")
        seen.add(ids[start])
    for i, t in enumerate(time):
        if t < 0:
            what = "an observation" if evid[i] == 0 else "a row"
            raise InvalidInputError(
                f"records, {_row(rec, i)}: {what} at TIME {t:g}, before the first dose; the "
                f"model starts at the first dose (day 0): remove the row (a pre-treatment count "
                f"cannot be used yet) or correct its time")
    regimens = _regimens(rec, evid, time)
    return [_patient(rec, evid, time, start, stop, regimen, first_dates.get(ids[start]))
            for (start, stop), regimen in zip(blocks, regimens, strict=True)]


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _columns(df: pd.DataFrame) -> pd.DataFrame:
    names = [str(c).strip().upper() for c in df.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidInputError(f"records: duplicate columns {dup} (names are case-insensitive); "
                                f"keep one of each")
    rec = df.set_axis(names, axis=1).reset_index(drop=True)
    for c in ("ID", "EVID"):
        if c not in rec:
            raise InvalidInputError(f"records: missing column {c!r}; required: ID, TIME or DATE, "
                                    f"EVID, AMT and CMT (doses), DV and DVID (observations)")
    if "TIME" in rec and "DATE" in rec:
        raise InvalidInputError("records: both TIME and DATE columns; ocrelisim reads TIME as "
                                "days since the first dose or DATE as the calendar date (NONMEM's "
                                "TIME beside DATE is a clock time): keep one of them")
    if "TIME" not in rec and "DATE" not in rec:
        raise InvalidInputError("records: no TIME or DATE column; give TIME (days since the first "
                                "dose) or DATE (YYYY-MM-DD)")
    missing = rec["ID"].isna().to_numpy()
    if missing.any():
        i = int(missing.argmax())
        raise InvalidInputError(f"records, row {i}: ID is missing; every row needs its patient "
                                f"ID")
    return rec


def _row(rec: pd.DataFrame, i: int) -> str:
    return f"row {i} (ID {rec['ID'].iat[i]})"


def _numeric_column(rec: pd.DataFrame, name: str, required: bool = False) -> list[float]:
    if name not in rec:
        return [math.nan] * len(rec)
    values = [_number(v, f"records, {_row(rec, i)}", name) for i, v in enumerate(rec[name])]
    if required:
        for i, v in enumerate(values):
            if math.isnan(v):
                raise InvalidInputError(f"records, {_row(rec, i)}: {name} is missing; every row "
                                        f"needs {name}")
    return values


def _times(rec: pd.DataFrame, evid: list[float]) -> tuple[list[float], dict[str, dt.date]]:
    """Days since each ID's first dose, and the first dose dates (DATE input)."""
    if "TIME" in rec:
        return _numeric_column(rec, "TIME", required=True), {}
    dates = [_parse_date(v, f"records, {_row(rec, i)}", "DATE") for i, v in
             enumerate(rec["DATE"])]
    first: dict[str, dt.date] = {}
    keys = [_id_text(v) for v in rec["ID"]]
    for i, (key, e) in enumerate(zip(keys, evid, strict=True)):
        if e == 1.0 and (key not in first or dates[i] < first[key]):
            first[key] = dates[i]
    time = []
    for i, key in enumerate(keys):
        if key not in first:
            raise InvalidInputError(f"records, {_row(rec, i)}: ID {key} has no dose row (EVID "
                                    f"1); add the doses (the forecast needs the dose history)")
        time.append(float((dates[i] - first[key]).days))
    return time, first


def _parse_date(value: object, where: str, what: str) -> dt.date:
    if _empty(value):
        raise InvalidInputError(f"{where}: {what} is missing; every row needs a date "
                                f"(YYYY-MM-DD)")
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise InvalidInputError(f"{where}: {what} {value!s} has a time of day; give the date "
                                    f"only (YYYY-MM-DD)")
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = "" if value is None else str(value).strip()
    if text in ("", "nan", "NaT", "."):
        raise InvalidInputError(f"{where}: {what} is missing; every row needs a date "
                                f"(YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{where}: {what} {text!r} is not a date; give YYYY-MM-DD (e.g. "
                                f"2025-03-31)") from None


def _id_blocks(ids: list[Any]) -> list[tuple[int, int]]:
    blocks, start = [], 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or str(ids[i]) != str(ids[start]):
            blocks.append((start, i))
            start = i
    return blocks


def _unit_columns(rec: pd.DataFrame) -> list[str]:
    return [c for c in rec.columns if "UNIT" in c]


def _units(rec: pd.DataFrame, i: int, columns: list[str]) -> tuple[str, ...]:
    return tuple(str(rec[c].iat[i]) for c in columns if not _empty(rec[c].iat[i]))


def _patient(rec: pd.DataFrame, evid: list[float], time: list[float], start: int, stop: int,
             regimen: Regimen, first_date: dt.date | None) -> PatientRecord:
    key = _id_text(rec["ID"].iat[start])
    _check_doses(regimen, f"records, ID {key}")
    units = _unit_columns(rec)
    dv = rec["DV"] if "DV" in rec else None
    rows = []
    for i in range(start, stop):
        here = f"records, {_row(rec, i)}"
        _check_mdv_blq(rec, i, evid[i], here)
        if evid[i] == 1.0:
            _check_dose_row(rec, i, dv, units, here)
        elif evid[i] == 2.0:
            if dv is not None and not _empty(dv.iat[i]):
                raise InvalidInputError(f"{here}: EVID 2 (other event) with DV = {dv.iat[i]!r}; "
                                        f"an observation needs EVID 0")
        else:
            rows.append(_observation_row(rec, i, time[i], units, here))
    observations = _observation_frame(rows)
    for i, row in zip([j for j in range(start, stop) if evid[j] == 0.0], rows, strict=True):
        _check_blq_agrees(rec, i, row, f"records, {_row(rec, i)}")
    covariates = _table_covariates(rec, start, stop)
    return PatientRecord(key, regimen, observations, covariates, first_date)


def _empty(value: object) -> bool:
    """Missing: None, NaN, pandas NA/NaT, empty text or NONMEM's '.'."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, str):
        return value.strip() in ("", ".")
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False


def _regimens(rec: pd.DataFrame, evid: list[float], time: list[float]) -> list[Regimen]:
    """The doses of every ID, read by :func:`ocrelisim.regimens.read_nonmem` (rows keep their
    numbers: observation rows are passed as EVID 0 without dose columns)."""
    import pandas as pd

    from ..regimens import read_nonmem

    for c in ("AMT", "CMT"):
        if c not in rec:
            raise InvalidInputError(f"records: missing column {c!r}; dose rows need AMT (mg) and "
                                    f"CMT (1 SC depot, 2 central)")
    part = pd.DataFrame({c: rec[c].to_numpy() for c in _TABLE_DOSE_COLUMNS
                         if c in rec and c not in ("ID", "TIME", "EVID")})
    part.insert(0, "ID", [_id_text(v) for v in rec["ID"]])
    part.insert(1, "TIME", time)
    part.insert(2, "EVID", [1.0 if e == 1.0 else 0.0 for e in evid])
    doses = part["EVID"].to_numpy() == 1.0
    cols = [c for c in part.columns if c not in ("ID", "TIME", "EVID")]
    part[cols] = part[cols].astype(object)
    part.loc[~doses, cols] = None  # observation rows: not read as doses
    try:
        return list(read_nonmem(part).regimens)
    except RegimenError as err:
        raise InvalidInputError(f"records: {err}") from None


def _check_dose_row(rec: pd.DataFrame, i: int, dv: pd.Series | None, units: list[str],
                    here: str) -> None:
    if dv is not None and not _empty(dv.iat[i]):
        value = _number(dv.iat[i], here, "DV") if _censored_text(dv.iat[i]) is None else None
        if value is None or value != 0.0:
            raise InvalidInputError(f"{here}: a dose row (EVID 1) holds DV = {dv.iat[i]!r}; put "
                                    f"the observation on its own row with EVID 0")
    for unit in _units(rec, i, units):
        if unit.strip().lower() not in _DOSE_UNITS:
            raise InvalidInputError(f"{here}: dose unit {unit!r}; AMT is read in mg (units are "
                                    f"not converted)")


def _observation_row(rec: pd.DataFrame, i: int, time: float, units: list[str],
                     here: str) -> tuple[float, int, float, float, bool]:
    if "AMT" in rec:
        amt = _number(rec["AMT"].iat[i], here, "AMT")
        if not math.isnan(amt) and amt != 0.0:
            raise InvalidInputError(f"{here}: an observation row (EVID 0) holds AMT = {amt:g}; "
                                    f"a dose needs EVID 1 (or set AMT to 0)")
    for c in ("DV", "DVID"):
        if c not in rec:
            raise InvalidInputError(f"records: missing column {c!r}; observation rows (EVID 0) "
                                    f"need DV and DVID (1 concentration mg/L, 2 CD19 cells/µL)")
    dvid = _number(rec["DVID"].iat[i], here, "DVID")
    lloq = rec["LLOQ"].iat[i] if "LLOQ" in rec else None
    return _observation(_Obs(here, time, dvid, rec["DV"].iat[i], lloq, _units(rec, i, units)))


def _check_mdv_blq(rec: pd.DataFrame, i: int, evid: float, here: str) -> None:
    if "MDV" in rec and evid == 0.0:
        mdv = _number(rec["MDV"].iat[i], here, "MDV")
        if mdv == 1.0:
            raise InvalidInputError(f"{here}: MDV = 1 on an observation row; ocrelisim never "
                                    f"drops an observation silently: remove the row if it must "
                                    f"not count, give its LLOQ if it was below the limit, or set "
                                    f"MDV 0")


def _check_blq_agrees(rec: pd.DataFrame, i: int, row: tuple[float, int, float, float, bool],
                      here: str) -> None:
    if "BLQ" not in rec:
        return
    blq = _number(rec["BLQ"].iat[i], here, "BLQ")
    if math.isnan(blq):
        return
    if blq not in (0.0, 1.0) or bool(blq) != row[4]:
        raise InvalidInputError(f"{here}: BLQ = {blq:g} but DV and LLOQ make the row "
                                f"{'censored' if row[4] else 'quantified'}; censoring is read "
                                f"from DV and LLOQ: correct BLQ or the values")


def _table_covariates(rec: pd.DataFrame, start: int, stop: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in _COVARIATES:
        if name not in rec:
            continue
        last: tuple[int, float] | None = None
        for i in range(start, stop):
            value = _number(rec[name].iat[i], f"records, {_row(rec, i)}", name)
            if not math.isnan(value):
                last = (i, _check_covariate(name, value, f"records, {_row(rec, i)}"))
        if last is not None:
            out[name] = last[1]
    return out


# ------------------------------------------------------------------ YAML/JSON record

_RECORD_KEYS = frozenset({"id", "weight_kg", "age_y", "doses", "observations"})
_DOSE_KEYS = frozenset({"date", "day", "amount_mg", "route", "duration_h", "protocol"})
_OBS_KEYS = frozenset({"date", "day", "cd19", "conc", "lloq", "unit"})
_CD19_PERCENT = ("CD19 as % of lymphocytes cannot be converted to cells/µL without the "
                 "lymphocyte count; give cd19 = CD19% x lymphocytes per µL / 100")
_REFUSED_OBS = {"cd19_percent": _CD19_PERCENT, "cd19_pct": _CD19_PERCENT}


def record_from_dict(data: object) -> PatientRecord:
    """One patient's record from a mapping (parsed YAML/JSON; schema in the module docstring).

    Raises
    ------
    InvalidInputError
        Naming the field (e.g. ``observations[2].cd19``), the value and the fix.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"patient record: expected a mapping with doses and "
                                f"observations, got {type(data).__name__}")
    _unknown(data, _RECORD_KEYS, "patient record")
    pid = data.get("id", "1")
    if isinstance(pid, bool) or not isinstance(pid, str | int) or str(pid).strip() == "":
        raise InvalidInputError(f"patient record: id = {pid!r}; give a text or whole-number id")
    doses = _list(data, "doses", required=True)
    observations = _list(data, "observations", required=False)
    dated = _dated(doses, observations)
    first = _first_date(doses) if dated else None
    entries = [_dose(d, f"doses[{k}]", first) for k, d in enumerate(doses)]
    try:
        regimen = Regimen(tuple(e for e in entries))
    except RegimenError as err:
        raise InvalidInputError(f"patient record, doses: {err}") from None
    _check_doses(regimen, "patient record, doses")
    rows = []
    for k, obs in enumerate(observations):
        where = f"observations[{k}]"
        if not isinstance(obs, Mapping):
            raise InvalidInputError(f"{where}: expected a mapping such as {{date: 2025-06-01, "
                                    f"cd19: 4.2}}, got {obs!r}")
        for key, why in _REFUSED_OBS.items():
            if key in obs:
                raise InvalidInputError(f"{where}.{key}: {why}")
        _unknown(obs, _OBS_KEYS, where)
        time = _when(obs, where, first)
        if time < 0:
            raise InvalidInputError(f"{where}: {_when_text(obs)} is before the first dose; the "
                                    f"model starts at the first dose (day 0): remove it (a "
                                    f"pre-treatment count cannot be used yet) or correct it")
        if ("cd19" in obs) == ("conc" in obs):
            raise InvalidInputError(f"{where}: give exactly one of cd19 (cells/µL) or conc "
                                    f"(mg/L)")
        dvid, key = (DVID_BCELL, "cd19") if "cd19" in obs else (DVID_CONC, "conc")
        unit = obs.get("unit")
        rows.append(_observation(_Obs(where, time, float(dvid), obs[key], obs.get("lloq"),
                                      () if unit is None else (str(unit),))))
    covariates = {}
    for key, name in (("weight_kg", "WT"), ("age_y", "AGE")):
        if data.get(key) is not None:
            value = _number(data[key], "patient record", key)
            if math.isnan(value):
                raise InvalidInputError(f"patient record: {key} is empty; give a number or leave "
                                        f"the field out")
            covariates[name] = _check_covariate(name, value, f"patient record, {key}")
    return PatientRecord(str(pid).strip(), regimen, _observation_frame(rows), covariates, first)


def _unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        raise InvalidInputError(f"{where}: unknown field(s) {extra}; allowed: "
                                f"{', '.join(sorted(allowed))}")


def _list(data: Mapping[str, Any], key: str, required: bool) -> list[Any]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise InvalidInputError(f"patient record: {key} must be a list"
                                f"{' with at least one dose' if required else ''}; got "
                                f"{value!r}")
    return value


def _dated(doses: list[Any], observations: list[Any]) -> bool:
    """True when entries use dates, False for days; mixed or neither is an error."""
    kinds: dict[str, str] = {}
    for name, entries in (("doses", doses), ("observations", observations)):
        for k, e in enumerate(entries):
            where = f"{name}[{k}]"
            if not isinstance(e, Mapping):
                raise InvalidInputError(f"{where}: expected a mapping, got {e!r}")
            has = [key for key in ("date", "day") if key in e]
            if len(has) != 1:
                raise InvalidInputError(f"{where}: give exactly one of date (YYYY-MM-DD) or day "
                                        f"(days since the first dose)")
            kinds.setdefault(has[0], where)
    if len(kinds) > 1:
        raise InvalidInputError(f"patient record: {kinds['date']} has a date but {kinds['day']} "
                                f"a day; use dates everywhere or days everywhere")
    return "date" in kinds


def _first_date(doses: list[Any]) -> dt.date:
    return min(_parse_date(d["date"], f"doses[{k}]", "date") for k, d in enumerate(doses))


def _when(entry: Mapping[str, Any], where: str, first: dt.date | None) -> float:
    if first is not None:
        return float((_parse_date(entry["date"], where, "date") - first).days)
    day = _number(entry["day"], where, "day")
    if math.isnan(day):
        raise InvalidInputError(f"{where}: day is empty; give days since the first dose")
    return day


def _when_text(entry: Mapping[str, Any]) -> str:
    return f"date {entry['date']}" if "date" in entry else f"day {entry['day']}"


def _dose(entry: Any, where: str, first: dt.date | None) -> IVInfusion | SCInjection:
    _unknown(entry, _DOSE_KEYS, where)
    time = _when(entry, where, first)
    amount = _number(entry.get("amount_mg"), where, "amount_mg")
    if math.isnan(amount) or amount <= 0:
        raise InvalidInputError(f"{where}.amount_mg: {entry.get('amount_mg')!r}; give the dose "
                                f"in mg (> 0)")
    route = str(entry.get("route", "")).strip().upper()
    duration = entry.get("duration_h")
    protocol = str(entry.get("protocol", "standard")).strip().lower()
    try:
        if route == "SC":
            if duration is not None or "protocol" in entry:
                raise InvalidInputError(f"{where}: an SC dose is an injection into the depot; "
                                        f"leave out duration_h and protocol")
            return SCInjection(time, amount)
        if route != "IV":
            raise InvalidInputError(f"{where}.route: {entry.get('route')!r}; give IV or SC")
        if duration is not None:
            if "protocol" in entry:
                raise InvalidInputError(f"{where}: give duration_h or protocol, not both")
            hours = _number(duration, where, "duration_h")
            if math.isnan(hours) or hours <= 0:
                raise InvalidInputError(f"{where}.duration_h: {duration!r}; give hours > 0")
            return IVInfusion.constant(time, amount, duration=hours / HOURS_PER_DAY)
        if protocol == "shorter":
            if amount != 600.0:
                raise InvalidInputError(f"{where}: the shorter infusion is for 600 mg; give "
                                        f"duration_h for {amount:g} mg")
            return IVInfusion.short(time, amount)
        if protocol != "standard":
            raise InvalidInputError(f"{where}.protocol: {protocol!r}; give standard or shorter")
        if amount not in (300.0, 600.0):
            raise InvalidInputError(f"{where}: no label rate table for {amount:g} mg IV (300 and "
                                    f"600 mg have one [S3]); give duration_h")
        return IVInfusion.label(time, amount)
    except RegimenError as err:
        raise InvalidInputError(f"{where}: {err}") from None
