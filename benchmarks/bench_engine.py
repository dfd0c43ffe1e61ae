"""Engine benchmark on the shared reference model (run directly; never collected by pytest).

    python benchmarks/bench_engine.py                 # ocrelisim at N = 1k, 10k, 100k
    python benchmarks/bench_engine.py --baselines     # plus scipy and R deSolve, same run

Each ocrelisim measurement runs in a fresh subprocess so that peak RSS and compile/load times
are its own. Accuracy: max relative error against the shared Radau reference (first 50
subjects, shared/perf/model.py:error_vs_ref). Throughput: subject-years per second.
Results are JSON lines in $PERF_OUT/results.jsonl (default /tmp/ocrelisim-perf).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PERF = Path(os.environ.get("OCRELISIM_SHARED", HERE.parent.parent / "shared")) / "perf"


def _perf_model():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(PERF))
    import model  # shared/perf/model.py

    return model


def _schedules(M):  # type: ignore[no-untyped-def]
    """The benchmark regimen through ocrelisim's Regimen API, remapped to the bench model."""
    import numpy as np

    from ocrelisim.engine import Schedules
    from ocrelisim.regimens import IVInfusion, Regimen

    reg = Regimen(tuple(IVInfusion.constant(s, d, duration=du) for s, d, du in M.INFUSIONS))
    ev = reg.events()
    assert np.all(ev.cmt == 1), "benchmark regimen is IV only"
    return reg, ev, Schedules


VARIANTS = {"linear": "BENCH_MODEL", "explicit": "BENCH_MODEL_EXPLICIT", "pk": "BENCH_MODEL_PK",
            "immune": "", "immune-pk": "", "immune-all": ""}
# ocrelisim's immune model on the benchmark patients: the outputs each variant stores.
IMMUNE_SELECT = {"immune": [0, 1], "immune-pk": [0], "immune-all": None}


def _immune_inputs(M, p, sched):  # type: ignore[no-untyped-def]
    """Kernel inputs of ocrelisim's immune model for the benchmark patients.

    PK from the benchmark's parameter rows (KA, F unused: IV only); immune parameters with
    their variability drawn from a fixed seed; doses into the central compartment (state 1).
    """
    import numpy as np
    import pandas as pd

    from ocrelisim import parameters
    from ocrelisim.engine import Schedules
    from ocrelisim.models import immune

    n = p.shape[0]
    pk = np.column_stack([p[:, 0], p[:, 1], np.full(n, M.KDES), p[:, 2], p[:, 3], p[:, 4],
                          np.full(n, parameters.PK.ka.value), np.full(n, 1.0)])
    cov = pd.DataFrame({"WT": p[:, 5]})
    eta = np.random.default_rng(20240601).standard_normal((n, 16))
    ind = immune.individual_parameters(cov, eta)
    P = immune.kernel_parameters(pk, np.zeros(n), ind)
    sched = Schedules(sched=sched.sched, ev_ptr=sched.ev_ptr, ev_time=sched.ev_time,
                      ev_cmt=sched.ev_cmt + 1, ev_rate=sched.ev_rate, ev_bolus=sched.ev_bolus)
    return immune.IMMUNE_MODEL, P, immune.initial_states(ind), sched


