"""Dosing events of a block: its breakpoints and the rate changes and boluses at each."""

from __future__ import annotations

import numpy as np

from ._tableau import (
    _inline_jit,
)


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
