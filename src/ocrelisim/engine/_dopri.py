"""Dormand–Prince 5(4) steps over lane blocks: stages, error norm, dense output, step control."""

from __future__ import annotations

import numpy as np

from ._tableau import (
    _A21,
    _A31,
    _A32,
    _A41,
    _A42,
    _A43,
    _A51,
    _A52,
    _A53,
    _A54,
    _A61,
    _A62,
    _A63,
    _A64,
    _A65,
    _B1,
    _B3,
    _B4,
    _B5,
    _B6,
    _E1,
    _E3,
    _E4,
    _E5,
    _E6,
    _E7,
    _MAX_FACTOR,
    _P10,
    _P11,
    _P12,
    _P13,
    _P31,
    _P32,
    _P33,
    _P41,
    _P42,
    _P43,
    _P51,
    _P52,
    _P53,
    _P61,
    _P62,
    _P63,
    _P71,
    _P72,
    _P73,
    _SAFETY,
    STATUS_MAX_STEPS,
    STATUS_OK,
    STATUS_STEP_TOO_SMALL,
    _inline_jit,
    _leaf_jit,
)


@_inline_jit
def _dense_weights(theta: float, bw: np.ndarray) -> None:
    """bw[i] = Σ_j P[i, j] θ^(j+1): weights of k_i in the dense output at θ."""
    t1 = theta
    t2 = t1 * theta
    t3 = t2 * theta
    t4 = t3 * theta
    bw[0] = _P10 * t1 + _P11 * t2 + _P12 * t3 + _P13 * t4
    bw[1] = 0.0
    bw[2] = _P31 * t2 + _P32 * t3 + _P33 * t4
    bw[3] = _P41 * t2 + _P42 * t3 + _P43 * t4
    bw[4] = _P51 * t2 + _P52 * t3 + _P53 * t4
    bw[5] = _P61 * t2 + _P62 * t3 + _P63 * t4
    bw[6] = _P71 * t2 + _P72 * t3 + _P73 * t4


@_inline_jit
def _dense_state(y, k, h, bw, yd, states, ne, n):  # type: ignore[no-untyped-def]
    """Dense values of the listed explicit states (s < ne); see :func:`_dense_one`."""
    for i in range(states.size):
        if states[i] < ne:
            _dense_one(y, k, h, bw, yd, states[i], n)


@_inline_jit
def _dense_one(y, k, h, bw, yd, s, n):  # type: ignore[no-untyped-def]
    """yd[s] = y[s] + h Σ_i bw[i] k[i, s]: the Dormand–Prince dense output of state s."""
    b0, b2, b3, b4, b5, b6 = h * bw[0], h * bw[2], h * bw[3], h * bw[4], h * bw[5], h * bw[6]
    for ln in range(n):
        yd[s, ln] = y[s, ln] + (b0 * k[0, s, ln] + b2 * k[2, s, ln] + b3 * k[3, s, ln]
                                + b4 * k[4, s, ln] + b5 * k[5, s, ln] + b6 * k[6, s, ln])


@_inline_jit
def _stage1(y, k, h, yt, ne, n):  # type: ignore[no-untyped-def]
    for s in range(ne):
        for ln in range(n):
            yt[s, ln] = y[s, ln] + h * (_A21 * k[0, s, ln])


@_inline_jit
def _stage2(y, k, h, yt, ne, n):  # type: ignore[no-untyped-def]
    for s in range(ne):
        for ln in range(n):
            yt[s, ln] = y[s, ln] + h * (_A31 * k[0, s, ln] + _A32 * k[1, s, ln])


@_inline_jit
def _stage3(y, k, h, yt, ne, n):  # type: ignore[no-untyped-def]
    for s in range(ne):
        for ln in range(n):
            yt[s, ln] = y[s, ln] + h * (_A41 * k[0, s, ln] + _A42 * k[1, s, ln]
                                      + _A43 * k[2, s, ln])


@_inline_jit
def _stage4(y, k, h, yt, ne, n):  # type: ignore[no-untyped-def]
    for s in range(ne):
        for ln in range(n):
            yt[s, ln] = y[s, ln] + h * (_A51 * k[0, s, ln] + _A52 * k[1, s, ln]
                                      + _A53 * k[2, s, ln] + _A54 * k[3, s, ln])


@_inline_jit
def _stage5(y, k, h, yt, ne, n):  # type: ignore[no-untyped-def]
    for s in range(ne):
        for ln in range(n):
            yt[s, ln] = y[s, ln] + h * (_A61 * k[0, s, ln] + _A62 * k[1, s, ln]
                                      + _A63 * k[2, s, ln] + _A64 * k[3, s, ln]
                                      + _A65 * k[4, s, ln])


@_inline_jit
def _stage6(y, k, h, yt, ne, n):  # type: ignore[no-untyped-def]
    for s in range(ne):
        for ln in range(n):
            yt[s, ln] = y[s, ln] + h * (_B1 * k[0, s, ln] + _B3 * k[2, s, ln]
                                      + _B4 * k[3, s, ln] + _B5 * k[4, s, ln]
                                      + _B6 * k[5, s, ln])


