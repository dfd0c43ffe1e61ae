"""What a model declares, and the registry through which ``simulate`` finds it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _streams
from .._types import Float1D, Float2D
from ..engine import ModelSpec
from ..errors import InvalidInputError, InvalidParameterError

if TYPE_CHECKING:
    from ..population import Population

Individual = Callable[["Population", Any], pd.DataFrame]
"""``individual(population, settings)``: one row of individual parameters per patient (columns
``Model.parameters``), from the covariate model, the model's random effects
(``population.eta(model)``) and any parameters given with the population."""
Prepare = Callable[[pd.DataFrame, Float1D], tuple[Float2D, Float2D]]
"""``prepare(individual, first_dose)``: kernel parameters (n, n_kernel_params) and initial
states (n, n_states) from the individual parameters and each patient's first-dose day."""


@dataclass(frozen=True, slots=True)
class Model:
    """A model ``simulate`` can run, declared as data.

    Parameters
    ----------
    spec : ModelSpec
        What the engine needs: states (explicit, then linear), outputs, their units and the
        states each reads, tolerances and the compiled kernel.
    parameters : tuple of str
        Names of the individual parameters (``result.parameters`` columns; the columns
        ``Population.from_parameters`` accepts for this model), with ``units``.
    units : tuple of str
        Unit of each individual parameter.
    individual : callable
        The covariate model with random effects: ``individual(population, settings)``.
    prepare : callable
        Kernel parameters and initial states: ``prepare(individual, first_dose)``.
    settings : object
        The model's default parameter set (e.g. :class:`ocrelisim.parameters.ImmuneParameters`),
        passed to ``individual``; ``simulate(..., model_parameters=...)`` replaces it.
    dose_targets : mapping of str to str
        Route (``"IV"``, ``"SC"``) to the state its doses enter.
    n_eta : int
        Standard-normal draws per patient for the model's random effects, drawn by
        ``Population`` from the model's own stream ``stream_key`` (see :mod:`ocrelisim._streams`).
    exposure_output : str, optional
        The output whose interval reductions ``result.exposure`` shows (AUC, Cmax, trough,
        time above ``threshold``).
    measured : mapping of str to str
        Per output, what is measured and what is modelled (for reports).
    """

    spec: ModelSpec
    parameters: tuple[str, ...]
    units: tuple[str, ...]
    individual: Individual
    prepare: Prepare
    settings: Any = None
    dose_targets: Mapping[str, str] = field(default_factory=dict)
    n_eta: int = 0
    stream_key: int | None = None
    exposure_output: str | None = None
    measured: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.units) != len(self.parameters) or len(set(self.parameters)) != len(
                self.parameters):
            raise InvalidParameterError(
                f"model {self.name!r}: give distinct parameter names and one unit each")
        for route, state in self.dose_targets.items():
            if state not in self.spec.states[:self.spec.explicit]:
                raise InvalidParameterError(
                    f"model {self.name!r}: doses by {route} go to {state!r}, which is not one "
                    f"of its explicit states {list(self.spec.states[:self.spec.explicit])}")
        if self.n_eta:
            if self.stream_key is None:
                raise InvalidParameterError(
                    f"model {self.name!r}: random effects need a stream_key")
            _streams.check_model_key(self.stream_key, self.name)
        if self.exposure_output is not None and self.exposure_output not in self.spec.outputs:
            raise InvalidParameterError(
                f"model {self.name!r}: exposure_output {self.exposure_output!r} is not an "
                "output")
        object.__setattr__(self, "dose_targets", MappingProxyType(dict(self.dose_targets)))
        object.__setattr__(self, "measured", MappingProxyType(dict(self.measured)))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.spec.outputs

    @property
    def output_units(self) -> tuple[str, ...]:
        return self.spec.output_units

    @property
    def states(self) -> tuple[str, ...]:
        return self.spec.states

    def unit(self, output: str) -> str:
        """The unit of an output."""
        return self.spec.output_units[self.spec.outputs.index(output)]

    def dose_states(self, routes: tuple[str, ...]) -> np.ndarray:
        """State index per route code (the order of ``routes``); -1 where the model takes no
        doses by that route."""
        return np.array([self.spec.states.index(self.dose_targets[r])
                         if r in self.dose_targets else -1 for r in routes], dtype=np.int64)


_REGISTRY: dict[str, Model] = {}


def register(model: Model) -> Model:
    """Make ``model`` available to ``simulate(..., model=name)``; returns it.

    Raises
    ------
    InvalidParameterError
        Another model has the same name or the same stream key.
    """
    old = _REGISTRY.get(model.name)
    if old is not None and old is not model:
        raise InvalidParameterError(f"a model named {model.name!r} is already registered")
    clash = [m.name for m in _REGISTRY.values() if m is not model and model.stream_key
             is not None and m.stream_key == model.stream_key]
    if clash:
        raise InvalidParameterError(
            f"model {model.name!r}: stream_key {model.stream_key} is used by {clash[0]!r}")
    _REGISTRY[model.name] = model
    return model


def unregister(name: str) -> None:
    """Remove a registered model (tests and plug-ins)."""
    _REGISTRY.pop(name, None)


def get(model: str | Model) -> Model:
    """The registered model of that name (a :class:`Model` is returned as is)."""
    if isinstance(model, Model):
        return model
    if not isinstance(model, str) or model not in _REGISTRY:
        raise InvalidInputError(f"unknown model {model!r}; choose one of {names()}")
    return _REGISTRY[model]


def names() -> list[str]:
    """Names of the registered models, sorted."""
    return sorted(_REGISTRY)


def registered() -> tuple[Model, ...]:
    """The registered models, by name."""
    return tuple(_REGISTRY[n] for n in names())


def given_columns(population: Population, model: Model) -> pd.DataFrame:
    """The individual parameters of ``model`` given with the population
    (``Population.from_parameters``), as columns of a frame with one row per patient."""
    given = population.given
    if given is None:
        return pd.DataFrame(index=range(population.n))
    cols = [c for c in model.parameters if c in given.columns]
    return given[cols]
