"""Options of the MCWF ensemble (:func:`piqs_squeeze.methods.mcwf.ensemble.evolve`).

Tolerance: ``step_tol`` bounds the error on ||psi|| of every single no-jump step (in sectors
larger than ``sector.SMALL_DIM``), unlike the exact solver's ``rtol``, an error target relative
to the norm of the state over the whole run; ``ramp_tol`` bounds, per unit time, the local error
estimate of the fourth-order commutator-free Magnus (CF4) steps of time-dependent coefficients.
"""
from __future__ import annotations

import numbers
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from piqs_squeeze.options import MethodOptions, anything, choice, flag, integer, memory, option, real
from .sector import RAMP_TOL, SCHEMES, STEP_TOL

__all__ = ["McwfEvolveOptions", "SCHEMES"]


def _seed(name, v):
    if v is None or isinstance(v, np.random.SeedSequence):
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"{name} must be a non-negative integer, a SeedSequence or None, got {v!r}")
    return int(v)


def _executor(name, v):
    if v is not None and not isinstance(v, Executor) and not (type(v).__name__ == "Client"
                                                               and hasattr(v, "get_executor")):
        raise TypeError(f"{name} must be a concurrent.futures.Executor (e.g. a Dask client.get_executor()) or a "
                        f"distributed.Client, got {type(v).__name__}")
    return v


def _scheduler(name, v):
    if v is not None and (not isinstance(v, str) or not v.strip()):
        raise TypeError(f"{name} must be the address of a Dask scheduler ('tcp://host:8786'), got {v!r}")
    return v


def _displacement(name, v):
    if isinstance(v, str) or isinstance(v, numbers.Number) and not isinstance(v, bool):
        return v
    raise TypeError(f"{name} must be 'adaptive', 'fixed_point', 'none', 'drive' or a complex number, got {v!r}")


def _step_tol(name, v):
    return STEP_TOL if v is None else real(0, 1e-2)(name, v)


def _ramp_tol(name, v):
    return RAMP_TOL if v is None else float(real(0, 1)(name, v))


@dataclass(frozen=True)
class McwfEvolveOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.mcwf.ensemble.evolve`."""

    method = "mcwf"
    kind = "evolve"
    renamed = {"propagator": "scheme"}

    ntraj: int = option(100, "number of trajectories (the maximum with target_xi2_err)", integer(1))
    seed: int | None = option(None, "root seed (int or SeedSequence); None draws entropy, recorded as "
                              "options['seed_entropy']", _seed)
    workers: int | None = option(None, "local processes (None: all cores; serial for 1 or small ensembles)",
                                 integer(1, none=True))
    executor: Executor | None = option(None, "a concurrent.futures.Executor (a Dask client.get_executor()) or a "
                                       "distributed.Client to use instead of local processes", _executor)
    scheduler: str | None = option(None, "address of a Dask scheduler ('tcp://host:8786') to run the trajectories "
                                   "on instead of local processes", _scheduler)
    progress: bool | None = option(None, "tqdm progress bar; None: only on a terminal", flag(True))
    keep_trajectories: bool = option(False, "store per-trajectory records (traj_*, jump_*) in extras", flag())
    target_xi2_err: float | None = option(None, "run batches until max_t xi2_err(t) is below it (or ntraj are "
                                          "done)", real(0, none=True, message="a positive number"))
    batch: int | None = option(None, "trajectories per batch (None: min(ntraj, 100) with target_xi2_err, else "
                               "ntraj)", integer(1, none=True))
    displacement: str | complex = option("adaptive", "unravelling of collective emission J- -> J- + beta: "
                                         "'adaptive', 'fixed_point', 'none', 'drive' or a complex beta",
                                         _displacement)
    chunk: int | None = option(None, "trajectories per worker task (None: automatic)", integer(1, none=True))
    step_tol: float = option(STEP_TOL, "error bound on ||psi|| per no-jump step in large sectors (the rational "
                             "scheme treats bounds below 1.4e-11 as 1.4e-11; None: the default)", _step_tol)
    scheme: str = option("rational", "no-jump propagation in large sectors: 'rational' (Pade steps) or 'krylov' "
                         "(Arnoldi steps)", choice(*SCHEMES))
    ramp_tol: float = option(RAMP_TOL, "time-dependent coefficients: error bound per unit time of the CF4 "
                             "(commutator-free Magnus) steps (ignored for constant models; None: the default)", _ramp_tol)
    checkpoint: str | None = option(None, "file of finished trajectories, reused by a rerun of the same run",
                                    anything)
    max_memory: float | None = option(None, "bytes allowed (None: what the machine has); a larger estimate is "
                                      "refused before anything is allocated", memory)
