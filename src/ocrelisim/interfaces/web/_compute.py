"""What each page and API endpoint computes: validated inputs in, JSON-ready answers out.

Every request model forbids unknown fields and NaN/infinity, and caps the work one request may
ask for (:data:`MAX_PATIENTS`, :data:`MAX_REPLICATES`, :data:`MAX_YEARS`, ...). Nothing here
reads or writes a file, and nothing about a patient is kept or logged.

The compiled engine is not re-entrant from several Python threads at once (its kernels run
their own threads), while the server answers requests from a thread pool: every call that
reaches the engine (``simulate`` directly or through a workflow) holds :data:`ENGINE_LOCK`, a
process-wide lock, so simulations run one at a time and requests that need no engine (the
pre-dose check, the plan) never wait for it.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..._meta import DISCLAIMER
from ...errors import InvalidInputError

ENGINE_LOCK = threading.Lock()
"""Held around every call that enters the compiled engine (one simulation at a time)."""

MAX_PATIENTS = 500
"""Simulated patients per request (exposure page); the library has no such limit."""
MAX_EXPOSURE_DAYS = 3 * 365.0
"""Simulated period of the exposure page, day."""
MAX_YEARS = 6.0
"""Simulated period of the explainer, years."""
MAX_REPLICATES = 10
"""Replicate trials per request (trials page)."""
MAX_BANK = 400
"""Immune-model patients per ocrelizumab regimen of a trial request."""
MAX_REGIMEN_TEXT = 400
"""Characters of regimen text."""
MAX_HISTORY = 40
"""Previous doses in a plan request."""
MAX_CHAIRS = 8
MAX_NURSES = 8
MAX_CLINIC_DAYS = 3
MAX_PATIENTS_PER_DAY = 30
MAX_EFFORT = 2.0
"""Seconds of CP-SAT search per schedule."""

TRIAL_PRESETS = ("opera1", "opera2", "opera", "oratorio", "oratorio-hand")
REGIMEN_PRESETS = ("iv", "iv-short", "sc", "iv-extended")
SEED_MAX = 2**32 - 1

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

Seed = Annotated[int, Field(ge=0, le=SEED_MAX, description="Random seed (0 to 2**32-1).")]


def _regimen_text(value: str) -> str:
    """A preset name or regimen text; never a file (no path separators or file suffixes)."""
    if not value:
        raise ValueError("give a preset (iv, iv-short, sc, iv-extended) or regimen text")
    if len(value) > MAX_REGIMEN_TEXT:
        raise ValueError(f"regimen text has {len(value)} characters; give at most "
                         f"{MAX_REGIMEN_TEXT}")
    lower = value.lower()
    if any(c in value for c in "/\\") or lower.endswith((".csv", ".gz", ".parquet", ".yaml",
                                                          ".yml", ".json")):
        raise ValueError("regimen must be a preset or regimen text, not a file name")
    return value


def regimen_of(spec: str, days: float) -> Any:
    """The Regimen of a preset (maintenance doses covering ``days``) or of regimen text."""
    from ...regimens import Regimen
    from ...workflows import covering_doses

    if spec in REGIMEN_PRESETS:
        return Regimen.preset(spec, maintenance_doses=covering_doses(days))
    return Regimen.parse(spec)


def _finite(values: Any) -> list[float | None]:
    """A JSON list: floats, None where not finite."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON objects (NaN -> None, numpy scalars -> Python)."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, float | np.floating):
                clean[str(key)] = float(value) if math.isfinite(value) else None
            elif isinstance(value, np.integer):
                clean[str(key)] = int(value)
            elif isinstance(value, np.bool_):
                clean[str(key)] = bool(value)
            elif isinstance(value, dt.date | dt.time):
                clean[str(key)] = value.isoformat()
            elif value is None or isinstance(value, str | int | bool):
                clean[str(key)] = value
            elif pd.isna(value):
                clean[str(key)] = None
            else:
                clean[str(key)] = str(value)
        out.append(clean)
    return out


