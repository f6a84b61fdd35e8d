"""MCWF benchmarks: vs qutip.mcsolve (2^N space), jump counts per unravelling, rational vs Krylov
propagation, cost vs N, the Fig. S2 run (500 trajectories at N = 2000).

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_mcwf.py [section ...]
Sections: mcsolve, jumps, propagators, cost, s2 (default: all; s2 takes ~5 min on 2 cores). Each section updates
benchmarks/results/mcwf.json; mcwf.md is rewritten from it. Timings are wall-clock; run them on an
idle machine (a loaded one gave 2-4x slower, +-30% noisy numbers); ratios are taken within one process.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from piqs_squeeze import Model  # noqa: E402
from piqs_squeeze.methods.mcwf import ensemble as mcwf
from piqs_squeeze.methods.mcwf.sector import clear_cache, run_trajectory  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
NOTE = "2-core machine, idle (load < 1) while this session's sections ran; ratios are within one process"


def s2_model(N):
    """The paper's Fig. S2 point scaled to N atoms: Omega = N (Upsilon = 2), chi = 1, gamma_s = 2."""
    return Model(N=N, omega=float(N), chi=1.0, gamma=1.0, gamma_s=2.0)


def _warm():
    m = s2_model(6)
    run_trajectory(m, [0.0, 0.1], 3.0, mcwf.initial_state(6, None)[1], None, np.random.default_rng(0))


def vs_mcsolve(N=10, ntraj=100):
    import qutip
    from piqs_squeeze.validation import bruteforce

    model = s2_model(N)
    times = np.linspace(0.0, 1.0, 11)
    _warm()
    t = time.perf_counter()
    ours = mcwf.evolve(model, times, ntraj=ntraj, seed=1, workers=1, progress=False)
    t_ours = time.perf_counter() - t
    H, c_ops = bruteforce.hamiltonian_and_collapse(model)
    psi0 = bruteforce.product_state(N)
    jx, jy, jz, _ = bruteforce.collective_operators(N)
    t = time.perf_counter()
    ref = qutip.mcsolve(H, psi0, times, c_ops, e_ops=[jx, jy, jz], ntraj=ntraj,
                        options={"progress_bar": False, "map": "serial"}, seeds=1)
    t_qutip = time.perf_counter() - t
    qmean = np.array([ref.expect[0], ref.expect[1], ref.expect[2]]).T.real
    # both are estimates of the same ensemble: difference in units of the combined standard error
    z = np.abs(qmean[1:] - ours.mean[1:]) / (np.sqrt(2) * ours.mean_err[1:])
    return {"N": N, "ntraj": ntraj, "t_mcwf_s": t_ours, "t_mcsolve_s": t_qutip,
            "speedup": t_qutip / t_ours, "max_z_mean_vs_mcsolve": float(z.max()),
            "mean_jumps_per_traj": float(ours.extras["njumps"].mean())}


def _traj_stats(model, times, ntraj, displacement="adaptive", seed=0):
    clear_cache()
    t = time.perf_counter()
    r = mcwf.evolve(model, times, ntraj=ntraj, seed=seed, workers=1, progress=False,
                    keep_trajectories=True, displacement=displacement)
    dt = time.perf_counter() - t
    k = r.extras["jump_kinds"]
    return {"N": model.N, "displacement": displacement, "ntraj": ntraj, "s_per_traj": dt / ntraj,
            "jumps_per_traj": float(r.extras["njumps"].mean()),
            "collective_jumps_per_traj": float((k == 0).sum() / ntraj),
            "local_jumps_per_traj": float((k > 0).sum() / ntraj),
            "mean_j_at_t1": float(r.extras["traj_j"][:, -1].mean())}


def jumps(Ns=(50, 100, 200), ntraj=8):
    """Jumps per trajectory for each unravelling (same propagator, so the times compare the jump counts)."""
    _warm()
    rows = []
    for N in Ns:
        for disp in ("adaptive", "fixed_point", "none"):
            rows.append(_traj_stats(s2_model(N), np.linspace(0.0, 1.0, 21), ntraj, disp))
            print(rows[-1], flush=True)
    return rows


