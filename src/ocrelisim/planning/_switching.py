"""Switching to ocrelizumab from another therapy: when to give the first dose, and the evidence.

One sourced row per prior therapy (dossier section 4.4 and the natalizumab gap data of section
8). A therapy that is not in the table is an error, never a guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import InvalidInputError
from ..regimens._calendar import add_months
from ..units import DAYS_PER_MONTH


@dataclass(frozen=True, slots=True)
class PriorTherapy:
    """How to switch from one therapy: the gap after its last dose and the evidence."""

    name: str
    aliases: tuple[str, ...]
    washout_months: int | None  # earliest first dose: last dose + this many calendar months
    washout_days: int | None  # or + this many days; both None: no fixed interval
    latest_days: int | None  # a gap longer than this carries more relapse risk (evidence)
    guidance: str
    evidence: tuple[str, ...]
    source: str

    def earliest(self, last_dose: dt.date) -> dt.date | None:
        """The first date the guidance allows, or None where it gives no interval."""
        if self.washout_months is not None:
            return add_months(last_dose, self.washout_months)
        if self.washout_days is not None:
            return last_dose + dt.timedelta(days=self.washout_days)
        return None

    def latest(self, last_dose: dt.date) -> dt.date | None:
        return None if self.latest_days is None else last_dose + dt.timedelta(
            days=self.latest_days)


_FIRST_LINE_EVIDENCE = ("a switch from a first-line therapy to a second-line one (ocrelizumab "
                        "included) needs no washout (French consensus) [S82]",)

PRIOR_THERAPIES: tuple[PriorTherapy, ...] = (
    PriorTherapy(
        "natalizumab", ("tysabri", "ntz"), 1, None, 44,
        "washout of 1 month (French consensus) [S82]; relapses rise with longer gaps [S54]",
        ("139 patients switched from natalizumab to anti-CD20, median gap 58 days: 1-year "
         "relapse 12.9% (2/3 during the gap) [S54]",
         "relapse 0% with a gap < 30 days, 11.1% at 30-44 days, 16.1% above 45 days "
         "(4.73-fold risk) [S54]",
         "direct switch: NEDA 83% vs 50% delayed, but 2 carry-over PML in the direct-switch "
         "group [S54]; carry-over PML began 18-92 days after the first ocrelizumab dose [S25b]"),
        "[S82][S54][S25b]"),
    PriorTherapy(
        "fingolimod", ("gilenya",), 1, None, 41,
        "washout of 1 month (French consensus) [S82]; relapses rise with longer washouts "
        "[S79][S80]",
        ("Italian register, fingolimod to a cell-depleting agent: median washout 11 weeks; "
         "relapse rate on the new therapy higher with washouts of 12-17 and >= 18 weeks than "
         "< 6 weeks [S79]",
         "after stopping fingolimod, annualised relapse rate in the next 12 months by months "
         "to a new therapy: 0-2: 0.38, 2-4: 0.53, 4-6: 0.71, 6-8: 0.80, 8-10: 0.84, "
         "10-12: 0.86 [S80]",
         "higher relapse or worsening risk than switches from other agents; no strong "
         "evidence that washout length predicts long-term efficacy [S81]"),
        "[S82][S79][S80][S81]"),
    PriorTherapy(
        "interferon-beta", ("interferon", "ifn", "interferon beta", "avonex", "rebif",
                            "betaferon", "plegridy"), None, 1, None,
        "start ocrelizumab immediately, after baseline screening and vaccine review [S83]",
        _FIRST_LINE_EVIDENCE, "[S83][S82]"),
    PriorTherapy(
        "glatiramer acetate", ("glatiramer", "copaxone"), None, 1, None,
        "start ocrelizumab immediately, after baseline screening and vaccine review [S83]",
        _FIRST_LINE_EVIDENCE, "[S83][S82]"),
    PriorTherapy(
        "dimethyl fumarate", ("dmf", "tecfidera"), None, 1, None,
        "no ocrelizumab-specific interval found; first-line therapy: no washout [S82]",
        _FIRST_LINE_EVIDENCE, "[S82]"),
    PriorTherapy(
        "teriflunomide", ("aubagio",), None, 1, None,
        "first-line therapy: no washout [S82]; teriflunomide stays in the blood for months "
        "unless eliminated [S84]",
        (*_FIRST_LINE_EVIDENCE,
         "without accelerated elimination ≈8 months (up to 2 years) to plasma < 0.02 mg/L; "
         "accelerated elimination: cholestyramine 8 g three times daily (4 g if not tolerated) "
         "or activated charcoal 50 g every 12 h for 11 days, confirmed by 2 tests 2 weeks apart "
         "[S84]"), "[S82][S84]"),
    PriorTherapy(
        "alemtuzumab", ("lemtrada",), None, None, None,
        "switch only if disease activity occurs; no fixed interval [S82]", (), "[S82]"),
    PriorTherapy(
        "cladribine", ("mavenclad",), None, None, None,
        "switch only if disease activity occurs; no fixed interval [S82]", (), "[S82]"),
)
"""The prior therapies the dossier gives switching guidance for (section 4.4)."""


def prior_therapy(name: str) -> PriorTherapy:
    """The table row for ``name`` (case, blanks, '-' and '_' do not matter); unknown: error."""
    key = " ".join(str(name).lower().replace("_", " ").replace("-", " ").split())
    for row in PRIOR_THERAPIES:
        names = (row.name, *row.aliases)
        if key in {n.replace("-", " ") for n in names}:
            return row
    known = ", ".join(r.name for r in PRIOR_THERAPIES)
    raise InvalidInputError(
        f"prior therapy = {name!r} is not one the plan has switching evidence for; use one of "
        f"{known} (or leave it out for a treatment-naive patient)")


def gap_risk(therapy: PriorTherapy, gap_days: int) -> str | None:
    """What the evidence says about a gap of ``gap_days`` after ``therapy``, or None."""
    if therapy.name == "natalizumab":  # [S54]
        if gap_days < 30:
            return f"gap {gap_days} days (< 30 days): 1-year relapse 0% in [S54]"
        if gap_days <= 44:
            return f"gap {gap_days} days (30-44 days): 1-year relapse 11.1% in [S54]"
        return (f"gap {gap_days} days (> 45 days): 1-year relapse 16.1%, 4.73-fold risk "
                f"in [S54]")
    if therapy.name == "fingolimod":  # [S80]: ARR in the 12 months after stopping
        months = gap_days / DAYS_PER_MONTH
        bands = ((2, 0.38), (4, 0.53), (6, 0.71), (8, 0.80), (10, 0.84), (12, 0.86))
        for upper, arr in bands:
            if months <= upper:
                return (f"gap {gap_days} days ({months:.1f} months): annualised relapse rate "
                        f"{arr:.2f} in the year after stopping fingolimod [S80]")
        return f"gap {gap_days} days (> 12 months): beyond the ranges reported in [S80]"
    return None