# --------------------------------------------------------------------------------- explainer

IMMUNE_SHOWN = ("C", "B", "CD20_T", "IFNG_CD4", "IFNG_CD8", "TH17", "GMCSF_T", "TREG",
                "NE_CD4", "NE_CD8", "IgG")
"""Outputs of the immune model drawn by the explainer."""
T_INDICES = ("CD20_T", "IFNG_CD4", "IFNG_CD8", "TH17", "GMCSF_T", "TREG", "NE_CD4", "NE_CD8")
_VISIT_OF_PRESET = {"iv": "maintenance", "iv-extended": "maintenance", "iv-short": "short",
                    "sc": "sc"}


class ExplainerIn(BaseModel):
    """A typical patient (no between-patient variability) on up to three regimens."""

    model_config = _STRICT
    weight_kg: float = Field(75.0, ge=30.0, le=250.0,
                             description="Body weight, kg (30-250, the model's range).")
    years: float = Field(2.0, gt=0.0, le=MAX_YEARS, description="Simulated years.")
    regimens: list[str] = Field(["iv", "sc", "iv-short"], min_length=1, max_length=3,
                                description="Presets or regimen text, 1 to 3.")

    @field_validator("regimens")
    @classmethod
    def _regimens(cls, value: list[str]) -> list[str]:
        out = [_regimen_text(v.strip()) for v in value]
        if len(set(out)) != len(out):
            raise ValueError("each regimen once")
        return out


def _visit_for(spec: str, regimen: Any) -> str:
    if spec in _VISIT_OF_PRESET:
        return _VISIT_OF_PRESET[spec]
    last = list(regimen)[-1]
    return "sc" if last.route == "SC" else "maintenance"


def explainer(inp: ExplainerIn) -> dict[str, Any]:
    """Concentration, B cells, T-cell indices and IgG of a typical patient per regimen."""
    from ... import planning
    from ...models.immune import MEASURED
    from ...population import Population
    from ...simulate import simulate
    from ...units import DAYS_PER_YEAR

    days = inp.years * DAYS_PER_YEAR
    times = np.arange(0.0, math.floor(days) + 1.0)
    population = Population.typical(inp.weight_kg)
    series: dict[str, dict[str, list[float | None]]] = {}
    texts: dict[str, str] = {}
    visits: dict[str, dict[str, Any]] = {}
    regimens = {spec: regimen_of(spec, days) for spec in inp.regimens}
    for spec, regimen in regimens.items():
        with ENGINE_LOCK:
            res = simulate(regimen, population, times, model="immune",
                           variables=list(IMMUNE_SHOWN))
        series[spec] = {name: _finite(res[name][0]) for name in IMMUNE_SHOWN}
        texts[spec] = str(regimen)
        day = planning.infusion_day(_visit_for(spec, regimen))
        visits[spec] = {**day.to_dict(), "infusion_minutes": day.infusion_minutes,
                        "chair_minutes": day.chair_minutes,
                        "on_site_minutes": day.on_site_minutes}
    return {"weight_kg": inp.weight_kg, "years": inp.years, "days": _finite(times),
            "regimens": texts, "series": series,
            "measured": {k: MEASURED[k] for k in IMMUNE_SHOWN},
            "infusion_day": visits, "plain_language": plain_language(),
            "disclaimer": DISCLAIMER}


def plain_language() -> dict[str, Any]:
    """Side effects and warning signs in plain words, from the pre-dose check's own texts.

    The check of an illustrative record (a maintenance dose, all tests done) gives the
    warning-sign lists, premedication, observation and reaction management with their sources.
    """
    from ...safety import check

    example = {"check_date": "2025-09-01", "age": 40, "weight_kg": 70,
               "planned": {"route": "IV", "dose_mg": 600},
               "previous_doses": [{"date": "2025-03-01", "route": "IV", "dose_mg": 600}],
               "hbv": {"hbsag": "negative", "anti_hbc": "negative"},
               "active_infection": False, "igg_g_per_l": 9.0, "pregnant": False,
               "symptoms": ["none"]}
    res = check(example, "US")
    shown = [res.irr_signs, res.infection_signs, res.pml_signs, *res.premedication,
             res.observation, *res.reaction_management]
    return {"items": [a.model_dump(mode="json") for a in shown],
            "sources": dict(res.sources)}


