"""Fig. 3(a): minimum transient xi^2 over (Upsilon/Upsilon_c, gamma_s/Gamma), cumulant, N = 1e4.

Paper: chi/Gamma = 1, CSS along -x, truncated (second-order) cumulant expansion, N = 10^4; the
strip below shows gamma_s = 0. "Minimum transient" is the minimum after the initial collective
minimum (:func:`piqs_squeeze.analysis.min_transient_xi2`). The paper gives neither its grid nor its
time window: we use a log grid of gamma_s in [1, 200] with t in [0, ``t_units`` / gamma_s], and
t in [0, ``t_end_collective``] for the gamma_s = 0 strip. Computed through the sweep layer, so an
interrupted map resumes from its checkpoints.

``order=3`` (``piqs-squeeze figure fig3a --order 3``) draws the third-order cumulant map beside
the difference order 3 - order 2 (dB).  Where the order-3 equations leave the physical set within
the window (negative variance; NaN from there on, ``on_failure="nan"``), the minimum is taken over
the physical part only and the cell is marked with a dot.
"""
from __future__ import annotations

import numpy as np

from . import style
from .common import cached, resolve_params, sweep_table

FULL = {"N": 10000, "chi": 1.0, "ratio_min": 0.5, "ratio_max": 1.5, "n_ratio": 41,
        "gamma_s_min": 1.0, "gamma_s_max": 200.0, "n_gamma_s": 30, "t_units": 5.0, "n_times": 801,
        "t_end_collective": 0.05, "workers": None, "order": 2}
QUICK = {"n_ratio": 15, "n_gamma_s": 8, "n_times": 301}

SUMMARY = "min_transient_xi2"
NO_SQUEEZING = "0.82"  #: colour of cells with min transient xi^2 >= 1


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    """The map min_t xi^2 (transient) [gamma_s, ratio] and the gamma_s = 0 strip."""
    p = resolve_params(FULL, QUICK, quick, overrides)
    from piqs_squeeze.methods.moments.cumulant import check_order

    check_order(p["order"])

    def maps(p, order):
        ratio = {"start": p["ratio_min"], "stop": p["ratio_max"], "num": int(p["n_ratio"])}
        method = "cumulant" if order == 2 else {"method": "cumulant", "options": {"order": 3, "on_failure": "nan"}}
        base = {"fixed": {"N": int(p["N"]), "chi": p["chi"]}, "methods": [method],
                "summaries": [SUMMARY] if order == 2 else [SUMMARY, "final"]}
        tag = "" if order == 2 else "-order3"
        t_map = sweep_table("fig3a-map" + tag, dict(base, grid={
            "ratio": ratio,
            "gamma_s": {"start": p["gamma_s_min"], "stop": p["gamma_s_max"], "num": int(p["n_gamma_s"]), "log": True}},
            times={"t_end": p["t_units"], "unit": "gamma_s", "num": int(p["n_times"])}), cache_dir, p["workers"])
        t_strip = sweep_table("fig3a-strip" + tag, dict(base, fixed=dict(base["fixed"], gamma_s=0.0), grid={"ratio": ratio},
                              times={"t_end": p["t_end_collective"], "num": int(p["n_times"])}), cache_dir, p["workers"])
        xs, ys, v = t_map.pivot(SUMMARY, "ratio", "gamma_s")
        xs0, v0 = t_strip.pivot(SUMMARY, "ratio")
        out = {"ratio": xs, "gamma_s": ys, "min_xi2": v, "min_xi2_strip": v0,
               "errors": int((~t_map.ok).sum() + (~t_strip.ok).sum())}
        if order == 3:  # final xi^2 NaN: the order-3 run left the physical set inside the window
            out["unphysical"] = ~np.isfinite(t_map.pivot("final_xi2", "ratio", "gamma_s")[2])
            out["unphysical_strip"] = ~np.isfinite(t_strip.pivot("final_xi2", "ratio")[1])
        return out

    def run(p):
        if int(p["order"]) == 2:
            return maps(p, 2)
        o2, o3 = maps(p, 2), maps(p, 3)
        return dict(o3, min_xi2_order2=o2["min_xi2"], min_xi2_strip_order2=o2["min_xi2_strip"],
                    errors=o2["errors"] + o3["errors"])

    return cached("fig3a", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    if int(p.get("order", 2)) == 3:
        return _plot_order3(data, out)
    ratio, gs = np.asarray(data["ratio"]), np.asarray(data["gamma_s"])
    v = style.to_db(data["min_xi2"])
    v0 = style.to_db(data["min_xi2_strip"])
    lo = float(np.nanmin(np.concatenate([v.ravel(), v0]))) if np.any(np.isfinite(v)) else -10
    with style.rc():
        import matplotlib
        import matplotlib.colors as mcolors
        from matplotlib.patches import Patch

        fig, (ax, ax0) = style.new_figure("single", 3.2, nrows=2, sharex=True,
                                          gridspec_kw={"height_ratios": [5, 1]})
        # squeezed cells on a colour scale; xi^2 >= 1 is "no transient squeezing" (grey), as the
        # paper's Fig. S1 cuts values above 0 dB
        cmap = matplotlib.colormaps["viridis"].with_extremes(over=NO_SQUEEZING)
        norm = mcolors.Normalize(vmin=min(lo, -1.0), vmax=0.0)
        im = ax.pcolormesh(ratio, gs, v, shading="nearest", cmap=cmap, norm=norm)
        ax0.pcolormesh(ratio, [0.0, 1.0], np.vstack([v0, v0]), shading="nearest", cmap=cmap, norm=norm)
        ax.set_yscale("log")
        for a in (ax, ax0):
            style.threshold_lines(a, 1.0, label=a is ax)
        ax.set_ylabel(style.LABELS["gamma_s"])
        ax0.set_yticks([0.5], ["0"])
        ax0.set_ylabel(r"$\gamma_s/\Gamma$", fontsize=7)
        ax0.set_xlabel(style.LABELS["ratio"])
        fig.colorbar(im, ax=[ax, ax0], label=r"min transient $\xi^2$ (dB)")
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Patch(facecolor=NO_SQUEEZING, edgecolor="0.5", lw=0.4))
        labels.append("no transient\nsqueezing")
        ax.legend(handles, labels, loc="lower right", fontsize=5.5)
        ax.set_title(rf"cumulant, $N = {p['N']}$, $\chi/\Gamma = {p['chi']:g}$, CSS along $-x$")
        style.panel_label(ax, "(a)")
        style.stamp_quick(fig, p["quick"], f"{p['n_ratio']} x {p['n_gamma_s']} grid")
    return style.save(fig, out, "fig3a")


