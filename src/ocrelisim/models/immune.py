"""Immune dynamics driven by ocrelizumab concentration: B cells, T cells, cytokines, Ig.

States (after the PK states of :mod:`ocrelisim.models.pk`; time in days)::

    dM1/dt  = ktr·(1 − M1) − kk·E·M1                     CD20+ B-cell precursors (maturation
    dM2/dt  = ktr·(M1 − M2) − kk·E·M2                    chain, fractions of baseline),
    dM3/dt  = ktr·(M2 − M3) − kk·E·M3                    ktr = 3/mtt_b, kk = kout·Emax
    dB/dt   = kout·B0·M3 − kout·(1 + Emax·E)·B           blood CD19+ B cells, cells/µL
    dT20/dt = kt20·(1 − (1 + Emax_T20·E)·T20)            CD20+ T cells, fraction of baseline
    dX1/dt  = kd·(D − X1),  dX2/dt = kd·(X1 − X2)        T-cell programme, 2-step delay
    dP/dt   = kpc·(B/B0 − P)                             B-cell-derived plasma cells
    dIg/dt  = kel·Ig0·(f + (1 − f)·P) − kel·Ig            IgG, IgM, IgA (each its kel, f), g/L
    E = C/(EC50 + C),  D = 1 − B/B0,  kd = 2/t_delay

Blood B cells follow the indirect-response structure of the ofatumumab model [S28] (the only
published anti-CD20 model with parameters; no ocrelizumab PD model was found), with kout, Emax and
EC50 recalibrated to ocrelizumab data and a Hill coefficient of 1 (see
:class:`ocrelisim.parameters.ImmuneParameters`). Their source is a maturation chain: CD20-negative
precursors (not depleted, constant) mature through three CD20+ stages (mean transit time
``mtt_b``, a gamma-distributed delay) into blood B cells; the drug kills a CD20+ cell at the same
rate ``kout·Emax·E`` in every stage. *When* the return starts after the last dose is set by the
drug's washout through EC50 and Emax and by the maturation delay ``mtt_b``; *how fast* counts
then rise is set by ``kout`` (the blood B-cell turnover); ``mtt_b`` and ``kout`` vary between
patients independently (:data:`B_CELL_PARAMS`, :data:`B_CELL_ETAS`). The separation is partial:
the kill rate ``kout·Emax`` contains ``kout``, so ``kout``'s variability moves the start as well
as the rise, and only ``mtt_b`` moves the start alone; at its assumed 4 days its delay is small
next to the months of washout. The published figures do not separate the two (``mtt_b`` is an
assumption: see ``src/ocrelisim/data/README.md`` for what was searched);
:func:`repletion_summary` reports the return after the last dose.
Immunoglobulins turn over (elimination ``kel``, from typical serum half-lives) and are made by
two plasma-cell pools. Long-lived plasma cells are CD20-negative and not removed by B-cell
depletion: they keep making the share ``f`` of baseline synthesis. The rest comes from plasma
cells renewed from B cells (``P``, a fraction of baseline, 1 untreated), which fall with B-cell
depletion at the pool's turnover rate ``kpc`` and return with the B cells. Under sustained
depletion each immunoglobulin therefore settles at about ``f·Ig0`` instead of falling without
bound. ``f`` is calibrated per isotype to the week-264 declines in relapsing MS [S22] given
``kpc`` (an assumption, see :class:`ocrelisim.parameters.ImmuneParameters`).

What is measured and what is modelled. The T-cell and cytokine outputs are *indices*
(1 = baseline). Only their directions and time points are published ([S38]–[S41]: B-cell
pathways down at 2 weeks; at 6 months fewer IFN-γ-producing CD4+ and CD8+ T cells, higher
naive/effector ratios, fewer CD20+ T cells, Treg trend up, Th17 pathways quieted, fewer B cells
producing IL-6, IL-10, GM-CSF, TNF-α). The sizes of the changes and the delay are our
assumptions, with wide variability so that bands show the uncertainty; they are not
measurements.

B-cell accuracy contract. Depleted counts sit near 0.3 cells/µL and the finest clinical
threshold in use is 0.4 cells/µL (GAVOTTE [S52]): at the default solver settings every B-cell
output is within relative 1e-6 *or* absolute 1e-4 cells/µL of the exact solution, whichever is
looser (tested against scipy Radau at rtol 1e-10 in ``tests/validation/test_immune_reference.py``).
The B-cell state's absolute tolerance is therefore 1e-5 cells/µL per step
(:data:`B_ATOL_SCALE` times ``SolverOptions.atol``), not the 1e-9 of the drug amounts.

Outputs:

========== ========== ===========================================================
name       unit       meaning
========== ========== ===========================================================
C          mg/L       ocrelizumab concentration
B          cells/uL   CD19+ B cells in blood
CD20_T     1          CD20+ T cells, fraction of baseline (depleted directly)
IFNG_CD4   1          IFN-γ-producing CD4+ T cells, index (1 − s·X2)
IFNG_CD8   1          IFN-γ-producing CD8+ T cells, index
TH17       1          IL-17/Th17 signal, index (transcriptomic evidence only)
GMCSF_T    1          GM-CSF from T cells, index (lay summaries only)
TREG       1          regulatory T cells, index (1 + s·X2; trend only)
NE_CD4     1          naive/effector CD4+ ratio, index
NE_CD8     1          naive/effector CD8+ ratio, index
B_CYTO     1          B-cell-derived IL-6, TNF-α, GM-CSF, IL-10, index (= B/B0)
IgG        g/L        serum IgG
IgM        g/L        serum IgM
IgA        g/L        serum IgA
========== ========== ===========================================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numba import njit
from scipy import special

from .. import engine
from .._types import Float1D, Float2D
from ..engine import ModelSpec
from ..errors import InvalidInputError
from ..parameters import IMMUNE, ImmuneParameters
from ..units import DAYS_PER_MONTH, DAYS_PER_WEEK
from . import pk
from ._base import Model, given_columns, register

if TYPE_CHECKING:
    from ..population import Population
    from ..results import SimulationResult

B_ATOL_SCALE = 1e4
"""Absolute tolerance of the B-cell state, in units of ``SolverOptions.atol`` (cells/µL)."""
N_IMMUNE_ETA = 16
"""Standard-normal draws per patient for the immune model's variability (stream key 2)."""
STATES = (*pk.STATES, "bprec1", "bprec2", "bprec3", "bcells", "cd20_t", "t_delay1", "t_delay2",
          "plasma", "igg", "igm", "iga")
