"""Exact small-N benchmark data for other codes: ``piqs-squeeze validate --export-benchmarks DIR``.

For every model of :func:`benchmark_models` the exact solver's <J_a>(t), symmetrized second
moments <(J_a J_b + J_b J_a)/2>(t), xi^2(t) (Wineland, real N) and N_eff(t) are written as

* ``DIR/<name>.json``: model (every rate, qutip.piqs conventions), initial state, times, solver,
  tolerances, package versions, and the arrays;
* ``DIR/<name>.csv``: one row per time: t, Jx, Jy, Jz, the six second moments, xi2, xi2_dB, N_eff
  (header lines starting with ``#`` repeat the metadata);
* ``DIR/index.json``: the list of models and files.

Initial state: coherent spin state along -x (all atoms in (|up> - |down>)/sqrt(2), QuTiP's
basis(2, 0) is up), unless stated in the file. Times in 1/Gamma (Gamma = 1).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.result import jsonable, provenance

__all__ = ["benchmark_models", "export_benchmarks", "RTOL"]

#: Relative tolerance of the exact solver for the exported data (its Krylov error control).
RTOL = 1e-10

_SETS = {
    # the paper's collective model below threshold, and with single-particle emission
    "paper_r0.9_chi1_gs0": dict(ratio=0.9, chi=1.0),
    "paper_r0.9_chi1_gs1": dict(ratio=0.9, chi=1.0, gamma_s=1.0),
    # every rate of the Model on (qutip.piqs conventions), above threshold, negative chi
    "allrates": dict(ratio=1.4, chi=-0.7, gamma_s=2.0, dephasing=0.1, pumping=0.4,
                     collective_dephasing=0.3, collective_pumping=0.05),
}


def benchmark_models(mode: str = "quick"):
    """(name, model, times) of the exported set.

    N = 2, 3, 4, 5, 6, 8, 10, 20 (quick) plus 50 and 100 (full), for each parameter set of
    ``_SETS``; Omega = N ratio Upsilon_c / 2. Times: 21 points on [0, 1] for N <= 20 and on
    [0, 0.25] beyond (the collective time scale is 1/(N Gamma)).
    """
    Ns = [2, 3, 4, 5, 6, 8, 10, 20] + ([50, 100] if mode == "full" else [])
    out = []
    for N in Ns:
        times = np.linspace(0.0, 1.0 if N <= 20 else 0.25, 21)
        for key, p in _SETS.items():
            p = dict(p)
            model = ps.Model.from_upsilon_ratio(N, p.pop("ratio"), chi=p.pop("chi"), **p)
            out.append((f"N{N:03d}_{key}", model, times))
    return out


def export_benchmarks(directory, mode: str = "quick", progress=None, models=None) -> list[Path]:
    """Run the exact solver on the benchmark set and write JSON + CSV files; return their paths."""
    from tqdm.auto import tqdm

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    models = benchmark_models(mode) if models is None else models
    initial = ps.css()
    prov = provenance()
    paths, index = [], []
    for name, model, times in tqdm(models, desc="benchmarks", disable=(not progress) if progress is not None else None):
        res = ps.evolve(model, times, method="exact", initial=initial, rtol=RTOL)
        meta = {
            "name": name,
            "model": model.to_dict(),
            "model_str": str(model),
            "initial_state": {**initial.to_dict(), "description": "coherent spin state along -x"},
            "method": "exact (piqs_squeeze.methods.exact.solver, Dicke blocks, Krylov exp(tL))",
            "tolerances": {"rtol": RTOL},
            "conventions": "hbar = 1; J_a = sum_i sigma_i^a / 2; H = chi J+J- + omega Jx; "
                           "gamma D[J-] + gamma_s sum D[sigma-] + dephasing sum D[sigma^z/2] + pumping sum D[sigma+] "
                           "+ collective_dephasing D[Jz] + collective_pumping D[J+]; second = <(JaJb+JbJa)/2>; "
                           "xi2 = N min Var(J.n_perp) / |<J>|^2 with the real N",
            "provenance": prov,
        }
        data = {"times": res.times, "mean": res.mean, "second": res.second, "xi2": res.xi2,
                "xi2_db": res.xi2_db, "n_eff": res.n_eff}
        jp = d / f"{name}.json"
        jp.write_text(json.dumps(jsonable({**meta, **data}), indent=1))
        cp = d / f"{name}.csv"
        with cp.open("w", newline="") as f:
            for k in ("name", "model_str", "tolerances", "conventions"):
                f.write(f"# {k}: {json.dumps(jsonable(meta[k]))}\n")
            f.write(f"# piqs_squeeze {prov['piqs_squeeze']}, qutip {prov['qutip']}, {prov['date']}\n")
            w = csv.writer(f)
            w.writerow(["t", "Jx", "Jy", "Jz", "JxJx", "JyJy", "JzJz", "JxJy", "JxJz", "JyJz",
                        "xi2", "xi2_dB", "N_eff"])
            s = res.second
            for i, t in enumerate(res.times):
                w.writerow([repr(float(v)) for v in (t, *res.mean[i], s[i, 0, 0], s[i, 1, 1], s[i, 2, 2],
                                                     s[i, 0, 1], s[i, 0, 2], s[i, 1, 2], res.xi2[i],
                                                     res.xi2_db[i], res.n_eff[i])])
        paths += [jp, cp]
        index.append({"name": name, "N": model.N, "json": jp.name, "csv": cp.name, "model": model.to_dict()})
    ip = d / "index.json"
    ip.write_text(json.dumps(jsonable({"mode": mode, "provenance": prov, "models": index}), indent=1))
    return paths + [ip]
