"""Check 7: the paper's quantitative claims, recomputed with the cumulant method (as the paper did
for its large-N results) and the analytic steady state. Each criterion is the paper's sentence
turned into a number; none is tuned toward the paper's values, and every number is reported.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze import analysis

from ..registry import CheckResult, check, claim_verdict
from ..report import new_figure, save_plot


def _db(x):
    return float(10 * np.log10(x))


@check("claim_early_dip", group=7, needs=("cumulant",),
       title="early collective squeezing dip is independent of gamma_s (Fig. 2b, N = 2000)")
def claim_early_dip(ctx):
    N, gss = 2000, (0.0, 1.0, 2.0, 4.0, 8.0)
    t = np.linspace(0.0, 0.01, 401)
    res = ps.evolve([ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma_s=g) for g in gss], t, method="cumulant")
    end = analysis.transient_window(res[0].xi2)  # the maximum after the dip, gamma_s = 0
    if end is None:
        end = t.size
    dips = [float(np.min(r.xi2_db[:end])) for r in res]
    t_dip = float(t[np.argmin(res[0].xi2[:end])])
    spread = max(dips) - min(dips)
    tol = 0.1
    fig, ax = new_figure(1)
    for g, r in zip(gss, res):
        ax[0].plot(t, r.xi2_db, label=rf"$\gamma_s = {g:g}\,\Gamma$")
    ax[0].set_xlabel(r"$\Gamma t$")
    ax[0].set_ylabel(r"$\xi^2$ (dB)")
    ax[0].set_title(r"cumulant, N = 2000, $\Upsilon/\Upsilon_c = 0.9$, $\chi = \Gamma$", fontsize=9)
    ax[0].legend(fontsize=7)
    plot = save_plot(fig, ctx, "claim_early_dip")
    return CheckResult(
        "claim_early_dip", status=claim_verdict(spread <= tol), tolerance=tol, value=spread,
        quantity="spread of the dip's depth over gamma_s = 0..8 (dB)",
        paper="the early squeezing \"is independent of gamma_s/Gamma\" (no number given)",
        why="The dip happens at t_dip ~ 1/(N Gamma); single-particle emission changes the state by "
            "O(gamma_s t_dip) <= 1% there for gamma_s <= 8 Gamma, i.e. <= 0.05 dB; 0.1 dB bounds "
            "that while a gamma_s-dependent dip (the claim failing) would differ by O(1 dB).",
        numbers={"N": N, "gamma_s": list(gss), "dip_db": dips, "t_dip": t_dip},
        plots=[plot],
        message=f"dip {np.mean(dips):.2f} dB at t = {t_dip:.2g}/Gamma for gamma_s = 0..8, spread {spread:.3f} dB "
                f"(tol {tol})")


@check("claim_transient_beats_steady", group=7, needs=("cumulant", "carmichael:steady_state"),
       title="transient squeezing with gamma_s > 0 beats the gamma_s = 0 steady state between "
             "Upsilon'_c and Upsilon_c (Fig. 3a, N = 1e4)")
def claim_transient_beats_steady(ctx):
    N = 10000
    ratios = (0.6, 0.75, 0.85, 0.95)
    gss = ctx.pick((1.0, 10.0, 50.0), (1.0, 3.0, 10.0, 30.0, 100.0))
    table, ok = {}, True
    fig, ax = new_figure(1)
    for g in gss:
        models = [ps.Model.from_upsilon_ratio(N, r, chi=1.0, gamma_s=g) for r in ratios]
        res = ps.evolve(models, np.linspace(0.0, 5.0 / g, 2001), method="cumulant")
        table[f"gs{g:g}"] = [_db(analysis.min_transient_xi2(r)[0]) for r in res]
        ax[0].plot(ratios, table[f"gs{g:g}"], "o-", label=rf"min transient, $\gamma_s = {g:g}\,\Gamma$")
    steady = [float(ps.steady_state(ps.Model.from_upsilon_ratio(N, r, chi=1.0), method="carmichael").xi2_db[0])
              for r in ratios]
    best = [min(table[k][i] for k in table) for i in range(len(ratios))]
    between = [i for i, r in enumerate(ratios) if 2 ** -0.5 < r < 1]
    gain = [steady[i] - best[i] for i in between]
    ok = all(x > 0 for x in gain)
    some = any(x > 0 for x in gain)
    # "This improvement occurs for even relatively small values of gamma_s": the smallest gamma_s
    # of the grid must beat the steady state too, at every ratio of the region
    small = f"gs{gss[0]:g}"
    small_beats = all(table[small][i] < steady[i] for i in between)
    ax[0].plot(ratios, steady, "ks--", label=r"steady state, $\gamma_s = 0$ (Carmichael)")
    ax[0].axvspan(2 ** -0.5, 1.0, color="0.9", zorder=0, label=r"$\Upsilon'_c < \Upsilon < \Upsilon_c$")
    ax[0].set_xlabel(r"$\Upsilon/\Upsilon_c$")
    ax[0].set_ylabel(r"$\xi^2$ (dB)")
    ax[0].set_title(r"cumulant, N = $10^4$, $\chi = \Gamma$, CSS along $-x$, $t \leq 5/\gamma_s$", fontsize=9)
    ax[0].legend(fontsize=6)
    plot = save_plot(fig, ctx, "claim_transient_beats_steady")
    losers = [f"gamma_s={k[2:]} at {ratios[i]}" for k, v in table.items() for i in between if v[i] >= steady[i]]
    return CheckResult(
        "claim_transient_beats_steady", status=claim_verdict(ok, differs=(ok and not small_beats) or some), tolerance=0.0,
        value=min(gain), quantity="smallest gain of the best transient over the gamma_s = 0 steady state "
                                  "between Upsilon'_c and Upsilon_c (dB, must be > 0)",
        paper="squeezing exceeds the gamma_s = 0 steady state between Upsilon'_c and Upsilon_c, \"for even "
              "relatively small values of gamma_s\" (no number given)",
        why="Claim: with gamma_s > 0 the best transient squeezing exceeds the gamma_s = 0 steady state "
            "for Upsilon'_c < Upsilon < Upsilon_c. Criterion: at every ratio in that region, the best "
            "min-transient xi^2 over the gamma_s grid is below the analytic steady-state xi^2 "
            "(value = smallest gain in dB, must be > 0). DIFFERS when that holds at some ratios only, or "
            "everywhere but the smallest gamma_s of the grid does not beat it everywhere (the paper: \"even "
            "relatively small values\"). "
            "Points where a particular gamma_s does not beat it are listed, not hidden.",
        numbers={"N": N, "ratios": list(ratios), "gamma_s": list(gss), "min_transient_db": table,
                 "steady_state_db_gs0": steady, "gain_db_between": gain, "not_beating": losers,
                 "smallest_gamma_s_beats": small_beats},
        plots=[plot],
        message="gain over the gamma_s = 0 steady state " + ", ".join(
            f"{g:.2f} dB at {ratios[i]}" for g, i in zip(gain, between))
        + (f"; not beating for {', '.join(losers)}" if losers else ""))


@check("claim_loss_at_neff_nc", group=7, needs=("cumulant",),
       title="squeezing is lost once N_eff(t) drops below N_c = 2 Omega/Upsilon_c (Fig. 2b, N = 2000)")
def claim_loss_at_neff_nc(ctx):
    N, gss = 2000, (1.0, 2.0, 4.0, 8.0)
    rows, ts, tl = {}, [], []
    fig, ax = new_figure(1)
    for g in gss:
        model = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma_s=g)
        t = np.linspace(0.0, 3.0 / g, 3001)
        r = ps.evolve(model, t, method="cumulant")
        t_star = analysis.neff_crossing_time(r)
        _, t_min = analysis.min_transient_xi2(r)
        lost = (r.xi2 >= 1.0) & (t > t_min)
        t_loss = float(t[np.argmax(lost)]) if lost.any() else float("nan")
        # reported only: beyond t* the cumulant is not reliable (check cumulant_vs_exact_N)
        stays = bool(np.all(r.xi2[t >= t_loss] >= 1.0)) if lost.any() else False
        rows[f"gs{g:g}"] = {"t_star": t_star, "t_loss_0dB": t_loss, "ratio": t_loss / t_star,
                            "stays_unsqueezed_after": stays, "xi2_db_at_t_star": float(np.interp(t_star, t, r.xi2_db))}
        ts.append(t_star)
        tl.append(t_loss)
        line, = ax[0].plot(g * t, r.xi2_db, label=rf"$\gamma_s = {g:g}\,\Gamma$")
        ax[0].axvline(g * t_star, color=line.get_color(), ls=":", lw=1)
    corr = float(np.corrcoef(ts, tl)[0, 1])
    ok = all(1.0 <= v["ratio"] <= 1.5 for v in rows.values()) and corr >= 0.99
    ax[0].axhline(0.0, color="0.5", lw=0.8)
    ax[0].set_xlabel(r"$\gamma_s t$")
    ax[0].set_ylabel(r"$\xi^2$ (dB)")
    ax[0].set_title(r"cumulant, N = 2000, $\Upsilon/\Upsilon_c = 0.9$, $\chi = \Gamma$; dotted: $N^{\mathrm{eff}}(t^*) = N_c$",
                    fontsize=8)
    ax[0].legend(fontsize=7)
    plot = save_plot(fig, ctx, "claim_loss_at_neff_nc")
    return CheckResult(
        "claim_loss_at_neff_nc", status=claim_verdict(ok), tolerance=1.5,
        value=max(v["ratio"] for v in rows.values()),
        quantity="largest t_loss / t* over gamma_s (xi^2 back at 0 dB, over the time N_eff = N_c)",
        paper="squeezing is lost as N_eff(t) drops below N_c (no number given)",
        why="Claim: squeezing is lost as N_eff(t) crosses N_c (t*). Criterion: xi^2 returns to >= 1 "
            "(0 dB) after t*, within 1.5 t*; across gamma_s the loss time tracks t* "
            "(correlation >= 0.99). Caveat: beyond t* the cumulant deviates from exact dynamics "
            "(check cumulant_vs_exact_N), so the loss times carry that uncertainty.",
        numbers={"N": N, "gamma_s": list(gss), "correlation_t_star_t_loss": corr, **rows},
        plots=[plot],
        message="t_loss/t* = " + ", ".join(f"{v['ratio']:.2f}" for v in rows.values())
        + f" for gamma_s = {', '.join(f'{g:g}' for g in gss)}; correlation {corr:.3f}")


@check("claim_chi_helps", group=7, needs=("cumulant", "meanfield:steady_state"),
       title="larger chi improves the minimum transient squeezing for 0 < chi <~ 2 (Fig. 3b, N = 1e4)")
def claim_chi_helps(ctx):
    from piqs_squeeze.methods.moments.meanfield import css_collective_steady_state

    N, gs = 10000, 50.0
    chis = np.array(ctx.pick((0.0, 0.5, 1.0, 1.5, 2.0), np.linspace(0.0, 3.0, 13)))
    t = np.linspace(0.0, 5.0 / gs, 2001)
    vals, curves = [], []
    for chi in chis:
        model = ps.Model.from_upsilon_ratio(N, 0.9, chi=float(chi), gamma_s=gs)
        r = ps.evolve(model, t, method="cumulant", initial=css_collective_steady_state(model))
        # from the collective steady-state direction there is no separate early collective dip
        # (checked in the inset plot): the first minimum is the transient one, so take the minimum
        vals.append(_db(analysis.min_xi2(r)[0]))
        curves.append(r.xi2_db)
    sel = chis <= 2.0
    v = np.array(vals)[sel]
    improvement = float(v[0] - v[-1])
    ok = improvement > 0 and bool(np.all(np.diff(v) <= 0.05))
    fig, ax = new_figure(2)
    ax[0].plot(chis, vals, "o-")
    ax[0].set_xlabel(r"$\chi/\Gamma$")
    ax[0].set_ylabel(r"min transient $\xi^2$ (dB)")
    for chi, c in list(zip(chis, curves))[:: max(1, len(chis) // 4)]:
        ax[1].plot(t, c, label=rf"$\chi = {chi:g}\,\Gamma$")
    ax[1].set_xlabel(r"$\Gamma t$")
    ax[1].set_ylabel(r"$\xi^2$ (dB)")
    ax[1].legend(fontsize=7)
    ax[0].set_title(r"cumulant, N = $10^4$, $\Upsilon/\Upsilon_c = 0.9$, $\gamma_s = 50\,\Gamma$", fontsize=9)
    plot = save_plot(fig, ctx, "claim_chi_helps")
    from . import scale

    mc = {lab: scale.quote(ctx, lab) for lab in (f"chi={c:g}" for c in scale.CHIS)}
    mc_text = "; ".join(f"chi = {lab[4:]}: " + scale.quote_text(q) for lab, q in mc.items())
    return CheckResult(
        "claim_chi_helps", status=claim_verdict(ok), tolerance=0.05, value=float(np.max(np.diff(v))),
        quantity="largest rise of min xi^2 between neighbouring chi <= 2 (dB; "
                 f"{improvement:.2f} dB better from chi = 0 to 2)",
        paper="\"appreciable improvement\" for 0 < chi/Gamma <~ 2 (Fig. 3b: about -6 to -8 dB read off the plot; "
              "cumulant, N = 1e4)",
        why="Claim: increasing chi gives an appreciable improvement for 0 < chi/Gamma <~ 2. Initial CSS "
            "along the gamma_s = 0 mean-field steady state (as the paper); from there xi^2(t) has a single "
            "minimum in t <= 5/gamma_s, which we take. Criterion: the min xi^2 (dB) at chi = 2 is below chi = 0, and it never rises by more than 0.05 dB "
            "(integration/extremum-location noise of a 2001-point grid) between neighbouring chi <= 2.",
        numbers={"N": N, "gamma_s": gs, "chi": chis, "min_transient_db": vals,
                 "improvement_db_chi0_to_2": improvement, "mcwf_vs_cumulant": mc},
        plots=[plot],
        message=f"min transient xi^2 from {v[0]:.2f} dB (chi = 0) to {v[-1]:.2f} dB (chi = 2): "
                f"{improvement:.2f} dB better (cumulant order 2, N = 1e4, t <= 5/gamma_s). Unbiased MCWF "
                f"(check mcwf_vs_cumulant_1e4, t <= 2/gamma_s): {mc_text}")


@check("claim_9dB_outlook", group=7, needs=("cumulant",),
       title="outlook estimate: ~9 dB for N ~ 1e4, chi ~ Gamma, gamma_s ~ 200 Gamma (reported, not tuned)")
def claim_9db_outlook(ctx):
    N, gs = 10000, 200.0
    ratios = np.round(np.arange(0.72, 1.0, ctx.pick(0.03, 0.01)), 3)
    t = np.linspace(0.0, 5.0 / gs, 2001)
    res = ps.evolve([ps.Model.from_upsilon_ratio(N, r, chi=1.0, gamma_s=gs) for r in ratios], t, method="cumulant")
    mins = [analysis.min_transient_xi2(r) for r in res]
    db = np.array([_db(m[0]) for m in mins])
    i = int(np.argmin(db))
    ours = float(-db[i])
    fig, ax = new_figure(1)
    ax[0].plot(ratios, -db, "o-", label="ours (cumulant), min transient")
    ax[0].axhline(9.0, color="r", ls="--", label="paper's estimate, 9 dB")
    ax[0].set_xlabel(r"$\Upsilon/\Upsilon_c$")
    ax[0].set_ylabel(r"squeezing $-10\log_{10}\xi^2$ (dB)")
    ax[0].set_title(r"N = $10^4$, $\chi = \Gamma$, $\gamma_s = 200\,\Gamma$, $t \leq 5/\gamma_s$", fontsize=9)
    ax[0].legend(fontsize=7)
    plot = save_plot(fig, ctx, "claim_9dB_outlook")
    # reported against the paper's number, never tuned: reproduced within the "~" of "~9 dB"
    # (read as +-0.5 dB), differs when squeezed by another amount, not reproduced without squeezing
    paper_db, within = 9.0, 0.5
    status = claim_verdict(abs(ours - paper_db) <= within, differs=ours > 0)
    from . import scale

    mc = scale.quote(ctx, "outlook")  # MCWF +- s.e. at its best drive (order 2's), cumulant 2 and 3 beside it
    return CheckResult(
        "claim_9dB_outlook", status=status, tolerance=within, value=ours,
        quantity=f"best squeezing -10 log10 xi^2 (dB); paper ~{paper_db:g} dB",
        paper=f"~{paper_db:g} dB for N ~ 1e4, chi ~ Gamma, gamma_s ~ 200 Gamma",
        why="Reported next to the paper's ~9 dB: REPRODUCED within 0.5 dB of it (our reading of the \"~\"), "
            "DIFFERS when squeezing of another size is found, NOT REPRODUCED without squeezing. The paper "
            "does not give Upsilon/Upsilon_c or the time window: we take the best over "
            f"Upsilon/Upsilon_c in [{ratios[0]}, {ratios[-1]}] and t <= 5/gamma_s.",
        numbers={"N": N, "chi": 1.0, "gamma_s": gs, "ratios": ratios, "squeezing_db": -db,
                 "best_ratio": float(ratios[i]), "best_time": float(mins[i][1]), "paper_db": 9.0,
                 "mcwf_vs_cumulant": mc},
        plots=[plot],
        message=f"ours {ours:.2f} dB (cumulant order 2, N = 1e4), paper ~{paper_db:g} dB (best at "
                f"Upsilon/Upsilon_c = {ratios[i]}, t = {mins[i][1]:.3g}/Gamma). Unbiased MCWF at its best drive "
                "(check mcwf_vs_cumulant_1e4, t <= 2/gamma_s): "
                + scale.quote_text(mc)
                + " (" + ", ".join(f"N = {N} at Upsilon/Upsilon_c = {v['ratio']:g}" for N, v in mc.items()) + ")")


@check("transient_definition", group=7, needs=("cumulant",),
       title="minimum transient xi^2: after the initial collective minimum, on the 1/gamma_s time scale, "
             "independent of the output grid (Fig. 3a, N = 1e4)")
def transient_definition(ctx):
    N, gs = 10000, 5.0
    ratios = (0.9, 0.95, 1.05, 1.2)
    grids = ctx.pick((801, 2001, 20001), (801, 2001, 20001, 50001))
    models = [ps.Model.from_upsilon_ratio(N, r, chi=1.0, gamma_s=gs) for r in ratios]
    per_grid = {}
    for n in grids:
        res = ps.evolve(models, np.linspace(0.0, 5.0 / gs, n), method="cumulant")
        per_grid[n] = (res, [analysis.min_transient_xi2(r) for r in res])
    fine, mins = per_grid[grids[-1]]
    rows, spread_resolved = {}, []
    for i, r in enumerate(ratios):
        vals = [_db(per_grid[n][1][i].xi2) for n in grids]
        m = mins[i]
        resolved = all(per_grid[n][1][i].resolved for n in grids)
        rows[f"ratio{r:g}"] = {"min_transient_db": vals, "t_at": m.t, "t_window": m.t_window,
                               "note": m.note, "resolved_on_every_grid": resolved,
                               "plain_min_db": _db(analysis.min_xi2(fine[i])[0])}
        if resolved and m.squeezed:
            spread_resolved.append(max(vals) - min(vals))
    above_ok = all(not mins[i].squeezed for i, r in enumerate(ratios) if r > 1)
    spread = max(spread_resolved) if spread_resolved else float("nan")
    tol = 0.2
    fig, ax = new_figure(2, width=3.6)
    for i, r in enumerate(ratios):
        side = 0 if r < 1 else 1
        t = fine[i].times
        line, = ax[side].plot(gs * t[1:], fine[i].xi2_db[1:], lw=0.8, label=rf"$\Upsilon/\Upsilon_c = {r:g}$")
        ax[side].plot(gs * mins[i].t, _db(mins[i].xi2), "o", color=line.get_color(), ms=5,
                      markeredgecolor="k", zorder=5)
    for a, what in zip(ax, (r"below $\Upsilon_c$", r"above $\Upsilon_c$")):
        a.axvline(gs * mins[0].t_window, color="0.4", ls="--", lw=0.8)
        a.axhline(0.0, color="0.6", lw=0.6)
        a.set_xscale("log")
        a.set_xlabel(r"$\gamma_s t$")
        a.set_ylabel(r"$\xi^2$ (dB)")
        a.set_title(f"{what}: N = $10^4$, $\\chi = \\Gamma$, $\\gamma_s = 5\\,\\Gamma$", fontsize=8)
        a.legend(fontsize=7, framealpha=0.9)
    ax[1].text(gs * mins[0].t_window * 1.1, ax[1].get_ylim()[1] * 0.9, "window starts\n(0.1/$\\gamma_s$)", fontsize=6,
               va="top")
    plot = save_plot(fig, ctx, "transient_definition")
    ok = above_ok and spread <= tol
    return CheckResult(
        "transient_definition", status="PASSED" if ok else "FAILED", tolerance=tol, value=spread,
        quantity="largest change of the min transient xi^2 between output grids, resolved points (dB)",
        why="Definition (analysis.min_transient_xi2): the minimum of xi^2(t) for t >= max(initial collective "
            "minimum, 0.1/gamma_s) -- the paper's minimum \"after the initial collective minimum\", on the "
            "\"timescales ~1/gamma_s\" of the second transient, never a point of the early collective "
            "oscillation (period ~5e-4/Gamma here). Criteria: above Upsilon_c it reports \"no transient "
            "squeezing\"; where the grids resolve the minimum its value moves by <= 0.2 dB between "
            f"{', '.join(map(str, grids))} output points (sampling a minimum of width ~5e-3 at spacing "
            "<= 1.25e-3). Dots: the chosen points; dashed: the window start.",
        numbers={"N": N, "gamma_s": gs, "chi": 1.0, "grids": list(grids), **rows},
        plots=[plot],
        message=", ".join(f"{r:g}: {_db(mins[i].xi2):+.2f} dB ({mins[i].note}, t = {mins[i].t:.3g}"
                          f"{'' if rows[f'ratio{r:g}']['resolved_on_every_grid'] else ', not resolved by the grids'})"
                          for i, r in enumerate(ratios)) + f"; grid spread {spread:.3f} dB (tol {tol})")
