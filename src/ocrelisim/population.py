"""Patients: covariates, log-normal inter-individual variability, individual PK parameters.

A :class:`Population` holds one covariate row and one row of individual PK parameters per
patient (patients first). Individual parameters are [S1][S2]::

    P_i = P_typical · (WT_i / wt_ref)**exponent · exp(eta_i),   eta_i ~ N(0, omega²)

with the exponent ``exp_cl`` on CLINF, CLT and Q, ``exp_v`` on V1 and V2 and none on KDES, KA
and F_SC; F_SC and KDES carry no variability. All numbers come from :mod:`ocrelisim.parameters`.

Every further model (:mod:`ocrelisim.models`) has its own random effects: ``Model.n_eta``
standard-normal draws per patient, kept in ``Population.etas[model]``, from which the model's
covariate model makes its individual parameters at simulation time. Individual parameters of
any model may also be given (:meth:`Population.from_parameters`), so that a fitted patient is
simulated exactly.

Randomness (:mod:`ocrelisim._streams`): the seed's child (0,) draws the covariates, (1,) the
PK etas and each model's key (the immune model: 2) its etas, so the same seed gives the same
population, a model added later changes nobody else's draws, and
``Population.from_covariates(pop.covariates, seed=pop.seed)`` reproduces ``pop`` exactly.
A standard-normal draw is made for all eight PK parameters whatever their omega, so changing one
omega leaves the other parameters' draws unchanged.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special

from . import _streams
from ._types import Float1D, Float2D, Int1D, RngLike, as_generator
from .errors import InvalidInputError, InvalidParameterError, bounds_message
from .parameters import (
    DEMOGRAPHICS,
    PK,
    PLAUSIBLE_AGE_Y,
    PLAUSIBLE_WEIGHT_KG,
    Demographics,
    PKParameters,
)

PK_PARAM_NAMES = ("CLINF", "CLT", "KDES", "V1", "V2", "Q", "KA", "F_SC")
"""Columns of ``Population.params`` (L/day, L/day, 1/day, L, L, L/day, 1/day, 1)."""
PK_PARAM_UNITS = ("L/day", "L/day", "1/day", "L", "L", "L/day", "1/day", "1")
REQUIRED_PARAMS = ("CLINF", "CLT", "KDES", "V1", "V2", "Q")
DISEASES = tuple(DEMOGRAPHICS)
SEXES = ("F", "M")
COVARIATE_UNITS = {"WT": "kg", "AGE": "y"}

# Columns that may be zero (CLT = 0 or KDES = 0: constant clearance); the others must be > 0.
_MAY_BE_ZERO = frozenset({"CLT", "KDES"})
_PK_STREAM = 1


def _typical(pk: PKParameters) -> Float1D:
    """Typical values in PK_PARAM_NAMES order, shape (8,)."""
    return np.array([pk.clinf.value, pk.clt.value, pk.kdes.value, pk.v1.value, pk.v2.value,
                     pk.q.value, pk.ka.value, pk.f_sc.value])


def _exponents(pk: PKParameters) -> Float1D:
    """Weight exponents in PK_PARAM_NAMES order, shape (8,)."""
    cl, v = pk.exp_cl.value, pk.exp_v.value
    return np.array([cl, cl, 0.0, v, v, cl, 0.0, 0.0])


def _omegas(pk: PKParameters) -> Float1D:
    """IIV SDs (log scale) in PK_PARAM_NAMES order, shape (8,); none on KDES and F_SC."""
    return np.array([pk.omega_clinf.value, pk.omega_clt.value, 0.0, pk.omega_v1.value,
                     pk.omega_v2.value, pk.omega_q.value, pk.omega_ka.value, 0.0])


def _individual(weight: Float1D, z: Float2D | None, pk: PKParameters) -> Float2D:
    """Individual parameters (n, 8) from weights (n,) kg and standard-normal draws (n, 8)."""
    # In-place steps: several times faster than the broadcast expression at 1e6 patients.
    p: Float2D = np.multiply.outer(np.log(weight / pk.wt_ref.value), _exponents(pk))
    if z is not None:
        p += z * _omegas(pk)
    np.exp(p, out=p)
    p *= _typical(pk)
    return p


def _seed(seed: int | None) -> int:
    """The seed actually used."""
    if seed is None:
        # A fresh 63-bit seed from OS entropy, recorded so that the run can be repeated.
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    elif isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(
            f"seed = {seed!r}; give a non-negative integer, or None for a fresh random seed")
    return int(seed)


def _model_etas(n: int, seed: int | None, iiv: bool) -> dict[str, Float2D | None]:
    """Each registered model's random effects: (n, n_eta) draws from its stream (None without
    IIV)."""
    from .models import registered

    return {m.name: (_streams.generator(seed, m.stream_key).standard_normal((n, m.n_eta))
                     if iiv and seed is not None and m.stream_key is not None else None)
            for m in registered() if m.n_eta}


def _check_etas(etas: object, n: int) -> dict[str, Float2D | None]:
    if not isinstance(etas, Mapping):
        raise InvalidParameterError(
            f"etas must map model names to (n_patients, n_eta) arrays; got {type(etas).__name__}")
    out: dict[str, Float2D | None] = {}
    for name, z in etas.items():
        if z is None:
            out[str(name)] = None
            continue
        a = np.array(z, dtype=np.float64, order="C", copy=True)
        if a.ndim != 2 or a.shape[0] != n or not np.all(np.isfinite(a)):
            raise InvalidParameterError(
                f"etas[{name!r}] must be finite with shape ({n}, n_eta) (one row of "
                f"standard-normal draws per patient); got shape {a.shape}")
        a.setflags(write=False)
        out[str(name)] = a
    return out


def _given(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The further models' parameter columns of a parameter table (None if it has none)."""
    cols = _split_given(frame)
    return pd.DataFrame({c: _numeric(frame, c, "") for c in cols}) if cols else None


