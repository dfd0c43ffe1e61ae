"""The engine's Python side: options, the kernel-facing model spec, packing and the call."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np

from .._types import Float1D, Float2D, Int1D
from ..errors import InvalidParameterError, SolverError
from ._compile import compile_notice
from ._tableau import STATUS_OK, STATUS_TEXT


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
        Threads over blocks; None uses all cores (Numba's NUMBA_NUM_THREADS). Results do not
        depend on it.
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

    ``kernel`` is a module-level :data:`ocrelisim.engine.kernel_jit` function of ``(b0, b1,
    run, work)`` that calls :func:`run_blocks` with the model's ``rhs``, ``linear`` and
    ``outputs`` (see ``pk.py``).
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
    linear_rate_of: tuple[int, ...] | None = None
    """Per linear state (in state order), the linear state whose ``lam`` it has: itself, or
    an earlier one with its own rate that it reads (``linear_reads``) and whose rate equals
    its own at all times (stages of a chain depleted alike). The solver then reuses that
    state's inverted collocation matrix, and ``linear`` need not fill its ``lam``. None: each
    its own."""
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
        if self.linear_rate_of is not None:
            rate = self.linear_rate_of
            bad = len(rate) != ns - ne or any(
                r != s and not (ne <= r < s and rate[r - ne] == r
                                and (self.linear_reads is None or r in self.linear_reads[s - ne]))
                for s, r in enumerate(rate, start=ne))
            if bad:
                raise InvalidParameterError(
                    f"model {self.name!r}: linear_rate_of needs one entry per linear state "
                    f"({ns - ne}): the state itself, or an earlier linear state with its own "
                    "rate that it reads (linear_reads)")
        if not 1 <= ne <= ns or len(self.atol_scale) != ns:
            raise InvalidParameterError(
                f"model {self.name!r}: n_explicit = {self.n_explicit} and {len(self.atol_scale)} "
                f"atol scales for {ns} states; need 1 <= n_explicit <= {ns} and one scale per "
                "state")

    @property
    def explicit(self) -> int:
        """Number of explicit (Dormand–Prince) states, passed to the kernel."""
        return len(self.states) if self.n_explicit is None else self.n_explicit

    @property
    def rate_sources(self) -> tuple[int, ...]:
        """For every state, the state whose ``lam`` it has (itself unless
        :attr:`linear_rate_of` says otherwise), passed to the kernel."""
        ne = self.explicit
        own = tuple(range(len(self.states)))
        return own if self.linear_rate_of is None else (*own[:ne], *self.linear_rate_of)


@dataclass(frozen=True, slots=True)
class Schedules:
    """Dose events of the distinct schedules and each patient's schedule index.

    Events of schedule ``q`` are rows ``ev_ptr[q]:ev_ptr[q + 1]`` sorted by time: ``cmt``
    (0-based state), ``rate`` (change of zero-order input, amount/day), ``bolus`` (amount).
    """

    sched: Int1D
    ev_ptr: Int1D
    ev_time: Float1D
    ev_cmt: Int1D
    ev_rate: Float1D
    ev_bolus: Float1D


class Run(NamedTuple):
    """Everything a kernel call reads and writes, as one flat tuple of arrays (the kernel gets
    ``tuple(run)``; scalars travel in ``fctrl`` and ``ictrl``, so that one compiled signature
    serves every run). Patients are in processing order (see :func:`integrate`)."""

    P: Float2D            # (n, n_params) kernel parameters
    y0: Float2D           # (n, n_states) initial states
    sched: Int1D          # (n,) schedule of each patient
    rows: Int1D           # (n,) output row of each patient
    starts: Int1D         # (n_blocks + 1,) first patient of each block
    ev_ptr: Int1D         # dosing events, see Schedules
    ev_time: Float1D
    ev_cmt: Int1D
    ev_rate: Float1D
    ev_bolus: Float1D
    t_out: Float1D        # output times, days
    extra: Float1D        # further breakpoints (interval ends)
    intervals: Float2D    # (n_intervals, 2) reduction windows
    sel: Int1D            # outputs to store, in the order of out's rows
    red_outputs: Int1D    # outputs to reduce over the intervals
    thresholds: Float1D   # one threshold per reduced output
    dense_states: Int1D   # states the stored and reduced outputs read
    active: Int1D         # linear states integrated
    node_states: Int1D    # explicit states the active linear states read
    rate_of: Int1D        # (n_states,) the state whose lam each state has (ModelSpec)
    atol: Float1D         # (n_states,) absolute tolerances
    fctrl: Float1D        # rtol, h_init, t_end
    ictrl: Int1D          # lanes, n_explicit, max_steps, n_outputs
    out: np.ndarray       # (n_sel, n, n_times) outputs, written
    red: np.ndarray       # (n_red, 5, n, n_intervals) reductions, written
    stats: np.ndarray     # (n_blocks, 4) status, accepted, rejected, substeps, written


class Work(NamedTuple):
    """One task's scratch arrays (shapes for ``lanes`` lanes), reset by the kernel at each
    block: the kernel allocates nothing, so tasks that run at once need one each."""

    p: Float2D            # (n_params, lanes) the block's kernel parameters
    y: Float2D            # (n_states, lanes) states at the step start
    u: Float2D            # (n_states, lanes) zero-order input rates
    yt: Float2D           # (n_states, lanes) stage and dense-output values
    yn: Float2D           # (n_states, lanes) states at the step end
    ys: Float2D           # (n_states, lanes) states at the substep start
    k: np.ndarray         # (7, n_states, lanes) Dormand–Prince stages
    ynode: np.ndarray     # (3, n_states, lanes) values at the Radau nodes
    o: Float2D            # (n_outputs, lanes) outputs
    bw: Float1D           # (7,) dense-output weights
    ptr: Int1D            # (lanes,) next dosing event of each lane
    wl: Float1D           # (lanes,) per-lane error norms
    gb: np.ndarray        # (4, n_states, lanes) g of the linear states at the nodes and the
                          # substep start (row 3)
    lb: np.ndarray        # (4, n_states, lanes) their lam, same points
    minv: np.ndarray      # (n_states, 10, lanes) inverse collocation matrix of each own-rate
                          # linear state, row 9 the error estimate's scale
    c0: Float2D           # (n_red, lanes) reduced outputs at the step start
    c1: Float2D           # (n_red, lanes) ... at the step end
    cg: np.ndarray        # (n_red, 3, lanes) ... at the Gauss nodes
    staged: np.ndarray    # (n_selected, n_times, lanes) the block's outputs, time-major
    bp_buf: Float1D       # room for the block's breakpoints (see breakpoint_room)


def breakpoint_room(run: Run) -> int:
    """The largest number of breakpoints a block of ``run`` can have before duplicates are
    removed: its patients' dosing events, the extra times and the end."""
    per_patient = np.diff(run.ev_ptr)[run.sched]
    per_block = np.add.reduceat(per_patient, run.starts[:-1]) if per_patient.size else [0]
    return int(np.max(per_block)) + run.extra.size + 1


