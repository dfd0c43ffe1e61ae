"""Command line: ``ocrelisim demo``, ``simulate``, ``regimen``, ``immune``, ``trial``, ``power``.

A leaf: it parses arguments, calls the public API and prints. Any :class:`OcrelisimError`
becomes one red line on stderr and exit status 2; any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import trials
from .._meta import DISCLAIMER
from .._types import Float1D, Float2D
from ..errors import InvalidInputError, OcrelisimError
from ..immune_report import immune_table, plot_bcells, plot_immune, repletion_table
from ..io import read_table, table_format, write_table
from ..parameters import IMMUNE, IV_CONCENTRATION, MAINTENANCE_INTERVAL
from ..population import Population
from ..regimens import PRESETS, IVInfusion, Regimen, read_nonmem
from ..report import (
    cycle_intervals,
    exposure_table,
    format_exposure_table,
    plot_concentration,
    write_html_summary,
)
from ..results import SimulationResult
from ..simulate import simulate
from ..trials import TrialDesign
from ..units import DAYS_PER_WEEK, HOURS_PER_DAY, MINUTES_PER_DAY

DEMO_REGIMENS = ("iv", "sc", "iv-short")
"""Presets compared by ``ocrelisim demo``: label IV, SC (Zunovo), shorter IV infusion."""
DEMO_SEED = 20240601
DEMO_DAYS = 730.0  # two years, day
FOLLOW_UP_DAYS = 200 * 7.0  # B-cell follow-up after the last dose of the demo, day

app = typer.Typer(
    name="ocrelisim",
    help=f"Simulate ocrelizumab therapy for multiple sclerosis. {DISCLAIMER}",
    epilog=DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _stdout() -> Console:
    # Built per command so that the terminal (or a test runner's capture) is the current one.
    return Console(highlight=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn an OcrelisimError into one red line on stderr and exit status 2."""
    try:
        yield
    except OcrelisimError as exc:
        message = " ".join(str(exc).split())
        _stderr().print(f"error: {message}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _progress(console: Console) -> Progress:
    """A transient progress bar on stderr, shown only on an interactive terminal."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True,
                    disable=not console.is_terminal)


def _check_period(days: float, step: float) -> None:
    """Check --days and --step before anything is loaded or simulated."""
    if not (math.isfinite(days) and days > 0):
        raise InvalidInputError(f"--days = {days!r}; give a finite number of days > 0")
    if not (math.isfinite(step) and 0 < step <= days):
        raise InvalidInputError(f"--step = {step!r} day; give a step > 0 and <= --days")


def _time_grid(days: float, step: float, extra: Sequence[float] = ()) -> Float1D:
    """Output times 0, step, ..., days (day), plus ``extra`` times inside (0, days)."""
    _check_period(days, step)
    n = math.floor(days / step + 1e-9)
    grid = step * np.arange(n + 1, dtype=np.float64)
    grid = grid[grid < days * (1.0 - 1e-12)]  # ``days`` itself is appended exactly below
    more = np.asarray([t for t in extra if 0.0 < t < days], dtype=np.float64)
    out: Float1D = np.unique(np.concatenate([grid, more, [days]]))
    return out


def _covering_doses(days: float) -> int:
    """Maintenance doses of a preset that start before ``days`` (24-weekly after day 0)."""
    return max(0, math.ceil(days / MAINTENANCE_INTERVAL.value) - 1)


def _is_table(spec: str) -> bool:
    return spec.lower().endswith((".csv", ".csv.gz", ".parquet"))


def _load_regimens(spec: str, maintenance_doses: int
                   ) -> tuple[tuple[Regimen, ...], tuple[object, ...], pd.DataFrame | None]:
    """Regimens, their subject IDs and covariates (NONMEM files) from a preset, text or file.

    A preset name or regimen text gives one regimen (ID ``None``); a NONMEM table file gives
    one regimen per ID and the covariates carried in the records.
    """
    if _is_table(spec):
        data = read_nonmem(read_table(spec))
        return data.regimens, data.ids, data.covariates
    if spec in PRESETS:
        return (Regimen.preset(spec, maintenance_doses=maintenance_doses),), (None,), None
    return (Regimen.parse(spec),), (None,), None


def _dose_ends(regimen: Regimen) -> list[float]:
    return [d.end for d in regimen]


def _callback(bar: Progress, task: TaskID, offset: int) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.update(task, completed=offset + done)
    return update


def _print_exposure(console: Console, table: pd.DataFrame, title: str) -> None:
    _print_table(console, format_exposure_table(table), title)


def _print_written(console: Console, paths: Sequence[Path]) -> None:
    for path in paths:
        console.print(f"wrote {path}", soft_wrap=True)


def _print_table(console: Console, table: pd.DataFrame, title: str) -> None:
    out = Table(title=title, title_justify="left")
    for col in table.columns:
        out.add_column(str(col), justify="left" if col in ("Regimen", "Variable", "Evidence")
                       else "right")
    for row in table.itertuples(index=False):
        out.add_row(*map(str, row))
    console.print(out)


def _demo_bcells(regimens: dict[str, Regimen], population: Population, days: float,
                 bar: Progress, task: TaskID) -> tuple[dict[str, SimulationResult],
                                                       dict[str, float]]:
    """B cells for each demo regimen: doses up to ``days``, then follow-up without doses."""
    bcells: dict[str, SimulationResult] = {}
    last: dict[str, float] = {}
    times = np.arange(0.0, days + FOLLOW_UP_DAYS + 1.0, 1.0)
    for name, regimen in regimens.items():
        given = Regimen(tuple(d for d in regimen if d.time <= days))
        last[name] = max(d.time for d in given)
        bar.update(task, description=f"B cells {name}")
        bcells[name] = simulate(given, population, times, model="immune", variables=["B"])
    return bcells, last


def _run_demo(out: Path, n: int, seed: int, days: float, disease: str) -> None:
    console, err = _stdout(), _stderr()
    _check_period(days, 1.0)
    population = Population.sample(n, disease=disease, seed=seed)
    regimens = {name: Regimen.preset(name, maintenance_doses=_covering_doses(days))
                for name in DEMO_REGIMENS}
    results: dict[str, SimulationResult] = {}
    with _progress(err) as bar:
        task = bar.add_task("simulating", total=len(regimens) * population.n)
        for k, (name, regimen) in enumerate(regimens.items()):
            bar.update(task, description=f"simulating {name}")
            results[name] = simulate(
                regimen, population, _time_grid(days, 1.0, _dose_ends(regimen)),
                intervals=cycle_intervals([d.time for d in regimen], days),
                progress=_callback(bar, task, k * population.n))
        bcells, last = _demo_bcells(regimens, population, days, bar, task)
    table = exposure_table(results)
    lln = IMMUNE.lln_b.value
    repletion = repletion_table(bcells, last, lln=lln)
    out.mkdir(parents=True, exist_ok=True)
    png = plot_concentration(results, out / "concentration.png",
                             title=f"Ocrelizumab concentration, {population.n} {disease} patients")
    png_b = plot_bcells(bcells, out / "bcells.png", lln=lln,
                        title=f"CD19+ B cells, {population.n} {disease} patients: dosing for "
                              f"{days:g} days, then none")
    csv = write_table(table, out / "exposure.csv")
    csv_b = write_table(repletion, out / "repletion.csv")
    notes = [f"Population: {population.n} simulated {disease} patients (seed {seed}); "
             f"{days:g} days.",
             *(f"{name}: {PRESETS[name]}. Doses: {regimens[name]}" for name in regimens),
             "Exposure per dosing cycle (cycle k from dose k to dose k+1, the last to the end "
             "of the period): median (5th-95th percentile) across patients. AUC in mg·day/L, "
             "Cmax and trough (concentration at the cycle end) in mg/L."]
    notes.append("B cells: ocrelisim's immune model (calibrated to published depletion and "
                 "repletion figures; see the parameter sources). Repletion: back to baseline or "
                 f"to the LLN ({lln:g} cells/uL, an assumption), whichever first, counted from "
                 f"the last dose, with no dose after day {days:g}.")
    html = write_html_summary(out / "summary.html",
                              {"Exposure per dosing cycle": format_exposure_table(table),
                               "B-cell repletion after the last dose": repletion},
                              [png, png_b],
                              title="ocrelisim demo: IV vs SC vs shorter IV infusion",
                              notes=notes)
    console.print(f"ocrelisim demo: {population.n} simulated {disease} patients "
                  f"(seed {seed}), {days:g} days. {DISCLAIMER}", soft_wrap=True)
    _print_exposure(console, table,
                    "Exposure per dosing cycle, median (5-95%) across patients")
    _print_table(console, repletion,
                 f"B-cell repletion after the last dose (no dose after day {days:g})")
    _print_written(console, (png, png_b, csv, csv_b, html))


@app.command(help=f"Compare label IV, SC and shorter-infusion IV dosing on a default population "
                  f"and write a plot, an exposure table and an HTML summary. {DISCLAIMER}")
def demo(
    out: Annotated[Path, typer.Option(help="Output directory (created if missing).")] = Path(
        "ocrelisim-demo"),
    n: Annotated[int, typer.Option(help="Number of simulated patients.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the simulated population.")] = DEMO_SEED,
    days: Annotated[float, typer.Option(help="Simulated period, days.")] = DEMO_DAYS,
    disease: Annotated[str, typer.Option(help="RMS or PPMS.")] = "RMS",
) -> None:
    with _user_errors():
        _run_demo(out, n, seed, days, disease)


def _population(path: Path | None, n: int | None, disease: str, seed: int | None,
                n_regimens: int, covariates: pd.DataFrame | None) -> tuple[Population, str]:
    """The simulated population and a line describing where it came from."""
    if path is not None:
        df = read_table(path)
        if "CLINF" in df.columns:
            return Population.from_parameters(df), f"individual parameters from {path}"
        return Population.from_covariates(df, seed=seed), f"covariates from {path}"
    if n_regimens > 1:
        if n is not None and n != n_regimens:
            raise InvalidInputError(
                f"--n = {n} but the dosing records hold {n_regimens} subjects; drop --n or "
                f"give a population file with one row per subject")
        if covariates is not None and "WT" in covariates.columns:
            return (Population.from_covariates(covariates, seed=seed),
                    "covariates from the dosing records")
        n = n_regimens
    size = 100 if n is None else n
    pop = Population.sample(size, disease=disease, seed=seed)
    return pop, f"{size} sampled {disease} patients (seed {pop.seed})"


def _run_simulate(regimen_spec: str, n: int | None, population_file: Path | None, disease: str,
                  seed: int | None, days: float, step: float, out: Path) -> None:
    console, err = _stdout(), _stderr()
    _check_period(days, step)
    table_format(out)  # fail on a bad suffix before simulating
    regimens, _ids, covariates = _load_regimens(regimen_spec, _covering_doses(days))
    population, origin = _population(population_file, n, disease, seed, len(regimens),
                                     covariates)
    single = len(regimens) == 1
    times = _time_grid(days, step)
    intervals: Float2D | None = None
    if single:
        intervals = cycle_intervals([d.time for d in regimens[0]], days)
    with _progress(err) as bar:
        task = bar.add_task("simulating", total=population.n)
        result = simulate(regimens[0] if single else regimens, population, times,
                          intervals=intervals, progress=_callback(bar, task, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    written = write_table(result.to_pandas(), out)
    what = str(regimens[0]) if single else f"{len(regimens)} regimens from {regimen_spec}"
    console.print(f"regimen: {what}", soft_wrap=True)
    console.print(f"population: {origin}", soft_wrap=True)
    label = regimen_spec if single and regimen_spec in PRESETS else "regimen"
    _print_exposure(console, exposure_table({label: result}),
                    "Exposure, median (5-95%) across patients")
    console.print(f"wrote {written} ({result.n_subjects} subjects x {result.times.size} times)",
                  soft_wrap=True)
    console.print(DISCLAIMER)


@app.command("simulate",
             help=f"Simulate concentrations for a regimen and population and write them to a "
                  f"Parquet or CSV file (long: ID, TIME, C in mg/L). {DISCLAIMER}")
def simulate_cmd(  # named so as not to shadow simulate()
    regimen: Annotated[str, typer.Option(
        "--regimen", "-r",
        help=f"Preset ({', '.join(PRESETS)}), regimen text such as '300 mg IV d0, d14; 600 mg "
             f"IV q24w x4 from d168', or a NONMEM dosing file (.csv/.parquet).")],
    n: Annotated[int | None, typer.Option(
        "--n", help="Number of sampled patients (default 100).")] = None,
    population: Annotated[Path | None, typer.Option(
        help="Population file (.csv/.parquet): covariates (WT, ...) or individual parameters "
             "(CLINF, CLT, KDES, V1, V2, Q).")] = None,
    disease: Annotated[str, typer.Option(help="RMS or PPMS (sampled populations).")] = "RMS",
    seed: Annotated[int | None, typer.Option(help="Seed of the random population.")] = None,
    days: Annotated[float, typer.Option(help="Simulated period, days.")] = DEMO_DAYS,
    step: Annotated[float, typer.Option(help="Output time step, days.")] = 1.0,
    out: Annotated[Path, typer.Option(
        help="Output file: .parquet, .csv or .csv.gz.")] = Path("ocrelisim-simulation.parquet"),
) -> None:
    with _user_errors():
        _run_simulate(regimen, n, population, disease, seed, days, step, out)


def _print_regimen(console: Console, regimen: Regimen, heading: str) -> None:
    console.print(f"{heading}{regimen}", soft_wrap=True)
    doses = Table(title="Doses", title_justify="left")
    for col in ("#", "Day", "Week", "Route", "Amount (mg)", "Kind", "Duration (h)", "End (day)"):
        doses.add_column(col, justify="left" if col in ("Route", "Kind") else "right")
    for i, d in enumerate(regimen):
        doses.add_row(str(i), f"{d.time:g}", f"{d.time / DAYS_PER_WEEK:g}", d.route,
                      f"{d.amount:g}", d.kind, f"{d.duration * HOURS_PER_DAY:.3g}",
                      f"{d.end:.6g}")
    console.print(doses)
    steps = Table(title="Infusion steps", title_justify="left")
    for col in ("#", "Step", "Start (min)", "Duration (min)", "Rate (mg/h)", "Rate (mL/h)",
                "Delivered (mg)"):
        steps.add_column(col, justify="right")
    for i, d in enumerate(regimen):
        if not isinstance(d, IVInfusion):
            continue
        start, given = 0.0, 0.0
        for k, (dur, rate) in enumerate(d.steps, start=1):
            given += dur * rate
            mg_h = rate / HOURS_PER_DAY
            steps.add_row(str(i), str(k), f"{start * MINUTES_PER_DAY:.4g}",
                          f"{dur * MINUTES_PER_DAY:.4g}", f"{mg_h:.4g}",
                          f"{mg_h / IV_CONCENTRATION.value:.4g}", f"{given:.4g}")
            start += dur
    if steps.row_count:
        console.print(steps)
    warnings = regimen.check()
    for w in warnings:
        console.print(f"warning: {w}", style="yellow", markup=False, soft_wrap=True)
    if not warnings:
        console.print("label rules: no violations found")


def _run_regimen(spec: str, maintenance_doses: int) -> None:
    console = _stdout()
    regimens, ids, _cov = _load_regimens(spec, maintenance_doses)
    for id_, reg in zip(ids, regimens, strict=True):
        if id_ is not None:
            heading = f"ID {id_}: "
        elif spec in PRESETS:
            heading = f"{spec} ({PRESETS[spec]}): "
        else:
            heading = "regimen: "
        _print_regimen(console, reg, heading)
    console.print(DISCLAIMER)


@app.command("regimen",
             help=f"Print the expanded dosing table, the infusion rate steps and label-rule "
                  f"warnings of a regimen (preset, text or NONMEM file). {DISCLAIMER}")
def regimen_cmd(
    regimen: Annotated[str, typer.Argument(
        help=f"Preset ({', '.join(PRESETS)}), regimen text, or a NONMEM file (.csv/.parquet).",
        show_default=False)],
    maintenance_doses: Annotated[int, typer.Option(
        help="Maintenance doses after the start, for presets.")] = 4,
) -> None:
    with _user_errors():
        _run_regimen(regimen, maintenance_doses)


def _run_immune(regimen_spec: str, n: int, disease: str, seed: int, years: float,
                out: Path) -> None:
    console, err = _stdout(), _stderr()
    days = years * 365.25
    _check_period(days, 1.0)
    regimens, _ids, _cov = _load_regimens(regimen_spec, _covering_doses(days))
    if len(regimens) != 1:
        raise InvalidInputError(
            "ocrelisim immune takes one regimen (a preset or text form); use the Python API "
            "for per-subject dosing records")
    regimen = regimens[0]
    population = Population.sample(n, disease=disease, seed=seed)
    times = np.unique(np.r_[np.arange(0.0, min(days, 365.0) + 1.0),
                            np.arange(365.0, days, 7.0), days])
    with _progress(err) as bar:
        task = bar.add_task("simulating immune model", total=population.n)
        result = simulate(regimen, population, times, model="immune",
                          progress=_callback(bar, task, 0))
    lln = IMMUNE.lln_b.value
    table = immune_table(result, [14.0, 182.0, 365.0, days])
    out.mkdir(parents=True, exist_ok=True)
    png = plot_immune(result, out / "immune.png", lln=lln,
                      title=f"Immune effects of {regimen_spec}, {disease}")
    csv = write_table(table, out / "immune-table.csv")
    html = write_html_summary(
        out / "summary.html", {"Immune variables, median (5-95%)": table}, [png],
        title="ocrelisim immune: B cells, T cells and cytokines, immunoglobulins",
        notes=[f"Regimen: {regimen}", f"Population: {population.n} simulated {disease} "
               f"patients (seed {seed}); {years:g} years.",
               "T-cell and cytokine indices: only directions and time points are published; "
               "the sizes of the changes and the delay are model assumptions (see Evidence)."])
    console.print(f"ocrelisim immune: {regimen}; {population.n} {disease} patients (seed "
                  f"{seed}), {years:g} years. {DISCLAIMER}", soft_wrap=True)
    _print_table(console, table.drop(columns=["Evidence"]),
                 "Immune variables, median (5-95%) across patients (evidence: see the CSV)")
    _print_written(console, (png, csv, html))


@app.command("immune",
             help=f"B cells (weeks), T-cell and cytokine indices (months) and immunoglobulins "
                  f"(years) for one regimen: a figure with percentile bands, a table and an "
                  f"HTML summary. {DISCLAIMER}")
def immune_cmd(
    regimen: Annotated[str, typer.Option(
        help="Preset (iv, iv-short, sc, iv-extended) or text form.")] = "iv",
    n: Annotated[int, typer.Option(help="Number of simulated patients.")] = 500,
    disease: Annotated[str, typer.Option(help="RMS or PPMS.")] = "RMS",
    seed: Annotated[int, typer.Option(help="Seed of the simulated population.")] = DEMO_SEED,
    years: Annotated[float, typer.Option(help="Simulated period, years.")] = 6.0,
    out: Annotated[Path, typer.Option(help="Output directory (created if missing).")] = Path(
        "ocrelisim-immune"),
) -> None:
    with _user_errors():
        _run_immune(regimen, n, disease, seed, years, out)


def _design(spec: str) -> TrialDesign:
    """A preset name or a YAML design file."""
    if spec.lower().endswith((".yaml", ".yml")) or Path(spec).is_file():
        return TrialDesign.from_yaml(spec)
    return trials.preset(spec)


def _check_counts(**counts: int | None) -> None:
    """Each given option (None: not set) must be a whole number >= 1."""
    for name, value in counts.items():
        if value is not None and value < 1:
            raise InvalidInputError(f"--{name.replace('_', '-')} = {value}; give a whole number "
                                    f">= 1")


def _scheduler_note(scheduler: str | None, workers: int | None) -> str:
    if scheduler:
        return f"on the Dask cluster at {scheduler}"
    return f"on {workers or 'all'} local worker process(es)"


def _run_trial(spec: str, replicates: int, seed: int, scheduler: str | None,
               workers: int | None, bank_size: int, out: Path) -> None:
    from ..trial_report import estimates_table, power_table, write_trial_report

    console, err = _stdout(), _stderr()
    design = _design(spec)
    _check_counts(replicates=replicates, bank_size=bank_size, workers=workers)
    console.print(f"ocrelisim trial: {design.name}, {replicates} replicates (seed {seed}) "
                  f"{_scheduler_note(scheduler, workers)}. {DISCLAIMER}", soft_wrap=True)
    with _progress(err) as bar:
        task = bar.add_task("replicate trials", total=replicates)
        result = trials.run_trial(design, replicates, seed, bank_size=bank_size, workers=workers,
                                  scheduler=scheduler, progress=_callback(bar, task, 0))
    paths = write_trial_report(result, out)
    est, pw = estimates_table(result), power_table(result)
    compact = pd.DataFrame({
        "Endpoint": est["Endpoint"], "Model": est["Ratio, model (2.5-97.5%)"],
        "Published": est["Ratio, published (95% CI)"], "Power": pw["Power"]})
    if "Comparison" in est:
        compact.insert(1, "Comparison", est["Comparison"])
    _print_table(console, compact, "Ocrelizumab vs control: ratio (model median, 2.5-97.5% "
                                   "of replicates; published 95% CI) and power")
    _print_written(console, paths)


@app.command("trial",
             help=f"Replicate a virtual trial (opera, opera1, opera2, oratorio or a design YAML "
                  f"file) and write an HTML report: design, effect estimates vs published values, "
                  f"Kaplan-Meier curves, relapse rates, power. {DISCLAIMER}")
def trial_cmd(
    design: Annotated[str, typer.Argument(
        help="Preset (opera, opera1, opera2, oratorio) or a design YAML file.")],
    replicates: Annotated[int, typer.Option(help="Number of replicate trials.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the bank and the replicates.")] = DEMO_SEED,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); default: local processes.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: CPU count).")] = None,
    bank_size: Annotated[int, typer.Option(
        help="Patients simulated with the immune model per ocrelizumab regimen.")] = 4000,
    out: Annotated[Path, typer.Option(help="Output directory (created if missing).")] = Path(
        "ocrelisim-trial"),
) -> None:
    with _user_errors():
        _run_trial(design, replicates, seed, scheduler, workers, bank_size, out)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise InvalidInputError(f"--sizes {text!r}: give whole numbers separated by commas, "
                                f"e.g. 200,400,800") from None
    if not sizes:
        raise InvalidInputError("--sizes is empty; give e.g. 200,400,800")
    return sizes


def _run_power(spec: str, sizes_text: str, replicates: int, seed: int, target: float,
               scheduler: str | None, workers: int | None, out: Path) -> None:
    from ..trial_report import plot_power_curve, schedule_text

    console, err = _stdout(), _stderr()
    design = _design(spec)
    sizes = _sizes(sizes_text)
    if not 0.0 < target < 1.0:
        raise InvalidInputError(f"--target = {target}; give a power in (0, 1)")
    _check_counts(replicates=replicates, workers=workers)
    for n in sizes:  # every size checked before any work starts
        if n < len(design.arms):
            raise InvalidInputError(f"sample size {n} in --sizes is below the number of arms "
                                    f"({len(design.arms)})")
        design.with_(n=n)
    console.print(f"ocrelisim power: {design.name}, sizes {sizes}, {replicates} replicates each "
                  f"(seed {seed}) {_scheduler_note(scheduler, workers)}. {DISCLAIMER}",
                  soft_wrap=True)
    with _progress(err) as bar:
        task = bar.add_task("replicate trials", total=replicates * len(sizes))
        curve = trials.power_curve(design, sizes, replicates, seed, workers=workers,
                                   scheduler=scheduler, progress=_callback(bar, task, 0))
    out.mkdir(parents=True, exist_ok=True)
    png = plot_power_curve(curve, out / "power.png", target=target,
                           title=f"{design.name}: power by sample size")
    csv = write_table(curve, out / "power.csv")
    needed = pd.DataFrame({
        "Endpoint": design.endpoints,
        f"Smallest size with power >= {target:g}": [
            _fmt_size(trials.sample_size(curve, e, target)) for e in design.endpoints]})
    shown = curve.assign(power=[f"{p:.3f} ({lo:.3f}-{hi:.3f})" for p, lo, hi in zip(
        curve["power"], curve["power_lower"], curve["power_upper"], strict=True)])
    shown = shown[["n", "endpoint", "arm", "control", "power"]]
    html = write_html_summary(out / "power.html", {"Sample size": needed, "Power": shown}, [png],
                              title=f"ocrelisim power: {design.name}",
                              notes=[schedule_text(design), f"{replicates} replicates per size, "
                                     f"seed {seed}; power with Wilson 95% intervals."])
    _print_table(console, shown, "Power (Wilson 95% interval)")
    _print_table(console, needed, "Sample size")
    _print_written(console, (png, csv, html))


def _fmt_size(n: float) -> str:
    return "not reached on this grid" if math.isnan(n) else f"{int(n)}"


@app.command("power",
             help=f"Power and sample size by simulation: replicate a trial design at several "
                  f"total sizes and write power curves. {DISCLAIMER}")
def power_cmd(
    design: Annotated[str, typer.Argument(
        help="Preset (opera, opera1, opera2, oratorio) or a design YAML file.")],
    sizes: Annotated[str, typer.Option(help="Total sizes, comma-separated.")] = "200,400,800",
    replicates: Annotated[int, typer.Option(help="Replicates per size.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed (shared by all sizes).")] = DEMO_SEED,
    target: Annotated[float, typer.Option(help="Target power for the sample size.")] = 0.8,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address; default: local processes.")] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes.")] = None,
    out: Annotated[Path, typer.Option(help="Output directory (created if missing).")] = Path(
        "ocrelisim-power"),
) -> None:
    with _user_errors():
        _run_power(design, sizes, replicates, seed, target, scheduler, workers, out)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        _stdout().print(f"ocrelisim {__version__}. {DISCLAIMER}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    pass


def main() -> None:
    """Console entry point (``ocrelisim``)."""
    app()


from .plan_cli import plan_app  # noqa: E402  (sub-app registered last, issue 14)

app.add_typer(plan_app, name="plan")