def _model(model: Any) -> Any:
    from .models import get

    return get(model)


def _split_given(frame: pd.DataFrame) -> list[str]:
    """Columns of ``frame`` that are individual parameters of a registered model (not PK)."""
    from .models import registered

    names = {c for m in registered() for c in m.parameters} - set(PK_PARAM_NAMES)
    return [c for c in frame.columns if c in names]


def _check_n(n: object) -> int:
    try:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError
        count = operator.index(n)
    except TypeError:
        raise InvalidParameterError(
            f"n = {n!r} patients; give a whole number >= 1") from None
    if count < 1:
        raise InvalidParameterError(
            f"empty population: n = {n!r} patients; give a whole number >= 1")
    return count


def _check_disease(disease: object) -> str:
    if not isinstance(disease, str) or disease not in DEMOGRAPHICS:
        raise InvalidParameterError(
            f"unknown disease {disease!r}; use one of {', '.join(DISEASES)} "
            "(relapsing or primary progressive MS)")
    return disease


@lru_cache(maxsize=32)
def _latent_age(mean: float, sd: float, lo: float, hi: float) -> tuple[float, float]:
    """Mean and SD of the normal that, truncated to [lo, hi], has the given mean and SD (y)."""

    def moments(x: Float1D) -> Float1D:
        mu, s = x[0], np.exp(x[1])
        a, b = (lo - mu) / s, (hi - mu) / s
        z = special.ndtr(b) - special.ndtr(a)
        pa, pb = np.exp(-0.5 * a * a), np.exp(-0.5 * b * b)
        r = (pa - pb) / np.sqrt(2.0 * np.pi) / z
        q = (a * pa - b * pb) / np.sqrt(2.0 * np.pi) / z
        return np.array([mu + s * r - mean, s * np.sqrt(max(1.0 + q - r * r, 0.0)) - sd])

    with np.errstate(all="ignore"):  # infeasible targets drive z to 0; reported below
        sol = optimize.root(moments, np.array([mean, np.log(sd)]), method="hybr",
                            options={"xtol": 1e-13})
        residual = np.max(np.abs(moments(sol.x)))
    if not (sol.success and residual <= 1e-8):
        raise InvalidParameterError(
            f"no normal distribution truncated to [{lo:g}, {hi:g}] y has mean {mean:g} y and SD "
            f"{sd:g} y; lower age_sd or widen the age range of the Demographics")
    return float(sol.x[0]), float(np.exp(sol.x[1]))


