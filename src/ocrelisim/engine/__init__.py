"""Compiled ODE engine: lockstep adaptive Dormand–Prince 5(4) over SIMD lane blocks.

The engine knows no drug, no cell and no model numbers: a model hands it kernel parameters,
initial states, dosing events and its compiled kernel (:class:`ModelSpec`), and gets back the
outputs it asked for and their interval reductions (:class:`RawSolution`).

Design:

* Patients are laid out as lanes of a block, ``(n_states, lanes)``; every block is stepped with
  one shared step size (lockstep), so the arithmetic of the right-hand side vectorises across
  patients. Python threads run tasks of a few blocks each through the kernel, which releases
  the GIL (``nogil``; Numba's ``parallel`` passes would triple the compile time); blocks are
  independent, so results do not depend on the thread count.
* Steps are aligned to every dosing discontinuity of the block (infusion rate changes, bolus and
  SC doses) and never cross one. Between discontinuities the step size is adaptive, controlled
  by the embedded 4th-order error estimate in the max-norm over all lanes and explicit states.
* Outputs at requested times come from the method's 4th-order continuous extension (dense
  output), so daily outputs do not force daily steps.
* In-kernel reductions of any outputs over given intervals (area by 3-point Gauss–Legendre on
  the dense output, maximum, value at the interval end, time above a threshold, first time
  above it) mean a million patients need no trajectories in memory. Exposure (AUC, Cmax,
  trough, time above) is such a reduction of the concentration output, nothing special.

A model supplies three Numba functions working on whole lane blocks:

``rhs(t, y, p, u, dy, n)``
    ``dy[:, :n] = f(t, y, p) + u`` for ``y, u, dy`` of shape ``(n_states, lanes)`` and
    parameters ``p`` of shape ``(n_params, lanes)``; ``u`` is the zero-order input rate into
    each state. ``t`` (days) is shared by the whole block, so a time function that is the same
    for all lanes costs one call per block: keep per-lane transcendental calls out of the lane
    loop so that it vectorises.
``outputs(y, p, o, n)``
    ``o[:, :n]`` = output variables (``(n_outputs, lanes)``) from the states.
``linear(s, t, y, p, g, lam, n)`` (models with linear states; else :func:`no_linear_states`)
    for a *linear state* ``s`` (one of the last states, ``s >= n_explicit``) fill
    ``g[s, :n]`` and ``lam[s, :n]`` such that ``dy_s/dt = g − lam·y_s``. ``g`` and ``lam``
    may depend on ``t``, the explicit states and the linear states before ``s``, not on
    ``y_s`` or later states; no explicit state may depend on a linear state, and doses go to
    explicit states only. At the same ``t`` the rows ``g[r]`` and ``lam[r]`` of the linear
    states ``r`` before ``s`` that it reads (``ModelSpec.linear_reads``) are already filled,
    so a quantity they share (a drug effect) is computed once.

and a module-level kernel of three lines, which Numba caches on disk; its first compile is
logged on :data:`LOGGER` (``"ocrelisim.engine"``)::

    @engine.kernel_jit
    def kernel(b0, b1, run, work):
        engine.run_blocks(rhs, linear, outputs, b0, b1, run, work)

``kernel_jit`` compiles it without Numba's reference-counting runtime: the kernel allocates
nothing (``run`` holds the inputs and outputs, ``work`` one task's scratch arrays,
:class:`Work`), and its array views cost no atomic reference counts. Its disk cache is keyed
by the engine's and the package models' source (:data:`SOURCE_STAMP`) as well as by the
kernel's own file, so an edited or upgraded engine is compiled anew, never loaded stale.

Linear states (turnover driven by the drug) are often stiff; they are advanced by 3-stage
Radau IIA collocation (order 5, L-stable), a closed-form 3x3 solve per lane. The scheme is
multirate: a Dormand–Prince step is accepted on the error of the explicit states alone; the
linear states then cross it in their own adaptive substeps (RADAU5 embedded error estimate),
reading the explicit states at their Radau nodes from the step's dense output.

Only what the requested outputs need is computed. ``ModelSpec.output_reads`` names the states
each output reads (only those are interpolated) and ``ModelSpec.linear_reads`` the states each
linear state reads: the engine integrates just the linear states the kept and reduced outputs
depend on, and interpolates at the Radau nodes just the explicit states those read. The
explicit steps, and so the explicit states' values, do not depend on the outputs asked for.

The block step reads top-down in :mod:`ocrelisim.engine._block`; the methods' parts are in
``_dopri`` (Dormand–Prince), ``_radau`` (linear states), ``_events`` (dosing) and ``_outputs``
(outputs and reductions); packing and the call in ``_run``.
"""

from ._block import integrate_block as integrate_block
from ._block import no_linear_states as no_linear_states
from ._block import run_blocks as run_blocks
from ._compile import LOGGER as LOGGER
from ._compile import SOURCE_STAMP as SOURCE_STAMP
from ._compile import kernel_jit as kernel_jit
from ._run import ModelSpec as ModelSpec
from ._run import RawSolution as RawSolution
from ._run import Run as Run
from ._run import Schedules as Schedules
from ._run import SolverOptions as SolverOptions
from ._run import Work as Work
from ._run import integrate as integrate
from ._tableau import STATUS_MAX_STEPS as STATUS_MAX_STEPS
from ._tableau import STATUS_NOT_FINITE as STATUS_NOT_FINITE
from ._tableau import STATUS_OK as STATUS_OK
from ._tableau import STATUS_STEP_TOO_SMALL as STATUS_STEP_TOO_SMALL
from ._tableau import STATUS_TEXT as STATUS_TEXT

__all__ = [
    "LOGGER",
    "SOURCE_STAMP",
    "STATUS_MAX_STEPS",
    "STATUS_NOT_FINITE",
    "STATUS_OK",
    "STATUS_STEP_TOO_SMALL",
    "STATUS_TEXT",
    "ModelSpec",
    "RawSolution",
    "Run",
    "Schedules",
    "SolverOptions",
    "Work",
    "integrate",
    "integrate_block",
    "kernel_jit",
    "no_linear_states",
    "run_blocks",
]
