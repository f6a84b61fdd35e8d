"""Benchmark: Fig. 3(a)-sized cumulant map (N = 1e4, chi = 1, 60 ratios x 40 gamma_s in [1, 100],
each to t = 5 / gamma_s) with the batched numba integrator, against a per-point
``scipy.integrate.solve_ivp`` loop measured on a stratified subset in the same process.

Also records the integrator comparison on one point, the accuracy of the map tolerance, and the
minimum transient squeezing at gamma_s = 200 (the paper's ~9 dB claim) and Fig. 3(b)-style chi.

    OMP_NUM_THREADS=1 python benchmarks/bench_cumulant.py [--quick]

``--order3`` instead measures the third-order closure (``order=3``) against order 2 on the same
map, back to back in one process (results in ``results/cumulant_order3.{json,md}``): map wall
time of each order, the per-point cost ratio order 3 / order 2 on the points where order 3 runs
to t_end (equal work) and per step, and how many points the order-3 equations leave the
physical set (``on_failure="nan"``).  Every timing is recorded with ``os.getloadavg()``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

import piqs_squeeze as ps  # noqa: E402
from piqs_squeeze import analysis  # noqa: E402
from piqs_squeeze.methods.moments import cumulant, meanfield, integrator as moment_ode

OUT = Path(__file__).resolve().parent / "results"
N, CHI = 10_000, 1.0
RTOL, ATOL = 1e-6, 1e-8


def grid_times(t_end, n=400):
    """Output grid resolving the early collective dip (~1/N) and the 1/gamma_s transient."""
    return np.concatenate([[0.0], np.geomspace(1e-6, t_end, n)])


def build_map(n_ratio, n_gs):
    ratios = np.linspace(0.4, 1.2, n_ratio)
    gss = np.geomspace(1.0, 100.0, n_gs)
    models, times, where = [], [], []
    for j, g in enumerate(gss):
        for i, r in enumerate(ratios):
            models.append(ps.Model.from_upsilon_ratio(N, r, chi=CHI, gamma_s=g))
            times.append(grid_times(5.0 / g))
            where.append((i, j))
    return ratios, gss, models, times, where


def integrator_choice(model, t_end):
    """Right-hand-side evaluations and wall time of scipy's integrators on one point."""
    K = moment_ode.coefficient_matrices([model], "cumulant")[0]
    y0 = moment_ode.css_variables(ps.css(), "cumulant")
    out = {}
    for scheme in ("RK45", "DOP853", "LSODA", "BDF"):
        t0 = time.perf_counter()
        sol = solve_ivp(lambda t, y: K @ moment_ode.closure(y, "cumulant"), (0, t_end), y0, method=scheme,
                        rtol=RTOL, atol=ATOL)
        out[scheme] = {"nfev": int(sol.nfev), "seconds": time.perf_counter() - t0, "status": int(sol.status)}
    t0 = time.perf_counter()
    r = cumulant.evolve(model, [0.0, t_end], rtol=RTOL, atol=ATOL)
    out["numba DP5 (ours)"] = {"nfev": r.stats["rhs_evaluations"], "seconds": time.perf_counter() - t0}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="12 x 8 map and 4 loop points (smoke run)")
    args = ap.parse_args(argv)
    n_ratio, n_gs, n_sub = (12, 8, 4) if args.quick else (60, 40, 8)
    res = {"N": N, "chi": CHI, "rtol": RTOL, "atol": ATOL, "machine": platform.processor() or platform.machine(),
           "cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(), "note": (
               "2-core machine shared with other engineers running tests/benchmarks: timings are noisy.")}
    # warm-up: compile (or load the cached) kernel outside the timings
    cumulant.evolve(ps.Model(4, omega=1.0), [0.0, 0.1])

    ratios, gss, models, times, where = build_map(n_ratio, n_gs)
    t0 = time.perf_counter()
    results = cumulant.evolve_many(models, times, rtol=RTOL, atol=ATOL)
    t_map = time.perf_counter() - t0
    steps = np.array([r.stats["steps"] for r in results])
    xmap = np.full((n_ratio, n_gs), np.nan)
    for (i, j), r in zip(where, results):
        xmap[i, j] = analysis.min_transient_xi2(r)[0]
    res["map"] = {"n_points": len(models), "ratios": [ratios[0], ratios[-1], n_ratio],
                  "gamma_s": [gss[0], gss[-1], n_gs], "seconds": t_map, "total_steps": int(steps.sum()),
                  "max_steps": int(steps.max()), "min_transient_xi2_db": (10 * np.log10(xmap)).tolist()}

    # per-point solve_ivp loop on a stratified subset: one random ratio in each of n_sub gamma_s rows
    rng = np.random.default_rng(0)
    rows = np.linspace(0, n_gs - 1, n_sub).round().astype(int)
    sub = [j * n_ratio + int(rng.integers(n_ratio)) for j in rows]
    sm, st = [models[k] for k in sub], [times[k] for k in sub]
    t0 = time.perf_counter()
    loop = cumulant.evolve_many(sm, st, rtol=RTOL, atol=ATOL, scheme="DOP853")
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = cumulant.evolve_many(sm, st, rtol=RTOL, atol=ATOL)
    t_ours_sub = time.perf_counter() - t0
    # extrapolation: the subset samples each gamma_s stratum equally, like the map
    t_loop_map = t_loop / len(sub) * len(models)
    res["loop"] = {"subset": len(sub), "seconds_subset": t_loop, "ours_seconds_subset": t_ours_sub,
                   "extrapolated_seconds_map": t_loop_map, "speedup_map_vs_loop": t_loop_map / t_map,
                   "speedup_same_subset": t_loop / t_ours_sub}

    # accuracy of the map tolerance: the subset again at rtol = 1e-10 (the loop above is the
    # independent-integrator check at equal tolerance)
    ref = cumulant.evolve_many(sm, st, rtol=1e-10, atol=1e-12)
    dev = [abs(10 * np.log10(analysis.min_transient_xi2(a)[0] / analysis.min_transient_xi2(b)[0]))
           for a, b in zip(ours, ref)]
    dmax = [float(np.max(np.abs(a.xi2 - b.xi2) / b.xi2)) for a, b in zip(ours, ref)]
    res["accuracy"] = {"max_abs_db_min_transient": float(max(dev)), "max_rel_xi2_any_time": float(max(dmax)),
                       "loop_vs_ours_max_rel_xi2": float(max(np.max(np.abs(a.xi2 - b.xi2) / b.xi2)
                                                             for a, b in zip(ours, loop)))}

    # integrator choice on one point (gamma_s = 20, ratio 0.95, t = 0.25)
    res["integrators"] = integrator_choice(ps.Model.from_upsilon_ratio(N, 0.95, chi=CHI, gamma_s=20.0), 0.25)

    # paper claims: gamma_s = 200, ratio 0.9-0.99; Fig. 3(b): ratio 0.9, gamma_s = 50, CSS along MF steady state
    claim = [ps.Model.from_upsilon_ratio(N, r, chi=CHI, gamma_s=200.0) for r in (0.9, 0.93, 0.95, 0.97, 0.99)]
    cr = cumulant.evolve_many(claim, grid_times(5 / 200.0, 2000), rtol=1e-8, atol=1e-10)
    res["gamma_s_200"] = [{"ratio": m.ratio, "min_transient_xi2_db": 10 * np.log10(analysis.min_transient_xi2(r)[0]),
                           "min_xi2_db": 10 * np.log10(analysis.min_xi2(r)[0])} for m, r in zip(claim, cr)]
    chis = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    f3b = [ps.Model.from_upsilon_ratio(N, 0.9, chi=c, gamma_s=50.0) for c in chis]
    fr = cumulant.evolve_many(f3b, grid_times(5 / 50.0, 2000), [meanfield.css_collective_steady_state(m) for m in f3b],
                              rtol=1e-8, atol=1e-10)
    res["fig3b"] = [{"chi": c, "min_transient_xi2_db": 10 * np.log10(analysis.min_transient_xi2(r)[0])}
                    for c, r in zip(chis, fr)]
    write(res, args.quick)


