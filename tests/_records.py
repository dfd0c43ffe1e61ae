"""Pre-dose check records shared by the safety and web tests: a clean maintenance record and a
first dose, and :func:`make` to vary one."""

from __future__ import annotations

import copy
from typing import Any

Record = dict[str, Any]

MAINTENANCE: Record = {
    # Every rule is silent on this record: the decision is "dose" with no card.
    "check_date": "2026-11-30",
    "age": 41,
    "weight_kg": 72,
    "diagnosis": "RMS",
    "planned": {"route": "IV", "dose_mg": 600},
    "previous_doses": [
        {"date": "2025-11-24", "route": "IV", "dose_mg": 300, "reaction": "mild"},
        {"date": "2025-12-08", "route": "IV", "dose_mg": 300, "reaction": "none"},
        {"date": "2026-06-02", "route": "IV", "dose_mg": 600, "reaction": "none"},
    ],
    "hbv": {"hbsag": "negative", "anti_hbc": "negative"},
    "active_infection": False,
    "igg_g_per_l": 8.4,
    "pregnant": False,
    "vaccinations": [],
    "symptoms": [],
    "prior_therapy": None,
}

FIRST_DOSE: Record = {**MAINTENANCE, "previous_doses": [],
                      "planned": {"route": "IV", "dose_mg": 300}}


def make(base: Record, **changes: Any) -> Record:
    """A deep copy of ``base`` with top-level fields replaced (``None`` deletes a field)."""
    record = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = copy.deepcopy(value)
    return record
