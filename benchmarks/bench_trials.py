"""Benchmark: replicate OPERA-sized virtual trials (issue #5 target: 1,000 in <= 60 s, 2 cores).

    python benchmarks/bench_trials.py [--replicates 1000] [--preset opera1] [--workers 2] [--dask]

Prints wall time (bank and replicates separately), replicates per second, peak RSS of this
process and of its workers, and the summary table (power and estimates vs published).
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from ocrelisim import trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--preset", default="opera1")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--bank-size", type=int, default=trials.run_trial.__kwdefaults__["bank_size"])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--dask", action="store_true",
                    help="run on a local Dask cluster (2 worker processes) instead")
    args = ap.parse_args()
    design = trials.preset(args.preset)
    t0 = time.perf_counter()
    bank = trials.build_bank(design, args.bank_size, args.seed)
    t1 = time.perf_counter()
    if args.dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.workers or 2, threads_per_worker=1,
                          dashboard_address=None) as cluster:
            t1 = time.perf_counter()  # cluster start-up not counted
            result = trials.run_trial(design, args.replicates, args.seed, bank=bank,
                                      scheduler=cluster.scheduler_address)
            t2 = time.perf_counter()
    else:
        result = trials.run_trial(design, args.replicates, args.seed, bank=bank,
                                  workers=args.workers)
        t2 = time.perf_counter()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{design.name}: n={design.n}, {design.weeks} weeks, {args.replicates} replicates, "
          f"bank {args.bank_size}")
    print(f"bank (immune model) {t1 - t0:.2f} s; replicates {t2 - t1:.2f} s "
          f"({args.replicates / (t2 - t1):.1f}/s); total {t2 - t0:.2f} s")
    print(f"peak RSS: main {own:.0f} MB, largest worker {kids:.0f} MB")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(result.summary().drop(columns=["control"]).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
