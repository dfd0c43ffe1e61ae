"""Deprecated alias of :mod:`ocrelisim.models.immune`."""

import warnings as _warnings

from .models.immune import *  # noqa: F403
from .models.immune import (  # noqa: F401
    IMMUNE_MODEL,
    MEASURED,
    N_IMMUNE_ETA,
    OUTPUT_UNITS,
    OUTPUTS,
    PARAM_NAMES,
    STATES,
    individual_parameters,
    initial_states,
    kernel_parameters,
    repletion_time,
)

_warnings.warn("ocrelisim.immune moved to ocrelisim.models.immune; import from there",
               DeprecationWarning, stacklevel=2)
