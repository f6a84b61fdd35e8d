"""Check 4 (MCWF), at the paper's scale against the cumulant orders 2 and 3 (Fig. 3(b) and the ~9 dB
outlook point), with error bars that hold (:mod:`piqs_squeeze.methods.mcwf.statistics`).

The points: Fig. 3(b) (Upsilon/Upsilon_c = 0.9, gamma_s = 50 Gamma, initial CSS along the gamma_s = 0
mean-field steady state) at six chi values, and the outlook point (gamma_s = 200 Gamma, chi = Gamma,
CSS along -x) at its best drive (the ratio of the deepest order-2 minimum transient xi^2 at that N).
Every method is sampled on the same output grid, t in [0, 2/gamma_s] (the cumulant minima lie at
0.3-1.1/gamma_s), and the minimum is taken over the same window: t > 0 for Fig. 3(b) (as
figures/fig3b.py: from the collective steady state there is no early dip to skip), and
t >= the order-2 result's ``min_transient_xi2(...).t_window`` for the outlook point (0.1/gamma_s).
MCWF's minimum is the cross-fit estimate (statistics.min_estimate): no min-of-noisy-curve bias.

The MCWF numbers are computed once per run (:func:`mcwf_numbers`) and quoted by the paper claims
(``claim_9dB_outlook``, ``claim_chi_helps``): in the full run at N = 2000, 5000 and 1e4, in the
quick run at N = 2000 with a few trajectories.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze import analysis
from piqs_squeeze.methods.mcwf import statistics
from piqs_squeeze.result import Result

from ..registry import CheckResult, check
from ..report import new_figure, save_plot

#: chi/Gamma of the Fig. 3(b) points (the figure spans 0-5; the order-3 curve leaves the physical
#: set near chi = 3 at N = 1e4)
CHIS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0)
RATIO, GAMMA_S = 0.9, 50.0
OUTLOOK_GAMMA_S, OUTLOOK_CHI = 200.0, 1.0
#: drives searched for the outlook point's best ratio (order 2)
OUTLOOK_RATIOS = tuple(np.round(np.arange(0.84, 0.995, 0.01), 3))
N_TIMES = 81
TARGET_DB = 0.1
#: full run: N and the largest number of trajectories per point (the run stops once se <= 0.1 dB)
FULL_NS = (2000, 5000, 10000)
FULL_MAX_NTRAJ = {2000: 2048, 5000: 1024, 10000: 512}
QUICK = {"N": 2000, "ntraj": 4, "n_times": 41}
#: trajectories per saved chunk (full run)
CHUNK = 32
#: fewest trajectories for which a difference cumulant - MCWF is judged (DIFFERS at > 3 s.e.)
MIN_NTRAJ_JUDGED = 64

_MEMO: dict = {}


def points(N: int, outlook: bool = True) -> list:
    """The seven points at atom number N (six without ``outlook``): dicts with ``label``, ``chi``,
    ``ratio``, ``gamma_s``, ``kind`` ("fig3b" or "outlook")."""
    pts = [{"label": f"chi={c:g}", "chi": float(c), "ratio": RATIO, "gamma_s": GAMMA_S, "kind": "fig3b"}
           for c in CHIS]
    if outlook:
        pts.append({"label": "outlook", "chi": OUTLOOK_CHI, "ratio": best_outlook_ratio(N),
                "gamma_s": OUTLOOK_GAMMA_S, "kind": "outlook"})
    return pts


def best_outlook_ratio(N: int) -> float:
    """Upsilon/Upsilon_c of the deepest order-2 minimum transient xi^2 at gamma_s = 200, chi = 1."""
    t = np.linspace(0.0, 2.0 / OUTLOOK_GAMMA_S, 401)
    res = ps.evolve([ps.Model.from_upsilon_ratio(N, r, chi=OUTLOOK_CHI, gamma_s=OUTLOOK_GAMMA_S)
                     for r in OUTLOOK_RATIOS], t, method="cumulant")
    return float(OUTLOOK_RATIOS[int(np.argmin([analysis.min_transient_xi2(r).xi2 for r in res]))])


def setup(N: int, p: dict, n_times: int = N_TIMES):
    """(model, initial state, output times) of point ``p`` at N."""
    from piqs_squeeze.methods.moments.meanfield import css_collective_steady_state

    model = ps.Model.from_upsilon_ratio(N, p["ratio"], chi=p["chi"], gamma_s=p["gamma_s"])
    init = (css_collective_steady_state(ps.Model.from_upsilon_ratio(N, p["ratio"], chi=p["chi"]))
            if p["kind"] == "fig3b" else None)
    return model, init, np.linspace(0.0, 2.0 / p["gamma_s"], n_times)


def cumulant_minimum(N: int, p: dict, order: int, n_times: int = N_TIMES) -> dict:
    """The cumulant's minimum over the point's window, on the MCWF output grid (``xi2``, ``db``,
    ``t``, ``t_window``); NaN where order 3 leaves the physical set before the minimum."""
    model, init, t = setup(N, p, n_times)
    r = ps.evolve(model, t, method="cumulant", initial=init, **({} if order == 2 else
                                                               {"order": 3, "on_failure": "nan"}))
    t_w = 0.0 if p["kind"] == "fig3b" else analysis.min_transient_xi2(r).t_window
    w = (t > max(t_w, t[0]) - 1e-15) & (t > t[0]) & np.isfinite(r.xi2)
    if not w.any():
        return {"xi2": math.nan, "db": math.nan, "t": math.nan, "t_window": t_w}
    i = np.flatnonzero(w)[np.argmin(r.xi2[w])]
    return {"xi2": float(r.xi2[i]), "db": float(10 * np.log10(r.xi2[i])), "t": float(t[i]), "t_window": float(t_w)}


def mcwf_point(N: int, p: dict, ntraj: int, seed: int = 27, workers: int = 2, store=None,
               n_times: int = N_TIMES, chunk: int = CHUNK, scheduler: str | None = None):
    """MCWF ensemble of point ``p`` (keep_trajectories), trajectory i from
    ``SeedSequence(seed).spawn(ntraj)[i]`` whatever the chunking. With ``store`` (a folder) it runs
    in chunks of ``chunk`` trajectories, each saved as a Result file named by the point, N, grid, seed
    and chunk index and reused by a later call (a larger ``ntraj`` only runs the missing chunks) when
    its model, times, seed and size match; the version of the trajectory code is not checked (unlike
    the ensemble's ``checkpoint``, so that edits elsewhere in the package keep the chunks): delete
    the folder after changing the MCWF kernel. (The initial state follows from the model.) With
    ``scheduler`` (a Dask scheduler's address) the trajectories run on that cluster, as many at a
    time as it has threads, with the same bits."""
    model, init, t = setup(N, p, n_times)
    kw = dict(method="mcwf", initial=init, workers=None if scheduler else workers, scheduler=scheduler,
              keep_trajectories=True, progress=False)
    if store is None:
        return ps.evolve(model, t, ntraj=int(ntraj), seed=seed, **kw)
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    parts = []
    for c in range(math.ceil(ntraj / chunk)):
        f = store / f"mcwf-N{N}-{p['label']}-r{p['ratio']:g}-T{n_times}-seed{seed}-c{chunk}x{c}.npz"
        want = min(chunk, int(ntraj) - c * chunk)
        r = Result.load(f) if f.is_file() else None
        if r is None or r.model != model or not np.array_equal(r.times, t) or int(r.extras["ntraj"]) != want \
                or str(r.options.get("seed_entropy")) != str(seed):
            r = None  # another model, grid, seed or size under this name: run it again
        if r is None:
            root = np.random.SeedSequence(seed)
            root.spawn(c * chunk)  # the children before this chunk's
            r = ps.evolve(model, t, ntraj=want, seed=root, **kw)
            r.save(f)
        parts.append(r)
    return statistics.concat(parts)


def mcwf_estimate(res, p: dict, t_window: float) -> dict:
    """Cross-fit minimum (and the raw and jackknife ones) of an MCWF ensemble, with tail diagnostics."""
    t_min = None if p["kind"] == "fig3b" else t_window
    est = {k: statistics.min_estimate(res, t_min=t_min, method=k) for k in statistics.MIN_METHODS}
    cf = est["crossfit"]
    i = int(np.argmin(np.abs(res.times - cf.t)))
    tail = statistics.tail_diagnostics(res, index=i)
    return {"ntraj": cf.ntraj, "db": cf.db, "se_db": cf.se_db, "t": cf.t,
            "raw_db": est["raw"].db, "raw_se_db": est["raw"].se_db,
            "jackknife_db": est["jackknife"].db, "jackknife_se_db": est["jackknife"].se_db,
            "ntraj_for_0p1db": cf.ntraj_for_0p1db, "tail": {k: v for k, v in tail.items() if k != "top"},
            "tail_top": tail["top"], "mean_jumps": float(np.mean(res.extras["njumps"])),
            "wall_s": float(res.stats.get("wall_time", math.nan))}


def run_scale(Ns, ntraj_for, n_times: int, workers: int = 2, store=None, target_db=None, seed: int = 27,
              log=None, fig3b_only: bool = False, scheduler: str | None = None, labels=None) -> dict:
    """MCWF and cumulant orders 2 and 3 at every point for each N.

    ``ntraj_for(N)`` is the number of trajectories (the maximum with ``target_db``: then the
    ensemble grows by doubling from 64, in chunks saved in ``store``, until the cross-fit
    se <= target_db). ``labels`` restricts the run to those points. Returns {N: {label: row}} with
    the differences cumulant - MCWF and their s.e.
    """
    out = {}
    for N in Ns:
        rows = {}
        for p in points(N, outlook=not fig3b_only):
            if labels is not None and p["label"] not in labels:
                continue
            c2, c3 = cumulant_minimum(N, p, 2, n_times), cumulant_minimum(N, p, 3, n_times)
            nmax = int(ntraj_for(N))
            n = nmax if target_db is None else min(nmax, 64)
            t0 = time.perf_counter()
            while True:
                res = mcwf_point(N, p, n, seed=seed, workers=workers, store=store, n_times=n_times,
                                 scheduler=scheduler)
                e = mcwf_estimate(res, p, c2["t_window"])
                if target_db is None or e["se_db"] <= target_db or n >= nmax:
                    break
                n = min(nmax, max(2 * n, CHUNK * math.ceil(
                    1.2 * statistics.trajectories_for(e["se_db"], e["ntraj"], target_db) / CHUNK)))
            e["wall_s"] = time.perf_counter() - t0
            row = {"point": p, "mcwf": e, "order2": c2, "order3": c3}
            for o, c in (("order2", c2), ("order3", c3)):
                d = c["db"] - e["db"]
                row[f"{o}_minus_mcwf_db"] = d
                row[f"{o}_z"] = d / e["se_db"] if e["se_db"] > 0 else math.nan
                # judged only with enough trajectories for the s.e. to mean something (the quick
                # run's 4 cannot: benchmarks/results/mcwf_errors.md)
                row[f"{o}_differs"] = bool(abs(row[f"{o}_z"]) > 3) if math.isfinite(row[f"{o}_z"]) \
                    and e["ntraj"] >= MIN_NTRAJ_JUDGED else None
            rows[p["label"]] = row
            if log is not None:
                log(N, p["label"], row)
        out[N] = rows
    return out


def mcwf_numbers(ctx) -> dict:
    """The scale run of this validation run (computed on first use, then reused by the claims)."""
    key = (ctx.mode, str(Path(ctx.out).resolve()))
    if key not in _MEMO:
        if ctx.quick:
            _MEMO[key] = {"Ns": [QUICK["N"]], "target_db": None, "results": run_scale(
                [QUICK["N"]], lambda N: QUICK["ntraj"], QUICK["n_times"], scheduler=ctx.scheduler)}
        else:
            _MEMO[key] = {"Ns": list(FULL_NS), "target_db": TARGET_DB, "results": run_scale(
                FULL_NS, FULL_MAX_NTRAJ.get, N_TIMES, store=Path(ctx.out) / "mcwf_scale", target_db=TARGET_DB,
                scheduler=ctx.scheduler)}
    return _MEMO[key]


def quote(ctx, label: str) -> dict:
    """{N: "MCWF +- se dB (n traj.) | order 2 | order 3"} of one point, for the claims."""
    data = mcwf_numbers(ctx)
    out = {}
    for N, rows in data["results"].items():
        r = rows[label]
        out[N] = {"mcwf_db": r["mcwf"]["db"], "mcwf_se_db": r["mcwf"]["se_db"], "ntraj": r["mcwf"]["ntraj"],
                  "order2_db": r["order2"]["db"], "order3_db": r["order3"]["db"], "ratio": r["point"]["ratio"]}
    return out


def quote_text(q: dict) -> str:
    return "; ".join(f"N = {N}: MCWF {v['mcwf_db']:+.2f} +- {v['mcwf_se_db']:.2f} dB ({v['ntraj']} traj.), "
                     f"order 2 {v['order2_db']:+.2f}, order 3 {v['order3_db']:+.2f}" for N, v in q.items())


@check("mcwf_vs_cumulant_1e4", group=4, needs=("mcwf", "cumulant"),
       title="MCWF at the paper's scale (N = 2000, 5000, 1e4; quick: N = 2000) vs cumulant orders 2 and 3: "
             "minimum transient xi^2 at six Fig. 3(b) chi values and the 9 dB outlook point")
def mcwf_vs_cumulant_1e4(ctx):
    data = mcwf_numbers(ctx)
    res = data["results"]
    worst_se, worst_ratio, differs, lines = 0.0, 1.0, [], []
    fig, ax = new_figure(2)
    for N, rows in res.items():
        labs = [k for k in rows if rows[k]["point"]["kind"] == "fig3b"]
        chis = [rows[k]["point"]["chi"] for k in labs]
        mc = [rows[k]["mcwf"] for k in labs]
        line = ax[0].errorbar(chis, [e["db"] for e in mc], yerr=[e["se_db"] for e in mc], fmt="o", ms=3,
                              label=f"MCWF N = {N}")
        col = line[0].get_color()
        ax[0].plot(chis, [rows[k]["order2"]["db"] for k in labs], "-", color=col, lw=0.8)
        ax[0].plot(chis, [rows[k]["order3"]["db"] for k in labs], "--", color=col, lw=0.8)
        for k, r in rows.items():
            e = r["mcwf"]
            worst_se = max(worst_se, e["se_db"] if math.isfinite(e["se_db"]) else math.inf)
            bj = e["tail"]["boot_over_jack"]
            worst_ratio = max(worst_ratio, bj, 1 / bj) if math.isfinite(bj) and bj > 0 else math.inf
            for o in ("order2", "order3"):
                if r[f"{o}_differs"]:
                    differs.append(f"N={N} {k} {o} {r[f'{o}_minus_mcwf_db']:+.2f} dB ({r[f'{o}_z']:+.1f} se)")
            lines.append(f"N={N} {k}: MCWF {e['db']:+.2f}+-{e['se_db']:.2f} ({e['ntraj']}), "
                         f"o2 {r['order2']['db']:+.2f}, o3 {r['order3']['db']:+.2f}")
        o = rows["outlook"]
        ax[1].errorbar([N], [o["mcwf"]["db"]], yerr=[o["mcwf"]["se_db"]], fmt="o", color=col)
        ax[1].plot([N], [o["order2"]["db"]], "_", color=col, ms=12)
        ax[1].plot([N], [o["order3"]["db"]], "x", color=col)
    ax[0].set_xlabel(r"$\chi/\Gamma$")
    ax[0].set_ylabel(r"min transient $\xi^2$ (dB)")
    ax[0].set_title(r"Fig. 3(b) points; solid: order 2, dashed: order 3", fontsize=8)
    ax[0].legend(fontsize=6)
    ax[1].set_xscale("log")
    ax[1].set_xlabel("N")
    ax[1].set_title(r"outlook ($\gamma_s = 200$); bar: order 2, x: order 3", fontsize=8)
    plot = save_plot(fig, ctx, "mcwf_vs_cumulant_1e4")
    if ctx.quick:
        # 4 trajectories: the error bars are wide and their own error large; what is checked is the
        # code path (every estimate and s.e. finite); the bootstrap/jackknife ratio is reported
        ok, tol, value = math.isfinite(worst_se) and math.isfinite(worst_ratio), None, worst_se
        quantity = (f"largest MCWF s.e. on the minimum (dB; smoke run, {QUICK['ntraj']} trajectories; "
                    f"bootstrap/jackknife up to {worst_ratio:.2f}x)")
    else:
        ok, tol, value = worst_se <= TARGET_DB and worst_ratio <= 1.25, TARGET_DB, worst_se
        quantity = "largest MCWF s.e. on the minimum transient xi^2 (dB)"
    return CheckResult(
        "mcwf_vs_cumulant_1e4", status="PASSED" if ok else "FAILED", tolerance=tol, value=value, quantity=quantity,
        why="MCWF is the unbiased method at this scale; its minimum over the window is the cross-fit estimate "
            "(time chosen on one half of the trajectories, value read on the other: no min-of-noisy-curve bias; "
            "coverage tested in tests/test_mcwf_statistics.py and benchmarks/results/mcwf_errors.md). Full run: "
            f"passes when every point reaches se <= {TARGET_DB} dB (trajectories doubled until it does, up to "
            f"{FULL_MAX_NTRAJ}) and the bootstrap and jackknife s.e. agree within 25 % (a heavier tail than the "
            "jackknife sees would part them). Quick run: N = 2000, 4 trajectories per point, a smoke run "
            "of the same code: passes when every estimate and s.e. is finite. A cumulant order off MCWF by more than "
            "3 s.e. is listed as DIFFERS (with >= 64 trajectories; the s.e. of fewer mean little): a finding about the "
            "truncation, not a failure.",
        numbers={"Ns": data["Ns"], "target_db": data["target_db"], "results": res, "differs": differs},
        plots=[plot],
        message="; ".join(lines) + (f". DIFFERS (> 3 s.e.): {', '.join(differs)}" if differs else ""))