_M1, _M2, _M3, _B, _T20, _X1, _X2, _PC, _IGG, _IGM, _IGA = range(len(pk.STATES), len(STATES))
N_MATURATION = 3
"""CD20+ maturation stages between the (undepleted) precursors and blood B cells."""
M_ATOL_SCALE = 1e3
"""Absolute tolerance of the maturation states (fractions of baseline), in units of
``SolverOptions.atol``: 1e-6 per step. Their error reaches the B cells only through the source
``kout·B0·M3``; the B-cell accuracy contract holds with a wide margin (tested against scipy in
``tests/validation/test_immune_reference.py``), and tighter tolerances cost substeps for nothing
(immune C and B: 31k subject-years per CPU second at 1e-8, 43k at 1e-6)."""

OUTPUTS = ("C", "B", "CD20_T", "IFNG_CD4", "IFNG_CD8", "TH17", "GMCSF_T", "TREG", "NE_CD4",
           "NE_CD8", "B_CYTO", "IgG", "IgM", "IgA")
OUTPUT_UNITS = ("mg/L", "cells/uL", "1", "1", "1", "1", "1", "1", "1", "1", "1", "g/L", "g/L",
                "g/L")
MEASURED = {
    "C": "modelled from the published population PK [S1][S2]",
    "B": "calibrated to published figures (depletion, repletion time, deep depletion); the "
         "maturation delay before B cells return is assumed (src/ocrelisim/data/README.md)",
    "CD20_T": "direction measured (down at 6 and 12 months [S36][S40]); size assumed",
    "IFNG_CD4": "direction and time point measured (6 months, p=0.03 [S40]); size assumed",
    "IFNG_CD8": "direction and time point measured (6 months, p=0.004 [S40]); size assumed",
    "TH17": "pathway-level transcriptomics only [S39]; size assumed",
    "GMCSF_T": "not measured in T cells in primary sources (lay summaries); size assumed",
    "TREG": "trend only, not significant [S40]; size assumed",
    "NE_CD4": "direction measured (6 months, p=0.002 [S40]); size assumed",
    "NE_CD8": "direction measured (6 months, p=0.002 [S40]); size assumed",
    "B_CYTO": "direction measured (fewer cytokine-producing B cells [S40]); assumed = B/B0",
    "IgG": "calibrated to the week-264 decline [S22] and shares below LLN [S21]; the "
           "plasma-cell turnover and half-life assumed",
    "IgM": "calibrated to the week-264 decline [S22]; baseline, turnover and half-life assumed",
    "IgA": "calibrated to the week-264 decline [S22]; baseline, turnover and half-life assumed",
}
"""For each output: what is measured and what is modelled (for reports)."""

