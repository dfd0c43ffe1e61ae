"""Constants of the engine's methods and the compiler flags every engine function shares.

Dormand–Prince 5(4) (explicit states), 3-point Gauss–Legendre (interval reductions) and
3-stage Radau IIA with RADAU5's error estimate (linear states); status codes per block.
"""

from __future__ import annotations

from typing import Any

from numba import njit
from numba.core.cpu import CPUTargetOptions

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
# vectorisation), fused multiply-add contraction and no other fast-math. Most are inlined into
# the model kernel by Numba, so each step is straight-line code over the lanes.
_inline_jit = njit(cache=True, error_model="numpy", fastmath={"contract"}, inline="always")

# Kernels run without Numba's reference-counting runtime (see engine._compile.kernel_jit), and
# so do the few functions called once per block or breakpoint (loading a block, its
# breakpoints, dose events, the output transpose, the lane maximum): they are compiled once
# each and called, not copied into every call site by Numba's IR inliner. That cut the immune
# kernel's compile from 64 to 44 s at the same speed; making the per-step functions calls
# too compiled in 17 s but ran 12-19% slower (benchmarks/RESULTS.md).
NO_NRT: dict[str, Any] = {"_nrt": False} if hasattr(CPUTargetOptions, "_nrt") else {}
_leaf_jit = njit(**{"cache": True, "error_model": "numpy", "fastmath": {"contract"}, **NO_NRT})

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
