"""Same inputs, same bits: every method gives identical bytes for any numba thread count, BLAS
thread count and number of worker processes.

Each configuration runs in a fresh interpreter (thread pools are fixed at start-up), and the
results are compared as SHA-256 digests of their arrays: no tolerance.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, sys
    import numpy as np
    import numba
    import piqs_squeeze as ps
    from threadpoolctl import threadpool_info

    def digest(res):
        h = hashlib.sha256()
        for a in (res.times, res.mean, res.second, res.mean_err, res.second_err):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    out = {"numba_threads": numba.get_num_threads(),
           "blas_threads": max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] or [1])}
    local = dict(chi=1.0, gamma=1.0, gamma_s=0.7, dephasing=0.3, pumping=0.2)
    t = np.linspace(0.0, 0.4, 9)
    for N in (4, 20):  # N = 4: the original last-bit failure; N = 20: step-size decisions depend on it
        m = ps.Model.from_upsilon_ratio(N, 0.9, **local)
        out[f"exact N={N}"] = digest(ps.evolve(m, t, method="exact", progress=False))
    coll = ps.Model.from_upsilon_ratio(30, 0.9, chi=1.0, gamma=1.0, collective_dephasing=0.2)
    out["exact collective N=30"] = digest(ps.evolve(coll, t, method="exact", progress=False))
    # N + 1 <= 64: cached sector tables from a LAPACK eigendecomposition
    m = ps.Model.from_upsilon_ratio(50, 0.9, chi=1.0, gamma=1.0, gamma_s=0.5)
    for w in (1, 2):
        out[f"mcwf workers={w}"] = digest(ps.evolve(m, t, method="mcwf", ntraj=6, seed=7, workers=w,
                                                   progress=False))
    big = ps.Model.from_upsilon_ratio(200, 0.9, chi=1.0, gamma=1.0, gamma_s=1.0)
    out["mcwf N=200"] = digest(ps.evolve(big, t[:5], method="mcwf", ntraj=2, seed=3, workers=1, progress=False))
    models = [ps.Model.from_upsilon_ratio(1000, r, chi=1.0, gamma_s=g) for r in (0.7, 0.9) for g in (0.0, 2.0)]
    for meth in ("cumulant", "meanfield"):
        res = ps.evolve(models, np.linspace(0, 1, 21), method=meth)
        out[meth] = [digest(r) for r in res]
    ss = ps.steady_state(ps.Model.from_upsilon_ratio(12, 0.8, **local), method="exact")
    out["exact steady state"] = digest(ss)
    spec = ps.liouvillian_spectrum(ps.Model.from_upsilon_ratio(8, 0.8, **local), k=4)
    out["spectrum"] = hashlib.sha256(np.ascontiguousarray(getattr(spec, "eigenvalues", spec)).tobytes()).hexdigest()
    out["carmichael"] = digest(ps.steady_state(ps.Model.from_upsilon_ratio(50, 0.8, chi=1.0), method="carmichael"))
    json.dump(out, sys.stdout)
    """
)


def _run(threads):
    env = dict(os.environ)
    n = str(threads)
    env.update(NUMBA_NUM_THREADS=n, PIQS_SQUEEZE_THREADS=n, OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n,
               MKL_NUM_THREADS=n)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def runs():
    return {n: _run(n) for n in (1, 2)}


def test_thread_counts_really_differ(runs):
    assert runs[1]["numba_threads"] == 1 and runs[2]["numba_threads"] == 2
    assert runs[2]["blas_threads"] >= 1  # as many as the BLAS has (one on a 1-thread build)


@pytest.mark.parametrize("key", ["exact N=4", "exact N=20", "exact collective N=30", "mcwf workers=1",
                                 "mcwf N=200", "cumulant", "meanfield", "carmichael",
                                 "exact steady state", "spectrum"])
def test_same_bits_for_one_and_two_threads(runs, key):
    assert runs[1][key] == runs[2][key]


def test_mcwf_same_bits_for_any_number_of_workers(runs):
    for r in runs.values():
        assert r["mcwf workers=1"] == r["mcwf workers=2"]