def _cost_row(N, n, propagator="rational"):
    model = s2_model(N)
    j0, psi0 = mcwf.initial_state(N, None)
    recs, t = [], time.perf_counter()
    for i in range(n):
        recs.append(run_trajectory(model, np.linspace(0.0, 1.0, 21), j0, psi0, None, np.random.default_rng(i),
                                   scheme=propagator))
    dt = (time.perf_counter() - t) / n
    steps = np.mean([r["steps"] for r in recs])
    return {"N": N, "ntraj": n, "propagator": propagator, "s_per_traj": dt, "traj_per_s": 1 / dt,
            "jumps_per_traj": float(np.mean([len(r["jump_times"]) for r in recs])),
            "steps_per_traj": float(steps), "mean_window": float(np.mean([r["mean_window"] for r in recs])),
            "rejected_per_traj": float(np.mean([r["rejected_steps"] for r in recs])),
            "pade_evaluations_per_traj": float(np.mean([r["pade_evaluations"] for r in recs])),
            "ms_per_step": 1e3 * dt / steps}


def propagators(Ns=(500, 1000, 2000), ntraj=(4, 3, 2)):
    """Rational vs Krylov no-jump propagation, same trajectories' seeds, same process."""
    _warm()
    rows = []
    for N, n in zip(Ns, ntraj):
        for prop in ("krylov", "rational"):
            run_trajectory(s2_model(N), [0.0, 1e-4], N / 2, mcwf.initial_state(N, None)[1], None,
                           np.random.default_rng(0), scheme=prop)  # compile
            rows.append(_cost_row(N, n, prop))
            print(rows[-1], flush=True)
    return rows


def cost(Ns=(100, 200, 500, 1000, 2000, 5000, 10000), ntraj=(16, 16, 8, 8, 4, 2, 1)):
    """Steps, window and time per trajectory vs N (default unravelling and propagator), single process."""
    _warm()
    rows = []
    for N, n in zip(Ns, ntraj):
        rows.append(_cost_row(N, n))
        print(rows[-1], flush=True)
    return rows


def fig_s2(ntraj=500, workers=2):
    """The paper's Fig. S2 run (N = 2000, t in [0, 1]) with `ntraj` real trajectories on `workers` cores."""
    model = s2_model(2000)
    times = np.linspace(0.0, 1.0, 101)
    t = time.perf_counter()
    r = mcwf.evolve(model, times, ntraj=ntraj, seed=2022, workers=workers, chunk=1, progress=True,
                    keep_trajectories=True)
    wall = time.perf_counter() - t
    k = r.extras["jump_kinds"]
    return {"N": 2000, "ntraj": ntraj, "workers": workers, "wall_s": wall,
            "core_s_per_traj": wall * workers / ntraj,
            "extrapolated_500_traj_2_cores_min": 500 * wall / ntraj / 60 * workers / 2,
            "jumps_per_traj": float(r.extras["njumps"].mean()),
            "collective_jumps_per_traj": float((k == 0).sum() / ntraj),
            "local_jumps_per_traj": float((k > 0).sum() / ntraj),
            "mean_j_at_t1": float(r.extras["traj_j"][:, -1].mean()),
            "xi2_min": float(np.nanmin(r.xi2[1:])), "t_xi2_min": float(times[1:][np.nanargmin(r.xi2[1:])]),
            "xi2_err_at_min": float(r.extras["xi2_err"][1:][np.nanargmin(r.xi2[1:])]),
            "xi2_t1": float(r.xi2[-1]), "xi2_err_t1": float(r.extras["xi2_err"][-1])}


