"""Benchmark: the general-Hamiltonian moment equations against the code before them (commit
a60fd47) on the Fig. 3(a) cumulant map, and the cost of a general or time-dependent H.

1. Paper map, old vs new: the same map as ``bench_cumulant.py`` (N = 1e4, chi = 1, ratios x
   gamma_s, each to t = 5 / gamma_s, rtol 1e-6) run by ``cumulant.evolve_many`` in a subprocess per
   version, each on its own PYTHONPATH: the old one from a ``git worktree`` of a60fd47 made in a
   temporary folder (removed afterwards), the new one from this checkout.  Same environment
   (OMP_NUM_THREADS=1, numba's default threads), kernel compiled / loaded before the timing, runs
   in the order old, new, new, old (a load that drifts linearly cancels); each timing with
   ``os.getloadavg()``.  The moment variables of both versions are compared bit for bit.
2. General H, new code only, one process, on a sub-map: the paper model written as
   ``hamiltonian={"Jx": omega, "J+ J-": chi}`` (same physics through the Hamiltonian tensors; the
   kernel sums the same non-zero entries) and a genuinely general H (twisting and a transverse
   field added: 68 instead of 60 entries, and other dynamics), each against the paper path on
   the same points.
3. Time dependence: two map points with omega a constant Ramp (so the same dynamics) take the
   per-model solve_ivp path whatever the scheme (the default ``scheme="dopri5"`` runs RK45 there,
   the kernel's own tableau and step control; and ``scheme="DOP853"``); against the compiled
   kernel.

    python benchmarks/bench_moments_general_h.py [--quick]

Results in ``results/moments_general_h.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "results"
BASE_COMMIT = "a60fd47"


def _timed(fn):
    load = os.getloadavg()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, [round(x, 2) for x in load]


def _steps(r):
    """Integration steps of a Result: ``stats`` (this code) or ``extras`` (commit a60fd47)."""
    stats = getattr(r, "stats", None) or {}
    return stats["steps"] if "steps" in stats else r.extras["steps"]


def worker(n_ratio, n_gs, save):
    """One timed paper map with whatever piqs_squeeze is on the path; JSON on stdout."""
    import numba

    import piqs_squeeze as ps
    from bench_cumulant import ATOL, RTOL, build_map
    from piqs_squeeze.methods.moments import cumulant

    cumulant.evolve(ps.Model(4, omega=1.0), [0.0, 0.1])  # compile / load the cached kernel
    _, _, models, times, _ = build_map(n_ratio, n_gs)
    res, secs, load = _timed(lambda: cumulant.evolve_many(models, times, rtol=RTOL, atol=ATOL, progress=False))
    np.save(save, np.concatenate([r.extras["variables"] for r in res]))
    print(json.dumps({"package": ps.__file__, "seconds": secs, "loadavg_before": load,
                      "steps": int(sum(_steps(r) for r in res)), "numba_threads": numba.get_num_threads()}))


def run_worker(pythonpath, n_ratio, n_gs, save):
    env = dict(os.environ, PYTHONPATH=str(pythonpath), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(n_ratio), str(n_gs), save],
                         env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def old_vs_new(n_ratio, n_gs):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), BASE_COMMIT],
                       check=True, capture_output=True)
        try:
            runs = []
            for k, (which, path) in enumerate([("old", base), ("new", ROOT), ("new", ROOT), ("old", base)]):
                r = run_worker(path, n_ratio, n_gs, str(Path(tmp) / f"{which}{k}.npy"))
                if not r["package"].startswith(str(path)):
                    raise RuntimeError(f"{which} run imported {r['package']}, not code under {path}")
                r["which"] = which
                runs.append(r)
            identical = bool(np.array_equal(np.load(Path(tmp) / "old0.npy"), np.load(Path(tmp) / "new1.npy")))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=True)
    t = {w: [r["seconds"] for r in runs if r["which"] == w] for w in ("old", "new")}
    return {"runs": runs, "bit_identical": identical, "old_seconds": t["old"], "new_seconds": t["new"],
            "throughput_ratio_new_over_old_mean": float(np.mean(t["old"]) / np.mean(t["new"])),
            "throughput_ratio_new_over_old_best": float(min(t["old"]) / min(t["new"]))}


def general_h_cost(n_ratio, n_gs):
    import piqs_squeeze as ps
    from bench_cumulant import ATOL, RTOL, build_map
    from piqs_squeeze.methods.moments import cumulant

    cumulant.evolve(ps.Model(4, omega=1.0, hamiltonian={"Jz": 1.0}), [0.0, 0.1])
    _, _, models, times, _ = build_map(n_ratio, n_gs)
    variants = {
        "paper path": models,
        "same H via the general path": [m.replace(omega=0.0, chi=0.0, hamiltonian={"Jx": m.omega, "J+ J-": m.chi})
                                        for m in models],
        "general H (+ 0.5 Jz Jz + 0.2 N Jy)": [m.replace(hamiltonian={"Jz Jz": 0.5, "Jy": 0.2 * m.N}) for m in models],
    }
    out, ref = {}, None
    for name, ms in variants.items():
        res, secs, load = _timed(lambda: cumulant.evolve_many(ms, times, rtol=RTOL, atol=ATOL, progress=False))
        steps = int(sum(r.stats["steps"] for r in res))
        row = {"seconds": secs, "steps": steps, "us_per_step": 1e6 * secs / steps, "loadavg_before": load}
        if ref is None:
            ref = res
        elif name.startswith("same"):
            row["max_rel_dev_xi2"] = float(max(np.max(np.abs(a.xi2 - b.xi2) / b.xi2) for a, b in zip(res, ref)))
        out[name] = row
    return {"n_points": len(models), "variants": out}


def time_dependent_cost():
    import piqs_squeeze as ps
    from bench_cumulant import ATOL, CHI, N, RTOL, grid_times
    from piqs_squeeze.methods.moments import cumulant

    pts = [ps.Model.from_upsilon_ratio(N, r, chi=CHI, gamma_s=100.0) for r in (0.9, 1.1)]
    t = grid_times(5 / 100.0)
    ramped = [m.replace(omega=ps.Ramp([0.0, 1.0], [m.omega, m.omega])) for m in pts]
    fast, t_fast, _ = _timed(lambda: cumulant.evolve_many(pts, t, rtol=RTOL, atol=ATOL, progress=False))
    # default scheme "dopri5": RK45 on the time-dependent path
    slow, t_slow, load = _timed(lambda: cumulant.evolve_many(ramped, t, rtol=RTOL, atol=ATOL, progress=False))
    dop853, t_dop853, _ = _timed(lambda: cumulant.evolve_many(ramped, t, rtol=RTOL, atol=ATOL, scheme="DOP853",
                                                              progress=False))

    def dev(runs):
        return float(max(np.max(np.abs(a.xi2 - b.xi2) / b.xi2) for a, b in zip(runs, fast)))

    return {"points": 2, "t_end": float(t[-1]), "numba_seconds": t_fast, "time_dependent_seconds": t_slow,
            "slowdown": t_slow / t_fast, "loadavg_before": load, "max_rel_dev_xi2": dev(slow),
            "time_dependent_seconds_dop853": t_dop853, "max_rel_dev_xi2_dop853": dev(dop853)}


def write(res, name):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(res, indent=1))
    ov, gh, td = res["old_vs_new"], res["general_h"], res["time_dependent"]
    lines = [f"# General-H moment equations: cost on the Fig. 3(a) cumulant map (N = {res['N']}, rtol = {res['rtol']})",
             "", f"Measured on commit {res.get('commit', '?')} (this code) against {BASE_COMMIT}.", "", res["note"], "",
             f"## Paper map, commit {BASE_COMMIT} vs this code ({res['map_points']} points, separate processes, "
             "order old, new, new, old)", "",
             "| run | version | seconds | steps | load avg before (1, 5, 15 min) |", "|---|---|---|---|---|"]
    lines += [f"| {k + 1} | {r['which']} | {r['seconds']:.1f} | {r['steps']:.4g} | "
              f"{', '.join(map(str, r['loadavg_before']))} |" for k, r in enumerate(ov["runs"])]
    lines += ["", f"**Throughput ratio new / old: {ov['throughput_ratio_new_over_old_mean']:.3f} (mean times), "
              f"{ov['throughput_ratio_new_over_old_best']:.3f} (best times).** Moment variables bit-identical: "
              f"{ov['bit_identical']}.", "",
              f"## Cost of a general H (this code, one process, {gh['n_points']}-point sub-map)", "",
              "| variant | seconds | steps | us / step | note |", "|---|---|---|---|---|"]
    for k, v in gh["variants"].items():
        note = f"max rel. dev. of xi2 from the paper path {v['max_rel_dev_xi2']:.1e}" if "max_rel_dev_xi2" in v else ""
        lines.append(f"| {k} | {v['seconds']:.1f} | {v['steps']:.4g} | {v['us_per_step']:.2f} | {note} |")
    lines += ["", "The first two rows do the same arithmetic (same non-zero entries, same steps): their difference "
              "is the timing noise of this machine."]
    lines += ["", "## Time-dependent coefficients (per-model solve_ivp path)", "",
              f"{td['points']} map points (gamma_s = 100, t_end = {td['t_end']:g}) with omega a constant Ramp: "
              f"{td['time_dependent_seconds']:.2f} s against {td['numba_seconds']:.3f} s for the compiled kernel "
              f"({td['slowdown']:.0f}x) with the default scheme='dopri5' (RK45 on this path: the kernel's tableau "
              f"and step control); max rel. dev. of xi2 from the kernel {td['max_rel_dev_xi2']:.1e}. With "
              f"scheme='DOP853': {td['time_dependent_seconds_dop853']:.2f} s, max rel. dev. "
              f"{td['max_rel_dev_xi2_dop853']:.1e} (another scheme: the error of rtol = {res['rtol']:g} itself, "
              "results/cumulant.md)."]
    (OUT / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _commit():
    """The measured checkout's short commit (``+dirty`` if it has uncommitted changes to piqs_squeeze/)."""
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "piqs_squeeze"], capture_output=True,
                           text=True).stdout.strip()
    return rev + ("+dirty" if dirty else "")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="12 x 8 map, 6 x 4 sub-map (smoke run)")
    args = ap.parse_args(argv)
    from bench_cumulant import N, RTOL

    (n_ratio, n_gs), (s_ratio, s_gs) = ((12, 8), (6, 4)) if args.quick else ((60, 40), (30, 20))
    res = {"N": N, "rtol": RTOL, "cpus": os.cpu_count(), "map_points": n_ratio * n_gs, "commit": _commit(),
           "note": f"{os.cpu_count()}-core machine shared with other sessions (load average "
                   f"{os.getloadavg()[0]:.2f} at the start): timings are noisy; load averages are recorded next "
                   "to them."}
    res["old_vs_new"] = old_vs_new(n_ratio, n_gs)
    res["general_h"] = general_h_cost(s_ratio, s_gs)
    res["time_dependent"] = time_dependent_cost()
    write(res, "moments_general_h_quick" if args.quick else "moments_general_h")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
