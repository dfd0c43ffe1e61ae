"""NONMEM dose records: writing a Regimen, reading one subject or many (with covariates).

TIME in days, AMT mg, RATE mg/day, DUR day, CMT 1 = SC depot, 2 = central. Reading builds
Regimen objects, so this module imports ``_regimen`` and the Regimen methods import this one
when called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import RegimenError
from ._doses import _REL_TOL, CMT_CENTRAL, CMT_DEPOT, Dose, IVInfusion, SCInjection
from ._regimen import Regimen

if TYPE_CHECKING:  # pandas loads when a NONMEM table is read or written, not on import
    import pandas as pd

_NUMERIC = ("ID", "TIME", "EVID", "AMT", "RATE", "DUR", "CMT", "II", "ADDL", "SS")
_RESERVED = frozenset((*_NUMERIC, "MDV", "DV", "DATE", "DAT1", "DAT2", "DAT3", "PCMT", "CALL",
                       "CONT", "L1", "L2"))


@dataclass(frozen=True, slots=True, eq=False)
class NonmemData:
    """Several subjects read from NONMEM records (:func:`read_nonmem`).

    ``ids`` in order of appearance; ``regimens`` one per ID; ``covariates`` one row per ID
    (column ID, then each non-NONMEM column: its first non-missing value); ``records`` the input
    rows (upper-case names, NONMEM columns as float) with covariate columns carried forward
    (LOCF) within each ID, for time-varying covariates.
    """

    ids: tuple[Any, ...]
    regimens: tuple[Regimen, ...]
    covariates: pd.DataFrame
    records: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)


def read_nonmem(df: pd.DataFrame) -> NonmemData:
    """Regimens and covariates of every subject in NONMEM records.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ID, TIME (day), EVID, AMT (mg), CMT; optional RATE (mg/day), DUR (day), II (day),
        ADDL, SS (must be 0); any other columns are covariates. Rows sorted by TIME within ID.

    Returns
    -------
    NonmemData

    Raises
    ------
    RegimenError
        A missing or malformed column (named), or a subject whose doses are invalid.
    """
    import pandas as pd

    rec = _records(df, require_id=True)
    ids = rec["ID"].to_numpy()
    if int(np.count_nonzero(ids[1:] != ids[:-1])) + 1 != len(pd.unique(ids)):
        raise RegimenError("NONMEM data: the rows of each ID must be contiguous; sort by ID, TIME")
    groups = list(rec.groupby("ID", sort=False))
    regimens = tuple(_regimen_from_records(g, f" (ID {i})") for i, g in groups)
    cov = [c for c in rec.columns if c not in _RESERVED]
    records = rec.copy()
    if cov:
        records[cov] = rec.groupby("ID", sort=False)[cov].ffill()
    covariates = rec[["ID", *cov]].groupby("ID", sort=False).first().reset_index()
    return NonmemData(tuple(i for i, _ in groups), regimens, covariates, records)



def to_nonmem(doses: Iterable[Dose], id: int | str = 1) -> pd.DataFrame:
    """NONMEM dose records of ``doses`` (see :meth:`Regimen.to_nonmem`)."""
    import pandas as pd

    rows: list[tuple[float, float, float, float, int]] = []
    for d in doses:
        if isinstance(d, SCInjection):
            rows.append((d.time, d.amount, 0.0, 0.0, CMT_DEPOT + 1))
            continue
        for b, (dur, r), a in zip(d.boundaries(), d.steps, _step_amounts(d), strict=False):
            rows.append((b, a, r, dur, CMT_CENTRAL + 1))
    rows.sort(key=lambda row: row[0])
    df = pd.DataFrame(rows, columns=["TIME", "AMT", "RATE", "DUR", "CMT"])
    df.insert(0, "ID", id)
    df.insert(2, "EVID", 1)
    df["II"], df["ADDL"], df["SS"] = 0.0, 0, 0
    return df[["ID", "TIME", "EVID", "AMT", "RATE", "DUR", "CMT", "II", "ADDL", "SS"]]


def from_nonmem(df: pd.DataFrame) -> Regimen:
    """One subject's regimen from NONMEM records (see :meth:`Regimen.from_nonmem`)."""
    rec = _records(df, require_id=False)
    ids = rec["ID"].unique() if "ID" in rec else [None]
    if len(ids) > 1:
        raise RegimenError(f"NONMEM data holds {len(ids)} IDs ({', '.join(map(str, ids[:5]))}"
                           f"...); from_nonmem reads one subject: use read_nonmem(df)")
    return _regimen_from_records(rec, "")


