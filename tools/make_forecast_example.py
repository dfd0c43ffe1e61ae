"""Write src/ocrelisim/data/forecast_example.csv: two SIMULATED patients (not real data).

Each patient is drawn from the population model (``Population.sample``, seed below), simulated
with the immune model on a label regimen, and sampled sparsely after the last dose with the
residual error the forecast assumes (B cells: proportional 0.381, additive 0.153 cells/µL
[S28]; concentration: 15% proportional + 0.1 mg/L, an assumption, README). CD19 values below
the LLOQ (1 cells/µL, a typical flow-cytometry limit; an assumption) are written as censored
rows (DV empty, LLOQ given). Run: ``python tools/make_forecast_example.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

import ocrelisim as oc

SEED = 20261130
OUT = Path(__file__).resolve().parents[1] / "src" / "ocrelisim" / "data" / "forecast_example.csv"
LLOQ = 1.0
NOTE = ("SIMULATED patient (ocrelisim population model, seed {seed}), not real data; "
        "tools/make_forecast_example.py")

PATIENTS = {
    "P01": {"start": dt.date(2024, 2, 5), "regimen": "300 mg IV d0, d14; 600 mg IV d182, d364",
            "obs": [(532, 2), (532, 1), (623, 2)]},
    "P02": {"start": dt.date(2024, 3, 4), "regimen": "920 mg SC d0, d182",
            "obs": [(399, 2)]},
}


def _dose_rows(pop: oc.Population) -> list[dict[str, object]]:
    """One row per dose (a clinical record gives the dose and its duration, not rate steps):
    IV as AMT over DUR (the label infusion's duration, day), SC into CMT 1."""
    rows: list[dict[str, object]] = []
    for k, (pid, p) in enumerate(PATIENTS.items()):
        for dose in oc.Regimen.parse(p["regimen"]):
            rows.append({"ID": pid, "DATE": p["start"] + dt.timedelta(days=int(dose.time)),
                         "EVID": 1, "AMT": dose.amount, "CMT": 1 if dose.route == "SC" else 2,
                         "DUR": round(dose.duration, 4) if dose.route == "IV" else None,
                         "WT": round(float(pop.covariates["WT"].iloc[k]), 1),
                         "AGE": round(float(pop.covariates["AGE"].iloc[k]))})
    return rows


def main() -> None:
    from ocrelisim.forecasting._records import read_records

    pop = oc.Population.sample(len(PATIENTS), seed=SEED)
    rows = _dose_rows(pop)
    regimens = [r.regimen for r in read_records(pd.DataFrame(rows))]  # what the file says
    times = np.arange(0.0, 700.0)
    res = oc.simulate(regimens, pop, times, model="immune", variables=["C", "B"])
    rng = np.random.default_rng(SEED)
    for k, (pid, p) in enumerate(PATIENTS.items()):
        for day, dvid in p["obs"]:
            if dvid == 2:
                true = float(res.bcells[k, day])
                value = true * (1 + 0.381 * rng.standard_normal()) + 0.153 * rng.standard_normal()
                dv, lloq = (None, LLOQ) if value < LLOQ else (round(value, 1), LLOQ)
            else:
                true = float(res.concentration[k, day])
                value = true * (1 + 0.15 * rng.standard_normal()) + 0.1 * rng.standard_normal()
                dv, lloq = round(max(value, 0.0), 2), None
            rows.append({"ID": pid, "DATE": p["start"] + dt.timedelta(days=day), "EVID": 0,
                         "DV": dv, "DVID": dvid, "LLOQ": lloq})
    df = pd.DataFrame(rows, columns=["ID", "DATE", "EVID", "AMT", "CMT", "DUR", "DV", "DVID",
                                     "LLOQ", "WT", "AGE", "NOTE"])
    df["DATE"] = df["DATE"].map(lambda d: d.isoformat())
    df = df.sort_values(["ID", "DATE", "EVID"], ascending=[True, True, False], kind="stable")
    for col in ("AMT", "CMT", "DVID", "AGE"):
        df[col] = df[col].astype("Int64")
    first = ~df["ID"].duplicated()
    df["NOTE"] = np.where(first, NOTE.format(seed=SEED), "")
    df.to_csv(OUT, index=False)
    print(df.to_string())


if __name__ == "__main__":
    main()
