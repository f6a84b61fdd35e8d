"""Diagnostic (issue 17): is the cumulant map's new/old difference per-model overhead or the kernel?

Run once per version, in a fresh process, with the version first on PYTHONPATH, e.g.
    git archive a60fd47 piqs_squeeze | tar -x -C /tmp/oldpkg
    cd /tmp && PYTHONPATH=/tmp/oldpkg python /work/main/benchmarks/diag_moments_kernel_old_new.py
    cd /tmp && python /work/main/benchmarks/diag_moments_kernel_old_new.py
"short": the 2400 Fig. 3(a) models to t = 1e-4 / gamma_s (a few steps each: per-model overhead);
"kernel": one point (N = 1e4, ratio 0.4, gamma_s = 1) to t = 5 forty times (1.57e6 steps: the
compiled kernel). Best of 3 each; prints JSON (seconds, steps). Results in results/moments_general_h.md.
"""
import sys, time, os, json, numpy as np
os.environ.setdefault("OMP_NUM_THREADS", "1")
import piqs_squeeze as ps
from piqs_squeeze.methods.moments import cumulant
cumulant.evolve(ps.Model(4, omega=1.0), [0.0, 0.1])
models = [ps.Model.from_upsilon_ratio(10000, r, chi=1.0, gamma_s=g) for g in np.geomspace(1, 100, 40) for r in np.linspace(0.4, 1.2, 60)]
short = [np.linspace(0, 1e-4 / m.gamma_s, 400) for m in models]   # few steps: per-model overhead
full1 = [np.linspace(0, 5.0 / m.gamma_s, 400) for m in models[:1]] * 40  # one point, 40 times: kernel
out = {"pkg": ps.__file__}
for name, ts, ms in (("short", short, models), ("kernel", full1, models[:1] * 40)):
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter(); res = cumulant.evolve_many(ms, ts, rtol=1e-6, atol=1e-8, progress=False); best = min(best, time.perf_counter() - t0)
    st = getattr(res[0], "stats", None) or res[0].extras
    out[name] = (round(best, 3), int(sum((getattr(r, "stats", None) or r.extras)["steps"] for r in res)))
print(json.dumps(out))
