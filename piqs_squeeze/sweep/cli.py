"""``piqs-squeeze sweep CONFIG``: run a parameter sweep described in a TOML/JSON/YAML file."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .execute import run_sweep
from .spec import SweepSpec
from .store import SweepMismatchError

__all__ = ["add_arguments", "run_cli"]

#: failed points listed by the command line (all are in the table)
MAX_LISTED = 20


def add_arguments(parser) -> None:
    """Arguments of ``piqs-squeeze sweep``."""
    parser.add_argument("config", help="sweep description (.toml, .json or .yaml); see piqs_squeeze.sweep.spec")
    parser.add_argument("--out", help="sweep directory (default: CONFIG without suffix + '.sweep')")
    parser.add_argument("--workers", type=int, help="local worker processes (default: number of cores; 1 = serial)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786")
    parser.add_argument("--resume", action="store_true", help="continue the sweep already in --out")
    parser.add_argument("--force", action="store_true",
                        help="start over, deleting the chunks in --out; with --resume: continue the same "
                        "sweep, start over only if the sweep or code changed")
    parser.add_argument("--rerun-errors", action="store_true", help="with --resume: recompute points that failed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_cli(args) -> int:
    """Run the sweep of ``args.config``; print where the table went.

    Exit status: 0 every point computed, 1 some points failed (listed; the table is written and
    ``--resume --rerun-errors`` retries them), 2 a config or sweep-directory error (nothing
    computed), 130 interrupted (finished chunks are kept).
    """
    try:
        spec = SweepSpec.from_file(args.config)
    except (OSError, ValueError, TypeError) as exc:
        print(f"piqs-squeeze sweep: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.config).with_suffix(".sweep")
    try:
        table = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                          force=args.force, rerun_errors=args.rerun_errors,
                          progress=False if args.no_progress else None)
    except SweepMismatchError as exc:
        print(f"piqs-squeeze sweep: {exc}", file=sys.stderr)
        return 2
    s = table.stats
    failed = np.flatnonzero(~table.ok)
    print(f"{s['points']} points: {s['points_computed']} computed in {s['chunks_computed']} chunks on "
          f"{s['workers']} workers, {s['points_loaded']} loaded; {failed.size} failed")
    print(f"table: {out / 'table.npz'} and {out / 'table.csv'}")
    if failed.size:
        errors = table["error"]
        for i in failed[:MAX_LISTED]:
            print(f"  point {int(table['index'][i])}: {errors[i]}", file=sys.stderr)
        if failed.size > MAX_LISTED:
            print(f"  ... and {failed.size - MAX_LISTED} more (column 'error' of the table)", file=sys.stderr)
        print(f"piqs-squeeze sweep: {failed.size} of {s['points']} points failed; retry them with "
              "--resume --rerun-errors", file=sys.stderr)
        return 1
    return 0
