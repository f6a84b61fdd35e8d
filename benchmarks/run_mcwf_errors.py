"""Do MCWF's error bars hold at N = 2000?  Coverage of K independent ensembles, the tail of the
per-trajectory distribution, and the minimum-transient estimates (raw, jackknife, cross-fit).

One long run of K * n trajectories (trajectory i from SeedSequence(seed).spawn(K n)[i], so the K
consecutive groups of n are independent ensembles) per point, kept in chunks of 32 under
``.cache/mcwf_errors`` (scale.mcwf_point: a rerun reuses them). For every group k: xi^2(t) with its jackknife
s.e., and the three minimum estimates with theirs. Coverage: the spread of the K estimates
(std over k) against the mean reported s.e. (ratio ~1 if the s.e. hold; with K = 8 the ratio's own
spread is ~1/sqrt(2 (K - 1)) = 27 %), and the fraction of |estimate_k - pooled| <= 2 se_k over times.
The pooled ensemble (all K n trajectories) stands in for the truth (its noise is sqrt(K) smaller).

    nice -n 19 python benchmarks/run_mcwf_errors.py [--K 8] [--n 64] [--workers 2] [--points fig3b,gs20]

Writes benchmarks/results/mcwf_errors.md and .json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import piqs_squeeze as ps  # noqa: E402
from piqs_squeeze.methods.mcwf import statistics  # noqa: E402
from piqs_squeeze.result import Result, jsonable  # noqa: E402

POINTS = {
    # Fig. 3(b) at chi = 1: the scale check's point (t in [0, 2/gamma_s], 81 times)
    "fig3b": {"label": "chi=1", "ratio": 0.9, "chi": 1.0, "gamma_s": 50.0, "kind": "fig3b"},
    # the heavy-tail point, near the loss of squeezing (CSS along -x, t in [0, 0.1])
    "gs20": {"label": "gs20", "ratio": 0.85, "chi": 1.0, "gamma_s": 20.0, "kind": "css"},
}


def _sub(res, idx):
    """A Result of the trajectories ``idx`` (their records only; enough for the statistics)."""
    ex = res.extras
    off = np.asarray(ex["jump_offsets"])
    jt = np.concatenate([ex["jump_times"][off[i]:off[i + 1]] for i in idx])
    extras = {"ntraj": len(idx), "traj_mean": ex["traj_mean"][idx], "traj_second": ex["traj_second"][idx],
              "traj_j": ex["traj_j"][idx], "njumps": ex["njumps"][idx],
              "jump_offsets": np.concatenate([[0], np.cumsum(ex["njumps"][idx])]), "jump_times": jt}
    m = extras["traj_mean"].mean(0)
    s = extras["traj_second"].mean(0)
    return Result(res.times, m, s, res.model, "mcwf", extras=extras)


def run_point(name, p, N, K, n, workers, seed):
    from piqs_squeeze.validation.checks import scale

    model, init, t = scale.setup(N, p)
    p = dict(p, t_end=float(t[-1]))
    store = ROOT / ".cache" / "mcwf_errors"
    load0, t0 = os.getloadavg(), time.perf_counter()
    res = scale.mcwf_point(N, p, K * n, seed=seed, workers=workers, store=store)
    wall = time.perf_counter() - t0
    cum = ps.evolve(model, t, method="cumulant", initial=init)
    groups = [_sub(res, np.arange(k * n, (k + 1) * n)) for k in range(K)]
    pooled = _sub(res, np.arange(K * n))
    N_ = model.N
    # pointwise xi^2 coverage over the times after t = 0
    x_all, se_all, _ = statistics.jackknife_xi2(pooled.extras["traj_mean"], pooled.extras["traj_second"], N_)
    xk = np.array([statistics.jackknife_xi2(g.extras["traj_mean"], g.extras["traj_second"], N_)[:2] for g in groups])
    est, sek = xk[:, 0, 1:], xk[:, 1, 1:]
    spread = est.std(0, ddof=1)
    ratio_t = spread / sek.mean(0)
    z = (est - x_all[1:]) / np.sqrt(sek ** 2 + se_all[1:] ** 2 * 0)  # pooled noise ignored (sqrt(K) smaller)
    # the same in dB
    db_k = 10 * np.log10(est)
    sedb_k = statistics.db_error(est, sek)
    ratio_db_t = db_k.std(0, ddof=1) / sedb_k.mean(0)
    # minimum estimates
    t_min = None
    mins = {}
    for meth in statistics.MIN_METHODS:
        ek = [statistics.min_estimate(g, t_min=t_min, method=meth) for g in groups]
        ep = statistics.min_estimate(pooled, t_min=t_min, method=meth)
        v = np.array([e.db for e in ek])
        s = np.array([e.se_db for e in ek])
        mins[meth] = {"per_ensemble_db": v, "per_ensemble_se_db": s, "mean_db": float(v.mean()),
                      "spread_db": float(v.std(ddof=1)), "mean_se_db": float(s.mean()),
                      "spread_over_se": float(v.std(ddof=1) / s.mean()),
                      "pooled_db": ep.db, "pooled_se_db": ep.se_db,
                      "bias_vs_pooled_db": float(v.mean() - ep.db),
                      "bias_se_db": float(v.std(ddof=1) / math.sqrt(K)),
                      "within_2se": float(np.mean(np.abs(v - ep.db) <= 2 * s))}
    tails = [statistics.tail_diagnostics(g) for g in groups]
    tail_pooled = statistics.tail_diagnostics(pooled)
    imin = tail_pooled["index"]
    # tail over time: ess fraction and kurtosis of the pooled ensemble at every output time
    over_t = []
    for i in range(1, t.size, 4):
        d = statistics.tail_diagnostics(pooled, index=i, n_boot=100)
        over_t.append({k: d[k] for k in ("t", "xi2", "se_jackknife", "se_bootstrap", "ess_fraction", "top_share",
                                         "kurtosis", "corr_abs_d_j", "corr_abs_d_recent_jumps")})
    cf = mins["crossfit"]
    return {
        "N": N, "point": p, "K": K, "n": n, "seed": seed, "workers": workers, "wall_s": wall,
        "s_per_traj_core": wall * workers / (K * n) if wall > 1 else None,  # None: all chunks reused
        "loadavg_before": load0,
        "loadavg_after": os.getloadavg(), "mean_jumps": float(np.mean(res.extras["njumps"])),
        "times": t, "cumulant_xi2_db": cum.xi2_db, "pooled_xi2_db": 10 * np.log10(x_all),
        "pooled_se_db": statistics.db_error(x_all, se_all),
        "xi2_spread_over_se_median": float(np.nanmedian(ratio_t)), "xi2_spread_over_se_range": [
            float(np.nanmin(ratio_t)), float(np.nanmax(ratio_t))],
        "xi2db_spread_over_se_median": float(np.nanmedian(ratio_db_t)),
        "xi2_fraction_within_2se": float(np.nanmean(np.abs(z) <= 2)),
        "xi2_spread_over_se_at_min": float(ratio_t[imin - 1]), "t_min_pooled": float(t[imin]),
        "minimum": mins, "tail_per_ensemble": [{k: v for k, v in d.items() if k != "top"} for d in tails],
        "tail_pooled": tail_pooled, "tail_over_time": over_t,
        "ntraj_for_0p1db_crossfit": statistics.trajectories_for(cf["mean_se_db"], n, 0.1),
        "ntraj_for_0p1db_from_spread": statistics.trajectories_for(cf["spread_db"], n, 0.1),
    }


def write(results, path_md, path_json):
    path_json.write_text(json.dumps(jsonable(results), indent=1))
    L = ["# MCWF error bars at N = 2000: coverage, tail, minimum estimates",
         "",
         "Written by `benchmarks/run_mcwf_errors.py` (statistics: `piqs_squeeze/methods/mcwf/statistics.py`). "
         "K independent ensembles of n trajectories each (consecutive groups of one seeded run); the pooled "
         "K n trajectories stand in for the truth. `spread/se` = std over the K ensembles' estimates / their "
         "mean reported s.e.: ~1 when the error bars hold (its own scatter for K = 8 is ~27 %).",
         ""]
    for name, r in results.items():
        p = r["point"]
        L += [f"## {name}: N = {r['N']}, Upsilon/Upsilon_c = {p['ratio']}, chi = {p['chi']}, gamma_s = {p['gamma_s']}, "
              f"t in [0, {p['t_end']}] ({'CSS along the gamma_s = 0 mean-field steady state' if p['kind'] == 'fig3b' else 'CSS along -x'})",
              "",
              f"K = {r['K']} ensembles x n = {r['n']} trajectories; {r['workers']} workers, nice 19, wall {r['wall_s']:.0f} s "
              f"(load {r['loadavg_before'][0]:.1f} -> {r['loadavg_after'][0]:.1f}; reused chunks show ~0 s); "
              f"{r['mean_jumps']:.0f} jumps per trajectory.",
              "",
              "Pointwise xi^2(t) (80 times after t = 0): spread/se median "
              f"{r['xi2_spread_over_se_median']:.2f} (range {r['xi2_spread_over_se_range'][0]:.2f}-"
              f"{r['xi2_spread_over_se_range'][1]:.2f}), in dB {r['xi2db_spread_over_se_median']:.2f}; "
              f"{100 * r['xi2_fraction_within_2se']:.0f} % of the ensembles' values within 2 s.e. of the pooled one "
              f"(95 % expected); at the pooled minimum (t = {r['t_min_pooled']:.4g}) spread/se = "
              f"{r['xi2_spread_over_se_at_min']:.2f}.",
              "",
              "| minimum estimate | mean over K (dB) | spread (dB) | mean s.e. (dB) | spread/se | pooled (dB) | "
              "bias vs pooled (dB) | within 2 s.e. of pooled |",
              "|---|---|---|---|---|---|---|---|"]
        for meth, m in r["minimum"].items():
            L.append(f"| {meth} | {m['mean_db']:+.3f} | {m['spread_db']:.3f} | {m['mean_se_db']:.3f} | "
                     f"{m['spread_over_se']:.2f} | {m['pooled_db']:+.3f} +- {m['pooled_se_db']:.3f} | "
                     f"{m['bias_vs_pooled_db']:+.3f} +- {m['bias_se_db']:.3f} | {100 * m['within_2se']:.0f} % |")
        tp = r["tail_pooled"]
        L += ["",
              f"Tail at the pooled minimum (t = {tp['t']:.4g}, {tp['ntraj']} trajectories): effective sample size "
              f"{tp['ess']:.0f} ({100 * tp['ess_fraction']:.0f} % of n), largest 1 % of trajectories make "
              f"{100 * tp['top_share']:.0f} % of the variance, excess kurtosis {tp['kurtosis']:.1f}, bootstrap/jackknife "
              f"s.e. {tp['boot_over_jack']:.2f}; Spearman(|influence|, j(t)) = {tp['corr_abs_d_j']:+.2f}, "
              f"(|influence|, jumps in the last output interval) = {tp['corr_abs_d_recent_jumps']:+.2f}; "
              f"<j(t)> = {tp['j_mean']:.0f}.",
              "",
              "Largest contributions: " + "; ".join(
                  f"#{d['trajectory']} share {d['share']:+.2f}, j = {d['j']:g}, {d['njumps']} jumps, last at "
                  f"{d['last_jump_before_t']:.4g}" for d in tp["top"]),
              "",
              "| t | xi^2 | s.e. jackknife | s.e. bootstrap | ess / n | top 1 % share | excess kurtosis | "
              "corr(|d|, j) | corr(|d|, recent jumps) |",
              "|---|---|---|---|---|---|---|---|---|"]
        for d in r["tail_over_time"]:
            L.append(f"| {d['t']:.4g} | {d['xi2']:.4f} | {d['se_jackknife']:.4f} | {d['se_bootstrap']:.4f} | "
                     f"{d['ess_fraction']:.2f} | {d['top_share']:.2f} | {d['kurtosis']:.1f} | "
                     f"{d['corr_abs_d_j']:+.2f} | {d['corr_abs_d_recent_jumps']:+.2f} |")
        L += ["",
              f"Trajectories for a 0.1 dB error on the cross-fit minimum: {r['ntraj_for_0p1db_crossfit']} (from the "
              f"reported s.e.), {r['ntraj_for_0p1db_from_spread']} (from the observed spread).",
              ""]
    path_md.write_text("\n".join(L) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=2000)
    ap.add_argument("--K", type=int, default=8)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--points", default="fig3b,gs20")
    ap.add_argument("--out", default=str(HERE / "results" / "mcwf_errors"))
    a = ap.parse_args(argv)
    results = {}
    out = Path(a.out)
    for name in a.points.split(","):
        results[name] = run_point(name, POINTS[name], a.N, a.K, a.n, a.workers, a.seed)
        write(results, out.with_suffix(".md"), out.with_suffix(".json"))
        print(name, "done", flush=True)


if __name__ == "__main__":
    main()
