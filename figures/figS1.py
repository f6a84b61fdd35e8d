"""Fig. S1: (a) min xi^2 after t_min over (chi/Gamma, 2 Omega/(N Gamma)); (b)-(g) cumulant vs MCWF.

Paper: cumulant expansion, N = 2000, gamma_s/Gamma = 20, minimum of xi^2(t) for t >= t_min = 0.003
(past the early collective transient), values above 0 dB cut at 0; phase boundaries
Upsilon'_c = sqrt(Gamma^2 + 4 chi^2)/sqrt 2 (blue) and Upsilon_c (red). Panels (b)-(g) compare the
cumulant and MCWF xi^2(t) at six marked points. The paper gives neither the grid, the time window
nor the six points: we take chi in [0, 2.5], 2 Omega/N in [0.2, 6], t in [0, 0.25] (5/gamma_s),
and the points chi = 0.5, 1, 2 at Upsilon/Upsilon_c = 0.6 (below Upsilon'_c) and 0.85 (between
the boundaries). The quick version compares at N = ``N_compare`` = 100 (MCWF at N = 2000 and
gamma_s = 20 costs ~10^4 jumps per trajectory).
"""
from __future__ import annotations

import math

import numpy as np

import piqs_squeeze as ps

from . import style
from .common import cached, resolve_params, sweep_table, trace

FULL = {"N": 2000, "gamma_s": 20.0, "chi_max": 2.5, "n_chi": 26, "upsilon_min": 0.2, "upsilon_max": 6.0,
        "n_upsilon": 30, "t_end": 0.25, "n_times": 501, "t_min": 0.003,
        "points": [[0.5, 0.6], [0.5, 0.85], [1.0, 0.6], [1.0, 0.85], [2.0, 0.6], [2.0, 0.85]],
        "N_compare": 2000, "ntraj": 100, "seed": 6, "workers": None}
QUICK = {"n_chi": 11, "n_upsilon": 12, "n_times": 251, "N_compare": 100, "ntraj": 16}


def upsilon_c(chi):
    """Upsilon_c / Gamma = sqrt(1 + 4 chi^2) (paper Eq. 3, Gamma = 1)."""
    return np.sqrt(1.0 + 4.0 * np.asarray(chi, float) ** 2)


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    p = resolve_params(FULL, QUICK, quick, overrides)

    def run(p):
        table = sweep_table("figS1-map", {
            "fixed": {"N": int(p["N"]), "gamma_s": p["gamma_s"]},
            "grid": {"chi": {"start": 0.0, "stop": p["chi_max"], "num": int(p["n_chi"])},
                     "upsilon": {"start": p["upsilon_min"], "stop": p["upsilon_max"], "num": int(p["n_upsilon"])}},
            "times": {"t_end": p["t_end"], "num": int(p["n_times"])},
            "methods": ["cumulant"], "summaries": [{"name": "min_xi2", "t_min": p["t_min"]}]},
            cache_dir, p["workers"])
        chi, ups, v = table.pivot("min_xi2", "chi", "upsilon")
        times = np.linspace(0.0, p["t_end"], int(p["n_times"]))
        cmp_ = {"cum_xi2": [], "mcwf_xi2": [], "mcwf_xi2_err": [], "t_cross": []}
        for c, r in p["points"]:
            m = ps.Model.from_upsilon_ratio(int(p["N_compare"]), r, chi=c, gamma_s=p["gamma_s"])
            cum = ps.evolve(m, times, method="cumulant")
            mc = ps.evolve(m, times, method="mcwf", ntraj=int(p["ntraj"]), seed=int(p["seed"]))
            cmp_["cum_xi2"].append(cum.xi2)
            tr = trace(mc)
            cmp_["mcwf_xi2"].append(tr["xi2"])
            cmp_["mcwf_xi2_err"].append(tr["xi2_err"])
        return {"chi": chi, "upsilon": ups, "min_xi2": v, "t": times, "points": np.asarray(p["points"], float),
                **{k: np.asarray(val, float) for k, val in cmp_.items() if val}}

    return cached("figS1", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    chi, ups = np.asarray(data["chi"]), np.asarray(data["upsilon"])
    v = np.minimum(style.to_db(data["min_xi2"]), 0.0)  # the paper cuts values above 0 dB at 0
    t = np.asarray(data["t"])
    with style.rc():
        fig = style.new_figure("double", 4.6)[0]
        fig.clf()
        gs = fig.add_gridspec(2, 4, width_ratios=[1.6, 1, 1, 1])
        ax = fig.add_subplot(gs[:, 0])
        im = ax.pcolormesh(chi, ups, v, shading="nearest", cmap="viridis")
        cc = np.linspace(chi.min(), chi.max(), 200)
        ax.plot(cc, upsilon_c(cc), color=style.COLORS["upsilon_c"], label=r"$\Upsilon_c$")
        ax.plot(cc, upsilon_c(cc) / math.sqrt(2), color=style.COLORS["upsilon_c_prime"], label=r"$\Upsilon_c'$")
        ax.set_ylim(ups.min(), ups.max())
        fig.colorbar(im, ax=ax, location="top", label=rf"min $\xi^2$ (dB), $\Gamma t \geq {p['t_min']:g}$")
        ax.set_xlabel(style.LABELS["chi"])
        ax.set_ylabel(style.LABELS["upsilon"])
        ax.legend(loc="upper left", fontsize=6)
        letters = "bcdefg"
        for k, (c, r) in enumerate(np.asarray(data["points"])):
            u = r * upsilon_c(c)
            ax.plot(c, u, "o", ms=3, color="tab:red")
            ax.annotate(f"({letters[k]})", (c, u), xytext=(3, 2), textcoords="offset points", fontsize=6, color="tab:red")
            a = fig.add_subplot(gs[k % 2, 1 + k // 2])
            if "cum_xi2" in data:
                a.plot(t, style.to_db(data["cum_xi2"][k]), color=style.COLORS["cumulant"], label="cumulant")
                x, e = np.asarray(data["mcwf_xi2"][k]), np.asarray(data["mcwf_xi2_err"][k])
                a.plot(t, style.to_db(x), color=style.COLORS["mcwf"], label="MCWF")
                a.fill_between(t, style.to_db(x - e), style.to_db(x + e), color=style.COLORS["mcwf"], alpha=0.25, lw=0)
            a.axhline(0, color="0.5", lw=0.5)
            a.set_ylim(-12, 6)
            a.set_title(rf"({letters[k]}) $\chi = {c:g}$, $\Upsilon/\Upsilon_c = {r:g}$", fontsize=7)
            if k // 2 == 0:
                a.set_ylabel(style.LABELS["xi2_db"])
            if k % 2 == 1:
                a.set_xlabel(style.LABELS["t"])
            if k == 0:
                a.legend(loc="lower right", fontsize=5.5)
        fig.suptitle(rf"(a) cumulant, $N = {p['N']}$, $\gamma_s/\Gamma = {p['gamma_s']:g}$; (b)-(g) "
                     rf"$N = {p['N_compare']}$, MCWF {p['ntraj']} trajectories", fontsize=8)
        style.stamp_quick(fig, p["quick"], f"{p['n_chi']} x {p['n_upsilon']} grid, N_compare = {p['N_compare']}")
    return style.save(fig, out, "figS1")
