"""Fig. 2(a): xi^2(t) of the collective model, N = 2000, chi/Gamma = 1, Upsilon/Upsilon_c = 0.9, gamma_s = 0.

Squeezing appears early in the dynamics (t ~ 10/(N Gamma)), then relaxes to the squeezed
steady state, drawn from the analytic (Carmichael) solution. Method: the exact solver in the
j = N/2 sector (MCWF where not available), CSS along -x. The paper's time window is not given; we
show t in [0, ``n_gamma_t`` / (N Gamma)].

Quick version: the exact solver at N = 100 (for gamma_s = 0 only the j = N/2 block evolves); at this
N and chi = Gamma the collective relaxation is slow and oscillatory, so the window shows the early
dip and the approach, not the steady state.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps

from . import style
from .common import cached, evolution_method, method_options, resolve_params, trace

FULL = {"N": 2000, "chi": 1.0, "ratio": 0.9, "n_gamma_t": 100.0, "n_times": 401, "method": "auto",
        "exact_max_n": 4000, "ntraj": 50, "seed": 2}
QUICK = {"N": 100, "n_times": 201, "method": "exact"}  # gamma_s = 0: only j = N/2 evolves


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    p = resolve_params(FULL, QUICK, quick, overrides)
    method = evolution_method(p["method"], p["N"], p["exact_max_n"])

    def run(p):
        m = ps.Model.from_upsilon_ratio(p["N"], p["ratio"], chi=p["chi"])
        times = np.linspace(0.0, p["n_gamma_t"] / p["N"], int(p["n_times"]))
        res = ps.evolve(m, times, method=method, **method_options(method, p))
        return {"method": method, **trace(res), "xi2_ss": ps.steady_state(m, method="carmichael").xi2[0]}

    return cached("fig2a", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    t, x, e = (np.asarray(data[k], float) for k in ("t", "xi2", "xi2_err"))
    with style.rc():
        fig, ax = style.new_figure("single", 2.3)
        ax.plot(t, x, color="k", label=data["method"])
        if np.any(np.isfinite(e)):
            ax.fill_between(t, x - e, x + e, color="0.7", lw=0)
        ax.axhline(data["xi2_ss"], color="tab:red", ls=":", label=r"steady state ($\gamma_s = 0$, analytic)")
        ax.axhline(1, color="0.5", lw=0.5)
        ax.set_xlabel(style.LABELS["t"])
        ax.set_ylabel(style.LABELS["xi2"])
        ax.set_ylim(0, 1.5)
        ax.legend(loc="upper right")
        ax.set_title(rf"$N = {p['N']}$, $\chi/\Gamma = {p['chi']:g}$, $\Upsilon/\Upsilon_c = {p['ratio']:g}$, "
                     r"$\gamma_s = 0$")
        style.panel_label(ax, "(a)")
        style.stamp_quick(fig, p["quick"], f"N = {p['N']}")
    return style.save(fig, out, "fig2a")
