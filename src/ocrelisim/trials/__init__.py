"""Virtual trials: designs, presets (OPERA I/II, ORATORIO, ORATORIO-HAND), replicates, analyses
and power.

>>> from ocrelisim import trials
>>> design = trials.preset("opera1")
>>> result = trials.run_trial(design, replicates=20, seed=1)      # doctest: +SKIP
>>> result.summary()[["endpoint", "estimate", "power"]]              # doctest: +SKIP
"""

from ._analysis import cox as cox
from ._analysis import mean_ratio as mean_ratio
from ._analysis import negbin as negbin
from ._analysis import risk_ratio as risk_ratio
from ._design import ENDPOINTS as ENDPOINTS
from ._design import HIGHER_IS_BETTER as HIGHER_IS_BETTER
from ._design import ORATORIO_EVENTS as ORATORIO_EVENTS
from ._design import PRESET_NAMES as PRESET_NAMES
from ._design import PUBLISHED as PUBLISHED
from ._design import TREATMENTS as TREATMENTS
from ._design import TRIAL_SOURCES as TRIAL_SOURCES
from ._design import Arm as Arm
from ._design import TrialDesign as TrialDesign
from ._design import preset as preset
from ._power import power_curve as power_curve
from ._power import sample_size as sample_size
from ._run import PatientBank as PatientBank
from ._run import TrialResult as TrialResult
from ._run import bank_population as bank_population
from ._run import build_bank as build_bank
from ._run import run_trial as run_trial
from ._run import simulate_replicate as simulate_replicate

__all__ = [
    "ENDPOINTS",
    "HIGHER_IS_BETTER",
    "ORATORIO_EVENTS",
    "PRESET_NAMES",
    "PUBLISHED",
    "TREATMENTS",
    "TRIAL_SOURCES",
    "Arm",
    "PatientBank",
    "TrialDesign",
    "TrialResult",
    "bank_population",
    "build_bank",
    "cox",
    "mean_ratio",
    "negbin",
    "power_curve",
    "preset",
    "risk_ratio",
    "run_trial",
    "sample_size",
    "simulate_replicate",
]
