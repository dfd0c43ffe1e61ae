"""The safety model's infusion-related reactions as a planning ``ReactionSampler``.

:func:`ocrelisim.safety.sample_infusion_reactions` draws whether an IV infusion has a reaction,
its severity and its onset (during the infusion or up to 24 h after) [S15][S18][S19]. Only a
reaction that starts during the infusion changes it (label management, :mod:`._day`); one after
the end changes nothing in the chair. SC injections keep their 10 minutes [S6].
"""

from __future__ import annotations

import numpy as np

from ..safety import REACTIONS, Visit, sample_infusion_reactions
from ._day import IRR_HOLD_MIN, Reaction, ReactionSampler, VisitKind

LATER_INFUSION = 4
"""Infusion number used for maintenance and shorter visits: the safety model's rate is about
flat from infusion 4 on (a clinic's 600 mg visits are mostly later doses)."""


def safety_sampler(later_infusion: int = LATER_INFUSION) -> ReactionSampler:
    """A sampler drawing each visit's reaction from the safety model.

    A ``first`` visit is infusion 1 or 2 (300 mg) with equal chance; ``maintenance`` and
    ``short`` visits are 600 mg infusion ``later_infusion`` (standard or shorter protocol).
    """
    hold = REACTIONS.severe_hold_minutes.value

    def sample(kind: VisitKind, rng: np.random.Generator) -> Reaction | None:
        if kind == "sc":
            return None
        if kind == "first":
            visit = Visit(int(rng.integers(1, 3)), 300.0)
        else:
            visit = Visit(later_infusion, 600.0,
                          protocol="shorter" if kind == "short" else "standard")
        row = sample_infusion_reactions(visit, 1, rng).iloc[0]
        if not bool(row["irr"]) or not bool(row["during"]):
            return None
        severity = str(row["severity"])
        return Reaction(float(row["onset_min"]), severity,  # type: ignore[arg-type]
                        hold if severity == "severe" else IRR_HOLD_MIN)

    return sample
