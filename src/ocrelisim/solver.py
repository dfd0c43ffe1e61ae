"""Compiled ODE engine: lockstep adaptive Dormand–Prince 5(4) over SIMD lane blocks.

Design (issue #3):

* Patients are laid out as lanes of a block, ``(n_states, lanes)``; every block is stepped with
  one shared step size (lockstep), so the arithmetic of the right-hand side vectorises across
  patients. Threads run over blocks (``prange``); blocks are independent, so results do not
  depend on the thread count.
* Steps are aligned to every dosing discontinuity of the block (infusion rate changes, bolus and
  SC doses) and never cross one. Between discontinuities the step size is adaptive, controlled
  by the embedded 4th-order error estimate in the max-norm over all lanes and explicit states
  (linear states: substeps of their own, below).
* Outputs at requested times come from the method's 4th-order continuous extension (dense
  output), so daily outputs do not force daily steps.
* In-kernel reductions of the chosen outputs over given intervals (AUC by 3-point
  Gauss–Legendre on the dense output, Cmax, value at interval end, time above a threshold) mean
  a million patients need no trajectories in memory.

The solver holds no model numbers. A model supplies two Numba functions, both working on whole
lane blocks:

``rhs(t, y, p, u, dy, n)``
    ``dy[:, :n] = f(t, y, p) + u`` for ``y, u, dy`` of shape ``(n_states, lanes)`` and
    parameters ``p`` of shape ``(n_params, lanes)``; ``u`` is the zero-order input rate into
    each state. ``t`` (days) is shared by the whole block, so a time function that is the same
    for all lanes (e.g. ``exp(-kdes·t)`` with a common kdes) costs one call per block, not one
    per patient: keep per-lane transcendental calls out of the lane loop so that it vectorises.
``outputs(y, p, o, n)``
    ``o[:, :n]`` = output variables (``(n_outputs, lanes)``) from the states.

``linear(s, t, y, p, g, lam, n)`` (models with linear states; else :func:`no_linear_states`)
    for a *linear state* ``s`` (one of the last states, ``s >= n_explicit``) fill ``g[:n]`` and
    ``lam[:n]`` such that ``dy_s/dt = g − lam·y_s``. ``g`` and ``lam`` may depend on ``t``, the
    explicit states and the linear states before ``s``, not on ``y_s`` or later states; no
    explicit state may depend on a linear state, and doses go to explicit states only.

Linear states (B cells, T-cell indices, immunoglobulins: turnover driven by the drug) are
often stiff: while B cells are depleted their loss rate is hundreds of times their turnover,
which would hold an explicit method to tiny steps. They are advanced by 3-stage Radau IIA
collocation (order 5, L-stable), which for a state linear in itself is a closed-form 3x3 solve
per lane. The scheme is multirate: a Dormand–Prince step is accepted on the error of the
explicit states alone; the linear states then cross it in their own adaptive substeps (RADAU5
embedded error estimate; the substep size carries over from step to step), reading the
explicit states at their Radau nodes from the step's dense output. After a dose the B cells
need about three times the PK's steps; with substeps the PK states do not take them.

Only what the requested outputs need is computed. ``ModelSpec.output_reads`` names the states
each output reads (only those are interpolated at output times) and ``ModelSpec.linear_reads``
the states each linear state reads: the solver integrates just the linear states the kept and
reduced outputs depend on, and interpolates at the Radau nodes just the explicit states those
read. A run asking for C and B integrates the PK and B; the T-cell and Ig states keep their
initial values and take no part in substep control, so the substeps (and the values of the
linear states, within the tolerance) can differ from a run of every output. The PK steps, and
so the PK values, do not depend on the outputs asked for.

and a module-level kernel that calls :func:`run_blocks` with them (see ``pk.py``): Numba
caches such a kernel on disk (``cache=True``), so a second process does not recompile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numba import njit

from ._types import Float1D, Float2D, Int1D
from .errors import InvalidParameterError, SolverError

# Dormand–Prince 5(4) tableau (Dormand & Prince 1980; Hairer, Nørsett & Wanner, Solving ODE I).
_C2, _C3, _C4, _C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0
_A64, _A65 = 49.0 / 176.0, -5103.0 / 18656.0
_B1, _B3, _B4, _B5, _B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
# Error weights b - b_hat (as in scipy's RK45).
_E1, _E3, _E4 = -71.0 / 57600.0, 71.0 / 16695.0, -71.0 / 1920.0
_E5, _E6, _E7 = 17253.0 / 339200.0, -22.0 / 525.0, 1.0 / 40.0
# Dense-output polynomial coefficients (Hairer's DOPRI5, as scipy RK45's ``P``): the solution
# at t + θh is y + h Σ_i k_i Σ_j P[i][j] θ^(j+1). Scalars, not a global array, so that Numba
# can cache the kernels.
_P10, _P11, _P12, _P13 = (1.0, -8048581381.0 / 2820520608.0, 8663915743.0 / 2820520608.0,
                          -12715105075.0 / 11282082432.0)
_P31, _P32, _P33 = (131558114200.0 / 32700410799.0, -68118460800.0 / 10900136933.0,
                    87487479700.0 / 32700410799.0)
_P41, _P42, _P43 = (-1754552775.0 / 470086768.0, 14199869525.0 / 1410260304.0,
                    -10690763975.0 / 1880347072.0)
_P51, _P52, _P53 = (127303824393.0 / 49829197408.0, -318862633887.0 / 49829197408.0,
                    701980252875.0 / 199316789632.0)
_P61, _P62, _P63 = (-282668133.0 / 205662961.0, 2019193451.0 / 616988883.0,
                    -1453857185.0 / 822651844.0)
_P71, _P72, _P73 = (40617522.0 / 29380423.0, -110615467.0 / 29380423.0,
                    69997945.0 / 29380423.0)
# 3-point Gauss–Legendre nodes and weights on [0, 1] (exact for degree-5 polynomials).
_GL_X0, _GL_X1, _GL_X2 = 0.5 - 0.5 * 0.6**0.5, 0.5, 0.5 + 0.5 * 0.6**0.5
_GL_W0, _GL_W1, _GL_W2 = 5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0
# 3-stage Radau IIA (order 5, stiffly accurate, L-stable; Hairer & Wanner, Solving ODE II,
# Table IV.5.6) for the linear states: nodes and coefficient matrix.
_S6 = 6.0**0.5
_RC1, _RC2 = (4.0 - _S6) / 10.0, (4.0 + _S6) / 10.0
_RA11, _RA12, _RA13 = (88.0 - 7.0 * _S6) / 360.0, (296.0 - 169.0 * _S6) / 1800.0, (
    -2.0 + 3.0 * _S6) / 225.0
_RA21, _RA22, _RA23 = (296.0 + 169.0 * _S6) / 1800.0, (88.0 + 7.0 * _S6) / 360.0, (
    -2.0 - 3.0 * _S6) / 225.0
_RA31, _RA32, _RA33 = (16.0 - _S6) / 36.0, (16.0 + _S6) / 36.0, 1.0 / 9.0
# Embedded error estimate of RADAU5 (Hairer & Wanner, Solving ODE II, IV.8): real eigenvalue
# of A^-1 and the weights of the stage increments.
_RU1 = 30.0 / (6.0 + 81.0 ** (1.0 / 3.0) - 9.0 ** (1.0 / 3.0))
_RD1, _RD2, _RD3 = -(13.0 + 7.0 * _S6) / 3.0, (-13.0 + 7.0 * _S6) / 3.0, -1.0 / 3.0
# Lagrange denominators for the cubic through the nodes 0, c1, c2, 1 (dense output).
_LD0 = (0.0 - _RC1) * (0.0 - _RC2) * (0.0 - 1.0)
_LD1 = (_RC1 - 0.0) * (_RC1 - _RC2) * (_RC1 - 1.0)
_LD2 = (_RC2 - 0.0) * (_RC2 - _RC1) * (_RC2 - 1.0)
_LD3 = (1.0 - 0.0) * (1.0 - _RC1) * (1.0 - _RC2)

# Compiler flags of every solver function: no Python division checks (they block
# vectorisation), fused multiply-add contraction and no other fast-math; inlined into the model
# kernel so the whole block step is one function (no per-call reference counting).
_inline_jit = njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")

_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 10.0

# Status codes written per block.
STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_STEP_TOO_SMALL = 2
STATUS_NOT_FINITE = 3
STATUS_TEXT = {
    STATUS_OK: "ok",
    STATUS_MAX_STEPS: "maximum number of steps reached; raise SolverOptions.max_steps",
    STATUS_STEP_TOO_SMALL: "step size underflow; the problem may be too stiff or ill-posed",
    STATUS_NOT_FINITE: "non-finite state; check the parameters for extreme values",
}


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
    w = wl[ln]
    wl[ln] = r if r > w else w + (r - r)  # r - r is NaN when r is


@_inline_jit
def _worst(wl, n):  # type: ignore[no-untyped-def]
    """Max of wl[:n] (a scalar pass after the vectorised lane loops); NaN wins."""
    worst = 0.0
    for ln in range(n):
        x = wl[ln]
        if not x <= worst:
            worst = x
    return worst


@_inline_jit
def _block_breakpoints(first, n, sched, ev_ptr, ev_time, extra, t_end):  # type: ignore[no-untyped-def]
    """Sorted unique event times of the block's patients, plus extra times, within [0, t_end]."""
    m = extra.size + 1
    for ln in range(n):
        q = sched[first + ln]
        m += ev_ptr[q + 1] - ev_ptr[q]
    buf = np.empty(m)
    j = 0
    for ln in range(n):
        q = sched[first + ln]
        for e in range(ev_ptr[q], ev_ptr[q + 1]):
            buf[j] = ev_time[e]
            j += 1
    for e in range(extra.size):
        buf[j] = extra[e]
        j += 1
    buf[j] = t_end
    buf = np.sort(buf)
    out = np.empty(m)
    c = 0
    for i in range(m):
        if buf[i] > t_end:
            break
        if c == 0 or buf[i] > out[c - 1]:
            out[c] = buf[i]
            c += 1
    return out[:c]