def _records(df: pd.DataFrame, require_id: bool) -> pd.DataFrame:
    """Validated copy of NONMEM records: upper-case names, numeric NONMEM columns."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise RegimenError(f"NONMEM data must be a pandas DataFrame, got {type(df).__name__}; "
                           f"read the file with pandas.read_csv first")
    names = [str(c).strip().upper() for c in df.columns]
    if len(set(names)) != len(names):
        raise RegimenError(f"NONMEM data: duplicate column names {names}; keep one of each")
    rec = df.set_axis(names, axis=1).reset_index(drop=True)
    required = ("ID", "TIME", "EVID", "AMT", "CMT") if require_id else ("TIME", "EVID", "AMT",
                                                                         "CMT")
    for c in required:
        if c not in rec:
            raise RegimenError(f"NONMEM data: missing column {c!r}; required: "
                               f"{', '.join(required)} (optional RATE, DUR, II, ADDL, SS)")
    for c in _NUMERIC[1:]:
        if c in rec:
            rec[c] = _numeric(rec[c], c)
    for c in ("ID", "TIME", "EVID"):
        if c in rec:
            bad = np.flatnonzero(rec[c].isna().to_numpy())
            if bad.size:
                raise RegimenError(f"NONMEM data: column {c!r} row {bad[0]} is missing; "
                                   f"every row needs {c}")
    if "ID" in rec and pd.api.types.is_float_dtype(rec["ID"]) and \
            bool((rec["ID"] % 1 == 0).all()):
        rec["ID"] = rec["ID"].astype(np.int64)  # 1.0 -> 1
    time = rec["TIME"].to_numpy(float)
    if (time < 0).any():
        i = int(np.argmax(time < 0))
        raise RegimenError(f"NONMEM data: column 'TIME' row {i} is {time[i]:g} day, negative; "
                           f"times count days from the first dose and must be >= 0")
    evid = rec["EVID"].to_numpy(float)
    if not np.isin(evid, (0, 1, 2)).all():
        i = int(np.argmax(~np.isin(evid, (0, 1, 2))))
        raise RegimenError(f"NONMEM data: column 'EVID' row {i} is {evid[i]:g}; only 0 "
                           f"(observation), 1 (dose) and 2 (other) are supported (no resets)")
    return rec


def _numeric(s: pd.Series, name: str) -> pd.Series:
    """Column as float; NONMEM's '.' reads as missing; anything else non-numeric is an error."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(s):
        s = s.where(s.astype(str).str.strip() != ".", None)
    out = pd.to_numeric(s, errors="coerce").astype(float)
    bad = np.flatnonzero(out.isna().to_numpy() & s.notna().to_numpy())
    if bad.size:
        raise RegimenError(f"NONMEM data: column {name!r} row {bad[0]} holds "
                           f"{s.iloc[bad[0]]!r}, not a number; write numbers ('.' = missing)")
    return out


def _opt(row: Any, name: str) -> float:
    v = getattr(row, name, math.nan)
    return 0.0 if math.isnan(v) else float(v)


class _Entry(NamedTuple):
    time: float
    row: int
    amount: float
    duration: float  # day; 0 for a bolus
    rate: float  # mg/day; 0 for a bolus
    cmt: int


