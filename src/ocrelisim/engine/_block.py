"""One lockstep block of patients, in named stages, and the loop over blocks.

:func:`run_blocks` is the body of every model's kernel; it unpacks the run (one flat tuple of
arrays, laid out by :class:`ocrelisim.engine.Run`) and steps each block through
:func:`integrate_block`:

1. ``_load_block``: the block's parameters, initial states and event pointers into lanes;
2. per segment between dosing breakpoints, Dormand–Prince steps (``_dp_attempt``) accepted on
   the explicit states' error alone;
3. each accepted step is crossed by ``_cross_step``: the linear states' own Radau IIA
   substeps (``_linear_attempt``), and per substep the outputs at the requested times
   (``_emit_outputs``) and the interval reductions (``_emit_reductions``);
4. ``_apply_events`` at the breakpoint; at the end the staged outputs go to the patients' rows.
"""

from __future__ import annotations

from ._dopri import (
    _copy_states,
    _dense_state,
    _dense_weights,
    _error_norm,
    _explicit_at,
    _next_size,
    _stage1,
    _stage2,
    _stage3,
    _stage4,
    _stage5,
    _stage6,
    _step_factor,
    _step_status,
)
from ._events import _apply_events, _block_breakpoints
from ._outputs import _flush_outputs, _gather, _reduce_step, _write_outputs
from ._radau import _dense_linear, _linear_substep
from ._run import Run
from ._tableau import (
    _C2,
    _C3,
    _C4,
    _C5,
    _GL_X0,
    _GL_X1,
    _GL_X2,
    _MIN_FACTOR,
    _RC1,
    _RC2,
    STATUS_NOT_FINITE,
    STATUS_OK,
    _inline_jit,
    _leaf_jit,
)

# Positions in the Run tuple of the fields run_blocks reads (globals are compile-time constants).
_STARTS = Run._fields.index("starts")
_STATS = Run._fields.index("stats")


@_inline_jit
def no_linear_states(s, t, y, p, g, lam, n):  # type: ignore[no-untyped-def]
    """The ``linear`` function of a model without linear states (never called)."""
    return


@_leaf_jit
def _load_block(first, n, P, y0, sched, ev_ptr, p, y, ptr):  # type: ignore[no-untyped-def]
    """Lanes 0..n-1 of the block: parameters, initial states, first event of each schedule."""
    for ln in range(n):
        ptr[ln] = ev_ptr[sched[first + ln]]
        for j in range(P.shape[1]):
            p[j, ln] = P[first + ln, j]
        for s in range(y0.shape[1]):
            y[s, ln] = y0[first + ln, s]


@_inline_jit
def _dp_attempt(rhs, t, h, y, p, u, k, yt, yn, rtol, atol, wl, ne, n):  # type: ignore[no-untyped-def]
    """Stages 2–7 of a Dormand–Prince step of size ``h`` from ``t`` (``k[0]`` holds f(t, y));
    ``yn`` gets the 5th-order solution. Returns the error norm of the explicit states.

    Six inlined ``rhs`` calls: one call site in a loop over the stages compiles faster but ran
    the PK about 20% slower (benchmarks/RESULTS.md, "Cold start").
    """
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
    return _error_norm(y, yn, k, h, rtol, atol, wl, ne, n)


@_inline_jit
def _linear_attempt(linear, t, h, tau, hl, last, y, yn, k, bw, ys, ynode, node_states, active,  # type: ignore[no-untyped-def]
                    rate_of, p, gb, lb, minv, rtol, atol, wl, ne, n):
    """One Radau IIA substep ``[tau, tau + hl]`` inside the accepted step ``[t, t + h]``: the
    explicit states its linear states read at the Radau nodes (dense output), then the
    collocation solve. Returns the substep's error norm."""
    th0 = (tau - t) / h
    for j in range(3):
        if j == 0:
            theta = th0 + _RC1 * hl / h
        elif j == 1:
            theta = th0 + _RC2 * hl / h
        else:
            theta = 1.0 if last else th0 + hl / h
        _explicit_at(theta, y, yn, k, h, bw, ynode[j], node_states, ne, n)
    return _linear_substep(linear, tau, hl, ys, ynode, active, rate_of, p, gb, lb, minv, rtol,
                           atol, wl, n)