@_inline_jit
def _error_norm(y, yn, k, h, rtol, atol, wl, ne, n):  # type: ignore[no-untyped-def]
    """Max over lanes and explicit states of |error| / (atol + rtol·max(|y|, |y_new|)).

    Per-lane maxima first (an element-wise loop that vectorises), then one short scalar pass;
    a NaN anywhere makes the result NaN.
    """
    for ln in range(n):
        wl[ln] = 0.0
    for s in range(ne):  # the explicit states
        a = atol[s]
        for ln in range(n):
            e = h * (_E1 * k[0, s, ln] + _E3 * k[2, s, ln] + _E4 * k[3, s, ln]
                     + _E5 * k[4, s, ln] + _E6 * k[5, s, ln] + _E7 * k[6, s, ln])
            _track(wl, ln, e, y[s, ln], yn[s, ln], a, rtol)
    return _worst(wl, n)


@_inline_jit
def _track(wl, ln, e, y0, y1, a, rtol):  # type: ignore[no-untyped-def]
    """wl[ln] = max(wl[ln], |e| / (a + rtol·max(|y0|, |y1|))); a NaN propagates."""
    ay0 = abs(y0)
    ay1 = abs(y1)
    r = abs(e) / (a + rtol * (ay0 if ay0 > ay1 else ay1))
    wl[ln] = _max_nan(wl[ln], r)


@_leaf_jit
def _worst(wl, n):  # type: ignore[no-untyped-def]
    """Max of wl[:n], NaN when any is NaN (a non-finite lane must fail its block).

    Eight independent running maxima, unrolled: one chain of 64 dependent compare-and-selects
    was 6% of the PK model's run time, and a loop over every eighth lane ran the immune model
    3% slower than this (perf, benchmarks/RESULTS.md).
    """
    w0 = w1 = w2 = w3 = w4 = w5 = w6 = w7 = 0.0
    m = n - n % 8
    for ln in range(0, m, 8):
        w0, w1 = _max_nan(w0, wl[ln]), _max_nan(w1, wl[ln + 1])
        w2, w3 = _max_nan(w2, wl[ln + 2]), _max_nan(w3, wl[ln + 3])
        w4, w5 = _max_nan(w4, wl[ln + 4]), _max_nan(w5, wl[ln + 5])
        w6, w7 = _max_nan(w6, wl[ln + 6]), _max_nan(w7, wl[ln + 7])
    for ln in range(m, n):
        w0 = _max_nan(w0, wl[ln])
    return _max_nan(_max_nan(_max_nan(w0, w1), _max_nan(w2, w3)),
                    _max_nan(_max_nan(w4, w5), _max_nan(w6, w7)))


@_inline_jit
def _max_nan(w, x):  # type: ignore[no-untyped-def]
    """The larger of ``w`` and ``x``, NaN when either is (``x - x`` is NaN only for NaN or
    inf, and a NaN ``w`` loses every comparison and stays NaN)."""
    return x if x > w else w + (x - x)


@_inline_jit
def _step_factor(err, exponent):  # type: ignore[no-untyped-def]
    """Step-size factor from an error norm (``err ** -exponent`` with the safety factor)."""
    return _MAX_FACTOR if err == 0.0 else _SAFETY * err ** -exponent


@_inline_jit
def _step_status(h, t, n_steps, max_steps):  # type: ignore[no-untyped-def]
    """STATUS_OK, or why a step of size ``h`` at ``t`` may not be taken."""
    if h <= 1e-14 * max(1.0, abs(t)):
        return STATUS_STEP_TOO_SMALL
    if n_steps >= max_steps:
        return STATUS_MAX_STEPS
    return STATUS_OK


@_inline_jit
def _next_size(h, fac, last):  # type: ignore[no-untyped-def]
    """The step size after an accepted step of size ``h``; after a segment's last (shortened)
    step keep the old proposal unless the new one is larger."""
    h_next = h * min(_MAX_FACTOR, fac)
    return h_next if (not last or h_next > h) else h


@_inline_jit
def _copy_states(src, dst, states, n):  # type: ignore[no-untyped-def]
    """dst[s] = src[s] for the listed states."""
    for i in range(states.size):
        s = states[i]
        for ln in range(n):
            dst[s, ln] = src[s, ln]


@_inline_jit
def _explicit_at(theta, y, yn, k, h, bw, dst, states, ne, n):  # type: ignore[no-untyped-def]
    """dst[s] = explicit state s (the listed ones with s < ne) at t + θh of the accepted step:
    the step start ``y`` at θ = 0, the step end ``yn`` at θ = 1, else the dense output."""
    if theta == 0.0 or theta == 1.0:
        src = y if theta == 0.0 else yn
        for i in range(states.size):
            s = states[i]
            if s < ne:
                for ln in range(n):
                    dst[s, ln] = src[s, ln]
    else:
        _dense_weights(theta, bw)
        _dense_state(y, k, h, bw, dst, states, ne, n)
