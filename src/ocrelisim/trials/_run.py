"""Replicate virtual trials: B-cell bank, one replicate, local processes or a Dask cluster.

The drug effect of every ocrelizumab patient comes from the immune model: a *bank* of
``bank_size`` virtual patients (covariates and PK/immune variability drawn from the trial's
disease population) is simulated once per regimen; each replicate draws its ocrelizumab
patients from the bank with replacement and draws everything else (frailties, baseline EDSS,
relapses, lesions, visits, dropout) afresh. The bank's effect series is the weekly mean of the
delayed B-cell depletion (:func:`ocrelisim.outcomes.effect_delay`).

Infections (issue 13): the bank also keeps each patient's weekly serum IgG, and each replicate
draws its ocrelizumab patients' serious and non-serious infections over their follow-up from the
safety model (:func:`ocrelisim.safety.sample_infections`) with the replicate's generator, *after*
every other draw, so the endpoint results are those of a run without infections. Comparator
arms (interferon, placebo, rate-ratio comparators) have no IgG model: their infections are not
modelled.

Enrolment criteria (issue 12 item 4): ``age_range`` (with ``weight_range``) selects the bank's
patients by rejection sampling; ``edss_range``, ``prior_relapses`` and ``gd_baseline`` select
whole patients per replicate by rejection sampling (:func:`_enrol`: cohorts of twice the arm
size are simulated with the replicate's generator until enough are eligible). A design without
them takes the unchanged path and draws exactly what it drew before they existed.

Replicate ``r`` draws from the stream ``(64, r)`` of ``seed`` and the bank from the population
streams of the same seed (:mod:`ocrelisim._streams`): results depend only on ``seed`` and
``r``, not on the worker, the number of workers or the order of completion.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import _streams
from .._types import Float1D, Float2D
from ..errors import DesignError, InvalidInputError
from ..outcomes import (
    Outcomes,
    concat,
    constant_multipliers,
    drug_multipliers,
    effect_delay,
    ifn_rate_ratios,
    simulate_outcomes,
    subset,
)
from ..parameters import DISEASE, IMMUNE, DiseaseParameters, ImmuneParameters
from ..population import Population
from ..regimens import MAINTENANCE_DOSE, GuidedRule, IVInfusion, Regimen, next_guided_dose
from ..units import DAYS_PER_YEAR
from ._analysis import Row, analyse
from ._design import HIGHER_IS_BETTER, TrialDesign

Progress = Callable[[int, int], None]
DEFAULT_BANK = 4000


@dataclass(frozen=True, slots=True)
class PatientBank:
    """Weekly delayed B-cell depletion (0..1) of simulated patients, per ocrelizumab arm.

    ``effect[arm_name]`` has shape (size, weeks); week ``w`` is the mean over days
    ``7w .. 7w + 6``. ``doses[arm_name]`` counts each patient's doses within the follow-up.
    ``igg[arm_name]`` (float32, g/L) has shape (size, weeks + 1): serum IgG on days
    ``0, 7, .., 7·weeks``; an arm without it has no infections drawn. ``age`` (years, shape
    (size,)) is each bank patient's age, carried into the disease model with the patient.
    """

    effect: dict[str, Float2D]
    doses: dict[str, Float1D]
    size: int
    weeks: int
    seed: int
    igg: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict)
    age: Float1D | None = None


_MAX_DRAWS = 64  # a weight band may keep 1/64 of the sampled population at least


def bank_population(design: TrialDesign, size: int, seed: int) -> Population:
    """``size`` patients of the design's disease (its ``baseline`` ages if it has one), within
    its weight band and age range if it has them (rejection sampling: the first eligible
    patients of a larger sample)."""
    base = design.population_baseline()
    demo = None if base is None else base.demographics
    if design.weight_range is None and design.age_range is None:
        return Population.sample(size, design.disease, seed=seed, demographics=demo)
    draws = 2 * size
    while True:
        pop = Population.sample(draws, design.disease, seed=seed, demographics=demo)
        ok = np.ones(draws, dtype=bool)
        if design.weight_range is not None:
            lo, hi = design.weight_range
            w = pop.covariates["WT"].to_numpy()
            ok &= (w >= lo) & (w < hi)
        if design.age_range is not None:
            a = pop.covariates["AGE"].to_numpy()
            ok &= (a >= design.age_range[0]) & (a <= design.age_range[1])
        keep = np.flatnonzero(ok)
        if keep.size >= size:
            return pop.subset(keep[:size])
        if draws >= _MAX_DRAWS * size:
            raise DesignError(
                f"weight_range {design.weight_range} kg and age_range {design.age_range} y "
                f"keep {keep.size} of {draws} sampled {design.disease} patients; widen the "
                f"band or the age range (weights are log-normal by sex, medians 68 and 83 kg; "
                f"ages follow the population's Demographics)")
        draws *= 2


def _guided_regimens(start: Regimen, rule: GuidedRule, pop: Population,
                     days: int, immune: ImmuneParameters) -> list[Regimen]:
    """Per-patient regimens: ``start`` plus 600 mg IV whenever B cells reach the threshold at
    a monitoring visit (:func:`ocrelisim.regimens.next_guided_dose`; simulate, add the next
    dose where due, repeat)."""
    from ..simulate import simulate

    regimens = [start] * pop.n
    last = np.full(pop.n, start[-1].time)
    times = np.arange(0.0, days + 1.0)
    active = np.ones(pop.n, dtype=bool)
    while active.any():
        res = simulate(regimens, pop, times, model="immune", variables=["B"],
                       model_parameters=immune)
        b = res["B"]
        active[:] = False
        for i in range(pop.n):
            t = next_guided_dose(times, b[i], float(last[i]), rule)
            if t is not None:
                regimens[i] = regimens[i] + Regimen((IVInfusion.label(t, MAINTENANCE_DOSE.value),))
                last[i] = t
                active[i] = True
    return regimens


def build_bank(design: TrialDesign, size: int = DEFAULT_BANK, seed: int = 0, *,
               params: DiseaseParameters = DISEASE, immune: ImmuneParameters = IMMUNE
               ) -> PatientBank:
    """Simulate the immune model for ``size`` patients on every ocrelizumab arm's regimen
    (delayed B-cell depletion and weekly IgG)."""
    from ..simulate import simulate

    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise DesignError(f"bank_size = {size!r} must be a whole number >= 1")
    days = design.weeks * 7
    times = np.arange(0.0, days + 1.0)
    pop = bank_population(design, size, seed)
    effect: dict[str, Float2D] = {}
    doses: dict[str, Float1D] = {}
    igg: dict[str, npt.NDArray[np.float32]] = {}
    done: dict[str, tuple[Float2D, Float1D, npt.NDArray[np.float32]]] = {}
    for arm in design.arms:
        if arm.treatment != "ocrelizumab":
            continue
        regimen = arm.regimen_for(design.weeks)
        key = f"{regimen}|{sorted((arm.guided or {}).items())}"
        if key not in done:
            regimens: Regimen | list[Regimen] = regimen
            rule = arm.guided_rule()
            if rule is not None:
                regimens = _guided_regimens(regimen, rule, pop, days, immune)
            res = simulate(regimens, pop, times, model="immune", variables=["B_CYTO", "IgG"],
                           model_parameters=immune)
            delayed = effect_delay(1.0 - res["B_CYTO"], 1.0, params.t_half_effect.value,
                                   params.t_half_offset.value)
            weekly = delayed[:, :days].reshape(size, design.weeks, 7).mean(axis=2)
            each = [regimens] * size if isinstance(regimens, Regimen) else regimens
            count = np.array([sum(d.time < days for d in r) for r in each], dtype=np.float64)
            weekly_igg = res["IgG"][:, ::7].astype(np.float32)  # days 0, 7, .., 7·weeks
            done[key] = (weekly, count, weekly_igg)
        effect[arm.name], doses[arm.name], igg[arm.name] = done[key]
    age = pop.covariates["AGE"].to_numpy(dtype=np.float64)
    return PatientBank(effect, doses, size, design.weeks, seed, igg, age)


def _bank_age(bank: PatientBank, pick: npt.NDArray[np.int64] | None) -> Float1D | None:
    """Ages of the bank patients drawn (None for arms without bank patients)."""
    return None if pick is None or bank.age is None else bank.age[pick]


def _arm_multipliers(design: TrialDesign, bank: PatientBank, arm_index: int, n: int,
                     rng: np.random.Generator, params: DiseaseParameters
                     ) -> tuple[dict[str, Float2D], npt.NDArray[np.int64] | None]:
    """The arm's rate multipliers and, for ocrelizumab, the bank patients drawn."""
    arm = design.arms[arm_index]
    if arm.treatment == "ocrelizumab":
        pick = rng.integers(0, bank.size, n)
        return drug_multipliers(bank.effect[arm.name][pick], params), pick
    ratios = {"interferon": ifn_rate_ratios(params), "placebo": {},
              "comparator": dict(arm.rate_ratios or {})}[arm.treatment]
    return constant_multipliers(ratios, n, design.weeks), None


