"""Posterior of one patient's random effects: MAP, Laplace approximation, emcee sampling.

Every objective evaluation is one engine call over a batch of candidates (lanes):

* MAP: BFGS on the negative log posterior with its gradient by central differences, the
  centre and its ``2·d`` neighbours evaluated together (``2d + 1`` lanes, one SIMD block, so
  they share their steps and the differences are those of one smooth discretisation);
* Laplace: the Hessian at the MAP by central second differences, all ``1 + 2d²`` points in one
  call; draws from ``N(z_map, H⁻¹)`` (widened) are importance-weighted to the exact posterior
  and resampled;
* emcee: the affine-invariant ensemble sampler [emcee], its walkers evaluated as lanes
  (``vectorize=True``).

The random effects are bounded to ``|z| <= BOX`` standard deviations of the population (the
prior's mass outside is about 1e-6 per effect), which keeps the solver inside the range the
model was built for.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import emcee
import numpy as np
from scipy import optimize

from .._types import Float1D, Float2D
from ..engine import SolverOptions
from ..errors import SolverError
from ._problem import Problem

BOX = 5.0
"""Bound on each standard-normal random effect during estimation (an assumption: |z| > 5 has
prior probability below 6e-7)."""
GRAD_STEP = 1e-4
"""Central-difference step of the gradient (standard-normal units)."""
HESS_STEP = 1e-2
"""Central-difference step of the Hessian (standard-normal units)."""
IS_WIDEN = 1.5
"""Laplace proposals' SD, in units of the Laplace SD (heavier than the target's tails)."""
IS_PROPOSALS = 2
"""Proposals per returned draw."""
ESS_ADAPT = 0.1
"""Effective sample size, as a share of the proposals, below which the importance sampling
adds proposals fitted to the weighted draws (and, if still below, says so)."""
MIN_CURVATURE = 0.25
"""Smallest eigenvalue kept in the Laplace Hessian: no direction's Laplace SD exceeds twice the
prior's (an assumption; applied only when the fitted curvature is smaller, with a note). It
shapes the proposals and the reported SD; the importance weights still target the exact
posterior."""


@dataclass(frozen=True)
class Posterior:
    """Posterior summary on the standard-normal scale of the random effects."""

    mode: Float1D
    cov: Float2D
    draws: Float2D
    method: str
    messages: tuple[str, ...] = ()
    n_evaluations: int = 0


def evaluate(problem: Problem, z: Float2D, options: SolverOptions | None = None) -> Float1D:
    """Negative log posterior of each row of ``z`` (m,). Beyond the box the model is evaluated
    at the nearest point inside it and the prior at ``z`` (continuous, and it pushes back
    inside); +inf where the solver fails (the other lanes are evaluated again alone)."""
    z = np.atleast_2d(z)
    zc = np.clip(z, -BOX, BOX)
    extra = 0.5 * np.sum(z * z - zc * zc, axis=1)
    try:
        v: Float1D = problem.neg_log_posterior(zc, options=options) + extra
        return v
    except SolverError:
        out = np.full(z.shape[0], np.inf)
        for i in range(z.shape[0]):
            try:
                out[i] = problem.neg_log_posterior(zc[i:i + 1], options=options)[0] + extra[i]
            except SolverError:
                out[i] = np.inf
        return out


def _one_block(options: SolverOptions, m: int) -> SolverOptions:
    """Options that put ``m`` lanes in one block (shared steps for finite differences)."""
    return dataclasses.replace(options, lanes=max(options.lanes, min(1024, m)))


def fit_map(problem: Problem, x0: Float1D | None = None) -> tuple[Float1D, bool, int]:
    """MAP of the random effects: (z_map, converged, engine calls)."""
    d = problem.eta.n
    steps = GRAD_STEP * np.vstack([np.zeros(d), np.eye(d), -np.eye(d)])
    opts = _one_block(problem.options, 2 * d + 1)
    calls = 0

    def fun(x: Float1D) -> tuple[float, Float1D]:
        nonlocal calls
        calls += 1
        v = evaluate(problem, x + steps, opts)
        grad = (v[1:d + 1] - v[d + 1:]) / (2.0 * GRAD_STEP)
        return float(v[0]), grad

    # BFGS, not L-BFGS-B: with 7 unknowns L-BFGS-B's tiny BLAS calls cost ~100 ms in OpenBLAS
    # threads on a shared machine (measured), BFGS a few ms; the box is kept by evaluate().
    with np.errstate(over="ignore", invalid="ignore"):
        res = optimize.minimize(fun, np.zeros(d) if x0 is None else x0, jac=True,
                                method="BFGS", options={"maxiter": 200, "gtol": 1e-5})
    z = np.clip(np.asarray(res.x, dtype=np.float64), -BOX, BOX)
    ok = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-3
    return z, ok, calls


def hessian(problem: Problem, z: Float1D, h: float = HESS_STEP) -> Float2D:
    """Hessian of the negative log posterior at ``z`` by central differences (one call)."""
    d = z.size
    e = np.eye(d)
    pts = [np.zeros(d)]
    pts += [h * e[i] for i in range(d)] + [-h * e[i] for i in range(d)]
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    for i, j in pairs:
        pts += [h * (e[i] + e[j]), h * (e[i] - e[j]), h * (-e[i] + e[j]), -h * (e[i] + e[j])]
    x = z + np.array(pts)
    v = evaluate(problem, x, _one_block(problem.options, x.shape[0]))
    f0, fp, fm = v[0], v[1:d + 1], v[d + 1:2 * d + 1]
    H = np.diag((fp - 2.0 * f0 + fm) / (h * h))
    for k, (i, j) in enumerate(pairs):
        a, b, c, dd = v[1 + 2 * d + 4 * k: 1 + 2 * d + 4 * k + 4]
        H[i, j] = H[j, i] = (a - b - c + dd) / (4.0 * h * h)
    return H


def laplace_cov(H: Float2D) -> tuple[Float2D, list[str]]:
    """Covariance ``H⁻¹`` with eigenvalues of ``H`` floored at :data:`MIN_CURVATURE`."""
    notes = []
    Hs = 0.5 * (H + H.T)
    if not np.all(np.isfinite(Hs)):
        notes.append("the posterior curvature could not be computed; the prior's variance "
                     "was used for the uncertainty")
        return np.eye(H.shape[0]), notes
    lam, vec = np.linalg.eigh(Hs)
    if lam.min() < MIN_CURVATURE:
        notes.append("the data leave some parameter combinations nearly undetermined; their "
                     "spread in the Laplace approximation was limited to twice the "
                     "population's (the draws still follow the exact posterior)")
    lam = np.maximum(lam, MIN_CURVATURE)
    cov: Float2D = (vec / lam) @ vec.T
    return 0.5 * (cov + cov.T), notes


def laplace(problem: Problem, n_draws: int, rng: np.random.Generator) -> Posterior:
    """MAP, Hessian, and ``n_draws`` posterior draws: proposals from the Laplace approximation
    (SD widened by :data:`IS_WIDEN`), weighted to the exact posterior (importance sampling,
    one engine call) and resampled. Where the weights are too uneven (effective sample size
    below :data:`ESS_ADAPT` of the proposals: a skewed posterior, e.g. all counts censored),
    a second set of proposals from the weighted draws' mean and covariance is added and all
    are weighted against the mixture of both proposals (one more engine call)."""
    z, ok, calls = fit_map(problem)
    cov, notes = laplace_cov(hessian(problem, z))
    if not ok:
        notes.insert(0, "the optimiser stopped before full convergence; the estimate may be "
                        "inexact")
    if n_draws == 0:
        return Posterior(z, cov, np.zeros((0, z.size)), "map+laplace", tuple(notes), calls + 1)
    m = IS_PROPOSALS * n_draws
    comps = [_proposal(z, cov)]
    prop = _gaussian(rng, *comps[0], m)
    nlp = evaluate(problem, prop)
    w, ess = _weights(nlp, prop, comps)
    calls += 2
    if ess < ESS_ADAPT * m:
        mean = w @ prop
        dev = prop - mean
        # the weighted covariance, blended with the Laplace one so that it stays positive
        # definite however few proposals carry the weight
        comps.append(_proposal(mean, 0.5 * ((dev * w[:, None]).T @ dev + cov)))
        more = _gaussian(rng, *comps[1], m)
        prop, nlp = np.vstack([prop, more]), np.concatenate([nlp, evaluate(problem, more)])
        w, ess = _weights(nlp, prop, comps)
        calls += 1
    if ess < ESS_ADAPT * m:
        notes.append(f"the Laplace approximation fits the posterior poorly (effective sample "
                     f"size {ess:.0f} of {prop.shape[0]}); consider samples > 0 (MCMC)")
    # systematic resampling: n_draws equally weighted draws; the model beyond the box is
    # that at its edge (evaluate), so draws are clipped to it
    pos = (rng.random() + np.arange(n_draws)) / n_draws
    idx = np.minimum(np.searchsorted(np.cumsum(w), pos), prop.shape[0] - 1)
    return Posterior(z, cov, np.clip(prop[idx], -BOX, BOX), "map+laplace", tuple(notes),
                     calls)


def _proposal(mean: Float1D, cov: Float2D) -> tuple[Float1D, Float2D]:
    """A proposal: its mean and the Cholesky factor of ``cov`` widened by :data:`IS_WIDEN`."""
    chol: Float2D = np.asarray(IS_WIDEN * np.linalg.cholesky(cov), dtype=np.float64)
    return mean, chol


def _gaussian(rng: np.random.Generator, mean: Float1D, chol: Float2D, m: int) -> Float2D:
    """``m`` draws of ``N(mean, chol·cholᵀ)``."""
    out: Float2D = mean + rng.standard_normal((m, mean.size)) @ chol.T
    return out


def _weights(nlp: Float1D, x: Float2D, comps: list[tuple[Float1D, Float2D]]
             ) -> tuple[Float1D, float]:
    """Normalised importance weights of ``x`` (target ``exp(-nlp)``, proposal the equal
    mixture of the Gaussians ``comps`` = (mean, Cholesky factor)) and their effective sample
    size."""
    log_q = []
    for mean, chol in comps:
        r = np.linalg.solve(chol, (x - mean).T)
        log_q.append(-0.5 * np.sum(r * r, axis=0) - np.sum(np.log(np.diag(chol))))
    log_w = -nlp - (np.logaddexp.reduce(log_q, axis=0) if len(log_q) > 1 else log_q[0])
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    return w, 1.0 / float(np.sum(w * w))


def mcmc(problem: Problem, n_draws: int, rng: np.random.Generator, *, burn: int = 300,
         thin: int = 10) -> Posterior:
    """Posterior draws by emcee, started around the Laplace approximation."""
    lap = laplace(problem, 0, rng)
    d = problem.eta.n
    walkers = max(32, 2 * d + 2)
    walkers += walkers % 2
    start = rng.multivariate_normal(lap.mode, 0.01 * lap.cov, size=walkers, method="cholesky")
    start = np.clip(start, -BOX + 1e-6, BOX - 1e-6)
    calls = 0

    def log_prob(x: Float2D) -> Float1D:
        nonlocal calls
        calls += 1
        return -evaluate(problem, x)

    sampler = emcee.EnsembleSampler(walkers, d, log_prob, vectorize=True)
    # emcee draws from a legacy RandomState; seed it from our generator
    sampler.random_state = np.random.RandomState(
        int(rng.integers(2**31))).get_state()
    steps = burn + thin * math.ceil(n_draws / walkers)
    sampler.run_mcmc(start, steps, progress=False)
    chain = sampler.get_chain(discard=burn, thin=thin, flat=True)
    draws = chain[-n_draws:]
    notes = list(lap.messages)
    acc = float(np.mean(sampler.acceptance_fraction))
    if not 0.1 <= acc <= 0.9:
        notes.append(f"MCMC acceptance {acc:.2f} is outside 0.1-0.9; treat the intervals with "
                     "caution")
    return Posterior(lap.mode, np.cov(draws.T).reshape(d, d), draws, "mcmc", tuple(notes),
                     lap.n_evaluations + calls)


def prior(d: int, n_draws: int, rng: np.random.Generator) -> Posterior:
    """The population prior ``N(0, I)`` (no observations)."""
    draws = np.clip(rng.standard_normal((n_draws, d)), -BOX, BOX)
    return Posterior(np.zeros(d), np.eye(d), draws, "population")
