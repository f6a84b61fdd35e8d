"""Fig. S2: ensemble (red) and single-trajectory (grey) xi^2(t) and N_eff(t), MCWF.

Paper: N = 2000, Omega/Gamma = 2000 (Upsilon = 2 Omega/N = 2, Upsilon/Upsilon_c = 2/sqrt 5),
chi/Gamma = 1, gamma_s/Gamma = 2, CSS along -x. Black line: N_c where Upsilon_c^eff = Upsilon,
i.e. N_eff = 2 Omega / Upsilon_c; red vertical line: where the ensemble N_eff crosses it. The quick
version keeps Upsilon = 2 (Omega = N) at smaller N. The paper does not give its trajectory count;
``ntraj`` trajectories make the ensemble, ``n_show`` of them are drawn.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.analysis import neff_crossing_time

from . import style
from .common import cached, resolve_params, trace

FULL = {"N": 2000, "upsilon": 2.0, "chi": 1.0, "gamma_s": 2.0, "t_end": 0.3, "n_times": 301,
        "ntraj": 500, "n_show": 10, "seed": 5}
QUICK = {"N": 100, "n_times": 151, "ntraj": 24}


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    p = resolve_params(FULL, QUICK, quick, overrides)

    def run(p):
        m = ps.Model(N=p["N"], omega=p["upsilon"] * p["N"] / 2, chi=p["chi"], gamma_s=p["gamma_s"])
        times = np.linspace(0.0, p["t_end"], int(p["n_times"]))
        res = ps.evolve(m, times, method="mcwf", ntraj=int(p["ntraj"]), seed=int(p["seed"]),
                        keep_trajectories=True)
        k = int(p["n_show"])
        return {**trace(res), "traj_xi2": res.extras["traj_xi2"][:k], "traj_n_eff": res.extras["traj_n_eff"][:k],
                "n_c": m.n_c, "t_cross": neff_crossing_time(res, n_c=m.n_c), "ratio": m.ratio}

    return cached("figS2", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    t = np.asarray(data["t"])
    with style.rc():
        fig, (ax1, ax2) = style.new_figure("single", 3.6, nrows=2, sharex=True)
        for x, n in zip(data["traj_xi2"], data["traj_n_eff"]):
            ax1.plot(t, style.to_db(x), color=style.COLORS["trajectory"], lw=0.5)
            ax2.plot(t, n, color=style.COLORS["trajectory"], lw=0.5)
        ax1.plot(t, style.to_db(data["xi2"]), color="tab:red", lw=1.4, label=f"ensemble ({p['ntraj']} traj.)")
        ax2.plot(t, data["n_eff"], color="tab:red", lw=1.4)
        style.nc_line(ax2, data["n_c"], label=True)
        for ax in (ax1, ax2):
            if np.isfinite(data["t_cross"]):
                ax.axvline(data["t_cross"], color="tab:red", lw=0.8)
        ax1.axhline(0, color="0.5", lw=0.5)
        ax1.set_ylim(-10, 10)
        ax1.set_ylabel(style.LABELS["xi2_db"])
        ax2.set_ylabel(style.LABELS["n_eff"])
        ax2.set_xlabel(style.LABELS["t"])
        ax1.legend(loc="upper left")
        ax2.legend(loc="upper right")
        ax1.set_title(rf"MCWF, $N = {p['N']}$, $\Omega/\Gamma = {p['upsilon'] * p['N'] / 2:g}$, "
                      rf"$\chi/\Gamma = {p['chi']:g}$, $\gamma_s/\Gamma = {p['gamma_s']:g}$")
        style.stamp_quick(fig, p["quick"], f"N = {p['N']}, {p['ntraj']} trajectories")
    return style.save(fig, out, "figS2")
