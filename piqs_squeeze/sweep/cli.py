"""``piqs-squeeze sweep CONFIG``: run a parameter sweep described in a TOML/JSON/YAML file."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from piqs_squeeze.runtime.fileio import NotWritableError

from .execute import SweepFailedError, SweepWarning, run_sweep
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
    parser.add_argument("--show", metavar="COLUMNS",
                        help="print these columns of the table (comma-separated, e.g. method,ratio,final_xi2)")


def run_cli(args) -> int:
    """Run the sweep of ``args.config``; print where the table went.

    Exit status: 0 every point computed, 1 some or all points failed (listed; the table is
    written and ``--resume --rerun-errors`` retries them), 2 a config or sweep-directory error
    (a syntax error, an unknown parameter or time unit, a parameter both fixed and gridded, an
    unwritable ``--out``: refused before anything is computed), 130 interrupted (finished chunks
    are kept).
    """
    show = [c.strip() for c in args.show.split(",") if c.strip()] if getattr(args, "show", None) else []
    try:
        spec = SweepSpec.from_file(args.config)
        spec.expand()  # a point that cannot be built (e.g. omega and ratio both given) fails here, not mid-sweep
    except (OSError, ValueError, TypeError) as exc:
        print(f"piqs-squeeze sweep: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.config).with_suffix(".sweep")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SweepWarning)
        try:
            table = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                              force=args.force, rerun_errors=args.rerun_errors,
                              progress=False if args.no_progress else None)
        except (SweepMismatchError, NotWritableError) as exc:
            _replay(caught)
            print(f"piqs-squeeze sweep: {exc}", file=sys.stderr)
            return 2
        except SweepFailedError as exc:
            table = exc.table
    _replay(caught)
    s = table.stats
    failed = np.flatnonzero(~table.ok)
    print(f"{s['points']} points: {s['points_computed']} computed in {s['chunks_computed']} chunks on "
          f"{s['workers']} workers, {s['points_loaded']} loaded; {failed.size} failed")
    print(f"table: {out / 'table.npz'} and {out / 'table.csv'}")
    if show:
        try:
            print(table.to_text(show))
        except KeyError as exc:  # e.g. a summary column of a sweep whose every point failed
            print(f"piqs-squeeze sweep: --show: {exc.args[0]}", file=sys.stderr)
    if failed.size:
        errors = table["error"]
        for i in failed[:MAX_LISTED]:
            print(f"  point {int(table['index'][i])}: {errors[i]}", file=sys.stderr)
        if failed.size > MAX_LISTED:
            print(f"  ... and {failed.size - MAX_LISTED} more (column 'error' of the table)", file=sys.stderr)
        every = "all " if failed.size == s["points"] else ""
        print(f"piqs-squeeze sweep: {every}{failed.size} of {s['points']} points failed; retry them with "
              "--resume --rerun-errors", file=sys.stderr)
        return 1
    return 0


def _replay(caught):
    """Show the warnings caught during the sweep: the sweep's own as one plain line each (the
    failed points are listed by the caller), any other as Python shows warnings."""
    for w in caught:
        if issubclass(w.category, SweepWarning):
            if str(w.message).startswith("resuming"):  # the failures themselves are listed below
                print(f"piqs-squeeze sweep: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