@_inline_jit
def _emit_outputs(outputs, t, h, tau, tau_new, hs, jo, t_out, y, k, bw, ys, ynode, yt,  # type: ignore[no-untyped-def]
                  dense_states, has_linear, p, o, sel, staged, ne, n):
    """Outputs at the requested times in ``[tau, tau_new]`` (dense output of the explicit
    states, collocation polynomial of the linear ones). Returns the next output index."""
    n_t = t_out.size
    while jo < n_t and t_out[jo] <= tau_new:
        if t_out[jo] >= tau:
            _dense_weights((t_out[jo] - t) / h, bw)
            _dense_state(y, k, h, bw, yt, dense_states, ne, n)
            if has_linear:
                _dense_linear((t_out[jo] - tau) / hs, ys, ynode, yt, dense_states, ne, n)
            outputs(yt, p, o, n)
            _write_outputs(o, sel, n, jo, staged)
        jo += 1
    return jo


@_inline_jit
def _emit_reductions(outputs, t, h, tau, hs, last, y, yn, k, bw, ys, ynode, yt, dense_states,  # type: ignore[no-untyped-def]
                     has_linear, p, o, ro, c0, c1, cg, intervals, reduce_spec, first, rows, red,
                     ne, n):
    """Add the substep ``[tau, tau + hs]`` to the interval reductions: the reduced outputs at
    its ends and 3 Gauss nodes."""
    th0 = (tau - t) / h
    rs = hs / h
    for g in range(5):  # substep start, end, then the Gauss nodes
        if g == 0:
            xg = 0.0
        elif g == 1:
            xg = 1.0
        else:
            xg = _GL_X0 if g == 2 else (_GL_X1 if g == 3 else _GL_X2)
        tho = 1.0 if (g == 1 and last) else th0 + xg * rs
        _explicit_at(tho, y, yn, k, h, bw, yt, dense_states, ne, n)
        if has_linear:
            _dense_linear(xg, ys, ynode, yt, dense_states, ne, n)
        outputs(yt, p, o, n)
        _gather(o, ro, c0 if g == 0 else (c1 if g == 1 else cg[:, g - 2]), n)
    _reduce_step(tau, hs, c0, c1, cg, intervals, reduce_spec, first, n, rows, red)


