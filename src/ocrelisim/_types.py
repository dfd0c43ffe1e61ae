"""Array and random-generator aliases.

Axis rule: patients first. Per-patient arrays are ``(n_patients, ...)``; time series are
``(n_patients, n_times)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Float1D = npt.NDArray[np.float64]
Float2D = npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.float64]
Int1D = npt.NDArray[np.int64]
Bool1D = npt.NDArray[np.bool_]
Bool2D = npt.NDArray[np.bool_]

RngLike = np.random.Generator | int | None


def as_generator(rng: RngLike) -> np.random.Generator:
    """Return ``rng`` if it is a Generator, else a new one seeded with it."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