def write(res, quick):
    OUT.mkdir(parents=True, exist_ok=True)
    name = "cumulant_quick" if quick else "cumulant"
    (OUT / f"{name}.json").write_text(json.dumps(res, indent=1))
    m, lp, acc = res["map"], res["loop"], res["accuracy"]
    lines = [
        f"# Cumulant map benchmark (N = {res['N']}, chi = {res['chi']}, rtol = {res['rtol']}, atol = {res['atol']})",
        "",
        f"{res['note']} numba threads: {res['numba_threads']}.",
        "",
        "| what | value |", "|---|---|",
        f"| map points (ratio x gamma_s) | {m['n_points']} ({m['ratios'][2]} x {m['gamma_s'][2]}), t_end = 5/gamma_s |",
        f"| batched numba DP5, whole map | {m['seconds']:.1f} s ({m['total_steps']:.3g} steps, max {m['max_steps']} per point) |",
        f"| solve_ivp DOP853 loop, {lp['subset']}-point stratified subset | {lp['seconds_subset']:.1f} s (ours on the same points: {lp['ours_seconds_subset']:.2f} s) |",
        f"| loop extrapolated to the map | {lp['extrapolated_seconds_map']:.0f} s |",
        f"| speed-up, map vs extrapolated loop | {lp['speedup_map_vs_loop']:.0f}x |",
        f"| speed-up on the same subset | {lp['speedup_same_subset']:.0f}x |",
        f"| accuracy: max abs dev. of min transient xi2 vs rtol=1e-10 | {acc['max_abs_db_min_transient']:.2e} dB |",
        f"| accuracy: max rel. dev. of xi2(t), any output time | {acc['max_rel_xi2_any_time']:.2e} |",
        "",
        "## Integrator choice (one point: ratio 0.95, gamma_s = 20, t = 0.25)",
        "", "| integrator | rhs evaluations | seconds |", "|---|---|---|",
    ]
    lines += [f"| {k} | {v['nfev']} | {v['seconds']:.2f} |" for k, v in res["integrators"].items()]
    lines += ["", "## Minimum transient xi2, gamma_s = 200 (paper: ~9 dB)", "", "| ratio | min transient [dB] | min [dB] |",
              "|---|---|---|"]
    lines += [f"| {d['ratio']:.2f} | {d['min_transient_xi2_db']:.2f} | {d['min_xi2_db']:.2f} |" for d in res["gamma_s_200"]]
    lines += ["", "## Fig. 3(b)-style: ratio 0.9, gamma_s = 50, CSS along the collective MF steady state", "",
              "| chi | min transient [dB] |", "|---|---|"]
    lines += [f"| {d['chi']} | {d['min_transient_xi2_db']:.2f} |" for d in res["fig3b"]]
    (OUT / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _timed(fn):
    load = os.getloadavg()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, {"loadavg_before": list(load), "loadavg_after": list(os.getloadavg())}


def main_order3(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--order3", action="store_true")
    ap.add_argument("--quick", action="store_true", help="12 x 8 map (smoke run)")
    args = ap.parse_args(argv)
    n_ratio, n_gs = (12, 8) if args.quick else (60, 40)
    import numba

    res = {"N": N, "chi": CHI, "rtol": RTOL, "atol": ATOL, "cpus": os.cpu_count(),
           "numba_threads": numba.get_num_threads(), "note": (
               "2-core machine shared with two other engineers: timings are noisy; load averages "
               "are recorded next to each timing.")}
    for order in (2, 3):  # compile / load the cached kernels outside the timings
        cumulant.evolve(ps.Model(4, omega=1.0), [0.0, 0.1], order=order)
    ratios, gss, models, times, where = build_map(n_ratio, n_gs)
    runs = {}
    for order in (2, 3):
        out, sec, load = _timed(lambda: cumulant.evolve_many(models, times, rtol=RTOL, atol=ATOL, order=order,
                                                            on_failure="nan"))
        steps = np.array([r.stats["steps"] for r in out])
        failed = np.array(["failure" in r.extras for r in out])
        xmap = np.array([analysis.min_transient_xi2(r)[0] for r in out])
        t_at = np.array([analysis.min_transient_xi2(r)[1] for r in out])
        t_reach = np.array([r.extras.get("t_reached", t[-1]) for r, t in zip(out, times)])
        runs[order] = out
        res[f"map_order{order}"] = {"n_points": len(models), "seconds": sec, **load, "total_steps": int(steps.sum()),
                                    "points_unphysical_or_failed": int(failed.sum()),
                                    "min_transient_xi2_db": (10 * np.log10(xmap)).tolist(),
                                    "t_min_transient": t_at.tolist(), "t_reached": t_reach.tolist()}
    m2, m3 = res["map_order2"], res["map_order3"]
    ok3 = ~np.array(["failure" in r.extras for r in runs[3]])
    x2, x3 = np.array(m2["min_transient_xi2_db"]), np.array(m3["min_transient_xi2_db"])
    # order-3 minimum is meaningful where it lies clearly before the order-3 run left the physical set
    trusted = ok3 | (np.array(m3["t_min_transient"]) < 0.8 * np.array(m3["t_reached"]))
    d = np.abs(x3 - x2)[trusted]
    res["truncation_map"] = {"points_order3_full_window": int(ok3.sum()), "points_order3_min_trusted": int(trusted.sum()),
                             "max_abs_diff_db_trusted": float(np.nanmax(d)), "median_abs_diff_db_trusted": float(np.nanmedian(d)),
                             "ratios": ratios.tolist(), "gamma_s": gss.tolist()}
    # equal work: the points where order 3 runs to t_end, timed again at both orders
    sub = [k for k in np.flatnonzero(ok3)]
    sm, st = [models[k] for k in sub], [times[k] for k in sub]
    eq = {}
    for order in (2, 3, 2, 3):
        out, sec, load = _timed(lambda: cumulant.evolve_many(sm, st, rtol=RTOL, atol=ATOL, order=order))
        steps = int(sum(r.stats["steps"] for r in out))
        best = eq.get(order)
        if best is None or sec < best["seconds"]:
            eq[order] = {"seconds": sec, "steps": steps, **load}
    res["equal_work"] = {"n_points": len(sub), "order2": eq[2], "order3": eq[3],
                         "per_point_cost_ratio": eq[3]["seconds"] / eq[2]["seconds"],
                         "per_step_cost_ratio": (eq[3]["seconds"] / eq[3]["steps"]) / (eq[2]["seconds"] / eq[2]["steps"]),
                         "steps_ratio": eq[3]["steps"] / eq[2]["steps"]}
    res["map_cost_ratio"] = m3["seconds"] / m2["seconds"]
    name = "cumulant_order3_quick" if args.quick else "cumulant_order3"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(res, indent=1))
    e = res["equal_work"]
    tm = res["truncation_map"]
    lines = [f"# Third- vs second-order cumulant map (N = {N}, chi = {CHI}, rtol = {RTOL}, atol = {ATOL})", "",
             f"{res['note']} numba threads: {res['numba_threads']}.", "",
             "| what | value | load avg (1, 5, 15 min) before |", "|---|---|---|",
             f"| map, order 2 ({m2['n_points']} points, t_end = 5/gamma_s) | {m2['seconds']:.1f} s, {m2['total_steps']:.3g} steps | {', '.join(f'{x:.2f}' for x in m2['loadavg_before'])} |",
             f"| map, order 3 (same points, on_failure='nan') | {m3['seconds']:.1f} s, {m3['total_steps']:.3g} steps | {', '.join(f'{x:.2f}' for x in m3['loadavg_before'])} |",
             f"| map time ratio order 3 / order 2 | {res['map_cost_ratio']:.2f} (order-3 runs stop where they leave the physical set) | |",
             f"| equal work: {e['n_points']} points order 3 runs to t_end, order 2 | {e['order2']['seconds']:.2f} s, {e['order2']['steps']:.3g} steps | {', '.join(f'{x:.2f}' for x in e['order2']['loadavg_before'])} |",
             f"| equal work, order 3 | {e['order3']['seconds']:.2f} s, {e['order3']['steps']:.3g} steps | {', '.join(f'{x:.2f}' for x in e['order3']['loadavg_before'])} |",
             f"| **per-point cost ratio order 3 / order 2 (equal work)** | **{e['per_point_cost_ratio']:.2f}** | |",
             f"| per-step cost ratio / steps ratio | {e['per_step_cost_ratio']:.2f} / {e['steps_ratio']:.2f} | |",
             f"| map points where order 3 leaves the physical set before t_end | {m3['points_unphysical_or_failed']} of {m3['n_points']} (order 2: {m2['points_unphysical_or_failed']}) | |",
             f"| points whose order-3 minimum is trusted (no failure, or t_min < 0.8 t_fail) | {tm['points_order3_min_trusted']} | |",
             f"| there: max / median abs(order 3 - order 2) of min transient xi2 | {tm['max_abs_diff_db_trusted']:.2f} / {tm['median_abs_diff_db_trusted']:.3f} dB | |"]
    (OUT / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    import sys

    if "--order3" in sys.argv[1:]:
        main_order3()
    else:
        main()
