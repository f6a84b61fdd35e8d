"""Fig. 3(b): minimum transient xi^2 versus chi/Gamma, cumulant, N = 1e4; inset xi^2(t).

Paper: Upsilon/Upsilon_c = 0.9, gamma_s/Gamma = 50, N = 10^4, truncated cumulant expansion; the
initial CSS points along the gamma_s = 0 mean-field steady state for each chi (to account for the
rotation chi causes), :func:`piqs_squeeze.methods.moments.meanfield.css_collective_steady_state`. The chi grid and the time window (t in [0, ``t_units`` / gamma_s]) are our
choice; the inset shows xi^2(t) for ``inset_chi``. Computed through the sweep layer.

``order=3`` (``--order 3``) adds the third-order cumulant curve (and its inset traces, dashed);
where the order-3 equations leave the physical set inside the window (``on_failure="nan"``) the
minimum is over the physical part only and the point is drawn open.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps

from . import style
from .common import cached, resolve_params, sweep_table, trace

FULL = {"N": 10000, "ratio": 0.9, "gamma_s": 50.0, "chi_max": 5.0, "n_chi": 26, "t_units": 5.0,
        "n_times": 801, "inset_chi": [0.0, 1.0, 2.0, 4.0], "workers": None, "order": 2}
QUICK = {"n_chi": 11, "n_times": 801}

# Starting in the collective steady state there is no early collective dip to skip, so the
# "minimum transient" is the plain minimum over the window (analysis.min_transient_xi2 would take
# the single gamma_s-driven dip at chi = 0 for a collective one and report the value after it).
SUMMARY = "min_xi2"


def initial_state(N, ratio, chi):
    """CSS along the gamma_s = 0 mean-field steady state at this chi (paper Fig. 3b)."""
    from piqs_squeeze.methods.moments.meanfield import css_collective_steady_state

    return css_collective_steady_state(ps.Model.from_upsilon_ratio(N, ratio, chi=chi))


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    p = resolve_params(FULL, QUICK, quick, overrides)
    from piqs_squeeze.methods.moments.cumulant import check_order

    check_order(p["order"])

    def one(p, order):
        N, chis = int(p["N"]), np.linspace(0.0, p["chi_max"], int(p["n_chi"]))
        points = []
        for c in chis:
            s = initial_state(N, p["ratio"], float(c))
            points.append({"chi": float(c), "theta": s.theta, "phi": s.phi})
        opts = {} if order == 2 else {"order": 3, "on_failure": "nan"}
        table = sweep_table("fig3b" + ("" if order == 2 else "-order3"), {
            "fixed": {"N": N, "ratio": p["ratio"], "gamma_s": p["gamma_s"]}, "points": points,
            "times": {"t_end": p["t_units"], "unit": "gamma_s", "num": int(p["n_times"])},
            "methods": ["cumulant" if order == 2 else {"method": "cumulant", "options": opts}],
            "summaries": [{"name": SUMMARY, "t_min": 0.0}] + ([] if order == 2 else ["final"])},
            cache_dir, p["workers"])
        xs, v = table.pivot(SUMMARY, "chi")
        times = np.linspace(0.0, p["t_units"] / p["gamma_s"], int(p["n_times"]))
        inset = []
        for c in p["inset_chi"]:
            m = ps.Model.from_upsilon_ratio(N, p["ratio"], chi=c, gamma_s=p["gamma_s"])
            inset.append(trace(ps.evolve(m, times, method="cumulant", initial=initial_state(N, p["ratio"], c),
                                         **opts))["xi2"])
        out = {"chi": xs, "min_xi2": v, "t": times, "inset_chi": np.asarray(p["inset_chi"], float),
               "inset_xi2": np.asarray(inset)}
        if order == 3:
            out["unphysical"] = ~np.isfinite(table.pivot("final_xi2", "chi")[1])
        return out

    def run(p):
        out = one(p, 2)
        if int(p["order"]) == 3:
            o3 = one(p, 3)
            out.update({"min_xi2_order3": o3["min_xi2"], "inset_xi2_order3": o3["inset_xi2"],
                        "unphysical_order3": o3["unphysical"]})
        return out

    return cached("fig3b", p, run, cache_dir)


def inset_t_max(t, curves) -> float:
    """Right end of the inset: 1.5 times the last time any curve is still squeezed (xi^2 < 1),
    so that the inset shows the transient, not the unsqueezed rest of the window."""
    t = np.asarray(t, float)
    last = [t[np.flatnonzero(np.asarray(x) < 1.0)[-1]] for x in curves if np.any(np.asarray(x) < 1.0)]
    return float(min(t[-1], 1.5 * max(last))) if last else float(t[-1])


def plot(data, out) -> list:
    p = data["params"]
    with style.rc():
        fig, ax = style.new_figure("single", 2.6)
        ax.plot(data["chi"], style.to_db(data["min_xi2"]), "o-", color="k", ms=2.5,
                label="order 2" if "min_xi2_order3" in data else None)
        if "min_xi2_order3" in data:
            v3, bad = style.to_db(data["min_xi2_order3"]), np.asarray(data["unphysical_order3"], bool)
            ax.plot(data["chi"], v3, "--", color="tab:red", lw=0.8, label="order 3 (open: unphysical in window)")
            ax.plot(np.asarray(data["chi"])[~bad], v3[~bad], "s", color="tab:red", ms=2.5)
            ax.plot(np.asarray(data["chi"])[bad], v3[bad], "s", mfc="none", color="tab:red", ms=2.5)
            ax.legend(fontsize=5, loc="lower left")
        ax.set_xlabel(style.LABELS["chi"])
        ax.set_ylabel(r"min transient $\xi^2$ (dB)")
        ax.set_title(rf"cumulant, $N = {p['N']}$, $\Upsilon/\Upsilon_c = {p['ratio']:g}$, "
                     rf"$\gamma_s/\Gamma = {p['gamma_s']:g}$")
        ins = ax.inset_axes([0.5, 0.45, 0.46, 0.5])
        for k, (c, x) in enumerate(zip(data["inset_chi"], data["inset_xi2"])):
            ins.plot(data["t"], style.to_db(x), color=style.COLORS["cycle"][k % 6], lw=0.8, label=rf"$\chi = {c:g}$")
            if "inset_xi2_order3" in data:
                ins.plot(data["t"], style.to_db(data["inset_xi2_order3"][k]), "--", color=style.COLORS["cycle"][k % 6],
                         lw=0.6)
        ins.axhline(0, color="0.5", lw=0.4)
        ins.set_ylim(-12, 5)
        ins.set_xlim(0.0, inset_t_max(data["t"], data["inset_xi2"]))
        ins.tick_params(labelsize=5)
        ins.set_xlabel(style.LABELS["t"], fontsize=6, labelpad=1)
        ins.set_ylabel(style.LABELS["xi2_db"], fontsize=6, labelpad=1)
        ins.legend(fontsize=4.5, loc="lower right")
        style.panel_label(ax, "(b)")
        style.stamp_quick(fig, p["quick"], f"{p['n_chi']} values of chi")
    return style.save(fig, out, "fig3b" if "min_xi2_order3" not in data else "fig3b_order3")
