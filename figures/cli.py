"""``piqs-squeeze figure NAME|all [--quick] [--out DIR]``: regenerate the paper's figures.

Each figure's data are cached in ``<out>/.cache`` (keyed by its parameters and the source of the
methods it uses), so plotting again takes seconds; ``--no-cache`` recomputes. The wall time of
every figure is printed and written to ``<out>/timings.json``.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from piqs_squeeze.runtime.fileio import NotWritableError, ensure_writable

__all__ = ["FIGURES", "add_arguments", "run_cli", "make_figure"]

#: Figure name -> (module, one-line description)
FIGURES = {
    "fig1a": ("piqs_squeeze.figures.fig1a", "steady-state phase diagram (Carmichael, gamma_s = 0)"),
    "fig1c": ("piqs_squeeze.figures.fig1c", "xi^2(t) at three drives, gamma_s = 0 (exact, j = N/2 block, N = 2000; quick: N = 100)"),
    "fig2a": ("piqs_squeeze.figures.fig2a", "xi^2(t), chi = 1, Upsilon/Upsilon_c = 0.9, gamma_s = 0 (exact, j = N/2 block, N = 2000; quick: N = 100)"),
    "fig2b": ("piqs_squeeze.figures.fig2b", "xi^2(t) and N_eff(t) for several gamma_s (MCWF, N = 2000)"),
    "fig2c": ("piqs_squeeze.figures.fig2c", "two single MCWF trajectories, gamma_s = 4"),
    "fig3a": ("piqs_squeeze.figures.fig3a", "min transient xi^2 over (Upsilon/Upsilon_c, gamma_s), cumulant N = 1e4"),
    "fig3b": ("piqs_squeeze.figures.fig3b", "min transient xi^2 vs chi with xi^2(t) inset, cumulant N = 1e4"),
    "fig3b_check": ("piqs_squeeze.figures.fig3b_check", "Fig. 3(b) checked: cumulant orders 2, 3 vs MCWF +- s.e. (N = 2000, 1e4; quick: N = 100, 300)"),
    "figS1": ("piqs_squeeze.figures.figS1", "min xi^2 map over (chi, 2 Omega/N) and cumulant vs MCWF, N = 2000"),
    "figS2": ("piqs_squeeze.figures.figS2", "ensemble and single-trajectory xi^2 and N_eff, MCWF N = 2000"),
    "phase_exact": ("piqs_squeeze.figures.phase_exact", "exact finite-N steady states and gap vs drive (beyond the paper)"),
    "cavity": ("piqs_squeeze.figures.cavity", "min transient xi^2 vs kappa/(g sqrt N) at fixed 4 g^2/kappa: explicit cavity (cumulant N = 1e4, exact small N; beyond the paper)"),
    "btc": ("piqs_squeeze.figures.btc", "boundary time crystal: rightmost Liouvillian modes vs drive and N, emission spectrum (exact; beyond the paper)"),
    "ramp": ("piqs_squeeze.figures.ramp", "drive ramped into the enhanced-squeezing window vs switched on (cumulant, N = 1e4; beyond the paper)"),
}


def add_arguments(parser) -> None:
    """Arguments of ``piqs-squeeze figure``."""
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="figure to make: " + ", ".join(FIGURES) + ", or 'all'")
    parser.add_argument("--quick", action="store_true",
                        help="reduced version (smaller N, coarser grids, fewer trajectories; 1-7 s each once numba's "
                             "kernels are compiled, the full ones up to ~5 min: see the README)")
    parser.add_argument("--out", default="piqs-squeeze-output/figures", help="output folder (PDF + PNG)")
    parser.add_argument("--no-cache", action="store_true", help="recompute even if cached data exist")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument("--order", type=int, choices=(2, 3), default=None,
                        help="cumulant order for fig3a / fig3b (3: order-3 curves and the difference)")


def make_figure(name: str, quick: bool, out, cache: bool = True, **overrides) -> dict:
    """Compute (or load from the cache) and plot one figure; returns paths and wall time."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; figures: {', '.join(FIGURES)}")
    mod = importlib.import_module(FIGURES[name][0])
    out = Path(out)
    t0 = time.perf_counter()
    data = mod.compute(quick=quick, cache_dir=(out / ".cache") if cache else None, **overrides)
    t1 = time.perf_counter()
    paths = mod.plot(data, out)
    t2 = time.perf_counter()
    return {"figure": name, "quick": quick, "paths": [str(p) for p in paths], "compute_s": t1 - t0,
            "plot_s": t2 - t1, "wall_s": t2 - t0, "cached": bool(data.get("cache_hit"))}


def run_cli(args) -> int:
    """Make the requested figure(s); 2 for an unknown name, 1 if a figure failed."""
    if args.list or not args.name:
        for k, (_, desc) in FIGURES.items():
            print(f"{k:6s} {desc}")
        return 0 if args.list else 2
    names = list(FIGURES) if args.name == "all" else [args.name]
    if any(n not in FIGURES for n in names):
        print(f"piqs-squeeze figure: unknown figure {args.name!r}; figures: {', '.join(FIGURES)}, all",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    try:  # before any figure is computed
        ensure_writable(out, "figure --out")
    except NotWritableError as exc:
        print(f"piqs-squeeze figure: {exc}", file=sys.stderr)
        return 2
    timings_path = out / "timings.json"
    try:
        timings = json.loads(timings_path.read_text())
    except (OSError, ValueError):
        timings = {}
    failed = 0
    for n in names:
        try:
            order = getattr(args, "order", None)
            info = make_figure(n, args.quick, out, cache=not args.no_cache,
                               **({"order": order} if order is not None and n in ("fig3a", "fig3b") else {}))
        except Exception as exc:  # noqa: BLE001 - one figure failing must not stop 'all'
            failed += 1
            print(f"{n}: FAILED ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        timings[f"{n}{'-quick' if args.quick else ''}"] = info
        out.mkdir(parents=True, exist_ok=True)
        timings_path.write_text(json.dumps(timings, indent=1))
        print(f"{n}: {info['wall_s']:.1f} s{' (cached data)' if info['cached'] else ''} -> "
              + ", ".join(info["paths"]))
    return 1 if failed else 0
