"""Server-rendered pages (Jinja2): every form posts back to its page, which shows the answer.

Forms use POST, so that nothing typed about a patient appears in a URL or an access log.
A bad field re-renders the form with the message naming it (status 422).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from ..._meta import DISCLAIMER
from ...errors import OcrelisimError
from . import _compute as c
from . import _forecast as _fc
from . import _plots
from ._guard import validation_detail

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["DISCLAIMER"] = DISCLAIMER

PAGES = (("/", "Home"), ("/explainer", "Explainer"), ("/exposure", "Regimens & exposure"),
         ("/check", "Pre-dose check"), ("/plan", "Plan"), ("/trials", "Trials"),
         ("/forecast", "Forecast"))
TEMPLATES.env.globals["PAGES"] = PAGES

router = APIRouter(include_in_schema=False)

_T_NAMES = {"CD20_T": "CD20+ T cells", "IFNG_CD4": "IFN-γ CD4 T cells",
            "IFNG_CD8": "IFN-γ CD8 T cells", "TH17": "Th17 signature",
            "GMCSF_T": "GM-CSF T cells", "TREG": "regulatory T cells",
            "NE_CD4": "naive:effector CD4", "NE_CD8": "naive:effector CD8"}


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _form_dict(form: Any) -> dict[str, Any]:
    """Form fields as a dict; blank fields left out (the model's default applies)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and v.strip() != ""}


async def _run(model: type[BaseModel], data: dict[str, Any],
               compute: Callable[[Any], Any]) -> tuple[Any, list[dict[str, str]]]:
    """(answer, errors): the model validated and computed in the thread pool (the event loop
    stays free); errors name the fields."""
    return await run_in_threadpool(_run_sync, model, data, compute)


def _run_sync(model: type[BaseModel], data: dict[str, Any],
              compute: Callable[[Any], Any]) -> tuple[Any, list[dict[str, str]]]:
    try:
        return compute(model.model_validate(data)), []
    except ValidationError as exc:
        return None, validation_detail(exc.errors())
    except OcrelisimError as exc:
        return None, [{"field": "", "message": " ".join(str(exc).split())}]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return _render(request, "index.html", title="ocrelisim")


# ------------------------------------------------------------------ explainer


def _explainer_figures(out: dict[str, Any]) -> list[dict[str, Any]]:
    from ...parameters import IMMUNE

    days = out["days"]
    weeks = [d / 7.0 if d is not None else None for d in days]
    first = next(iter(out["series"]))
    figs = [
        {"id": "fig-concentration", **_plots.lines(
            weeks, {k: v["C"] for k, v in out["series"].items()},
            title="Ocrelizumab in the blood (typical patient)", xlabel="weeks since first dose",
            ylabel="concentration, mg/L")},
        {"id": "fig-bcells", **_plots.lines(
            weeks, {k: [max(b, 1e-3) if b is not None else None for b in v["B"]]
                    for k, v in out["series"].items()},
            title="CD19+ B cells (typical patient)", xlabel="weeks since first dose",
            ylabel="cells/µL", log=True,
            hlines=[{"y": IMMUNE.lln_b.value, "label": f"LLN {IMMUNE.lln_b.value:g}"}])},
        {"id": "fig-tcells", **_plots.lines(
            weeks, {_T_NAMES[k]: out["series"][first][k] for k in c.T_INDICES},
            title=f"T-cell and cytokine indices, {first} (1 = before treatment)",
            xlabel="weeks since first dose", ylabel="relative to baseline",
            hlines=[{"y": 1.0, "label": "baseline"}])},
    ]
    for k, (spec, day) in enumerate(out["infusion_day"].items()):
        figs.append({"id": f"fig-day-{k}",
                     **_plots.timeline(day["steps"], f"{spec}: the {day['visit']} visit")})
    return figs


def _milestones(out: dict[str, Any]) -> list[dict[str, Any]]:
    """Numbers shown beside the plots: concentration and B cells at a few days."""
    rows = []
    days = out["days"]
    for spec, s in out["series"].items():
        for day in (14, 168, 365):
            if day < len(days):
                rows.append({"regimen": spec, "day": day,
                             "concentration mg/L": round(s["C"][day] or 0.0, 2),
                             "B cells /µL": round(s["B"][day] or 0.0, 2),
                             "IgG g/L": round(s["IgG"][day] or 0.0, 2)})
    return rows


@router.api_route("/explainer", methods=["GET", "POST"], response_class=HTMLResponse)
async def explainer(request: Request) -> HTMLResponse:
    data: dict[str, Any] = {}
    if request.method == "POST":
        form = await request.form()
        data = _form_dict(form)
        regimens = [str(v) for v in form.getlist("regimens") if str(v).strip()]
        extra = str(form.get("regimen_text", "")).strip()
        data.pop("regimen_text", None)
        data["regimens"] = regimens + ([extra] if extra else []) or ["iv"]
    out, errors = await _run(c.ExplainerIn, data, c.explainer)
    status = 422 if errors else 200
    figures = _explainer_figures(out) if out else []
    return _render(request, "explainer.html", status, title="Explainer", out=out,
                   errors=errors, figures=figures, form=data,
                   milestones=_milestones(out) if out else [],
                   t_names=_T_NAMES)


# ------------------------------------------------------------------ exposure


@router.api_route("/exposure", methods=["GET", "POST"], response_class=HTMLResponse)
async def exposure(request: Request) -> HTMLResponse:
    out: Any = None
    errors: list[dict[str, str]] = []
    figures: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    if request.method == "POST":
        data = _form_dict(await request.form())
        result, errors = await _run(c.ExposureIn, data, c.exposure)
        if result is not None:
            out, figure = result
            figures = _plots.report_figure(figure.data, figure.layout)
    return _render(request, "exposure.html", 422 if errors else 200,
                   title="Regimens & exposure", out=out, errors=errors, figures=figures,
                   form=data, max_patients=c.MAX_PATIENTS, max_days=c.MAX_EXPOSURE_DAYS)


@router.post("/exposure/download")
async def exposure_download(request: Request) -> Response:
    data = _form_dict(await request.form())
    what = data.pop("what", "exposure")
    fmt = data.pop("format", "csv")
    if what not in ("exposure", "concentration") or fmt not in ("csv", "parquet"):
        return _render(request, "exposure.html", 422, title="Regimens & exposure", out=None,
                       errors=[{"field": "format", "message": "give what = exposure or "
                                "concentration and format = csv or parquet"}],
                       figures=[], form=data, max_patients=c.MAX_PATIENTS,
                       max_days=c.MAX_EXPOSURE_DAYS)
    result, errors = await _run(c.ExposureIn, data, lambda inp: c.exposure_download(inp, what, fmt))
    if errors:
        return _render(request, "exposure.html", 422, title="Regimens & exposure", out=None,
                       errors=errors, figures=[], form=data, max_patients=c.MAX_PATIENTS,
                       max_days=c.MAX_EXPOSURE_DAYS)
    content, media, name = result
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ------------------------------------------------------------------ pre-dose check


def record_from_form(form: dict[str, Any]) -> dict[str, Any]:
    """The patient record of the check form (blank fields absent: 'not known')."""
    f = {k: str(v).strip() for k, v in form.items() if str(v).strip() != ""}
    rec: dict[str, Any] = {}
    for key in ("check_date", "diagnosis"):
        if key in f:
            rec[key] = f[key]
    for key in ("age", "weight_kg", "igg_g_per_l"):  # a number, or text with a unit
        if key in f:
            rec[key] = _number(f[key])
    for key in ("active_infection", "pregnant"):
        if key in f:
            rec[key] = {"true": True, "false": False}.get(f[key], f[key])
    rec["planned"] = {"route": f.get("planned_route", ""),
                      "dose_mg": _number(f.get("planned_dose_mg")),
                      "protocol": f.get("planned_protocol", "standard")}
    rec["hbv"] = {k: f[f"hbv_{k}"] for k in ("hbsag", "anti_hbc") if f"hbv_{k}" in f}
    doses = []
    for i in range(3):
        if f"dose{i}_date" in f:
            doses.append({"date": f[f"dose{i}_date"], "route": f.get(f"dose{i}_route", ""),
                          "dose_mg": _number(f.get(f"dose{i}_mg")),
                          **({"reaction": f[f"dose{i}_reaction"]}
                             if f"dose{i}_reaction" in f else {})})
    rec["previous_doses"] = doses
    if "vac_date" in f:
        rec["vaccinations"] = [{"date": f["vac_date"], "name": f.get("vac_name", ""),
                                "live": f.get("vac_live") == "true"}]
    symptoms = [k[len("symptom_"):] for k in f if k.startswith("symptom_")]
    if "symptoms_other" in f:
        symptoms.append(f["symptoms_other"])
    if f.get("symptoms_unknown") == "on":
        rec["symptoms"] = "unknown"
    else:
        rec["symptoms"] = symptoms
    if "prior_name" in f:
        rec["prior_therapy"] = {"name": f["prior_name"],
                                "last_dose": f.get("prior_last_dose")}
    return rec


def _number(text: str | None) -> Any:
    """A finite number from form text, else the text (the record's validator names it)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


@router.api_route("/check", methods=["GET", "POST"], response_class=HTMLResponse)
async def check(request: Request) -> HTMLResponse:
    from ...safety import SYMPTOM_CODES

    out: Any = None
    errors: list[dict[str, str]] = []
    form: dict[str, Any] = {"check_date": dt.date.today().isoformat()}
    if request.method == "POST":
        form = _form_dict(await request.form())
        label = form.get("label", "US")
        out, errors = await _run(c.CheckIn, {"label": label, "record": record_from_form(form)},
                           c.check)
    symptoms = {k: v[1] for k, v in SYMPTOM_CODES.items() if k != "none"}
    return _render(request, "check.html", 422 if errors else 200, title="Pre-dose check",
                   out=out, errors=errors, form=form, symptoms=symptoms)


# ------------------------------------------------------------------ plan


def _plan_context(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"title": "Plan", "plan": None, "day": None, "clinic": None,
                            "errors": [], "form": {}, "figures": [],
                            "caps": {"chairs": c.MAX_CHAIRS, "nurses": c.MAX_NURSES,
                                     "days": c.MAX_CLINIC_DAYS,
                                     "patients_per_day": c.MAX_PATIENTS_PER_DAY}}
    base.update(extra)
    return base


def _plan_data(form: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in form.items() if k in c.PlanIn.model_fields and k != "history"}
    history = []
    for i in range(3):
        if f"hist{i}_date" in form:
            history.append({"date": form[f"hist{i}_date"],
                            "route": form.get(f"hist{i}_route", "IV"),
                            "dose_mg": form.get(f"hist{i}_mg", "")})
    if history:
        data["history"] = history
    return data


@router.api_route("/plan", methods=["GET", "POST"], response_class=HTMLResponse)
async def plan(request: Request) -> HTMLResponse:
    if request.method == "GET":
        day = c.day(c.DayIn())
        return _render(request, "plan.html", **_plan_context(
            day=day, figures=[{"id": "fig-day", **_plots.timeline(
                day["steps"], "The maintenance visit")}]))
    form = _form_dict(await request.form())
    out, errors = await _run(c.PlanIn, _plan_data(form), c.plan)
    return _render(request, "plan.html", 422 if errors else 200,
                   **_plan_context(plan=out, errors=errors, form=form))


@router.post("/plan/calendar.ics")
async def plan_ics(request: Request) -> Response:
    form = _form_dict(await request.form())
    out, errors = await _run(c.PlanIn, _plan_data(form), c.plan_ics)
    if errors:
        return _render(request, "plan.html", 422, **_plan_context(errors=errors, form=form))
    return Response(out, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ocrelizumab.ics"'})


@router.post("/plan/day", response_class=HTMLResponse)
async def plan_day(request: Request) -> HTMLResponse:
    form = _form_dict(await request.form())
    out, errors = await _run(c.DayIn, form, c.day)
    figures = ([{"id": "fig-day", **_plots.timeline(out["steps"], f"The {out['visit']} visit")}]
               if out else [])
    return _render(request, "plan.html", 422 if errors else 200,
                   **_plan_context(day=out, errors=errors, form=form, figures=figures))


@router.post("/plan/clinic", response_class=HTMLResponse)
async def plan_clinic(request: Request) -> HTMLResponse:
    form = _form_dict(await request.form())
    result, errors = await _run(c.ClinicIn, form, c.clinic)
    out, figures = None, []
    if result is not None:
        out, figure = result
        figures = _plots.report_figure(figure.data, figure.layout)
    return _render(request, "plan.html", 422 if errors else 200,
                   **_plan_context(clinic=out, errors=errors, form=form, figures=figures))


# ------------------------------------------------------------------ trials and forecast


@router.api_route("/trials", methods=["GET", "POST"], response_class=HTMLResponse)
async def trials(request: Request) -> HTMLResponse:
    out: Any = None
    errors: list[dict[str, str]] = []
    figures: list[dict[str, Any]] = []
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = _form_dict(await request.form())
        result, errors = await _run(c.TrialIn, form, c.trial)
        if result is not None:
            out, report = result
            for fig in report.figures.values():
                figures += _plots.report_figure(fig.data, fig.layout)
    return _render(request, "trials.html", 422 if errors else 200, title="Trials", out=out,
                   errors=errors, figures=figures, form=form, presets=c.TRIAL_PRESETS,
                   max_replicates=c.MAX_REPLICATES, max_bank=c.MAX_BANK)


def _example_records() -> str:
    """The package's example records (two simulated patients)."""
    from importlib.resources import files

    return (files("ocrelisim") / "data" / "forecast_example.csv").read_text(encoding="utf-8")


async def _forecast_data(form: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The forecast request of the form: pasted text, an uploaded file or the example."""
    data = {k: v for k, v in _form_dict(form).items() if k in _fc.ForecastIn.model_fields}
    upload = form.get("file")
    if form.get("example"):
        data.update(records=_example_records(), format="csv")
    elif upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read()
        if raw:
            try:
                data["records"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return data, [{"field": "file", "message": "the file is not UTF-8 text; "
                                                           "upload a CSV, YAML or JSON file"}]
            suffix = Path(upload.filename).suffix.lower()
            data["format"] = {".csv": "csv", ".json": "json", ".yaml": "yaml",
                              ".yml": "yaml"}.get(suffix, data.get("format", "auto"))
    return data, []


@router.api_route("/forecast", methods=["GET", "POST"], response_class=HTMLResponse)
async def forecast(request: Request) -> HTMLResponse:
    patients: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    form: dict[str, Any] = {}
    if request.method == "POST":
        async with request.form() as raw:  # closes an uploaded file's temporary file
            form, errors = await _forecast_data(raw)
        if not errors:
            result, errors = await _run(_fc.ForecastIn, form, _fc.forecast)
            if result is not None:
                patients = [_fc.patient_view(fc, k) for k, fc in enumerate(result[1])]
    figures = [fig for p in patients for fig in p["figures"]]
    return _render(request, "forecast.html", 422 if errors else 200, title="Forecast",
                   patients=patients, errors=errors, figures=figures, form=form,
                   max_patients=_fc.MAX_PATIENTS)
