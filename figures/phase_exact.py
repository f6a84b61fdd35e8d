"""Beyond the paper: the exact finite-N steady-state phase diagram with single-particle emission.

The paper's Fig. 1(a) puts the gamma_s > 0 boundary at the mean-field Upsilon'_c = Upsilon_c/sqrt 2
and the collective one at Upsilon_c. Here the exact permutation-invariant steady state
(``steady_state(method="exact")``: all j blocks with local emission, j = N/2 without) gives, against
Upsilon/Upsilon_c, at N = 25, 50, 100, 200 and gamma_s/Gamma = 0 and a few values > 0:

* the order parameter <Jz>/(N/2);
* the steady-state squeezing xi^2 (dB) (Wineland, real N);
* the Liouvillian gap -Re lambda_2 of the generator on the symmetric sector
  (``liouvillian_spectrum``; for gamma_s = 0 the j = N/2 sector), whose dip marks the transition
  (critical slowing down).

Near the gamma_s > 0 switch the gap closes exponentially in N (two metastable states); where it
falls below double-precision resolution (N = 200) the steady state is not determined and the
point is left out (``data["resolved"]``; the solver's error estimate is ``data["error_estimate"]``).
The boundary of the squeezed steady state (xi^2 = 1, interpolated on the grid) is stored per
(N, gamma_s) in ``data["xi2_crossing"]``. The gap is computed up to N = ``gap_max_N`` (50 in
the full figure: its shift-invert Arnoldi costs ~30 GMRES solves per drive), to
ARPACK tolerance ~``gap_tol``; the uniqueness check of the steady state runs up to
N = ``check_unique_max_N`` (it costs two more solves).
"""
from __future__ import annotations

import warnings

import numpy as np

from . import style
from .common import cached, resolve_params

FULL = {
    "chi": 1.0,
    "Ns": [25, 50, 100, 200],
    "gamma_s": [0.0, 0.5, 2.0],
    # dense near the gamma_s > 0 switch (0.55-0.7) and the collective squeezing edge (0.9-1)
    "ratios": [0.3, 0.4, 0.5, 0.55, 0.6, 0.625, 0.65, 0.675, 0.7, 0.8, 0.9, 0.95, 1.0, 1.15, 1.3],
    "gap_max_N": 50,
    # N >= sparse_N with gamma_s > 0: only these (gamma_s, ratio) points (one N = 200 steady state
    # with its uniqueness / conditioning check costs 2-4 min on the shared 2-core machine)
    "sparse_N": 200,
    "sparse_points": [[0.5, 0.5], [0.5, 0.55], [0.5, 0.6], [0.5, 0.65], [0.5, 1.0]],
    "gap_tol": 1e-8,
    "check_unique_max_N": 200,
    # points whose steady state is not resolved (error estimate above this) are not plotted
    "max_error": 1e-3,
}
QUICK = {"Ns": [8, 14], "gamma_s": [0.0, 1.0], "ratios": [0.3, 0.5, 0.7, 0.9, 1.1, 1.3], "gap_max_N": 14,
         "sparse_N": 14, "sparse_points": [[1.0, 0.5], [1.0, 0.7]]}


def crossing(ratio, xi2):
    """First ratio where xi^2 rises through 1 (linear interpolation in dB), or nan."""
    db = style.to_db(xi2)
    for i in range(len(ratio) - 1):
        if np.isfinite(db[i]) and np.isfinite(db[i + 1]) and db[i] < 0 <= db[i + 1]:
            return float(ratio[i] + (ratio[i + 1] - ratio[i]) * (-db[i]) / (db[i + 1] - db[i]))
    return float("nan")


