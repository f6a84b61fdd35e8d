"""Threads on a busy machine (issue 15): the default thread policy against one thread.

Each configuration runs in its own interpreter (OpenMP reads its wait policy once, at start-up),
next to ``k`` bounded busy-loop processes (each stops by itself after ``--limit`` seconds and is
killed at the end). Configurations:

* ``default``   - piqs_squeeze as shipped (passive waits after a short spin, GOMP_SPINCOUNT=3000;
  one thread below the size threshold; above it as many as there are free cores);
* ``1 thread``  - PIQS_SQUEEZE_THREADS=1;
* ``spinning``  - the previous default: OMP_WAIT_POLICY=ACTIVE, PIQS_SQUEEZE_THREADS=2 (two threads
  at every size);
* ``short spin 2`` - the shipped wait policy with PIQS_SQUEEZE_THREADS=2 (two threads at every size,
  whatever the load: what the default would cost if it misjudged the load).

Workloads: the exact reference model (Upsilon/Upsilon_c = 0.9, chi = Gamma = gamma_s = 1) at
N = 40 (t in [0, 2]) and N = 100 (t in [0, 0.25]), and a 400-model cumulant batch at N = 1e4.
Each process times one run after a warm-up run (JIT caches warm); the configurations take turns,
``--repeat`` rounds, so that drifting background load hits them alike; the median is reported.

    python benchmarks/bench_threads.py [--busy 0 3] [--repeat 3] [--workloads "exact N=100" ...]

Writes benchmarks/results/threads.json and threads.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"

WORKER = r"""
import json, sys, time
import numpy as np
import piqs_squeeze as ps
from piqs_squeeze.runtime import threads

def exact(N, T):
    m = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma=1.0, gamma_s=1.0)
    return lambda: ps.evolve(m, np.linspace(0, T, 11), method="exact", progress=False)

def cumulant():
    models = [ps.Model.from_upsilon_ratio(10_000, r, chi=1.0, gamma_s=g)
              for r in np.linspace(0.5, 1.2, 20) for g in np.geomspace(1, 100, 20)]
    return lambda: ps.evolve(models, np.linspace(0, 0.05, 11), method="cumulant")

work = {"exact N=40": exact(40, 2.0), "exact N=100": exact(100, 0.25), "cumulant 400 x N=1e4": cumulant()}[sys.argv[1]]
work()  # warm-up: JIT caches, first-touch allocations
t0 = time.perf_counter()
work()
print(json.dumps({"time": time.perf_counter() - t0, "threads": threads.kernel_threads(10**9)}))
"""

CONFIGS = {
    "default": {},
    "1 thread": {"PIQS_SQUEEZE_THREADS": "1"},
    "spinning": {"OMP_WAIT_POLICY": "ACTIVE", "PIQS_SQUEEZE_THREADS": "2"},
    "short spin 2": {"PIQS_SQUEEZE_THREADS": "2"},
}
WORKLOADS = ["exact N=40", "exact N=100", "cumulant 400 x N=1e4"]


def busy(k, limit):
    code = f"import time\nt = time.time()\nwhile time.time() - t < {limit}:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(k)]


def run(workload, config):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "PIQS_SQUEEZE_THREADS")}
    env.update(CONFIGS[config])
    out = subprocess.run([sys.executable, "-c", WORKER, workload], env=env, capture_output=True,
                         text=True, timeout=1800)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--busy", type=int, nargs="+", default=[0, 3])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=float, default=900.0, help="seconds a busy loop lives at most")
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), help="configurations to run (default and "
                    "'1 thread' always run)")
    args = ap.parse_args()
    rows = []
    for k in args.busy:
        for w in args.workloads:
            procs = busy(k, args.limit)
            try:
                time.sleep(0.5)
                load0 = os.getloadavg()
                configs = [c for c in CONFIGS if c in ("default", "1 thread") or c in args.configs]
                res = {c: [] for c in configs}
                for _ in range(args.repeat):
                    for c in configs:
                        res[c].append(run(w, c)["time"])
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
            best = {c: float(np.median(t)) for c, t in res.items()}
            row = {"busy": k, "workload": w, "load_before": load0, "load_after": os.getloadavg(),
                   "median_s": best, "all_s": res,
                   "default_over_1thread": best["default"] / best["1 thread"],
                   "spinning_over_1thread": best["spinning"] / best["1 thread"] if "spinning" in best else None}
            rows.append(row)
            print(f"busy={k} {w}: " + ", ".join(f"{c} {t:.2f} s" for c, t in best.items())
                  + f" | default/1 = {row['default_over_1thread']:.2f} (load {load0[0]:.1f})", flush=True)
    meta = {"cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
            "date": time.strftime("%Y-%m-%d %H:%M")}
    for r in rows:
        r["repeat"] = args.repeat
    RESULTS.mkdir(exist_ok=True)
    old = RESULTS / "threads.json"
    if old.exists():  # rows of other (busy, workload) pairs from earlier invocations are kept
        new = {(r["busy"], r["workload"]) for r in rows}
        rows = [r for r in json.loads(old.read_text())["rows"] if (r["busy"], r["workload"]) not in new] + rows
        rows.sort(key=lambda r: (r["busy"], WORKLOADS.index(r["workload"]) if r["workload"] in WORKLOADS else 99))
    (RESULTS / "threads.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = ["# Threads on a busy machine (benchmarks/bench_threads.py)", "",
             f"{meta['cpus']} cores, {meta['date']}; median of `repeat` warm runs per configuration, "
             "each in its own process (configurations taking turns) beside `busy` busy-loop processes. "
             "Load = 1-minute load average before the configurations ran (other work on the machine "
             "included).", "",
             "| busy | workload | load | default | 1 thread | spinning (old default) | short spin, 2 threads "
             "| default / 1 thread | spinning / 1 thread | repeat |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = {c: f"{r['median_s'][c]:.2f}" if c in r["median_s"] else "-" for c in CONFIGS}
        sp = r["spinning_over_1thread"]
        lines.append(f"| {r['busy']} | {r['workload']} | {r['load_before'][0]:.1f} | {b['default']} | "
                     f"{b['1 thread']} | {b['spinning']} | {b['short spin 2']} | "
                     f"{r['default_over_1thread']:.2f} | {'-' if sp is None else f'{sp:.2f}'} | {r.get('repeat', '')} |")
    (RESULTS / "threads.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
