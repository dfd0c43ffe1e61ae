"""The random-stream plan (:mod:`ocrelisim._streams`): no two streams of a run coincide."""

from __future__ import annotations

import numpy as np

from ocrelisim import Population, _streams


def _first_words(seq: np.random.SeedSequence) -> tuple[int, ...]:
    return tuple(int(x) for x in seq.generate_state(4, np.uint64))


def test_population_streams_are_the_documented_keys() -> None:
    """Population.sample draws covariates, PK and immune etas from keys (0,), (1,), (2,)."""
    pop = Population.sample(5, seed=11)
    eta_pk = _streams.generator(11, 1).standard_normal((5, 8))
    eta_immune = _streams.generator(11, 2).standard_normal(pop.immune_eta.shape)  # type: ignore[union-attr]
    np.testing.assert_array_equal(pop.immune_eta, eta_immune)
    typical = Population.from_covariates(pop.covariates, iiv=False).params
    # CLINF carries IIV: its log-ratio to the typical value is omega * eta.
    from ocrelisim import PK
    np.testing.assert_allclose(np.log(pop.params[:, 0] / typical[:, 0]),
                               PK.omega_clinf.value * eta_pk[:, 0], rtol=1e-12)


def test_no_two_streams_of_a_trial_coincide() -> None:
    """Bank covariates, each model's etas and 1,000 replicates: all streams distinct, and none
    equal to the replicate keys of the old plan's collision ((r,) for r = 0..2)."""
    seed = 2026
    keys = [(0,), (1,), (2,)] + [(_streams.REPLICATE_BRANCH, r) for r in range(1000)]
    states = [_first_words(_streams.sequence(seed, *k)) for k in keys]
    assert len(set(states)) == len(states)
    bank = {_first_words(_streams.sequence(seed, k)) for k in range(3)}
    replicates = {_first_words(_streams.sequence(seed, _streams.REPLICATE_BRANCH, r))
                  for r in range(1000)}
    assert not bank & replicates
    # the generator a replicate uses is the documented one
    a = _streams.replicate(seed, 0).standard_normal(3)
    b = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(64, 0))).standard_normal(3)
    np.testing.assert_array_equal(a, b)


def test_model_stream_keys_are_checked() -> None:
    for bad in (0, 64, -1, True, 1.5):
        try:
            _streams.check_model_key(bad, "m")  # type: ignore[arg-type]
        except ValueError as e:
            assert "stream_key" in str(e)
        else:
            raise AssertionError(f"{bad!r} accepted")
    assert _streams.check_model_key(3, "m") == 3