@_inline_jit
def _apply_events(tb, first, n, sched, ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus, ptr, y, u):  # type: ignore[no-untyped-def]
    """Apply every event at time ``tb``: rate changes to u, boluses to y.

    Returns True when an input starts from zero or a bolus is given (a sharp onset that needs
    a small first step); rate changes of a running infusion and stops return False.
    """
    onset = False
    for ln in range(n):
        e = ptr[ln]
        end = ev_ptr[sched[first + ln] + 1]
        while e < end and ev_time[e] <= tb:
            c = ev_cmt[e]
            before = u[c, ln]
            u[c, ln] += ev_rate[e]
            if abs(u[c, ln]) < 1e-9:  # rates are sums of +r/-r pairs: snap round-off to zero
                u[c, ln] = 0.0
            if ev_bolus[e] != 0.0 or (before == 0.0 and u[c, ln] != 0.0):
                onset = True
            y[c, ln] += ev_bolus[e]
            e += 1
        ptr[ln] = e
    return onset


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


@_inline_jit
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


@_inline_jit
def no_linear_states(s, t, y, p, g, lam, n):  # type: ignore[no-untyped-def]
    """The ``linear`` function of a model without linear states (never called)."""
    return


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


@_inline_jit
def _linear_substep(linear, tau, hl, ys, ynode, active, p, gb, lb, rtol, atol, wl, n):  # type: ignore[no-untyped-def]
    """Advance the active linear states (``active``, ascending) over ``[tau, tau + hl]`` by
    Radau IIA.

    ``ys`` holds the states at ``tau`` that the linear functions read (the explicit ones from
    the Dormand–Prince dense output, the linear ones as integrated so far); ``ynode[j]`` the
    explicit states at the nodes ``tau + c_j hl`` (filled by the caller). Each linear state
    solves its 3x3 collocation system per lane, ``(I + h·A·diag(λ)) Y = y + h·A·g``, in the
    model's order, so that a state may depend on the node values of the linear states before
    it. The node values go to ``ynode[j, s]`` (``ynode[2, s]``: the value at ``tau + hl``).

    Returns the error norm (max over lanes and states of the RADAU5 embedded estimate,
    ``(I − hγJ)^-1``-filtered, over ``atol + rtol·max(|y|, |y_new|)``).
    """
    for ln in range(n):
        wl[ln] = 0.0
    inv_h = 1.0 / hl
    for i in range(active.size):
        s = active[i]
        linear(s, tau, ys, p, gb[3], lb[3], n)
        linear(s, tau + _RC1 * hl, ynode[0], p, gb[0], lb[0], n)
        linear(s, tau + _RC2 * hl, ynode[1], p, gb[1], lb[1], n)
        linear(s, tau + hl, ynode[2], p, gb[2], lb[2], n)
        a = atol[s]
        for ln in range(n):
            y0 = ys[s, ln]
            l0, l1, l2 = hl * lb[0, ln], hl * lb[1, ln], hl * lb[2, ln]
            g0, g1, g2 = hl * gb[0, ln], hl * gb[1, ln], hl * gb[2, ln]
            m00, m01, m02 = 1.0 + _RA11 * l0, _RA12 * l1, _RA13 * l2
            m10, m11, m12 = _RA21 * l0, 1.0 + _RA22 * l1, _RA23 * l2
            m20, m21, m22 = _RA31 * l0, _RA32 * l1, 1.0 + _RA33 * l2
            r0 = y0 + _RA11 * g0 + _RA12 * g1 + _RA13 * g2
            r1 = y0 + _RA21 * g0 + _RA22 * g1 + _RA23 * g2
            r2 = y0 + _RA31 * g0 + _RA32 * g1 + _RA33 * g2
            c00 = m11 * m22 - m12 * m21
            c01 = m12 * m20 - m10 * m22
            c02 = m10 * m21 - m11 * m20
            inv = 1.0 / (m00 * c00 + m01 * c01 + m02 * c02)
            x0 = (c00 * r0 + (m02 * m21 - m01 * m22) * r1 + (m01 * m12 - m02 * m11) * r2) * inv
            x1 = (c01 * r0 + (m00 * m22 - m02 * m20) * r1 + (m02 * m10 - m00 * m12) * r2) * inv
            x2 = (c02 * r0 + (m01 * m20 - m00 * m21) * r1 + (m00 * m11 - m01 * m10) * r2) * inv
            ynode[0, s, ln] = x0
            ynode[1, s, ln] = x1
            ynode[2, s, ln] = x2
            lam0 = lb[3, ln]
            f0 = gb[3, ln] - lam0 * y0
            e = (f0 + (_RD1 * (x0 - y0) + _RD2 * (x1 - y0) + _RD3 * (x2 - y0)) * inv_h) / (
                _RU1 * inv_h + lam0)
            _track(wl, ln, e, y0, x2, a, rtol)
    return _worst(wl, n)