def compute(quick: bool = True, cache_dir=None, progress=None, **overrides) -> dict:
    """Exact steady states and gaps over (N, gamma_s, Upsilon/Upsilon_c)."""
    p = resolve_params(FULL, QUICK, quick, overrides)

    def run_one(q):
        """One N (cached on its own, so that an interrupted full run resumes)."""
        import piqs_squeeze as ps

        N = int(q["N"])
        ratios = np.asarray(q["ratios"], dtype=float)
        gs = [float(g) for g in q["gamma_s"]]
        sparse = N >= q["sparse_N"]
        points = {(float(g), float(r)) for g, r in q["sparse_points"]}
        shape = (len(gs), ratios.size)
        jz, xi2, gap, wall, err, lam2 = (np.full(shape, np.nan) for _ in range(6))
        for b, g in enumerate(gs):
            for c, r in enumerate(ratios):
                if sparse and g > 0 and not any(abs(g - pg) < 1e-12 and abs(r - pr) < 1e-12 for pg, pr in points):
                    continue
                m = ps.Model.from_upsilon_ratio(N, float(r), chi=q["chi"], gamma_s=g)
                opts = {} if m.is_collective else {"check_unique": N <= q["check_unique_max_N"]}
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # kept as error_estimate
                    try:
                        ss = ps.steady_state(m, method="exact", **opts)
                    except ValueError as exc:  # "not unique": lambda_2 below double precision
                        if "not unique" not in str(exc):
                            raise
                        err[b, c] = np.inf
                        if progress:
                            progress(f"N={N} gamma_s={g} ratio={r:.3f}: not resolved ({exc})")
                        continue
                jz[b, c] = ss.mean[0, 2] / (N / 2)
                xi2[b, c] = ss.xi2[0]
                wall[b, c] = ss.stats["wall_time"]
                err[b, c] = ss.extras.get("error_estimate", 0.0 if m.is_collective else np.nan)
                lam2[b, c] = abs(ss.extras.get("lambda2_estimate", np.nan))
                if N <= q["gap_max_N"]:
                    blocks = "top" if m.is_collective else "all"
                    # sigma=0: the 3 nearest 0 (one shift-invert run; the gap is the same real mode)
                    gap[b, c] = ps.liouvillian_spectrum(m, k=3, blocks=blocks, tol=q["gap_tol"], sigma=0.0).gap
                if progress:
                    progress(f"N={N} gamma_s={g} ratio={r:.3f}: jz={jz[b, c]:.4f} "
                             f"xi2={10 * np.log10(xi2[b, c]):.2f} dB gap={gap[b, c]:.4g} err={err[b, c]:.2g} "
                             f"|lambda2|~{lam2[b, c]:.2g} wall={wall[b, c]:.1f}s")
        return {"jz": jz, "xi2": xi2, "gap": gap, "wall_time": wall, "error_estimate": err, "lambda2_estimate": lam2}

    def run(p):
        ratios = np.asarray(p["ratios"], dtype=float)
        if ratios.ndim != 1 or ratios.size < 2 or np.any(np.diff(ratios) <= 0) or ratios[0] < 0:
            raise ValueError(f"ratios must be an increasing list of >= 2 drives >= 0, got {p['ratios']!r}")
        Ns, gs = list(p["Ns"]), [float(g) for g in p["gamma_s"]]
        per_N = []
        for N in Ns:
            q = {k: v for k, v in p.items() if k not in ("Ns", "quick")}
            q["N"] = int(N)
            per_N.append(cached("phase_exact_N", q, run_one, cache_dir))
        out = {k: np.stack([np.asarray(d[k], dtype=float) for d in per_N])
               for k in ("jz", "xi2", "gap", "wall_time", "error_estimate", "lambda2_estimate")}
        ok = ~(out["error_estimate"] > p["max_error"])
        xi2_ok = np.where(ok, out["xi2"], np.nan)
        cross = np.array([[crossing(ratios, xi2_ok[a, b]) for b in range(len(gs))] for a in range(len(Ns))])
        return {"ratio": ratios, "Ns": np.asarray(Ns, np.int64), "gamma_s": np.asarray(gs), **out,
                "resolved": ok, "xi2_crossing": cross, "method": "exact"}

    return cached("phase_exact", p, run, cache_dir)


def plot(data, out) -> list:
    """Three rows (<Jz>/j, xi^2 in dB, gap) by one column per gamma_s; one colour per N."""
    p = data["params"]
    ratio = np.asarray(data["ratio"])
    Ns, gs = np.asarray(data["Ns"]), np.asarray(data["gamma_s"])
    ok = np.asarray(data["resolved"], dtype=bool)
    jz, xi2, gap = (np.where(ok, np.asarray(data[k], dtype=float), np.nan) for k in ("jz", "xi2", "gap"))
    with style.rc():
        fig, axes = style.new_figure("double", 5.6, nrows=3, ncols=len(gs), sharex=True, sharey="row",
                                     squeeze=False)
        for b, g in enumerate(gs):
            col = axes[:, b]
            for ax in col:
                style.threshold_lines(ax, 1.0, label=(ax is col[0] and b == 0))
            for a, N in enumerate(Ns):
                c = style.COLORS["cycle"][a % 6]
                f = np.isfinite(jz[a, b])  # (sparse N: only some drives computed)
                col[0].plot(ratio[f], jz[a, b][f], "-o", color=c, ms=2, lw=0.9, label=f"$N = {int(N)}$")
                col[1].plot(ratio[f], style.to_db(xi2[a, b][f]), "-o", color=c, ms=2, lw=0.9)
                if np.isfinite(gap[a, b]).any():
                    col[2].semilogy(ratio, gap[a, b], "-o", color=c, ms=2, lw=0.9)
            col[1].axhline(0, color="0.5", lw=0.5)
            col[0].set_title(rf"$\gamma_s/\Gamma = {g:g}$" + (" (collective, $j = N/2$)" if g == 0 else ""))
            col[2].set_xlabel(style.LABELS["ratio"])
        axes[0, 0].set_ylabel(style.LABELS["jz"])
        axes[1, 0].set_ylabel(r"steady-state $\xi^2$ (dB)")
        axes[2, 0].set_ylabel(r"gap $-\mathrm{Re}\,\lambda_2/\Gamma$")
        axes[0, 0].set_ylim(-1.05, 0.1)
        lo = np.nanmin(style.to_db(xi2)) if np.isfinite(style.to_db(xi2)).any() else -5
        axes[1, 0].set_ylim(max(lo - 1, -15), 6)
        h, lab = axes[0, 0].get_legend_handles_labels()
        fig.legend(h, lab, loc="outside upper center", ncol=len(lab), fontsize=7)
        for ax, t, (x, y, ha, va) in zip(axes[:, 0], ("(a)", "(b)", "(c)"),
                                         ((0.98, 0.04, "right", "bottom"), (0.02, 0.96, "left", "top"),
                                          (0.98, 0.96, "right", "top"))):
            ax.text(x, y, t, transform=ax.transAxes, ha=ha, va=va, fontsize=8)
        style.stamp_quick(fig, p["quick"], f"N = {', '.join(str(int(n)) for n in Ns)}, {len(ratio)} drives")
    return style.save(fig, out, "phase_exact")
