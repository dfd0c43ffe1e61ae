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

    from ocrelisim.regimens import IVInfusion, Regimen
    from ocrelisim.solver import Schedules

    reg = Regimen(tuple(IVInfusion.constant(s, d, duration=du) for s, d, du in M.INFUSIONS))
    ev = reg.events()
    assert np.all(ev.cmt == 1), "benchmark regimen is IV only"
    return reg, ev, Schedules


def run_one(n: int, mode: str, reps: int, rtol: float, lanes: int,
            reuse: bool) -> dict[str, object]:
    """One measurement in this process (called in a subprocess by main)."""
    import numpy as np

    M = _perf_model()
    sys.path.insert(0, str(HERE))
    t0 = time.perf_counter()
    import bench_model as BM

    from ocrelisim.solver import SolverOptions, integrate

    _, ev, Schedules = _schedules(M)
    sched = Schedules(sched=np.zeros(n, dtype=np.int64), ev_ptr=np.array([0, ev.time.size]),
                      ev_time=ev.time, ev_cmt=np.asarray(ev.cmt, dtype=np.int64) - 1,
                      ev_rate=ev.rate, ev_bolus=ev.bolus)
    p = M.subjects(n) if n <= M.N_MAX else M.sample_subjects(n)
    P = BM.kernel_parameters(p)
    y0 = BM.initial_states(n)
    opts = SolverOptions(rtol=rtol, lanes=lanes)
    if mode == "full":
        t_out, win = M.T_OUT.copy(), np.zeros((0, 2))
    else:  # summary only: per-cycle AUC/Cmax/trough, no trajectories
        starts = np.array([s for s, _, _ in M.INFUSIONS] + [M.T_END])
        t_out, win = np.zeros(0), np.stack([starts[:-1], starts[1:]], axis=1)

    buffer = np.empty((2, n, t_out.size)) if reuse else None

    def go():  # type: ignore[no-untyped-def]
        return integrate(BM.BENCH_MODEL, P, y0, sched, t_out, win, 0.5, opts, out=buffer)

    sol = go()
    first_call = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        del sol  # never hold two outputs at once: peak RSS = one run
        t1 = time.perf_counter()
        sol = go()
        times.append(time.perf_counter() - t1)
    rec: dict[str, object] = dict(
        impl=f"ocrelisim_dp5_lockstep_{mode}" + ("_reused_buffer" if reuse else ""), n=n,
        time_s=min(times), times=times,
        first_call_s=round(first_call, 3), rtol=rtol, lanes=lanes,
        numba_cache=os.environ.get("NUMBA_CACHE_DIR", "package __pycache__"),
        steps_per_block=sol.n_accepted / max(1, -(-n // lanes)),
        output_mb=round(sol.out.nbytes / 2**20, 1))
    if mode == "full" and n >= 50:
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
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        run_one(a.n[0], a.mode, a.reps, a.rtol, a.lanes, a.reuse_buffer)
        return
    env = dict(os.environ)
    env.setdefault("PERF_OUT", "/tmp/ocrelisim-perf")
    if a.baselines:
        subprocess.run(["bash", str(PERF / "run-baselines.sh"), "200", "1000"], check=True,
                       env={**env, "PY": sys.executable})
    one = [sys.executable, __file__, "--one", "--mode", a.mode, "--reps", str(a.reps),
           "--rtol", str(a.rtol), "--lanes", str(a.lanes)]
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
