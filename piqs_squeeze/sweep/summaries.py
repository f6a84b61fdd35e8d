"""Scalar summaries of a Result for sweep tables: a registry ``name -> callable(result, **kw) -> dict``.

A summary returns ``{suffix: scalar}``; its columns are ``label`` for the suffix ``""`` and
``label_suffix`` otherwise (``label`` defaults to the summary name). In a sweep spec a summary
is a name or ``{name, label, **keywords}``, e.g. ``{name = "min_xi2", t_min = 0.003, label =
"min_xi2_late"}`` (paper Fig. S1a). The time-resolved figures of merit come from
:mod:`piqs_squeeze.analysis`.
"""
from __future__ import annotations

import math

import numpy as np

from piqs_squeeze import analysis, observables

__all__ = ["SUMMARIES", "register_summary", "normalize_summaries", "resolve", "summarize"]


def _db(v):
    return 10.0 * math.log10(v) if v > 0 else math.nan


def _xi2_err_at(result, t, key):
    """``{key: standard error of xi^2 at time t}`` for a statistical method (MCWF's jackknife
    ``extras["xi2_err"]``); empty for a deterministic one, whose rows get NaN in that column."""
    err = (result.extras or {}).get("xi2_err")
    if err is None or not math.isfinite(t):
        return {}
    i = int(np.flatnonzero(np.asarray(result.times) == t)[0])
    return {key: float(np.asarray(err)[i])}


def final(result) -> dict:
    """Last output time and xi^2, xi^2 in dB and N_eff there (the steady state for times=[inf]);
    for MCWF also ``xi2_err``, the standard error of that xi^2 (``extras["xi2_err"]``)."""
    mean, second = result.mean[-1:], result.second[-1:]  # only the last time, not the whole curve
    x = float(observables.xi2(mean, second, result.N)[0])
    out = {"time": float(result.times[-1]), "xi2": x, "xi2_db": _db(x), "n_eff": float(observables.n_eff(second)[0])}
    return {**out, **_xi2_err_at(result, float(result.times[-1]), "xi2_err")}


def min_xi2(result, t_min: float = 0.0) -> dict:
    """min_{t >= t_min} xi^2(t), in dB, and the time it is reached
    (:func:`piqs_squeeze.analysis.min_xi2`); for MCWF also ``err``, the standard error of xi^2 at
    that time (the spread of the minimum over seeds is larger: the minimum is taken after the noise)."""
    v, t = analysis.min_xi2(result, t_min=t_min)
    return {"": float(v), "db": _db(float(v)), "time": float(t), **_xi2_err_at(result, float(t), "err")}


def min_transient_xi2(result) -> dict:
    """Minimum transient xi^2 (paper Fig. 3), in dB, and its time
    (:func:`piqs_squeeze.analysis.min_transient_xi2`)."""
    v, t = analysis.min_transient_xi2(result)
    return {"": float(v), "db": _db(float(v)), "time": float(t)}


def neff_crossing(result, n_c=None) -> dict:
    """First time N_eff(t) falls to N_c (default 2 Omega / Upsilon_c; nan if never)
    (:func:`piqs_squeeze.analysis.neff_crossing_time`)."""
    return {"": float(analysis.neff_crossing_time(result, n_c=n_c))}


def xi2_curve_min(result) -> dict:
    """Plain minimum of the sampled xi^2(t) over all output times, and its time."""
    x = result.xi2
    i = int(np.nanargmin(x)) if np.any(np.isfinite(x)) else 0
    return {"": float(x[i]), "time": float(result.times[i])}


#: name -> callable(result, **keywords) -> {suffix: scalar}
SUMMARIES = {
    "final": final,
    "min_xi2": min_xi2,
    "min_transient_xi2": min_transient_xi2,
    "neff_crossing": neff_crossing,
    "xi2_curve_min": xi2_curve_min,
}
def register_summary(name: str, func) -> None:
    """Add a summary ``func(result, **keywords) -> {suffix: scalar}`` under ``name``.

    For process or Dask workers ``func`` must be importable there (a module-level function)."""
    if not callable(func):
        raise TypeError("func must be callable")
    SUMMARIES[name] = func


def normalize_summaries(spec) -> list[dict]:
    """``[{name, label, kwargs}]`` from names / dicts; None gives the defaults: final, min_xi2,
    min_transient_xi2, neff_crossing."""
    if spec is None:
        spec = ["final", "min_xi2", "min_transient_xi2", "neff_crossing"]
    if isinstance(spec, (str, dict)):
        spec = [spec]
    out, labels = [], set()
    for s in spec:
        if isinstance(s, str):
            s = {"name": s}
        if not isinstance(s, dict) or "name" not in s:
            raise TypeError(f"a summary must be a name or {{name, label, ...keywords}}, got {s!r}")
        s = dict(s)
        s.update(s.pop("kwargs", {}))  # the normalized form itself is accepted again
        name = s.pop("name")
        label = s.pop("label", name)
        if name not in SUMMARIES:
            raise ValueError(f"unknown summary {name!r}; known: {', '.join(SUMMARIES)}")
        if label in labels:
            raise ValueError(f"two summaries with the label {label!r}; give one a different label")
        labels.add(label)
        out.append({"name": name, "label": label, "kwargs": s})
    return out


def resolve(summaries) -> list[tuple]:
    """``[(label, func, kwargs)]`` for normalized summaries; shipped to workers as is, so a
    summary registered only in the driving process still runs on process or Dask workers."""
    return [(s["label"], SUMMARIES[s["name"]], s["kwargs"]) for s in summaries]


def summarize(result, resolved) -> dict:
    """Columns ``{column: float}`` of all ``resolved`` summaries for one Result."""
    cols = {}
    for label, func, kwargs in resolved:
        for suffix, v in func(result, **kwargs).items():
            cols[label if suffix == "" else f"{label}_{suffix}"] = float(v)
    return cols
