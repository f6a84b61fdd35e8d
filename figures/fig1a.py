"""Fig. 1(a): steady-state phase diagram of the collective model (gamma_s = 0).

The order parameter <Jz>/(N/2) of the analytic (Carmichael) steady state versus Upsilon/Upsilon_c
for several N, with the thermodynamic limit -sqrt(1 - (Upsilon/Upsilon_c)^2) (superradiant) and 0
(normal phase); below it the steady-state squeezing xi^2 in dB. The thresholds Upsilon_c (red) and
Upsilon'_c = Upsilon_c/sqrt 2 (blue, the mean-field threshold once gamma_s > 0) are drawn and the
region between them, where gamma_s enhances transient squeezing, is hatched as in the paper.
The paper's panel is a sketch without numbers: we show the computed curves (chi/Gamma = 1; the
curves depend on chi only through Upsilon_c) and mark the three drives of Fig. 1(c).
"""
from __future__ import annotations

import numpy as np

from . import style
from .common import cached, resolve_params

FULL = {
    "chi": 1.0,
    "Ns": [200, 2000, 20000],
    "ratio_max": 1.5,
    "n_ratio": 301,
    "marks": [0.9, 0.95, 1.2],  # the drives (i)-(iii) of Fig. 1(c)
}
QUICK = {"Ns": [200, 2000], "n_ratio": 61}


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    """Order parameter and steady-state xi^2 over Upsilon/Upsilon_c (Carmichael, analytic)."""
    p = resolve_params(FULL, QUICK, quick, overrides)

    def run(p):
        from piqs_squeeze.methods.carmichael import order_parameter_tl, phase_diagram

        ratios = np.linspace(0.0, p["ratio_max"], int(p["n_ratio"]))
        d = phase_diagram(ratios, list(p["Ns"]), chi=p["chi"])
        return {"ratio": ratios, "Ns": np.asarray(p["Ns"], dtype=np.int64), "jz": d["jz_over_j"],
                "xi2": d["xi2"], "jz_tl": np.asarray(order_parameter_tl(ratios)), "method": "carmichael"}

    return cached("fig1a", p, run, cache_dir)


def plot(data, out) -> list:
    """Two stacked panels: order parameter and steady-state xi^2 (dB) versus Upsilon/Upsilon_c."""
    p = data["params"]
    ratio = np.asarray(data["ratio"])
    with style.rc():
        fig, (ax1, ax2) = style.new_figure("single", 3.6, nrows=2, sharex=True)
        for ax in (ax1, ax2):
            ax.axvspan(1 / np.sqrt(2), 1.0, facecolor="none", edgecolor="0.75", hatch="////", lw=0)
            style.threshold_lines(ax, 1.0, label=ax is ax1)
        ax1.plot(ratio, data["jz_tl"], color="k", lw=1.6, label=r"$N\to\infty$")
        for k, (N, jz, x) in enumerate(zip(data["Ns"], np.asarray(data["jz"]), np.asarray(data["xi2"]))):
            c = style.COLORS["cycle"][1 + k % 5]
            ax1.plot(ratio, jz, color=c, lw=0.9, label=f"$N = {int(N)}$")
            ax2.plot(ratio, style.to_db(x), color=c, lw=0.9)
        for k, (r, name) in enumerate(zip(p["marks"], ("(i)", "(ii)", "(iii)"))):
            # labels of neighbouring marks closer than 0.1 alternate in height, so they never touch
            close = k > 0 and abs(r - p["marks"][k - 1]) < 0.1
            ax2.annotate(name, (r, 0), xytext=(r, 8 if close else 4), ha="center", fontsize=6,
                         arrowprops={"arrowstyle": "-", "lw": 0.5})
        ax2.axhline(0, color="0.5", lw=0.5)
        ax1.set_ylabel(style.LABELS["jz"])
        ax2.set_ylabel(r"steady-state $\xi^2$ (dB)")
        ax2.set_ylim(-12, 12)
        ax2.set_xlabel(style.LABELS["ratio"])
        ax1.legend(loc="lower right", ncol=2)
        ax1.set_title(rf"Carmichael steady state, $\gamma_s = 0$, $\chi/\Gamma = {p['chi']:g}$")
        style.panel_label(ax1, "(a)")
        style.stamp_quick(fig, p["quick"], f"N = {', '.join(str(int(n)) for n in data['Ns'])}")
    return style.save(fig, out, "fig1a")
