"""Public entry points: ``evolve`` and ``steady_state`` dispatch to the method modules.

A method module (``piqs_squeeze.<name>``) provides any of

* ``evolve(model, times, initial=None, **options) -> Result``
* ``evolve_many(models, times, initial=None, **options) -> list[Result]`` (batched)
* ``steady_state(model, **options) -> Result``
* ``unsupported(model) -> str | None``: why the method cannot run this model (None if it can).
"""
from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Sequence

import numpy as np

from .model import Model, check_times

__all__ = ["METHODS", "MethodError", "evolve", "steady_state", "liouvillian_spectrum", "available_methods",
           "method_options", "check_options"]

#: Method name -> module implementing it.
METHODS = {
    "exact": "piqs_squeeze.methods.exact.solver",
    "mcwf": "piqs_squeeze.methods.mcwf.ensemble",
    "cumulant": "piqs_squeeze.methods.moments.cumulant",
    "meanfield": "piqs_squeeze.methods.moments.meanfield",
    "carmichael": "piqs_squeeze.methods.carmichael",
}


class MethodError(ValueError):
    """A method that does not exist or cannot run the requested model."""


def _module(name):
    return importlib.import_module(METHODS[name])


def _why_not(name, model, kind):
    mod = _module(name)
    if not hasattr(mod, kind):
        return f"it provides no {kind.replace('_', ' ')} (see its docstring for what it computes)"
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


_NOT_OPTIONS = {"model", "models", "times", "initial"}


def method_options(method, kind: str = "evolve", module=None) -> dict | None:
    """The options of ``method`` for ``kind`` ("evolve" or "steady_state"): name -> default.

    Read from the signatures of the method's functions (``evolve_many`` and ``evolve`` for
    "evolve"); None when a function takes arbitrary keywords, so its options cannot be listed.
    ``module`` gives the module of a custom method (a dotted path in a sweep).
    """
    mod = module if module is not None else _resolve(method, None, kind)
    names = ("evolve_many", "evolve") if kind == "evolve" else (kind,)
    funcs = [getattr(mod, n) for n in names if hasattr(mod, n)]
    if not funcs:
        raise MethodError(f"method {method!r} has no {kind}")
    out, open_ended = {}, True
    for f in funcs:
        params = inspect.signature(f).parameters.values()
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            open_ended = False
        for p in params:
            if p.name not in _NOT_OPTIONS and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                out.setdefault(p.name, None if p.default is p.empty else p.default)
    return None if open_ended else out


def check_options(method, options, kind: str = "evolve", module=None) -> None:
    """Raise MethodError naming every option of ``options`` that ``method`` does not have, with
    the list of the options it has (nothing is computed before this check)."""
    valid = method_options(method, kind, module)
    if valid is None:
        return
    unknown = sorted(set(options) - set(valid))
    if unknown:
        close = {u: difflib.get_close_matches(u, valid, n=1) for u in unknown}
        hint = "; ".join(f"did you mean {c[0]!r} for {u!r}?" for u, c in close.items() if c)
        raise MethodError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for "
                          f"method {method!r} ({kind}); its options: {', '.join(sorted(valid))}"
                          + (f". {hint}" if hint else ""))


def evolve(model, times, method: str = "exact", initial=None, **options):
    """Evolve ``model`` from ``initial`` and return a :class:`~piqs_squeeze.result.Result`.

    Parameters
    ----------
    model : Model or sequence of Model
        One model, or several (returns a list of Results; methods with a batched integrator,
        such as ``cumulant``, integrate them in one system).
    times : array_like or float
        Strictly increasing output times >= 0 (in 1/Gamma when Gamma = 1). The initial state is
        taken at ``times[0]``. With a sequence of models, also one grid per model (a list of
        arrays, or a 2-D array with one row per model). A single number ``t > 0`` is the final
        time of the grid ``[0, t]`` (the Result has the initial and the final time); a
        one-element grid ``[t]`` returns the initial state at t.
    method : {"exact", "mcwf", "cumulant", "meanfield"}
    initial : optional
        ``None`` (coherent spin state along -x), a :class:`~piqs_squeeze.states.CoherentSpinState`,
        or a representation the method accepts (see its docstring). A ``qutip.Qobj`` in
        qutip.piqs' Dicke basis (or a ket / density matrix of the j = N/2 block) is taken by
        ``exact`` as it is and by ``cumulant`` (order 2) and ``meanfield`` through its one- and
        two-particle moments; ``mcwf`` takes pure states (see its docstring).
    **options
        Method options (tolerances, ntraj, seed, ...).

    Returns
    -------
    Result, or a list of Result for a sequence of models.
    """
    times = _scalar_times(times)
    if isinstance(model, Sequence) and not isinstance(model, (str, bytes)):
        models = list(model)
        if not models or not all(isinstance(m, Model) for m in models):
            raise TypeError("model must be a Model or a non-empty sequence of Models")
        times = _check_times_per_model(times, len(models))
        mods = {_resolve(method, m, "evolve") for m in models}
        mod = mods.pop()
        check_options(method, options)
        if hasattr(mod, "evolve_many"):
            return mod.evolve_many(models, times, initial=initial, **options)
        grids = times if isinstance(times, list) else [times] * len(models)
        return [mod.evolve(m, t, initial=initial, **options) for m, t in zip(models, grids)]
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    mod = _resolve(method, model, "evolve")
    check_options(method, options)
    return mod.evolve(model, check_times(times), initial=initial, **options)


def _scalar_times(times):
    """A single number t is the grid [0, t] (see :func:`evolve`)."""
    scalar = (isinstance(times, (int, float, np.number)) and not isinstance(times, bool)) or (
        isinstance(times, np.ndarray) and times.ndim == 0)
    if scalar:
        try:
            t = float(times)
        except (TypeError, ValueError):
            raise TypeError(f"times must be a number or a sequence of times, got {times!r}") from None
        if not t > 0 or not np.isfinite(t):
            raise ValueError(f"a single time is the final time of [0, t] and must be finite and > 0, got {times!r}")
        return np.array([0.0, t])
    return times


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
    mod = _resolve(method, model, "steady_state")
    check_options(method, options, "steady_state")
    return mod.steady_state(model, **options)


def liouvillian_spectrum(model: Model, k: int = 6, method: str = "exact", **options):
    """The k eigenvalues of the generator on the permutation-symmetric sector nearest 0, largest
    real part first (a subset of the full 4^N spectrum; see
    :func:`piqs_squeeze.methods.exact.steady.liouvillian_spectrum`)."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    mod = _resolve(method, model, "liouvillian_spectrum")
    check_options(method, options, "liouvillian_spectrum")
    return mod.liouvillian_spectrum(model, k, **options)
