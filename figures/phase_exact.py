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

The boundary of the squeezed steady state (xi^2 = 1, interpolated on the grid) is stored per
(N, gamma_s) in ``data["xi2_crossing"]``. The gap is computed up to N = ``gap_max_N`` (50 in
the full figure: its shift-invert Arnoldi costs ~30 GMRES solves, ~100 s per drive at N = 100), to
ARPACK tolerance ~``gap_tol``; the uniqueness check of the steady state runs up to
N = ``check_unique_max_N`` (it costs two more solves).
"""
from __future__ import annotations

import numpy as np

from . import style
from .common import cached, require_methods, resolve_params

FULL = {
    "chi": 1.0,
    "Ns": [25, 50, 100, 200],
    "gamma_s": [0.0, 0.5, 2.0],
    # dense near the gamma_s > 0 switch (0.55-0.7) and the collective squeezing edge (0.9-1)
    "ratios": [0.3, 0.4, 0.5, 0.55, 0.6, 0.625, 0.65, 0.675, 0.7, 0.8, 0.9, 0.95, 1.0, 1.15, 1.3],
    "gap_max_N": 50,
    "gap_tol": 1e-8,
    "check_unique_max_N": 100,
}
QUICK = {"Ns": [8, 14], "gamma_s": [0.0, 1.0], "ratios": [0.3, 0.5, 0.7, 0.9, 1.1, 1.3], "gap_max_N": 14}


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
    require_methods("exact", kind="steady_state")

    def run(p):
        import piqs_squeeze as ps

        ratios = np.asarray(p["ratios"], dtype=float)
        if ratios.ndim != 1 or ratios.size < 2 or np.any(np.diff(ratios) <= 0) or ratios[0] < 0:
            raise ValueError(f"ratios must be an increasing list of >= 2 drives >= 0, got {p['ratios']!r}")
        Ns, gs = list(p["Ns"]), [float(g) for g in p["gamma_s"]]
        shape = (len(Ns), len(gs), ratios.size)
        jz, xi2, gap, wall = (np.full(shape, np.nan) for _ in range(4))
        for a, N in enumerate(Ns):
            for b, g in enumerate(gs):
                for c, r in enumerate(ratios):
                    m = ps.Model.from_upsilon_ratio(int(N), float(r), chi=p["chi"], gamma_s=g)
                    opts = {} if m.is_collective else {"check_unique": int(N) <= p["check_unique_max_N"]}
                    ss = ps.steady_state(m, method="exact", **opts)
                    jz[a, b, c] = ss.mean[0, 2] / (N / 2)
                    xi2[a, b, c] = ss.xi2[0]
                    wall[a, b, c] = ss.extras["wall_time"]
                    if N <= p["gap_max_N"]:
                        blocks = "top" if m.is_collective else "all"
                        gap[a, b, c] = ps.liouvillian_spectrum(m, k=3, blocks=blocks, tol=p["gap_tol"]).gap
                    if progress:
                        progress(f"N={N} gamma_s={g} ratio={r:.3f}: jz={jz[a, b, c]:.4f} "
                                 f"xi2={10 * np.log10(xi2[a, b, c]):.2f} dB gap={gap[a, b, c]:.4g}")
        cross = np.array([[crossing(ratios, xi2[a, b]) for b in range(len(gs))] for a in range(len(Ns))])
        return {"ratio": ratios, "Ns": np.asarray(Ns, np.int64), "gamma_s": np.asarray(gs), "jz": jz,
                "xi2": xi2, "gap": gap, "wall_time": wall, "xi2_crossing": cross, "method": "exact"}

    return cached("phase_exact", p, run, cache_dir)


def plot(data, out) -> list:
    """Three rows (<Jz>/j, xi^2 in dB, gap) by one column per gamma_s; one colour per N."""
    p = data["params"]
    ratio = np.asarray(data["ratio"])
    Ns, gs = np.asarray(data["Ns"]), np.asarray(data["gamma_s"])
    jz, xi2, gap = (np.asarray(data[k]) for k in ("jz", "xi2", "gap"))
    with style.rc():
        fig, axes = style.new_figure("double", 5.6, nrows=3, ncols=len(gs), sharex=True, sharey="row",
                                     squeeze=False)
        for b, g in enumerate(gs):
            col = axes[:, b]
            for ax in col:
                style.threshold_lines(ax, 1.0, label=(ax is col[0] and b == 0))
            for a, N in enumerate(Ns):
                c = style.COLORS["cycle"][a % 6]
                col[0].plot(ratio, jz[a, b], "-o", color=c, ms=2, lw=0.9, label=f"$N = {int(N)}$")
                col[1].plot(ratio, style.to_db(xi2[a, b]), "-o", color=c, ms=2, lw=0.9)
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