# Kernel parameter rows: the 8 PK rows of pk.kernel_parameters, then these.
_NPK = len(pk.KERNEL_PARAMS)
(_B0, _INV_B0, _KOUT, _EMAX, _EC50, _KT20, _EMAX_T20, _KD, _KPC, _S_IFN4, _S_IFN8, _S_TH17,
 _S_GMCSF, _S_TREG, _S_NE4, _S_NE8, _KELG, _KELM, _KELA, _LLPG, _LLPM, _LLPA, _BPCG, _BPCM,
 _BPCA, _KTR, _KKILL) = range(_NPK, _NPK + 27)
N_KERNEL_PARAMS = _NPK + 27
# _KTR = N_MATURATION / mtt_b (maturation rate, 1/day); _KKILL = kout·Emax (drug-induced loss of
# a CD20+ cell at full effect, 1/day).
# Ig synthesis rows (g/L/day): _LLP* = kel·Ig0·f (long-lived plasma cells), _BPC* = kel·Ig0·(1-f)
# (B-cell-derived plasma cells, times P).

# Columns of the individual immune parameter table.
PARAM_NAMES = ("B0", "KOUT", "EMAX", "EC50", "KT20", "EMAX_T20", "T_DELAY", "S_IFNG_CD4",
               "S_IFNG_CD8", "S_TH17", "S_GMCSF_T", "S_TREG", "S_NE_CD4", "S_NE_CD8", "IGG0",
               "IGM0", "IGA0", "K_PC", "KEL_IGG", "KEL_IGM", "KEL_IGA", "F_IGG", "F_IGM",
               "F_IGA", "MTT_B")
B_CELL_PARAMS = ("B0", "KOUT", "EMAX", "EC50", "MTT_B")
"""The individual parameters (columns of :data:`PARAM_NAMES`) that drive the B-cell output."""
B_CELL_ETAS = (0, 1, 2, 3, 15)
"""Indices into the immune random effects (``Population.eta(MODEL)`` columns) of
:data:`B_CELL_PARAMS`, in that order: B0, KOUT, EMAX, EC50, MTT_B."""


def _covariate(cov: pd.DataFrame, name: str, ref: float) -> Float1D:
    """Covariate column as floats; the reference value where the column is absent or NaN."""
    if name not in cov.columns:
        return np.full(len(cov), ref)
    x = pd.to_numeric(cov[name], errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(x), x, ref)


def individual_parameters(covariates: pd.DataFrame, eta: Float2D | None,
                          im: ImmuneParameters = IMMUNE) -> pd.DataFrame:
    """Individual immune parameters, one row per patient (columns :data:`PARAM_NAMES`).

    Covariates WT (kg) and AGE (y) act on B0 and kout as in [S28] (reference values where
    missing). ``eta`` (n, N_IMMUNE_ETA) standard-normal draws give the variability; None gives
    typical values. Effect sizes that lower an index vary on the logit scale (they stay in
    (0, 1)); the others log-normally. Draw ``k`` of ``eta`` drives column ``k`` of the list
    below (B0 0, KOUT 1, EMAX 2, EC50 3, T_DELAY 4, the T-cell effects 5-11, IGG0-IGA0 12-14,
    MTT_B 15).
    """
    n = len(covariates)
    z = np.zeros((n, N_IMMUNE_ETA)) if eta is None else np.asarray(eta)
    wt = _covariate(covariates, "WT", im.wt_ref.value) / im.wt_ref.value
    age = _covariate(covariates, "AGE", im.age_ref.value) / im.age_ref.value
    om_t = im.omega_t.value

    def logn(p: str, omega: float, k: int) -> Float1D:
        return np.asarray(getattr(im, p).value * np.exp(omega * z[:, k]))

    def logit(p: str, k: int) -> Float1D:
        return np.asarray(special.expit(special.logit(getattr(im, p).value) + om_t * z[:, k]))

    cols = {
        "B0": logn("b0", im.omega_b0.value, 0) * wt ** im.b0_exp_wt.value
        * age ** im.b0_exp_age.value,
        "KOUT": logn("kout", im.omega_kout.value, 1) * wt ** im.kout_exp_wt.value,
        "EMAX": logn("emax", im.omega_emax.value, 2),
        "EC50": logn("ec50", im.omega_ec50.value, 3),
        "KT20": np.full(n, im.kt20.value),
        "EMAX_T20": np.full(n, im.emax_t20.value),
        "T_DELAY": logn("t_delay", om_t, 4),
        "S_IFNG_CD4": logit("s_ifng_cd4", 5),
        "S_IFNG_CD8": logit("s_ifng_cd8", 6),
        "S_TH17": logit("s_th17", 7),
        "S_GMCSF_T": logit("s_gmcsf_t", 8),
        "S_TREG": logn("s_treg", om_t, 9),
        "S_NE_CD4": logn("s_ne_cd4", om_t, 10),
        "S_NE_CD8": logn("s_ne_cd8", om_t, 11),
        "IGG0": logn("igg0", im.omega_igg0.value, 12),
        "IGM0": logn("igm0", im.omega_igm0.value, 13),
        "IGA0": logn("iga0", im.omega_iga0.value, 14),
        "K_PC": np.full(n, im.k_pc.value),
        "KEL_IGG": np.full(n, im.kel_igg.value),
        "KEL_IGM": np.full(n, im.kel_igm.value),
        "KEL_IGA": np.full(n, im.kel_iga.value),
        "F_IGG": np.full(n, im.f_igg.value),
        "F_IGM": np.full(n, im.f_igm.value),
        "F_IGA": np.full(n, im.f_iga.value),
        "MTT_B": logn("mtt_b", im.omega_mtt_b.value, 15),
    }
    return pd.DataFrame(cols)


