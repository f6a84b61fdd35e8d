"""Derived quantities of a time evolution, shared by sweeps, figures and validation.

All functions take a :class:`~piqs_squeeze.result.Result` of any method and use its xi^2(t) and
N_eff(t) (the one implementation in :mod:`piqs_squeeze.observables`).
"""
from __future__ import annotations

import math

import numpy as np

from .result import Result

__all__ = ["min_xi2", "min_transient_xi2", "transient_window", "neff_crossing_time", "first_crossing"]


def _check(result):
    if not isinstance(result, Result):
        raise TypeError(f"result must be a piqs_squeeze.Result, got {type(result).__name__}")
    return np.asarray(result.times, float), np.asarray(result.xi2, float)


def min_xi2(result, t_min: float = 0.0):
    """Minimum of xi^2(t) over the output times t >= t_min (paper Fig. S1).

    Returns ``(xi2_min, t_at)``; ``(nan, nan)`` if no finite xi^2 lies at t >= t_min.
    """
    t, x = _check(result)
    if isinstance(t_min, bool) or not isinstance(t_min, (int, float, np.floating)) or math.isnan(t_min):
        raise TypeError(f"t_min must be a real number, got {t_min!r}")
    ok = (t >= t_min) & np.isfinite(x)
    if not ok.any():
        return math.nan, math.nan
    i = np.flatnonzero(ok)[np.argmin(x[ok])]
    return float(x[i]), float(t[i])


def transient_window(xi2, rise: float = 1e-3):
    """Index where the transient window starts (after the early dip and the maximum after it).

    Walking along xi^2(t): the early collective dip is the running minimum, recognised once
    xi^2 rises above it by the relative amount ``rise``; the maximum after the dip is the
    running maximum, recognised once xi^2 falls below it by ``rise``. The window starts at that
    maximum. The threshold keeps integration ripples from counting as extrema. Returns None
    when there is no dip; when xi^2 never turns down after the dip, the window is the last
    output time (what the dip relaxes to). Non-finite values (no mean spin) are skipped.
    """
    x = np.asarray(xi2, float)
    idx = np.flatnonzero(np.isfinite(x))
    if idx.size < 3:
        return None
    lo = x[idx[0]]
    k = 0
    while k < idx.size and x[idx[k]] <= lo + rise * abs(lo):  # phase 1: the dip
        lo = min(lo, x[idx[k]])
        k += 1
    if k == idx.size:
        return None
    hi, i_hi = x[idx[k]], idx[k]
    while k < idx.size and x[idx[k]] >= hi - rise * abs(hi):  # phase 2: the maximum after it
        if x[idx[k]] > hi:
            hi, i_hi = x[idx[k]], idx[k]
        k += 1
    if k == idx.size:
        return int(idx[-1])
    return int(i_hi)


def min_transient_xi2(result, rise: float = 1e-3):
    """Minimum transient squeezing: min xi^2 after the early collective dip (paper Fig. 3).

    Definition: find the first local minimum of xi^2(t) (the early collective dip), then the
    first local maximum after it, and return the minimum of xi^2 from that maximum on (see
    :func:`transient_window`; extrema must be more pronounced than the relative ``rise``).
    When xi^2 never turns down again after the dip (e.g. gamma_s = 0: it relaxes monotonically to
    the steady state, or loses its squeezing above Upsilon_c), the transient value is the last one,
    what the dip relaxes to within the run. When there is no dip at all, it is the global minimum.

    Returns ``(xi2_min, t_at)``.
    """
    t, x = _check(result)
    start = transient_window(x, rise)
    return min_xi2(result, t_min=-math.inf if start is None else float(t[start]))


def neff_crossing_time(result, n_c=None):
    """First time t* where N_eff(t) crosses N_c (default ``model.n_c`` = 2 Omega / Upsilon_c).

    Linear interpolation between the two output times that bracket the first sign change of
    N_eff(t) - N_c; ``times[0]`` if N_eff starts exactly at N_c; NaN if it never crosses.
    """
    t, _ = _check(result)
    n_c = result.model.n_c if n_c is None else n_c
    if isinstance(n_c, bool) or not isinstance(n_c, (int, float, np.floating)) or math.isnan(n_c):
        raise TypeError(f"n_c must be a real number, got {n_c!r}")
    if not math.isfinite(n_c):
        return math.nan
    return first_crossing(t, result.n_eff, n_c)


def first_crossing(t, y, level) -> float:
    """First time the sampled curve y(t) crosses ``level``: linear interpolation between the two
    samples that bracket the first sign change of y - level; ``t[0]`` if y starts at the level,
    NaN if it never crosses (also used per trajectory, on MCWF's traj_n_eff)."""
    t = np.asarray(t, float)
    d = np.asarray(y, float) - level
    if d[0] == 0:
        return float(t[0])
    change = np.flatnonzero(np.sign(d[1:]) != np.sign(d[:-1]))
    if change.size == 0:
        return math.nan
    i = change[0]
    return float(t[i] + (t[i + 1] - t[i]) * d[i] / (d[i] - d[i + 1]))
