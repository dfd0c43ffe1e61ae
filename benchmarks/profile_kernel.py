"""Where a model kernel spends its time, instruction by instruction, with Linux ``perf``.

Numba's machine code has no symbols for ``perf``, so this runs ``simulate`` in a loop, then
copies every anonymous executable mapping of the process to files; ``report`` maps the
sampled instruction addresses into them and prints the hottest code regions (contiguous runs
of sampled 64-byte windows) with their share of all samples and their instruction mix, then
the hottest instructions, disassembled by ``objdump``. No hardware counters are needed
(``-e cpu-clock``), so it works in a VM.

    perf record -e cpu-clock -F 2000 -o /tmp/k.data \\
        python benchmarks/profile_kernel.py run --model immune --seconds 20 --dump /tmp/k
    python benchmarks/profile_kernel.py report /tmp/k.data /tmp/k

A sample lands on the instruction *after* a slow one (a division shows as the next
instruction). Run directly, never collected by pytest.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import re
import subprocess
import time
from pathlib import Path
from typing import Any


def run(model: str, seconds: float, n: int, dump: Path) -> None:
    """``simulate`` label IV, 2 years, daily output, one thread, for ``seconds``; then dump."""
    import numpy as np

    import ocrelisim as oc

    pop = oc.Population.sample(n, seed=1)
    times = np.arange(0.0, 731.0)
    opts = oc.SolverOptions(threads=1)
    regimen = oc.Regimen.preset("iv")
    kw: dict[str, Any] = {"model": "immune", "variables": ["C", "B"]} if model == "immune" else {}
    oc.simulate(regimen, pop[:64], times, options=opts, **kw)  # compile or load first
    t0 = time.perf_counter()
    calls = 0
    while time.perf_counter() - t0 < seconds:
        oc.simulate(regimen, pop, times, options=opts, **kw)
        calls += 1
    print(f"{(time.perf_counter() - t0) / calls:.4f} s per call, {calls} calls")
    dump.mkdir(parents=True, exist_ok=True)
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        if "x" in parts[1] and len(parts) == 5:  # executable, no backing file
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            (dump / f"{lo:x}.bin").write_bytes(ctypes.string_at(lo, hi - lo))


def _disassemble(path: Path, lo: int, hi: int) -> list[tuple[int, str]]:
    out = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64",
                          f"--start-address={lo}", f"--stop-address={hi}", str(path)],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(.*)", line)
        if m:
            rows.append((int(m.group(1), 16), m.group(2)))
    return rows


def report(data: Path, dump: Path, top: int) -> None:
    maps = [(int(f.stem, 16), f) for f in dump.glob("*.bin")]
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip"],
                            capture_output=True, text=True, check=True).stdout
    ips = [int(x, 16) for x in script.split()]
    hits: dict[Path, collections.Counter[int]] = {}
    for ip in ips:
        for lo, f in maps:
            if lo <= ip < lo + f.stat().st_size:
                hits.setdefault(f, collections.Counter())[ip - lo] += 1
                break
    f, offs = max(hits.items(), key=lambda kv: sum(kv[1].values()))
    total = len(ips)
    print(f"{total} samples, {100 * sum(offs.values()) / total:.1f}% in {f.name} (the kernel)")
    windows = sorted({o // 64 for o in offs})
    regions: list[list[int]] = [[windows[0]]]
    for w in windows[1:]:
        if w - regions[-1][-1] <= 4:
            regions[-1].append(w)
        else:
            regions.append([w])
    rows = []
    for r in regions:
        lo, hi = r[0] * 64, (r[-1] + 1) * 64
        rows.append((sum(c for o, c in offs.items() if lo <= o < hi), lo, hi))
    print("\nshare   region              instruction mix")
    for c, lo, hi in sorted(rows, reverse=True)[:top]:
        text = " ".join(t for _, t in _disassemble(f, lo, hi))
        mix = {k: len(re.findall(p, text)) for k, p in (
            ("div", r"vdiv"), ("fma", r"vfn?m(?:add|sub)"), ("zmm", r"zmm"), ("ymm", r"ymm"),
            ("scalar-sd", r"sd\s"), ("call", r"call"))}
        print(f"{100 * c / total:5.1f}%  +{lo:#07x}-{hi:#07x}  {mix}")
    print("\nhottest instructions")
    for off, c in offs.most_common(top):
        line = next((t for o, t in _disassemble(f, off, off + 16) if o == off), "?")
        print(f"{100 * c / total:5.1f}%  +{off:#07x}  {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", choices=("pk", "immune"), default="pk")
    r.add_argument("--seconds", type=float, default=20.0)
    r.add_argument("--n", type=int, default=4000)
    r.add_argument("--dump", type=Path, required=True)
    p = sub.add_parser("report")
    p.add_argument("data", type=Path)
    p.add_argument("dump", type=Path)
    p.add_argument("--top", type=int, default=15)
    a = ap.parse_args()
    if a.cmd == "run":
        run(a.model, a.seconds, a.n, a.dump)
    else:
        report(a.data, a.dump, a.top)


if __name__ == "__main__":
    main()
