"""MCWF benchmarks: vs qutip.mcsolve (2^N space), jump counts per unravelling, cost vs N.

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_mcwf.py
Writes benchmarks/results/mcwf.json and mcwf.md. Timings are wall-clock on a 2-core machine
shared with other engineers: expect +-30% noise; ratios are taken within one process.
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
import qutip  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from piqs_squeeze import Model, mcwf  # noqa: E402
from piqs_squeeze.mcwf_sector import Sector, clear_cache, jump_kind_names, resolve_beta  # noqa: E402
from validation import bruteforce  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def s2_model(N):
    """The paper's Fig. S2 point scaled to N atoms: Omega = N (Upsilon = 2), chi = 1, gamma_s = 2."""
    return Model(N=N, omega=float(N), chi=1.0, gamma=1.0, gamma_s=2.0)


def vs_mcsolve(N=10, ntraj=100):
    model = s2_model(N)
    times = np.linspace(0.0, 1.0, 11)
    clear_cache()
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


def jumps_and_cost(Ns=(50, 100, 200), ntraj=8):
    rows = []
    names = jump_kind_names()
    times = np.linspace(0.0, 1.0, 21)
    for N in Ns:
        for disp in ("fixed_point", "none", "drive"):
            model = s2_model(N)
            clear_cache()
            t = time.perf_counter()
            try:
                r = mcwf.evolve(model, times, ntraj=ntraj, seed=0, workers=1, progress=False,
                                keep_trajectories=True, displacement=disp)
            except RuntimeError as exc:
                rows.append({"N": N, "displacement": disp, "error": str(exc)[:120]})
                continue
            dt = time.perf_counter() - t
            k = r.extras["jump_kinds"]
            rows.append({"N": N, "displacement": disp, "ntraj": ntraj, "s_per_traj": dt / ntraj,
                         "jumps_per_traj": float(r.extras["njumps"].mean()),
                         "collective_jumps_per_traj": float((k == 0).sum() / ntraj),
                         "local_jumps_per_traj": float((k > 0).sum() / ntraj),
                         "sectors_visited": int(len(np.unique(r.extras["traj_j"]))),
                         "mean_j_at_t1": float(r.extras["traj_j"][:, -1].mean()),
                         "kinds": {names[i]: int((k == i).sum()) for i in np.unique(k)}})
            print(rows[-1], flush=True)
            if disp == "drive" and N >= 100:
                break
    return rows


def eig_cost(N=2000):
    """Cost of one sector eigendecomposition at the Fig. S2 size (paid once per sector)."""
    model = s2_model(N)
    beta = resolve_beta(model, "fixed_point")
    t = time.perf_counter()
    s = Sector(model, N / 2, beta)
    dt = time.perf_counter() - t
    return {"N": N, "d": s.d, "eig_s": dt, "slowest_decay_rate": float(-2 * s.lam.imag.max()),
            "cond_V": float(np.linalg.cond(s.V))}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    res = {"note": "2-core machine shared with other engineers; timings noisy (+-30%)",
           "vs_mcsolve": vs_mcsolve(), "jumps_and_cost": jumps_and_cost()}
    print(res["vs_mcsolve"], flush=True)
    res["eig_N2000"] = eig_cost()
    print(res["eig_N2000"], flush=True)
    (OUT / "mcwf.json").write_text(json.dumps(res, indent=1))
    v = res["vs_mcsolve"]
    lines = ["# MCWF benchmarks", "", res["note"] + ".", "",
             f"## vs qutip.mcsolve (2^N space), N = {v['N']}, {v['ntraj']} trajectories, Fig. S2 model scaled",
             "", "| mcwf (s) | qutip.mcsolve (s) | speed-up | max |z| of <J> vs mcsolve |",
             "|---|---|---|---|",
             f"| {v['t_mcwf_s']:.2f} | {v['t_mcsolve_s']:.2f} | {v['speedup']:.0f}x | {v['max_z_mean_vs_mcsolve']:.2f} |",
             "", "## Jumps per trajectory (t in [0, 1], Omega = N, chi = 1, gamma_s = 2) and cost", "",
             "| N | unravelling | s/traj | jumps/traj | collective | local | sectors | <j>(t=1) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["jumps_and_cost"]:
        if "error" in r:
            lines.append(f"| {r['N']} | {r['displacement']} | failed: {r['error']} |||||| ")
        else:
            lines.append(f"| {r['N']} | {r['displacement']} | {r['s_per_traj']:.2f} | {r['jumps_per_traj']:.0f} | "
                         f"{r['collective_jumps_per_traj']:.0f} | {r['local_jumps_per_traj']:.0f} | "
                         f"{r['sectors_visited']} | {r['mean_j_at_t1']:.1f} |")
    e = res["eig_N2000"]
    lines += ["", f"One sector eigendecomposition at N = {e['N']} (d = {e['d']}): {e['eig_s']:.1f} s, "
              f"cond(V) = {e['cond_V']:.3g}, slowest no-jump decay rate {e['slowest_decay_rate']:.0f}."]
    (OUT / "mcwf.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