@_inline_jit
def _cross_step(linear, outputs, t, h, t_new, hl, fac_l, jo, n_done, y, yn, k, bw, ys, ynode, yt, o,  # type: ignore[no-untyped-def]
                ws, p, rtol, atol, max_steps, run_req, first, rows, red, ne, n):
    """Cross the accepted step ``[t, t_new]``: the linear states in substeps of their own (one
    piece without them), each with its outputs and reductions.

    ``n_done`` counts the steps and substeps taken so far (for the step budget). Returns
    ``(status, hl, fac_l, jo, n_sub, n_sub_rejected)``: the substep size and factor carried to
    the next step, the next output index and the substeps accepted and rejected here.
    """
    (t_out, intervals, reduce_spec, sel, dense_states, active, node_states, rate_of) = run_req
    wl, gb, lb, minv, c0, c1, cg, staged = ws
    ro = reduce_spec[0]
    has_linear = active.size > 0
    reduce = intervals.shape[0] > 0
    if has_linear:  # the linear states and what they read, at the step start
        _copy_states(y, ys, node_states, n)
        _copy_states(y, ys, active, n)
    tau = t
    last = False
    d_sub = 0
    d_rej = 0
    while not last:
        if has_linear:
            if t_new - tau <= hl * 1.000001:
                hl = t_new - tau
                last = True
            status = _step_status(hl, tau, n_done + d_sub + d_rej, max_steps)
            if status != STATUS_OK:
                return status, hl, fac_l, jo, d_sub, d_rej
            errl = _linear_attempt(linear, t, h, tau, hl, last, y, yn, k, bw, ys, ynode,
                                   node_states, active, rate_of, p, gb, lb, minv, rtol, atol,
                                   wl, ne, n)
            if not errl < 1e300:
                return STATUS_NOT_FINITE, hl, fac_l, jo, d_sub, d_rej
            fac_l = _step_factor(errl, 0.25)  # RADAU5 estimate ~ h^4
            if errl > 1.0:
                d_rej += 1
                hl = hl * max(_MIN_FACTOR, fac_l)
                last = False
                continue
            hs = hl
            tau_new = t_new if last else tau + hl
        else:
            hs = h
            tau_new = t_new
            last = True
        jo = _emit_outputs(outputs, t, h, tau, tau_new, hs, jo, t_out, y, k, bw, ys, ynode, yt,
                           dense_states, has_linear, p, o, sel, staged, ne, n)
        if reduce:
            _emit_reductions(outputs, t, h, tau, hs, last, y, yn, k, bw, ys, ynode, yt,
                             dense_states, has_linear, p, o, ro, c0, c1, cg, intervals,
                             reduce_spec, first, rows, red, ne, n)
        if has_linear:
            _copy_states(ynode[2], ys, node_states, n)
            _copy_states(ynode[2], ys, active, n)
            d_sub += 1
            hl = _next_size(hl, fac_l, last)
        tau = tau_new
    return STATUS_OK, hl, fac_l, jo, d_sub, d_rej


@_inline_jit
def _accept(y, yn, k, ys, active, ne, n):  # type: ignore[no-untyped-def]
    """The step end becomes the new start (FSAL: k[6] is f at the new start)."""
    for st in range(ne):
        for ln in range(n):
            y[st, ln] = yn[st, ln]
            k[0, st, ln] = k[6, st, ln]
    _copy_states(ys, y, active, n)