def _truncated_normal(rng: np.random.Generator, mu: Float1D | float, sd: float, lo: float,
                      hi: float, n: int) -> Float1D:
    """Normal(mu, sd) draws truncated to [lo, hi] by inverse CDF, shape (n,)."""
    u = rng.uniform(special.ndtr((lo - mu) / sd), special.ndtr((hi - mu) / sd), size=n)
    x: Float1D = np.clip(mu + sd * special.ndtri(u), lo, hi)  # clip: rounding at bounds only
    return x


def _sample_covariates(n: int, disease: str, demo: Demographics,
                       rng: np.random.Generator) -> pd.DataFrame:
    """ID, WT (kg), AGE (y), SEX, DISEASE for n patients."""
    female = rng.random(n) < demo.female_fraction.value
    lo_a, hi_a = demo.age_min.value, demo.age_max.value
    mu_a, sd_a = _latent_age(demo.age_mean.value, demo.age_sd.value, lo_a, hi_a)
    age = _truncated_normal(rng, mu_a, sd_a, lo_a, hi_a, n)
    log_median = np.full(n, np.log(demo.weight_median_male.value))
    log_median[female] = np.log(demo.weight_median_female.value)
    lo_w, hi_w = float(np.log(PLAUSIBLE_WEIGHT_KG[0])), float(np.log(PLAUSIBLE_WEIGHT_KG[1]))
    weight = np.exp(_truncated_normal(rng, log_median, demo.weight_sd_log.value, lo_w, hi_w, n))
    return pd.DataFrame({
        "ID": np.arange(1, n + 1, dtype=np.int64),
        "WT": weight,
        "AGE": age,
        "SEX": np.where(female, "F", "M"),
        "DISEASE": np.full(n, disease),
    })


def _plain(value: object) -> object:
    """A numpy scalar as the Python scalar (so messages read 3, not np.int64(3))."""
    return value.item() if isinstance(value, np.generic) else value


def _where(df: pd.DataFrame, bad: np.ndarray) -> str:
    """'ID x' (or 'row i') of the first bad row, and how many more rows are bad."""
    i = int(np.flatnonzero(bad)[0])
    label = f"ID {_plain(df['ID'].iloc[i])!r}" if "ID" in df.columns else f"row {i}"
    more = int(bad.sum()) - 1
    return label + (f" (and {more} more row(s))" if more else "")


def _numeric(df: pd.DataFrame, col: str, unit: str) -> Float1D:
    try:
        return np.asarray(pd.to_numeric(df[col]), dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"column {col} must be numeric ({unit}); got dtype {df[col].dtype}; convert it to "
            "numbers") from None


def _check_range(df: pd.DataFrame, col: str, bounds: tuple[float, float]) -> Float1D:
    unit = COVARIATE_UNITS[col]
    x = _numeric(df, col, unit)
    missing = np.isnan(x)
    if missing.any():
        raise InvalidParameterError(
            f"{col} is missing (NaN) for {_where(df, missing)}; give every patient a finite "
            f"{col} in {unit}")
    bad = ~((x >= bounds[0]) & (x <= bounds[1]))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            bounds_message(f"{col} of {_where(df, bad)}", float(x[i]), bounds, unit))
    return x