def kernel_parameters(pk_params: Float2D, first_dose: Float1D,
                      individual: pd.DataFrame) -> Float2D:
    """Kernel parameter rows (n, N_KERNEL_PARAMS): the PK rows, then the immune rows."""
    q = {c: individual[c].to_numpy(dtype=np.float64) for c in PARAM_NAMES}
    out = np.empty((pk_params.shape[0], N_KERNEL_PARAMS))
    out[:, :_NPK] = pk.kernel_parameters(pk_params, first_dose)
    out[:, _B0] = q["B0"]
    out[:, _INV_B0] = 1.0 / q["B0"]
    out[:, _KOUT] = q["KOUT"]
    out[:, _EMAX] = q["EMAX"]
    out[:, _EC50] = q["EC50"]
    out[:, _KT20] = q["KT20"]
    out[:, _EMAX_T20] = q["EMAX_T20"]
    out[:, _KD] = 2.0 / q["T_DELAY"]
    out[:, _KPC] = q["K_PC"]
    out[:, _KTR] = N_MATURATION / q["MTT_B"]
    out[:, _KKILL] = q["KOUT"] * q["EMAX"]
    for kel, llp, bpc, ig in ((_KELG, _LLPG, _BPCG, "IGG"), (_KELM, _LLPM, _BPCM, "IGM"),
                              (_KELA, _LLPA, _BPCA, "IGA")):
        out[:, kel] = q[f"KEL_{ig}"]
        out[:, llp] = q[f"KEL_{ig}"] * q[f"{ig}0"] * q[f"F_{ig}"]
        out[:, bpc] = q[f"KEL_{ig}"] * q[f"{ig}0"] * (1.0 - q[f"F_{ig}"])
    for row, name in ((_S_IFN4, "S_IFNG_CD4"), (_S_IFN8, "S_IFNG_CD8"), (_S_TH17, "S_TH17"),
                      (_S_GMCSF, "S_GMCSF_T"), (_S_TREG, "S_TREG"), (_S_NE4, "S_NE_CD4"),
                      (_S_NE8, "S_NE_CD8")):
        out[:, row] = q[name]
    return out


