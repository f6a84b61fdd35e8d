"""Parameter sweeps at scale: one grid API, local processes or a Dask cluster, checkpoints.

    >>> from piqs_squeeze.sweep import run_sweep
    >>> table = run_sweep({                                          # doctest: +SKIP
    ...     "fixed": {"N": 10000, "chi": 1.0},
    ...     "grid": {"ratio": {"start": 0.5, "stop": 1.5, "num": 41},
    ...              "gamma_s": {"start": 1, "stop": 200, "num": 40, "log": True}},
    ...     "times": {"t_end": 5.0, "unit": "gamma_s", "num": 400},
    ...     "methods": ["cumulant"], "summaries": ["min_transient_xi2"],
    ... }, out="fig3a.sweep")
    >>> plot_map(table, "ratio", "gamma_s", "min_transient_xi2_db")  # doctest: +SKIP

The pieces: :mod:`~piqs_squeeze.sweep.spec` (grid, points, config files),
:mod:`~piqs_squeeze.sweep.execute` (chunks, executors, resume), :mod:`~piqs_squeeze.sweep.store`
(the sweep directory), :mod:`~piqs_squeeze.sweep.summaries` (scalar summaries),
:mod:`~piqs_squeeze.sweep.table` (the labelled table) and :mod:`~piqs_squeeze.sweep.plot`.
The command line (:mod:`~piqs_squeeze.sweep.cli`): ``piqs-squeeze sweep CONFIG [--workers N]
[--scheduler ADDRESS] [--resume [--rerun-errors]] [--show COLUMNS]``.

A sweep is never quietly empty: :func:`run_sweep` warns (:class:`SweepWarning`) with the number of
failed points and the first message, raises :class:`SweepFailedError` when every point failed, and
says how many stored failures a resume reuses (``rerun_errors=True`` recomputes them).
"""
from __future__ import annotations

from piqs_squeeze.sweep.execute import SweepFailedError, SweepWarning, make_chunks, run_chunk, run_sweep, shutdown_pool
from piqs_squeeze.sweep.plot import plot_curve, plot_map
from piqs_squeeze.sweep.spec import Point, SweepSpec, load_config
from piqs_squeeze.sweep.store import SweepMismatchError
from piqs_squeeze.sweep.summaries import SUMMARIES, register_summary
from piqs_squeeze.sweep.table import SweepTable, load_sweep

__all__ = [
    "SweepSpec", "Point", "SweepTable", "SweepMismatchError", "SweepFailedError", "SweepWarning", "run_sweep", "load_sweep", "load_config",
    "make_chunks", "run_chunk", "shutdown_pool", "SUMMARIES", "register_summary", "plot_curve", "plot_map",
]