@_inline_jit
def _dense_linear(theta, y, ynode, yd, states, ne, n):  # type: ignore[no-untyped-def]
    """Dense values of the listed linear states (s >= ne) at θ: the collocation polynomial
    (the cubic through the step start and the three Radau nodes)."""
    w0 = (theta - _RC1) * (theta - _RC2) * (theta - 1.0) / _LD0
    w1 = theta * (theta - _RC2) * (theta - 1.0) / _LD1
    w2 = theta * (theta - _RC1) * (theta - 1.0) / _LD2
    w3 = theta * (theta - _RC1) * (theta - _RC2) / _LD3
    for i in range(states.size):
        s = states[i]
        if s < ne:
            continue
        for ln in range(n):
            yd[s, ln] = (w0 * y[s, ln] + w1 * ynode[0, s, ln] + w2 * ynode[1, s, ln]
                         + w3 * ynode[2, s, ln])


@_inline_jit
def integrate_block(rhs, linear, outputs, first, n, lanes, P, y0, sched, rows, dense,  # type: ignore[no-untyped-def]
                    ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus, t_out, extra, t_end, intervals,
                    reduce_spec, rtol, atol, h_init, max_steps, n_out, ne, sel, out, red):
    """Integrate patients ``first .. first + n - 1`` (processing order) as one lockstep block.

    ``P``, ``y0`` and ``sched`` are in processing order; results of patient ``i`` go to row
    ``rows[i]`` of ``out`` and of the reduction arrays. ``dense`` is
    ``(dense_states, active, node_states)``: the states the kept and reduced outputs read (only
    these are interpolated), the linear states that are integrated (those outputs need them;
    the others keep their initial values) and the explicit states those read (interpolated at
    the Radau nodes). ``n_out``: the number of model outputs; ``sel``: the
    indices of the outputs to store, in the order of ``out``'s rows.

    The first ``ne`` states are explicit (Dormand–Prince steps, accepted on their own error);
    the others are linear states, advanced through each accepted step by their own adaptive
    Radau IIA substeps (:func:`_linear_substep`, through the model's ``linear`` function),
    which read the explicit states from the step's dense output: a multirate scheme, so the
    fast linear states (B cells after a dose) do not make the explicit states take their small
    steps. ``atol`` has one entry per state.

    Returns ``(status, n_accepted, n_rejected, n_substeps)``: the explicit steps and the
    accepted linear substeps.
    """
    dense_states, active, node_states = dense
    ns = y0.shape[1]
    npar = P.shape[1]
    p = np.empty((npar, lanes))
    y = np.zeros((ns, lanes))
    u = np.zeros((ns, lanes))
    yt = np.zeros((ns, lanes))
    yn = np.zeros((ns, lanes))
    k = np.zeros((7, ns, lanes))
    o = np.zeros((n_out, lanes))
    ro = reduce_spec[0]
    n_red = ro.size
    c0 = np.zeros((n_red, lanes))
    c1 = np.zeros((n_red, lanes))
    cg = np.zeros((n_red, 3, lanes))
    bw = np.zeros(7)
    wl = np.zeros(lanes)
    ptr = np.empty(lanes, dtype=np.int64)
    ynode = np.zeros((3, ns, lanes))
    ys = np.zeros((ns, lanes))
    gb = np.zeros((4, lanes))
    lb = np.zeros((4, lanes))
    for ln in range(n):
        ptr[ln] = ev_ptr[sched[first + ln]]
        for j in range(npar):
            p[j, ln] = P[first + ln, j]
        for s in range(ns):
            y[s, ln] = y0[first + ln, s]
    reduce = intervals.shape[0] > 0
    # Outputs are staged per block, time-major (contiguous over lanes), and transposed into
    # their rows at the end: writing one time point of 64 scattered rows at a time would touch
    # 64 cache lines and pages per point.
    staged = np.empty((sel.size, t_out.size, lanes))
    bps = _block_breakpoints(first, n, sched, ev_ptr, ev_time, extra, t_end)
    n_t = t_out.size
    jo = 0
    t = 0.0
    h = h_init
    hl = h_init
    n_acc = 0
    n_rej = 0
    n_sub = 0
    n_sub_rej = 0
    has_linear = active.size > 0
    fac_l = 1.0
    for ib in range(bps.size):
        tb = bps[ib]
        # Integrate [t, tb] (no discontinuity inside).
        if tb > t:
            rhs(t, y, p, u, k[0], n)
            while t < tb:
                if tb - t <= h * 1.000001:
                    h = tb - t
                    last = True
                else:
                    last = False
                status = _step_status(h, t, n_acc + n_rej + n_sub + n_sub_rej, max_steps)
                if status != STATUS_OK:
                    return status, n_acc, n_rej, n_sub
                _stage1(y, k, h, yt, ne, n)
                rhs(t + _C2 * h, yt, p, u, k[1], n)
                _stage2(y, k, h, yt, ne, n)
                rhs(t + _C3 * h, yt, p, u, k[2], n)
                _stage3(y, k, h, yt, ne, n)
                rhs(t + _C4 * h, yt, p, u, k[3], n)
                _stage4(y, k, h, yt, ne, n)
                rhs(t + _C5 * h, yt, p, u, k[4], n)
                _stage5(y, k, h, yt, ne, n)
                rhs(t + h, yt, p, u, k[5], n)
                _stage6(y, k, h, yn, ne, n)
                rhs(t + h, yn, p, u, k[6], n)
                err = _error_norm(y, yn, k, h, rtol, atol, wl, ne, n)
                if not err < 1e300:
                    return STATUS_NOT_FINITE, n_acc, n_rej, n_sub
                fac = _step_factor(err, 0.2)  # DP5 error ~ h^5
                if err > 1.0:
                    n_rej += 1
                    h = h * max(_MIN_FACTOR, fac)
                    continue
                t_new = tb if last else t + h
                if has_linear:  # the linear states and what they read, at the step start
                    _copy_states(y, ys, node_states, n)
                    _copy_states(y, ys, active, n)
                # Linear substeps [tau, tau + hs] through [t, t_new] (one piece without them),
                # each with its outputs and reductions.
                tau = t
                sub_last = False
                while not sub_last:
                    if has_linear:
                        if t_new - tau <= hl * 1.000001:
                            hl = t_new - tau
                            sub_last = True
                        status = _step_status(hl, tau, n_acc + n_rej + n_sub + n_sub_rej,
                                              max_steps)
                        if status != STATUS_OK:
                            return status, n_acc, n_rej, n_sub
                        th0 = (tau - t) / h
                        _explicit_at(th0 + _RC1 * hl / h, y, yn, k, h, bw, ynode[0],
                                     node_states, ne, n)
                        _explicit_at(th0 + _RC2 * hl / h, y, yn, k, h, bw, ynode[1],
                                     node_states, ne, n)
                        _explicit_at(1.0 if sub_last else th0 + hl / h, y, yn, k, h, bw,
                                     ynode[2], node_states, ne, n)
                        errl = _linear_substep(linear, tau, hl, ys, ynode, active, p, gb, lb,
                                               rtol, atol, wl, n)
                        if not errl < 1e300:
                            return STATUS_NOT_FINITE, n_acc, n_rej, n_sub
                        fac_l = _step_factor(errl, 0.25)  # RADAU5 estimate ~ h^4
                        if errl > 1.0:
                            n_sub_rej += 1
                            hl = hl * max(_MIN_FACTOR, fac_l)
                            sub_last = False
                            continue
                        hs = hl
                        tau_new = t_new if sub_last else tau + hl
                    else:
                        hs = h
                        tau_new = t_new
                        sub_last = True
                    th0 = (tau - t) / h
                    rs = hs / h
                    # Dense outputs strictly inside the substep and at its end.
                    while jo < n_t and t_out[jo] <= tau_new:
                        if t_out[jo] >= tau:
                            _dense_weights((t_out[jo] - t) / h, bw)
                            _dense_state(y, k, h, bw, yt, dense_states, ne, n)
                            if has_linear:
                                _dense_linear((t_out[jo] - tau) / hs, ys, ynode, yt,
                                              dense_states, ne, n)
                            outputs(yt, p, o, n)
                            _write_outputs(o, sel, n, jo, staged)
                        jo += 1
                    if reduce:
                        for g in range(5):  # substep start, end, then the Gauss nodes
                            if g == 0:
                                xg = 0.0
                            elif g == 1:
                                xg = 1.0
                            else:
                                xg = _GL_X0 if g == 2 else (_GL_X1 if g == 3 else _GL_X2)
                            if g == 1 and sub_last:
                                tho = 1.0
                            else:
                                tho = th0 + xg * rs
                            _explicit_at(tho, y, yn, k, h, bw, yt, dense_states, ne, n)
                            if has_linear:
                                _dense_linear(xg, ys, ynode, yt, dense_states, ne, n)
                            outputs(yt, p, o, n)
                            _gather(o, ro, c0 if g == 0 else (c1 if g == 1 else cg[:, g - 2]),
                                    n)
                        _reduce_step(tau, hs, c0, c1, cg, intervals, reduce_spec, first, n,
                                     rows, red)
                    if has_linear:
                        _copy_states(ynode[2], ys, node_states, n)
                        _copy_states(ynode[2], ys, active, n)
                        n_sub += 1
                        hl = _next_size(hl, fac_l, sub_last)
                    tau = tau_new
                for st in range(ne):
                    for ln in range(n):
                        y[st, ln] = yn[st, ln]
                        k[0, st, ln] = k[6, st, ln]
                _copy_states(ys, y, active, n)
                t = t_new
                n_acc += 1
                h = _next_size(h, fac, last)
        # Outputs at the breakpoint itself before any step (t = 0 case).
        while jo < n_t and t_out[jo] <= t and t_out[jo] == tb:
            outputs(y, p, o, n)
            _write_outputs(o, sel, n, jo, staged)
            jo += 1
        onset = _apply_events(tb, first, n, sched, ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus,
                              ptr, y, u)
        # A dose onset makes the old step sizes meaningless for the new dynamics.
        if onset:
            h = min(h, h_init)
            hl = min(hl, h_init)
    _flush_outputs(staged, first, n, rows, out)
    return STATUS_OK, n_acc, n_rej, n_sub