def initial_states(individual: pd.DataFrame) -> Float2D:
    """No drug; precursors, B cells and plasma cells at baseline; indices at 1 or 0 (delays);
    Ig at baseline."""
    n = len(individual)
    y0 = np.zeros((n, len(STATES)))
    y0[:, _M1:_M3 + 1] = 1.0
    y0[:, _B] = individual["B0"].to_numpy(dtype=np.float64)
    y0[:, _T20] = 1.0
    y0[:, _PC] = 1.0
    y0[:, _IGG] = individual["IGG0"].to_numpy(dtype=np.float64)
    y0[:, _IGM] = individual["IGM0"].to_numpy(dtype=np.float64)
    y0[:, _IGA] = individual["IGA0"].to_numpy(dtype=np.float64)
    return y0


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def rhs(t, y, p, u, dy, n):  # type: ignore[no-untyped-def]
    """Explicit states: the PK (the immune states are linear states, see :func:`linear`)."""
    g = pk.decay(t, p)
    for ln in range(n):
        d0, d1, d2 = pk.lane_derivatives(y, p, u, g, ln)
        dy[0, ln] = d0
        dy[1, ln] = d1
        dy[2, ln] = d2


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def linear(s, t, y, p, g, lam, n):  # type: ignore[no-untyped-def]
    """``dy_s/dt = g[s] − lam[s]·y_s`` for the immune states (see the module docstring)."""
    # One branch per state outside the lane loops, so that each loop vectorises.
    if s == _M1:  # first CD20+ stage, fed by the undepleted precursors (1 = baseline)
        for ln in range(n):
            c = y[pk.CENTRAL, ln] * p[pk.INV_V1, ln]
            e = c / (p[_EC50, ln] + c)
            g[s, ln] = p[_KTR, ln]
            lam[s, ln] = p[_KTR, ln] + p[_KKILL, ln] * e
    elif s == _M2 or s == _M3:  # M1's rate (linear_rate_of): the solver reuses its matrix
        for ln in range(n):
            g[s, ln] = p[_KTR, ln] * y[s - 1, ln]
    elif s == _B:
        for ln in range(n):
            c = y[pk.CENTRAL, ln] * p[pk.INV_V1, ln]
            e = c / (p[_EC50, ln] + c)
            g[s, ln] = p[_KOUT, ln] * p[_B0, ln] * y[_M3, ln]
            lam[s, ln] = p[_KOUT, ln] * (1.0 + p[_EMAX, ln] * e)
    elif s == _T20:
        for ln in range(n):
            c = y[pk.CENTRAL, ln] * p[pk.INV_V1, ln]
            e = c / (p[_EC50, ln] + c)
            g[s, ln] = p[_KT20, ln]
            lam[s, ln] = p[_KT20, ln] * (1.0 + p[_EMAX_T20, ln] * e)
    elif s == _X1:
        for ln in range(n):
            g[s, ln] = p[_KD, ln] * (1.0 - y[_B, ln] * p[_INV_B0, ln])
            lam[s, ln] = p[_KD, ln]
    elif s == _X2:
        for ln in range(n):
            g[s, ln] = p[_KD, ln] * y[_X1, ln]
            lam[s, ln] = p[_KD, ln]
    elif s == _PC:  # B-cell-derived plasma cells follow B/B0 with the pool's turnover
        for ln in range(n):
            g[s, ln] = p[_KPC, ln] * y[_B, ln] * p[_INV_B0, ln]
            lam[s, ln] = p[_KPC, ln]
    else:  # immunoglobulins: long-lived plus B-cell-derived synthesis, first-order loss
        if s == _IGG:
            kel, llp, bpc = _KELG, _LLPG, _BPCG
        elif s == _IGM:
            kel, llp, bpc = _KELM, _LLPM, _BPCM
        else:
            kel, llp, bpc = _KELA, _LLPA, _BPCA
        for ln in range(n):
            g[s, ln] = p[llp, ln] + p[bpc, ln] * y[_PC, ln]
            lam[s, ln] = p[kel, ln]


@njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")
def outputs(y, p, o, n):  # type: ignore[no-untyped-def]
    """The outputs of :data:`OUTPUTS` from the states (one lane loop per output: each
    vectorises, where one loop writing 14 rows would not)."""
    for ln in range(n):
        o[0, ln] = y[pk.CENTRAL, ln] * p[pk.INV_V1, ln]
    for ln in range(n):
        o[1, ln] = y[_B, ln]
    for ln in range(n):
        o[2, ln] = y[_T20, ln]
    for r, row in ((3, _S_IFN4), (4, _S_IFN8), (5, _S_TH17), (6, _S_GMCSF)):
        for ln in range(n):
            o[r, ln] = 1.0 - p[row, ln] * y[_X2, ln]
    for r, row in ((7, _S_TREG), (8, _S_NE4), (9, _S_NE8)):
        for ln in range(n):
            o[r, ln] = 1.0 + p[row, ln] * y[_X2, ln]
    for ln in range(n):
        o[10, ln] = y[_B, ln] * p[_INV_B0, ln]
    for r, st in ((11, _IGG), (12, _IGM), (13, _IGA)):
        for ln in range(n):
            o[r, ln] = y[st, ln]


@engine.kernel_jit
def kernel(b0, b1, run, work):  # type: ignore[no-untyped-def]
    """Blocks b0..b1-1 of the immune model (threads over blocks)."""
    engine.run_blocks(rhs, linear, outputs, b0, b1, run, work)