def _check_codes(df: pd.DataFrame, col: str, allowed: tuple[str, ...]) -> None:
    ok = df[col].isin(allowed).to_numpy(dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InvalidParameterError(
            f"{col} = {_plain(df[col].iloc[i])!r} for {_where(df, ~ok)} is not a known code; "
            f"use one of {', '.join(allowed)}")


def _as_frame(df: object, what: str) -> pd.DataFrame:
    if isinstance(df, pd.DataFrame):
        return df.reset_index(drop=True)
    if isinstance(df, Mapping):
        return pd.DataFrame(dict(df))
    raise InvalidInputError(
        f"{what} must be a pandas DataFrame (one row per patient), got {type(df).__name__}")


def _check_covariates(df: pd.DataFrame, need_weight: bool) -> pd.DataFrame:
    """Validated copy of a covariate table; adds ID = 1..n when absent."""
    if len(df) < 1:
        raise InvalidParameterError(
            "empty population: the table has no rows; give one row per patient")
    out = df.copy()
    if "ID" not in out.columns:
        out.insert(0, "ID", np.arange(1, len(out) + 1, dtype=np.int64))
    ids = out["ID"]
    if ids.isna().any() or not ids.is_unique:
        bad = (ids.isna() | ids.duplicated(keep=False)).to_numpy(dtype=bool)
        raise InvalidParameterError(
            f"ID must be unique and present; {_where(out, bad)} is missing or repeated; give "
            "one row per patient")
    if need_weight and "WT" not in out.columns:
        raise InvalidParameterError(
            f"covariates have no WT column (body weight, kg); columns received: "
            f"{list(df.columns)}; add a WT column")
    if "WT" in out.columns:
        out["WT"] = _check_range(out, "WT", PLAUSIBLE_WEIGHT_KG)
    if "AGE" in out.columns:
        out["AGE"] = _check_range(out, "AGE", PLAUSIBLE_AGE_Y)
    if "SEX" in out.columns:
        _check_codes(out, "SEX", SEXES)
    if "DISEASE" in out.columns:
        _check_codes(out, "DISEASE", DISEASES)
    return out


def _check_params(params: Float2D, ids: pd.DataFrame) -> None:
    """Finite; CLT, KDES >= 0; others > 0; F_SC <= 1 (per column, naming the first bad ID)."""
    for j, name in enumerate(PK_PARAM_NAMES):
        x = params[:, j]
        floor_ok = x >= 0.0 if name in _MAY_BE_ZERO else x > 0.0
        ok = np.isfinite(x) & floor_ok & ((x <= 1.0) if name == "F_SC" else True)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            unit = "" if PK_PARAM_UNITS[j] == "1" else f" {PK_PARAM_UNITS[j]}"
            rule = (">= 0" if name in _MAY_BE_ZERO else "> 0") + (" and <= 1"
                                                                   if name == "F_SC" else "")
            raise InvalidParameterError(
                f"{name} = {float(x[i])!r}{unit} for {_where(ids, ~ok)}; it must "
                f"be finite and {rule}; fix the parameter table")


def _same(a: Float2D | None, b: Float2D | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None
                                         and np.array_equal(a, b))


def _check_given(given: object, cov: pd.DataFrame) -> pd.DataFrame:
    """Given model parameters: one finite, non-negative number per patient and column."""
    frame = _as_frame(given, "given parameters")
    if len(frame) != len(cov):
        raise InvalidParameterError(
            f"given parameters have {len(frame)} rows for {len(cov)} patients; give one row "
            "per patient")
    out = frame.reset_index(drop=True).astype(np.float64)
    for c in out.columns:
        x = out[c].to_numpy()
        bad = ~(np.isfinite(x) & (x >= 0.0))
        if bad.any():
            raise InvalidParameterError(
                f"{c} = {float(x[bad][0])!r} for {_where(cov, bad)}; model parameters must be "
                "finite and >= 0; fix the parameter table")
    return out


def _select(n: int, key: object) -> Int1D:
    """Row indices for an int, slice, integer array or boolean mask; raises if empty."""
    if isinstance(key, slice):
        idx = np.arange(n)[key]
    else:
        k = np.asarray(key)
        if k.size == 0:
            raise InvalidParameterError(
                "empty population: the selection contains no patients; select at least one")
        if k.dtype == np.bool_:
            if k.shape != (n,):
                raise InvalidInputError(
                    f"boolean mask has shape {k.shape}; it must have shape ({n},), one per "
                    "patient")
            idx = np.flatnonzero(k)
        elif np.issubdtype(k.dtype, np.integer):
            idx = k.reshape(-1).astype(np.int64)
            bad = (idx < -n) | (idx >= n)
            if bad.any():
                raise InvalidInputError(
                    f"patient index {int(idx[bad][0])} is out of range for {n} patients; use "
                    f"0..{n - 1} (or negative from the end)")
            idx = idx % n
        else:
            raise InvalidInputError(
                f"select patients with an int, slice, integer array or boolean mask, got "
                f"{type(key).__name__} of dtype {k.dtype}")
    if idx.size == 0:
        raise InvalidParameterError(
            "empty population: the selection contains no patients; select at least one")
    return idx


@dataclass(frozen=True, eq=False, repr=False)
class Population:
    """Patients with covariates and individual PK parameters (patients first).

    Parameters
    ----------
    covariates : pandas.DataFrame
        One row per patient: ``ID`` and, when known, ``WT`` (kg), ``AGE`` (y), ``SEX``
        ("F"/"M"), ``DISEASE`` ("RMS"/"PPMS") and any further columns. A validated copy is kept;
        treat it as read-only.
    params : ndarray, shape (n, 8)
        Individual PK parameters in :data:`PK_PARAM_NAMES` order (L/day, L/day, 1/day, L, L,
        L/day, 1/day, 1); stored as a read-only float64 copy.
    seed : int or None
        Seed of a random population (None when nothing was drawn).
    etas : mapping of str to ndarray or None, optional
        Per model name, the standard-normal draws (n, ``Model.n_eta``) of that model's
        random effects, drawn with the population from the model's own stream; None (or a
        missing entry in a population without a seed) gives typical parameters.
    given : pandas.DataFrame, optional
        Individual parameters of further models given per patient (columns named as the
        models declare them, e.g. the immune model's B0, KOUT, EMAX, EC50), one row per
        patient; they replace the covariate model's values (:meth:`from_parameters`).

    Raises
    ------
    InvalidParameterError
        Empty population, bad covariates, or a parameter that is not finite, not positive
        (CLT and KDES may be 0) or an F_SC above 1.
    """

    covariates: pd.DataFrame
    params: Float2D
    seed: int | None = None
    etas: Mapping[str, Float2D | None] | None = None
    given: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        p = np.array(self.params, dtype=np.float64, order="C", copy=True)
        if p.ndim != 2 or p.shape[1] != len(PK_PARAM_NAMES):
            raise InvalidParameterError(
                f"params must have shape (n_patients, {len(PK_PARAM_NAMES)}) with columns "
                f"{', '.join(PK_PARAM_NAMES)}; got shape {p.shape}")
        cov = _check_covariates(_as_frame(self.covariates, "covariates"), need_weight=False)
        if len(cov) != p.shape[0]:
            raise InvalidParameterError(
                f"covariates have {len(cov)} rows but params has {p.shape[0]}; give one row "
                "per patient in both")
        _check_params(p, cov)
        p.setflags(write=False)
        object.__setattr__(self, "etas", _check_etas({} if self.etas is None else self.etas,
                                                     p.shape[0]))
        if self.given is not None:
            object.__setattr__(self, "given", _check_given(self.given, cov))
        object.__setattr__(self, "covariates", cov)
        object.__setattr__(self, "params", p)

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def sample(cls, n: int, disease: str = "RMS", seed: int | None = None, *,
               pk: PKParameters = PK, iiv: bool = True,
               demographics: Demographics | None = None) -> Population:
        """Random patients with trial-like covariates and log-normal IIV.

        Parameters
        ----------
        n : int
            Number of patients, >= 1.
        disease : {"RMS", "PPMS"}
            Population: OPERA ocrelizumab-exposed ([S60]) or ORATORIO ocrelizumab arm ([S14]);
            see :data:`ocrelisim.parameters.DEMOGRAPHICS`.
        seed : int, optional
            Non-negative seed. None draws a fresh one from OS entropy and records it in
            ``seed`` so that the population can be reproduced.
        pk : PKParameters
            Typical values, weight exponents and omegas.
        iiv : bool
            If False, every patient gets the typical parameters for their weight.
        demographics : Demographics, optional
            Override the demographics of ``disease``.

        Returns
        -------
        Population
            ``n`` patients; covariates ID (1..n), WT (kg), AGE (y), SEX, DISEASE; params (n, 8).

        Raises
        ------
        InvalidParameterError
            ``n < 1`` (empty population), unknown disease, or a bad seed.
        """
        count = _check_n(n)
        disease = _check_disease(disease)
        demo = DEMOGRAPHICS[disease] if demographics is None else demographics
        used = _seed(seed)
        cov = _sample_covariates(count, disease, demo,
                                 _streams.generator(used, _streams.COVARIATES))
        z = (_streams.generator(used, _PK_STREAM).standard_normal((count, len(PK_PARAM_NAMES)))
             if iiv else None)
        return cls(cov, _individual(cov["WT"].to_numpy(dtype=np.float64), z, pk), used,
                   _model_etas(count, used, iiv))

    @classmethod
    def from_covariates(cls, df: pd.DataFrame, seed: int | None = None, *,
                        pk: PKParameters = PK, iiv: bool = True) -> Population:
        """Patients with given covariates and (optionally) random IIV.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per patient: ``WT`` (kg, required, within ``PLAUSIBLE_WEIGHT_KG``);
            optional ``ID`` (unique; default 1..n), ``AGE`` (y), ``SEX`` ("F"/"M"),
            ``DISEASE`` ("RMS"/"PPMS"); other columns are kept.
        seed : int, optional
            Seed of the IIV draws (the eta stream of :meth:`sample`, so
            ``from_covariates(pop.covariates, seed=pop.seed)`` reproduces ``pop``). None draws
            a fresh seed and records it. Ignored (recorded as None) when ``iiv`` is False.
        pk : PKParameters
            Typical values, weight exponents and omegas.
        iiv : bool
            If False, typical parameters for each weight.

        Returns
        -------
        Population
            params shape (n, 8).

        Raises
        ------
        InvalidParameterError
            Empty table, missing WT column, missing (NaN) or implausible weight, bad ID, AGE,
            SEX or DISEASE values.
        """
        cov = _check_covariates(_as_frame(df, "covariates"), need_weight=True)
        weight = cov["WT"].to_numpy(dtype=np.float64)
        if not iiv:
            return cls(cov, _individual(weight, None, pk), None)
        used = _seed(seed)
        z = _streams.generator(used, _PK_STREAM).standard_normal((len(cov), len(PK_PARAM_NAMES)))
        return cls(cov, _individual(weight, z, pk), used, _model_etas(len(cov), used, True))

    @classmethod
    def typical(cls, weight: ArrayLike = 75.0, disease: str = "RMS", *,
                pk: PKParameters = PK) -> Population:
        """Typical patients (no IIV), one per weight.

        Parameters
        ----------
        weight : float or array_like, shape (n,)
            Body weight(s) in kg, within ``PLAUSIBLE_WEIGHT_KG``.
        disease : {"RMS", "PPMS"}
            Recorded in the DISEASE covariate.
        pk : PKParameters
            Typical values and weight exponents.

        Returns
        -------
        Population
            ``n`` patients (1 for a scalar weight) with covariates ID, WT, DISEASE and params
            ``typical · (WT/wt_ref)**exponent``, shape (n, 8); ``seed`` is None.

        Raises
        ------
        InvalidParameterError
            No weights, a weight that is NaN or out of range, or an unknown disease.
        """
        disease = _check_disease(disease)
        w = np.atleast_1d(np.asarray(weight, dtype=np.float64))
        if w.ndim != 1:
            raise InvalidParameterError(
                f"weight must be a number or a 1-D array (n,) in kg, got shape {w.shape}")
        cov = _check_covariates(pd.DataFrame({"WT": w, "DISEASE": np.full(w.size, disease)}),
                                need_weight=True)
        return cls(cov, _individual(cov["WT"].to_numpy(dtype=np.float64), None, pk), None)

    @classmethod
    def from_parameters(cls, df: pd.DataFrame, *, pk: PKParameters = PK,
                        model: Any = None) -> Population:
        """Patients with given individual parameters (a fitted patient, external validation).

        Parameters
        ----------
        df : pandas.DataFrame
            One row per patient with columns CLINF, CLT (L/day), KDES (1/day), V1, V2 (L),
            Q (L/day); optional KA (1/day) and F_SC (1), defaulting to ``pk.ka`` and
            ``pk.f_sc``; optional individual parameters of further models, named as each
            model declares them (``ocrelisim.models.get("immune").parameters``: B0, KOUT,
            EMAX, EC50, ...), used as given; a model's parameters not given take its typical
            values for the patient's covariates (no random effects). Optional ``ID`` and
            covariates (WT, AGE, SEX, DISEASE, others), kept and validated as in
            :meth:`from_covariates` (WT not required). ``result.parameters`` of a simulation
            is such a table: passing it back reproduces the run.
        pk : PKParameters
            Defaults for KA and F_SC.
        model : str or Model, optional
            The model the table is for. A model whose parameters do not include the PK's
            (a model of its own, registered from outside) needs no PK columns: the population
            then carries typical PK parameters for its weights (WT, else the reference weight),
            which that model does not read.

        Returns
        -------
        Population
            params (n, 8) exactly as given; ``seed`` is None.

        Raises
        ------
        InvalidParameterError
            Empty table, missing parameter columns, a non-numeric, non-finite or non-positive
            value (CLT and KDES may be 0; F_SC <= 1), or bad covariates.
        """
        frame = _as_frame(df, "parameter table")
        needs_pk = model is None or set(REQUIRED_PARAMS) <= set(_model(model).parameters)
        missing = [c for c in REQUIRED_PARAMS if c not in frame.columns]
        if not needs_pk and missing:
            cov = _check_covariates(frame.drop(columns=_split_given(frame)), need_weight=False)
            weight = (cov["WT"].to_numpy(dtype=np.float64) if "WT" in cov.columns
                      else np.full(len(cov), pk.wt_ref.value))
            return cls(cov, _individual(weight, None, pk), None, None, _given(frame))
        if missing:
            raise InvalidParameterError(
                f"parameter table lacks column(s) {', '.join(missing)}; required: "
                f"{', '.join(REQUIRED_PARAMS)} (L/day, L/day, 1/day, L, L, L/day); columns "
                f"received: {list(frame.columns)}")
        model_cols = _split_given(frame)
        cov = _check_covariates(frame.drop(columns=[c for c in (*PK_PARAM_NAMES, *model_cols)
                                                    if c in frame.columns]), need_weight=False)
        typical = dict(zip(PK_PARAM_NAMES, _typical(pk), strict=True))
        cols = [_numeric(frame, c, u) if c in frame.columns else np.full(len(frame), typical[c])
                for c, u in zip(PK_PARAM_NAMES, PK_PARAM_UNITS, strict=True)]
        return cls(cov, np.column_stack(cols), None, None, _given(frame))

    # -- views ------------------------------------------------------------------------------

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.params.shape[0])

    def __len__(self) -> int:
        return self.n

    @property
    def ids(self) -> np.ndarray[Any, Any]:
        """Patient IDs, shape (n,) (a copy)."""
        ids: np.ndarray[Any, Any] = self.covariates["ID"].to_numpy(copy=True)
        return ids

    def subset(self, indices: object) -> Population:
        """The patients at ``indices`` (int, slice, integer array or boolean mask, 0-based).

        Covariates, parameters and the seed (provenance) are kept.

        Raises
        ------
        InvalidInputError
            Index out of range, mask of the wrong shape, or an unsupported key.
        InvalidParameterError
            The selection is empty.
        """
        idx = _select(self.n, indices)
        etas = {k: None if z is None else z[idx] for k, z in (self.etas or {}).items()}
        given = (None if self.given is None
                 else self.given.iloc[idx].reset_index(drop=True))
        return Population(self.covariates.iloc[idx].reset_index(drop=True), self.params[idx],
                          self.seed, etas, given)

    def __getitem__(self, key: object) -> Population:
        if isinstance(key, int | np.integer) and not -self.n <= int(key) < self.n:
            raise IndexError(f"patient index {int(key)} out of range for {self.n} patients")
        return self.subset(key)

    @property
    def immune_eta(self) -> Float2D | None:
        """The immune model's random-effect draws (``etas["immune"]``), or None."""
        return (self.etas or {}).get("immune")

    def eta(self, model: Any) -> Float2D | None:
        """The random-effect draws of ``model`` (a :class:`ocrelisim.models.Model`), shape
        (n, model.n_eta), or None for typical values (a population drawn without IIV, or
        built from given covariates or parameters without a seed).

        Raises
        ------
        InvalidInputError
            The population was drawn with a seed before the model was registered: it has no
            draws for it (draw the population again).
        """
        etas = self.etas or {}
        if model.n_eta == 0:
            return None
        if model.name in etas:
            z = etas[model.name]
            if z is not None and z.shape[1] != model.n_eta:
                raise InvalidInputError(
                    f"etas[{model.name!r}] has {z.shape[1]} columns; model {model.name!r} "
                    f"needs {model.n_eta}")
            return z
        if self.seed is None:
            return None
        raise InvalidInputError(
            f"this population (seed {self.seed}) has no random effects for model "
            f"{model.name!r}, which was registered after it was drawn; draw the population "
            "again")

    def parameters_frame(self) -> pd.DataFrame:
        """Covariates followed by the PK parameter columns, one row per patient.

        ``Population.from_parameters(pop.parameters_frame())`` gives back the same covariates
        and parameters.
        """
        params = pd.DataFrame(np.array(self.params), columns=list(PK_PARAM_NAMES))
        clash = [c for c in self.covariates.columns if c in PK_PARAM_NAMES]
        return pd.concat([self.covariates.drop(columns=clash), params], axis=1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Population):
            return NotImplemented
        a, b = self.etas or {}, other.etas or {}
        same_etas = a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        same_given = ((self.given is None and other.given is None)
                      or (self.given is not None and other.given is not None
                          and self.given.equals(other.given)))
        return (self.seed == other.seed and np.array_equal(self.params, other.params)
                and self.covariates.equals(other.covariates) and same_etas and same_given)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        disease = (",".join(sorted(self.covariates["DISEASE"].unique()))
                   if "DISEASE" in self.covariates.columns else "?")
        return f"Population(n={self.n}, disease={disease}, seed={self.seed})"