@_inline_jit
def run_blocks(rhs, linear, outputs, n_out, ne, b0, b1, starts, lanes, P, y0, sched_of, rows,  # type: ignore[no-untyped-def]
               dense, events, t_out, extra, t_end, intervals, reduce_spec, rtol, atol, h_init,
               max_steps, sel, out, red, stats):
    """Blocks ``b0 .. b1-1``, threads over blocks: the body of every model's kernel.

    ``events`` is the tuple ``(ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus)``. A model's
    kernel is a module-level ``@njit(parallel=True, cache=True)`` function that calls this
    with its ``rhs``, ``linear`` and ``outputs``, its number of outputs and of explicit
    states (see ``pk.py``).
    """
    ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus = events
    for b in numba.prange(b0, b1):
        first = starts[b]
        n = starts[b + 1] - first
        st, na, nr, nsub = integrate_block(
            rhs, linear, outputs, first, n, lanes, P, y0, sched_of, rows, dense, ev_ptr, ev_time,
            ev_cmt, ev_rate, ev_bolus, t_out, extra, t_end, intervals, reduce_spec, rtol, atol,
            h_init, max_steps, n_out, ne, sel, out, red)
        stats[b, 0] = st
        stats[b, 1] = na
        stats[b, 2] = nr
        stats[b, 3] = nsub


