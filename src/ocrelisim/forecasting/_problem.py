"""One patient's estimation problem: random effects -> kernel parameters -> predictions -> the
negative log posterior, for many candidate random-effect vectors at once (engine lanes).

The unknowns are the patient's standard-normal random effects ``z`` of the immune model (PK and
B cells): the population model is the prior (``z ~ N(0, I)``), so the MAP is a penalised fit
whose penalty is the population variability. Only effects with a nonzero variance that the
concentration or the B-cell count depend on are estimated; every other effect stays at 0 (the
typical value; it does not change C or B).

Residual error (combined, ``sd = sqrt((prop·f)² + add²)`` with ``f`` the prediction):

* CD19+ B cells: proportional 0.381, additive 0.153 cells/µL, the ofatumumab B-cell model [S28]
  (Table 3 as transcribed in [S28b], whose ``add + prop`` error is this variance-sum form,
  nlmixr2's default "combined2"; no ocrelizumab B-cell residual error is published; facts
  §2.2);
* concentration: ``PK.sigma_prop`` and ``PK.sigma_add`` (15% and 0.1 mg/L, an assumption: the
  ocrelizumab PK residual error is not published [S1], facts §1.2).

A censored observation (below its LLOQ) enters through the probability of being below the
limit, ``Φ((LLOQ − f)/sd)`` (Beal's M3 method).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .._types import Float1D, Float2D, Int1D
from ..engine import SolverOptions, integrate
from ..errors import InvalidInputError
from ..models import Model
from ..models import get as get_model
from ..models import immune as _immune
from ..parameters import IMMUNE, PK, Parameter, PKParameters
from ..population import PK_PARAM_NAMES, Population
from ..regimens import Regimen
from ..simulate import _first_dose_times, _schedules
from ._types import DVID_BCELL, DVID_CONC, OBSERVATION_COLUMNS, PatientRecord

MODEL_NAME = "immune"
"""The model fitted: PK and B cells (:mod:`ocrelisim.models.immune`)."""

B_CELL_ETAS = _immune.B_CELL_ETAS
"""Columns of the immune model's random effects that move the B-cell count (declared by the
B-cell model: B0, KOUT, EMAX, EC50, MTT_B)."""
B_CELL_PARAMS = _immune.B_CELL_PARAMS
"""Individual parameters of :data:`B_CELL_ETAS`, in the same order."""

_PK_OMEGAS = {"CLINF": "omega_clinf", "CLT": "omega_clt", "V1": "omega_v1", "V2": "omega_v2",
              "Q": "omega_q", "KA": "omega_ka"}

SIGMA_B_PROP = Parameter(
    0.381, "1", (0.0, 2.0),
    "[S28] ofatumumab B-cell residual error, proportional (no ocrelizumab value published)",
    assumption=True)
SIGMA_B_ADD = Parameter(
    0.153, "cells/uL", (0.0, 10.0),
    "[S28] ofatumumab B-cell residual error, additive (no ocrelizumab value published)",
    assumption=True)

_LOG_2PI_HALF = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class EtaSpec:
    """The estimated random effects: names (individual parameters), where each lives, omegas
    (log-scale SD; for immune effects informational: the model applies them)."""

    names: tuple[str, ...]
    pk_columns: tuple[int, ...]     # PK_PARAM_NAMES index per PK effect
    pk_omegas: tuple[float, ...]
    immune_columns: tuple[int, ...]  # immune model eta column per B-cell effect

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def n_pk(self) -> int:
        return len(self.pk_columns)


def eta_spec(regimen: Regimen, pk: PKParameters = PK) -> EtaSpec:
    """PK effects with a nonzero omega (KA only with SC doses), then the B-cell effects."""
    has_sc = any(d.route == "SC" for d in regimen)
    names, cols, omegas = [], [], []
    for name, field in _PK_OMEGAS.items():
        omega = float(getattr(pk, field).value)
        if omega > 0.0 and (name != "KA" or has_sc):
            names.append(name)
            cols.append(PK_PARAM_NAMES.index(name))
            omegas.append(omega)
    return EtaSpec(names=(*names, *B_CELL_PARAMS), pk_columns=tuple(cols),
                   pk_omegas=tuple(omegas), immune_columns=B_CELL_ETAS)


def covariate_frame(record: PatientRecord) -> tuple[pd.DataFrame, list[str]]:
    """One covariate row (WT kg, AGE y when given) and notes on what was assumed."""
    row: dict[str, float] = {}
    notes = []
    wt = record.covariates.get("WT")
    if wt is None or not math.isfinite(wt):
        row["WT"] = PK.wt_ref.value
        notes.append(f"weight not given: the PK reference weight {PK.wt_ref.value:g} kg was "
                     "used")
    else:
        row["WT"] = float(wt)
    age = record.covariates.get("AGE")
    if age is None or not math.isfinite(age):
        notes.append(f"age not given: the B-cell model's reference age {IMMUNE.age_ref.value:g} "
                     "years was used")
    else:
        row["AGE"] = float(age)
    return pd.DataFrame([row]), notes


class Problem:
    """Predictions and the negative log posterior of one patient for many ``z`` at once.

    ``z`` has shape (m, n_eta) (standard normal scale, order :attr:`EtaSpec.names`); every
    method evaluates all m candidates in one engine call (one lane each).
    """

    def __init__(self, record: PatientRecord, *, options: SolverOptions,
                 regimen: Regimen | None = None, eta: EtaSpec | None = None) -> None:
        self.record = record
        self.model: Model = get_model(MODEL_NAME)
        self.regimen = record.regimen if regimen is None else regimen
        self.options = options
        self.eta = eta_spec(self.regimen) if eta is None else eta
        self.covariates, self.notes = covariate_frame(record)
        self._base_pk = Population.typical(float(self.covariates["WT"].iloc[0])).params[0]
        sched = np.zeros(1, dtype=np.int64)
        self._schedules = _schedules(self.model, [self.regimen], sched)
        self._first = float(_first_dose_times([self.regimen])[0])
        self._select = np.array([self.model.outputs.index("C"), self.model.outputs.index("B")])
        self._fast = self._affine_in_log()
        self._observations(record.observations)

    # -- parameters ---------------------------------------------------------------------------

    def individual(self, z: Float2D) -> pd.DataFrame:
        """Individual parameters (one row per candidate), through the model's own covariate
        model (:attr:`Model.individual`)."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        m = z.shape[0]
        params = np.tile(self._base_pk, (m, 1))
        npk = self.eta.n_pk
        if npk:
            params[:, list(self.eta.pk_columns)] *= np.exp(z[:, :npk] * np.array(
                self.eta.pk_omegas))
        eta = np.zeros((m, self.model.n_eta))
        eta[:, list(self.eta.immune_columns)] = z[:, npk:]
        cov = pd.concat([self.covariates] * m, ignore_index=True)
        pop = Population(cov, params, None, {self.model.name: eta})
        out: pd.DataFrame = self.model.individual(pop, self.model.settings)
        return out

    def _generic(self, z: Float2D) -> tuple[Float2D, Float2D]:
        ind = self.individual(z)
        return self.model.prepare(ind, np.full(len(ind), self._first))

    def _affine_in_log(self) -> tuple[Float1D, Float2D, Float1D, Float2D] | None:
        """Kernel parameters and initial states are products of powers of the individual
        parameters, which are log-linear in ``z`` for the log-normal effects: then
        ``log P(z) = log P(0) + z·J`` exactly and candidates need no pandas. Measured once
        per patient, checked at random points; None (the general path) if it does not hold."""
        d = self.eta.n
        probe = np.vstack([np.zeros(d), np.eye(d)])
        P, y0 = self._generic(probe)
        lp, ly = _safe_log(P), _safe_log(y0)
        if lp is None or ly is None:
            return None
        with np.errstate(invalid="ignore"):  # -inf - -inf in the zero columns
            fast = (lp[0], lp[1:] - lp[0], ly[0], ly[1:] - ly[0])
        check = np.random.default_rng(0).normal(0.0, 1.5, size=(3, d))
        Pc, yc = self._generic(check)
        Pf, yf = _affine(fast, check)
        for got, want in ((Pf, Pc), (yf, yc)):
            if not np.allclose(got, want, rtol=1e-10, atol=0.0):
                return None
        return fast

    def kernel_inputs(self, z: Float2D) -> tuple[Float2D, Float2D]:
        """Kernel parameters (m, n_kernel_params) and initial states (m, n_states)."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        if self._fast is not None:
            return _affine(self._fast, z)
        return self._generic(z)

    # -- predictions ----------------------------------------------------------------------------

    def predict(self, z: Float2D, times: Float1D, *, options: SolverOptions | None = None
                ) -> np.ndarray:
        """C (mg/L) and B (cells/µL) at ``times`` (days), shape (m, 2, n_times)."""
        P, y0 = self.kernel_inputs(z)
        m = P.shape[0]
        sch = dataclasses.replace(self._schedules, sched=np.zeros(m, dtype=np.int64))
        raw = integrate(self.model.spec, P, y0, sch, np.asarray(times, dtype=np.float64),
                        np.zeros((0, 2)), [], options or self.options,
                        select=self._select.tolist())
        return np.transpose(raw.out, (1, 0, 2))

    # -- likelihood -------------------------------------------------------------------------

    def _observations(self, obs: pd.DataFrame) -> None:
        _check_observations(obs, self.record.id)
        times = obs["TIME"].to_numpy(dtype=np.float64)
        self.obs_times: Float1D = np.unique(times)
        self._t_index: Int1D = np.searchsorted(self.obs_times, times).astype(np.int64)
        dvid = obs["DVID"].to_numpy(dtype=np.int64)
        self._out_index: Int1D = np.where(dvid == DVID_CONC, 0, 1).astype(np.int64)
        conc = dvid == DVID_CONC
        self._prop = np.where(conc, PK.sigma_prop.value, SIGMA_B_PROP.value)
        self._add = np.where(conc, PK.sigma_add.value, SIGMA_B_ADD.value)
        self._censored = obs["CENSORED"].to_numpy(dtype=bool)
        dv = obs["DV"].to_numpy(dtype=np.float64)
        lloq = obs["LLOQ"].to_numpy(dtype=np.float64)
        self._y = np.where(self._censored, lloq, dv)
        self.n_obs = len(obs)

    def observed(self, pred: np.ndarray) -> Float2D:
        """Predictions at each observation (m, n_obs) from :meth:`predict` at ``obs_times``."""
        return pred[:, self._out_index, self._t_index]

    def neg_log_likelihood(self, f: Float2D) -> Float1D:
        """Negative log likelihood (m,) of the observations given predictions ``f`` (m, n_obs)."""
        sd = np.sqrt((self._prop * f) ** 2 + self._add ** 2)
        r = (self._y - f) / sd
        dense = 0.5 * r * r + np.log(sd) + _LOG_2PI_HALF
        below = -special.log_ndtr(r)  # censored: y holds the LLOQ, P(Y < LLOQ) = Φ(r)
        out: Float1D = np.where(self._censored, below, dense).sum(axis=1)
        return out

    def neg_log_posterior(self, z: Float2D, *, options: SolverOptions | None = None
                          ) -> Float1D:
        """``0.5·|z|² + NLL`` (m,), up to a constant; +inf where the solve is not finite."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        prior: Float1D = 0.5 * np.sum(z * z, axis=1)
        if self.n_obs == 0:
            return prior
        f = self.observed(self.predict(z, self.obs_times, options=options))
        nlp = prior + self.neg_log_likelihood(f)
        out: Float1D = np.where(np.isfinite(nlp), nlp, np.inf)
        return out