@_inline_jit
def integrate_block(rhs, linear, outputs, first, n, run, work):  # type: ignore[no-untyped-def]
    """Integrate patients ``first .. first + n - 1`` (processing order) as one lockstep block.

    ``run`` is the flat tuple of :class:`ocrelisim.engine.Run`, ``work`` that of
    :class:`ocrelisim.engine.Work` (the task's scratch arrays, reset here). Results of patient
    ``i`` go to row ``rows[i]`` of ``out`` and of ``red``. The first ``ne`` states are explicit
    (Dormand–Prince steps, accepted on their own error); the others are linear states,
    advanced through each accepted step by their own adaptive Radau IIA substeps (a multirate
    scheme, so fast linear states do not make the explicit states take their small steps).

    Returns ``(status, n_accepted, n_rejected, n_substeps)``.
    """
    (P, y0, sched, rows, _starts, ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus, t_out, extra,
     intervals, sel, red_outputs, thresholds, dense_states, active, node_states, rate_of, atol,
     fctrl, ictrl, out, red, _stats) = run
    (p, y, u, yt, yn, ys, k, ynode, o, bw, ptr, wl, gb, lb, minv, c0, c1, cg, staged,
     bp_buf) = work
    rtol, h_init, t_end = fctrl[0], fctrl[1], fctrl[2]
    ne, max_steps = ictrl[1], ictrl[2]
    for a2 in (y, u, yt, yn, ys, o, c0, c1):
        a2[:] = 0.0
    for a3 in (k, ynode, cg, gb, lb, minv):
        a3[:] = 0.0
    wl[:] = 0.0
    bw[:] = 0.0
    # Outputs are staged per block, time-major (contiguous over lanes), and transposed into
    # their rows at the end: writing one time point of 64 scattered rows at a time would touch
    # 64 cache lines and pages per point.
    ws = (wl, gb, lb, minv, c0, c1, cg, staged)
    req = (t_out, intervals, (red_outputs, thresholds), sel, dense_states, active, node_states,
           rate_of)
    n_acc = 0
    n_rej = 0
    n_sub = 0
    n_sub_rej = 0
    _load_block(first, n, P, y0, sched, ev_ptr, p, y, ptr)
    n_bp = _block_breakpoints(first, n, sched, ev_ptr, ev_time, extra, t_end, bp_buf)
    jo = 0
    t = 0.0
    h = h_init
    hl = h_init
    fac_l = 1.0
    for ib in range(n_bp):
        tb = bp_buf[ib]
        if tb > t:  # integrate [t, tb]: no discontinuity inside
            rhs(t, y, p, u, k[0], n)
            while t < tb:
                last = tb - t <= h * 1.000001
                if last:
                    h = tb - t
                status = _step_status(h, t, n_acc + n_rej + n_sub + n_sub_rej, max_steps)
                if status != STATUS_OK:
                    return status, n_acc, n_rej, n_sub
                err = _dp_attempt(rhs, t, h, y, p, u, k, yt, yn, rtol, atol, ws[0], ne, n)
                if not err < 1e300:
                    return STATUS_NOT_FINITE, n_acc, n_rej, n_sub
                fac = _step_factor(err, 0.2)  # DP5 error ~ h^5
                if err > 1.0:
                    n_rej += 1
                    h = h * max(_MIN_FACTOR, fac)
                    continue
                t_new = tb if last else t + h
                status, hl, fac_l, jo, d_sub, d_rej = _cross_step(
                    linear, outputs, t, h, t_new, hl, fac_l, jo,
                    n_acc + n_rej + n_sub + n_sub_rej, y, yn, k, bw, ys, ynode,
                    yt, o, ws, p, rtol, atol, max_steps, req, first, rows, red, ne, n)
                n_sub += d_sub
                n_sub_rej += d_rej
                if status != STATUS_OK:
                    return status, n_acc, n_rej, n_sub
                _accept(y, yn, k, ys, active, ne, n)
                t = t_new
                n_acc += 1
                h = _next_size(h, fac, last)
        # Outputs at the breakpoint itself before any step (t = 0 case).
        while jo < t_out.size and t_out[jo] <= t and t_out[jo] == tb:
            outputs(y, p, o, n)
            _write_outputs(o, sel, n, jo, staged)
            jo += 1
        # A dose onset makes the old step sizes meaningless for the new dynamics.
        if _apply_events(tb, first, n, sched, ev_ptr, ev_time, ev_cmt, ev_rate, ev_bolus, ptr,
                         y, u):
            h = min(h, h_init)
            hl = min(hl, h_init)
    _flush_outputs(staged, first, n, rows, out)
    return STATUS_OK, n_acc, n_rej, n_sub


@_inline_jit
def run_blocks(rhs, linear, outputs, b0, b1, run, work):  # type: ignore[no-untyped-def]
    """Blocks ``b0 .. b1-1`` one after another: the body of every model's kernel.

    A model's kernel is a module-level :func:`~ocrelisim.engine.kernel_jit` function of
    ``(b0, b1, run, work)`` that calls this with its ``rhs``, ``linear`` and ``outputs`` (see
    :mod:`ocrelisim.models.pk`); threads run tasks of blocks, each with its own ``work``.
    """
    starts = run[_STARTS]
    stats = run[_STATS]
    for b in range(b0, b1):
        first = starts[b]
        n = starts[b + 1] - first
        st, na, nr, nsub = integrate_block(rhs, linear, outputs, first, n, run, work)
        stats[b, 0] = st
        stats[b, 1] = na
        stats[b, 2] = nr
        stats[b, 3] = nsub
