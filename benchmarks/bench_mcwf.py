"""MCWF benchmarks: vs qutip.mcsolve (2^N space), jump counts per unravelling, rational vs Krylov
propagation, cost vs N, the Fig. S2 run (500 trajectories at N = 2000).

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_mcwf.py [section ...]
Sections: mcsolve, jumps, propagators, cost, s2, speed, profile (default: all; s2 takes ~5 min on 2 cores; speed
compares this code with the baseline commit BASELINE, loaded from git into the same process). Each section updates
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


BASELINE = "933636b"  # the kernel before the issue-27 speed work (extracted with git show)


def _baseline_sector(commit=BASELINE):
    """The baseline's piqs_squeeze.methods.mcwf (sector, kernels, rational, window, krylov) as a
    separate package ``mcwf_baseline`` in a temporary directory (it shares dicke, hamiltonian and
    protocol with this code, which the speed work did not change)."""
    import importlib
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    d = Path(tempfile.mkdtemp(prefix="mcwf_baseline_"))
    (d / "mcwf_baseline").mkdir()
    for f in ("__init__", "sector", "kernels", "rational", "window", "krylov"):
        src = "" if f == "__init__" else subprocess.run(
            ["git", "show", f"{commit}:piqs_squeeze/methods/mcwf/{f}.py"], cwd=root, capture_output=True, text=True,
            check=True).stdout
        (d / "mcwf_baseline" / f"{f}.py").write_text(src)
    sys.path.insert(0, str(d))
    return importlib.import_module("mcwf_baseline.sector")


def _loadavg():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["nan"] * 3


def _timed(mod, model, times, seed, repeats):
    """Fastest of ``repeats`` (wall, cpu) of one trajectory, warm (sector tables cached), and the
    first run's (cold: tables built on the way); the record of the last run."""
    mod.clear_cache()
    j0, psi0 = mcwf.initial_state(model.N, None)
    runs = []
    for _ in range(repeats + 1):
        w, c = time.perf_counter(), time.process_time()
        rec = mod.run_trajectory(model, times, j0, psi0, None, np.random.default_rng(seed))
        runs.append((time.perf_counter() - w, time.process_time() - c))
    warm = min(runs[1:])
    return {"cold_wall_s": runs[0][0], "cold_cpu_s": runs[0][1], "warm_wall_s": warm[0], "warm_cpu_s": warm[1],
            "jumps": len(rec["jump_times"]), "steps": rec["steps"], "pade_evaluations": rec["pade_evaluations"],
            "mean_window": rec["mean_window"]}, rec