def _check_observations(obs: pd.DataFrame, pid: str) -> None:
    """The contract of ``PatientRecord.observations`` (``_records`` builds it so; records made
    by hand are checked here): columns, TIME >= 0, DVID 1 or 2, a finite DV where not censored
    and a finite LLOQ where censored."""
    missing = [c for c in OBSERVATION_COLUMNS if c not in obs.columns]
    if missing:
        raise InvalidInputError(f"patient {pid!r}: observations lack columns {missing}; give "
                                f"{list(OBSERVATION_COLUMNS)}")
    t = obs["TIME"].to_numpy(dtype=np.float64)
    dvid = obs["DVID"].to_numpy()
    cens = obs["CENSORED"].to_numpy(dtype=bool)
    dv = obs["DV"].to_numpy(dtype=np.float64)
    lloq = obs["LLOQ"].to_numpy(dtype=np.float64)
    rules = (
        (~(np.isfinite(t) & (t >= 0.0)),
         "TIME must be a finite day >= 0 (the first dose is day 0)"),
        (~np.isin(dvid, (DVID_CONC, DVID_BCELL)),
         "DVID must be 1 (concentration, mg/L) or 2 (CD19+ B cells, cells/µL)"),
        (~cens & ~np.isfinite(dv), "DV must be a finite value where the row is not censored"),
        (cens & ~(np.isfinite(lloq) & (lloq > 0.0)), "a censored row needs its LLOQ > 0"),
    )
    for bad, rule in rules:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(f"patient {pid!r}, observation {i} (TIME {t[i]!r}, DVID "
                                    f"{dvid[i]!r}, DV {dv[i]!r}): {rule}")


def _safe_log(a: Float2D) -> Float2D | None:
    """log of a positive array; zeros are allowed only in columns zero in every row (their log
    is set to -inf and they stay 0); None if any value is negative or a zero column varies."""
    if np.any(a < 0.0):
        return None
    zero = a == 0.0
    if np.any(zero.any(axis=0) != zero.all(axis=0)):
        return None
    with np.errstate(divide="ignore"):
        out: Float2D = np.log(a)
    return out


def _affine(fast: tuple[Float1D, Float2D, Float1D, Float2D],
            z: Float2D) -> tuple[Float2D, Float2D]:
    lp0, jp, ly0, jy = fast
    with np.errstate(invalid="ignore"):
        lp = lp0 + np.where(np.isfinite(lp0), z @ np.nan_to_num(jp, neginf=0.0), 0.0)
        ly = ly0 + np.where(np.isfinite(ly0), z @ np.nan_to_num(jy, neginf=0.0), 0.0)
    return np.exp(lp), np.exp(ly)