_INFECTIONS = "infections"
"""Value of ``kind`` in the rows of a replicate's infection counts (one per modelled arm)."""
INFECTION_COLUMNS = ("replicate", "arm", "patients", "patient_years", "infections", "serious",
                     "patients_with_infection", "patients_with_serious")
"""Columns of :attr:`TrialResult.infections` (``arm``: index into ``design.arms``)."""


def _simulate(design: TrialDesign, bank: PatientBank, seed: int, replicate: int,
              params: DiseaseParameters, infections: bool
              ) -> tuple[Outcomes, np.ndarray, list[Row], int]:
    params = design.disease_parameters(params)
    rng, parts, picks = _draw_arms(design, bank, seed, replicate, params, None)
    cutoff = design.weeks
    if design.events_target is not None:
        cutoff = _event_cutoff(design, concat(parts))
        if cutoff < design.weeks:  # the same draws again, analysed at the cut-off
            rng, parts, picks = _draw_arms(design, bank, seed, replicate, params, cutoff)
    codes = [np.full(n, i) for i, n in enumerate(design.arm_sizes())]
    rows: list[Row] = []
    if infections:  # after every other draw: the outcomes above do not depend on these
        for i, (part, pick) in enumerate(zip(parts, picks, strict=True)):
            name = design.arms[i].name
            if pick is not None and name in bank.igg:
                rows.append({"kind": _INFECTIONS, "replicate": replicate, "arm": i,
                             **_infection_counts(bank.igg[name][pick], part.followup,
                                                 design.disease, rng)})
    return concat(parts), np.concatenate(codes), rows, cutoff


