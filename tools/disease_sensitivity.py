"""Sensitivity of the disability endpoints to the disease model's assumptions (issue 12 item 3).

Where the dossier cannot pin a dependence down (age, disease duration, MRI activity, the peg
test's drift, the timed tests' visit-to-visit noise ``t25_sd`` and ``hpt_sd``, the frailty's
spread) the parameter is an assumption; this script shows how the
main endpoints move when each is varied, all else at its default (no re-fit). Endpoints: the
ORATORIO preset scaled 30 times (event-driven, see ``tools/calibrate_disease.py``), OPERA
pooled 12-week CDP on IFN β-1a, the placebo median years to EDSS >= 7, and the held-out
ORATORIO-HAND composite (EDSS or 9HPT >= 20%; the preset scaled 10 times, one replicate):
how the prediction would move, not a fit (no value here chooses a parameter). Prints a
Markdown table (docs/models/disease.md holds its output). Research and education only.
"""

from __future__ import annotations

import sys
import warnings

from calibrate_disease import metrics

from ocrelisim import trials
from ocrelisim.parameters import DISEASE, DiseaseParameters

HAND_SCALE = 10


def hand_metrics(p: DiseaseParameters, seed: int = 11) -> dict[str, tuple[float, float]]:
    """ORATORIO-HAND preset scaled HAND_SCALE times, one replicate: (model, published) of the
    composite HCDP12's placebo share and HR."""
    base = trials.preset("oratorio-hand")
    d = base.with_(n=HAND_SCALE * base.n, allocation=(1, 1))
    bank = trials.build_bank(d, 4000, seed=1, params=p)
    o, arm = trials.simulate_replicate(d, bank, seed, 0, p)
    assert o.hcdp_time is not None and o.hcdp_event is not None
    t = arm == 0
    pub = trials.PUBLISHED["oratoriohand"]["HCDP12"]
    ev = o.hcdp_event[:, 0]
    return {"hand HCDP12 control": (float(ev[~t].mean()), pub["control"]),
            "hand HCDP12 HR": (trials.cox(o.hcdp_time[:, 0], ev, t)["estimate"],
                               pub["estimate"])}


CASES: list[tuple[str, dict[str, float]]] = [
    ("defaults", {}),
    ("age_beta +0.03/year", {"age_beta": 0.03}),
    ("age_beta −0.03/year", {"age_beta": -0.03}),
    ("duration_beta +0.05/year", {"duration_beta": 0.05}),
    ("duration_beta −0.05/year", {"duration_beta": -0.05}),
    ("mri_beta 0.25", {"mri_beta": 0.25}),
    ("mri_beta 0.5", {"mri_beta": 0.5}),
    ("hpt_slope ×0.5 (0.0425/year)", {"hpt_slope": 0.0425}),
    ("hpt_slope ×2 (0.17/year)", {"hpt_slope": 0.17}),
    ("t25_sd 0 (no walk visit noise)", {"t25_sd": 0.0}),
    ("t25_sd 0.10 (×2)", {"t25_sd": 0.10}),
    ("t25_sd 0.20 (×4)", {"t25_sd": 0.20}),
    ("hpt_sd 0 (no peg visit noise)", {"hpt_sd": 0.0}),
    ("hpt_sd 0.10 (×2)", {"hpt_sd": 0.10}),
    ("hpt_sd 0.20 (×4)", {"hpt_sd": 0.20}),
    ("pira_shape 1 (CV 1.0)", {"pira_shape": 1.0}),
    ("pira_shape 4 (CV 0.5)", {"pira_shape": 4.0}),
    ("edss_beta −0.5 (calibrated −0.75)", {"edss_beta": -0.5}),
    ("edss_beta −1.0", {"edss_beta": -1.0}),
]
COLUMNS = [("oratorio cut-off week", "cut-off wk", "{:.0f}"),
           ("oratorio CDP12 control", "CDP12 placebo", "{:.1%}"),
           ("oratorio CDP12 HR", "CDP12 HR", "{:.2f}"),
           ("oratorio NHPT12 control", "9HPT12 placebo", "{:.1%}"),
           ("oratorio NHPT12 HR", "9HPT12 HR", "{:.2f}"),
           ("oratorio CCDP12 control", "cCDP12 placebo", "{:.1%}"),
           ("oratorio CCDP12 HR", "cCDP12 HR", "{:.2f}"),
           ("oratorio T25FW control", "walk % placebo", "{:.1f}"),
           ("oratorio T25FW ratio", "walk ratio", "{:.2f}"),
           ("opera CDP12 control", "OPERA CDP12 IFN", "{:.1%}"),
           ("wheelchair median, placebo (y)", "EDSS 7, y", "{:.1f}"),
           ("hand HCDP12 control", "HAND comp. placebo", "{:.1%}"),
           ("hand HCDP12 HR", "HAND comp. HR", "{:.2f}")]


def main(argv: list[str]) -> None:
    print("| assumption varied | " + " | ".join(c[1] for c in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    pub = None
    for label, change in CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = DISEASE.replace(**change)
            m = metrics(p) | hand_metrics(p)
        if pub is None:
            pub = m
            cells = [("–" if k == "oratorio cut-off week" else fmt.format(m[k][1])
                      if m[k][1] == m[k][1] else "–") for k, _, fmt in COLUMNS]
            print("| published | " + " | ".join(cells) + " |")
        print(f"| {label} | " + " | ".join(fmt.format(m[k][0]) for k, _, fmt in COLUMNS) + " |")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
