"""Fig. 1(c): xi^2(t) at three drives of the collective model (gamma_s = 0), CSS along -x.

Paper: N = 2000, all spins along -x; two drives below Upsilon_c [(i), (ii)] relax to a squeezed
steady state, one above [(iii)] loses its squeezing after an early transient. The paper does not
give the three drives nor chi: we take Upsilon/Upsilon_c = 0.9, 0.95 and 1.2 (0.95 is still squeezed in
the steady state at the quick N = 200, 0.98 is not) with chi = 0 (no
oscillatory phase near the critical point, paper ref. [33]). Method: the exact solver in the
j = N/2 sector (MCWF where the exact solver is not available); the Carmichael steady state is
drawn as dotted lines. Times scale as 1/(N Gamma) in the collective model: the window is
t in [0, ``n_gamma_t`` / (N Gamma)].

Quick version: the exact solver at N = 100 (only the j = N/2 block evolves for gamma_s = 0).
MCWF with a handful of trajectories is not used here: near the threshold the collective jumps of the
state-following unravelling are rare and carry large changes, so small ensembles are unreliable
(at N = 200, Upsilon/Upsilon_c = 0.95, 16 trajectories gave -5.2 dB against the exact -3.97 dB).
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps

from . import style
from .common import cached, evolution_method, method_options, resolve_params, trace

FULL = {
    "N": 2000,
    "chi": 0.0,
    "ratios": [0.9, 0.95, 1.2],
    "n_gamma_t": 100.0,  # N Gamma t_end
    "n_times": 401,
    "method": "auto",
    "exact_max_n": 4000,  # the j = N/2 sector alone is (N+1)-dimensional for gamma_s = 0
    "ntraj": 50,
    "seed": 1,
}
QUICK = {"N": 100, "n_times": 101, "method": "exact"}


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    """xi^2(t) at each drive and the analytic steady-state xi^2."""
    p = resolve_params(FULL, QUICK, quick, overrides)
    method = evolution_method(p["method"], p["N"], p["exact_max_n"])

    def run(p):
        times = np.linspace(0.0, p["n_gamma_t"] / p["N"], int(p["n_times"]))
        out = {"method": method, "ratios": np.asarray(p["ratios"], float)}
        xi2, err, ss = [], [], []
        for r in p["ratios"]:
            m = ps.Model.from_upsilon_ratio(p["N"], r, chi=p["chi"])
            res = ps.evolve(m, times, method=method, **method_options(method, p))
            tr = trace(res)
            xi2.append(tr["xi2"])
            err.append(tr["xi2_err"])
            ss.append(ps.steady_state(m, method="carmichael").xi2[0])
        out.update(t=times, xi2=np.array(xi2), xi2_err=np.array(err), xi2_ss=np.array(ss))
        return out

    return cached("fig1c", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    t = np.asarray(data["t"])
    with style.rc():
        fig, axes = style.new_figure("double", 2.0, ncols=3, sharey=True)
        for k, (ax, r) in enumerate(zip(axes, data["ratios"])):
            x = np.asarray(data["xi2"][k])
            ax.plot(t, style.to_db(x), color="k", label=data["method"])
            e = np.asarray(data["xi2_err"][k], float)
            if np.any(np.isfinite(e)):
                ax.fill_between(t, style.to_db(x - e), style.to_db(x + e), color="0.7", lw=0)
            ax.axhline(style.to_db(data["xi2_ss"][k]), color="tab:red", ls=":", label="steady state (analytic)")
            ax.axhline(0, color="0.5", lw=0.5)
            ax.set_xlabel(style.LABELS["t"])
            ax.set_title(f"({'i' * (k + 1) if k < 3 else k + 1}) " + rf"$\Upsilon/\Upsilon_c = {r:g}$")
        axes[0].set_ylabel(style.LABELS["xi2_db"])
        axes[0].set_ylim(-10, 15)
        axes[0].legend(loc="upper right")
        fig.suptitle(rf"(c) $N = {p['N']}$, $\chi/\Gamma = {p['chi']:g}$, $\gamma_s = 0$, CSS along $-x$",
                     fontsize=8)
        style.stamp_quick(fig, p["quick"], f"N = {p['N']}")
    return style.save(fig, out, "fig1c")
