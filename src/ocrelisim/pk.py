"""Deprecated alias of :mod:`ocrelisim.models.pk`."""

import warnings as _warnings

from .models.pk import *  # noqa: F403
from .models.pk import (  # noqa: F401
    CENTRAL,
    DEPOT,
    INV_V1,
    K10_INF,
    KDES,
    KERNEL_PARAMS,
    PERIPHERAL,
    PK_MODEL,
    STATES,
    initial_states,
    kernel_parameters,
)

_warnings.warn("ocrelisim.pk moved to ocrelisim.models.pk; import from there",
               DeprecationWarning, stacklevel=2)