# --------------------------------------------------------------------------------- exposure


class ExposureIn(BaseModel):
    """A sampled population on one regimen: concentrations and exposure per dosing cycle."""

    model_config = _STRICT
    regimen: str = Field("iv", description="Preset (iv, iv-short, sc, iv-extended) or regimen "
                                           "text, e.g. '300 mg IV d0, d14; 600 mg IV q24w x4 "
                                           "from d168'.")
    n: int = Field(100, ge=1, le=MAX_PATIENTS, description=f"Patients, 1-{MAX_PATIENTS}.")
    days: float = Field(365.0, gt=0.0, le=MAX_EXPOSURE_DAYS,
                        description=f"Period, days (at most {MAX_EXPOSURE_DAYS:g}).")
    disease: Literal["RMS", "PPMS"] = "RMS"
    seed: Seed = 20240601
    covariates_csv: str | None = Field(
        None, max_length=200_000,
        description="Optional CSV text with a WT column (kg) and optionally AGE, SEX, DISEASE: "
                    "one simulated patient per row instead of a sampled population.")

    @field_validator("regimen")
    @classmethod
    def _regimen(cls, value: str) -> str:
        return _regimen_text(value)


def exposure_results(inp: ExposureIn) -> tuple[Any, Any, Any]:
    """(regimen, population, SimulationResult) of an exposure request (holds the engine lock)."""
    from ...population import Population
    from ...reports.exposure import cycle_intervals
    from ...simulate import simulate
    from ...workflows import time_grid

    regimen = regimen_of(inp.regimen, inp.days)
    if inp.covariates_csv:
        population = Population.from_covariates(_covariates(inp.covariates_csv), seed=inp.seed)
    else:
        population = Population.sample(inp.n, disease=inp.disease, seed=inp.seed)
    times = time_grid(inp.days, 1.0, [d.end for d in regimen])
    with ENGINE_LOCK:
        result = simulate(regimen, population, times,
                          intervals=cycle_intervals([d.time for d in regimen], inp.days))
    return regimen, population, result


def _covariates(text: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"covariates_csv: not a readable CSV table ({exc})") from None
    if len(frame) > MAX_PATIENTS:
        raise InvalidInputError(f"covariates_csv: {len(frame)} rows; give at most "
                                f"{MAX_PATIENTS} patients per request")
    if "WT" not in frame.columns:
        raise InvalidInputError("covariates_csv: no WT column; give one row per patient with "
                                "WT (kg) and optionally AGE, SEX, DISEASE")
    return frame


def exposure(inp: ExposureIn) -> tuple[dict[str, Any], Any]:
    """Exposure table (numbers of :func:`ocrelisim.reports.exposure_table`) and bands."""
    from ...reports.exposure import exposure_table, format_exposure_table, plot_concentration

    regimen, population, result = exposure_results(inp)
    name = inp.regimen if len(inp.regimen) <= 20 else "regimen"
    table = exposure_table({name: result})
    figure = plot_concentration({name: result}, title=f"Concentration, {population.n} "
                                                       f"patients")
    return {"regimen": str(regimen), "n": population.n, "days": inp.days, "seed": inp.seed,
            "exposure": frame_records(table),
            "exposure_formatted": frame_records(format_exposure_table(table)),
            "units": dict(table.attrs.get("units", {})),
            "bands": frame_records(figure.data), "layout": figure.layout,
            "disclaimer": DISCLAIMER}, figure


