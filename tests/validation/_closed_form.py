"""Independent closed forms of the linear two-compartment model (constant clearance).

Unit impulse response of the central concentration after a bolus D into the central
compartment (Gibaldi & Perrier, Pharmacokinetics, 2nd ed., ch. 2):
C(t) = D/V1 · [a1·exp(-λ1 t) + a2·exp(-λ2 t)], a1 = (λ1 - k21)/(λ1 - λ2), a2 = (k21 - λ2)/(λ1 - λ2).
Infusions and first-order absorption follow by integrating that response over the input.
"""

from __future__ import annotations

import numpy as np


def macro(cl: float, v1: float, v2: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(λ, a): hybrid rate constants (1/day) and unit coefficients of the bolus response."""
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    d = np.sqrt(s * s - 4.0 * k10 * k21)
    lam = np.array([(s + d) / 2.0, (s - d) / 2.0])
    a = np.array([(lam[0] - k21) / (lam[0] - lam[1]), (k21 - lam[1]) / (lam[0] - lam[1])])
    return lam, a


def bolus(t: np.ndarray, t0: float, dose: float, v1: float, lam, a) -> np.ndarray:  # type: ignore[no-untyped-def]
    dt = np.clip(t - t0, 0.0, None)
    c = dose / v1 * (a[0] * np.exp(-lam[0] * dt) + a[1] * np.exp(-lam[1] * dt))
    return np.where(t > t0, c, 0.0)  # an output at the dose time is the pre-dose value


def infusion(t: np.ndarray, t0: float, t1: float, rate: float, v1: float, lam, a) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Zero-order input ``rate`` (mg/day) over [t0, t1]."""
    out = np.zeros_like(t, dtype=float)
    for li, ai in zip(lam, a, strict=True):
        te = np.clip(t, t0, t1)  # end of input seen so far
        part = (1.0 - np.exp(-li * (te - t0))) * np.exp(-li * (t - te))
        out += rate / v1 * ai / li * np.where(t > t0, part, 0.0)
    return out


def first_order(t: np.ndarray, t0: float, dose: float, f: float, ka: float, v1: float,
                lam, a) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Bolus into a depot absorbed with rate constant ka and bioavailability f."""
    dt = np.clip(t - t0, 0.0, None)
    out = np.zeros_like(t, dtype=float)
    for li, ai in zip(lam, a, strict=True):
        out += ai * ka * (np.exp(-li * dt) - np.exp(-ka * dt)) / (ka - li)
    return np.where(t >= t0, f * dose / v1 * out, 0.0)
