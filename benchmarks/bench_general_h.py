"""Benchmark of general quadratic Hamiltonians in the exact solver (issue 17).

1. The paper model must not get slower: the reference run of benchmarks/bench_exact.py
   (chi = Gamma = 1, Upsilon/Upsilon_c = 0.9, gamma_s = 1, CSS along -x, rtol 1e-8; here
   t in [0, T] with 13 outputs) with this code and with the code of commit ``--old`` (default
   a60fd47, before general Hamiltonians), each in its own subprocess (the old tree is extracted
   with ``git archive`` into a temporary directory and put first on PYTHONPATH), new and old
   alternating ``--repeat`` times; the minimum wall time of each is compared (and the moments,
   which must be bit-identical).
2. The cost of a general H: the same run with H_extra = {"Jz Jz": 1, "Jy": 0.5, "Jx Jz": 0.3}
   added, against the paper model, both with this code (wall time, products, time per product).

    OMP_NUM_THREADS=1 python benchmarks/bench_general_h.py [--N 100] [--T 0.5] [--repeat 3]

Writes benchmarks/results/general_h.json and general_h.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
GENERAL = {"Jz Jz": 1.0, "Jy": 0.5, "Jx Jz": 0.3}


def worker(N: int, T: float, general: bool) -> dict:
    """One timed run in this process (after a small warm-up run that compiles the kernels)."""
    import numpy as np

    import piqs_squeeze as ps
    from piqs_squeeze.methods.exact import solver as exact

    model = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma=1.0, gamma_s=1.0)
    if general:
        model = model.replace(hamiltonian=GENERAL)
    exact.evolve(model.replace(N=4), np.linspace(0, 0.1, 3), progress=False)
    times = np.linspace(0.0, T, 13)
    t0 = time.perf_counter()
    res = exact.evolve(model, times, progress=False)
    wall = time.perf_counter() - t0
    digest = hashlib.sha256(res.mean.tobytes() + res.second.tobytes()).hexdigest()[:16]
    return {"wall": wall, "products": int(res.extras["products"]), "per_product": wall / res.extras["products"],
            "digest": digest, "code": str(Path(ps.__file__).parent)}


def run_worker(path: Path, N: int, T: float, general: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(path))
    code = (f"import sys, json; sys.path.insert(0, {str(path)!r}); sys.path.insert(1, {str(ROOT / 'benchmarks')!r}); "
            f"import bench_general_h as b; print(json.dumps(b.worker({N}, {T}, {general})))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(path), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def old_tree(rev: str, where: Path) -> Path:
    data = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True, check=True).stdout
    tar = where / "old.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(where / "old")
    return where / "old"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=100)
    ap.add_argument("--T", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--old", default="a60fd47")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    runs = {"new": [], "old": [], "general": []}
    with tempfile.TemporaryDirectory() as tmp:
        old = old_tree(args.old, Path(tmp))
        for _ in range(args.repeat):
            runs["new"].append(run_worker(ROOT, args.N, args.T, False))
            runs["old"].append(run_worker(old, args.N, args.T, False))
            runs["general"].append(run_worker(ROOT, args.N, args.T, True))
    load1 = os.getloadavg()[0]
    best = {k: min(v, key=lambda r: r["wall"]) for k, v in runs.items()}
    identical = len({r["digest"] for r in runs["new"] + runs["old"]}) == 1
    ratio = best["old"]["wall"] / best["new"]["wall"]  # >= 1: new is at least as fast
    out = {"N": args.N, "T": args.T, "repeat": args.repeat, "old": args.old, "runs": runs, "speed_ratio_old_over_new": ratio,
           "bit_identical": identical, "general_terms": GENERAL,
           "general_over_paper_wall": best["general"]["wall"] / best["new"]["wall"],
           "general_over_paper_per_product": best["general"]["per_product"] / best["new"]["per_product"],
           "load": [load0, load1], "machine": platform.platform(), "cores": os.cpu_count()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "general_h.json").write_text(json.dumps(out, indent=1))
    rows = "\n".join("| {} | {} | {} | {:.3f} |".format(k, ", ".join(f"{r['wall']:.2f}" for r in runs[k]),
                                                        best[k]["products"], 1e3 * best[k]["per_product"])
                     for k in ("old", "new", "general"))
    md = f"""# General Hamiltonians in the exact solver (issue 17)

Reference run of benchmarks/bench_exact.py at N = {args.N} (chi = Gamma = 1, Upsilon/Upsilon_c = 0.9,
gamma_s = 1, CSS along -x, rtol 1e-8), t in [0, {args.T:g}], 13 outputs; every run in its own
subprocess after a warm-up, the three kinds alternating, {args.repeat} times each. "old" is the code of
commit {args.old} (extracted with git archive, first on PYTHONPATH), "new" this tree, "general" this
tree with H_extra = {GENERAL} added.

Machine: {os.cpu_count()} cores shared with other sessions (load average {load0:.1f} at start,
{load1:.1f} at end); OMP/OPENBLAS/MKL threads = 1. Timings are noisy; the minimum of each kind is compared.

| code | wall times (s) | products | ms per product (best run) |
|---|---|---|---|
{rows}

* paper model, old / new wall time (best of {args.repeat}): **{ratio:.3f}** (>= 0.95 required; > 1: new faster)
* paper-model moments of old and new bit-identical: **{identical}**
* general H / paper model: wall time **{out['general_over_paper_wall']:.2f}x**, time per product
  **{out['general_over_paper_per_product']:.2f}x** (the extra bands are applied by a generic, bounds-checked
  loop over each row, :func:`_hamiltonian_row`, on top of the paper kernel; the general H also needs
  more products, its spectrum being wider).
"""
    (RESULTS / "general_h.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
