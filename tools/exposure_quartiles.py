"""Exposure-quartile hazard ratios the disease model gives (issue 12 item 5).

[S27] reports 24-week CDP hazard ratios of ocrelizumab exposure quartiles (each quartile vs
the whole control arm): RMS vs IFN β-1a 0.70, 0.85, 0.47, 0.34 (lowest → highest); PPMS vs
placebo 0.88, 0.86, 0.77, 0.55. This script computes the same analysis in the model: one large
OPERA-like (96 weeks) and one ORATORIO-like (fixed 120 weeks) trial, exposure = AUC of the
first 96 weeks per bank patient, quartiles of the ocrelizumab patients, Cox HR of each
quartile vs the control arm. With ``--weight-effect g`` every patient's progression and
relapse rates are multiplied by ``exp(g·(WT − 75)/10)`` (a prognostic effect of body weight,
hypothetical: nothing in the dossier gives one), to see how much confounding of exposure by
weight would give the published gradient. Prints a Markdown table. Research and education
only, not clinical advice.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import ocrelisim as oc
from ocrelisim import trials
from ocrelisim.outcomes import concat, constant_multipliers, drug_multipliers, simulate_outcomes
from ocrelisim.parameters import DISEASE
from ocrelisim.trials import Arm, TrialDesign

SEED = 20261130
PUBLISHED = {"RMS": (0.70, 0.85, 0.47, 0.34), "PPMS": (0.88, 0.86, 0.77, 0.55)}


def quartile_hrs(disease: str, weight_effect: float = 0.0, n_arm: int = 20_000,
                 bank_size: int = 3000) -> tuple[list[float], float]:
    """Cox HR (24-week CDP) of each exposure quartile vs control, and the overall HR."""
    if disease == "RMS":
        ocr, ctl, weeks = Arm("ocrelizumab", "ocrelizumab", "iv"), Arm("c", "interferon"), 96
    else:
        ocr = Arm("ocrelizumab", "ocrelizumab", "300 mg IV q24w x6; 300 mg IV q24w x6 from d14")
        ctl, weeks = Arm("c", "placebo"), 120
    design = TrialDesign(name="quartiles", disease=disease, arms=(ocr, ctl), allocation=(1, 1),
                         n=2 * n_arm, weeks=weeks, endpoints=("CDP24",), mri_weeks=())
    bank = trials.build_bank(design, bank_size, SEED)
    pop = trials.bank_population(design, bank_size, SEED)
    reg = ocr.regimen_for(weeks)
    auc = oc.simulate(reg, pop, None, intervals=[[0.0, 672.0]], trajectories=False).exposure
    assert auc is not None
    exposure = auc.auc[:, 0]
    weight = pop.covariates["WT"].to_numpy()
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, bank_size, n_arm)
    ctl_pick = rng.integers(0, bank_size, n_arm)  # control patients' weights (same population)
    factor = np.exp(weight_effect * (weight - 75.0) / 10.0)
    m_ocr = drug_multipliers(bank.effect[ocr.name][pick], DISEASE)
    ratios = {"interferon": trials._run.ifn_rate_ratios(DISEASE), "placebo": {}}[ctl.treatment]
    m_ctl = constant_multipliers(ratios, n_arm, weeks)
    for m, f in ((m_ocr, factor[pick]), (m_ctl, factor[ctl_pick])):
        for key in ("pira", "relapse"):
            m[key] = m[key] * f[:, None]
    sched = design.schedule
    out = concat([simulate_outcomes(rng, m_ocr, disease, sched, DISEASE, age=pop.covariates[
        "AGE"].to_numpy()[pick]), simulate_outcomes(rng, m_ctl, disease, sched, DISEASE)])
    c = sched.confirm.index(24)
    treated = np.r_[np.ones(n_arm, bool), np.zeros(n_arm, bool)]
    edges = np.quantile(exposure[pick], [0.25, 0.5, 0.75])
    q = np.searchsorted(edges, exposure[pick])
    hrs = []
    for k in range(4):
        keep = np.r_[q == k, np.ones(n_arm, bool)]
        fit = trials.cox(out.cdp_time[keep, c], out.cdp_event[keep, c], treated[keep])
        hrs.append(float(fit["estimate"]))
    overall = float(trials.cox(out.cdp_time[:, c], out.cdp_event[:, c], treated)["estimate"])
    return hrs, overall


def main(argv: list[str]) -> None:
    effects = [float(a) for a in argv] or [0.0]
    print("| disease | weight effect (log HR per 10 kg) | Q1 | Q2 | Q3 | Q4 | overall |")
    print("|---|---|---|---|---|---|---|")
    for disease in ("RMS", "PPMS"):
        pub = PUBLISHED[disease]
        print(f"| {disease} | published [S27] | " + " | ".join(f"{x:.2f}" for x in pub)
              + " | – |")
        for g in effects:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hrs, overall = quartile_hrs(disease, g)
            print(f"| {disease} | {g:g} | " + " | ".join(f"{x:.2f}" for x in hrs)
                  + f" | {overall:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