def exposure_download(inp: ExposureIn, what: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the exposure table or the concentrations."""
    from ...reports.exposure import exposure_table

    _regimen, _population, result = exposure_results(inp)
    frame = (exposure_table({"regimen": result}) if what == "exposure"
             else result.to_pandas())
    if fmt == "csv":
        text = f"# {DISCLAIMER}\n" + frame.to_csv(index=False)
        return text.encode("utf-8"), "text/csv; charset=utf-8", f"ocrelisim-{what}.csv"
    buf = io.BytesIO()
    table = frame.copy()
    table.attrs = {}
    table.to_parquet(buf, index=False)
    return buf.getvalue(), "application/vnd.apache.parquet", f"ocrelisim-{what}.parquet"


# --------------------------------------------------------------------------------- check


class CheckIn(BaseModel):
    """A patient record (the fields of :class:`ocrelisim.safety.PatientRecord`) and a label."""

    model_config = _STRICT
    label: Literal["US", "EU"] = "US"
    record: dict[str, Any] = Field(description="The patient record (issue 13 field names).")


def check(inp: CheckIn) -> dict[str, Any]:
    """The pre-dose check (no engine): the decision, cards, guidance and sources."""
    from ...safety import check as safety_check

    result = safety_check(inp.record, inp.label)
    return result.model_dump(mode="json")


# --------------------------------------------------------------------------------- plan


class PastDoseIn(BaseModel):
    model_config = _STRICT
    date: dt.date
    route: Literal["IV", "SC"]
    dose_mg: float = Field(gt=0.0)
    reaction: str | None = None


class PlanIn(BaseModel):
    """A patient's calendar by the label's rules."""

    model_config = _STRICT
    start: dt.date | None = Field(None, description="First dose (or, with a history, the plan "
                                                    "date), YYYY-MM-DD.")
    route: Literal["iv", "sc"] = "iv"
    tz: str = Field("UTC", max_length=64, description="IANA time zone of the clinic.")
    label: Literal["US", "EU"] = "US"
    doses: int = Field(4, ge=0, le=12, description="Maintenance doses to plan (0-12).")
    interval: Literal["months", "24w"] = "months"
    shorter: bool = False
    at: dt.time = Field(dt.time(8, 0), description="Dose appointment time, HH:MM local.")
    prior: str | None = Field(None, max_length=40, description="Prior therapy, e.g. "
                                                               "natalizumab.")
    prior_last_dose: dt.date | None = None
    history: list[PastDoseIn] = Field([], max_length=MAX_HISTORY)


def make_plan(inp: PlanIn) -> Any:
    from ... import planning

    options = planning.PlanOptions(
        interval="6 months" if inp.interval == "months" else "24 weeks",
        maintenance_doses=inp.doses, label=inp.label, at=inp.at, shorter_infusion=inp.shorter)
    history = tuple(planning.PastDose(h.date, h.route, h.dose_mg, h.reaction)
                    for h in inp.history)
    start = inp.start
    if start is None and history and not inp.prior:
        raise InvalidInputError("start: give the plan date (YYYY-MM-DD) with a history")
    return planning.plan_patient(start, inp.route, history=history, prior=inp.prior or None,
                                 prior_last_dose=inp.prior_last_dose, tz=inp.tz,
                                 options=options)


def plan(inp: PlanIn) -> dict[str, Any]:
    from ...reports.plan import patient_report

    p = make_plan(inp)
    report = patient_report(p)
    switch = None
    if p.switch is not None:
        s = p.switch
        switch = {"from": s.therapy.name, "last_dose": s.last_dose.isoformat(),
                  "start": s.start.isoformat(), "gap_days": s.gap_days, "risk": s.risk,
                  "guidance": s.therapy.guidance, "evidence": list(s.therapy.evidence)}
    return {"route": p.route, "timezone": p.tz,
            "visits": frame_records(report.tables["Visits"]),
            "doses": [{"date": v.date.isoformat(), "dose_mg": v.dose_mg, "route": v.route,
                       "title": v.title} for v in p.doses],
            "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message,
                          "source": f.source} for f in p.findings],
            "switch": switch, "notes": report.notes, "disclaimer": DISCLAIMER}


def plan_ics(inp: PlanIn) -> bytes:
    from ... import planning

    return planning.to_ics(make_plan(inp))


class DayIn(BaseModel):
    """The infusion day minute by minute."""

    model_config = _STRICT
    visit: Literal["first", "maintenance", "short", "sc"] = "maintenance"
    first_injection: bool = False


def day(inp: DayIn) -> dict[str, Any]:
    from ... import planning

    d = planning.infusion_day(inp.visit, options=planning.DayOptions(
        first_injection=inp.first_injection))
    return {**d.to_dict(), "infusion_minutes": d.infusion_minutes,
            "chair_minutes": d.chair_minutes, "on_site_minutes": d.on_site_minutes,
            "disclaimer": DISCLAIMER}


class ClinicIn(BaseModel):
    """An infusion suite: first-come against an optimised appointment book (small caps)."""

    model_config = _STRICT
    chairs: int = Field(4, ge=1, le=MAX_CHAIRS)
    nurses: int = Field(2, ge=1, le=MAX_NURSES)
    days: int = Field(1, ge=1, le=MAX_CLINIC_DAYS)
    patients_per_day: int = Field(10, ge=1, le=MAX_PATIENTS_PER_DAY)
    mix: str = Field("first=0.1,maintenance=0.5,short=0.2,sc=0.2", max_length=120)
    seed: Seed = 0
    effort: float = Field(0.5, gt=0.0, le=MAX_EFFORT,
                          description="Seconds of optimiser search per schedule.")
    reactions: bool = False


def clinic(inp: ClinicIn) -> tuple[dict[str, Any], Any]:
    from ... import planning
    from ...reports.plan import clinic_report, comparison_table

    opt = planning.ClinicOptions(chairs=inp.chairs, nurses=inp.nurses)
    sampler = planning.safety_sampler() if inp.reactions else None
    comp = planning.compare_schedules(
        opt, days=inp.days, patients_per_day=inp.patients_per_day,
        mix=planning.parse_mix(inp.mix), seed=inp.seed, effort=inp.effort, sampler=sampler,
        reactions="safety model" if inp.reactions else "none")
    report = clinic_report(comp)
    return {"comparison": frame_records(comparison_table(comp)),
            "summary": frame_records(comp.summary()),
            "conflicts": [c for c in comp.conflicts if c], "notes": report.notes,
            "disclaimer": DISCLAIMER}, report.figures["chairs"]


# --------------------------------------------------------------------------------- trials


class TrialIn(BaseModel):
    """A few replicates of a trial preset (capped: the command line runs thousands)."""

    model_config = _STRICT
    design: Literal["opera1", "opera2", "opera", "oratorio"] = "opera1"
    replicates: int = Field(3, ge=1, le=MAX_REPLICATES,
                            description=f"Replicate trials, 1-{MAX_REPLICATES}.")
    bank_size: int = Field(200, ge=20, le=MAX_BANK,
                           description=f"Immune-model patients per regimen, 20-{MAX_BANK}.")
    seed: Seed = 20240601


def trial_report(inp: TrialIn) -> Any:
    from ...workflows import trial

    with ENGINE_LOCK:
        return trial(inp.design, replicates=inp.replicates, seed=inp.seed,
                     bank_size=inp.bank_size, workers=1)


def trial(inp: TrialIn) -> tuple[dict[str, Any], Any]:
    report = trial_report(inp)
    tables = {title: frame_records(t) for title, t in report.tables.items()}
    return {"title": report.title, "tables": tables,
            "summary": frame_records(report.data["summary"]) if "summary" in report.data
            else [], "notes": report.notes, "inputs": report.inputs,
            "disclaimer": DISCLAIMER}, report