def write_md(res):
    lines = ["# MCWF benchmarks", "", NOTE + ".", "",
             "Method: state-following displacement beta = -<J-> (re-chosen every step and jump); no-jump "
             "propagation by (8, 8) Pade steps of the shifted generator in partial fractions with the (7, 7) "
             "approximant as error estimate (per-step bound 1e-8; piqs_squeeze/mcwf_rational.py), or by "
             "Krylov steps (Arnoldi, m = 16; scheme='krylov'), restricted to the window of m where psi is "
             "non-negligible (piqs_squeeze/mcwf_kernel.py). Models with N + 1 <= 64 use cached exact "
             "eigenbases with the fixed point displacement instead (so N = 50 'adaptive' = 'fixed_point').", ""]
    v = res.get("vs_mcsolve")
    if v:
        lines += [f"## vs qutip.mcsolve (2^N space), N = {v['N']}, {v['ntraj']} trajectories, Fig. S2 model scaled", "",
                  "| mcwf (s) | qutip.mcsolve (s) | speed-up | max |z| of <J> vs mcsolve | jumps/traj |",
                  "|---|---|---|---|---|",
                  f"| {v['t_mcwf_s']:.3f} | {v['t_mcsolve_s']:.2f} | {v['speedup']:.0f}x | "
                  f"{v['max_z_mean_vs_mcsolve']:.2f} | {v['mean_jumps_per_traj']:.1f} |", ""]
    if res.get("jumps"):
        lines += ["## Jumps per trajectory by unravelling (t in [0, 1], Omega = N, chi = 1, gamma_s = 2)", "",
                  "| N | unravelling | s/traj | jumps/traj | collective | local | <j>(t=1) |", "|---|---|---|---|---|---|---|"]
        for r in res["jumps"]:
            lines.append(f"| {r['N']} | {r['displacement']} | {r['s_per_traj']:.2f} | {r['jumps_per_traj']:.0f} | "
                         f"{r['collective_jumps_per_traj']:.0f} | {r['local_jumps_per_traj']:.0f} | {r['mean_j_at_t1']:.1f} |")
        lines.append("")
    if res.get("propagators"):
        lines += ["## Rational vs Krylov propagation (Fig. S2 model scaled, t in [0, 1], same seeds, one process)", "",
                  "| N | traj | propagator | s/traj | steps/traj | rejected | Pade evaluations | speed-up |",
                  "|---|---|---|---|---|---|---|---|"]
        kry = {r["N"]: r["s_per_traj"] for r in res["propagators"] if r["propagator"] == "krylov"}
        for r in res["propagators"]:
            up = f"{kry[r['N']] / r['s_per_traj']:.1f}x" if r["propagator"] == "rational" else "1"
            lines.append(f"| {r['N']} | {r['ntraj']} | {r['propagator']} | {r['s_per_traj']:.2f} | "
                         f"{r['steps_per_traj']:.0f} | {r['rejected_per_traj']:.0f} | "
                         f"{r['pade_evaluations_per_traj']:.0f} | {up} |")
        lines.append("")
    if res.get("cost"):
        lines += ["## Cost vs N (default unravelling and propagator, one process)", "",
                  "| N | traj | s/traj | traj/s | jumps/traj | steps/traj | mean window | ms/step |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in res["cost"]:
            lines.append(f"| {r['N']} | {r['ntraj']} | {r['s_per_traj']:.2f} | {r['traj_per_s']:.3f} | "
                         f"{r['jumps_per_traj']:.0f} | {r['steps_per_traj']:.0f} | {r['mean_window']:.0f} | "
                         f"{r['ms_per_step']:.3f} |")
        lines.append("")
    s = res.get("fig_s2")
    if s:
        lines += ["## Fig. S2 run: N = 2000, Omega = 2000, chi = 1, Gamma = 1, gamma_s = 2, CSS along -x, t in [0, 1]", "",
                  "| trajectories | workers | wall (s) | core-s/traj | jumps/traj (collective / local) | <j>(t=1) | "
                  "500 traj on 2 cores (min) | min xi^2 (t) | xi^2(t=1) |", "|---|---|---|---|---|---|---|---|---|",
                  f"| {s['ntraj']} | {s['workers']} | {s['wall_s']:.0f} | {s['core_s_per_traj']:.2f} | "
                  f"{s['jumps_per_traj']:.0f} ({s['collective_jumps_per_traj']:.0f} / {s['local_jumps_per_traj']:.0f}) | "
                  f"{s['mean_j_at_t1']:.0f} | {s['extrapolated_500_traj_2_cores_min']:.1f} | "
                  f"{s['xi2_min']:.3f} +- {s.get('xi2_err_at_min', float('nan')):.3f} ({s['t_xi2_min']:.2f}) | "
                  f"{s.get('xi2_t1', float('nan')):.3f} +- {s.get('xi2_err_t1', float('nan')):.3f} |", ""]
    if res.get("verdict"):
        lines += ["## Reading", ""] + [f"* {x}" for x in res["verdict"]]
    (OUT / "mcwf.md").write_text("\n".join(lines) + "\n")


SECTIONS = {"mcsolve": ("vs_mcsolve", vs_mcsolve), "jumps": ("jumps", jumps),
            "propagators": ("propagators", propagators), "cost": ("cost", cost), "s2": ("fig_s2", fig_s2)}


def main(argv):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "mcwf.json"
    res = json.loads(path.read_text()) if path.exists() else {}
    res = {k: v for k, v in res.items() if k in {key for key, _ in SECTIONS.values()} | {"verdict"}}
    res["note"] = NOTE
    for name in argv or list(SECTIONS):
        key, fn = SECTIONS[name]
        res[key] = fn()
        print(key, res[key], flush=True)
        path.write_text(json.dumps(res, indent=1))
        write_md(res)


if __name__ == "__main__":
    main(sys.argv[1:])