def run_one(n: int, mode: str, reps: int, rtol: float, lanes: int, reuse: bool,
            variant: str = "linear") -> dict[str, object]:
    """One measurement in this process (called in a subprocess by main)."""
    import numpy as np

    M = _perf_model()
    sys.path.insert(0, str(HERE))
    t0 = time.perf_counter()
    import bench_model as BM

    from ocrelisim.engine import SolverOptions, integrate

    _, ev, Schedules = _schedules(M)
    sched = Schedules(sched=np.zeros(n, dtype=np.int64), ev_ptr=np.array([0, ev.time.size]),
                      ev_time=ev.time, ev_cmt=np.asarray(ev.cmt, dtype=np.int64) - 1,
                      ev_rate=ev.rate, ev_bolus=ev.bolus)
    p = M.subjects(n) if n <= M.N_MAX else M.sample_subjects(n)
    select = None
    if variant in IMMUNE_SELECT:  # the package's immune model (10 states), same patients
        spec, P, y0, sched = _immune_inputs(M, p, sched)
        select = IMMUNE_SELECT[variant]  # C and B as the other variants; C; all 14
    else:
        spec = getattr(BM, VARIANTS[variant])
        P = BM.kernel_parameters(p)
        y0 = BM.initial_states(n)[:, :len(spec.states)]
    opts = SolverOptions(rtol=rtol, lanes=lanes)
    if mode == "full":
        t_out, win = M.T_OUT.copy(), np.zeros((0, 2))
    else:  # summary only: per-cycle AUC/Cmax/trough, no trajectories
        starts = np.array([s for s, _, _ in M.INFUSIONS] + [M.T_END])
        t_out, win = np.zeros(0), np.stack([starts[:-1], starts[1:]], axis=1)

    n_kept = len(spec.outputs) if select is None else len(select)
    buffer = np.empty((n_kept, n, t_out.size)) if reuse else None

    def go():  # type: ignore[no-untyped-def]
        return integrate(spec, P, y0, sched, t_out, win, 0.5, opts, out=buffer,
                         select=select, reduce_outputs=(0,))

    sol = go()
    first_call = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        del sol  # never hold two outputs at once: peak RSS = one run
        t1 = time.perf_counter()
        sol = go()
        times.append(time.perf_counter() - t1)
    rec: dict[str, object] = dict(
        impl=f"ocrelisim_{variant}_{mode}" + ("_reused_buffer" if reuse else ""), n=n,
        time_s=min(times), times=times,
        first_call_s=round(first_call, 3), rtol=rtol, lanes=lanes,
        numba_cache=os.environ.get("NUMBA_CACHE_DIR", "package __pycache__"),
        steps_per_block=sol.n_accepted / max(1, -(-n // lanes)),
        substeps_per_block=sol.n_substeps / max(1, -(-n // lanes)),
        output_mb=round(sol.out.nbytes / 2**20, 1))
    if mode == "full" and n >= 50 and variant not in IMMUNE_SELECT:  # immune: another B model
        if variant == "pk":  # C only: score C, with the reference's own B as a stand-in
            ref_b = np.load(Path(M.OUT) / "ref.npz")["B"]
            err = M.error_vs_ref(sol.out[0], ref_b)
            rec.update({k: v for k, v in err.items() if k.endswith("_C")})
        else:
            rec.update(M.error_vs_ref(sol.out[0], sol.out[1]))
    M.emit(rec)
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, nargs="*", default=[1000, 10000, 100000])
    ap.add_argument("--mode", choices=["full", "summary"], default="full")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--lanes", type=int, default=64)
    ap.add_argument("--baselines", action="store_true",
                    help="also run shared/perf/run-baselines.sh (scipy, R deSolve)")
    ap.add_argument("--compile-time", action="store_true",
                    help="first measure a cold compile into an empty Numba cache")
    ap.add_argument("--reuse-buffer", action="store_true",
                    help="write every repetition into one preallocated output buffer")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="linear",
                    help="B cells as a linear state (default), all states explicit, PK only, "
                    "or ocrelisim's immune model (PK + 7 immune states) storing C and B "
                    "(immune), C alone (immune-pk: its PK) or all 14 outputs (immune-all)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        run_one(a.n[0], a.mode, a.reps, a.rtol, a.lanes, a.reuse_buffer, a.variant)
        return
    env = dict(os.environ)
    env.setdefault("PERF_OUT", "/tmp/ocrelisim-perf")
    if a.baselines:
        subprocess.run(["bash", str(PERF / "run-baselines.sh"), "200", "1000"], check=True,
                       env={**env, "PY": sys.executable})
    one = [sys.executable, __file__, "--one", "--mode", a.mode, "--reps", str(a.reps),
           "--rtol", str(a.rtol), "--lanes", str(a.lanes), "--variant", a.variant]
    if a.reuse_buffer:
        one.append("--reuse-buffer")
    if a.compile_time:  # cold compile into an empty cache directory (the first run of a user)
        with tempfile.TemporaryDirectory() as cold:
            subprocess.run([*one, "--n", "1000"], check=True,
                           env={**env, "NUMBA_CACHE_DIR": cold})
    for n in a.n:
        subprocess.run([*one, "--n", str(n)], check=True, env=env)
    print(json.dumps({"done": True, "results": env["PERF_OUT"] + "/results.jsonl"}))


if __name__ == "__main__":
    main()
