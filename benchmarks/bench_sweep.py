"""Overhead of the sweep machinery: a 2000-point map through ``run_sweep`` on 2 local worker
processes against ONE direct batched call on the same points in the same process.

The map is paper Fig. 3a in shape (N = 1e4, chi = 1, CSS along -x): 50 drive ratios x 40
single-particle emission rates, one fixed time grid (so that a single batched call can take all
2000 points). Both sides compute the same summaries (final xi^2 / N_eff and the minimum
transient xi^2 of piqs_squeeze.analysis); the sweep also writes its checkpoints (manifest, one
file per chunk, table).

Target (issue 7): sweep time <= 1.2 x direct time.

Run: ``python benchmarks/bench_sweep.py [--method cumulant] [--quick]``.
Writes benchmarks/results/sweep.{json,md}.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


import piqs_squeeze as ps  # noqa: E402
from piqs_squeeze.sweep import SweepSpec, make_chunks, run_sweep  # noqa: E402
from piqs_squeeze.sweep.summaries import normalize_summaries, resolve, summarize  # noqa: E402

OUT = Path(__file__).parent / "results"
SUMMARIES = ["final", "min_transient_xi2"]  # the Fig. 3a figure of merit (piqs_squeeze.analysis)


def spec_for(method, n_ratio, n_gs, num_t, t_end):
    return SweepSpec.from_dict({
        "name": f"bench-{method}", "fixed": {"N": 10000, "chi": 1.0},
        "grid": {"ratio": {"start": 0.5, "stop": 1.5, "num": n_ratio},
                 "gamma_s": {"start": 1.0, "stop": 200.0, "num": n_gs, "log": True}},
        "times": {"t_end": t_end, "num": num_t}, "methods": [method], "summaries": SUMMARIES,
    })


def direct(spec):
    """One batched ``evolve`` on all models, then the same summaries: the obvious alternative."""
    points = spec.expand()
    models = [p.model for p in points]
    resolved = resolve(normalize_summaries(SUMMARIES))
    t0 = time.perf_counter()
    results = ps.evolve(models, points[0].times, method=spec.methods[0]["method"])
    t1 = time.perf_counter()
    rows = [summarize(r, resolved) for r in results]
    t2 = time.perf_counter()
    return t2 - t0, t1 - t0, rows


def through_sweep(spec, workers, persist):
    tmp = tempfile.mkdtemp(prefix="bench_sweep_") if persist else None
    try:
        t0 = time.perf_counter()
        table = run_sweep(spec, tmp, workers=workers, progress=False)
        return time.perf_counter() - t0, table
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="cumulant")
    ap.add_argument("--quick", action="store_true", help="200 points instead of 2000")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--t-end", type=float, default=0.05)
    ap.add_argument("--num-t", type=int, default=101)
    args = ap.parse_args()
    n_ratio, n_gs = (10, 20) if args.quick else (50, 40)
    spec = spec_for(args.method, n_ratio, n_gs, args.num_t, args.t_end)
    n = n_ratio * n_gs
    chunks = make_chunks(spec.expand(), spec)
    print(f"{n} points of {args.method!r}, {len(chunks)} chunks of {len(chunks[0])}")

    rec = {"direct": [], "direct_evolve_only": [], "sweep_2w": [], "sweep_2w_nodir": [], "sweep_1w": []}
    rows = table = None
    # warm-up: numba compilation (or its cache load) in this process, and the sweep's fork
    # server (started once per driving process, with the heavy imports) plus its workers' compile
    small = spec_for(args.method, 2, 2, args.num_t, args.t_end)
    direct(small)
    rec["first_sweep_2w_cold"] = [through_sweep(spec, 2, persist=True)[0]]
    for _ in range(args.repeat):  # interleaved so that load changes hit both sides alike
        td, te, rows = direct(spec)
        rec["direct"].append(td)
        rec["direct_evolve_only"].append(te)
        ts, table = through_sweep(spec, 2, persist=True)
        rec["sweep_2w"].append(ts)
        rec["sweep_2w_nodir"].append(through_sweep(spec, 2, persist=False)[0])
        print({k: round(v[-1], 3) for k, v in rec.items() if v})
    rec["sweep_1w"].append(through_sweep(spec, 1, persist=True)[0])
    best = {k: min(v) for k, v in rec.items()}
    # the sweep's numbers agree with the direct call up to the integrator tolerance: chunks of
    # 125 points are batches of their own, so adaptive steps differ from the 2000-point batch
    dev = max(abs(table[k][i] - rows[i][k]) / max(abs(rows[i][k]), 1e-300)
              for i in range(n) for k in ("final_xi2", "min_transient_xi2"))
    ratio = best["sweep_2w"] / best["direct"]
    paired = [a / b for a, b in zip(rec["sweep_2w"], rec["direct"])]  # same moment, same load
    res = {
        "method": args.method, "points": n, "chunks": len(chunks), "chunk_size": len(chunks[0]),
        "times": {"t_end": args.t_end, "num": args.num_t}, "N": 10000, "repeat": args.repeat,
        "seconds_best": best, "seconds_all": rec, "ratio_sweep_2w_over_direct": ratio, "paired_ratios": paired,
        "target_ratio": 1.2, "meets_target": ratio <= 1.2, "max_rel_dev_summaries": dev,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with "
                   "other engineers' jobs: timings are noisy (best of repeats, interleaved)",
        "env": "OMP/OPENBLAS/MKL_NUM_THREADS=1", "python": platform.python_version(),
        "piqs_squeeze": ps.__version__,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "sweep.json").write_text(json.dumps(res, indent=1))
    md = [
        "# Sweep overhead (bench_sweep.py)", "",
        f"{n}-point {args.method} map (N = 1e4, chi = 1, ratio x gamma_s, {args.num_t} times to "
        f"t = {args.t_end}), best of {args.repeat}, {os.cpu_count()} shared cores (noisy: other jobs running).", "",
        "| run | seconds | / direct |", "|---|---|---|",
    ]
    labels = {"direct": "one direct batched evolve + summaries (1 process)",
              "direct_evolve_only": "  of which the batched evolve",
              "sweep_2w": f"run_sweep, 2 worker processes, {len(chunks)} chunks, checkpoints on disk",
              "sweep_2w_nodir": "run_sweep, 2 workers, no sweep directory",
              "sweep_1w": "run_sweep, serial (1 worker), checkpoints on disk",
              "first_sweep_2w_cold": "first run_sweep of the session (fork server start, imports, JIT load)"}
    for k, lab in labels.items():
        md.append(f"| {lab} | {best[k]:.3f} | {best[k] / best['direct']:.2f} |")
    md += ["", f"Target sweep(2 workers) / direct <= 1.2: **{ratio:.2f}** "
           f"({'met' if ratio <= 1.2 else 'NOT met'}); ratio of each interleaved pair: "
           f"{', '.join(f'{r:.2f}' for r in paired)}. Largest relative difference of the summaries "
           f"between the sweep (chunked batches) and the single batch: {dev:.1e} (the cumulant "
           "integrator takes its own adaptive steps per model, so batching does not change numbers).", "",
           "Timings on this shared 2-core machine scatter widely from run to run (other engineers' jobs); "
           "the best of the interleaved repeats is the fairer estimate. The sweep can even beat the direct "
           "call: its workers take chunks dynamically, while one numba batch splits the 2000 models "
           "statically over its threads (stiffness varies across the map). The first sweep of a session "
           "pays the fork server start and imports (the worker pool is kept warm afterwards).", ""]
    (OUT / "sweep.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