def observe(concentration: ArrayLike, pk: PKParameters = PK, rng: RngLike = None) -> Float2D:
    """Simulated measurements with combined proportional and additive residual error.

    ``Y = C · (1 + sigma_prop · e1) + sigma_add · e2`` with independent ``e1, e2 ~ N(0, 1)``,
    so ``Var(Y) = (sigma_prop · C)² + sigma_add²``. Values are not censored: Y may be negative
    near zero concentration (apply an assay limit downstream if needed).

    Parameters
    ----------
    concentration : array_like, shape (n_patients, n_times)
        Model concentrations in mg/L (any shape is accepted and kept).
    pk : PKParameters
        ``sigma_prop`` (fraction) and ``sigma_add`` (mg/L).
    rng : Generator, int or None
        Source of randomness.

    Returns
    -------
    ndarray
        Observations in mg/L, same shape as ``concentration``.

    Raises
    ------
    InvalidInputError
        ``concentration`` contains NaN or infinite values.
    """
    c = np.asarray(concentration, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        raise InvalidInputError(
            "concentration contains NaN or infinite values; pass finite model output in mg/L")
    gen = as_generator(rng)
    e = gen.standard_normal((2, *c.shape))
    y: Float2D = c * (1.0 + pk.sigma_prop.value * e[0]) + pk.sigma_add.value * e[1]
    return y
