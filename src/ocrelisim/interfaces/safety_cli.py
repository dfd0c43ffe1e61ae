"""``ocrelisim safety check PATIENT_FILE``: the pre-dose check in plain language for a nurse;
``ocrelisim safety simulate``: reactions per dose and infections in a simulated population.

Thin layers over :func:`ocrelisim.safety.check` and the safety workflow. ``check`` exits with
0 dose, 3 delay, 4 do not dose, 5 cannot decide; both exit with 2 on bad input (one line naming
the field, no traceback).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._meta import DISCLAIMER
from ..errors import InvalidInputError
from ..safety import SYMPTOM_CODES, CheckResult, check, load_record
from ..safety.check import Advice
from ..workflows import DEMO_SEED
from ._console import user_errors

if TYPE_CHECKING:
    from ..reports import Report

EXIT_CODES = {"dose": 0, "delay": 3, "do not dose": 4, "cannot decide": 5}
"""Exit status per decision; bad input exits with 2."""
_STYLE = {"dose": "bold green", "delay": "bold yellow", "do not dose": "bold red",
          "cannot decide": "bold magenta"}
_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}

app = typer.Typer(
    name="safety",
    help=f"Safety: the pre-dose check for one patient record (check); reactions per dose and "
         f"infections in a simulated population (simulate). {DISCLAIMER}",
    epilog=DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.callback()
def _safety() -> None:
    """Keeps ``safety`` a command group (``safety check ...``) even with one command."""


_CHECK_HELP = (
    "May we dose today? Reads PATIENT_FILE (YAML or JSON) and prints the decision (dose, "
    "delay, do not dose, cannot decide), the rules that fired with their sources, the checklist, "
    "premedication, warning signs, vaccination windows and contraception advice. It reports what "
    "the label rules and the sources give; it is not a treatment decision. "
    "Exit status: 0 dose, 3 delay, 4 do not dose, 5 cannot decide, 2 bad input. "
    f"Symptom codes: {', '.join(SYMPTOM_CODES)}. {DISCLAIMER}"
)


def _cited(text: str, sources: Iterable[str]) -> Text:
    return Text(f"{text} {''.join(sources)}")


def _section(console: Console, title: str, items: Iterable[Advice]) -> None:
    console.print(Text(title, style="bold"))
    for item in items:
        console.print(Text("  - ") + _cited(item.text, item.sources))


def _print(result: CheckResult, console: Console) -> None:
    console.print(Text(f"Pre-dose check, {result.check_date.isoformat()}, {result.label} label",
                       style="bold"))
    console.print(Text("Planned: ") + _cited(result.planned.text, result.planned.sources))
    console.print(Text(f"Decision: {result.decision.upper()}", style=_STYLE[result.decision]))
    console.print(Text(result.statement))
    console.print()
    if result.cards:
        console.print(Text("What the rules say", style="bold"))
        for card in result.cards:
            line = Text(f"  {card.severity.upper():<8} ", style=_SEVERITY_STYLE[card.severity])
            line.append(f"{card.summary} ({card.rule_id} {''.join(card.sources)})")
            console.print(line)
    else:
        console.print(Text("No rule asks to delay or stop this dose."))
    console.print()
    _section(console, "Before the dose", result.checklist)
    _section(console, "Premedication", result.premedication)
    _section(console, "Observation", [result.observation])
    _section(console, "If a reaction happens", result.reaction_management)
    _section(console, "Warning signs to explain to the patient",
             [result.irr_signs, result.pml_signs, result.infection_signs])
    _section(console, "Vaccination", result.vaccination)
    _section(console, "Contraception", [result.contraception])
    iv = result.interval
    console.print(Text("Dates", style="bold"))
    if iv.last_dose is not None:
        console.print(Text(f"  - Last dose: {iv.last_dose.isoformat()}"))
    if iv.earliest_allowed is not None:
        console.print(Text(f"  - Earliest allowed date for this dose (5 months): "
                           f"{iv.earliest_allowed.isoformat()} [S3][S4]"))
    if result.decision == "dose":  # the next date only means something if it is given today
        console.print(Text(f"  - If given today, next: {iv.next_due.isoformat()} "
                           f"({iv.next_due_text}) [S3][S4]"))
    fired = [t.rule_id for t in result.trace if t.fired]
    console.print(Text(f"Rules fired: {', '.join(fired) if fired else 'none'} "
                       f"(of {len(result.trace)}; --json shows why each fired or not)"))
    for key, ref in result.sources.items():  # the full references are in --json
        console.print(Text(f"{key} {ref.split()[-1]}", style="dim"))
    console.print(Text(DISCLAIMER, style="bold"))


@app.command("check", help=_CHECK_HELP, epilog=DISCLAIMER)
def check_cmd(
    patient_file: Annotated[Path, typer.Argument(help="Patient record, YAML or JSON.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    label: Annotated[str, typer.Option(help="Label rules to apply: US or EU.")] = "US",
) -> None:
    with user_errors():
        result = check(load_record(patient_file), label=label.strip().upper())
    if json_output:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print(result, Console(highlight=False, soft_wrap=True))
    raise typer.Exit(EXIT_CODES[result.decision])


def _simulate_json(report: Report) -> str:
    """The issue-13 JSON: per dose number and the population rates (shares as fractions)."""
    infusions = report.data["infusions"]
    summary = report.data["summary"].iloc[0]
    return json.dumps({
        "infusions": [{"number": int(number), "dose_mg": float(dose),
                       "share_with_irr": float(irr), "share_serious": float(serious)}
                      for number, dose, irr, serious in zip(
                          infusions["number"].to_numpy(), infusions["dose_mg"].to_numpy(),
                          infusions["share_with_irr"].to_numpy(),
                          infusions["share_serious"].to_numpy(), strict=True)],
        "patients_with_irr": float(summary["patients_with_irr"]),
        "irr_per_100py": float(summary["irr_per_100py"]),
        "serious_infections_per_100py": float(summary["serious_infections_per_100py"]),
        "disclaimer": DISCLAIMER,
    }, indent=2)


def _print_tables(report: Report, console: Console) -> None:
    for title, table in report.tables.items():
        out = Table(title=title, title_justify="left")
        for col in table.columns:
            out.add_column(str(col))
        for row in table.itertuples(index=False):
            out.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
        console.print(out)


@app.command("simulate", epilog=DISCLAIMER, help=(
    "Reactions per dose (IV infusion-related reactions, SC injection reactions) and serious "
    "infections per 100 patient-years (IgG from the immune model) in a simulated population. "
    f"Writes tables, a figure and summary.html to --out. {DISCLAIMER}"))
def simulate_cmd(
    regimen: Annotated[str, typer.Option(
        help="Preset (iv, iv-short, sc) or text form with label doses.")] = "iv",
    n: Annotated[int, typer.Option(help="Number of simulated patients.")] = 1000,
    years: Annotated[float, typer.Option(help="Simulated period, years.")] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the population and draws.")] = DEMO_SEED,
    disease: Annotated[str, typer.Option(help="RMS or PPMS.")] = "RMS",
    json_output: Annotated[bool, typer.Option(
        "--json", help="Print the rates as JSON (files only with --out).")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Output directory (default ocrelisim-safety; with --json none).")] = None,
) -> None:
    from ..reports import write
    from ..workflows._safety import safety

    with user_errors():
        if n < 1:
            raise InvalidInputError(f"--n = {n}; give a whole number >= 1")
        if not (math.isfinite(years) and years > 0):
            raise InvalidInputError(f"--years = {years!r}; give a finite number of years > 0")
        report = safety(regimen, n=n, years=years, disease=disease.upper(), seed=seed)
        target = out if out is not None else (None if json_output else Path("ocrelisim-safety"))
        paths = write(report, target, html_name="summary.html") if target else []
    if json_output:
        typer.echo(_simulate_json(report))
        return
    console = Console(highlight=False, soft_wrap=True)
    _print_tables(report, console)
    for path in paths:
        console.print(Text(f"wrote {path}"))
    console.print(Text(DISCLAIMER, style="bold"))
