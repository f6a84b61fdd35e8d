"""Benchmark of general quadratic Hamiltonians in the exact solver (issue 17).

1. The paper model must not get slower. The code of commit ``--old`` (default a60fd47, before
   general Hamiltonians) is extracted with ``git archive`` into a temporary directory as the
   package ``piqs_squeeze_old`` (every ``piqs_squeeze`` in its sources renamed), so that old and
   new run in the same process, on the same data, interleaved: that cancels most of the load
   of a shared machine, which made separate processes vary by 2x. Measured:

   * the generator product (``PackedGenerator.dot``) at N, old and new alternating in blocks of
     10 products, ``--repeat`` x 3 pairs;
   * the reference run of benchmarks/bench_exact.py (chi = Gamma = 1, Upsilon/Upsilon_c = 0.9,
     gamma_s = 1, CSS along -x, rtol 1e-8; here t in [0, T], 13 outputs), old and new alternating,
     ``--repeat`` pairs; the moments must be bit-identical.

   The ratio old / new of each pair is reported (median and range; >= 0.95 required).
2. The cost of a general H: the same run and product with H_extra = {"Jz Jz": 1, "Jy": 0.5,
   "Jx Jz": 0.3} added, against the paper model (this code, interleaved the same way).
3. The cost of a ramp (CF4 commutator-free Magnus with step doubling,
   :mod:`piqs_squeeze.methods.exact.timedep`): the reference run at ``--ramp-N`` with the drive
   ramped linearly from Omega to Omega/2 over [0, T], against the constant drive, and the
   deviation of both from a run at rtol 1e-11.

    OMP_NUM_THREADS=1 python benchmarks/bench_general_h.py [--N 100] [--T 0.5] [--repeat 3]

Writes benchmarks/results/general_h.json and general_h.md.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import json
import os
import platform
import re
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


def old_package(rev: str, where: Path) -> str:
    """Extract ``rev``'s package into ``where`` as ``piqs_squeeze_old``; returns that name."""
    data = subprocess.run(["git", "archive", "--format=tar", rev, "piqs_squeeze"], cwd=ROOT, capture_output=True,
                          check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        t.extractall(where)
    pkg = where / "piqs_squeeze_old"
    (where / "piqs_squeeze").rename(pkg)
    for f in pkg.rglob("*.py"):
        f.write_text(re.sub(r"\bpiqs_squeeze\b", "piqs_squeeze_old", f.read_text()))
    sys.path.insert(0, str(where))
    return "piqs_squeeze_old"


def _reference(ps, N, general=False):
    model = ps.Model.from_upsilon_ratio(N, 0.9, chi=1.0, gamma=1.0, gamma_s=1.0)
    return model.replace(hamiltonian=GENERAL) if general else model


def _stat(res, key, default=None):
    """A diagnostic of a Result: in ``stats`` (this tree), in ``extras`` (commits before Result.stats)."""
    stats = getattr(res, "stats", None) or {}
    return stats[key] if key in stats else res.extras.get(key, default)


def _products(pkgs, N, repeat):
    """ms per product of each (name, package, general) in ``pkgs``, interleaved blocks of 10."""
    import numpy as np

    ops = []
    for name, pkg, general in pkgs:
        gen = importlib.import_module(pkg + ".methods.exact.generator")
        ker = importlib.import_module(pkg + ".methods.exact.kernels")
        ops.append((name, ker.PackedGenerator(_reference(importlib.import_module(pkg), N, general), gen.Layout(N))))
    n = ops[0][1].shape[0]
    x = np.random.default_rng(0).standard_normal(n)
    y, d = np.empty(n), np.zeros(2)
    for _, K in ops:
        K.dot(x, out=y, dots=d)
    out = {name: [] for name, _ in ops}
    for r in range(3 * repeat):
        for name, K in (ops if r % 2 == 0 else ops[::-1]):
            t0 = time.perf_counter()
            for _ in range(10):
                K.dot(x, out=y, dots=d)
            out[name].append(1e3 * (time.perf_counter() - t0) / 10)
    return out


def _runs(pkgs, N, T, repeat):
    """(wall times, products, digests) of the reference run for each entry of ``pkgs``, interleaved."""
    import numpy as np

    times = np.linspace(0.0, T, 13)
    mods = []
    for name, pkg, general in pkgs:
        ps = importlib.import_module(pkg)
        solver = importlib.import_module(pkg + ".methods.exact.solver")
        solver.evolve(_reference(ps, 4, general), np.linspace(0, 0.1, 3), progress=False)  # compile
        mods.append((name, solver, _reference(ps, N, general)))
    out = {name: {"wall": [], "products": None, "digest": set()} for name, _, _ in mods}
    for r in range(repeat):
        for name, solver, model in (mods if r % 2 == 0 else mods[::-1]):
            t0 = time.perf_counter()
            res = solver.evolve(model, times, progress=False)
            out[name]["wall"].append(time.perf_counter() - t0)
            out[name]["products"] = int(_stat(res, "products"))
            out[name]["digest"].add(hashlib.sha256(res.mean.tobytes() + res.second.tobytes()).hexdigest()[:16])
    for v in out.values():
        v["digest"] = sorted(v["digest"])
    return out


def _ramp(N, T):
    """(constant, ramp) wall time, products and error vs rtol 1e-11 of the reference run at N."""
    import numpy as np

    import piqs_squeeze as ps
    from piqs_squeeze.methods.exact import solver

    times = np.linspace(0.0, T, 13)
    model = _reference(ps, N)
    out = {}
    for name, m in (("constant", model), ("ramp", model.replace(omega=ps.Ramp.linear(0.0, T, model.omega,
                                                                                     0.5 * model.omega)))):
        tight = solver.evolve(m, times, rtol=1e-11, progress=False)
        t0 = time.perf_counter()
        res = solver.evolve(m, times, progress=False)
        out[name] = {"wall": time.perf_counter() - t0, "products": int(_stat(res, "products")),
                     "cf4_steps": int(_stat(res, "cf4_steps", 0)),
                     "error": float(np.abs(res.second - tight.second).max() / np.abs(tight.second).max())}
    return out


def _commit():
    """The measured checkout's short commit (``+dirty`` if it has uncommitted changes to piqs_squeeze/)."""
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "piqs_squeeze"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return rev + ("+dirty" if dirty else "")


def _ratio(a, b):
    """Paired ratios a_i / b_i: (median, min, max)."""
    r = sorted(x / y for x, y in zip(a, b))
    return r[len(r) // 2], r[0], r[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=100)
    ap.add_argument("--T", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--old", default="a60fd47")
    ap.add_argument("--ramp-N", type=int, default=40)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        old = old_package(args.old, Path(tmp))
        pkgs = [("old", old, False), ("new", "piqs_squeeze", False), ("general", "piqs_squeeze", True)]
        prod = _products(pkgs, args.N, args.repeat)
        runs = _runs(pkgs, args.N, args.T, args.repeat)
    ramp = _ramp(args.ramp_N, args.T)
    load1 = os.getloadavg()[0]
    identical = runs["old"]["digest"] == runs["new"]["digest"] and len(runs["new"]["digest"]) == 1
    r_prod = _ratio(prod["old"], prod["new"])
    r_run = _ratio(runs["old"]["wall"], runs["new"]["wall"])
    g_prod = _ratio(prod["general"], prod["new"])
    g_run = _ratio(runs["general"]["wall"], runs["new"]["wall"])
    out = {"N": args.N, "T": args.T, "repeat": args.repeat, "old": args.old, "products_ms": prod, "runs": runs,
           "old_over_new_product": r_prod, "old_over_new_run": r_run, "bit_identical": identical,
           "general_terms": GENERAL, "general_over_paper_product": g_prod, "general_over_paper_run": g_run,
           "ramp_N": args.ramp_N, "ramp": ramp, "load": [load0, load1], "machine": platform.platform(),
           "cores": os.cpu_count(), "commit": _commit()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "general_h.json").write_text(json.dumps(out, indent=1))

    def fmt(r):
        return f"**{r[0]:.3f}** ({r[1]:.3f} - {r[2]:.3f})"

    def med(v):
        return sorted(v)[len(v) // 2]

    md = f"""# General Hamiltonians in the exact solver (issue 17)

Measured on commit {out['commit']} (this code) against {args.old}.

N = {args.N}; reference run of benchmarks/bench_exact.py (chi = Gamma = 1, Upsilon/Upsilon_c = 0.9,
gamma_s = 1, CSS along -x, rtol 1e-8), t in [0, {args.T:g}], 13 outputs. "old" is the package of commit
{args.old} (git archive, renamed piqs_squeeze_old), "new" this tree, "general" this tree with
H_extra = {GENERAL} added. All three in one process, interleaved (see the script's docstring).

Machine: {os.cpu_count()} cores shared with other sessions (load average {load0:.1f} at start,
{load1:.1f} at end); OMP/OPENBLAS/MKL threads = 1.

| | old | new | general |
|---|---|---|---|
| ms per product (median of {3 * args.repeat}) | {med(prod['old']):.3f} | {med(prod['new']):.3f} | {med(prod['general']):.3f} |
| reference run wall (s, median of {args.repeat}) | {med(runs['old']['wall']):.2f} | {med(runs['new']['wall']):.2f} | {med(runs['general']['wall']):.2f} |
| products of the run | {runs['old']['products']} | {runs['new']['products']} | {runs['general']['products']} |

Paired ratios, median (range):

* paper model, old / new, per product: {fmt(r_prod)}; per run: {fmt(r_run)} (>= 0.95 required; > 1: new faster)
* paper-model moments of old and new bit-identical: **{identical}**
* general H / paper model, per product: {fmt(g_prod)}; per run: {fmt(g_run)} (the general H's bands
  are added row by row, a contiguous loop over each row's interior and bounds-checked edges,
  after the paper kernel's own terms; the run also needs more products, the spectrum being wider)

Ramp at N = {args.ramp_N} (Omega -> Omega/2 linearly over [0, {args.T:g}], rtol 1e-8; error: max |second -
tight| / max |tight|, tight = the same at rtol 1e-11):

| drive | wall (s) | products | CF4 steps | error |
|---|---|---|---|---|
| constant | {ramp['constant']['wall']:.2f} | {ramp['constant']['products']} | - | {ramp['constant']['error']:.1e} |
| ramp | {ramp['ramp']['wall']:.2f} | {ramp['ramp']['products']} | {ramp['ramp']['cf4_steps']} | {ramp['ramp']['error']:.1e} |

The ramp costs far more than the constant drive: one Krylov propagation covers the whole constant
run, while CF4 needs 6 exponentials per step (two per step of h and of each h/2, for the step
doubling) and its steps are short (local error O(h^5) times commutators of L(t) that grow like
N^2 Omega'), with the error estimate per unit time kept below rtol/2 (an honest bound; the
measured error lies well below rtol).
"""
    (RESULTS / "general_h.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
