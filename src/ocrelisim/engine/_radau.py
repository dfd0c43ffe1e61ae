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
def _linear_substep(linear, tau, hl, ys, ynode, active, p, gb, lb, rtol, atol, wl, n):  # type: ignore[no-untyped-def]
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
        a = atol[s]
        for ln in range(n):
            y0 = ys[s, ln]
            l0, l1, l2 = hl * lb[0, s, ln], hl * lb[1, s, ln], hl * lb[2, s, ln]
            g0, g1, g2 = hl * gb[0, s, ln], hl * gb[1, s, ln], hl * gb[2, s, ln]
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
            lam0 = lb[3, s, ln]
            f0 = gb[3, s, ln] - lam0 * y0
            # error e / d over a + rtol·max|y|: the same ratio as e over d·(a + rtol·max|y|),
            # so scale the tolerance by d instead of dividing (one division less per lane)
            e = f0 + (_RD1 * (x0 - y0) + _RD2 * (x1 - y0) + _RD3 * (x2 - y0)) * inv_h
            d = abs(_RU1 * inv_h + lam0)
            _track(wl, ln, e, d * y0, d * x2, d * a, rtol)
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
