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
from ocrelisim.outcomes import WEEKS_PER_YEAR
from ocrelisim.parameters import DISEASE, DiseaseParameters
from ocrelisim.trials._analysis import neda

N = 40_000  # patients per arm


def metrics(p: DiseaseParameters, n: int = N, seed: int = 11) -> dict[str, tuple[float, float]]:
    """(model, published) pairs: the preset's arms, 1:1 with ``n`` patients each."""
    out: dict[str, tuple[float, float]] = {}
    for name in ("opera", "oratorio"):
        d = trials.preset(name).with_(n=2 * n, allocation=(1, 1))
        bank = trials.build_bank(d, 4000, seed=1, params=p)
        o, arm = trials.simulate_replicate(d, bank, seed, 0, p)
        t = arm == 0  # ocrelizumab (the control arm is listed last)
        pub = trials.PUBLISHED[name]
        for c, w in enumerate(d.confirm):
            k = f"CDP{w}"
            ev = o.cdp_event[:, c]
            out[f"{name} {k} treated"] = (ev[t].mean(), pub[k]["treated"])
            out[f"{name} {k} control"] = (ev[~t].mean(), pub[k]["control"])
            out[f"{name} {k} HR"] = (trials.cox(o.cdp_time[:, c], ev, t)["estimate"],
                                     pub[k]["estimate"])
        if name == "opera":
            y = o.followup / WEEKS_PER_YEAR
            out["opera ARR treated"] = (o.relapses[t].sum() / y[t].sum(), 0.16)
            out["opera ARR control"] = (o.relapses[~t].sum() / y[~t].sum(), 0.29)
            per_scan = {k: (c[t].sum() / o.scans[t].sum(), c[~t].sum() / o.scans[~t].sum())
                        for k, c in (("GD", o.gd), ("T2", o.t2))}
            for k, pubs in (("GD", (0.06, 0.05)), ("T2", (0.23, 0.17))):
                out[f"opera {k} ratio"] = (per_scan[k][0] / per_scan[k][1],
                                           float(np.mean(pubs)))
            out["opera GD per scan treated"] = (per_scan["GD"][0], 0.02)
            free = neda(o, d.confirm, d.weeks)
            out["opera NEDA treated"] = (float(np.nanmean(free[t])), 0.477)
            out["opera NEDA control"] = (float(np.nanmean(free[~t])), 0.271)
            out["opera CDP12 PIRA share (IFN)"] = (
                o.cdp_pira[~t, 0].sum() / max(o.cdp_event[~t, 0].sum(), 1), float("nan"))
        else:
            out["oratorio T25FW treated"] = (np.nanmean(o.t25_worse[t]), 0.389)
            out["oratorio T25FW control"] = (np.nanmean(o.t25_worse[~t]), 0.551)
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
