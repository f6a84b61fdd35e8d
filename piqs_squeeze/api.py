"""Public entry points: ``evolve``, ``steady_state`` and ``liouvillian_spectrum`` dispatch to the
methods of :mod:`piqs_squeeze.methods.registry` (which says what a method module provides).

Options are given as keywords (``ps.evolve(model, t, method="exact", rtol=1e-10)``) or as an
options object (``options=ps.method_options("exact").replace(rtol=1e-10)``); an unknown option
raises :class:`~piqs_squeeze.options.UnknownOptionError` (a :class:`MethodError`) naming it and
listing the valid ones, before anything is computed.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from .methods import registry
from .methods.registry import METHODS, MethodError
from .model import Model, check_times
from .options import MethodOptions, UnknownOptionError
from .protocol import Protocol

__all__ = ["METHODS", "MethodError", "UnknownOptionError", "evolve", "steady_state", "liouvillian_spectrum",
           "available_methods", "method_options"]
__all__ += ["correlation", "g2", "emission_spectrum"]  # issue 25


def available_methods(model: Model | None = None, kind: str = "evolve") -> list[str]:
    """Methods that provide ``kind`` ("evolve", "steady_state" or "liouvillian_spectrum") and can
    run ``model`` (any model when None)."""
    return registry.available(model, kind)


def method_options(method: str, kind: str = "evolve") -> MethodOptions:
    """The default options of ``method`` for ``kind``: an options object whose
    :meth:`~piqs_squeeze.options.MethodOptions.describe` lists every option with its default
    and a one-line doc, and whose :meth:`~piqs_squeeze.options.MethodOptions.replace` gives
    changed options to pass as ``options=``.

    Raises MethodError for an unknown method, a kind it does not provide, or a custom method
    module that declares no ``OPTIONS``.
    """
    cls = registry.options_class(method, kind)
    if cls is None:
        raise MethodError(f"method {method!r} declares no OPTIONS: its options are not listed")
    return cls()


def _timed(res, t0):
    res.stats.setdefault("wall_time", time.perf_counter() - t0)
    return res


def evolve(model, times, method: str = "exact", initial=None, options: MethodOptions | None = None, **kw):
    """Evolve ``model`` from ``initial`` and return a :class:`~piqs_squeeze.result.Result`.

    Parameters
    ----------
    model : Model, Protocol or a sequence of them
        One model, or several (returns a list of Results; methods with a batched integrator,
        such as ``cumulant``, integrate them in one system). A
        :class:`~piqs_squeeze.protocol.Protocol` runs its models one after the other, the state
        carried across each boundary, with a method whose package sets ``PROTOCOLS = True``
        (``exact``, ``mcwf``, ``cumulant``, ``meanfield``; others raise :class:`MethodError`); its Result has
        ``protocol`` set and ``model`` its first model.
    times : array_like or float
        Strictly increasing output times >= 0 (in 1/Gamma when Gamma = 1). The initial state is
        taken at ``times[0]``. With a sequence of models, also one grid per model (a list of
        arrays, or a 2-D array with one row per model). A single number ``t > 0`` is the final
        time of the grid ``[0, t]`` (the Result has the initial and the final time); a
        one-element grid ``[t]`` returns the initial state at t.
    method : {"exact", "mcwf", "cumulant", "meanfield"} or a custom method's module path
    initial : optional
        ``None`` (coherent spin state along -x), a :class:`~piqs_squeeze.states.CoherentSpinState`,
        or a representation the method accepts (see its docstring). A ``qutip.Qobj`` in
        qutip.piqs' Dicke basis (or a ket / density matrix of the j = N/2 block) is taken by
        ``exact`` as it is and by ``cumulant`` (order 2) and ``meanfield`` through its one- and
        two-particle moments; ``mcwf`` takes kets and density matrices, a mixed state sampled per
        trajectory from its eigendecomposition (see its docstring).
    options : MethodOptions, optional
        The method's options object (:func:`method_options` gives the defaults to change).
    **kw
        Single options (tolerances, ntraj, seed, ...; ``method_options(method).describe()``
        lists them), applied on top of ``options``. An unknown name raises
        :class:`~piqs_squeeze.options.UnknownOptionError` before anything is computed.

    Returns
    -------
    Result, or a list of Result for a sequence of models.
    """
    times = _scalar_times(times)
    if isinstance(model, Sequence) and not isinstance(model, (str, bytes)):
        models = list(model)
        if not models or not all(isinstance(m, (Model, Protocol)) for m in models):
            raise TypeError("model must be a Model, a Protocol or a non-empty sequence of them")
        times = _check_times_per_model(times, len(models))
        opts = registry.build_options(method, "evolve", options, **kw)
        return registry.call(method, "evolve", models, times, initial, opts)
    if not isinstance(model, (Model, Protocol)):
        raise TypeError(f"model must be a piqs_squeeze.Model or Protocol, got {type(model).__name__}")
    opts = registry.build_options(method, "evolve", options, **kw)
    t0 = time.perf_counter()
    return _timed(registry.call(method, "evolve", [model], check_times(times), initial, opts)[0], t0)


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
        grids = [check_times(t, name=f"times[{i}]") for i, t in enumerate(np.asarray(times))]
    else:
        return check_times(times)
    if len(grids) != n_models:
        raise ValueError(f"got {len(grids)} time grids for {n_models} models; pass one grid or one per model")
    return grids


def steady_state(model: Model, method: str = "exact", options: MethodOptions | None = None, **kw):
    """Steady state of ``model`` as a Result with a single time ``inf`` (options as in :func:`evolve`,
    those of ``method_options(method, "steady_state")``)."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    opts = registry.build_options(method, "steady_state", options, **kw)
    t0 = time.perf_counter()
    return _timed(registry.call(method, "steady_state", [model], options=opts)[0], t0)


