"""Treatment planning: a patient's calendar, the infusion day, the clinic's chairs (issue 14).

>>> import datetime as dt
>>> from ocrelisim import planning
>>> plan = planning.plan_patient(dt.date(2025, 3, 3), "iv", tz="Europe/Berlin")
>>> [d.date.isoformat() for d in plan.doses][:3]
['2025-03-03', '2025-03-17', '2025-09-03']
>>> planning.infusion_day("short").infusion_minutes
120.0

Source keys (``[S3]`` ...) refer to ``shared/reference/ocrelizumab-facts.md``. Domain code:
returns data, prints nothing.
"""

from ._clinic import ClinicOptions as ClinicOptions
from ._clinic import Phases as Phases
from ._clinic import Request as Request
from ._clinic import Schedule as Schedule
from ._clinic import first_come as first_come
from ._clinic import parse_mix as parse_mix
from ._clinic import phases as phases
from ._clinic import plan_objective as plan_objective
from ._clinic import requests_for as requests_for
from ._clinic import schedule_violations as schedule_violations
from ._cpsat import explain_unfit as explain_unfit
from ._cpsat import optimise as optimise
from ._day import VISIT_KINDS as VISIT_KINDS
from ._day import DayOptions as DayOptions
from ._day import InfusionDay as InfusionDay
from ._day import Reaction as Reaction
from ._day import ReactionSampler as ReactionSampler
from ._day import Step as Step
from ._day import chair_time_summary as chair_time_summary
from ._day import chair_times as chair_times
from ._day import infusion_day as infusion_day
from ._day import rate_steps as rate_steps
from ._des import ClinicComparison as ClinicComparison
from ._des import DayLog as DayLog
from ._des import Draw as Draw
from ._des import compare_schedules as compare_schedules
from ._des import draws_for as draws_for
from ._des import scenarios as scenarios
from ._des import sim_objective as sim_objective
from ._des import simulate_day as simulate_day
from ._export import parse_history as parse_history
from ._export import read_history as read_history
from ._export import to_csv as to_csv
from ._export import to_ics as to_ics
from ._patient import Finding as Finding
from ._patient import PastDose as PastDose
from ._patient import PatientPlan as PatientPlan
from ._patient import PlanOptions as PlanOptions
from ._patient import SwitchPlan as SwitchPlan
from ._patient import Visit as Visit
from ._patient import plan_patient as plan_patient
from ._reactions import safety_sampler as safety_sampler
from ._switching import PRIOR_THERAPIES as PRIOR_THERAPIES
from ._switching import PriorTherapy as PriorTherapy
from ._switching import prior_therapy as prior_therapy

__all__ = [
    "PRIOR_THERAPIES",
    "VISIT_KINDS",
    "ClinicComparison",
    "ClinicOptions",
    "DayLog",
    "DayOptions",
    "Draw",
    "Finding",
    "InfusionDay",
    "PastDose",
    "PatientPlan",
    "Phases",
    "PlanOptions",
    "PriorTherapy",
    "Reaction",
    "ReactionSampler",
    "Request",
    "Schedule",
    "Step",
    "SwitchPlan",
    "Visit",
    "chair_time_summary",
    "chair_times",
    "compare_schedules",
    "draws_for",
    "explain_unfit",
    "first_come",
    "infusion_day",
    "optimise",
    "parse_history",
    "parse_mix",
    "phases",
    "plan_objective",
    "plan_patient",
    "prior_therapy",
    "rate_steps",
    "read_history",
    "requests_for",
    "safety_sampler",
    "scenarios",
    "schedule_violations",
    "sim_objective",
    "simulate_day",
    "to_csv",
    "to_ics",
]
