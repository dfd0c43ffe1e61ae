"""Calibration of the disease model to OPERA and ORATORIO (large virtual arms, fixed seed).

Prints model vs published values for the parameters in ``DiseaseParameters``; used to choose
the calibrated values (see each parameter's ``source``). Run:
``python tools/calibrate_disease.py [name=value ...]`` to try other values.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from ocrelisim import trials
from ocrelisim.outcomes import (
    WEEKS_PER_YEAR,
    concat,
    constant_multipliers,
    drug_multipliers,
    ifn_rate_ratios,
    simulate_outcomes,
)
from ocrelisim.parameters import DISEASE, DiseaseParameters
from ocrelisim.trials._analysis import neda

N = 40_000  # patients per arm


def _hr(time: np.ndarray, event: np.ndarray, treated: np.ndarray) -> float:
    return trials.cox(time, event, treated)["estimate"]


def metrics(p: DiseaseParameters, n: int = N, seed: int = 11) -> dict[str, tuple[float, float]]:
    """(model, published) pairs."""
    out: dict[str, tuple[float, float]] = {}
    for name in ("opera", "oratorio"):
        d = trials.preset(name)
        bank = trials.build_bank(d, 4000, seed=1, params=p)
        rng = np.random.default_rng(seed)
        e = bank.effect["ocrelizumab"][rng.integers(0, bank.size, n)]
        ocr = simulate_outcomes(rng, drug_multipliers(e, p), d.disease, d.schedule, p)
        ctl_ratio = ifn_rate_ratios(p) if name == "opera" else {}
        ctl = simulate_outcomes(rng, constant_multipliers(ctl_ratio, n, d.weeks), d.disease,
                                d.schedule, p)
        both = concat([ocr, ctl])
        t = np.r_[np.ones(n, bool), np.zeros(n, bool)]
        pub = trials.PUBLISHED[name]
        for c, w in enumerate(d.confirm):
            k = f"CDP{w}"
            out[f"{name} {k} treated"] = (ocr.cdp_event[:, c].mean(), pub[k]["treated"])
            out[f"{name} {k} control"] = (ctl.cdp_event[:, c].mean(), pub[k]["control"])
            out[f"{name} {k} HR"] = (_hr(both.cdp_time[:, c], both.cdp_event[:, c], t),
                                     pub[k]["estimate"])
        if name == "opera":
            y = both.followup / WEEKS_PER_YEAR
            out["opera ARR treated"] = (ocr.relapses.sum() / y[t].sum(), 0.16)
            out["opera ARR control"] = (ctl.relapses.sum() / y[~t].sum(), 0.29)
            for k, pubs in (("GD", (0.06, 0.05)), ("T2", (0.23, 0.17))):
                a, b = (ocr.gd, ctl.gd) if k == "GD" else (ocr.t2, ctl.t2)
                ratio = (a.sum() / ocr.scans.sum()) / (b.sum() / ctl.scans.sum())
                out[f"opera {k} ratio"] = (ratio, float(np.mean(pubs)))
            out["opera GD per scan treated"] = (ocr.gd.sum() / ocr.scans.sum(), 0.02)
            for label, o, v in (("treated", ocr, 0.477), ("control", ctl, 0.271)):
                out[f"opera NEDA {label}"] = (float(np.nanmean(neda(o, d.confirm, d.weeks))),
                                              v)
            out["opera CDP12 PIRA share (IFN)"] = (
                ctl.cdp_pira[:, 0].sum() / max(ctl.cdp_event[:, 0].sum(), 1), float("nan"))
        else:
            out["oratorio T25FW treated"] = (np.nanmean(ocr.t25_worse), 0.389)
            out["oratorio T25FW control"] = (np.nanmean(ctl.t25_worse), 0.551)
    return out


def main(argv: list[str]) -> None:
    values = {k: float(v) for k, v in (a.split("=") for a in argv)}
    p = DISEASE.replace(**values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = metrics(p)
    for k, (model, pub) in m.items():
        print(f"{k:34s} model {model:8.4f}   published {pub:8.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
