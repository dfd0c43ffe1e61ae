"""ocrelisim: executable, validated model of ocrelizumab therapy for multiple sclerosis.

For research and education only; not clinical advice.

>>> import numpy as np, ocrelisim as oc
>>> pop = oc.Population.sample(100, disease="RMS", seed=1)
>>> res = oc.simulate(oc.Regimen.preset("iv"), pop, np.arange(0.0, 731.0))
>>> res.concentration.shape
(100, 731)
"""

from importlib import import_module as _import_module
from importlib import metadata as _metadata
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._meta import DISCLAIMER as DISCLAIMER
from .engine import SolverOptions as SolverOptions
from .errors import DesignError as DesignError
from .errors import InvalidInputError as InvalidInputError
from .errors import InvalidParameterError as InvalidParameterError
from .errors import OcrelisimError as OcrelisimError
from .errors import RegimenError as RegimenError
from .errors import SolverError as SolverError
from .models.immune import repletion_time as repletion_time
from .parameters import DISEASE as DISEASE
from .parameters import IMMUNE as IMMUNE
from .parameters import PK as PK
from .parameters import DiseaseParameters as DiseaseParameters
from .parameters import ImmuneParameters as ImmuneParameters
from .parameters import Parameter as Parameter
from .parameters import PKParameters as PKParameters
from .population import Population as Population
from .population import observe as observe
from .regimens import IVInfusion as IVInfusion
from .regimens import Regimen as Regimen
from .regimens import SCInjection as SCInjection
from .regimens import read_nonmem as read_nonmem
from .results import Exposure as Exposure
from .results import SimulationResult as SimulationResult
from .simulate import simulate as simulate

if _TYPE_CHECKING:
    from . import trials as trials


def __getattr__(name: str) -> _Any:
    """``ocrelisim.trials`` on first use (PEP 562): ``import ocrelisim`` and the command line do
    not import the trials' statistics and scheduler (statsmodels, lifelines, dask)."""
    if name != "trials":
        raise AttributeError(f"module 'ocrelisim' has no attribute {name!r}")
    module = _import_module(".trials", __name__)
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


try:
    __version__ = _metadata.version("ocrelisim")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DISCLAIMER",
    "DISEASE",
    "IMMUNE",
    "PK",
    "DesignError",
    "DiseaseParameters",
    "Exposure",
    "IVInfusion",
    "ImmuneParameters",
    "InvalidInputError",
    "InvalidParameterError",
    "OcrelisimError",
    "PKParameters",
    "Parameter",
    "Population",
    "Regimen",
    "RegimenError",
    "SCInjection",
    "SimulationResult",
    "SolverError",
    "SolverOptions",
    "__version__",
    "observe",
    "read_nonmem",
    "repletion_time",
    "simulate",
    "trials",
]
