"""The random-stream plan: every draw of a run comes from one named child of the user's seed.

One seed ``s`` feeds every part of a run through :class:`numpy.random.SeedSequence` children
with fixed *spawn keys*, so that the parts never share a stream and adding a part (a model, a
replicate) changes nobody else's draws::

    key            stream                                   used by
    (0,)           covariates (weight, age, sex)            Population.sample
    (1,)           PK random effects                        Population (model "pk")
    (2,)           immune-model random effects              Population (model "immune")
    (k,)           a further model's random effects         Population (its ``stream_key``)
    (64, r)        replicate r of a virtual trial           trials.simulate_replicate

Keys (0,)–(2,) are those of ``SeedSequence(s).spawn(3)``, which the package has always used for
populations, so populations are unchanged. A trial seeded ``s`` draws its patient bank as
``Population.sample(..., seed=s)`` (keys (0,)–(2,)) and its replicates from (64, r); before
this plan replicate ``r`` used the key ``(r,)``, so replicates 0–2 reused the bank's covariate,
PK and immune streams. The replicate branch sits at 64 so that up to 63 model streams fit
below it. Results depend on the seed and the keys only, never on workers or threads.
"""

from __future__ import annotations

import numpy as np

COVARIATES = 0
"""Spawn key of the covariate stream."""
REPLICATE_BRANCH = 64
"""First spawn-key word of the trial replicates' streams: ``(64, r)``."""
_MAX_MODEL_KEY = REPLICATE_BRANCH - 1


def sequence(seed: int, *key: int) -> np.random.SeedSequence:
    """The child of ``seed`` at spawn key ``key`` (see the module docstring)."""
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))


def generator(seed: int, *key: int) -> np.random.Generator:
    """A PCG64 generator on :func:`sequence` ``(seed, *key)``."""
    return np.random.default_rng(sequence(seed, *key))


def replicate(seed: int, r: int) -> np.random.Generator:
    """The generator of trial replicate ``r``."""
    return generator(seed, REPLICATE_BRANCH, r)


def check_model_key(key: int, name: str) -> int:
    """A model's stream key: 1..63 (0 is the covariates', 64 the trials' replicates')."""
    if isinstance(key, bool) or not isinstance(key, int) or not 1 <= key <= _MAX_MODEL_KEY:
        raise ValueError(f"model {name!r}: stream_key = {key!r}; give an integer in "
                         f"1..{_MAX_MODEL_KEY} not used by another model")
    return key