def _traced_peak(fn):
    """Peak bytes allocated through Python's allocator (numpy arrays) while ``fn`` runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def speed(cases=((2000, (0, 1, 2), 2), (10000, (0,), 1)), ramp_N=2000, ramp_t=0.01):
    """This code against the baseline, same seeds, alternating in one process: per-trajectory
    times (Fig. S2 model scaled, t in [0, 1], 21 outputs), cold and warm; whether the trajectories
    agree; memory per trajectory (traced numpy allocations) for 21 and 201 outputs; the cost of a
    time-dependent drive against the constant one at N = ramp_N over [0, ramp_t]."""
    from piqs_squeeze import Ramp
    from piqs_squeeze.methods.mcwf import sector as new

    old = _baseline_sector()
    for mod in (old, new):  # compile / load the kernels
        mod.run_trajectory(s2_model(64), [0.0, 1e-3], 32.0, mcwf.initial_state(64, None)[1], None,
                           np.random.default_rng(0))
    times = np.linspace(0.0, 1.0, 21)
    rows = []
    for N, seeds, repeats in cases:
        model = s2_model(N)
        for seed in seeds:
            load0 = _loadavg()
            o, ro = _timed(old, model, times, seed, repeats)
            n, rn = _timed(new, model, times, seed, repeats)
            same = bool(np.array_equal(ro["jump_times"], rn["jump_times"])
                        and np.array_equal(ro["jump_kinds"], rn["jump_kinds"]))
            scale = np.abs(ro["second"]).max()
            rows.append({"N": N, "seed": seed, "old": o, "new": n, "same_jumps": same,
                         "max_moment_diff_rel": float(max(np.abs(ro["mean"] - rn["mean"]).max(),
                                                          np.abs(ro["second"] - rn["second"]).max()) / scale),
                         "loadavg": [load0, _loadavg()]})
            print(rows[-1], flush=True)
    mem = []
    for N in (2000, 10000):
        model = s2_model(N)
        j0, psi0 = mcwf.initial_state(N, None)
        for T in (21, 201):
            tt = np.linspace(0.0, 0.002, T)
            row = {"N": N, "T": T}
            for name, mod in (("old", old), ("new", new)):
                row[name + "_peak_bytes"] = _traced_peak(
                    lambda: mod.run_trajectory(model, tt, j0, psi0, None, np.random.default_rng(0)))
            mem.append(row)
            print(row, flush=True)
    ramp = {"N": ramp_N, "t_end": ramp_t, "loadavg": [_loadavg()]}
    const = s2_model(ramp_N)
    ramped = Model(N=ramp_N, omega=Ramp.linear(0.0, 1.0, 0.0, float(ramp_N)), chi=1.0, gamma=1.0, gamma_s=2.0)
    j0, psi0 = mcwf.initial_state(ramp_N, None)
    tt = np.linspace(0.0, ramp_t, 3)
    for name, model in (("constant", const), ("ramp", ramped)):
        best = np.inf
        for _ in range(2):
            w = time.perf_counter()
            new.run_trajectory(model, tt, j0, psi0, None, np.random.default_rng(1))
            best = min(best, time.perf_counter() - w)
        ramp[name + "_s"] = best
    ramp["ratio"] = ramp["ramp_s"] / ramp["constant_s"]
    ramp["loadavg"].append(_loadavg())
    print(ramp, flush=True)
    return {"rows": rows, "memory": mem, "ramp": ramp, "baseline": BASELINE}


RAMP_BASELINE = "af2f2f1"  # ramps in second-order midpoint steps, one Python call per step


def ramp_cost(N=2000, repeats=3, seed=1):
    """A time-dependent drive against the constant one at N, this code (CF4 steps) and the
    midpoint-step code RAMP_BASELINE, in one process, CPU seconds (fastest of ``repeats``, warm),
    same seed; and the accuracy of both against a common reference (this code at ramp_tol 1e-8)
    without dissipation (gamma = gamma_s = 0: no jumps, so the states compare)."""
    from piqs_squeeze import Ramp
    from piqs_squeeze.methods.mcwf import sector as new

    old = _baseline_sector(RAMP_BASELINE)
    j0, psi0 = mcwf.initial_state(N, None)
    cases = [("Omega 0 -> N over [0, 1]", Ramp.linear(0.0, 1.0, 0.0, float(N)), 0.01),
             ("Omega 0 -> N over [0, 1]", Ramp.linear(0.0, 1.0, 0.0, float(N)), 0.05),
             ("Omega = N (1 + t)", Ramp.linear(0.0, 1.0, float(N), 2.0 * N), 0.05)]
    rows = []
    for name, omega, t_end in cases:
        tt = np.linspace(0.0, t_end, 3)
        row = {"case": name, "N": N, "t_end": t_end, "loadavg": [_loadavg()]}
        runs = (("constant", new, s2_model(N)), ("cf4", new, s2_model(N).replace(omega=omega)),
                ("midpoint", old, s2_model(N).replace(omega=omega)))
        for label, mod, model in runs:
            best, rec = np.inf, None
            for _ in range(repeats):
                c = time.process_time()
                rec = mod.run_trajectory(model, tt, j0, psi0, None, np.random.default_rng(seed))
                best = min(best, time.process_time() - c)
            row[label] = {"cpu_s": best, "steps": rec["steps"], "jumps": int(len(rec["jump_times"]))}
        row["ratio_cf4"] = row["cf4"]["cpu_s"] / row["constant"]["cpu_s"]
        row["ratio_midpoint"] = row["midpoint"]["cpu_s"] / row["constant"]["cpu_s"]
        row["loadavg"].append(_loadavg())
        rows.append(row)
        print(row, flush=True)
    acc = []
    omega = Ramp.linear(0.0, 1.0, 0.0, float(N))
    model = Model(N=N, omega=omega, chi=1.0, gamma=0.0)
    tt = np.array([0.0, 0.05])
    ref = new.run_trajectory(model, tt, j0, psi0, None, np.random.default_rng(0), ramp_tol=1e-8, keep_states=True)
    for tol in (1e-3, 1e-4):
        for label, mod in (("cf4", new), ("midpoint", old)):
            c = time.process_time()
            rec = mod.run_trajectory(model, tt, j0, psi0, None, np.random.default_rng(0), ramp_tol=tol,
                                     keep_states=True)
            acc.append({"scheme": label, "ramp_tol": tol, "cpu_s": time.process_time() - c, "steps": rec["steps"],
                        "state_error": float(np.linalg.norm(rec["final_state"][1] - ref["final_state"][1]))})
            print(acc[-1], flush=True)
    return {"rows": rows, "accuracy": acc, "accuracy_model": "Omega 0 -> N over [0, 1], chi = 1, no dissipation, "
            "t in [0, 0.05], reference: CF4 at ramp_tol 1e-8", "baseline": RAMP_BASELINE}


def profile(Ns=(2000, 10000), seed=0):
    """Where one trajectory's time goes (t in [0, 1], 21 outputs, cold: empty sector cache), this
    code and the baseline under cProfile: the compiled kernel against the Python around it, and
    the kernel's own counters (this code): accepted and rejected steps, steps redone with a wider
    window pad, Pade evaluations for jump times, mean window; pole-rows = rows x poles solved."""
    import cProfile
    import pstats
    from piqs_squeeze.methods.mcwf import sector as new

    old = _baseline_sector()
    rows = []
    for N in Ns:
        model = s2_model(N)
        j0, psi0 = mcwf.initial_state(N, None)
        times = np.linspace(0.0, 1.0, 21)
        for name, mod in (("old", old), ("new", new)):
            mod.run_trajectory(s2_model(64), [0.0, 1e-3], 32.0, mcwf.initial_state(64, None)[1], None,
                               np.random.default_rng(0))
            mod.clear_cache()
            prof = cProfile.Profile()
            rec = prof.runcall(mod.run_trajectory, model, times, j0, psi0, None, np.random.default_rng(seed))
            st = pstats.Stats(prof)
            total = st.total_tt
            kernel = sum(v[2] for k, v in st.stats.items() if k[2] == "advance" and k[0].endswith("kernels.py"))
            tables = sum(v[3] for k, v in st.stats.items() if k[2] == "__init__" and k[0].endswith("sector.py"))
            row = {"N": N, "code": name, "profiled_s": total, "kernel_s": kernel, "sector_tables_s": tables,
                   "other_python_s": total - kernel - tables, "jumps": len(rec["jump_times"]),
                   "steps": rec["steps"], "rejected": rec["rejected_steps"], "pade_evaluations": rec["pade_evaluations"],
                   "mean_window": rec["mean_window"], "loadavg": _loadavg()}
            if name == "new":
                row.update(pad_redone=rec["pad_redone_steps"], jump_time_evaluations=rec["jump_time_evaluations"])
                full = row["pade_evaluations"] - row["jump_time_evaluations"]
                row["pole_rows_steps"] = full * 15 * row["mean_window"]
                row["pole_rows_jump_times"] = row["jump_time_evaluations"] * 8 * row["mean_window"]
            rows.append(row)
            print(row, flush=True)
    return rows


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
    sp = res.get("speed")
    if sp:
        lines += [f"## Issue 27 speed work: this code vs the baseline {sp['baseline']} (same process, same seeds)", "",
                  "Fig. S2 model scaled (Omega = N, chi = Gamma = 1, gamma_s = 2, CSS along -x), t in [0, 1], 21 "
                  "outputs, one process. Cold: the first trajectory with an empty sector-table cache; warm: the "
                  "fastest rerun of the same seed with the tables cached. Wall and CPU seconds; load average "
                  "(1, 5, 15 min) before and after each row (the 2-core machine was shared).", "",
                  "| N | seed | old cold wall / cpu (s) | new cold wall / cpu (s) | old warm cpu (s) | new warm cpu (s) | "
                  "warm cpu speed-up | jumps | steps | Pade evaluations | same jumps | max moment diff (rel) | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sp["rows"]:
            o, n = r["old"], r["new"]
            lines.append(f"| {r['N']} | {r['seed']} | {o['cold_wall_s']:.2f} / {o['cold_cpu_s']:.2f} | "
                         f"{n['cold_wall_s']:.2f} / {n['cold_cpu_s']:.2f} | {o['warm_cpu_s']:.2f} | "
                         f"{n['warm_cpu_s']:.2f} | {o['warm_cpu_s'] / n['warm_cpu_s']:.2f}x | {n['jumps']} | "
                         f"{n['steps']} | {n['pade_evaluations']} | {r['same_jumps']} | "
                         f"{r['max_moment_diff_rel']:.1e} | {' '.join(r['loadavg'][0])} / {' '.join(r['loadavg'][1])} |")
        lines += ["", "Memory per trajectory: peak bytes allocated through Python's allocator during one "
                  "trajectory (numpy arrays; t in [0, 0.002]):", "",
                  "| N | output times | old (MB) | new (MB) |", "|---|---|---|---|"]
        for m in sp["memory"]:
            lines.append(f"| {m['N']} | {m['T']} | {m['old_peak_bytes'] / 1e6:.2f} | {m['new_peak_bytes'] / 1e6:.2f} |")
        rp = sp["ramp"]
        lines += ["", f"Time-dependent drive (Omega ramped linearly 0 -> N over [0, 1]) against the constant "
                  f"Omega = N at N = {rp['N']}, t in [0, {rp['t_end']}], this code: {rp['ramp_s']:.2f} s vs "
                  f"{rp['constant_s']:.3f} s, ratio {rp['ratio']:.1f}x (load {' '.join(rp['loadavg'][0])} / "
                  f"{' '.join(rp['loadavg'][1])}).", ""]
    rc = res.get("ramp_cost")
    if rc:
        lines += ["## Issue 27: ramps in CF4 steps against the constant drive (one process, CPU seconds)", "",
                  f"N = {rc['rows'][0]['N']}, Fig. S2 model with Omega(t), seed 1, fastest of 3 warm runs; midpoint: "
                  f"the second-order midpoint-step code of {rc['baseline']}; default ramp_tol 1e-3.", "",
                  "| Omega(t) | t in | constant (s) | CF4 (s) | midpoint (s) | CF4 / constant | midpoint / constant | "
                  "steps constant / CF4 / midpoint | jumps | load |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rc["rows"]:
            c, f, m = r["constant"], r["cf4"], r["midpoint"]
            lines.append(f"| {r['case']} | [0, {r['t_end']}] | {c['cpu_s']:.3f} | {f['cpu_s']:.3f} | {m['cpu_s']:.3f} | "
                         f"{r['ratio_cf4']:.2f}x | {r['ratio_midpoint']:.1f}x | {c['steps']} / {f['steps']} / "
                         f"{m['steps']} | {c['jumps']} / {f['jumps']} / {m['jumps']} | {' '.join(r['loadavg'][0])} / "
                         f"{' '.join(r['loadavg'][1])} |")
        lines += ["", f"Accuracy ({rc['accuracy_model']}): ||psi - psi_ref|| at t = 0.05", "",
                  "| scheme | ramp_tol | steps | CPU (s) | state error |", "|---|---|---|---|---|"]
        for a in rc["accuracy"]:
            lines.append(f"| {a['scheme']} | {a['ramp_tol']:g} | {a['steps']} | {a['cpu_s']:.3f} | {a['state_error']:.1e} |")
        lines.append("")
    pr = res.get("profile")
    if pr:
        lines += ["## Issue 27: where one trajectory's time goes (cProfile, cold, t in [0, 1], seed 0)", "",
                  "| N | code | profiled (s) | compiled kernel (s) | sector tables (s) | other Python (s) | jumps | "
                  "steps | rejected | redone (pad) | Pade evaluations (jump times) | mean window | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in pr:
            jt = f" ({r['jump_time_evaluations']})" if "jump_time_evaluations" in r else ""
            lines.append(f"| {r['N']} | {r['code']} | {r['profiled_s']:.2f} | {r['kernel_s']:.2f} | "
                         f"{r['sector_tables_s']:.2f} | {r['other_python_s']:.2f} | {r['jumps']} | {r['steps']} | "
                         f"{r['rejected']} | {r.get('pad_redone', '-')} | {r['pade_evaluations']}{jt} | "
                         f"{r['mean_window']:.0f} | {' '.join(r['loadavg'])} |")
        lines.append("")
    if res.get("speed_reading"):
        lines += ["## Issue 27: reading", ""] + [f"* {x}" for x in res["speed_reading"]] + [""]
    if res.get("verdict"):
        lines += ["## Reading", ""] + [f"* {x}" for x in res["verdict"]]
    (OUT / "mcwf.md").write_text("\n".join(lines) + "\n")


SECTIONS = {"mcsolve": ("vs_mcsolve", vs_mcsolve), "jumps": ("jumps", jumps),
            "propagators": ("propagators", propagators), "cost": ("cost", cost), "s2": ("fig_s2", fig_s2),
            "speed": ("speed", speed), "profile": ("profile", profile),
            "ramp": ("ramp_cost", ramp_cost)}


def main(argv):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "mcwf.json"
    res = json.loads(path.read_text()) if path.exists() else {}
    res = {k: v for k, v in res.items() if k in {key for key, _ in SECTIONS.values()} | {"verdict", "speed_reading"}}
    res["note"] = NOTE
    for name in argv or list(SECTIONS):
        key, fn = SECTIONS[name]
        res[key] = fn()
        print(key, res[key], flush=True)
        path.write_text(json.dumps(res, indent=1))
        write_md(res)


if __name__ == "__main__":
    main(sys.argv[1:])