IMMUNE_MODEL = ModelSpec(
    name="immune",
    states=STATES,
    outputs=OUTPUTS,
    output_units=OUTPUT_UNITS,
    # mg for amounts, cells/uL for B cells, fractions, g/L. B cells: the accuracy contract
    # (module docstring) allows 1e-4 cells/uL; 1e4 x the default atol 1e-9 = 1e-5 cells/uL
    # per step keeps the global error below it while deep depletion (~0.3 cells/uL) no longer
    # forces relative 1e-8 steps.
    # Maturation stages: fractions; 1e3 x 1e-9 keeps their error far below the B-cell contract
    # (M_ATOL_SCALE).
    atol_scale=tuple(B_ATOL_SCALE if s == "bcells" else M_ATOL_SCALE if s.startswith("bprec")
                     else 1.0 for s in STATES),
    kernel=kernel,
    sort_column=pk.K10_INF,
    output_reads=((pk.CENTRAL,), (_B,), (_T20,), *(((_X2,),) * 7), (_B,), (_IGG,), (_IGM,),
                  (_IGA,)),
    uniform_column=pk.KDES,
    n_explicit=len(pk.STATES),
    # M1: drug in the central compartment; M2, M3: M1's rate and the stage before; B: drug
    # and M3; T20: drug; X1: B; X2: X1; P: B; IgG, IgM, IgA: P (see linear()).
    linear_reads=((pk.CENTRAL,), (_M1,), (_M1, _M2), (pk.CENTRAL, _M3),
                  (pk.CENTRAL,), (_B,), (_X1,), (_B,), (_PC,), (_PC,), (_PC,)),
    # The three CD20+ stages are depleted alike: M2 and M3 have M1's rate ktr + kout·Emax·E.
    linear_rate_of=(_M1, _M1, _M1, *range(_B, len(STATES))),
)


UNITS = ("cells/uL", "1/day", "1", "mg/L", "1/day", "1", "day", "1", "1", "1", "1", "1", "1",
         "1", "g/L", "g/L", "g/L", "1/day", "1/day", "1/day", "1/day", "1", "1", "1", "day")
"""Units of :data:`PARAM_NAMES`."""


def individual(population: Population, settings: ImmuneParameters = IMMUNE) -> pd.DataFrame:
    """Individual PK and immune parameters: the population's PK parameters, the immune
    covariate model with the population's immune random effects, and any immune parameters
    given with the population (they replace the computed ones)."""
    imm = individual_parameters(population.covariates, population.eta(MODEL), settings)
    given = given_columns(population, MODEL)
    for c in given.columns:
        imm[c] = given[c].to_numpy(dtype=np.float64)
    return pd.concat([pk.individual(population), imm], axis=1)


def prepare(individual: pd.DataFrame, first_dose: Float1D) -> tuple[Float2D, Float2D]:
    """Kernel parameters and initial states from the individual PK and immune parameters."""
    params = individual[list(pk.PARAMETERS)].to_numpy(dtype=np.float64)
    imm = individual[list(PARAM_NAMES)]
    return kernel_parameters(params, first_dose, imm), initial_states(imm)


MODEL = register(Model(
    spec=IMMUNE_MODEL, parameters=(*pk.PARAMETERS, *PARAM_NAMES), units=(*pk.UNITS, *UNITS),
    individual=individual, prepare=prepare, settings=IMMUNE, dose_targets=pk.DOSE_TARGETS,
    n_eta=N_IMMUNE_ETA, stream_key=2, exposure_output="C", measured=MEASURED))
"""The immune model: PK, B cells, T-cell and cytokine indices, immunoglobulins."""


