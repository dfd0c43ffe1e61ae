"""Load test of the web app (issue 16): 20 concurrent clients, 1,000 mixed valid and invalid
requests; reports p50/p95 latency and fails if any answer is a 5xx (or a valid request is
refused, or an invalid one accepted). Run directly, never collected by pytest:

    python benchmarks/load_web.py                    # starts its own server on a free port
    python benchmarks/load_web.py --url http://127.0.0.1:8000   # against a running server

Valid requests: pages, the pre-dose check (JSON and FHIR), the plan and infusion day, and
simulations (explainer of a typical patient, exposure of 20 patients) that queue on the
engine lock. Invalid: NaN, an oversized body, a field out of its cap, an unknown field,
malformed JSON, a FHIR bundle without a birth date, a regimen that names a file.
For research and education only; not clinical advice.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECORD = {
    "check_date": "2026-11-30", "age": 41, "weight_kg": 72,
    "planned": {"route": "IV", "dose_mg": 600},
    "previous_doses": [{"date": "2025-11-24", "route": "IV", "dose_mg": 300},
                       {"date": "2025-12-08", "route": "IV", "dose_mg": 300},
                       {"date": "2026-06-02", "route": "IV", "dose_mg": 600}],
    "hbv": {"hbsag": "negative", "anti_hbc": "negative"}, "active_infection": False,
    "igg_g_per_l": 8.4, "pregnant": False, "symptoms": ["none"]}
BUNDLE = json.loads((ROOT / "examples" / "fhir" / "check-dose.json").read_text())
FORECAST_BUNDLE = json.loads((ROOT / "examples" / "fhir" / "forecast.json").read_text())
FORECAST_CSV = (ROOT / "src" / "ocrelisim" / "data" / "forecast_example.csv").read_text()
NO_BIRTH = copy.deepcopy(BUNDLE)
del NO_BIRTH["entry"][0]["resource"]["birthDate"]
JSON = {"content-type": "application/json"}
FHIR = {"content-type": "application/fhir+json"}

# (name, valid, method, path, json body or raw bytes, headers, weight)
MIX: list[tuple[str, bool, str, str, Any, dict[str, str], int]] = [
    ("page /", True, "GET", "/", None, {}, 6),
    ("page /check", True, "GET", "/check", None, {}, 6),
    ("page /forecast", True, "GET", "/forecast", None, {}, 3),
    ("api check", True, "POST", "/api/check", {"record": RECORD}, JSON, 12),
    ("fhir check", True, "POST", "/fhir/check", json.dumps(BUNDLE).encode(), FHIR, 8),
    ("api plan", True, "POST", "/api/plan/patient", {"start": "2025-03-03"}, JSON, 6),
    ("api day", True, "POST", "/api/plan/day", {"visit": "sc"}, JSON, 6),
    ("api explainer", True, "POST", "/api/explainer", {"years": 1, "regimens": ["iv"]},
     JSON, 5),
    ("api exposure", True, "POST", "/api/exposure", {"n": 20, "days": 120}, JSON, 4),
    ("NaN", False, "POST", "/api/explainer", b'{"weight_kg": NaN}', JSON, 6),
    ("oversized", False, "POST", "/api/check", b'{"x": "' + b"a" * 1_200_000 + b'"}', JSON, 3),
    ("cap n", False, "POST", "/api/exposure", {"n": 100000}, JSON, 6),
    ("unknown field", False, "POST", "/api/plan/day", {"visit": "sc", "x": 1}, JSON, 5),
    ("bad json", False, "POST", "/api/check", b"{not json", JSON, 5),
    ("bad record", False, "POST", "/api/check", {"record": {**RECORD, "age": -1}}, JSON, 6),
    ("fhir no birthDate", False, "POST", "/fhir/check", json.dumps(NO_BIRTH).encode(), FHIR,
     5),
    ("file path", False, "POST", "/api/exposure", {"regimen": "/etc/passwd"}, JSON, 4),
    ("fhir forecast", True, "POST", "/fhir/forecast", json.dumps(FORECAST_BUNDLE).encode(),
     FHIR, 2),
    ("api forecast", True, "POST", "/api/forecast", {"records": FORECAST_CSV}, JSON, 2),
    ("bad forecast row", False, "POST", "/api/forecast",
     {"records": "ID,TIME,EVID,AMT,CMT,DV,DVID\n1,0,1,920,1,,\n1,30,0,,,-3,2\n"}, JSON, 2),
]


def _schedule(total: int, seed: int) -> list[int]:
    weights = np.array([m[-1] for m in MIX], dtype=float)
    rng = np.random.default_rng(seed)
    return list(rng.choice(len(MIX), size=total, p=weights / weights.sum()))


ANSWERS: dict[int, set[str]] = defaultdict(set)
"""Distinct bodies of the simulation answers: one per request kind (same input, same answer,
however many run at once: the engine lock keeps concurrent simulations apart)."""


async def _one(client: httpx.AsyncClient, k: int) -> tuple[int, int, float]:
    _name, _valid, method, path, body, headers, _w = MIX[k]
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, bytes):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    t0 = time.perf_counter()
    r = await client.request(method, path, **kwargs)
    seconds = time.perf_counter() - t0
    if MIX[k][0] in ("api explainer", "api exposure", "api forecast") and r.status_code == 200:
        ANSWERS[k].add(r.text)
    return k, r.status_code, seconds


async def run(url: str, total: int, clients: int, seed: int) -> list[tuple[int, int, float]]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for k in _schedule(total, seed):
        queue.put_nowait(k)
    results: list[tuple[int, int, float]] = []

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=600) as client:
            while True:
                try:
                    k = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                results.append(await _one(client, k))

    await asyncio.gather(*(worker() for _ in range(clients)))
    return results


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ocrelisim.interfaces.web:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level",
         "warning"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def _warm(url: str) -> None:
    """One simulation first, so the engine's compiled kernels are loaded before timing."""
    httpx.post(f"{url}/api/explainer", json={"years": 0.2, "regimens": ["iv"]}, timeout=900)
    httpx.post(f"{url}/api/exposure", json={"n": 2, "days": 30}, timeout=900)


