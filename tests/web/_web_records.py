"""A pre-dose check record on which every rule is silent (as tests/safety's MAINTENANCE)."""

from __future__ import annotations

import copy
from typing import Any

MAINTENANCE: dict[str, Any] = {
    "check_date": "2026-11-30",
    "age": 41,
    "weight_kg": 72,
    "diagnosis": "RMS",
    "planned": {"route": "IV", "dose_mg": 600},
    "previous_doses": [
        {"date": "2025-11-24", "route": "IV", "dose_mg": 300},
        {"date": "2025-12-08", "route": "IV", "dose_mg": 300},
        {"date": "2026-06-02", "route": "IV", "dose_mg": 600},
    ],
    "hbv": {"hbsag": "negative", "anti_hbc": "negative"},
    "active_infection": False,
    "igg_g_per_l": 8.4,
    "pregnant": False,
    "symptoms": ["none"],
}


def make(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level fields replaced."""
    record = copy.deepcopy(base)
    record.update(copy.deepcopy(changes))
    return record
