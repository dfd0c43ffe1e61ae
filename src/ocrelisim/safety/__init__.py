"""Safety: infusion and injection reactions, infections, and the pre-dose check (issue 13).

The pre-dose check (:func:`check`) answers for one patient record "may we dose today, and what
must be checked or watched?" under the US or EU label, with every answer traced to its rule
(``rules.yaml``) and source. It reports what the label rules and sources give; it is not a
treatment decision. For research and education only; not clinical advice.
"""

from .check import SYMPTOM_CODES as SYMPTOM_CODES
from .check import Advice as Advice
from .check import Card as Card
from .check import CheckResult as CheckResult
from .check import Interval as Interval
from .check import TraceEntry as TraceEntry
from .check import check as check
from .check import rule_ids as rule_ids
from .record import PatientRecord as PatientRecord
from .record import load_record as load_record
from .record import parse_record as parse_record
from .rules import Rule as Rule
from .rules import rules as rules

__all__ = [
    "SYMPTOM_CODES",
    "Advice",
    "Card",
    "CheckResult",
    "Interval",
    "PatientRecord",
    "Rule",
    "TraceEntry",
    "check",
    "load_record",
    "parse_record",
    "rule_ids",
    "rules",
]
