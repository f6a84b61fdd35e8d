"""Fig. 3(b) checked: the cumulant curves (orders 2 and 3) of the minimum xi^2 versus chi with MCWF
points +- s.e. at the check's six chi values (validation/checks/scale.py), for each N.

Same points, grid and window as the check ``mcwf_vs_cumulant_1e4``: Upsilon/Upsilon_c = 0.9,
gamma_s = 50 Gamma, initial CSS along the gamma_s = 0 mean-field steady state, t in (0, 2/gamma_s]
on 81 output times for every method; MCWF's value is the cross-fit minimum
(:func:`piqs_squeeze.methods.mcwf.statistics.min_estimate`). Full: N = 2000 and 1e4, each MCWF point
run until its s.e. is <= ``target_db`` (at most ``ntraj`` trajectories, in chunks of 32 kept under
the cache folder, so an interrupted run goes on where it stopped). Quick: N = 100 and 300, 32
trajectories per point.
"""
from __future__ import annotations

import numpy as np

from . import style
from .common import cached, resolve_params

FULL = {"Ns": [2000, 10000], "chi_max": 5.0, "n_chi": 21, "ntraj": 512, "target_db": 0.1, "workers": 2, "seed": 27}
QUICK = {"Ns": [100, 300], "n_chi": 11, "ntraj": 32, "target_db": None}


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    p = resolve_params(FULL, QUICK, quick, overrides)

    def run(p):
        from pathlib import Path

        from piqs_squeeze.validation.checks import scale

        chis = np.linspace(0.0, float(p["chi_max"]), int(p["n_chi"]))
        store = None if cache_dir is None else Path(cache_dir) / "fig3b_check-mcwf"
        out = {"chi": chis, "Ns": np.asarray(p["Ns"], int), "mc_chi": np.asarray(scale.CHIS, float)}
        for N in p["Ns"]:
            N = int(N)
            for o in (2, 3):
                out[f"N{N}_order{o}"] = np.array([scale.cumulant_minimum(
                    N, {"chi": float(c), "ratio": scale.RATIO, "gamma_s": scale.GAMMA_S, "kind": "fig3b"}, o)["xi2"]
                    for c in chis])
            rows = scale.run_scale([N], lambda _N: int(p["ntraj"]), scale.N_TIMES, workers=p["workers"],
                                   store=store, target_db=p["target_db"], seed=int(p["seed"]), fig3b_only=True)[N]
            rs = [rows[f"chi={c:g}"] for c in scale.CHIS]
            out[f"N{N}_mcwf_db"] = np.array([r["mcwf"]["db"] for r in rs])
            out[f"N{N}_mcwf_se_db"] = np.array([r["mcwf"]["se_db"] for r in rs])
            out[f"N{N}_mcwf_ntraj"] = np.array([r["mcwf"]["ntraj"] for r in rs])
        return out

    return cached("fig3b_check", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    with style.rc():
        fig, ax = style.new_figure("single", 2.8)
        for k, N in enumerate(np.asarray(data["Ns"], int)):
            col = style.COLORS["cycle"][k % 6]
            ax.plot(data["chi"], style.to_db(data[f"N{N}_order2"]), "-", color=col, lw=0.9,
                    label=f"N = {N}: cumulant order 2")
            ax.plot(data["chi"], style.to_db(data[f"N{N}_order3"]), "--", color=col, lw=0.8, label="order 3")
            n = np.asarray(data[f"N{N}_mcwf_ntraj"])
            ax.errorbar(data["mc_chi"], data[f"N{N}_mcwf_db"], yerr=data[f"N{N}_mcwf_se_db"], fmt="o", ms=2.5,
                        color=col, mfc="white", capsize=1.5, lw=0.8,
                        label=f"MCWF +- s.e. ({n.min()}-{n.max()} traj.)")
        mc = np.concatenate([np.asarray(data[f"N{int(N)}_mcwf_db"]) for N in data["Ns"]]
                            + [style.to_db(data[f"N{int(N)}_order2"]) for N in data["Ns"]])
        mc = mc[np.isfinite(mc)]
        if mc.size:  # order 3 can run far off (unphysical); keep the axis on order 2 and MCWF
            ax.set_ylim(mc.min() - 1.0, mc.max() + 1.0)
        ax.set_xlabel(style.LABELS["chi"])
        ax.set_ylabel(r"min $\xi^2$, $t \leq 2/\gamma_s$ (dB)")
        ax.set_title(rf"Fig. 3(b) checked: $\Upsilon/\Upsilon_c = 0.9$, $\gamma_s/\Gamma = 50$")
        ax.legend(fontsize=4.5, loc="upper right")
        style.stamp_quick(fig, p["quick"], f"N = {', '.join(str(int(N)) for N in data['Ns'])}")
    return style.save(fig, out, "fig3b_check")
