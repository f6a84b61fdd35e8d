"""Benchmark of the exact method with a cavity mode (rho_j (x) Fock (x) Fock, matrix-free kernel).

* N = 10, 14 (quick: 10): exact against qutip.piqs' Dicke Liouvillian (x) Fock + qutip.mesolve, same
  process, same model, same Fock cut-off; wall times, their ratio and the largest moment deviation;
* the reach: N = 20 with nmax = 20 for t = 2 with local emission (the issue's target: <= 30 s);
  N = 50 with nmax = 30 only if the memory estimate fits under ``--max-memory`` (default 4 GB, the
  share of one engineer on the shared machine); otherwise the estimate and the refusal are recorded;
* cumulant (order 2) with the cavity at N = 1e4 (one model) for the figure's parameters.

Run: ``python benchmarks/bench_cavity.py [--quick] [--max-memory BYTES]``. Writes
benchmarks/results/cavity.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import cavity as exact_cavity
from piqs_squeeze.validation.checks.cavity import piqs_fock_evolve

OUT = Path(__file__).parent / "results"


def model_for(N, nmax):
    """Paper-like point (Upsilon/Upsilon_c = 0.9 of Gamma_eff = 1, chi = 1, gamma_s = 1) with the
    collective decay carried by a cavity of kappa/(g sqrt N) = 4 (g = sqrt(N), kappa = 4 N)."""
    base = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma=1.0, gamma_s=1.0)
    return base.replace(gamma=0.0, cavity=ps.Cavity(np.sqrt(N), 4.0 * N, nmax=nmax))


def vs_piqs(N, nmax, t_end):
    m = model_for(N, nmax)
    t = np.linspace(0.0, t_end, 11)
    t0 = time.perf_counter()
    ours = ps.evolve(m, t, method="exact", rtol=1e-10, progress=False)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    mean, second, n, fld = piqs_fock_evolve(m, t, nmax)
    t_ref = time.perf_counter() - t0
    dev = max(float(np.abs(ours.mean - mean).max()) / (N / 2), float(np.abs(ours.second - second).max()) / (N / 2) ** 2)
    return {"N": N, "nmax": nmax, "t_end": t_end, "exact_s": t_ours, "piqs_fock_mesolve_s": t_ref,
            "speedup": t_ref / t_ours, "max_rel_moment_dev": dev,
            "photon_dev": float(np.abs(ours.photon_number - n).max()), "products": ours.stats["products"],
            "state_complex_entries": ours.stats["packed_size"] // 2, "top_population": ours.extras["fock_top_population"]}


def reach(N, nmax, t_end, max_memory):
    m = model_for(N, nmax)
    need = exact_cavity.memory_needed(N, nmax)
    row = {"N": N, "nmax": nmax, "t_end": t_end, "memory_estimate_GB": need / 1e9,
           "state_complex_entries": exact_cavity.packed_size(N, nmax)}
    if need > max_memory:
        try:
            ps.evolve(m, [0.0, t_end], method="exact", max_memory=max_memory, progress=False)
        except MemoryError as exc:
            row.update(refused=True, message=str(exc))
        return row
    t0 = time.perf_counter()
    r = ps.evolve(m, np.linspace(0.0, t_end, 5), method="exact", max_memory=max_memory, progress=False)
    row.update(refused=False, wall_s=time.perf_counter() - t0, products=r.stats["products"],
               top_population=r.extras["fock_top_population"], max_photons=float(r.photon_number.max()),
               min_xi2_db=float(10 * np.log10(r.xi2.min())))
    return row


def cumulant_large(N, x=4.0):
    base = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma=1.0, gamma_s=50.0)
    m = base.replace(gamma=0.0, cavity=ps.Cavity(x * np.sqrt(N) / 4, x * x * N / 4))
    t = np.linspace(0.0, 0.1, 201)
    t0 = time.perf_counter()
    r = ps.evolve(m, t, method="cumulant", on_failure="nan")
    t_cav = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = ps.evolve(base, t, method="cumulant")
    t_spin = time.perf_counter() - t0
    return {"N": N, "x": x, "kappa": m.cavity.kappa, "cavity_s": t_cav, "spin_only_s": t_spin,
            "rhs_evaluations": r.stats["rhs_evaluations"], "failure": r.extras.get("failure"),
            "t_reached": r.extras.get("t_reached", float(t[-1])),
            "min_xi2_db_cavity": float(10 * np.log10(np.nanmin(r.xi2))),
            "min_xi2_db_spin_only": float(10 * np.log10(np.nanmin(s.xi2)))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--max-memory", type=float, default=4e9)
    args = ap.parse_args()
    rows = [vs_piqs(N, 8, 1.0) for N in ((10,) if args.quick else (10, 14))]
    reach_rows = [reach(20, 20, 2.0, args.max_memory), reach(50, 30, 2.0, args.max_memory)]
    cum = [cumulant_large(N) for N in (1000, 10000)]
    doc = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "load_average_start": os.getloadavg()},
           "vs_piqs": rows, "reach": reach_rows, "cumulant": cum,
           "note": "shared 2-core machine, other jobs running: wall times are upper bounds"}
    OUT.mkdir(exist_ok=True)
    (OUT / "cavity.json").write_text(json.dumps(doc, indent=1, default=float))
    lines = ["# Exact and cumulant with a cavity mode (benchmarks/bench_cavity.py)", "",
             f"Machine: {os.cpu_count()} cores, load average at start {doc['machine']['load_average_start'][0]:.1f} "
             "(shared with other jobs: wall times are upper bounds). Model: Upsilon/Upsilon_c = 0.9, chi = 1, "
             "gamma_s = 1, the collective decay carried by a cavity g = sqrt(N), kappa = 4 N (Gamma_eff = 1).", "",
             "## exact vs qutip.piqs Dicke Liouvillian (x) Fock + mesolve (same process, same nmax)", "",
             "| N | nmax | t | exact (s) | piqs (x) Fock + mesolve (s) | ratio | max rel. moment dev. | photon dev. |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['N']} | {r['nmax']} | {r['t_end']:g} | {r['exact_s']:.2f} | {r['piqs_fock_mesolve_s']:.2f} | "
                     f"{r['speedup']:.1f}x | {r['max_rel_moment_dev']:.1e} | {r['photon_dev']:.1e} |")
    lines += ["", "## reach (t = 2, local emission)", "",
              "| N | nmax | complex entries | memory estimate (GB) | result |", "|---|---|---|---|---|"]
    for r in reach_rows:
        res = (f"refused before running: {r.get('message', '')[:120]}..." if r.get("refused")
               else f"{r['wall_s']:.1f} s, {r['products']} products, top-level population {r['top_population']:.1e}")
        lines.append(f"| {r['N']} | {r['nmax']} | {r['state_complex_entries']} | {r['memory_estimate_GB']:.2f} | {res} |")
    lines += ["", "## cumulant (order 2) with the cavity, gamma_s = 50, kappa/(g sqrt N) = 4, CSS along -x, t <= 0.1", "",
              "| N | kappa | cavity (s) | right-hand sides | spin-only (s) | min xi^2 cavity (dB) | spin only (dB) | "
              "reached t |", "|---|---|---|---|---|---|---|---|"]
    for c in cum:
        lines.append(f"| {c['N']} | {c['kappa']:.3g} | {c['cavity_s']:.1f} | {c['rhs_evaluations']} | "
                     f"{c['spin_only_s']:.2f} | {c['min_xi2_db_cavity']:.2f} | {c['min_xi2_db_spin_only']:.2f} | "
                     f"{c['t_reached']:.4g}{' (closure diverged)' if c['failure'] else ''} |")
    lines.append("")
    (OUT / "cavity.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