def repletion_time(times: Float1D, bcells: Float2D, threshold: Float1D | float,
                   after: float) -> Float1D:
    """First time at or after ``after`` when B cells reach ``threshold`` (days), per subject.

    Linear interpolation between output times; NaN for a subject that never reaches it
    within the output grid. ``threshold`` (cells/µL) may differ per subject, e.g.
    ``min(LLN, B0)`` for the label's "baseline or LLN, whichever first".
    """
    t = np.asarray(times, dtype=np.float64)
    b = np.asarray(bcells, dtype=np.float64)
    if b.ndim != 2 or t.ndim != 1 or b.shape[1] != t.size:
        raise InvalidInputError(
            f"bcells must have shape (n_subjects, n_times) = (n, {t.size}); got {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b < 0.0):
        raise InvalidInputError("B-cell counts must be finite and >= 0 cells/uL; found "
                                f"{b[~(np.isfinite(b) & (b >= 0.0))][0]!r}")
    thr = np.asarray(threshold, dtype=np.float64)
    if thr.ndim > 1 or (thr.ndim == 1 and thr.size != b.shape[0]):
        raise InvalidInputError(
            f"threshold must be a number or one value per subject ({b.shape[0]}); got shape "
            f"{thr.shape}")
    if not np.all(np.isfinite(thr)) or np.any(thr <= 0.0):
        raise InvalidInputError("repletion threshold must be finite and > 0 cells/uL")
    thr = np.broadcast_to(thr, (b.shape[0],))
    if not math.isfinite(after):
        raise InvalidInputError(f"after = {after!r} must be a finite day; pass the day from "
                                "which to look for repletion (e.g. the day after the last dose)")
    out = np.full(b.shape[0], np.nan)
    j0 = int(np.searchsorted(t, after, side="left"))
    if j0 >= t.size:
        return out
    above = b[:, j0:] >= thr[:, None]
    hit = np.flatnonzero(above.any(axis=1))
    j = j0 + np.argmax(above[hit], axis=1)
    first = j == j0  # already at or above it at the first time looked at
    out[hit[first]] = t[j[first]]
    i, j = hit[~first], j[~first]
    b0, b1 = b[i, j - 1], b[i, j]
    out[i] = t[j - 1] + (t[j] - t[j - 1]) * (thr[i] - b0) / (b1 - b0)
    return out


REPLETION_MONTHS = (3.0, 6.0, 9.0, 12.0, 18.0, 24.0)
"""Months after the last dose at which :func:`repletion_summary` reports shares."""
REPLETION_THRESHOLDS = (10.0, 20.0, 40.0, 80.0)
"""B-cell counts (cells/µL) of :func:`repletion_summary`'s shares."""
REPLETION_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
"""Percentiles of the time to repletion reported by :func:`repletion_percentiles`."""


def _numbers(name: str, values: object, *, low: float, high: float = math.inf,
             low_open: bool = False, example: str) -> list[float]:
    """``values`` as a non-empty list of finite floats in ``[low, high]`` (``(low, high]`` when
    ``low_open``); :class:`InvalidInputError` naming ``name`` otherwise."""
    rule = (f"{'>' if low_open else '>='} {low:g}"
            + ("" if math.isinf(high) else f" and <= {high:g}"))
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be numbers {rule}; got {values!r}; pass e.g. "
                                f"{example}") from None
    if arr.size == 0:
        raise InvalidInputError(f"{name} is empty; pass at least one number {rule}, e.g. "
                                f"{example}")
    bad = ~np.isfinite(arr) | (arr <= low if low_open else arr < low) | (arr > high)
    if bad.any():
        raise InvalidInputError(f"{name} must be finite numbers {rule}; got {arr[bad][0]!r} in "
                                f"{arr.tolist()!r}; pass e.g. {example}")
    return [float(v) for v in arr]


def _return_inputs(result: SimulationResult, last_dose_day: float,
                   months: list[float]) -> tuple[Float1D, Float2D, Float1D]:
    """Times, B cells and B0 of ``result``, checked to cover ``months`` after the last dose."""
    params = result.parameters
    if "B" not in result.names or params is None or "B0" not in params.columns:
        raise InvalidInputError("result has no B-cell output or no individual B0; simulate "
                                "with model='immune' and keep the variable 'B'")
    t = np.asarray(result.times, dtype=np.float64)
    if not (math.isfinite(last_dose_day) and t[0] <= last_dose_day <= t[-1]):
        raise InvalidInputError(
            f"last_dose_day = {last_dose_day!r} lies outside the result's times "
            f"[{t[0]:g}, {t[-1]:g}] days; pass the day of the last dose of the regimen")
    end = last_dose_day + max(months, default=0.0) * DAYS_PER_MONTH
    if end > t[-1] + 1e-9:
        raise InvalidInputError(
            f"the result ends on day {t[-1]:g}, before {max(months):g} months after the last "
            f"dose (day {end:g}); simulate at least to day {math.ceil(end)}")
    return (t, np.asarray(result.bcells, dtype=np.float64),
            params["B0"].to_numpy(dtype=np.float64))


