"""Public entry points: ``evolve`` and ``steady_state`` dispatch to the method modules.

A method module (``piqs_squeeze.<name>``) provides any of

* ``evolve(model, times, initial=None, **options) -> Result``
* ``evolve_many(models, times, initial=None, **options) -> list[Result]`` (batched)
* ``steady_state(model, **options) -> Result``
* ``unsupported(model) -> str | None``: why the method cannot run this model (None if it can).
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence

import numpy as np

from .model import Model, check_times

__all__ = ["METHODS", "MethodError", "evolve", "steady_state", "liouvillian_spectrum", "available_methods"]

#: Method name -> module implementing it.
METHODS = {
    "exact": "piqs_squeeze.exact",
    "mcwf": "piqs_squeeze.mcwf",
    "cumulant": "piqs_squeeze.cumulant",
    "meanfield": "piqs_squeeze.meanfield",
    "carmichael": "piqs_squeeze.carmichael",
}


class MethodError(ValueError):
    """A method that does not exist or cannot run the requested model."""


def _module(name):
    try:
        return importlib.import_module(METHODS[name])
    except ModuleNotFoundError as exc:
        if exc.name == METHODS[name]:
            return None
        raise


def _why_not(name, model, kind):
    mod = _module(name)
    if mod is None or not hasattr(mod, kind):
        return f"no {kind} in this version"
    check = getattr(mod, "unsupported", None)
    return check(model) if (check is not None and model is not None) else None


def available_methods(model: Model | None = None, kind: str = "evolve") -> list[str]:
    """Methods that provide ``kind`` ("evolve" or "steady_state") and can run ``model``."""
    return [name for name in METHODS if _why_not(name, model, kind) is None]


def _resolve(method, model, kind):
    if not isinstance(method, str) or method not in METHODS:
        raise MethodError(
            f"unknown method {method!r}; methods: {', '.join(METHODS)} "
            f"(for this model: {', '.join(available_methods(model, kind)) or 'none'})"
        )
    reason = _why_not(method, model, kind)
    if reason is not None:
        ok = available_methods(model, kind)
        raise MethodError(
            f"method {method!r} cannot {kind.replace('_', ' ')} this model: {reason}. "
            f"Methods that can: {', '.join(ok) if ok else 'none'}"
        )
    return _module(method)


def evolve(model, times, method: str = "exact", initial=None, **options):
    """Evolve ``model`` from ``initial`` and return a :class:`~piqs_squeeze.result.Result`.

    Parameters
    ----------
    model : Model or sequence of Model
        One model, or several (returns a list of Results; methods with a batched integrator,
        such as ``cumulant``, integrate them in one system).
    times : array_like
        Strictly increasing output times >= 0 (in 1/Gamma when Gamma = 1). The initial state is
        taken at ``times[0]``. With a sequence of models, also one grid per model (a list of
        arrays, or a 2-D array with one row per model).
    method : {"exact", "mcwf", "cumulant", "meanfield"}
    initial : optional
        ``None`` (coherent spin state along -x), a :class:`~piqs_squeeze.states.CoherentSpinState`,
        or a representation the method accepts (see its docstring).
    **options
        Method options (tolerances, ntraj, seed, ...).
    """
    if isinstance(model, Sequence) and not isinstance(model, (str, bytes)):
        models = list(model)
        if not models or not all(isinstance(m, Model) for m in models):
            raise TypeError("model must be a Model or a non-empty sequence of Models")
        times = _check_times_per_model(times, len(models))
        mods = {_resolve(method, m, "evolve") for m in models}
        mod = mods.pop()
        if hasattr(mod, "evolve_many"):
            return mod.evolve_many(models, times, initial=initial, **options)
        grids = times if isinstance(times, list) else [times] * len(models)
        return [mod.evolve(m, t, initial=initial, **options) for m, t in zip(models, grids)]
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    return _resolve(method, model, "evolve").evolve(model, check_times(times), initial=initial, **options)


def _check_times_per_model(times, n_models):
    """One shared grid (1-D) or one grid per model (list of 1-D grids or a 2-D array)."""
    if isinstance(times, (list, tuple)) and times and all(np.ndim(t) == 1 for t in times):
        grids = [check_times(t, name=f"times[{i}]") for i, t in enumerate(times)]
    elif np.ndim(times) == 2:
        grids = [check_times(t, name=f"times[{i}]") for i, t in enumerate(np.asarray(times, dtype=float))]
    else:
        return check_times(times)
    if len(grids) != n_models:
        raise ValueError(f"got {len(grids)} time grids for {n_models} models; pass one grid or one per model")
    return grids


def steady_state(model: Model, method: str = "exact", **options):
    """Steady state of ``model`` as a Result with a single time ``inf``."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    return _resolve(method, model, "steady_state").steady_state(model, **options)


def liouvillian_spectrum(model: Model, k: int = 6, method: str = "exact", **options):
    """The k eigenvalues of the generator on the permutation-symmetric sector nearest 0, largest
    real part first (a subset of the full 4^N spectrum; see
    :func:`piqs_squeeze.exact_steady.liouvillian_spectrum`)."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    return _resolve(method, model, "liouvillian_spectrum").liouvillian_spectrum(model, k, **options)
