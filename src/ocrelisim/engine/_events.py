"""Dosing events of a block: its breakpoints and the rate changes and boluses at each."""

from __future__ import annotations

from ._tableau import (
    _leaf_jit,
)


@_leaf_jit
def _block_breakpoints(first, n, sched, ev_ptr, ev_time, extra, t_end, buf):  # type: ignore[no-untyped-def]
    """Sorted unique event times of the block's patients, plus extra times, within [0, t_end],
    in ``buf[:count]`` (large enough for all of them:
    :func:`ocrelisim.engine._run.breakpoint_room`); returns ``count``. Allocates nothing (the
    kernel runs without Numba's runtime)."""
    j = 0
    for ln in range(n):
        q = sched[first + ln]
        if ln > 0 and q == sched[first + ln - 1]:
            continue  # the same schedule's times again (blocks hold one schedule: _blocks)
        for e in range(ev_ptr[q], ev_ptr[q + 1]):
            buf[j] = ev_time[e]
            j += 1
    for e in range(extra.size):
        buf[j] = extra[e]
        j += 1
    buf[j] = t_end
    m = j + 1
    _heapsort(buf, m)
    c = 0
    for i in range(m):  # unique, in place (c <= i)
        if buf[i] > t_end:
            break
        if c == 0 or buf[i] > buf[c - 1]:
            buf[c] = buf[i]
            c += 1
    return c


@_leaf_jit
def _heapsort(a, m):  # type: ignore[no-untyped-def]
    """Sort ``a[:m]`` ascending in place (no allocation; O(m log m))."""
    for root in range(m // 2 - 1, -1, -1):
        _sift_down(a, root, m)
    for end in range(m - 1, 0, -1):
        x = a[0]
        a[0] = a[end]
        a[end] = x
        _sift_down(a, 0, end)


@_leaf_jit
def _sift_down(a, root, m):  # type: ignore[no-untyped-def]
    """Restore the max-heap below ``root`` in ``a[:m]``."""
    while True:
        child = 2 * root + 1
        if child >= m:
            return
        if child + 1 < m and a[child + 1] > a[child]:
            child += 1
        if a[root] >= a[child]:
            return
        x = a[root]
        a[root] = a[child]
        a[child] = x
        root = child


@_leaf_jit
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
