"""Command line: ``ocrelisim demo``, ``simulate``, ``regimen``, ``immune``, ``trial``, ``power``,
``safety``, ``plan``, ``forecast``, ``serve``.

A leaf: it parses arguments, calls the public API and prints. Any :class:`OcrelisimError`
becomes one red line on stderr and exit status 2; any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..parameters import IV_CONCENTRATION
from ..regimens import PRESETS, IVInfusion, Regimen
from ..units import DAYS_PER_WEEK, HOURS_PER_DAY, MINUTES_PER_DAY
from ..workflows import DEMO_DAYS, DEMO_SEED
from ._console import stderr as _stderr
from ._console import stdout as _stdout
from ._console import user_errors as _user_errors

if TYPE_CHECKING:
    import pandas as pd

    from ..population import Population
    from ..reports import Report

ENGINE_LOGGER = "ocrelisim.engine"
"""Logger the engine tells compilation through (records with ``event`` compile_start/_end)."""

app = typer.Typer(
    name="ocrelisim",
    help=f"Simulate ocrelizumab therapy for multiple sclerosis. {DISCLAIMER}",
    epilog=DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _CompileNotice(logging.Handler):
    """One line on stderr when the engine starts compiling, and its elapsed time when done.

    Prints through a console on the current stderr, so that under a progress bar (which
    redirects stderr) the line shows above the bar.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None)
        if event == "compile_start":
            text = f"{record.getMessage()} ..."
        elif event == "compile_end":
            elapsed = getattr(record, "elapsed_s", math.nan)
            model = getattr(record, "model", None)
            text = f"compiled the engine{f' (model {model!r})' if model else ''} in " \
                   f"{elapsed:.1f} s"
        else:
            return
        _stderr().print(text, style="cyan", markup=False, soft_wrap=True)


_COMPILE_NOTICE = _CompileNotice()


def _show_compile_notices() -> None:
    """Print the engine's compile notices during any command (sub-apps too); idempotent."""
    logger = logging.getLogger(ENGINE_LOGGER)
    if _COMPILE_NOTICE not in logger.handlers:
        logger.addHandler(_COMPILE_NOTICE)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


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


def _callback(bar: Progress, task: TaskID, offset: int) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.update(task, completed=offset + done)
    return update


def _stages(bar: Progress, task: TaskID) -> Callable[[str, int, int], None]:
    """A workflow's ``progress(stage, done, total)`` drawn on ``bar``."""
    def update(stage: str, done: int, total: int) -> None:
        bar.update(task, description=stage, completed=done, total=total)
    return update


def _run_workflow(title: str, run: Callable[[Callable[[str, int, int], None]], Report]
                  ) -> Report:
    """Run a workflow under a transient progress bar on stderr."""
    with _progress(_stderr()) as bar:
        task = bar.add_task(title, total=None)
        return run(_stages(bar, task))


def _print_exposure(console: Console, table: pd.DataFrame, title: str) -> None:
    from ..reports import format_exposure_table

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


def _run_demo(out: Path, n: int, seed: int, days: float, disease: str) -> None:
    from .. import workflows
    from ..reports import write

    console = _stdout()
    _check_period(days, 1.0)
    report = _run_workflow("simulating", lambda progress: workflows.demo(
        n=n, seed=seed, days=days, disease=disease, progress=progress))
    paths = write(report, out, html_name="summary.html")
    console.print(f"ocrelisim demo: {n} simulated {disease} patients "
                  f"(seed {seed}), {days:g} days. {DISCLAIMER}", soft_wrap=True)
    _print_table(console, report.tables["Exposure per dosing cycle"],
                 "Exposure per dosing cycle, median (5-95%) across patients")
    _print_table(console, report.tables["B-cell repletion after the last dose"],
                 f"B-cell repletion after the last dose (no dose after day {days:g})")
    _print_written(console, paths)


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
    from ..io import read_table
    from ..population import Population

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
    from ..io import table_format, write_table
    from ..reports import cycle_intervals, exposure_table
    from ..simulate import simulate
    from ..workflows import covering_doses, load_regimens, time_grid

    console, err = _stdout(), _stderr()
    _check_period(days, step)
    table_format(out)  # fail on a bad suffix before simulating
    regimens, _ids, covariates = load_regimens(regimen_spec, covering_doses(days))
    population, origin = _population(population_file, n, disease, seed, len(regimens),
                                     covariates)
    single = len(regimens) == 1
    times = time_grid(days, step)
    intervals = None
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
    from ..workflows import load_regimens

    console = _stdout()
    regimens, ids, _cov = load_regimens(spec, maintenance_doses)
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
    from .. import workflows
    from ..reports import write

    console = _stdout()
    if not (math.isfinite(years) and years > 0):
        raise InvalidInputError(f"--years = {years!r}; give a finite number of years > 0")
    report = _run_workflow("simulating immune model", lambda progress: workflows.immune(
        regimen_spec, n=n, disease=disease, seed=seed, years=years, progress=progress))
    paths = write(report, out, html_name="summary.html")
    console.print(f"ocrelisim immune: {report.inputs['regimen']}; {n} {disease} patients (seed "
                  f"{seed}), {years:g} years. {DISCLAIMER}", soft_wrap=True)
    table = report.tables["Immune variables, median (5-95%)"]
    _print_table(console, table.drop(columns=["Evidence"]),
                 "Immune variables, median (5-95%) across patients (evidence: see the CSV)")
    _print_written(console, paths)