def _row_entries(row: Any) -> list[_Entry]:
    """The doses of one EVID 1 row (ADDL expanded), checked."""
    amt, cmt = float(row.AMT), row.CMT
    rate, dur = _opt(row, "RATE"), _opt(row, "DUR")
    ii, addl, ss = _opt(row, "II"), _opt(row, "ADDL"), _opt(row, "SS")
    if ss != 0.0:
        raise RegimenError(f"SS = {ss:g}: steady-state doses are not supported; list the doses")
    if not (addl >= 0 and addl.is_integer()) or ii < 0 or (addl > 0 and ii <= 0):
        raise RegimenError(f"ADDL = {addl:g}, II = {ii:g}: ADDL must be a whole number >= 0 "
                           f"and additional doses need II > 0 (day)")
    if not (math.isfinite(amt) and amt > 0):
        raise RegimenError(f"AMT = {amt!r} mg must be finite and > 0 for a dose")
    if rate > 0 and dur > 0 and abs(rate * dur - amt) > _REL_TOL * amt:
        raise RegimenError(f"RATE x DUR = {rate * dur!r} mg differs from AMT = {amt!r} mg")
    if rate < 0 and not (rate == -2 and dur > 0):
        raise RegimenError(f"RATE = {rate:g} is not supported; give RATE in mg/day or "
                           f"RATE = -2 with DUR in days")
    if rate > 0 or dur > 0:
        dur, rate = (dur if dur > 0 else amt / rate), (rate if rate > 0 else amt / dur)
    if cmt not in (1, 2):
        raise RegimenError(f"CMT = {cmt!r}: doses go to CMT 1 (SC depot) or 2 (central, IV)")
    if cmt == 1 and rate > 0:
        raise RegimenError("CMT 1 (SC depot) dose with RATE or DUR > 0: SC doses are boluses "
                           "into the depot; set RATE and DUR to 0")
    if cmt == 2 and rate == 0:
        raise RegimenError("CMT 2 (central) dose without RATE or DUR: IV doses are infusions; "
                           "give RATE (mg/day) or DUR (day) > 0")
    return [_Entry(float(row.TIME) + k * ii, int(row.Index), amt, dur, rate, int(cmt))
            for k in range(int(addl) + 1)]


def _regimen_from_records(rec: pd.DataFrame, where: str) -> Regimen:
    time = rec["TIME"].to_numpy(float)
    if (np.diff(time) < 0).any():
        i = int(np.argmax(np.diff(time) < 0)) + 1
        raise RegimenError(f"NONMEM data{where}: TIME decreases at row {rec.index[i]} "
                           f"({time[i]:g} after {time[i - 1]:g}); sort records by ID and TIME")
    entries: list[_Entry] = []
    for row in rec[rec["EVID"] == 1].itertuples():
        try:
            entries += _row_entries(row)
        except RegimenError as err:
            raise RegimenError(f"NONMEM data{where}, row {row.Index}: {err}") from None
    if not entries:
        raise RegimenError(f"NONMEM data{where}: no dose records (EVID 1); add the doses")
    doses: list[Dose] = [SCInjection(e.time, e.amount) for e in entries if e.cmt == 1]
    groups: list[list[_Entry]] = []
    for e in sorted((e for e in entries if e.cmt == 2), key=lambda e: (e.time, e.row)):
        prev = groups[-1][-1] if groups else None
        if prev and math.isclose(e.time, prev.time + prev.duration, rel_tol=1e-12, abs_tol=1e-9):
            groups[-1].append(e)  # starts where the previous step ended: same infusion
        else:
            groups.append([e])
    doses += [IVInfusion(g[0].time, math.fsum(e.amount for e in g),
                         tuple((e.duration, e.rate) for e in g)) for g in groups]
    try:
        return Regimen(tuple(doses))
    except RegimenError as err:
        raise RegimenError(f"NONMEM data{where}: {err}") from None


def _step_amounts(d: IVInfusion) -> list[float]:
    """Per-step amounts, mg, nudged by ulps so that math.fsum gives exactly ``d.amount``."""
    head = [dur * r for dur, r in d.steps[:-1]]
    last = d.amount - math.fsum(head)
    for _ in range(8):
        total = math.fsum([*head, last])
        if total == d.amount:
            break
        last = math.nextafter(last, math.inf if total < d.amount else -math.inf)
    return [*head, last]
