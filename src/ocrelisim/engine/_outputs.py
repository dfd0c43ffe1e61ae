"""Outputs of a block: staging at output times and reductions over intervals."""

from __future__ import annotations

import numpy as np

from ._tableau import (
    _GL_W0,
    _GL_W1,
    _GL_W2,
    _GL_X0,
    _GL_X1,
    _GL_X2,
    _inline_jit,
    _leaf_jit,
)


@_inline_jit
def _reduce_step(t, h, c0, c1, cg, intervals, reduce_spec, first, n, rows, red):  # type: ignore[no-untyped-def]
    """Add one accepted step [t, t + h] to the interval reductions of the reduced outputs.

    ``reduce_spec = (outputs, thresholds)``; ``c0``, ``c1`` (n_red, lanes) hold the reduced
    outputs at the step ends and ``cg`` (n_red, 3, lanes) at the Gauss nodes.
    ``red[r, k, row, interval]``: k = 0 area (Gauss–Legendre on the dense output), 1 maximum,
    2 value at the interval end, 3 time above the threshold, 4 first time above it (NaN when
    never), for reduced output r.
    """
    thresholds = reduce_spec[1]
    t1 = t + h
    for i in range(intervals.shape[0]):
        a = intervals[i, 0]
        b = intervals[i, 1]
        if t < a or t1 > b:
            continue
        for r in range(thresholds.size):
            thr = thresholds[r]
            for ln in range(n):
                s = rows[first + ln]
                red[r, 0, s, i] += h * (_GL_W0 * cg[r, 0, ln] + _GL_W1 * cg[r, 1, ln]
                                        + _GL_W2 * cg[r, 2, ln])
                m = max(c0[r, ln], c1[r, ln], cg[r, 0, ln], cg[r, 1, ln], cg[r, 2, ln])
                red[r, 1, s, i] = max(red[r, 1, s, i], m)
                if t1 == b:
                    red[r, 2, s, i] = c1[r, ln]
                red[r, 3, s, i] += _time_above(h, c0[r, ln], cg[r, 0, ln], cg[r, 1, ln],
                                               cg[r, 2, ln], c1[r, ln], thr)
                if red[r, 4, s, i] != red[r, 4, s, i]:  # NaN: not yet above
                    red[r, 4, s, i] = _first_above(t, h, c0[r, ln], cg[r, 0, ln], cg[r, 1, ln],
                                                   cg[r, 2, ln], c1[r, ln], thr)


@_inline_jit
def _first_above(t, h, c0, g0, g1, g2, c1, thr):  # type: ignore[no-untyped-def]
    """First time in [t, t + h] with C > thr on the 5-point piecewise-linear curve, or NaN."""
    if c0 > thr:
        return t
    xs = (0.0, _GL_X0, _GL_X1, _GL_X2, 1.0)
    cs = (c0, g0, g1, g2, c1)
    for j in range(4):
        ca = cs[j]
        cb = cs[j + 1]
        if ca <= thr < cb:
            return t + h * (xs[j] + (xs[j + 1] - xs[j]) * (thr - ca) / (cb - ca))
    return np.nan


@_inline_jit
def _time_above(h, c0, g0, g1, g2, c1, thr):  # type: ignore[no-untyped-def]
    """Time with C > thr in a step, from the piecewise-linear curve through 5 dense points."""
    x0, x1, x2, x3 = _GL_X0, _GL_X1, _GL_X2, 1.0
    return h * (_seg_above(0.0, x0, c0, g0, thr) + _seg_above(x0, x1, g0, g1, thr)
                + _seg_above(x1, x2, g1, g2, thr) + _seg_above(x2, x3, g2, c1, thr))


@_inline_jit
def _seg_above(xa, xb, ca, cb, thr):  # type: ignore[no-untyped-def]
    if ca > thr and cb > thr:
        return xb - xa
    if ca <= thr and cb <= thr:
        return 0.0
    frac = (thr - ca) / (cb - ca)  # crossing inside the segment
    return (xb - xa) * (1.0 - frac) if cb > thr else (xb - xa) * frac


@_inline_jit
def _write_outputs(o, sel, n, j, staged):  # type: ignore[no-untyped-def]
    for v in range(sel.size):
        w = sel[v]
        for ln in range(n):
            staged[v, j, ln] = o[w, ln]


@_leaf_jit
def _flush_outputs(staged, first, n, rows, out):  # type: ignore[no-untyped-def]
    """Copy the block's staged outputs (time-major) to the patients' rows (a transpose)."""
    for v in range(staged.shape[0]):
        for ln in range(n):
            r = rows[first + ln]
            for j in range(staged.shape[1]):
                out[v, r, j] = staged[v, j, ln]


@_inline_jit
def _gather(o, ro, dst, n):  # type: ignore[no-untyped-def]
    """dst[r] = o[ro[r]]: the reduced outputs among the model's outputs."""
    for r in range(ro.size):
        for ln in range(n):
            dst[r, ln] = o[ro[r], ln]