def workspace(run: Run, room: int) -> Work:
    """Fresh scratch arrays for one task of ``run`` (``room``: :func:`breakpoint_room`), each
    starting on a 64-byte boundary (see :func:`_aligned`)."""
    lanes, n_out = int(run.ictrl[0]), int(run.ictrl[3])
    ns, n_red = run.y0.shape[1], run.red_outputs.size
    z = _aligned
    return Work(
        p=z((run.P.shape[1], lanes)), y=z((ns, lanes)), u=z((ns, lanes)), yt=z((ns, lanes)),
        yn=z((ns, lanes)), ys=z((ns, lanes)), k=z((7, ns, lanes)), ynode=z((3, ns, lanes)),
        o=z((n_out, lanes)), bw=z((7,)), ptr=z((lanes,), np.int64), wl=z((lanes,)),
        gb=z((4, ns, lanes)), lb=z((4, ns, lanes)), minv=z((ns, 10, lanes)),
        c0=z((n_red, lanes)), c1=z((n_red, lanes)), cg=z((n_red, 3, lanes)),
        staged=z((run.sel.size, run.t_out.size, lanes)),
        bp_buf=z((room,)))


def _aligned(shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """Zeros of ``shape`` whose first element sits on a 64-byte boundary (a cache line, one
    AVX-512 vector): NumPy aligns to 16 bytes, and vector loads that straddle cache lines
    made the same kernel up to 10% slower from one run to the next."""
    itemsize = np.dtype(dtype).itemsize
    count = int(np.prod(shape))
    raw: np.ndarray = np.zeros(count + 64 // itemsize, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // itemsize
    return raw[skip:skip + count].reshape(shape)


@dataclass(frozen=True, slots=True)
class RawSolution:
    """What the kernel wrote: outputs ``(n_selected, n, n_times)`` and interval reductions."""

    out: np.ndarray
    reductions: np.ndarray
    """``(n_reduced, 5, n, n_intervals)``: area, max, value at the end, time above the
    threshold, first time above it (NaN: never), per reduced output."""
    n_accepted: int
    n_rejected: int
    n_substeps: int = 0
    """Accepted substeps of the linear states (0 for a model without them)."""


def integrate(spec: ModelSpec, P: Float2D, y0: Float2D, schedules: Schedules, t_out: Float1D,
              intervals: Float2D, thresholds: float | Sequence[float], options: SolverOptions,
              *, progress: Callable[[int, int], None] | None = None,
              chunk_blocks: int = 256, out: np.ndarray | None = None,
              select: Sequence[int] | None = None,
              reduce_outputs: Sequence[int] = ()) -> RawSolution:
    """Run ``spec``'s kernel for all patients; raise :class:`SolverError` on any failure.

    ``P`` (n, n_params) kernel parameters, ``y0`` (n, n_states) initial states, ``t_out``
    sorted output days (may be empty), ``intervals`` (n_int, 2) reduction windows in days.
    ``progress(done, total)`` is called after each chunk of blocks. ``out``: an optional
    C-contiguous float64 buffer of shape (n_selected, n, n_times) to write the outputs into;
    repeated runs that reuse one buffer skip the operating system's zeroing of fresh pages
    (about a third of the run time for 100k patients x 731 days). ``select``: indices of
    the model outputs to store (default all), in this order. ``reduce_outputs``: indices of
    the outputs reduced over ``intervals`` (default none), with one threshold each in
    ``thresholds`` (a single number applies to all).

    The first call of a kernel in a process loads it from Numba's disk cache or compiles it
    (minutes on a small machine); compiling is logged on the ``"ocrelisim.engine"`` logger
    (INFO, ``extra={"event": "compile_start" | "compile_end", "model": ..., "elapsed_s":
    ...}``) so that an interface can tell the user; the engine prints nothing.
    """
    n = P.shape[0]
    rows, starts = _blocks(spec, P, schedules.sched, options.lanes)
    t_out = _plain(t_out, np.float64)
    intervals = _plain(intervals, np.float64).reshape(-1, 2)
    sel = _indices(spec, range(len(spec.outputs)) if select is None else select, "select")
    ro = _indices(spec, reduce_outputs, "reduce_outputs")
    thresholds_arr = np.array(np.broadcast_to(np.asarray(thresholds, dtype=np.float64),
                                              ro.shape))
    shape = (sel.size, n, t_out.size)
    if out is None:
        out = np.empty(shape)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise InvalidParameterError(
            f"out buffer has shape {out.shape}, dtype {out.dtype}; need a C-contiguous float64 "
            f"array of shape {shape}")
    dense, active, nodes = _needed_states(spec, (*sel.tolist(), *ro.tolist()))
    t_end = float(max(t_out[-1] if t_out.size else 0.0,
                      intervals.max() if intervals.size else 0.0))
    # Writable, C-contiguous copies of fixed dtype: Numba compiles one specialisation per
    # argument type, and read-only or strided arrays are other types (minutes of compiling).
    run = Run(
        P=_plain(P[rows], np.float64), y0=_plain(y0[rows], np.float64),
        sched=_plain(schedules.sched[rows], np.int64), rows=rows, starts=starts,
        ev_ptr=_plain(schedules.ev_ptr, np.int64), ev_time=_plain(schedules.ev_time, np.float64),
        ev_cmt=_plain(schedules.ev_cmt, np.int64), ev_rate=_plain(schedules.ev_rate, np.float64),
        ev_bolus=_plain(schedules.ev_bolus, np.float64),
        t_out=t_out, extra=np.unique(intervals.ravel()) if intervals.size else np.zeros(0),
        intervals=intervals, sel=sel, red_outputs=ro, thresholds=thresholds_arr,
        dense_states=dense, active=active, node_states=nodes,
        rate_of=np.array(spec.rate_sources, dtype=np.int64),
        atol=options.atol * np.asarray(spec.atol_scale, dtype=np.float64),
        fctrl=np.array([options.rtol, options.h_init, t_end], dtype=np.float64),
        ictrl=np.array([options.lanes, spec.explicit, options.max_steps, len(spec.outputs)],
                       dtype=np.int64),
        out=out, red=_reduction_buffer(ro.size, n, intervals.shape[0]),
        stats=np.zeros((starts.size - 1, 4), dtype=np.int64))
    _call_kernel(spec, run, options, progress, chunk_blocks)
    _raise_on_failure(run.stats, starts, rows)
    return RawSolution(out, run.red, int(run.stats[:, 1].sum()), int(run.stats[:, 2].sum()),
                       int(run.stats[:, 3].sum()))


def _indices(spec: ModelSpec, which: Iterable[int], name: str) -> Int1D:
    idx = np.array(list(which), dtype=np.int64)
    if idx.ndim != 1 or np.any((idx < 0) | (idx >= len(spec.outputs))):
        raise InvalidParameterError(
            f"{name} = {list(which)!r}: give indices of outputs in 0..{len(spec.outputs) - 1}")
    return idx


def _reduction_buffer(n_red: int, n: int, n_int: int) -> np.ndarray:
    """Per reduced output: area 0, max -inf, value at end NaN, time above 0, first time above
    NaN (see ``_reduce_step``)."""
    red = np.zeros((n_red, 5, n, n_int))
    red[:, 1] = -np.inf
    red[:, 2] = np.nan
    red[:, 4] = np.nan
    return red


def _call_kernel(spec: ModelSpec, run: Run, options: SolverOptions,
                 progress: Callable[[int, int], None] | None, chunk_blocks: int) -> None:
    """The kernel over the blocks, in tasks of a few blocks on a pool of Python threads.

    Kernels are ``nogil`` functions, not Numba ``parallel`` ones: the parallel compiler passes
    cost most of a kernel's compile time (measured: 143 of 200 CPU seconds for the immune
    model), and threads over independent blocks need none of them. The first task (one block)
    runs alone, so that the kernel is compiled (or loaded from the disk cache) once; blocks are
    independent, so results do not depend on the threads or the order of completion.
    """
    n_blocks = run.starts.size - 1
    packed = tuple(run)
    threads = options.threads or int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    # about 8 tasks per thread: balance on a shared host, few kernel calls
    per_task = max(1, min(chunk_blocks, -(-n_blocks // (8 * threads))))
    # the first task is one block, run alone: it compiles or loads the kernel, then the rest
    # runs on the pool
    tasks = [(0, 1)] + [(b0, min(n_blocks, b0 + per_task))
                        for b0 in range(1, n_blocks, per_task)]
    n = run.P.shape[0]
    done = 0
    room = breakpoint_room(run)

    def call(b0: int, b1: int) -> None:
        spec.kernel(b0, b1, packed, tuple(workspace(run, room)))

    def finished(b0: int, b1: int) -> None:
        nonlocal done
        done += int(run.starts[b1] - run.starts[b0])
        if progress is not None:
            progress(done, n)

    with compile_notice(spec.kernel, spec.name):
        call(*tasks[0])
    finished(*tasks[0])
    if threads == 1 or len(tasks) == 1:
        for b0, b1 in tasks[1:]:
            call(b0, b1)
            finished(b0, b1)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(call, b0, b1): (b0, b1) for b0, b1 in tasks[1:]}
        for f in as_completed(futures):
            f.result()
            finished(*futures[f])


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