def _plot_order3(data, out) -> list:
    """Order-3 map (dots: the closure left the physical set in the window) and order 3 - order 2."""
    p = data["params"]
    ratio, gs = np.asarray(data["ratio"]), np.asarray(data["gamma_s"])
    v3, v2 = style.to_db(data["min_xi2"]), style.to_db(data["min_xi2_order2"])
    bad = np.asarray(data["unphysical"], bool)
    with style.rc():
        import matplotlib.colors as mcolors

        fig, axs = style.new_figure("double", 3.0, ncols=2)
        lo = float(np.nanmin(v3)) if np.any(np.isfinite(v3)) else -10
        norm = mcolors.TwoSlopeNorm(vmin=min(lo, -0.1), vcenter=0.0, vmax=max(0.1, min(10.0, np.nanmax(v3))))
        im = axs[0].pcolormesh(ratio, gs, v3, shading="nearest", cmap="RdBu_r", norm=norm)
        fig.colorbar(im, ax=axs[0], label=r"min transient $\xi^2$ (dB), order 3")
        diff = v3 - v2
        lim = max(0.1, float(np.nanmax(np.abs(diff)))) if np.any(np.isfinite(diff)) else 1.0
        im2 = axs[1].pcolormesh(ratio, gs, diff, shading="nearest", cmap="PuOr_r", vmin=-lim, vmax=lim)
        fig.colorbar(im2, ax=axs[1], label=r"order 3 $-$ order 2 (dB)")
        X, Y = np.meshgrid(ratio, gs)
        for ax in axs:
            ax.plot(X[bad], Y[bad], ".", color="k", ms=1.2, label="order 3 unphysical in window")
            ax.set_yscale("log")
            style.threshold_lines(ax, 1.0, label=False)
            ax.set_xlabel(style.LABELS["ratio"])
        axs[0].set_ylabel(style.LABELS["gamma_s"])
        axs[0].legend(loc="upper left", fontsize=5)
        axs[0].set_title(rf"order-3 cumulant, $N = {p['N']}$, $\chi/\Gamma = {p['chi']:g}$", fontsize=8)
        axs[1].set_title(f"difference; {int(bad.sum())} of {bad.size} cells unphysical in the window", fontsize=8)
        style.stamp_quick(fig, p["quick"], f"{p['n_ratio']} x {p['n_gamma_s']} grid")
    return style.save(fig, out, "fig3a_order3")
