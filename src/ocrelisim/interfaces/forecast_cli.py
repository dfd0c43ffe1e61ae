"""``ocrelisim forecast RECORDS``: when will each patient's B cells return, and when is the next
dose due on a B-cell-guided interval (issue 15).

A thin layer over :func:`ocrelisim.workflows.forecast_patients` and
:mod:`ocrelisim.reports.forecast`. Bad input ends with one line naming the row or option and
exit status 2 (no traceback).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from ._console import user_errors as _user_errors

DURATION_UNITS = {"d": 1.0, "day": 1.0, "days": 1.0, "w": DAYS_PER_WEEK, "wk": DAYS_PER_WEEK,
                  "week": DAYS_PER_WEEK, "weeks": DAYS_PER_WEEK, "m": DAYS_PER_MONTH,
                  "mo": DAYS_PER_MONTH, "month": DAYS_PER_MONTH, "months": DAYS_PER_MONTH,
                  "y": DAYS_PER_YEAR, "yr": DAYS_PER_YEAR, "year": DAYS_PER_YEAR,
                  "years": DAYS_PER_YEAR}
"""Units of a duration option, in days (month: 30.4375 days, year: 365.25 days)."""
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)

FORECAST_HELP = (
    "Forecast each patient's CD19+ B-cell return and the next dose on a B-cell-guided interval "
    "from their records: NONMEM-style rows (.csv/.parquet: ID, TIME or DATE, EVID, AMT, CMT, "
    "RATE or DUR, DV, DVID 1 concentration mg/L or 2 CD19 cells/µL, LLOQ, optional WT, AGE; "
    "one or many patients) or a one-patient YAML/JSON record. Prints a plain-language answer "
    "per patient (the 90% interval of the return, the guided and the label next-dose dates); "
    "--json prints one object per patient; --out writes an HTML report per patient. "
    "Bayesian estimates with the population model as prior; with no observations the answer "
    f"is the population prediction, said so. Example: the package's "
    f"data/forecast_example.csv (simulated patients). {DISCLAIMER}")


def duration_days(option: str, text: str) -> float:
    """Days of a duration option: a number with a unit (``4w``, ``6 months``, ``2y``, ``28d``)
    or a bare number of days."""
    match = _DURATION.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in ("", *DURATION_UNITS):
        raise InvalidInputError(f"{option} {text!r} is not a duration; give a number with d, w, "
                                f"m or y (e.g. 4w, 6m, 2y) or a number of days")
    days = float(match.group(1)) * DURATION_UNITS.get(unit, 1.0)
    if not (math.isfinite(days) and days > 0):
        raise InvalidInputError(f"{option} {text!r} must be longer than 0 days")
    return days


def _file_stem(pid: str, used: set[str]) -> str:
    """A directory name for a patient ID (letters, digits, '.', '-', '_'), unique."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", pid).strip("._") or "patient"
    base, k = stem, 2
    while stem.lower() in used:
        stem, k = f"{base}-{k}", k + 1
    used.add(stem.lower())
    return stem


def forecast_cmd(
    records: Annotated[Path, typer.Argument(
        help="Records: .csv/.csv.gz/.parquet (NONMEM-style rows) or .yaml/.yml/.json (one "
             "patient).", show_default=False)],
    threshold: Annotated[float, typer.Option(
        help="CD19+ B cells, cells/µL, that count as back (an option: no published rule).")
    ] = 10.0,
    check_every: Annotated[str, typer.Option(
        help="Time between B-cell checks of the guided schedule (e.g. 4w, 1m, 28d).")] = "4w",
    horizon: Annotated[str, typer.Option(
        help="How far after each patient's last dose to forecast (e.g. 2y, 18m).")] = "2y",
    samples: Annotated[int, typer.Option(
        help="0: posterior mode + Laplace approximation; N >= 50: N posterior draws (emcee, "
             "slower).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the draws (results repeat).")] = 0,
    workers: Annotated[int | None, typer.Option(
        help="Parallel workers for a list of patients (default: one per core; threads, or "
             "processes for long lists on many cores).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON list, one object per patient.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Write an HTML report (figure, tables, CSV) per patient into DIR/<ID>/.")] = None,
) -> None:
    from ..reports import write
    from ..reports.forecast import answer, forecast_report
    from ..workflows import forecast_patients

    with _user_errors():
        every = duration_days("--check-every", check_every)
        ahead = duration_days("--horizon", horizon)
        if not records.is_file():
            raise InvalidInputError(f"records file {str(records)!r} does not exist; check the "
                                    f"path")
        fcs = forecast_patients(records, threshold=threshold, check_every=every,
                                horizon=ahead, samples=samples, seed=seed, workers=workers)
        written: list[Path] = []
        if out is not None:
            used: set[str] = set()
            for fc in fcs:
                paths = write(forecast_report(fc, check_every=every),
                              out / _file_stem(fc.id, used), html_name="index.html")
                written.append(paths[-1])
    if as_json:
        typer.echo(json.dumps([fc.to_dict() for fc in fcs], indent=2, allow_nan=False))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(Text(f"ocrelisim forecast: {len(fcs)} patient(s) from {records}; threshold "
                       f"{threshold:g} cells/µL, checks every {every:g} days, horizon "
                       f"{ahead:g} days after the last dose.", style="bold"))
    for fc in fcs:
        console.print()
        console.print(Text(answer(fc)))
        for message in fc.messages:
            console.print(Text(f"  note: {message}", style="dim"))
    for path in written:
        console.print(Text(f"wrote {path}"))
    console.print(Text(DISCLAIMER, style="bold"))
