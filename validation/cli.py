"""``piqs-squeeze validate``: run the cross-method checks and write the report.

Prints one verdict line per check and exits 0 only if no check failed or crashed (skipped
checks -- methods missing from this version -- do not fail the run but are listed as such; the
paper claims are reported as REPRODUCED, DIFFERS or NOT REPRODUCED and do not change the exit
status).
"""
from __future__ import annotations

import argparse
import sys
import time

__all__ = ["add_arguments", "run_cli", "parse_perturb"]


def parse_perturb(items) -> dict:
    """``["gamma_s=1.05", ...]`` -> ``{"gamma_s": 1.05}`` (rate names of the Model)."""
    from piqs_squeeze.model import COLLECTIVE_RATES, LOCAL_RATES

    allowed = set(LOCAL_RATES) | set(COLLECTIVE_RATES) | {"omega", "chi"}
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or name not in allowed:
            raise ValueError(f"--perturb expects RATE=FACTOR with RATE in {sorted(allowed)}, got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"--perturb {item!r}: FACTOR must be a number") from None
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small N, few trajectories: a few minutes on 2 cores (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="larger N and more trajectories (up to about an hour)")
    parser.set_defaults(mode="quick")
    parser.add_argument("--out", default="validation-report", metavar="DIR",
                        help="report directory: report.md, report.json, plots/ (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="CHECK", help="run only these checks (see --list)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--export-benchmarks", metavar="DIR",
                        help="write the exact solver's reference data (moments, xi^2(t), N_eff(t)) as JSON "
                             "and CSV into DIR, then exit: N = 2..20 (with --full: also N = 50 and 100)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar (default: only on a terminal)")
    # testing hook: multiply a rate of every reference model so that checks fail on purpose
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="run the large MCWF ensembles (check mcwf_vs_cumulant_1e4) on this Dask scheduler "
                             "(tcp://host:8786) instead of local processes; same bits")
    parser.add_argument("--perturb", action="append", metavar="RATE=FACTOR", help=argparse.SUPPRESS)


def run_cli(args) -> int:
    from .core import load_checks, run_checks
    from .registry import REGISTRY, Context
    from .report import summary, summary_line, verdict_line, write_report

    if args.list:
        load_checks()
        for name, e in REGISTRY.items():
            print(f"{e.group}  {name:<28}  {e.title}")
        return 0
    from piqs_squeeze.runtime.fileio import NotWritableError, ensure_writable

    try:  # before any check runs: an unwritable report directory must not cost the whole run
        ensure_writable(args.export_benchmarks or args.out,
                        "validate --export-benchmarks" if args.export_benchmarks else "validate --out")
    except NotWritableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.export_benchmarks:
        from .export import export_benchmarks

        paths = export_benchmarks(args.export_benchmarks, mode=args.mode, progress=args.progress)
        print(f"wrote {len(paths)} files to {args.export_benchmarks}")
        return 0
    try:
        ctx = Context(mode=args.mode, out=args.out, perturb=parse_perturb(args.perturb), scheduler=args.scheduler)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        results = run_checks(ctx, only=args.only, progress=args.progress,
                             on_result=lambda r: print(verdict_line(r), flush=True))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - t0
    md, _ = write_report(results, ctx, seconds, command=" ".join(sys.argv))
    s = summary(results)
    print(f"{summary_line(s)} in {seconds:.0f} s; report: {md}")
    return 0 if s["ok"] else 1
