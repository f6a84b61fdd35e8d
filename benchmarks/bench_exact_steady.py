"""Benchmark of the exact steady state with local processes and of the Liouvillian spectrum.

* ours (block-preconditioned GMRES, :mod:`piqs_squeeze.methods.exact.steady`) at N = 10 ... 200, with the
  residual, the uniqueness check and the load average of the (shared) machine next to each time;
* against, in the same process, at N = 10, 20, 40: stock ``qutip.piqs.Dicke(...).liouvillian()`` +
  ``qutip.steadystate`` (its default and the other methods that run), and our previous all-blocks
  sparse LU (``exact.steady_state(..., solver="lu")``); agreement of the moments with ours;
* ``liouvillian_spectrum(k=6)`` at N = 20 ... 100 (and 200 without --quick).

Run: ``python benchmarks/bench_exact_steady.py [--quick] [--only-large]``.
Writes benchmarks/results/exact_steady.{json,md}.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import qutip  # noqa: E402

import piqs_squeeze as ps  # noqa: E402
from piqs_squeeze import dicke  # noqa: E402
from piqs_squeeze.methods.exact import solver as exact

OUT = Path(__file__).parent / "results"
RATES = dict(chi=1.0, gamma_s=1.0, dephasing=0.2, pumping=0.05)  # every local process on


def model(N):
    return ps.Model.from_upsilon_ratio(N, 0.9, **RATES)


def timed(fn):
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, [load0, os.getloadavg()[0]]


def piqs_steady(m, method):
    from qutip.piqs.piqs import Dicke, jspin

    jx, jy, jz = jspin(m.N)
    jp, jm = jspin(m.N, "+"), jspin(m.N, "-")
    H = m.chi * jp * jm + m.omega * jx
    D = Dicke(m.N, hamiltonian=H, emission=m.gamma_s, dephasing=m.dephasing, pumping=m.pumping,
              collective_emission=m.gamma)
    L = D.liouvillian()
    kw = {} if method == "default" else {"method": method}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = qutip.steadystate(L, **kw)
    return rho


def moments_of_piqs(rho, N):
    """Moments of piqs' nds x nds steady state from its Dicke blocks (entries outside the blocks,
    noise of an eigen-solver, are dropped: their size is reported as ``off_block``)."""
    mat = rho.full()
    mask = np.zeros(mat.shape, bool)
    o = 0
    for d in dicke.block_dims(N):
        mask[o:o + d, o:o + d] = True
        o += d
    off = float(np.abs(mat[~mask]).max()) if (~mask).any() else 0.0
    mat = np.where(mask, mat, 0.0)
    mat = mat / np.trace(mat)
    blocks = dicke.blocks_from_piqs(mat, N)
    mean, second = np.zeros(3), np.zeros((3, 3))
    for j, B in zip(dicke.j_values(N), blocks):
        mu, s2 = dicke.moments_from_density(j, B)
        mean += mu
        second += s2
    return mean, second, off


def dev(a_mean, a_second, b_mean, b_second):
    scale = max(np.abs(b_second).max(), 1.0)
    return float(max(np.abs(a_mean - b_mean).max(), np.abs(a_second - b_second).max()) / scale)


class Timeout(Exception):
    pass


def with_timeout(fn, seconds):
    """fn() or Timeout after ``seconds`` (SIGALRM; the main thread only)."""
    import signal

    def handler(signum, frame):
        raise Timeout(f"gave up after {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(seconds))
    try:
        return fn()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="ours to N = 100 only, spectrum to N = 60")
    ap.add_argument("--only-large", action="store_true", help="only our N = 100, 200 steady states (re-timing)")
    args = ap.parse_args(argv)
    ps.steady_state(model(8), method="exact")  # warm-up (imports, caches)
    comparisons, ours, spectra = [], [], []
    if not args.only_large:
        for N in (10, 20, 40):
            m = model(N)
            res, t_ours, load = timed(lambda: ps.steady_state(m, method="exact"))
            row = {"N": N, "ours_s": t_ours, "ours_load": load, "ours_residual_rel": res.extras["residual_rel"],
                   "alternatives": []}
            lu, t_lu, load_lu = timed(lambda: exact.steady_state(m, solver="lu"))
            row["alternatives"].append({"name": "ours, all-blocks sparse LU (previous solver)", "s": t_lu,
                                        "load": load_lu, "ratio": t_lu / t_ours,
                                        "max_rel_moment_dev": dev(lu.mean[0], lu.second[0], res.mean[0], res.second[0])})
            methods = ["default", "power", "eigen"] + (["svd"] if N <= 10 else [])
            for meth in methods:
                try:
                    rho, t_p, load_p = timed(lambda: with_timeout(lambda: piqs_steady(m, meth), 120))
                    mean, second, off = moments_of_piqs(rho, N)
                    entry = {"name": f"qutip.piqs Dicke.liouvillian() + qutip.steadystate({meth})", "s": t_p,
                             "load": load_p, "ratio": t_p / t_ours,
                             "max_rel_moment_dev": dev(mean, second, res.mean[0], res.second[0]),
                             "off_block_weight": off}
                except Exception as exc:  # a method that fails is reported as such
                    entry = {"name": f"qutip.piqs Dicke.liouvillian() + qutip.steadystate({meth})",
                             "error": f"{type(exc).__name__}: {str(exc)[:120]}"}
                row["alternatives"].append(entry)
                print(N, entry, flush=True)
            comparisons.append(row)
            print(f"N={N}: ours {t_ours:.3f} s (load {load[0]:.1f})", flush=True)
    Ns = (100, 200) if args.only_large else ((60, 100) if args.quick else (60, 100, 200))
    for N in Ns:
        m = model(N)
        res, t, load = timed(lambda: ps.steady_state(m, method="exact"))
        e, st = res.extras, res.stats
        ours.append({"N": N, "wall_s": t, "load": load, "setup_s": st["setup_time"], "residual": e["residual"],
                     "residual_rel": e["residual_rel"], "unique": e["unique"],
                     "lambda2_estimate": [float(np.real(e["lambda2_estimate"])), float(np.imag(e["lambda2_estimate"]))],
                     "gmres_iterations_steady": st["steady_iterations"], "gmres_iterations_total": st["iterations"],
                     "packed_size": st["packed_size"], "lu_fill": st["lu_fill"]})
        print(ours[-1], flush=True)
    if not args.only_large:
        for N in ((20, 40, 60) if args.quick else (20, 40, 100)):
            m = model(N)
            # sigma=0: the six nearest 0, what this benchmark has always timed (the rightmost six:
            # bench_correlations.py)
            sp, t, load = timed(lambda: ps.liouvillian_spectrum(m, k=6, sigma=0.0))
            spectra.append({"N": N, "wall_s": t, "load": load, "solves": sp.info["solves"],
                            "iterations": sp.info["iterations"], "gap": sp.gap,
                            "eigenvalues": [[float(z.real), float(z.imag)] for z in sp.eigenvalues]})
            print(spectra[-1], flush=True)
    meta = {"rates": RATES, "ratio": 0.9, "gamma": 1.0, "machine": platform.platform(), "cpus": os.cpu_count(),
            "qutip": qutip.__version__, "threads": os.environ.get("OMP_NUM_THREADS"),
            "note": "2 cores shared with two other engineers running tests: timings are upper bounds; "
                    "'load' is os.getloadavg()[0] before and after each timing. Ratios are taken in one process."}
    OUT.mkdir(parents=True, exist_ok=True)
    name = "exact_steady_large" if args.only_large else "exact_steady"
    (OUT / f"{name}.json").write_text(json.dumps({"meta": meta, "comparisons": comparisons, "ours": ours,
                                                  "spectra": spectra}, indent=1))
    lines = [f"# Exact steady state with local processes{' (re-timing, N = 100, 200)' if args.only_large else ''}",
             "", f"Model: Upsilon/Upsilon_c = 0.9, {RATES}, Gamma = 1. {meta['note']}", ""]
    if comparisons:
        lines += ["## Against qutip.piqs and our previous LU (same process)", "",
                  "| N | ours (s) | alternative | its time (s) | ratio | max rel. moment dev. | load |",
                  "|---|---|---|---|---|---|---|"]
        for row in comparisons:
            for a in row["alternatives"]:
                if "error" in a:
                    lines.append(f"| {row['N']} | {row['ours_s']:.3f} | {a['name']} | fails: {a['error']} | | | |")
                else:
                    lines.append(f"| {row['N']} | {row['ours_s']:.3f} | {a['name']} | {a['s']:.3f} | "
                                 f"{a['ratio']:.1f}x | {a['max_rel_moment_dev']:.1e} | {a['load'][0]:.1f} |")
        lines.append("")
    lines += ["## Ours", "", "| N | packed size | wall (s) | setup (s) | GMRES its (steady / total) | residual_rel | "
              "unique | lambda_2 estimate | load before/after |", "|---|---|---|---|---|---|---|---|---|"]
    for r in ours:
        lines.append(f"| {r['N']} | {r['packed_size']} | {r['wall_s']:.1f} | {r['setup_s']:.1f} | "
                     f"{r['gmres_iterations_steady']} / {r['gmres_iterations_total']} | {r['residual_rel']:.1e} | "
                     f"{r['unique']} | {r['lambda2_estimate'][0]:.3f} | {r['load'][0]:.1f} / {r['load'][1]:.1f} |")
    if spectra:
        lines += ["", "## liouvillian_spectrum(k=6)", "", "| N | wall (s) | solves | GMRES its | gap | load |",
                  "|---|---|---|---|---|---|"]
        for r in spectra:
            lines.append(f"| {r['N']} | {r['wall_s']:.1f} | {r['solves']} | {r['iterations']} | {r['gap']:.5f} | "
                         f"{r['load'][0]:.1f} |")
    (OUT / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
