"""Beyond the paper: ramping the drive into the enhanced-squeezing window instead of switching it on.

Every run starts in the same state, the CSS along the gamma_s = 0 mean-field steady state at the
drive Upsilon_0 = ``ratio_start`` Upsilon_c (below Upsilon'_c), with chi, gamma_s and N of the
paper's Fig. 3(b). The drive then goes to Upsilon_1 (each of ``ratio_end``, from between
Upsilon'_c and Upsilon_c, where the paper finds the transient squeezing enhanced, up to
Upsilon_c) either at once (tau = 0, the paper's protocol) or linearly over a time tau
(``ps.Ramp``). Panel (a): xi^2(t) at Upsilon_1 = ``shown_ratio_end`` Upsilon_c for a few tau and
for the constant drive Upsilon_0; panel (b): the minimum of xi^2 over t <= ``t_units`` / gamma_s
against tau gamma_s, for every Upsilon_1, with the third-order cumulant at ``shown_ratio_end`` as
a truncation check (``order3``). The cumulant integrates the time-dependent drive directly.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps

from . import style
from .common import cached, resolve_params, trace

FULL = {"N": 10000, "chi": 1.0, "gamma_s": 50.0, "ratio_start": 0.5, "ratio_end": [0.8, 0.9, 0.95, 1.0],
        "t_units": 5.0, "n_times": 1001, "tau_units": [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0],
        "shown_ratio_end": 0.95, "shown_tau_units": [0.0, 0.5, 1.0, 3.0], "order3": True}
QUICK = {"ratio_end": [0.8, 0.95], "tau_units": [0.0, 0.5, 1.0, 3.0], "n_times": 501, "order3": False}


def _model(p, omega):
    return ps.Model(p["N"], omega=omega, chi=p["chi"], gamma_s=p["gamma_s"])


def compute(quick: bool = True, cache_dir=None, **overrides) -> dict:
    p = resolve_params(FULL, QUICK, quick, overrides)
    from piqs_squeeze.methods.moments.meanfield import css_collective_steady_state

    def run(p):
        N, gs = int(p["N"]), float(p["gamma_s"])

        def omega(ratio):
            return ps.Model.from_upsilon_ratio(N, ratio, chi=p["chi"]).omega

        initial = css_collective_steady_state(ps.Model.from_upsilon_ratio(N, p["ratio_start"], chi=p["chi"]))
        times = np.linspace(0.0, p["t_units"] / gs, int(p["n_times"]))
        taus = np.asarray(p["tau_units"], float)

        def xi2(ratio_end, tau, order=2):
            # tau = 0: the drive is switched on at t = 0 (the paper's protocol)
            drive = omega(ratio_end) if tau == 0 else ps.Ramp.linear(0.0, tau / gs, omega(p["ratio_start"]),
                                                                      omega(ratio_end))
            res = ps.evolve(_model(p, drive), times, method="cumulant", initial=initial, order=order,
                            on_failure="nan")
            return trace(res)["xi2"]

        ends = np.asarray(p["ratio_end"], float)
        curves = np.array([[xi2(r, tau) for tau in taus] for r in ends])  # (ratio_end, tau, time)
        out = {"t": times, "tau_units": taus, "ratio_end": ends, "xi2": curves,
               "min_xi2": np.nanmin(curves, axis=2), "xi2_constant": xi2(p["ratio_start"], 0.0)}
        if p["order3"]:
            k = int(np.argmin(np.abs(ends - p["shown_ratio_end"])))
            out["min_xi2_order3"] = np.array([np.nanmin(xi2(ends[k], tau, order=3)) for tau in taus])
        return out

    return cached("ramp", p, run, cache_dir)


def plot(data, out) -> list:
    p = data["params"]
    gs = p["gamma_s"]
    ends, taus = np.asarray(data["ratio_end"]), np.asarray(data["tau_units"])
    k = int(np.argmin(np.abs(ends - p["shown_ratio_end"])))
    with style.rc():
        fig, (a, b) = style.new_figure("double", 2.5, ncols=2)
        t = np.asarray(data["t"]) * gs
        a.plot(t, style.to_db(data["xi2_constant"]), color="0.5", lw=0.8,
               label=rf"constant $\Upsilon_0 = {p['ratio_start']:g}\,\Upsilon_c$")
        shown = [i for i, tau in enumerate(taus) if any(np.isclose(tau, s) for s in p["shown_tau_units"])]
        for c, i in enumerate(shown):
            label = "switched on" if taus[i] == 0 else rf"ramp $\tau\gamma_s = {taus[i]:g}$"
            a.plot(t, style.to_db(data["xi2"][k, i]), color=style.COLORS["cycle"][c % 6], lw=0.8, label=label)
        a.axhline(0, color="0.6", lw=0.4)
        a.set_xlim(0, p["t_units"])
        a.set_ylim(-10, 6)  # the squeezed dips; afterwards xi^2 grows far above 0 dB as the state mixes
        a.set_xlabel(r"$\gamma_s t$")
        a.set_ylabel(style.LABELS["xi2_db"])
        a.set_title(rf"$\Upsilon_0 = {p['ratio_start']:g}\,\Upsilon_c \to {ends[k]:g}\,\Upsilon_c$", fontsize=7)
        a.legend(fontsize=5, loc="lower right")
        style.panel_label(a, "(a)")
        for i, r in enumerate(ends):
            b.plot(taus, style.to_db(data["min_xi2"][i]), "o-", ms=2.5, lw=0.8, color=style.COLORS["cycle"][i % 6],
                   label=rf"$\Upsilon_1 = {r:g}\,\Upsilon_c$")
        if "min_xi2_order3" in data:
            b.plot(taus, style.to_db(data["min_xi2_order3"]), "s", mfc="none", ms=3.5, color=style.COLORS["cycle"][k % 6],
                   label=rf"order 3, $\Upsilon_1 = {ends[k]:g}\,\Upsilon_c$")
        b.set_xlabel(r"ramp time $\tau\,\gamma_s$ (0: switched on)")
        b.set_ylabel(r"min $\xi^2$ (dB)")
        b.legend(fontsize=5, loc="best")
        style.panel_label(b, "(b)")
        fig.suptitle(rf"cumulant (order 2), $N = {p['N']}$, $\chi/\Gamma = {p['chi']:g}$, $\gamma_s/\Gamma = {gs:g}$, "
                     rf"linear drive ramp from $\Upsilon_0$ to $\Upsilon_1$ in time $\tau$", fontsize=7)
        style.stamp_quick(fig, p["quick"], f"{len(ends)} final drives, {len(taus)} ramp times")
    return style.save(fig, out, "ramp")
