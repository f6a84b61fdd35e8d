"""Where can the cumulant maps be trusted?  The cumulant error on the minimum transient xi^2 against
exact (small N) and MCWF (larger N) at a few points of the Fig. 3(a) plane, as a function of N.

Points (chi = Gamma, CSS along -x, Fig. 3(a)'s model): below Upsilon'_c, between Upsilon'_c and
Upsilon_c, above Upsilon_c; gamma_s = 5 and 50. Every method on the same 81 output times in
[0, 2/gamma_s]; the minimum over t >= t_w, t_w = analysis.transient_window_start of the order-2
result at that N (max(initial collective minimum, 0.1/gamma_s); deterministic, the same for all
methods). Exact: the minimum on the grid. MCWF: the cross-fit minimum +- its s.e.
(piqs_squeeze.methods.mcwf.statistics.min_estimate). Error = cumulant - reference (dB); the
exponent p of |error| ~ N^-p is fitted over the exact rows (the MCWF rows' errors are mostly within
a few s.e. of 0 and their s.e. themselves uncertain: see benchmarks/results/mcwf_errors.md).

    nice -n 19 python benchmarks/run_cumulant_trust.py [--exact 25,50,100] [--mcwf 500,1000,2000]

Writes benchmarks/results/cumulant_trust.md and .json (after every point, so a partial run is kept).
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
from piqs_squeeze import analysis  # noqa: E402
from piqs_squeeze.methods.mcwf import statistics  # noqa: E402
from piqs_squeeze.result import jsonable  # noqa: E402

POINTS = [("below", 0.6, 5.0), ("between", 0.9, 5.0), ("above", 1.2, 5.0),
          ("below", 0.6, 50.0), ("between", 0.9, 50.0), ("above", 1.2, 50.0)]
NTRAJ = {500: 64, 1000: 64, 2000: 32}


def _min_on(res, t_w):
    t, x = res.times, res.xi2
    w = (t >= t_w) & (t > t[0]) & np.isfinite(x)
    if not w.any():
        return math.nan
    return float(10 * np.log10(x[w].min()))


def one(N, ratio, gs, ref_method, ntraj=None, workers=2):
    model = ps.Model.from_upsilon_ratio(N, ratio, chi=1.0, gamma_s=gs)
    t = np.linspace(0.0, 2.0 / gs, 81)
    c2 = ps.evolve(model, t, method="cumulant")
    c3 = ps.evolve(model, t, method="cumulant", order=3, on_failure="nan")
    t_w = analysis.transient_window_start(c2)
    t0 = time.perf_counter()
    if ref_method == "exact":
        ref = ps.evolve(model, t, method="exact")
        ref_db, ref_se = _min_on(ref, t_w), 0.0
        extra = {}
    else:
        store = ROOT / ".cache" / "cumulant_trust"
        store.mkdir(parents=True, exist_ok=True)
        from piqs_squeeze.validation.checks import scale

        p = {"label": f"trust-gs{gs:g}", "chi": 1.0, "ratio": ratio, "gamma_s": gs, "kind": "css"}
        ref = scale.mcwf_point(N, p, ntraj, seed=31, workers=workers, store=store)
        e = statistics.min_estimate(ref, t_min=t_w)
        ref_db, ref_se = e.db, e.se_db
        extra = {"ntraj": e.ntraj, "raw_db": statistics.min_estimate(ref, t_min=t_w, method="raw").db}
    wall = time.perf_counter() - t0
    o2, o3 = _min_on(c2, t_w), _min_on(c3, t_w)
    return {"N": N, "ratio": ratio, "gamma_s": gs, "reference": ref_method, "t_window": t_w, "ref_db": ref_db,
            "ref_se_db": ref_se, "order2_db": o2, "order3_db": o3, "err2_db": o2 - ref_db, "err3_db": o3 - ref_db,
            "wall_s": wall, **extra}


def fit_exponent(rows, key):
    pts = [(r["N"], abs(r[key])) for r in rows
           if r["reference"] == "exact" and math.isfinite(r[key]) and abs(r[key]) > 0]
    if len(pts) < 2:
        return math.nan
    n, e = np.array(pts, float).T
    return float(-np.polyfit(np.log(n), np.log(e), 1)[0])


def write(out, meta, table):
    Path(str(out) + ".json").write_text(json.dumps(jsonable({"meta": meta, "points": table}), indent=1))
    L = ["# Where can the cumulant maps be trusted?", "",
         "Written by `benchmarks/run_cumulant_trust.py`. Cumulant error (cumulant - reference, dB) on the minimum "
         "transient xi^2 (t >= t_w = max(initial collective minimum, 0.1/gamma_s), 81 output times in [0, 2/gamma_s], "
         "chi = Gamma, CSS along -x). Reference: exact (Dicke blocks) or MCWF (cross-fit minimum +- s.e.). "
         "p: fitted exponent of |error| ~ N^-p over the exact rows (1 = falls like 1/N; negative: grows). "
         "MCWF rows: 32-64 trajectories, s.e. from the cross-fit folds (optimistic by 1.25-1.5x at N = 2000, "
         "benchmarks/results/mcwf_errors.md).", "",
         f"Run: {meta['started']}, nice 19, shared 2-core machine (load {meta['load'][0]:.1f} at the start).", "",
         "| point | Upsilon/Upsilon_c | gamma_s | N | reference (dB) | order 2 - ref (dB) | order 3 - ref (dB) | "
         "p (order 2) | p (order 3) |", "|---|---|---|---|---|---|---|---|---|"]
    for key, rows in table.items():
        p2, p3 = fit_exponent(rows, "err2_db"), fit_exponent(rows, "err3_db")
        for k, r in enumerate(rows):
            ref = f"{r['ref_db']:+.3f}" + (f" +- {r['ref_se_db']:.3f} (MCWF, {r['ntraj']})" if r["reference"] == "mcwf"
                                          else " (exact)")
            L.append(f"| {key.split('@')[0]} | {r['ratio']:g} | {r['gamma_s']:g} | {r['N']} | {ref} | {r['err2_db']:+.3f} | "
                     f"{r['err3_db']:+.3f} | {f'{p2:.2f}' if k == 0 else ''} | {f'{p3:.2f}' if k == 0 else ''} |")
    Path(str(out) + ".md").write_text("\n".join(L) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exact", default="25,50,100")
    ap.add_argument("--mcwf", default="500,1000,2000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "cumulant_trust"))
    ap.add_argument("--resume", action="store_true", help="keep the rows of an existing results file")
    a = ap.parse_args(argv)
    ex = [int(x) for x in a.exact.split(",") if x]
    mc = [int(x) for x in a.mcwf.split(",") if x]
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load": os.getloadavg(),
            "exact_N": ex, "mcwf_N": mc, "ntraj": NTRAJ}
    table = {}
    done = set()
    if a.resume and Path(a.out + ".json").is_file():  # rows of an earlier run are kept, not recomputed
        table = json.loads(Path(a.out + ".json").read_text())["points"]
        done = {(k, r["N"], r["reference"]) for k, rows in table.items() for r in rows}
    for stage in ("exact", "mcwf"):
        for name, ratio, gs in POINTS:
            key = f"{name}@{ratio:g},{gs:g}"
            for N in (ex if stage == "exact" else mc):
                if (key, N, stage) in done:
                    continue
                r = one(N, ratio, gs, stage, NTRAJ.get(N, 64), a.workers)
                table.setdefault(key, []).append(r)
                table[key].sort(key=lambda r: r["N"])
                write(a.out, meta, table)
                print(key, N, f"ref {r['ref_db']:+.3f}+-{r['ref_se_db']:.3f} e2 {r['err2_db']:+.3f} e3 {r['err3_db']:+.3f} "
                      f"{r['wall_s']:.0f}s", flush=True)
    write(a.out, meta, table)


if __name__ == "__main__":
    main()