def report(results: list[tuple[int, int, float]], wall: float, clients: int) -> bool:
    lat = np.array([r[2] for r in results]) * 1000.0
    statuses = Counter(r[1] for r in results)
    by_kind: dict[int, list[float]] = defaultdict(list)
    wrong: Counter[str] = Counter()
    for k, status, seconds in results:
        by_kind[k].append(seconds * 1000.0)
        name, valid = MIX[k][0], MIX[k][1]
        ok = status == 200 if valid else 400 <= status < 500
        if not ok:
            wrong[f"{name}: {status}"] += 1
    print(f"# ocrelisim web load test, {time.strftime('%Y-%m-%d')}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{len(results)} requests, {clients} concurrent clients, {wall:.1f} s wall, "
          f"{len(results) / wall:.1f} requests/s")
    print(f"latency ms: p50 {np.percentile(lat, 50):.1f}, p95 {np.percentile(lat, 95):.1f}, "
          f"max {lat.max():.1f}")
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    print(f"{'request':<20} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}")
    for k in sorted(by_kind):
        v = np.array(by_kind[k])
        print(f"{MIX[k][0]:<20} {v.size:>5} {np.percentile(v, 50):>9.1f} "
              f"{np.percentile(v, 95):>9.1f}")
    for k, bodies in ANSWERS.items():
        print(f"{MIX[k][0]}: {len(bodies)} distinct answer(s) to the same request")
        if len(bodies) != 1:
            wrong[f"{MIX[k][0]}: answers differ under load"] += 1
    five = sum(n for s, n in statuses.items() if s >= 500)
    print(f"5xx: {five}")
    if wrong:
        print("unexpected: " + ", ".join(f"{k} x{n}" for k, n in wrong.items()))
    return five == 0 and not wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="A running server; default: start one.")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    proc = None
    url = args.url
    if url is None:
        proc, url = _start_server()
    try:
        _warm(url)
        t0 = time.perf_counter()
        results = asyncio.run(run(url, args.requests, args.clients, args.seed))
        ok = report(results, time.perf_counter() - t0, args.clients)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
