"""Benchmark of the rightmost Liouvillian modes, two-time correlations and the emission spectrum.

* ``ps.correlation`` (<J+(tau) J-(0)> in the steady state) and ``ps.emission_spectrum`` against,
  in the same process, stock ``qutip.piqs.Dicke(...).liouvillian()`` with
  ``qutip.correlation_2op_1t`` / ``qutip.spectrum`` at N = 10-40 (every local rate on), with the
  agreement of the numbers;
* ``liouvillian_spectrum(k=6)`` (the rightmost six: dense or the imaginary-axis scan) against
  the previous default (the six nearest 0, ``sigma=0``) and numpy's dense eigenvalues, in the
  time-crystal regime (chi = 0, Upsilon/Upsilon_c = 1.5) on j = N/2 and with local emission;
* the order-2 cumulant regression against exact correlations and spectra, by N.

Run: ``python benchmarks/bench_correlations.py [--quick]``. Writes benchmarks/results/correlations.{json,md}.
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
from piqs_squeeze.methods.exact import generator as ops, steady  # noqa: E402

OUT = Path(__file__).parent / "results"
RATES = dict(chi=1.0, gamma_s=1.0, dephasing=0.2, pumping=0.05)


def timed(fn):
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, round(max(load0, os.getloadavg()[0]), 1)


def piqs_liouvillian(m):
    from qutip.piqs.piqs import Dicke, jspin

    jx = jspin(m.N, "x")
    jp, jm = jspin(m.N, "+"), jspin(m.N, "-")
    H = m.chi * jp * jm + m.omega * jx
    D = Dicke(m.N, hamiltonian=H, emission=m.gamma_s, dephasing=m.dephasing, pumping=m.pumping,
              collective_emission=m.gamma)
    return D.liouvillian(), jp, jm


def bench_qutip(Ns, spectrum_Ns, taus, omegas):
    rows = []
    for N in Ns:
        m = ps.Model.from_upsilon_ratio(N, 0.9, **RATES)
        ours, t_ours, l1 = timed(lambda: ps.correlation(m, taus))
        (L, jp, jm), t_build, _ = timed(lambda: piqs_liouvillian(m))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref, t_ref, l2 = timed(lambda: qutip.correlation_2op_1t(L, None, taus, [], jp, jm,
                                                                   options={"atol": 1e-10, "rtol": 1e-10}))
        row = {"N": N, "what": "correlation_2op_1t", "ours_s": t_ours, "qutip_s": t_build + t_ref,
               "qutip_build_s": t_build, "ratio": (t_build + t_ref) / t_ours,
               "max_rel_dev": float(np.abs(ours - ref).max() / np.abs(ref).max()), "load": max(l1, l2)}
        rows.append(row)
        print(row, flush=True)
        if N in spectrum_Ns:
            S, t_s, l1 = timed(lambda: ps.emission_spectrum(m, omegas))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Sr, t_sr, l2 = timed(lambda: qutip.spectrum(L, omegas, [], jp, jm))
            row = {"N": N, "what": f"spectrum ({omegas.size} frequencies)", "ours_s": t_s, "qutip_s": t_build + t_sr,
                   "qutip_build_s": t_build, "ratio": (t_build + t_sr) / t_s,
                   "max_rel_dev": float(np.abs(S - Sr).max() / np.abs(Sr).max()), "load": max(l1, l2)}
            rows.append(row)
            print(row, flush=True)
    return rows


def bench_rightmost(cases):
    rows = []
    for label, m, block in cases:
        lay = ops.Layout(m.N) if block is None else ops.Layout(m.N, blocks=[block])
        sp, t_r, l1 = timed(lambda: ps.liouvillian_spectrum(m, k=6))
        row = {"case": label, "N": m.N, "size": lay.n, "rightmost_s": t_r, "eigensolver": sp.info["eigensolver"],
               "shifts": len(sp.info.get("shifts", [])), "solves": sp.info["solves"], "load": l1,
               "rightmost": [[round(float(z.real), 6), round(float(z.imag), 6)] for z in sp.eigenvalues]}
        if lay.n > steady.DENSE_RIGHTMOST:
            near, t_n, _ = timed(lambda: ps.liouvillian_spectrum(m, k=6, sigma=0.0))
            row["nearest0_s"] = t_n
            row["nearest0_misses"] = int(sum(np.abs(near.eigenvalues - z).min() > 1e-6 for z in sp.eigenvalues))
        if lay.n <= 7000:
            L = ops.generator_packed(m, lay).toarray()
            lam, t_d, _ = timed(lambda: np.linalg.eigvals(L))
            ref = steady._take_rightmost(lam, 8)
            row["dense_s"] = t_d
            row["max_dev_vs_dense"] = float(max(np.abs(ref - z).min() for z in sp.eigenvalues))
        rows.append(row)
        print(row, flush=True)
    return rows


def bench_cumulant(Ns, taus, omegas):
    rows = []
    for N in Ns:
        m = ps.Model.from_upsilon_ratio(N, 0.5, chi=1.0, gamma_s=1.0)
        ex, t_e, _ = timed(lambda: ps.correlation(m, taus))
        cu, t_c, _ = timed(lambda: ps.correlation(m, taus, method="cumulant"))
        Se = ps.emission_spectrum(m, omegas)
        Sc = ps.emission_spectrum(m, omegas, method="cumulant")
        exc = ps.correlation(m, taus, state=None)
        cuc = ps.correlation(m, taus, state=None, method="cumulant")
        row = {"N": N, "exact_s": t_e, "cumulant_s": t_c,
               "corr_steady_rel_dev": float(np.abs(ex - cu).max() / np.abs(ex).max()),
               "corr_css_rel_dev": float(np.abs(exc - cuc).max() / np.abs(exc).max()),
               "spectrum_rel_dev": float(np.abs(Se - Sc).max() / np.abs(Se).max())}
        rows.append(row)
        print(row, flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    taus = np.linspace(0.0, 2.0, 21)
    omegas = np.linspace(-20.0, 20.0, 41)
    q = args.quick
    warm = ps.Model.from_upsilon_ratio(4, 0.9, **RATES)  # numba kernels and caches loaded before timing
    ps.correlation(warm, taus)
    ps.emission_spectrum(warm, omegas[:2])
    ps.correlation(warm, taus, method="cumulant")
    res = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "quick": q}
    res["qutip"] = bench_qutip([10, 20] if q else [10, 20, 30, 40], [10] if q else [10, 16], taus, omegas)
    cases = []
    for N in ([20, 40] if q else [20, 40, 60, 80, 100]):
        cases.append((f"collective chi=0 r=1.5 (j=N/2)", ps.Model.from_upsilon_ratio(N, 1.5, chi=0.0), 0))
    for N in ([25] if q else [25, 50]):
        cases.append((f"collective chi=1 r=1.5 (j=N/2)", ps.Model.from_upsilon_ratio(N, 1.5, chi=1.0), 0))
    for N in ([10, 20] if q else [10, 20, 30, 40]):
        cases.append((f"gamma_s=0.5 chi=0 r=1.5 (all j)", ps.Model.from_upsilon_ratio(N, 1.5, chi=0.0, gamma_s=0.5),
                      None))
    res["rightmost"] = bench_rightmost(cases)
    res["cumulant"] = bench_cumulant([4, 10, 20] if q else [4, 10, 20, 40], taus, omegas)
    OUT.mkdir(exist_ok=True)
    (OUT / "correlations.json").write_text(json.dumps(res, indent=1))
    L = ["# Correlations, emission spectrum and rightmost Liouvillian modes", "",
         f"Machine: {res['machine']['platform']}, {res['machine']['cpus']} CPUs (shared; load average in the "
         "tables). One BLAS thread. `python benchmarks/bench_correlations.py" + (" --quick" if q else "") + "`.", "",
         "## ps.correlation / ps.emission_spectrum vs qutip.piqs + qutip (same process)", "",
         "Model: Upsilon/Upsilon_c = 0.9, chi = 1, gamma_s = 1, dephasing 0.2, pumping 0.05; <J+(tau) J-(0)> in the "
         f"steady state at {taus.size} delays in [0, 2]; S(omega) at {omegas.size} frequencies. qutip: "
         "`Dicke(...).liouvillian()` (its build time included) + `correlation_2op_1t` (mesolve, atol = rtol = "
         "1e-10) / `spectrum` (default 'es': a dense eigendecomposition of the nds^2 Liouvillian).", "",
         "| N | what | ours (s) | qutip.piqs (s) | of which build | ratio | max rel. dev. | load |",
         "|---|---|---|---|---|---|---|---|"]
    for r in res["qutip"]:
        L.append(f"| {r['N']} | {r['what']} | {r['ours_s']:.2f} | {r['qutip_s']:.2f} | {r['qutip_build_s']:.2f} | "
                 f"{r['ratio']:.1f}x | {r['max_rel_dev']:.1e} | {r['load']} |")
    L += ["", "## liouvillian_spectrum(k=6): the rightmost six", "",
          "`nearest0`: the previous default (six nearest 0, sigma = 0); `misses`: how many of the rightmost six "
          "it does not return. `dense`: numpy eigvals of the packed generator.", "",
          "| case | N | size | eigensolver | shifts | solves | rightmost (s) | nearest0 (s) | misses | dense (s) | "
          "max dev vs dense | load |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["rightmost"]:
        L.append(f"| {r['case']} | {r['N']} | {r['size']} | {r['eigensolver']} | {r['shifts']} | {r['solves']} | "
                 f"{r['rightmost_s']:.2f} | {r.get('nearest0_s', float('nan')):.2f} | {r.get('nearest0_misses', '')} | "
                 f"{r.get('dense_s', float('nan')):.2f} | {r.get('max_dev_vs_dense', float('nan')):.1e} | {r['load']} |")
    L += ["", "Rightmost six (re, im):", ""]
    for r in res["rightmost"]:
        L.append(f"- {r['case']}, N = {r['N']}: " + ", ".join(f"{a:.4f}{b:+.4f}i" for a, b in r["rightmost"]))
    L += ["", "## Order-2 cumulant regression vs exact", "",
          "Upsilon/Upsilon_c = 0.5, chi = 1, gamma_s = 1: max |cumulant - exact| / max |exact| of <J+(tau) J-(0)> "
          "(steady state, and from the CSS along -x) and of S(omega).", "",
          "| N | exact (s) | cumulant (s) | corr. steady | corr. from CSS | S(omega) |", "|---|---|---|---|---|---|"]
    for r in res["cumulant"]:
        L.append(f"| {r['N']} | {r['exact_s']:.2f} | {r['cumulant_s']:.3f} | {r['corr_steady_rel_dev']:.2e} | "
                 f"{r['corr_css_rel_dev']:.2e} | {r['spectrum_rel_dev']:.2e} |")
    (OUT / "correlations.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
