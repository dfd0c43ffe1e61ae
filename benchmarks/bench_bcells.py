"""PK-only against immune (C and B) throughput, and one source tree against another, in one run.

Each measurement runs in its own subprocess (``--one``), alternating the trees and repeating,
so that a busy host slows every variant alike: ``simulate`` of ``--n`` sampled RMS patients on
the label IV regimen, daily output over two years, at the default solver settings; the best of
``--reps`` calls after a warm-up (the kernels come from Numba's cache). Throughput is given per
wall second (all threads) and per CPU second (``getrusage``: what one core does, the steadier
figure on a shared host).

    python benchmarks/bench_bcells.py                              # this checkout
    python benchmarks/bench_bcells.py --trees /tmp/old/src src     # old against new

Run directly, never collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

VARIANTS = {"pk": {}, "immune C,B": {"model": "immune", "variables": ["C", "B"]}}


def one(variant: str, n: int, reps: int, threads: int | None) -> dict[str, float]:
    """Best of ``reps`` timed calls in this process."""
    import numpy as np

    import ocrelisim as oc

    pop = oc.Population.sample(n, seed=1)
    times = np.arange(0.0, 731.0)
    opts = oc.SolverOptions(threads=threads)
    regimen = oc.Regimen.preset("iv")
    oc.simulate(regimen, pop[:64], times, options=opts, **VARIANTS[variant])  # warm-up
    best_wall = best_cpu = float("inf")
    for _ in range(reps):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        res = oc.simulate(regimen, pop, times, options=opts, **VARIANTS[variant])
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
        del res
    years = 2.0 * n
    return {"per_wall_s": years / best_wall, "per_cpu_s": years / best_cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trees", nargs="*", default=[""],
                    help="source folders to put first on sys.path ('' = the installed package)")
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[1], a.n, a.reps, a.threads)))
        return
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(a.rounds):
        for tree in a.trees:
            for variant in VARIANTS:
                env = dict(os.environ, PYTHONPATH=os.path.abspath(tree)) if tree else None
                cmd = [sys.executable, __file__, "--one", tree or "-", variant, "--n", str(a.n),
                       "--reps", str(a.reps)] + (["--threads", str(a.threads)] if a.threads
                                                 else [])
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                rows.setdefault((tree or "installed", variant), []).append(
                    json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{a.n} patients, 2 years, daily output, label IV; best of {a.reps} calls per "
          f"process, {a.rounds} processes each; subject-years per second")
    print(f"{'tree':<28}{'variant':<12}{'per wall s':>14}{'per CPU s':>14}")
    best = {k: (max(r["per_wall_s"] for r in v), max(r["per_cpu_s"] for r in v))
            for k, v in rows.items()}
    for (tree, variant), (w, c) in best.items():
        print(f"{tree:<28}{variant:<12}{w:>14,.0f}{c:>14,.0f}")
    for tree in {t for t, _ in best}:
        pk, im = best[(tree, "pk")], best[(tree, "immune C,B")]
        print(f"{tree}: immune C,B / PK-only = {im[0] / pk[0]:.2f} (wall), "
              f"{im[1] / pk[1]:.2f} (CPU)")


if __name__ == "__main__":
    main()
