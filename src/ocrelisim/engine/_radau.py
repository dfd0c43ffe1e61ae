"""Radau IIA substeps of the linear states (closed-form 3x3 collocation per lane)."""

from __future__ import annotations

from ._dopri import _track, _worst
from ._tableau import (
    _LD0,
    _LD1,
    _LD2,
    _LD3,
    _RA11,
    _RA12,
    _RA13,
    _RA21,
    _RA22,
    _RA23,
    _RA31,
    _RA32,
    _RA33,
    _RC1,
    _RC2,
    _RD1,
    _RD2,
    _RD3,
    _RU1,
    _inline_jit,
)


@_inline_jit
def _linear_substep(linear, tau, hl, ys, ynode, active, rate_of, p, gb, lb, minv, rtol, atol,  # type: ignore[no-untyped-def]
                    wl, n):
    """Advance the active linear states (``active``, ascending) over ``[tau, tau + hl]`` by
    Radau IIA.

    ``ys`` holds the states at ``tau`` that the linear functions read (the explicit ones from
    the Dormand–Prince dense output, the linear ones as integrated so far); ``ynode[j]`` the
    explicit states at the nodes ``tau + c_j hl`` (filled by the caller). Each linear state
    solves its 3x3 collocation system per lane, ``(I + h·A·diag(λ)) Y = y + h·A·g``, in the
    model's order, so that a state may depend on the node values of the linear states before
    it and on their ``g`` and ``λ`` at the same point (``gb[j]``, ``lb[j]``: ``(n_states,
    lanes)`` at the nodes, row 3 the substep start). The node values go to ``ynode[j, s]``
    (``ynode[2, s]``: the value at ``tau + hl``).

    A state with its own rate (``rate_of[s] == s``) inverts its matrix and keeps the inverse
    in ``minv[s]`` (rows 0-8, row 9 the error estimate's scale); a state that shares the rate
    of an earlier one (``rate_of[s] = r``, the same ``λ`` at all times) reuses ``minv[r]``: no
    determinant, no division.

    Returns the error norm (max over lanes and states of the RADAU5 embedded estimate,
    ``(I − hγJ)^-1``-filtered, over ``atol + rtol·max(|y|, |y_new|)``).
    """
    for ln in range(n):
        wl[ln] = 0.0
    inv_h = 1.0 / hl
    for i in range(active.size):
        s = active[i]
        for j in range(4):  # the step start (row 3) and the three nodes: one call site
            if j == 0:
                tj = tau + _RC1 * hl
            elif j == 1:
                tj = tau + _RC2 * hl
            elif j == 2:
                tj = tau + hl
            else:
                tj = tau
            linear(s, tj, ys if j == 3 else ynode[j], p, gb[j], lb[j], n)
        r = rate_of[s]
        if r == s:
            _invert(hl, inv_h, lb, s, minv[s], n)
        _collocate(hl, inv_h, ys, ynode, gb, lb, s, r, minv[r], atol[s], rtol, wl, n)
    return _worst(wl, n)


@_inline_jit
def _invert(hl, inv_h, lb, s, mi, n):  # type: ignore[no-untyped-def]
    """``mi[0:9]``: the inverse of ``I + h·A·diag(λ_s)`` (row-major, by cofactors), ``mi[9]``:
    ``|1/(γh) + λ_s(τ)|``, the error estimate's scale, per lane."""
    for ln in range(n):
        l0, l1, l2 = hl * lb[0, s, ln], hl * lb[1, s, ln], hl * lb[2, s, ln]
        m00, m01, m02 = 1.0 + _RA11 * l0, _RA12 * l1, _RA13 * l2
        m10, m11, m12 = _RA21 * l0, 1.0 + _RA22 * l1, _RA23 * l2
        m20, m21, m22 = _RA31 * l0, _RA32 * l1, 1.0 + _RA33 * l2
        c00 = m11 * m22 - m12 * m21
        c01 = m12 * m20 - m10 * m22
        c02 = m10 * m21 - m11 * m20
        inv = 1.0 / (m00 * c00 + m01 * c01 + m02 * c02)
        mi[0, ln] = c00 * inv
        mi[1, ln] = (m02 * m21 - m01 * m22) * inv
        mi[2, ln] = (m01 * m12 - m02 * m11) * inv
        mi[3, ln] = c01 * inv
        mi[4, ln] = (m00 * m22 - m02 * m20) * inv
        mi[5, ln] = (m02 * m10 - m00 * m12) * inv
        mi[6, ln] = c02 * inv
        mi[7, ln] = (m01 * m20 - m00 * m21) * inv
        mi[8, ln] = (m00 * m11 - m01 * m10) * inv
        mi[9, ln] = abs(_RU1 * inv_h + lb[3, s, ln])


@_inline_jit
def _collocate(hl, inv_h, ys, ynode, gb, lb, s, r, mi, a, rtol, wl, n):  # type: ignore[no-untyped-def]
    """Node values of state ``s`` from the inverse ``mi`` of its matrix (that of state ``r``,
    whose rate it has), and its error estimate into ``wl``."""
    for ln in range(n):
        y0 = ys[s, ln]
        g0, g1, g2 = hl * gb[0, s, ln], hl * gb[1, s, ln], hl * gb[2, s, ln]
        r0 = y0 + _RA11 * g0 + _RA12 * g1 + _RA13 * g2
        r1 = y0 + _RA21 * g0 + _RA22 * g1 + _RA23 * g2
        r2 = y0 + _RA31 * g0 + _RA32 * g1 + _RA33 * g2
        x0 = mi[0, ln] * r0 + mi[1, ln] * r1 + mi[2, ln] * r2
        x1 = mi[3, ln] * r0 + mi[4, ln] * r1 + mi[5, ln] * r2
        x2 = mi[6, ln] * r0 + mi[7, ln] * r1 + mi[8, ln] * r2
        ynode[0, s, ln] = x0
        ynode[1, s, ln] = x1
        ynode[2, s, ln] = x2
        f0 = gb[3, s, ln] - lb[3, r, ln] * y0
        # error e / d over a + rtol·max|y|: the same ratio as e over d·(a + rtol·max|y|), so
        # the tolerance is scaled by d instead of dividing (one division less per lane)
        e = f0 + (_RD1 * (x0 - y0) + _RD2 * (x1 - y0) + _RD3 * (x2 - y0)) * inv_h
        d = mi[9, ln]
        _track(wl, ln, e, d * y0, d * x2, d * a, rtol)


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
