"""Fig. 2(b): enhanced transient squeezing for gamma_s > 0 versus the collective case.

Paper: N = 2000, chi/Gamma = 1, Upsilon/Upsilon_c = 0.9, CSS along -x; xi^2(t) (solid) and
N_eff(t) (dashed, right axis) for several gamma_s, with the critical N_c = 2 Omega / Upsilon_c
(here 0.9 N) and the gamma_s = 0 analytic steady state. The paper does not list its gamma_s values;
we take gamma_s/Gamma = 0, 1, 2, 4 (4 is the value of Fig. 2(c)). Method: MCWF trajectories at
N = 2000 (the exact solver for N <= ``exact_max_n`` with gamma_s > 0, and for gamma_s = 0 up to
``exact_max_n_collective``, where only the j = N/2 sector is populated; its cost still grows ~N^3
on this time window: 3.4 s at N = 200, 27 s at N = 400, so ~1 hour at N = 2000).

Quick version: MCWF at N = 200 (the exact solver needs minutes at N = 200 on 2 cores); with
fewer trajectories the ensemble xi^2 is noisy once the mean spin has relaxed.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.analysis import neff_crossing_time

from . import style
from .common import cached, evolution_method, method_options, resolve_params, trace

FULL = {"N": 2000, "chi": 1.0, "ratio": 0.9, "gamma_s": [0.0, 1.0, 2.0, 4.0], "t_end": 0.5,
        "n_times": 501, "method": "auto", "exact_max_n": 300, "exact_max_n_collective": 500,
        "ntraj": 200, "seed": 3}
QUICK = {"N": 200, "gamma_s": [0.0, 1.0, 2.0], "t_end": 0.4, "n_times": 201, "ntraj": 16, "method": "mcwf"}


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    """xi^2(t), N_eff(t) per gamma_s; the gamma_s = 0 steady state; N_eff crossing times of N_c."""
    p = resolve_params(FULL, QUICK, quick, overrides)
    methods = [evolution_method(p["method"], p["N"],
                                p["exact_max_n_collective"] if g == 0 else p["exact_max_n"])
               for g in p["gamma_s"]]

    def run(p):
        times = np.linspace(0.0, p["t_end"], int(p["n_times"]))
        rows = {"xi2": [], "n_eff": [], "xi2_err": [], "t_cross": []}
        for g, method in zip(p["gamma_s"], methods):
            m = ps.Model.from_upsilon_ratio(p["N"], p["ratio"], chi=p["chi"], gamma_s=g)
            res = ps.evolve(m, times, method=method, **method_options(method, p))
            tr = trace(res)
            for k in ("xi2", "n_eff", "xi2_err"):
                rows[k].append(tr[k])
            rows["t_cross"].append(neff_crossing_time(res, n_c=m.n_c))
        m0 = ps.Model.from_upsilon_ratio(p["N"], p["ratio"], chi=p["chi"])
        return {"t": times, "methods": methods, "gamma_s": np.asarray(p["gamma_s"], float),
                **{k: np.asarray(v, float) for k, v in rows.items()},
                "xi2_ss": ps.steady_state(m0, method="carmichael").xi2[0], "n_c": m0.n_c}

    return cached("fig2b", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    t = np.asarray(data["t"])
    with style.rc():
        fig, ax = style.new_figure("single", 2.6)
        ax2 = ax.twinx()
        for k, g in enumerate(data["gamma_s"]):
            c = style.COLORS["cycle"][k % 6]
            x, e = np.asarray(data["xi2"][k]), np.asarray(data["xi2_err"][k])
            ax.plot(t, style.to_db(x), color=c, label=rf"$\gamma_s/\Gamma = {g:g}$ ({data['methods'][k]})")
            style.db_band(ax, t, x, e, c)
            ax2.plot(t, data["n_eff"][k], color=c, ls="--", lw=0.8)
        ax.axhline(float(style.to_db(data["xi2_ss"])), color="tab:red", ls=":", lw=1.0,
                   label=r"steady state, $\gamma_s = 0$")
        ax.axhline(0.0, color="0.6", lw=0.5)
        style.nc_line(ax2, data["n_c"], ls="--")
        ax.set_ylim(-11, 6)  # the legend sits below the curves
        ax2.set_ylim(0, 1.05 * p["N"])
        ax.set_xlabel(style.LABELS["t"])
        ax.set_ylabel(r"$\xi^2$ (dB, solid)")
        ax2.set_ylabel(r"$N^{\mathrm{eff}}$ (dashed)")
        # one legend, drawn by the twin axes (drawn last), so that no line of either runs over it
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax2.legend(h1 + h2, l1 + l2, loc="lower center", fontsize=5.5, ncol=2)
        ax.set_title(rf"$N = {p['N']}$, $\chi/\Gamma = {p['chi']:g}$, $\Upsilon/\Upsilon_c = {p['ratio']:g}$")
        style.panel_label(ax, "(b)")
        style.stamp_quick(fig, p["quick"], f"N = {p['N']}, {p['ntraj']} trajectories")
    return style.save(fig, out, "fig2b")
