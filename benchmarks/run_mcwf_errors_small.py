"""Coverage of the minimum estimates against the exact solution at small N (the regime of the test
suite's coverage test, more ensembles): N = 10 and 20, Upsilon/Upsilon_c = 0.9, chi = gamma_s = 1,
21 output times in [0, 1]; 2400 trajectories split into K ensembles of n = 40 or 80. Bias = mean over
K - exact minimum on the grid (+- its standard error); spread/se = std over K / mean reported s.e.;
coverage = fraction of ensembles within +- q se of the exact value (q = t(0.975, F - 1) for the
cross-fit's F folds, 1.96 otherwise).

    nice -n 19 python benchmarks/run_mcwf_errors_small.py   # -> benchmarks/results/mcwf_errors_small.md
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import piqs_squeeze as ps  # noqa: E402
from piqs_squeeze.methods.mcwf import statistics as st  # noqa: E402
from piqs_squeeze.result import Result  # noqa: E402


def main():
    L = ["# MCWF minimum estimates vs exact at small N", "", __doc__.split("\n\n")[0].replace("\n", " "), "",
         "| N | n per ensemble | K | estimate | bias (xi^2) | spread/se | coverage |", "|---|---|---|---|---|---|---|"]
    for N in (10, 20):
        m = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma_s=1.0)
        T = np.linspace(0, 1.0, 21)
        truth = ps.evolve(m, T, method="exact").xi2[1:].min()
        mc = ps.evolve(m, T, method="mcwf", ntraj=2400, seed=5, workers=1, keep_trajectories=True, progress=False)
        M, S = mc.extras["traj_mean"], mc.extras["traj_second"]
        for n in (40, 80):
            K = 2400 // n
            for meth in st.MIN_METHODS:
                es = [st.min_estimate(Result(T, M[k * n:(k + 1) * n].mean(0), S[k * n:(k + 1) * n].mean(0), m, "mcwf",
                                             extras={"traj_mean": M[k * n:(k + 1) * n],
                                                     "traj_second": S[k * n:(k + 1) * n]}), method=meth)
                      for k in range(K)]
                v, s = np.array([e.xi2 for e in es]), np.array([e.se for e in es])
                q = stats.t.ppf(0.975, es[0].folds - 1) if meth == "crossfit" else 1.96
                L.append(f"| {N} | {n} | {K} | {meth} | {v.mean() - truth:+.4f} +- {v.std(ddof=1) / math.sqrt(K):.4f} | "
                         f"{v.std(ddof=1) / s.mean():.2f} | {100 * np.mean(np.abs(v - truth) <= q * s):.0f} % |")
    (HERE / "results" / "mcwf_errors_small.md").write_text("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
