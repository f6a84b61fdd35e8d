"""Reach of the exact cavity method in the excitation-number sectors (|k| <= 2 of Jz + a^+ a).

Model: no Omega (so M = Jz + a^+ a is conserved), chi = 1, gamma_s = 1 (local emission), gamma = 0,
cavity g = 3 / sqrt(N), kappa = 10, CSS along -x times the vacuum, t = 2, krylov_dim 8 at N = 50
(memory), max_memory 4 GB (the share of one engineer on the shared machine).

Run: ``python benchmarks/bench_cavity_sectors.py [--quick]`` (quick: N = 20 only). Writes
benchmarks/results/cavity_sectors.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import cavity as exact_cavity

OUT = Path(__file__).parent / "results"


def run(N, nmax, krylov_dim):
    m = ps.Model(N, chi=1.0, gamma=0.0, gamma_s=1.0, cavity=ps.Cavity(3 / np.sqrt(N), 10.0, nmax=nmax))
    t0 = time.perf_counter()
    r = ps.evolve(m, np.linspace(0, 2, 5), method="exact", progress=False, max_memory=4e9, krylov_dim=krylov_dim)
    return {"N": N, "nmax": nmax, "krylov_dim": krylov_dim, "wall_s": time.perf_counter() - t0,
            "products": r.stats["products"], "kept_complex_entries": r.stats["packed_size"] // 2,
            "full_complex_entries": exact_cavity.packed_size(N, nmax),
            "memory_estimate_GB": exact_cavity.memory_needed(N, nmax, krylov_dim, sectors=True) / 1e9,
            "maxrss_GB_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
            "top_population": r.extras["fock_top_population"], "max_photons": float(r.photon_number.max())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = [run(20, 20, 16)] + ([] if args.quick else [run(50, 30, 8)])
    OUT.mkdir(exist_ok=True)
    (OUT / "cavity_sectors.json").write_text(json.dumps({"rows": rows, "load_average": os.getloadavg()}, indent=1))
    lines = ["# Exact cavity runs in the excitation-number sectors (benchmarks/bench_cavity_sectors.py)", "",
             f"Shared 2-core machine, load average {os.getloadavg()[0]:.1f} at the end: wall times are upper bounds.", "",
             "| N | nmax | krylov_dim | kept / full complex entries | memory estimate (GB) | peak RSS (GB) | wall (s) | "
             "products | top-level population |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['N']} | {r['nmax']} | {r['krylov_dim']} | {r['kept_complex_entries']} / "
                     f"{r['full_complex_entries']} | {r['memory_estimate_GB']:.2f} | {r['maxrss_GB_so_far']:.2f} | "
                     f"{r['wall_s']:.1f} | {r['products']} | {r['top_population']:.1e} |")
    (OUT / "cavity_sectors.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