def _draw_arms(design: TrialDesign, bank: PatientBank, seed: int, replicate: int,
               params: DiseaseParameters, cutoff: int | None
               ) -> tuple[np.random.Generator, list[Outcomes],
                          list[npt.NDArray[np.int64] | None]]:
    """Every arm's patients from the replicate's generator (analysed at ``cutoff``)."""
    rng = _streams.replicate(seed, replicate)
    parts, picks = [], []
    for i, n in enumerate(design.arm_sizes()):
        if design.screened:
            part, pick = _enrol(design, bank, i, n, rng, params, cutoff)
        else:
            mult, pick = _arm_multipliers(design, bank, i, n, rng, params)
            part = simulate_outcomes(rng, mult, design.disease, design.schedule, params,
                                     cutoff=cutoff, age=_bank_age(bank, pick),
                                     baseline=design.population_baseline())
        parts.append(part)
        picks.append(pick)
    return rng, parts, picks


def _event_cutoff(design: TrialDesign, out: Outcomes) -> int:
    """The first visit week from ``design.first_analysis`` by which the pooled confirmed
    12-week progression events (counted at their confirmation visit) reach the target;
    ``design.weeks`` when they never do."""
    if design.events_target is None:
        return design.weeks
    c = design.confirm.index(12)
    k = -(-12 // design.visit_every)
    confirmed = out.cdp_time[out.cdp_event[:, c], c] + k * design.visit_every
    for v in design.schedule.visits:
        if v >= design.first_analysis and (confirmed <= v).sum() >= design.events_target:
            return int(v)
    return design.weeks


def _eligible(design: TrialDesign, out: Outcomes) -> npt.NDArray[np.bool_]:
    """Patients meeting the design's age, EDSS, disease-duration, prior-relapse and
    baseline-Gd+ criteria."""
    ok = np.ones(out.n, dtype=bool)
    if design.age_range is not None and out.age is not None:
        ok &= (out.age >= design.age_range[0]) & (out.age <= design.age_range[1])
    if design.disease_duration is not None and out.duration is not None:
        ok &= (out.duration >= design.disease_duration[0]) \
            & (out.duration <= design.disease_duration[1])
    if design.edss_range is not None:
        lo, hi = design.edss_range
        ok &= (out.edss0 >= lo - 1e-9) & (out.edss0 <= hi + 1e-9)
    if design.prior_relapses is not None and out.prior_relapses is not None:
        lo_r, hi_r = design.prior_relapses
        ok &= (out.prior_relapses >= lo_r) & (out.prior_relapses <= hi_r)
    if design.gd_baseline is not None and out.gd0 is not None:
        ok &= (out.gd0 > 0) == design.gd_baseline
    return ok


def _enrol(design: TrialDesign, bank: PatientBank, arm_index: int, n: int,
           rng: np.random.Generator, params: DiseaseParameters, cutoff: int | None = None
           ) -> tuple[Outcomes, npt.NDArray[np.int64] | None]:
    """``n`` eligible patients of one arm by rejection sampling of whole patients: cohorts of
    ``2n`` are simulated with the replicate's generator (bank picks, then outcomes with the
    screening draws) until ``n`` meet the criteria; the first ``n`` eligible are kept."""
    kept: list[Outcomes] = []
    kept_picks: list[npt.NDArray[np.int64]] = []
    got = drawn = 0
    prior = float(design.prior_years) if design.disease == "RMS" else None
    while got < n:
        if drawn >= _MAX_DRAWS * n:
            raise DesignError(
                f"the enrolment criteria (age_range {design.age_range}, edss_range "
                f"{design.edss_range}, disease_duration {design.disease_duration}, "
                f"prior_relapses "
                f"{design.prior_relapses} in {design.prior_years} y, gd_baseline "
                f"{design.gd_baseline}) keep {got} of {drawn} simulated {design.disease} "
                f"patients in arm {design.arms[arm_index].name!r}; widen them")
        size = 2 * n
        mult, pick = _arm_multipliers(design, bank, arm_index, size, rng, params)
        out = simulate_outcomes(rng, mult, design.disease, design.schedule, params,
                                prior_years=prior, cutoff=cutoff, age=_bank_age(bank, pick),
                                baseline=design.population_baseline())
        keep = np.flatnonzero(_eligible(design, out))[: n - got]
        kept.append(subset(out, keep))
        if pick is not None:
            kept_picks.append(pick[keep])
        got += keep.size
        drawn += size
    return concat(kept), (np.concatenate(kept_picks) if kept_picks else None)


def _infection_counts(igg: npt.NDArray[np.float32], followup_weeks: Float1D, disease: str,
                      rng: np.random.Generator) -> Row:
    """Infections of one arm's patients over their follow-up (weekly IgG, held over each
    week): patients, patient-years, events and patients with at least one event."""
    from ..safety import sample_infections

    weeks = igg.shape[1] - 1
    days = 7.0 * np.arange(weeks + 1)
    events = sample_infections(days, igg, disease, rng)
    end = 7.0 * followup_weeks  # dropout ends the follow-up, as for the endpoints
    events = events[events["day"].to_numpy() < end[events["patient"].to_numpy()]]
    serious = events["serious"].to_numpy(dtype=bool)
    patients = events["patient"].to_numpy()
    return {"patients": int(igg.shape[0]),
            "patient_years": float(end.sum() / DAYS_PER_YEAR),
            "infections": len(events), "serious": int(serious.sum()),
            "patients_with_infection": int(np.unique(patients).size),
            "patients_with_serious": int(np.unique(patients[serious]).size)}


def simulate_replicate(design: TrialDesign, bank: PatientBank, seed: int, replicate: int,
                       params: DiseaseParameters = DISEASE) -> tuple[Outcomes, np.ndarray]:
    """Patient outcomes of one replicate and each patient's arm index."""
    out, arm, _, _ = _simulate(design, bank, seed, replicate, params, infections=False)
    return out, arm


def _rows(design: TrialDesign, bank: PatientBank, seed: int, replicate: int,
          params: DiseaseParameters) -> list[Row]:
    """The replicate's analysis rows, then its infection rows (``kind`` "infections")."""
    out, arm, infection_rows, cutoff = _simulate(design, bank, seed, replicate, params,
                                                 infections=True)
    control = [a.name for a in design.arms].index(design.control)
    rows = analyse(out, arm, control, design.endpoints, design.confirm, cutoff)
    for r in rows:
        r["replicate"] = replicate
        if design.events_target is not None:
            r["cutoff_week"] = cutoff
    return rows + infection_rows


Payload = tuple[TrialDesign, PatientBank, int, DiseaseParameters]


def run_chunk(payload: Payload, replicates: Sequence[int]) -> list[Row]:
    """Analyse several replicates (the unit of work sent to a process or Dask worker)."""
    design, bank, seed, params = payload
    return [row for r in replicates for row in _rows(design, bank, seed, r, params)]


_WORKER_PAYLOAD: Payload | None = None


def _init_worker(payload: Payload) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = payload


def _run_in_worker(replicates: Sequence[int]) -> list[Row]:
    if _WORKER_PAYLOAD is None:  # pragma: no cover - the pool initialiser always ran
        raise RuntimeError("worker has no trial payload")
    return run_chunk(_WORKER_PAYLOAD, replicates)


def _connect(address: object) -> Any:
    """A Dask client for ``address``, or a clear error naming the address."""
    from distributed import Client

    if not isinstance(address, str) or not address.strip():
        raise InvalidInputError(f"scheduler = {address!r}: give a Dask scheduler address such "
                                f"as 'tcp://host:8786' or a distributed.Client")
    try:
        return Client(address, timeout=10)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as err:
        raise InvalidInputError(f"could not connect to the Dask scheduler at {address!r} "
                                f"({err}); check the address and that the scheduler is "
                                f"running") from None


def _chunks(n: int, workers: int) -> list[list[int]]:
    size = max(1, math.ceil(n / (workers * 8)))
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


def _execute(payload: Payload, replicates: int, workers: int, scheduler: Any,
             progress: Progress | None) -> Iterable[list[Row]]:
    chunks = _chunks(replicates, max(workers, 1))
    done = 0
    if scheduler is not None:
        from distributed import Client
        from distributed import as_completed as dask_completed

        client = scheduler if isinstance(scheduler, Client) else _connect(scheduler)
        try:
            [shared] = client.scatter([payload], broadcast=True)
            futures = [client.submit(run_chunk, shared, c, pure=False) for c in chunks]
            for fut in dask_completed(futures):  # type: ignore[no-untyped-call]
                rows = fut.result()
                done += len({r["replicate"] for r in rows})
                if progress:
                    progress(done, replicates)
                yield rows
        finally:
            if not isinstance(scheduler, Client):
                client.close()
        return
    if workers <= 1:
        for c in chunks:
            rows = run_chunk(payload, c)
            done += len(c)
            if progress:
                progress(done, replicates)
            yield rows
        return
    # fork where the platform has it: no re-import per worker and no __main__ guard needed in
    # user scripts; workers run numpy/statsmodels only (never the numba kernels)
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=get_context(method),
                             initializer=_init_worker, initargs=(payload,)) as pool:
        pending = {pool.submit(_run_in_worker, c): len(c) for c in chunks}
        for fut in as_completed(pending):
            done += pending[fut]
            if progress:
                progress(done, replicates)
            yield fut.result()


