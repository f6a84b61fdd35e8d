"""The exact solver's reference run at N = 300 (issue 3: 'within an hour'), one run, written to
results/exact_n300.json and picked up by bench_exact.py's report. Takes about an hour on 2 cores:

    python benchmarks/bench_exact_n300.py [--N 300]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

from piqs_squeeze.methods.exact import solver as exact
from bench_exact import TIMES, reference_model

RESULTS = Path(__file__).parent / "results"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=300)
    args = p.parse_args()
    exact.evolve(reference_model(4), TIMES[:3], progress=False)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    r = exact.evolve(reference_model(args.N), TIMES, rtol=1e-8, progress=True)
    wall = time.perf_counter() - t0
    row = {"N": args.N, "n_packed": r.stats["packed_size"], "wall_s": wall, "products": r.stats["products"],
           "steps": r.stats["steps"], "max_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "min_xi2_dB": float(np.min(r.xi2_db[1:])), "load_avg_start": load0, "load_avg_end": os.getloadavg()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"exact_n{args.N}.json").write_text(json.dumps(row, indent=1))
    print(row)


if __name__ == "__main__":
    main()