def liouvillian_spectrum(model: Model, k: int = 6, method: str = "exact", options: MethodOptions | None = None,
                         **kw):
    """The k rightmost eigenvalues (largest real part, oscillating modes included) of the generator
    on the permutation-symmetric sector, or with ``sigma=x`` the k nearest x; for a collective model
    the j = N/2 sector by default (a subset of the full 4^N spectrum; see
    :func:`piqs_squeeze.methods.exact.steady.liouvillian_spectrum`; options:
    ``method_options(method, "liouvillian_spectrum")``)."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    opts = registry.build_options(method, "liouvillian_spectrum", options, **kw)
    return registry.call(method, "liouvillian_spectrum", [model], options=opts, k=k)[0]


# --------------------------------------------------------------------------- two-time correlations (issue 25)
def _two_time(kind, model, method, options, kw, **args):
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    opts = registry.build_options(method, kind, options, **kw)
    return registry.call(method, kind, [model], options=opts, **args)[0]


def correlation(model: Model, taus, a="J+", b="J-", state="steady", method: str = "exact",
                options: MethodOptions | None = None, **kw):
    """<a(tau) b(0)> in qutip.correlation_2op_1t's convention, tr[a e^{L tau}(b rho)]: complex array.

    ``state``: "steady" (the steady state; j = N/2 for a collective model) or an initial state as
    :func:`evolve` takes it (None: CSS along -x). ``a``, ``b``: "J+", "J-", "Jx", "Jy", "Jz", products
    such as "J+ J-", or qutip Qobjs (:func:`piqs_squeeze.methods.exact.correlations.operator_blocks`).
    ``method``: "exact" (regression theorem on the Dicke blocks) or "cumulant" (on the order-2
    moment hierarchy); options: ``method_options(method, "correlation")``.
    """
    return _two_time("correlation", model, method, options, kw, taus=taus, a=a, b=b, state=state)


def g2(model: Model, taus, state="steady", method: str = "exact", options: MethodOptions | None = None, **kw):
    """g2(tau) = <J+(0) [J+J-](tau) J-(0)> / (<J+J->(0) <J+J->(tau)): real array (see :func:`correlation`)."""
    return _two_time("g2", model, method, options, kw, taus=taus, state=state)


def emission_spectrum(model: Model, omegas, method: str = "exact", options: MethodOptions | None = None, **kw):
    """S(omega) = 2 Re int_0^inf e^{-i omega tau} (<J+(tau) J-(0)> - <J+><J->) dtau in the steady
    state: qutip.spectrum(H, omegas, c_ops, J+, J-)'s convention and normalisation. Real array."""
    return _two_time("emission_spectrum", model, method, options, kw, omegas=omegas)