# --------------------------------------------------------------------------- Python side


@dataclass(frozen=True, slots=True)
class SolverOptions:
    """Options of the compiled solver.

    Parameters
    ----------
    rtol : float
        Relative tolerance of the local error per step (max-norm over lanes and states).
    atol : float
        Absolute tolerance, multiplied by each state's scale (``ModelSpec.atol_scale``).
    lanes : int
        Patients stepped together as one SIMD block (lockstep); 8–128.
    threads : int or None
        Threads over blocks; None uses Numba's default (all cores). Results do not depend on it.
    max_steps : int
        Maximum steps (accepted + rejected) per block before a :class:`SolverError`.
    h_init : float
        Step size in days after every dosing discontinuity.
    """

    rtol: float = 1e-8
    atol: float = 1e-9
    lanes: int = 64
    threads: int | None = None
    max_steps: int = 1_000_000
    h_init: float = 1e-4

    def __post_init__(self) -> None:
        checks: list[tuple[str, float, float, float]] = [
            ("rtol", self.rtol, 1e-14, 1e-2), ("atol", self.atol, 1e-20, 1.0),
            ("lanes", self.lanes, 1, 1024), ("max_steps", self.max_steps, 10, 1e12),
            ("h_init", self.h_init, 1e-9, 1.0)]
        if self.threads is not None:
            max_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
            checks.append(("threads", self.threads, 1, max_threads))
        for name, value, lo, hi in checks:
            if not (math.isfinite(value) and lo <= value <= hi):
                raise InvalidParameterError(
                    f"SolverOptions.{name} = {value!r} is outside [{lo:g}, {hi:g}]; "
                    f"choose a value in that range")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model the solver can run: names, units, tolerances and its compiled kernel.

    ``kernel`` is a module-level ``@njit(parallel=True, cache=True)`` function that calls
    :func:`run_blocks` with the model's ``rhs``, ``linear`` and ``outputs`` (see ``pk.py``).
    """

    name: str
    states: tuple[str, ...]
    outputs: tuple[str, ...]
    output_units: tuple[str, ...]
    atol_scale: tuple[float, ...]
    kernel: Callable[..., Any]
    sort_column: int | None = None
    """Kernel parameter column used to put patients with similar dynamics in one block (fewer
    lockstep steps); None keeps the input order within each dosing schedule."""
    output_reads: tuple[tuple[int, ...], ...] | None = None
    """Per output, the states it reads: only the states behind the stored and reduced outputs
    are interpolated for dense output (the others' outputs are computed but not kept; None:
    every state)."""
    uniform_column: int | None = None
    """Kernel parameter column whose value the solver keeps identical within every block
    (blocks are cut where it changes), so ``rhs`` may evaluate functions of it once per block,
    e.g. ``exp(-kdes·t)`` from ``p[col, 0]``."""
    n_explicit: int | None = None
    """The first ``n_explicit`` states are integrated by Dormand–Prince; the others are
    *linear states* advanced by Radau IIA on the same steps (None: all explicit); the solver
    passes this number to the kernel. See the module docstring for the conditions a linear
    state must meet."""
    linear_reads: tuple[tuple[int, ...], ...] | None = None
    """Per linear state (in state order), the states its ``g`` and ``lam`` read: explicit states
    and earlier linear states. With ``output_reads`` it lets the solver integrate only the
    linear states that the stored and reduced outputs need (a run asking for C and B skips the
    T-cell and Ig states), and interpolate at the Radau nodes only the explicit states they
    read. None: every linear state is integrated and every explicit state interpolated."""

    def __post_init__(self) -> None:
        ns = len(self.states)
        ne = ns if self.n_explicit is None else self.n_explicit
        if self.output_reads is not None and len(self.output_reads) != len(self.outputs):
            raise InvalidParameterError(
                f"model {self.name!r}: output_reads has {len(self.output_reads)} entries for "
                f"{len(self.outputs)} outputs")
        if self.linear_reads is not None and (
                len(self.linear_reads) != ns - ne
                or any(not 0 <= r < ne + i for i, rs in enumerate(self.linear_reads)
                       for r in rs)):
            raise InvalidParameterError(
                f"model {self.name!r}: linear_reads needs one entry per linear state "
                f"({ns - ne}), each naming explicit states or earlier linear states")
        if not 1 <= ne <= ns or len(self.atol_scale) != ns:
            raise InvalidParameterError(
                f"model {self.name!r}: n_explicit = {self.n_explicit} and {len(self.atol_scale)} "
                f"atol scales for {ns} states; need 1 <= n_explicit <= {ns} and one scale per "
                "state")

    @property
    def explicit(self) -> int:
        """Number of explicit (Dormand–Prince) states, passed to the kernel."""
        return len(self.states) if self.n_explicit is None else self.n_explicit


@dataclass(frozen=True, slots=True)
class Schedules:
    """Dose events of the distinct schedules and each patient's schedule index.

    Events of schedule ``q`` are rows ``ev_ptr[q]:ev_ptr[q + 1]`` sorted by time: ``cmt``
    (0-based state), ``rate`` (change of zero-order input, mg/day), ``bolus`` (mg).
    """

    sched: Int1D
    ev_ptr: Int1D
    ev_time: Float1D
    ev_cmt: Int1D
    ev_rate: Float1D
    ev_bolus: Float1D


@dataclass(frozen=True, slots=True)
class RawSolution:
    """What the kernel wrote: outputs ``(n_outputs, n, n_times)`` and interval reductions."""

    out: np.ndarray
    auc: Float2D
    cmax: Float2D
    ctrough: Float2D
    time_above: Float2D
    n_accepted: int
    n_rejected: int
    reductions: np.ndarray
    """All reductions, ``(n_reduced, 5, n, n_intervals)``: area, max, value at the end, time
    above the threshold, first time above it (NaN: never), per reduced output."""
    n_substeps: int = 0
    """Accepted substeps of the linear states (0 for a model without them)."""


def integrate(spec: ModelSpec, P: Float2D, y0: Float2D, schedules: Schedules, t_out: Float1D,
              intervals: Float2D, threshold: float | Sequence[float], options: SolverOptions, *,
              progress: Callable[[int, int], None] | None = None,
              chunk_blocks: int = 256, out: np.ndarray | None = None,
              select: Sequence[int] | None = None,
              reduce_outputs: Sequence[int] = (0,)) -> RawSolution:
    """Run ``spec``'s kernel for all patients; raise :class:`SolverError` on any failure.

    ``P`` (n, n_params) kernel parameters, ``y0`` (n, n_states) initial states, ``t_out``
    sorted output days (may be empty), ``intervals`` (n_int, 2) reduction windows in days.
    ``progress(done, total)`` is called after each chunk of blocks. ``out``: an optional
    C-contiguous float64 buffer of shape (n_outputs, n, n_times) to write the outputs into;
    repeated runs that reuse one buffer skip the operating system's zeroing of fresh pages
    (about a third of the run time for 100k patients x 731 days). ``select``: indices of
    the model outputs to store (default all), in this order. ``reduce_outputs``: indices of
    the outputs reduced over ``intervals`` (default: output 0), with one ``threshold`` each
    (a single number applies to all).
    """
    n = P.shape[0]
    lanes = options.lanes
    rows, starts = _blocks(spec, P, schedules.sched, lanes)
    P = np.ascontiguousarray(P[rows], dtype=np.float64)
    y0 = np.ascontiguousarray(y0[rows], dtype=np.float64)
    sched_of = np.ascontiguousarray(schedules.sched[rows], dtype=np.int64)
    # Writable, C-contiguous copies of fixed dtype: Numba compiles one specialisation per
    # argument type, and read-only or strided arrays are other types (minutes of compiling).
    t_out = _plain(t_out, np.float64)
    intervals = _plain(intervals, np.float64).reshape(-1, 2)
    n_blocks = starts.size - 1
    t_end = float(max(t_out[-1] if t_out.size else 0.0,
                      intervals.max() if intervals.size else 0.0))
    extra = np.unique(intervals.ravel()) if intervals.size else np.zeros(0)
    n_int = intervals.shape[0]
    sel = np.asarray(range(len(spec.outputs)) if select is None else select, dtype=np.int64)
    if sel.ndim != 1 or np.any((sel < 0) | (sel >= len(spec.outputs))):
        raise InvalidParameterError(
            f"select = {select!r}: give indices of outputs in 0..{len(spec.outputs) - 1}")
    shape = (sel.size, n, t_out.size)
    if out is None:
        out = np.empty(shape)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise InvalidParameterError(
            f"out buffer has shape {out.shape}, dtype {out.dtype}; need a C-contiguous float64 "
            f"array of shape {shape}")
    ro = np.array(reduce_outputs, dtype=np.int64, ndmin=1)
    if ro.ndim != 1 or ro.size == 0 or np.any((ro < 0) | (ro >= len(spec.outputs))):
        raise InvalidParameterError(
            f"reduce_outputs = {reduce_outputs!r}: give indices of outputs in "
            f"0..{len(spec.outputs) - 1}")
    thresholds = np.array(np.broadcast_to(np.asarray(threshold, dtype=np.float64), ro.shape))
    reduce_spec = (ro, thresholds)
    # Per reduced output: area, max, value at end, time above, first time above (_reduce_step).
    red = np.zeros((ro.size, 5, n, n_int))
    red[:, 1] = -np.inf
    red[:, 2] = np.nan
    red[:, 4] = np.nan
    stats = np.zeros((n_blocks, 4), dtype=np.int64)
    atol = options.atol * np.asarray(spec.atol_scale, dtype=np.float64)
    needed = _needed_states(spec, (*sel.tolist(), *ro.tolist()))
    events = (_plain(schedules.ev_ptr, np.int64), _plain(schedules.ev_time, np.float64),
              _plain(schedules.ev_cmt, np.int64), _plain(schedules.ev_rate, np.float64),
              _plain(schedules.ev_bolus, np.float64))
    previous = numba.get_num_threads()
    if options.threads is not None:
        numba.set_num_threads(options.threads)
    try:
        for b0 in range(0, n_blocks, chunk_blocks):
            b1 = min(n_blocks, b0 + chunk_blocks)
            spec.kernel(b0, b1, starts, int(lanes), spec.explicit, P, y0, sched_of, rows,
                        needed, events, t_out, extra, t_end, intervals, reduce_spec,
                        float(options.rtol), atol, float(options.h_init),
                        int(options.max_steps), sel, out, red, stats)
            if progress is not None:
                progress(int(starts[b1]), n)
    finally:
        numba.set_num_threads(previous)
    _raise_on_failure(stats, starts, rows)
    return RawSolution(out, red[0, 0], red[0, 1], red[0, 2], red[0, 3], int(stats[:, 1].sum()),
                       int(stats[:, 2].sum()), red, int(stats[:, 3].sum()))


def _needed_states(spec: ModelSpec,
                   used_outputs: Sequence[int]) -> tuple[Int1D, Int1D, Int1D]:
    """What the kernel computes for these outputs, each ascending: the states to interpolate
    at output times (read by the outputs), the linear states to integrate (those, and every
    linear state they depend on through ``linear_reads``) and the explicit states to
    interpolate at the Radau nodes (read by the integrated linear states)."""
    ns, ne = len(spec.states), spec.explicit
    if spec.output_reads is None:
        dense = set(range(ns))
    else:
        dense = {st for i in used_outputs for st in spec.output_reads[i]}
    if spec.linear_reads is None:
        active = set(range(ne, ns))
        nodes = set(range(ne)) if active else set()
    else:
        active = {st for st in dense if st >= ne}
        nodes = set()
        for st in range(ns - 1, ne - 1, -1):  # reads point to earlier states only
            if st in active:
                reads = spec.linear_reads[st - ne]
                active.update(r for r in reads if r >= ne)
                nodes.update(r for r in reads if r < ne)

    def arr(x: set[int]) -> Int1D:
        return np.array(sorted(x), dtype=np.int64)

    return arr(dense), arr(active), arr(nodes)


def _plain(a: np.ndarray, dtype: type) -> np.ndarray:
    """A writable C-contiguous copy with the given dtype (one kernel type signature)."""
    return np.array(a, dtype=dtype, order="C", copy=True)


def _blocks(spec: ModelSpec, P: Float2D, sched: Int1D, lanes: int) -> tuple[Int1D, Int1D]:
    """Processing order and block starts.

    Patients are grouped by ``uniform_column`` value and by dosing schedule (blocks never mix
    them: shared breakpoints, block-uniform time functions), then ordered by ``sort_column`` so
    that patients with similar dynamics share a block. Results are written straight to the
    caller's rows (no permuted copy).
    """
    group_keys: list[np.ndarray] = [sched]
    if spec.uniform_column is not None:
        group_keys.append(P[:, spec.uniform_column])
    keys = ([] if spec.sort_column is None else [P[:, spec.sort_column]]) + group_keys
    rows = np.lexsort(keys).astype(np.int64)
    change = np.zeros(rows.size, dtype=bool)
    change[0] = True
    for k in group_keys:
        ks = k[rows]
        change[1:] |= ks[1:] != ks[:-1]
    group_starts = np.flatnonzero(change)
    group_ends = np.r_[group_starts[1:], rows.size]
    starts = [np.arange(a, b, lanes) for a, b in zip(group_starts, group_ends, strict=True)]
    return rows, np.r_[np.concatenate(starts), rows.size].astype(np.int64)


def _raise_on_failure(stats: np.ndarray, starts: Int1D, rows: np.ndarray) -> None:
    bad = np.flatnonzero(stats[:, 0] != STATUS_OK)
    if bad.size == 0:
        return
    b = int(bad[0])
    patients = sorted(int(r) for r in rows[starts[b]:starts[b + 1]])
    shown = ", ".join(map(str, patients[:8])) + (", ..." if len(patients) > 8 else "")
    raise SolverError(
        f"solver failed in {bad.size} block(s); first failing block holds patient rows "
        f"(0-based) {shown}: {STATUS_TEXT[int(stats[b, 0])]}")