def repletion_summary(result: SimulationResult, last_dose_day: float, *,
                      months: tuple[float, ...] | list[float] = REPLETION_MONTHS,
                      thresholds: tuple[float, ...] | list[float] = REPLETION_THRESHOLDS,
                      ) -> pd.DataFrame:
    """Shares of patients whose B cells are above each threshold, months after the last dose.

    Parameters
    ----------
    result : SimulationResult
        A ``model="immune"`` result with the B-cell output, running at least ``max(months)``
        months (of 30.4375 days) past ``last_dose_day``, with no dose after it (not checked:
        the result does not carry its doses).
    last_dose_day : float
        Day of the last dose.
    months, thresholds : sequences of float
        Months after the last dose (rows; finite, >= 0) and B-cell counts in cells/µL
        (columns; finite, > 0).

    Returns
    -------
    pandas.DataFrame
        One row per month: ``months`` and ``day``, then one column per threshold,
        ``"> {thr} cells/uL (%)"``: the percentage of patients strictly above it (linear
        interpolation between output times).

    Raises
    ------
    InvalidInputError
        No B-cell output, ``last_dose_day`` outside the times, a result too short, or
        ``months``/``thresholds`` empty, not finite or out of range.
    """
    mon = _numbers("months", months, low=0.0, example="[3, 6, 12]")
    thrs = _numbers("thresholds", thresholds, low=0.0, low_open=True, example="[10, 80]")
    t, b, _ = _return_inputs(result, float(last_dose_day), mon)
    rows = []
    for m in mon:
        day = float(last_dose_day) + m * DAYS_PER_MONTH
        j = int(np.clip(np.searchsorted(t, day), 1, t.size - 1))
        w = 0.0 if t[j] == t[j - 1] else (day - t[j - 1]) / (t[j] - t[j - 1])
        at = b[:, j - 1] + w * (b[:, j] - b[:, j - 1])
        row: dict[str, float] = {"months": m, "day": day}
        for thr in thrs:
            row[f"> {thr:g} cells/uL (%)"] = 100.0 * float(np.mean(at > thr))
        rows.append(row)
    return pd.DataFrame(rows)


def repletion_weeks(result: SimulationResult, last_dose_day: float, *,
                    lln: float = IMMUNE.lln_b.value) -> Float1D:
    """Weeks from the last dose to B-cell repletion, per patient (NaN: not by the end).

    Repletion is the label's definition [S59]: B cells back to baseline or to ``lln``
    (cells/µL), whichever comes first, i.e. the first time from the day after the last dose on
    which they reach ``min(lln, B0)`` (:func:`repletion_time`). A patient still above that
    level the day after the last dose (not depleted by it) counts as repleted then.

    Raises
    ------
    InvalidInputError
        No B-cell output, ``last_dose_day`` outside the times, or ``lln`` not finite and > 0.
    """
    (level,) = _numbers("lln", lln, low=0.0, low_open=True, example="80")
    t, b, b0 = _return_inputs(result, float(last_dose_day), [])
    return np.asarray((repletion_time(t, b, np.minimum(level, b0),
                                      after=float(last_dose_day) + 1.0)
                       - float(last_dose_day)) / DAYS_PER_WEEK)


def repletion_percentiles(result: SimulationResult, last_dose_day: float, *,
                          lln: float = IMMUNE.lln_b.value,
                          percentiles: tuple[float, ...] | list[float] = REPLETION_PERCENTILES,
                          ) -> pd.DataFrame:
    """Distribution of the time from the last dose to B-cell repletion (weeks).

    Repletion is the label's definition [S59]: B cells back to baseline or to ``lln``, whichever
    comes first (:func:`repletion_weeks`). A patient not repleted by the end of the result is
    censored: a percentile that reaches censored patients is ``inf`` (later than the end).

    Returns
    -------
    pandas.DataFrame
        Columns ``percentile`` and ``weeks``, one row per percentile; ``attrs`` hold
        ``not_repleted`` (share of patients not repleted by the end, 0-1) and ``n``.

    Raises
    ------
    InvalidInputError
        As :func:`repletion_weeks`, or ``percentiles`` empty or outside 0-100.
    """
    pcts = _numbers("percentiles", percentiles, low=0.0, high=100.0, example="[5, 50, 95]")
    weeks = repletion_weeks(result, last_dose_day, lln=lln)
    done = weeks[np.isfinite(weeks)]
    if done.size == 0:
        values = [math.inf] * len(pcts)
    else:
        top = float(done.max())
        full = np.where(np.isfinite(weeks), weeks, top + 1.0)  # censored: above every value
        values = [float(v) if v <= top else math.inf for v in np.percentile(full, pcts)]
    table = pd.DataFrame({"percentile": pcts, "weeks": values})
    table.attrs["not_repleted"] = float(np.mean(~np.isfinite(weeks)))
    table.attrs["n"] = int(weeks.size)
    return table
