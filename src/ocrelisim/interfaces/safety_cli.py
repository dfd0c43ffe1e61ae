"""``ocrelisim safety check PATIENT_FILE``: the pre-dose check in plain language for a nurse.

A thin layer over :func:`ocrelisim.safety.check`. Exit status: 0 dose, 3 delay, 4 do not dose,
5 cannot decide, 2 bad input (one line naming the field, no traceback).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from .._meta import DISCLAIMER
from ..errors import OcrelisimError
from ..safety import SYMPTOM_CODES, CheckResult, check, load_record
from ..safety.check import Advice

EXIT_CODES = {"dose": 0, "delay": 3, "do not dose": 4, "cannot decide": 5}
"""Exit status per decision; bad input exits with 2."""
BAD_INPUT = 2
_STYLE = {"dose": "bold green", "delay": "bold yellow", "do not dose": "bold red",
          "cannot decide": "bold magenta"}
_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}

app = typer.Typer(
    name="safety",
    help=f"Safety: the pre-dose check for one patient record. {DISCLAIMER}",
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
    try:
        result = check(load_record(patient_file), label=label.strip().upper())
    except OcrelisimError as exc:
        message = " ".join(str(exc).split())
        Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"),
                                                    soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    if json_output:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print(result, Console(highlight=False, soft_wrap=True))
    raise typer.Exit(EXIT_CODES[result.decision])
