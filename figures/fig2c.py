"""Fig. 2(c): xi^2(t) and N_eff(t) of two single MCWF trajectories, gamma_s/Gamma = 4.

Paper: N = 2000, chi/Gamma = 1, Upsilon/Upsilon_c = 0.9, CSS along -x. In one trajectory the
squeezing changes abruptly once its N_eff(t) falls below N_c = 2 Omega / Upsilon_c (black line);
the crossing time t* of each trajectory is marked. Trajectory seeds are parameters.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.analysis import first_crossing

from . import style
from .common import cached, resolve_params

FULL = {"N": 2000, "chi": 1.0, "ratio": 0.9, "gamma_s": 4.0, "t_end": 0.25, "n_times": 501,
        "ntraj": 2, "seed": 4}
QUICK = {"N": 200, "n_times": 251}


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    """Per-trajectory xi^2(t), N_eff(t) and N_eff crossing times t*."""
    p = resolve_params(FULL, QUICK, quick, overrides)

    def run(p):
        m = ps.Model.from_upsilon_ratio(p["N"], p["ratio"], chi=p["chi"], gamma_s=p["gamma_s"])
        times = np.linspace(0.0, p["t_end"], int(p["n_times"]))
        res = ps.evolve(m, times, method="mcwf", ntraj=int(p["ntraj"]), seed=int(p["seed"]),
                        keep_trajectories=True, workers=1)
        x, n = res.extras["traj_xi2"], res.extras["traj_n_eff"]
        return {"t": times, "traj_xi2": x, "traj_n_eff": n, "n_c": m.n_c,
                "t_cross": np.array([first_crossing(times, ni, m.n_c) for ni in n])}

    return cached("fig2c", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    t = np.asarray(data["t"])
    with style.rc():
        fig, ax = style.new_figure("single", 2.6)
        ax2 = ax.twinx()
        for k, (x, n, tc) in enumerate(zip(data["traj_xi2"], data["traj_n_eff"], data["t_cross"])):
            c = ("tab:blue", "tab:orange", "tab:green")[k % 3]
            ax.plot(t, style.to_db(x), color=c, label=f"trajectory {k + 1}")
            ax2.plot(t, n, color=c, ls="--", lw=0.8)
            if np.isfinite(tc):
                ax.axvline(tc, color=c, lw=0.5, ls=":")
        style.nc_line(ax2, data["n_c"])
        ax.axhline(0.0, color="0.5", lw=0.5)
        ax.set_ylim(-9, 6)
        ax2.set_ylim(0.5 * p["N"], 1.02 * p["N"])
        ax.set_xlabel(style.LABELS["t"])
        ax.set_ylabel(r"$\xi^2$ (dB, solid)")
        ax2.set_ylabel(r"$N^{\mathrm{eff}}$ (dashed)")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax2.legend(h1 + h2, l1 + l2, loc="lower left", fontsize=5.5)
        ax.set_title(rf"MCWF, $N = {p['N']}$, $\gamma_s/\Gamma = {p['gamma_s']:g}$, "
                     rf"$\Upsilon/\Upsilon_c = {p['ratio']:g}$; dotted: $t^*$")
        style.panel_label(ax, "(c)")
        style.stamp_quick(fig, p["quick"], f"N = {p['N']}")
    return style.save(fig, out, "fig2c")