@dataclass(frozen=True, slots=True)
class TrialResult:
    """Replicates of a virtual trial.

    ``table`` has one row per replicate, endpoint and arm compared with the control:
    ``treated``/``reference`` (rate or share in the two arms), ``estimate`` (rate, hazard or
    risk ratio), ``lower``/``upper`` (95% CI), ``p``.

    ``infections`` has one row per replicate and ocrelizumab arm (columns
    :data:`INFECTION_COLUMNS`): patients, patient-years of follow-up, infections and serious
    infections, patients with at least one of each. Arms without an IgG model have no rows.
    """

    design: TrialDesign
    table: pd.DataFrame
    replicates: int
    seed: int
    bank: PatientBank
    params: DiseaseParameters
    infections: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(INFECTION_COLUMNS)))

    def example(self, replicate: int = 0) -> tuple[Outcomes, np.ndarray]:
        """Patient-level outcomes of one replicate (recomputed; same as in the run)."""
        return simulate_replicate(self.design, self.bank, self.seed, replicate, self.params)

    def summary(self) -> pd.DataFrame:
        """Per endpoint and comparison: mean rates/shares, median estimate with the 2.5-97.5
        percentiles over replicates, power (significant in favour of the treated arm: ratio
        below 1, above 1 for NEDA) with a Wilson 95% interval, failed fits, and the published
        values where the design has them."""
        from statsmodels.stats.proportion import proportion_confint

        names = [a.name for a in self.design.arms]
        rows = []
        for (e, a), g in self.table.groupby(["endpoint", "arm"], sort=False):
            ok = g["estimate"].notna()
            better = g["estimate"] > 1.0 if e in HIGHER_IS_BETTER else g["estimate"] < 1.0
            sig = int(((g["p"] < self.design.alpha) & better).sum())
            lo, hi = proportion_confint(sig, len(g), alpha=0.05, method="wilson")
            pub = self.design.published.get(str(e), {})
            rows.append({
                "endpoint": e, "arm": names[int(str(a))], "control": self.design.control,
                "treated": g["treated"].mean(), "reference": g["reference"].mean(),
                "estimate": g.loc[ok, "estimate"].median() if ok.any() else math.nan,
                "estimate_2.5%": g.loc[ok, "estimate"].quantile(0.025) if ok.any() else math.nan,
                "estimate_97.5%": g.loc[ok, "estimate"].quantile(0.975) if ok.any() else math.nan,
                "power": sig / len(g), "power_lower": lo, "power_upper": hi,
                "failed_fits": int((~ok).sum()),
                "published_treated": pub.get("treated", math.nan),
                "published_reference": pub.get("control", math.nan),
                "published_estimate": pub.get("estimate", math.nan),
            })
        return pd.DataFrame(rows)

    def infection_summary(self) -> pd.DataFrame:
        """Per arm: infections and serious infections per 100 patient-years and the shares of
        patients with at least one, each the mean over replicates with the 2.5-97.5
        percentiles; ``modelled`` is False (values NaN) for arms without an IgG model. Published
        values where the design has them (``published["infections"][arm]``, shares over the
        trial and rates per 100 patient-years)."""
        published = self.design.published.get(_INFECTIONS, {})
        rows = []
        for i, arm in enumerate(self.design.arms):
            g = self.infections[self.infections["arm"] == i]
            pub = published.get(arm.name, {})
            row: dict[str, Any] = {"arm": arm.name, "treatment": arm.treatment,
                                   "modelled": not g.empty}
            py = g["patient_years"].to_numpy(dtype=float)
            n = g["patients"].to_numpy(dtype=float)
            for name, values in (
                    ("infections_per_100py", 100.0 * g["infections"].to_numpy(float) / py),
                    ("serious_per_100py", 100.0 * g["serious"].to_numpy(float) / py),
                    ("share_with_infection", g["patients_with_infection"].to_numpy(float) / n),
                    ("share_with_serious", g["patients_with_serious"].to_numpy(float) / n)):
                empty = values.size == 0
                row[name] = math.nan if empty else float(values.mean())
                row[f"{name}_2.5%"] = math.nan if empty else float(np.quantile(values, 0.025))
                row[f"{name}_97.5%"] = math.nan if empty else float(np.quantile(values, 0.975))
                row[f"published_{name}"] = pub.get(name, math.nan)
            row["source"] = pub.get("source", "")
            rows.append(row)
        return pd.DataFrame(rows)