@app.command("immune",
             help=f"B cells (weeks), T-cell and cytokine indices (months) and immunoglobulins "
                  f"(years) for one regimen: a figure with percentile bands, a table and an "
                  f"HTML summary; then the B-cell return after stopping (the regimen's "
                  f"first-year doses, then none): shares above 10-80 cells/uL at 3-24 months "
                  f"and weeks to repletion. {DISCLAIMER}")
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
    import pandas as pd

    from .. import workflows
    from ..reports import write

    console = _stdout()
    design = workflows.load_design(spec)
    _check_counts(replicates=replicates, bank_size=bank_size, workers=workers)
    console.print(f"ocrelisim trial: {design.name}, {replicates} replicates (seed {seed}) "
                  f"{_scheduler_note(scheduler, workers)}. {DISCLAIMER}", soft_wrap=True)
    report = _run_workflow("replicate trials", lambda progress: workflows.trial(
        design, replicates=replicates, seed=seed, scheduler=scheduler, workers=workers,
        bank_size=bank_size, progress=progress))
    paths = write(report, out, html_name="report.html")
    est, pw = report.tables["Effect estimates vs published"], report.tables["Power"]
    compact = pd.DataFrame({
        "Endpoint": est["Endpoint"], "Model": est["Ratio, model (2.5-97.5%)"],
        "Published": est["Ratio, published (95% CI)"], "Power": pw["Power"]})
    if "Comparison" in est:
        compact.insert(1, "Comparison", est["Comparison"])
    _print_table(console, compact, "Ocrelizumab vs control: ratio (model median, 2.5-97.5% "
                                   "of replicates; published 95% CI) and power")
    _print_written(console, paths)


@app.command("trial",
             help=f"Replicate a virtual trial (opera, opera1, opera2, oratorio, oratorio-hand or "
                  f"a design YAML file) and write an HTML report: design, effect estimates vs "
                  f"published values, Kaplan-Meier curves, relapse rates, power. {DISCLAIMER}")
def trial_cmd(
    design: Annotated[str, typer.Argument(
        help="Preset (opera, opera1, opera2, oratorio, oratorio-hand) or a design YAML file.")],
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
    from .. import workflows
    from ..reports import write

    console = _stdout()
    design = workflows.load_design(spec)
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
    report = _run_workflow("replicate trials", lambda progress: workflows.power(
        design, sizes=sizes, replicates=replicates, seed=seed, target=target,
        scheduler=scheduler, workers=workers, progress=progress))
    paths = write(report, out, html_name="power.html")
    _print_table(console, report.tables["Power"], "Power (Wilson 95% interval)")
    _print_table(console, report.tables["Sample size"], "Sample size")
    _print_written(console, paths)


@app.command("power",
             help=f"Power and sample size by simulation: replicate a trial design at several "
                  f"total sizes and write power curves. {DISCLAIMER}")
def power_cmd(
    design: Annotated[str, typer.Argument(
        help="Preset (opera, opera1, opera2, oratorio, oratorio-hand) or a design YAML file.")],
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
    _show_compile_notices()


def main() -> None:
    """Console entry point (``ocrelisim``)."""
    app()


from .plan_cli import plan_app  # noqa: E402  (sub-app registered last, issue 14)

app.add_typer(plan_app, name="plan")

from .safety_cli import app as safety_app  # noqa: E402  (sub-app registered last, issue 13)

app.add_typer(safety_app, name="safety")

from .serve_cli import SERVE_HELP, serve_cmd  # noqa: E402  (registered last, issue 16)

app.command("serve", help=SERVE_HELP, epilog=DISCLAIMER)(serve_cmd)

from .forecast_cli import FORECAST_HELP, forecast_cmd  # noqa: E402  (registered last, issue 15)

app.command("forecast", help=FORECAST_HELP, epilog=DISCLAIMER)(forecast_cmd)
