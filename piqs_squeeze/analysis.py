"""Derived quantities of a time evolution, shared by sweeps, figures and validation.

All functions take a :class:`~piqs_squeeze.result.Result` of any method and use its xi^2(t) and
N_eff(t) (the one implementation in :mod:`piqs_squeeze.observables`).
"""
from __future__ import annotations

import math

import numpy as np

from .model import LOCAL_RATES
from .result import Result

__all__ = ["min_xi2", "min_transient_xi2", "TransientMinimum", "initial_minimum", "transient_window_start",
           "single_particle_rate", "transient_window", "neff_crossing_time", "first_crossing"]


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
    """Index of the first maximum after the early dip of a sampled xi^2 curve.

    Used to bound the early collective dip on a grid that resolves it (validation's
    ``claim_early_dip``); :func:`min_transient_xi2` does not use it, since on a grid that does not
    resolve the early oscillation its extrema are aliases.

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


class TransientMinimum(tuple):
    """``(xi2, t)`` of :func:`min_transient_xi2`, with what it means.

    Unpacks and compares like the tuple ``(xi2, t)``. Attributes: ``xi2``, ``t``, ``t_window``
    (where the transient window starts), ``squeezed`` (xi2 < 1), ``note`` ("transient
    squeezing" or "no transient squeezing"; printed by ``str``), ``resolved`` and
    ``at_window_start`` (diagnostics of the sampled curve).
    """

    def __new__(cls, xi2, t, t_window, jump_db=math.nan):
        obj = super().__new__(cls, (float(xi2), float(t)))
        obj.t_window = float(t_window)
        obj.jump_db = float(jump_db)
        obj._first = False
        return obj

    @property
    def resolved(self) -> bool:
        """Whether the output grid resolves the curve at the minimum: its neighbouring samples lie
        within 1 dB of it (an oscillation faster than the grid gives jumps of several dB, and a
        minimum that a finer grid would move)."""
        return bool(self.jump_db <= 1.0)

    @property
    def at_window_start(self) -> bool:
        """True when the minimum is the window's first output time: xi^2 is still falling there,
        so the value is set by where the window starts rather than by a minimum of the curve."""
        return bool(self._first)

    @property
    def xi2(self) -> float:
        return self[0]

    @property
    def t(self) -> float:
        return self[1]

    @property
    def squeezed(self) -> bool:
        """True when the minimum is squeezed (xi^2 < 1)."""
        return bool(self[0] < 1.0)

    @property
    def note(self) -> str:
        if math.isnan(self[0]):
            return "no finite xi^2 in the transient window"
        return "transient squeezing" if self.squeezed else "no transient squeezing"

    def __str__(self):
        db = 10 * math.log10(self[0]) if self[0] > 0 and math.isfinite(self[0]) else math.nan
        return f"{self.note}: min xi^2 = {self[0]:.4g} ({db:+.2f} dB) at t = {self[1]:.4g} (window from t = {self.t_window:.4g})"


def single_particle_rate(model) -> float:
    """gamma_1 = gamma_s + dephasing + pumping, the sum of the model's single-particle rates.

    Parameters
    ----------
    model : Model

    Returns
    -------
    float
        The rate of single-particle decoherence; 1/gamma_1 is the time scale of the transient.
    """
    return float(sum(getattr(model, r) for r in LOCAL_RATES))


def initial_minimum(result, prominence_db: float = 0.1) -> float:
    """Time of the initial collective minimum of xi^2(t).

    Parameters
    ----------
    result : Result
    prominence_db : float
        How far (dB) 10 log10 xi^2 must rise above its running minimum for that minimum to count
        (keeps integration ripples from counting).

    Returns
    -------
    float
        The output time of the running minimum that xi^2 first rises above by ``prominence_db``;
        ``times[0]`` when there is none (xi^2 decreasing to the end, or no finite value).
    """
    t, x = _check(result)
    ok = np.flatnonzero(np.isfinite(x) & (x > 0))
    if ok.size == 0:
        return float(t[0])
    y = 10 * np.log10(x[ok])
    run_min = np.minimum.accumulate(y)
    above = np.flatnonzero(y > run_min + prominence_db)
    if above.size == 0:
        return float(t[0])
    k = above[0]
    return float(t[ok[int(np.argmin(y[:k + 1]))]])


def transient_window_start(result, after: float = 0.1, collective_after: float = 0.5) -> float:
    """Start t_w of the transient window of :func:`min_transient_xi2`.

        t_w = max(t_dip, after / gamma_1)                               (gamma_1 > 0)
        t_w = max(t_dip, t_0 + collective_after (t_end - t_0))          (gamma_1 = 0)

    with t_dip from :func:`initial_minimum` and gamma_1 from :func:`single_particle_rate`.

    Parameters
    ----------
    result : Result
    after : float
        Window start in units of 1/gamma_1.
    collective_after : float
        Window start as a fraction of the run when gamma_1 = 0.

    Returns
    -------
    float
    """
    t, _ = _check(result)
    for name, v in (("after", after), ("collective_after", collective_after)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not v >= 0:
            raise TypeError(f"{name} must be a real number >= 0, got {v!r}")
    finite = t[np.isfinite(t)]
    if finite.size == 0:
        return float(t[0])
    g1 = single_particle_rate(result.model)
    t_scale = after / g1 if g1 > 0 else finite[0] + collective_after * (finite[-1] - finite[0])
    return max(initial_minimum(result), float(t_scale))


def min_transient_xi2(result, after: float = 0.1, collective_after: float = 0.5) -> TransientMinimum:
    """Minimum transient squeezing (paper Fig. 3): the minimum of xi^2(t) "in the transient
    dynamics, after the initial collective minimum".

    Definition. The paper sees "two distinct timescales where squeezing occurs": a short-lived
    collective one early in the dynamics (the initial collective minimum at t ~ 1/(N Gamma),
    followed by an oscillation at the drive frequency ~ N Upsilon / 2, independent of gamma_s), and
    a second transient "at timescales ~1/gamma_s". The minimum transient xi^2 is

        min { xi^2(t) : t >= t_w },   t_w = max(t_dip, after / gamma_1),

    with t_dip the initial collective minimum (:func:`initial_minimum`) and gamma_1 = gamma_s +
    dephasing + pumping (:func:`single_particle_rate`), ``after = 0.1`` by default: the window
    starts a tenth of the single-particle time on, where the early collective oscillation has
    given way to the single-particle dynamics (at N = 1e4 its period is ~5e-4/Gamma, against
    0.1/gamma_s = 5e-4 .. 0.1 for gamma_s = 200 .. 1: the two scales merge only at the largest
    gamma_s). For a collective model (gamma_1 = 0) there is no single-particle time: the transient
    is the collective relaxation and t_w = max(t_dip, t_0 + ``collective_after`` (t_end - t_0)),
    the second half of the run by default (the run must be long enough to relax).

    The window is fixed by physical time scales, not by extrema of the sampled curve, so the
    value does not depend on the output grid as long as the grid resolves the curve on the
    1/gamma_1 time scale; points of the early oscillation are never picked, whatever the grid
    aliases out of it. Near Upsilon_c at small gamma_s the collective oscillation can persist
    into the window: there the minimum of the sampled curve is only as good as the grid
    (``.resolved`` is False when the samples next to the minimum jump by more than 1 dB; a finer
    grid is then needed). Where the minimum is >= 1 the result says "no transient squeezing"
    (``.squeezed`` False, ``.note``); the value is still returned.

    Parameters
    ----------
    result : Result
    after : float
        Window start in units of 1/gamma_1 (default 0.1).
    collective_after : float
        Window start as a fraction of the run for gamma_1 = 0 (default 0.5).

    Returns
    -------
    TransientMinimum
        ``(xi2_min, t_at)`` (a tuple) with ``t_window``, ``squeezed`` and ``note``; ``(nan, nan)``
        when no finite xi^2 lies in the window.
    """
    t_w = transient_window_start(result, after, collective_after)
    x, t_at = min_xi2(result, t_min=t_w)
    jump = math.nan
    if math.isfinite(x):
        t, xs = _check(result)
        i = int(np.flatnonzero(t == t_at)[0])
        nb = [k for k in (i - 1, i + 1) if 0 <= k < t.size and t[k] >= t_w and np.isfinite(xs[k]) and xs[k] > 0]
        if nb and x > 0:
            jump = max(abs(10 * math.log10(xs[k] / x)) for k in nb)
        out = TransientMinimum(x, t_at, t_w, jump)
        out._first = bool(i == 0 or t[i - 1] < t_w)
        return out
    return TransientMinimum(x, t_at, t_w, jump)


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
