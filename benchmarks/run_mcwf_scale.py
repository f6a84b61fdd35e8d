"""The scale check's numbers (validation/checks/scale.py, ``mcwf_vs_cumulant_1e4``) at chosen N and
trajectory counts, written to benchmarks/results/mcwf_scale.md and .json.

MCWF (cross-fit minimum +- s.e., tail diagnostics) and cumulant orders 2 and 3 at the six Fig. 3(b)
chi values and the outlook point; with ``--target`` the ensemble of each point doubles from 64
trajectories (through a checkpoint under .cache/mcwf_scale) until its s.e. is <= target dB or
``--ntraj`` is reached (what ``validate --full`` does with the check's own limits).

    nice -n 19 python benchmarks/run_mcwf_scale.py --N 2000 --ntraj 256 --target 0.1 [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from piqs_squeeze.result import jsonable  # noqa: E402
from piqs_squeeze.validation.checks import scale  # noqa: E402


def write(out, meta, res):
    Path(str(out) + ".json").write_text(json.dumps(jsonable({"meta": meta, "results": res}), indent=1))
    L = ["# MCWF at the paper's scale vs cumulant orders 2 and 3",
         "",
         "Written by `benchmarks/run_mcwf_scale.py` (the numbers of the check `mcwf_vs_cumulant_1e4`, "
         "validation/checks/scale.py). Minimum of xi^2 over t in (0, 2/gamma_s] (Fig. 3(b) points, CSS along the "
         "gamma_s = 0 mean-field steady state) or t >= 0.1/gamma_s (outlook point, CSS along -x, the drive of "
         "order 2's deepest minimum), all methods on the same 81-point grid. MCWF: the cross-fit minimum "
         "(statistics.min_estimate) +- its block-jackknife s.e.; `z` = (cumulant - MCWF) / s.e.; DIFFERS where |z| > 3.",
         "",
         f"Run: {meta['workers']} workers, nice 19, on the shared 2-core machine (load {meta['load_before'][0]:.1f} "
         f"before); target s.e. {meta['target']} dB, at most {meta['ntraj']} trajectories per point.",
         "",
         "| N | point | Upsilon/Upsilon_c | traj | MCWF (dB) | raw min (dB) | order 2 (dB) | z | order 3 (dB) | z | "
         "t_min MCWF | ess/n | boot/jack | traj for 0.1 dB | s/traj (wall, 2 workers) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for N, rows in res.items():
        for k, r in rows.items():
            e = r["mcwf"]
            flag = lambda o: " DIFFERS" if r[f"{o}_differs"] else ""  # noqa: E731
            L.append(f"| {N} | {k} | {r['point']['ratio']:g} | {e['ntraj']} | {e['db']:+.3f} +- {e['se_db']:.3f} | "
                     f"{e['raw_db']:+.3f} | {r['order2']['db']:+.3f} | {r['order2_z']:+.1f}{flag('order2')} | "
                     f"{r['order3']['db']:+.3f} | {r['order3_z']:+.1f}{flag('order3')} | {e['t']:.4g} | "
                     f"{e['tail']['ess_fraction']:.2f} | {e['tail']['boot_over_jack']:.2f} | {e['ntraj_for_0p1db']} | "
                     f"{e['wall_s'] / e['ntraj']:.2f} |")
    Path(str(out) + ".md").write_text("\n".join(L) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, nargs="+", default=[2000])
    ap.add_argument("--ntraj", type=int, default=256)
    ap.add_argument("--target", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=None, metavar="LABEL",
                    help="only these points (chi=0 ... chi=4, outlook)")
    ap.add_argument("--out", default=str(HERE / "results" / "mcwf_scale"))
    a = ap.parse_args(argv)
    meta = {"N": a.N, "only": a.only, "ntraj": a.ntraj, "target": a.target, "workers": a.workers, "load_before": os.getloadavg(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    res = {}

    def log(N, label, row):
        res.setdefault(N, {})[label] = row
        write(a.out, dict(meta, load_now=os.getloadavg()), res)
        e = row["mcwf"]
        print(f"N={N} {label}: MCWF {e['db']:+.3f} +- {e['se_db']:.3f} ({e['ntraj']}) o2 {row['order2']['db']:+.3f} "
              f"o3 {row['order3']['db']:+.3f} {e['wall_s']:.0f} s", flush=True)

    scale.run_scale(a.N, lambda N: a.ntraj, scale.N_TIMES, workers=a.workers, store=ROOT / ".cache" / "mcwf_scale",
                    target_db=a.target, log=log, labels=a.only)
    return 0 if res else 1


if __name__ == "__main__":
    sys.exit(main())