def _check_replicates(replicates: object) -> int:
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise DesignError(f"replicates = {replicates!r} must be a whole number >= 1")
    return replicates


def run_trial(design: TrialDesign, replicates: int = 100, seed: int = 0, *,
              bank_size: int = DEFAULT_BANK, bank: PatientBank | None = None,
              workers: int | None = None, scheduler: Any = None,
              params: DiseaseParameters = DISEASE, immune: ImmuneParameters = IMMUNE,
              progress: Progress | None = None) -> TrialResult:
    """Run ``replicates`` virtual trials of ``design`` and analyse each one.

    Parameters
    ----------
    design : TrialDesign
        Checked when built; see :func:`ocrelisim.trials.preset`.
    replicates : int
        Number of replicate trials.
    seed : int
        Seeds the B-cell bank and every replicate; same seed → same results on any number of
        workers, locally or on Dask.
    bank_size : int
        Virtual patients simulated with the immune model per ocrelizumab regimen.
    bank : PatientBank, optional
        A bank built earlier with :func:`build_bank` for the same design weeks and arms (power
        curves reuse one bank across sizes).
    workers : int, optional
        Local worker processes (default: the CPU count, at most one per 4 replicates; 1 runs
        in this process). Workers are forked where the platform allows (no ``__main__`` guard
        needed in scripts), else spawned.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or client: replicates run on that
        cluster instead of local processes.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of replicates.
    """
    replicates = _check_replicates(replicates)
    if bank is None:
        bank = build_bank(design, bank_size, seed, params=params, immune=immune)
    elif bank.weeks != design.weeks or not {a.name for a in design.arms
                                            if a.treatment == "ocrelizumab"} <= set(bank.effect):
        raise DesignError("the bank was built for another design (weeks or ocrelizumab arms "
                          "differ); build it with build_bank(design)")
    if workers is None:
        workers = min(os.cpu_count() or 1, max(1, replicates // 4))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise DesignError(f"workers = {workers!r} must be a whole number >= 1")
    payload: Payload = (design, bank, int(seed), params)
    rows: list[Row] = []
    infection_rows: list[Row] = []
    for chunk in _execute(payload, replicates, workers, scheduler, progress):
        for row in chunk:
            (infection_rows if row.get("kind") == _INFECTIONS else rows).append(row)
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.sort_values(["replicate", "endpoint", "arm"], kind="stable",
                                  ignore_index=True)
        cols = ["replicate", "endpoint", "arm", "control", "treated", "reference", "estimate",
                "lower", "upper", "p"]
        if design.events_target is not None:
            cols.append("cutoff_week")  # event-driven: the analysis week of each replicate
        table = table[cols]
    infections = pd.DataFrame(infection_rows, columns=["kind", *INFECTION_COLUMNS])
    infections = infections.drop(columns="kind").sort_values(
        ["replicate", "arm"], kind="stable", ignore_index=True)
    return TrialResult(design, table, replicates, int(seed), bank, params, infections)
